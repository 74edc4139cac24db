"""Open a dataset: a folder of CSV/Parquet files, an Excel workbook, a DuckDB file or a
database URL, optionally through a mapping file, as typed canonical Ibis tables. Example::

    ds = open_dataset("data/sample")
    ds.table("opportunities").count().execute()
    ds.frame("reps").head()

A source may also be ``env:NAME``: the database URL is read from that environment
variable, so a password never travels as a notebook parameter or a CLI argument.

Months begin and end at midnight in the dataset's ``timezone`` (kpi.toml's, default UTC):
a zone-aware timestamp (a database's ``timestamptz``, Spark's ``TIMESTAMP``, a Parquet
timestamp adjusted to UTC, text such as ``2026-03-31T23:30:00.000+0000``) is converted
to the wall-clock time there and stored without the zone; naive timestamps, dates and
text without a zone are taken as already in it. Nothing depends on the computer's zone
or the database session's::

    ds = open_dataset("exports/salesforce", "mapping.toml", timezone="America/New_York")
"""

from __future__ import annotations

import collections.abc
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import ibis
import pandas as pd
from ibis.expr.types import CachedTable

from kpi_helpers.core import DEFAULT_TIMEZONE, KitError, check_timezone

from .backends import SPARK_CONNECT, connect_spark, duckdb_connect, own_spill
from .casting import typed
from .contract import TABLES
from .mapping import Mapping, TableMapping, apply_mapping, load_mapping
from .numbers import with_contract_numbers
from .readers import (
    FileNote,
    check_readable,
    find_file,
    first_line,
    frame_from_file,
    load_csv_native,
    unreadable_parquet,
)

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DUCKDB_SUFFIXES = {".duckdb", ".ddb", ".db"}
# tables small enough to keep in memory as pandas once read (accounts can be millions)
SMALL_TABLES = {"reps", "costs", "targets", "financials"}


def _closed_error(description: str) -> KitError:
    return KitError(f"The dataset ({description}) is closed; open it again with open_dataset.")


class ClosedTables(collections.abc.Mapping):
    """What a closed dataset's ``tables`` and ``raw`` become: any use is a clear error
    (instead of the backend's "connection already closed" deep inside a query).

    >>> "reps" in ClosedTables("folder data/sample")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kpi_helpers.core.errors.KitError: The dataset (folder data/sample) is closed; open it ...
    """

    def __init__(self, description: str) -> None:
        self.description = description

    def __getitem__(self, name):
        raise _closed_error(self.description)

    def __iter__(self):
        raise _closed_error(self.description)

    def __len__(self):
        raise _closed_error(self.description)

    def __contains__(self, name):
        raise _closed_error(self.description)


@dataclass
class Dataset:
    """Canonical tables of one source, typed per the data contract.

    ``tables`` are the typed tables the KPI engine reads; ``raw`` are the same
    tables as they were read (text where the source had text), kept so that
    validation can point at values that did not parse; ``load_errors`` holds, per
    table, why it could not be read at all (only when opened with ``keep_unreadable``:
    otherwise that is an error); ``load_notes`` what to check about how it was read.

    A dataset holds a connection (an embedded DuckDB, or the database's) until
    :meth:`close`; as a context manager it closes itself::

        with open_dataset("data/sample") as ds:
            ds.frame("reps")
    """

    con: ibis.BaseBackend
    description: str
    # the IANA zone in which months begin and end; zone-aware timestamps are converted to it
    timezone: str = DEFAULT_TIMEZONE
    tables: dict[str, ibis.Table] = field(default_factory=dict)
    raw: dict[str, ibis.Table] = field(default_factory=dict)
    load_errors: dict[str, str] = field(default_factory=dict)
    load_notes: dict[str, list[FileNote]] = field(default_factory=dict)
    # results computed from this dataset (small frames, data months, KPI measures), so
    # repeated calls do not query again; the tables must not change once opened
    cache: dict = field(default_factory=dict, repr=False, compare=False)
    # whether close() disconnects ``con``: not a backend the caller connected (from_backend)
    owns_con: bool = field(default=True, repr=False, compare=False)
    closed: bool = field(default=False, repr=False, compare=False)

    @property
    def backend(self) -> str:
        return self.con.name

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Drop the tables cached in the backend (Ibis ``.cache()``), forget the cached
        results and disconnect: the embedded DuckDB, a DuckDB file, a PostgreSQL
        connection. A backend given to :func:`from_backend` stays connected (its owner
        closes it). Closing twice is fine; using a closed dataset is a clear error.

        >>> ds = open_dataset("data/sample")  # doctest: +SKIP
        >>> ds.close(); ds.close()            # doctest: +SKIP
        """
        if self.closed:
            return
        self.closed = True
        spill = own_spill(self.con) if self.owns_con else None
        try:
            for value in self.cache.values():
                if isinstance(value, CachedTable):
                    value.release()
            self.cache.clear()
        finally:
            self.tables = self.raw = ClosedTables(self.description)
            if self.owns_con:
                self.con.disconnect()
            if spill is not None:
                shutil.rmtree(spill, ignore_errors=True)

    def check_timezone(self, timezone: str) -> None:
        """A clear error when settings whose months end in ``timezone`` (kpi.toml's) meet
        this dataset, opened for another zone: every month would silently be the other
        zone's. ``ds.check_timezone(cfg.timezone)`` before computing with ``cfg``."""
        if timezone != self.timezone:
            raise KitError(
                f"The dataset ({self.description}) was opened with months in {self.timezone}"
                f" time, but the settings say timezone = {timezone!r}: open it with "
                f"open_dataset(source, mapping, timezone={timezone!r}) (cfg.timezone)."
            )

    def check_open(self) -> None:
        """A clear error when the dataset was closed (``ds.check_open()`` before using
        ``ds.con`` directly)."""
        if self.closed:
            raise _closed_error(self.description)

    def has(self, table: str, *columns: str) -> bool:
        """True when ``table`` was loaded and has every one of ``columns``."""
        self.check_open()
        t = self.tables.get(table)
        return t is not None and all(c in t.columns for c in columns)

    def table(self, name: str) -> ibis.Table:
        """The typed Ibis table ``name``; a clear error when the dataset lacks it."""
        self.check_open()
        if name in self.load_errors:
            raise KitError(f"Table {name} could not be read: {self.load_errors[name]}")
        if name not in self.tables:
            raise KitError(f"The dataset ({self.description}) has no table {name}.")
        return self.tables[name]

    def frame(self, name: str) -> pd.DataFrame:
        """The typed table ``name`` as a pandas DataFrame; the small tables (``reps``,
        ``costs``, ``targets``, ``financials``) are read once and handed out as copies."""
        self.check_open()
        if name not in SMALL_TABLES:
            return self.table(name).to_pandas()
        key = ("frame", name)
        if key not in self.cache:
            self.cache[key] = self.table(name).to_pandas()
        return self.cache[key].copy()


SECRET_QUERY_KEYS = ("password", "passwd", "pwd", "secret", "token", "key", "credential")


def redact(url: str) -> str:
    """A database URL without its password, in the user part or in the query string.

    >>> redact("postgresql://kit:s3cret@127.0.0.1:5432/sales")
    'postgresql://kit:***@127.0.0.1:5432/sales'
    >>> redact("postgresql://db/sales?user=kit&password=s3cret&sslmode=require")
    'postgresql://db/sales?user=kit&password=***&sslmode=require'
    >>> redact("sc://spark:15002/;token=s3cret;database=sales")
    'sc://spark:15002/;token=***;database=sales'
    """
    if SPARK_CONNECT.match(url):  # Spark Connect: sc://host:port/;name=value;...
        base, *params = url.split(";")
        for i, param in enumerate(params):
            key, sep, _ = param.partition("=")
            if sep and any(s in key.lower() for s in SECRET_QUERY_KEYS):
                params[i] = f"{key}=***"
        return ";".join([base, *params])
    parts = original = urlsplit(url)
    if parts.password is not None:
        netloc = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{netloc}")
    query = "&".join(
        f"{k}=***" if any(s in k.lower() for s in SECRET_QUERY_KEYS) and sep else f"{k}{sep}{v}"
        for k, sep, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    if original.password is None and query == parts.query:
        return url  # nothing to hide: as given (urlunsplit would normalise it)
    return urlunsplit(parts._replace(query=query))


def password_warning(source: str | Path | None, given_in: str = "") -> str:
    """The one-line warning for a database URL with a password in it ("" for anything
    else: a path, ``env:VAR``, a URL without one), never showing the password.
    ``given_in`` is the kpi.toml it was read from; empty for the command line.

    >>> password_warning("postgresql://kit:s3cret@db/sales")  # doctest: +NORMALIZE_WHITESPACE
    'warning: --source postgresql://kit:***@db/sales holds a password, and other users of
    this machine can read command lines (ps): put the URL in an environment variable and
    pass --source env:VAR.'
    >>> password_warning("env:SALES_DB"), password_warning("data/sample")
    ('', '')
    """
    text = str(source or "")
    if "://" not in text or redact(text) == text:
        return ""
    if given_in:
        return (
            f"warning: {given_in}: source {redact(text)} holds a password in plain text, "
            "and the file may be shared or committed: put the URL in an environment "
            'variable and write source = "env:VAR".'
        )
    return (
        f"warning: --source {redact(text)} holds a password, and other users of this "
        "machine can read command lines (ps): put the URL in an environment variable and "
        "pass --source env:VAR."
    )


# ----------------------------------------------------------------------------- readers


def _register_frame(con: ibis.BaseBackend, name: str, frame: pd.DataFrame) -> ibis.Table:
    """Store a pandas frame as a DuckDB table; mixed-type columns become text."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: None if pd.isna(v) else str(v)).astype("string")
    return con.create_table(name, frame, overwrite=True)


def _open_folder(folder: Path, mapping: Mapping | None, ds: Dataset) -> None:
    con = ds.con
    mapped = mapping.tables if mapping else {}
    cache: dict[str, pd.DataFrame] = {}

    def read(source: str, tm: TableMapping) -> pd.DataFrame:
        if source not in cache:
            path = folder / source
            if not (path.exists() or path.is_symlink()):
                files = sorted(p.name for p in folder.iterdir() if p.is_file())
                raise KitError(
                    f"[tables.{tm.table}] reads {source!r}, which is not in {folder}; "
                    f"files there: {', '.join(files) or 'none'}."
                )
            cache[source] = frame_from_file(path, tm, ds.load_notes.setdefault(tm.table, []))
        return cache[source]

    for name, spec in TABLES.items():
        try:
            if name in mapped:
                frame = apply_mapping(mapped[name], read)
                ds.raw[name] = _register_frame(con, f"raw_{name}", frame)
            else:
                path = find_file(folder, name)
                if path is None:
                    continue
                check_readable(path)
                if path.suffix == ".parquet":
                    try:
                        ds.raw[name] = con.read_parquet(path, table_name=f"raw_{name}")
                    except Exception as exc:
                        raise unreadable_parquet(path, exc) from None
                    ds.tables[name] = typed(ds.raw[name], spec, timezone=ds.timezone)
                    continue
                notes = ds.load_notes.setdefault(name, [])
                if path.suffix == ".csv":
                    raw = load_csv_native(con, name, path, notes)
                else:
                    raw = _register_frame(con, f"raw_{name}", frame_from_file(path, None, notes))
                ds.raw[name] = with_contract_numbers(raw, spec, path.name)
            table = typed(ds.raw[name], spec, timezone=ds.timezone)
            ds.tables[name] = con.create_table(name, table, overwrite=True)
        except KitError as exc:
            ds.load_errors[name] = str(exc)
    for name in [n for n, notes in ds.load_notes.items() if not notes]:
        del ds.load_notes[name]


def _open_excel(path: Path, mapping: Mapping | None, ds: Dataset) -> None:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except FileNotFoundError:
        raise KitError(f"Excel workbook {path} does not exist.") from None
    except Exception as exc:  # zip, XML and openpyxl errors for a file that is not a workbook
        raise KitError(
            f"{path.name} is not a readable Excel workbook (.xlsx): {first_line(exc)}."
        ) from None
    _load_frames(sheets, mapping, ds, kind="sheet", where=path.name)


def _load_frames(
    frames: dict[str, pd.DataFrame] | Callable[[str], pd.DataFrame],
    mapping: Mapping | None,
    ds: Dataset,
    kind: str,
    where: str,
    names: list[str] | None = None,
) -> None:
    """Load canonical tables from named frames (Excel sheets or database tables)."""
    available = list(frames) if isinstance(frames, dict) else list(names or [])

    def get(source: str, tm: TableMapping | None = None) -> pd.DataFrame:
        if source not in available:
            owner = f"[tables.{tm.table}] reads" if tm else "needs"
            raise KitError(
                f"{owner} {kind} {source!r}, which {where} does not have; "
                f"{kind}s there: {', '.join(available) or 'none'}."
            )
        return frames[source] if isinstance(frames, dict) else frames(source)

    mapped = mapping.tables if mapping else {}
    for name, spec in TABLES.items():
        try:
            if name in mapped:
                frame = apply_mapping(mapped[name], get)
            elif name in available:
                frame = get(name)
            else:
                continue
            ds.raw[name] = _register_frame(ds.con, f"raw_{name}", frame)
            table = typed(ds.raw[name], spec, timezone=ds.timezone)
            ds.tables[name] = ds.con.create_table(name, table, overwrite=True)
        except KitError as exc:
            ds.load_errors[name] = str(exc)


def _connect(url: str, database: str | None = None) -> ibis.BaseBackend:
    if SPARK_CONNECT.match(url):
        return connect_spark(url, database)
    if database:
        raise KitError(
            f"--database names a Spark Connect database; {redact(url)} is not a Spark "
            "Connect URL (sc://HOST:PORT): name the database in the URL instead."
        )
    try:
        return ibis.connect(url)
    except Exception as exc:  # drivers raise their own types: refused, auth, unknown host
        raise KitError(
            f"Could not connect to {redact(url)}: {first_line(exc)}. Check that the "
            "server is running and the URL (host, port, user, database) is right."
        ) from None


def _open_database(con: ibis.BaseBackend, mapping: Mapping | None, ds: Dataset) -> None:
    try:
        present = set(con.list_tables())
    except Exception as exc:
        raise KitError(
            f"Could not list the tables of {ds.description}: {first_line(exc)}."
        ) from None
    if mapping:
        # Mapped tables are reshaped in pandas and stored in an embedded DuckDB; the
        # source's connection (open_dataset's: from_backend maps nothing) is then let go.
        ds.con = duckdb_connect()
        try:
            _load_frames(
                lambda n: con.table(n).to_pandas(),
                mapping,
                ds,
                kind="table",
                where=ds.description,
                names=sorted(present),
            )
        finally:
            con.disconnect()
        return
    lenient = con.name == "duckdb"
    for name, spec in TABLES.items():
        if name in present:
            ds.raw[name] = con.table(name)
            instants = _spark_instants(con, name) if con.name == "pyspark" else set()
            ds.tables[name] = typed(ds.raw[name], spec, lenient, ds.timezone, instants)


def _spark_instants(con: ibis.BaseBackend, name: str) -> set[str]:
    """The columns of a Spark table typed TIMESTAMP: instants, shown in the session's zone,
    which Ibis types as naive like TIMESTAMP_NTZ (a wall-clock time, kept as it is)."""
    fields = con.raw_sql(f"SELECT * FROM `{name}` LIMIT 0").schema.fields
    return {f.name for f in fields if type(f.dataType).__name__ == "TimestampType"}


def from_backend(
    con: ibis.BaseBackend, description: str | None = None, timezone: str = DEFAULT_TIMEZONE
) -> Dataset:
    """A dataset over the canonical tables of an Ibis backend you already connected,
    for example a Spark session: ``from_backend(ibis.pyspark.connect(spark))``; months
    end at midnight in ``timezone`` (an IANA name).

    Spark shows its TIMESTAMP values in the session's zone: Ibis sets
    ``spark.sql.session.timeZone`` to UTC when it connects, and so does this function,
    so a zone set since does not shift them (do not change it while the dataset is open).
    """
    timezone = check_timezone(timezone, "timezone")
    if con.name == "pyspark":
        con.raw_sql("SET spark.sql.session.timeZone = UTC")
    ds = Dataset(con, description or f"{con.name} backend", timezone, owns_con=False)
    _open_database(con, None, ds)
    if not ds.tables:
        raise KitError(f"Found no canonical table in {ds.description}.")
    return ds


@contextmanager
def _closed_on_error(ds: Dataset) -> Iterator[None]:
    """Close ``ds`` when opening it fails: no connection is left behind."""
    try:
        yield
    except BaseException:
        ds.close()
        raise


def open_dataset(
    source: str | Path,
    mapping: str | Path | Mapping | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    keep_unreadable: bool = False,
    database: str | None = None,
) -> Dataset:
    """Open ``source`` (folder, .xlsx, .duckdb file, database URL or ``env:NAME``);
    months begin and end at midnight in ``timezone`` (an IANA name, kpi.toml's
    ``timezone``: see the module's docstring).

    Tables that are absent are simply not in ``Dataset.tables``. A table that exists but
    cannot be read (a corrupt Parquet file, a file that is not text, a folder where a file
    should be, a bad mapping section) is one KitError listing each file and why: left out,
    its KPIs would silently be *not available*. With ``keep_unreadable=True`` (what
    validation uses) such tables are in ``Dataset.load_errors`` with the reason instead.
    A Spark Connect URL (``sc://HOST:PORT``) reads the tables of ``database`` (else the
    URL's ``;database=NAME``, else the session's current database).
    The dataset holds its connection until closed: ``with open_dataset(...) as ds:``
    closes it at the end.

    >>> with open_dataset("data/sample") as ds:  # doctest: +SKIP
    ...     ds.frame("reps").shape
    (24, 4)
    """
    timezone = check_timezone(timezone, "timezone")
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping(mapping)
    text = str(source)
    if text.startswith("env:"):
        var = text[4:]
        text = os.environ.get(var, "")
        if not text:
            raise KitError(
                f"Environment variable {var} is not set; it should hold the "
                "database URL, e.g. postgresql://user:password@host:5432/db."
            )
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+]*://", text):
        con = _connect(text, database)
        ds = Dataset(con, redact(text), timezone)
        with _closed_on_error(ds):
            _open_database(con, mapping, ds)
        return _readable(ds, keep_unreadable)
    if database:
        raise KitError(
            f"--database names a Spark Connect database; {text} is not a Spark Connect "
            "URL (sc://HOST:PORT)."
        )
    path = Path(text)
    if not path.exists():
        raise KitError(
            f"Source {path} does not exist: give a folder of CSV/Parquet files, "
            "an .xlsx workbook, a .duckdb file or a database URL."
        )
    if path.is_dir():
        ds = Dataset(duckdb_connect(), f"folder {path}", timezone)
        with _closed_on_error(ds):
            _open_folder(path, mapping, ds)
    elif path.suffix.lower() in EXCEL_SUFFIXES:
        ds = Dataset(duckdb_connect(), f"workbook {path.name}", timezone)
        with _closed_on_error(ds):
            _open_excel(path, mapping, ds)
    elif path.suffix.lower() in DUCKDB_SUFFIXES:
        try:
            con = duckdb_connect(path, read_only=True)
        except Exception as exc:
            raise KitError(
                f"{path.name} is not a readable DuckDB database: {first_line(exc)}."
            ) from None
        ds = Dataset(con, f"DuckDB file {path.name}", timezone)
        with _closed_on_error(ds):
            _open_database(con, mapping, ds)
    else:
        raise KitError(
            f"Source {path.name}: unsupported kind; give a folder of CSV/Parquet "
            "files, an .xlsx workbook, a .duckdb file or a database URL."
        )
    if not ds.tables and not ds.load_errors:
        ds.close()
        raise KitError(
            f"Found no canonical table in {ds.description}: name files after the "
            f"tables ({', '.join(TABLES)}) or pass --mapping."
        )
    return _readable(ds, keep_unreadable)


def _readable(ds: Dataset, keep_unreadable: bool) -> Dataset:
    """``ds``, unless a table could not be read and ``keep_unreadable`` is off: then
    ``ds`` is closed and the error lists each table's file and reason."""
    if ds.load_errors and not keep_unreadable:
        ds.close()
        raise KitError(unreadable_message(ds.load_errors, ds.description))
    return ds


def unreadable_message(load_errors: dict[str, str], description: str) -> str:
    """The one error for the tables of a dataset that cannot be read.

    >>> print(unreadable_message({"orders": "orders.parquet is not ..."}, "folder x"))
    1 table of folder x cannot be read, so nothing is computed from it (its KPIs would be missing without a word):
      orders: orders.parquet is not ...
    Fix the file (or its mapping section), or move it out of the source; kpi-kit validate lists every problem.
    """  # noqa: E501
    n = len(load_errors)
    lines = [
        f"{n} table{'s' if n > 1 else ''} of {description} cannot be read, so nothing is "
        "computed from it (its KPIs would be missing without a word):"
    ]
    lines += [f"  {name}: {reason}" for name, reason in load_errors.items()]
    lines.append(
        f"Fix the file{'s' if n > 1 else ''} (or {'their' if n > 1 else 'its'} mapping "
        "section), or move it out of the source; kpi-kit validate lists every problem."
    )
    return "\n".join(lines)
