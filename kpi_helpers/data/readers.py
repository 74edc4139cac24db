"""Reading the files of a folder export: a file that cannot be read is one KitError
naming it and why (a folder or a broken link where a file should be, no read permission,
a corrupt Parquet file, bytes that are not text); a CSV file that is not UTF-8 is read
as Windows-1252, with a note for validation; a CSV file's delimiter is sniffed. Example::

    notes: list[FileNote] = []
    frame = frame_from_file(Path("exports/Account.csv"), None, notes)
"""

from __future__ import annotations

import gzip
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd

from kpi_helpers.core import KitError

from .mapping import TableMapping

FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")


@dataclass(frozen=True)
class FileNote:
    """Something about how a file was read that the user should check (validation
    reports it as a warning), e.g. a file that is not UTF-8, read as Windows-1252."""

    check: str
    problem: str
    fix: str
    examples: tuple[str, ...] = ()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (drivers write pages), or its type."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def unreadable_parquet(path: Path, exc: BaseException) -> KitError:
    """The error for Parquet file ``path``, which the reader refused with ``exc``: named
    once, without the full path the reader's message repeats.

    >>> str(unreadable_parquet(Path("/x/orders.parquet"), OSError("No magic bytes in '/x/orders.parquet'")))
    'orders.parquet is not a readable Parquet file: No magic bytes in.'
    """  # noqa: E501
    reason = re.sub(rf"\s*'[^']*{re.escape(path.name)}'", "", first_line(exc)).rstrip(". ")
    return KitError(f"{path.name} is not a readable Parquet file: {reason}.")


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def find_file(folder: Path, name: str) -> Path | None:
    """The file of table ``name`` in ``folder``; also a path by that name that is not a
    readable file (a folder, a broken link), for :func:`check_readable` to explain."""
    for suffix in FILE_SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return None


def check_readable(path: Path) -> None:
    """A KitError naming ``path`` and why, when it is not a file this process may read.

    >>> check_readable(Path("/"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kpi_helpers.core.errors.KitError: / is a folder, not a file...
    """
    if path.is_symlink() and not path.exists():
        raise KitError(
            f"{path.name} is a link to {os.readlink(path)}, which does not exist: "
            "point it at the export, or remove it."
        )
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise KitError(f"{path.name or path} is {kind}, not a file: rename or remove it.")
    if not os.access(path, os.R_OK):
        raise KitError(
            f"{path.name} cannot be read: permission denied (it is in {path.parent}); "
            "give this user read access (chmod +r) or copy the export somewhere it can read."
        )


def _file_bytes(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()


def _as_windows_1252(path: Path, data: bytes, table: str) -> tuple[str, FileNote]:
    """``data`` (the bytes of ``path``, which are not UTF-8) read as Windows-1252, with
    the note validation shows; an error when they are not text in that encoding either."""
    binary = KitError(
        f"{path.name} is neither UTF-8 nor Windows-1252 text (is it a binary file?); "
        'if it is text in another encoding, set encoding = "..." in its mapping section.'
    )
    if b"\x00" in data:
        raise binary
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise binary from None
    note = FileNote(
        "encoding",
        f"{path.name} is not UTF-8; it was read as Windows-1252 (cp1252): check that "
        "names with accents read right",
        f"Save {path.name} as UTF-8, or confirm the encoding in the mapping: "
        f'[tables.{table}] from = "{path.name}", encoding = "cp1252" (a section without '
        "columns keeps the file's columns).",
        tuple(_non_ascii_fields(text)),
    )
    return text, note


def _non_ascii_fields(text: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` fields of CSV ``text`` with a non-ASCII character, e.g. names."""
    found: list[str] = []
    for line in text.splitlines():
        if line.isascii():
            continue
        for part in re.split(r"[,;\t|]", line):
            part = part.strip().strip('"').strip()
            if not part.isascii() and part not in found:
                found.append(part)
                if len(found) == limit:
                    return found
    return found


DELIMITERS = (",", ";", "\t", "|")


def _sniff_delimiter(header: str) -> str:
    """The delimiter of a CSV file, from its header line: the one of ``DELIMITERS`` it
    holds most often outside quotes (``,`` when none).

    >>> _sniff_delimiter('Deal;"Close Date, UTC";Amount')
    ';'
    """
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header_line(source: Path | io.StringIO) -> str:
    if isinstance(source, io.StringIO):
        return source.getvalue().split("\n", 1)[0]
    opener = gzip.open if source.name.endswith(".gz") else open
    with opener(source, "rt", encoding="utf-8-sig", errors="replace") as f:
        return f.readline()


def _read_csv_frame(
    path: Path,
    table: str,
    encoding: str | None,
    delimiter: str | None,
    notes: list[FileNote] | None,
) -> pd.DataFrame:
    check_readable(path)
    if path.stat().st_size == 0:
        raise KitError(f"{path.name} is empty (0 bytes).")
    source: Path | io.StringIO = path
    options = {"encoding": encoding or "utf-8-sig"}
    if encoding is None:
        data = _file_bytes(path)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            text, note = _as_windows_1252(path, data, table)
            source, options = io.StringIO(text), {}
            if notes is not None:
                notes.append(note)
    if delimiter is None and path.suffix != ".tsv":
        delimiter = _sniff_delimiter(_header_line(source))
    try:
        frame = pd.read_csv(
            source,
            dtype=str,
            sep=delimiter or "\t",
            keep_default_na=False,
            na_values=[""],
            compression="infer" if source is path else None,
            **options,
        )
    except UnicodeDecodeError:
        raise KitError(
            f"{path.name} is not {encoding} text (is it a binary file?); "
            'set encoding = "..." in the mapping if it is text in another encoding.'
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise KitError(f"{path.name} could not be read as CSV: {first_line(exc)}.") from None
    return frame


def frame_from_file(
    path: Path, tm: TableMapping | None = None, notes: list[FileNote] | None = None
) -> pd.DataFrame:
    """One file of a folder export (CSV, Parquet or Excel) as a DataFrame, read with the
    options of its table mapping ``tm`` (separator, encoding, sheet); a file that cannot
    be read is one KitError naming it, e.g. ``frame_from_file(Path("exports/User.csv"))``.
    A CSV file that is not UTF-8 (and whose mapping names no encoding) is read as
    Windows-1252, and a note saying so is added to ``notes``."""
    check_readable(path)
    if path.suffix == ".parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise unreadable_parquet(path, exc) from None
    table = tm.table if tm else path.name.split(".")[0]
    return _read_csv_frame(
        path, table, tm.encoding if tm else None, tm.delimiter if tm else None, notes
    )


def load_csv_native(
    con: ibis.BaseBackend, name: str, path: Path, notes: list[FileNote]
) -> ibis.Table:
    """CSV ``path`` read by DuckDB (its sniffer finds the delimiter) as text columns. A
    file that is not UTF-8 is read again as Windows-1252 (a note says so)."""
    check_readable(path)
    if path.stat().st_size == 0:
        raise KitError(f"{path.name} is empty (0 bytes).")
    raw_name = f"raw_{name}"

    def load(file: Path) -> None:
        con.raw_sql(
            f'CREATE OR REPLACE TABLE "{raw_name}" AS SELECT * FROM read_csv({_quote(file)}, '
            "all_varchar = true, header = true, encoding = 'utf-8')"
        )

    try:
        load(path)
    except Exception as exc:  # DuckDB's sniffer and decoder errors
        error = KitError(
            f"{path.name} could not be read as UTF-8 CSV with a header row: {first_line(exc)}."
        )
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # UTF-8 indeed: not an encoding problem
            raise error from None
        text, note = _as_windows_1252(path, data, name)
        with tempfile.TemporaryDirectory(prefix="kpi-kit-") as tmp:
            utf8 = Path(tmp) / path.name
            utf8.write_text(text, encoding="utf-8")
            try:
                load(utf8)
            except Exception as exc:
                raise KitError(
                    f"{path.name} (read as Windows-1252) could not be read as CSV with a "
                    f"header row: {first_line(exc)}."
                ) from None
        notes.append(note)
    return con.table(raw_name)
