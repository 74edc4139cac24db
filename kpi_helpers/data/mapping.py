"""Mapping files: turn a foreign export into canonical tables.

A mapping is a TOML file with one ``[tables.<canonical name>]`` section per
table it feeds. Steps run in this order, each optional::

    [tables.orders]
    from = "Sample - Superstore.csv"        # file in the folder, sheet, or DB table
    encoding = "utf-8-sig"                  # CSV only
    delimiter = ","                         # CSV only
    decimal = ","                           # numbers written 1.234,56 (see below)
    thousands = "."
    ignore_case = true                      # headers match the names below in any case
    lookup = { from = "people.csv", on = "Region", columns = ["Regional Manager"] }
    booleans = ["IsClosed"]                 # true/false/1/0/yes/no (any case) -> True/False
    unpivot = { headers = ['^Entered (.+)$'], name = "Stage", value = "Entered" }  # see below
    where = "`Country/Region` == 'United States'"   # keep matching rows
    unique_by = "account_id"                # first row per key: a dimension table
    [tables.orders.columns]                 # canonical = source column
    order_id = "Order ID"
    [tables.orders.derive]                  # canonical = expression on source columns
    cost = "Sales - Profit"
    [tables.orders.constants]               # canonical = fixed value
    deal_type = "new"
    [tables.orders.values.stage]            # source value = canonical value
    Won = "closed_won"
    [tables.orders.dates]                   # canonical = strptime format, "iso" or "excel"
    ordered_at = "%d/%m/%y"

A table fed by several files has one ``[[tables.NAME]]`` section per file (note the
double brackets; each section's ``[tables.NAME.columns]`` etc. follow it); each is
mapped on its own and their rows are stacked, e.g. Salesforce tasks and events both
feeding ``activities``.

Order: lookup -> booleans -> unpivot -> where -> columns/derive/constants -> values ->
numbers -> dates -> unique_by. Only the mapped columns are kept; a section that maps no column (no
``columns``, ``derive`` or ``constants``) keeps the file's columns as they are, named as
the contract names them: ``[tables.orders]`` with ``from = "orders.csv"`` and
``decimal = ","`` reads a folder's ``orders.csv`` with decimal commas, nothing else.

- ``lookup`` (one table or a list) left-joins columns of another file on a key;
  ``on = { left = "ManagerId", right = "Id" }`` when the key is named differently on
  each side. ``prefix = "Manager "`` renames the looked-up columns (``Name`` becomes
  ``Manager Name``), which makes a *self-lookup* readable: the User file looking up
  each user's manager in the User file itself, ``from`` naming the table's own file.
- ``booleans`` lists source columns holding true/false, 1/0 or yes/no in any case;
  they become True/False (empty stays empty) for ``where`` and ``derive``, e.g.
  ``stage = "'closed_won' if IsWon else ('closed_lost' if IsClosed else StageName)"``.
  Any other value is an error naming the column and examples.
- ``unpivot`` reshapes columns that each hold one thing's value into rows, e.g. a deal's
  "date entered <stage>" columns into one row per deal and stage:
  ``headers`` are regular expressions over the headers, in order of preference (a
  header is taken by the first that matches it; any case with ``ignore_case``); group 1
  is the header's *name* (``'^Date entered "(.+) \\(.+\\)"$'`` takes
  ``Appointment Scheduled`` from ``Date entered "Appointment Scheduled (Sales
  Pipeline)"``). Each source row becomes one row per matching column holding a value
  (an empty cell is no row), with the name in a new column ``name`` and the cell in
  ``value``; the other columns are repeated. ``match = "Deal Stage"`` writes a name as
  the value of that column it equals when case, spaces and punctuation are ignored
  (``appointmentscheduled`` or ``Appointment Scheduled`` becomes ``Appointment
  scheduled``), and ``names = [...]`` adds names to match that no row may hold now. Of
  several columns giving a row the same name, the first header's value is kept. When
  ``value`` feeds a date column, each source row's rows come out in that date's order.
- ``ignore_case = true``: a source header written in another case (``STAGENAME``,
  ``stagename``) is taken as the name the mapping uses (``StageName``), in the
  table's file and its lookups.
- ``decimal`` (``"."`` or ``","``) and ``thousands`` (``""``, ``"."``, ``","``,
  ``" "`` or ``"'"``; default ``"."`` with a decimal comma, none with a decimal point):
  how the file writes numbers. ``1.234,56`` is read as 1234.56 in the contract's number
  columns and in expressions. Without them, a CSV file's way is detected when its
  numbers tell it unambiguously (:mod:`kpi_helpers.data.numbers`); when they do not
  (only values such as ``1.234``, or both ``12.5`` and ``12,5``) that is an error naming
  the column and these settings. Values written another way are left as they are, for
  validation to report by row.
- ``dates``: a strptime format, ``"excel"`` for Excel serial dates (``45567`` is
  2024-10-02, ``45567.5`` noon of that day: days since 1899-12-30, as Excel counts; the
  issue's ``date_format = "excel"`` is this, per column), or ``"iso"`` for ISO 8601 (``2016-10-20``,
  ``2016-10-20T00:00:00.000Z``, ``2016-10-20T09:30:00+02:00``). Timestamps with a
  zone (``"iso"`` or a format with ``%z``) are converted to kpi.toml's ``timezone``
  (default UTC) and stored without the zone, as every zone-aware timestamp is (the
  dataset does it: :func:`kpi_helpers.data.casting.cast_to_contract`); values
  without a zone are taken as already in it. Date values that do not match the
  format are left as they were, so validation reports them by row instead of
  losing them.
- Expressions (``where``, ``derive``) are described in :mod:`kpi_helpers.data.expressions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi_helpers.core import KitError, read_toml

from .contract import TABLES
from .dates import parse_dates
from .expressions import column_names, evaluate
from .numbers import (
    CONTRACT,
    NumberStyle,
    count_forms_frame,
    detect_style,
    number_columns,
    number_style,
    to_contract_text,
)

_KEYS = {
    "from",
    "encoding",
    "delimiter",
    "lookup",
    "where",
    "unique_by",
    "columns",
    "derive",
    "constants",
    "values",
    "dates",
    "sheet",
    "ignore_case",
    "booleans",
    "decimal",
    "thousands",
    "unpivot",
}
_LOOKUP_KEYS = {"from", "on", "columns", "prefix"}
_UNPIVOT_KEYS = {"headers", "name", "value", "match", "names"}
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".txt")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass
class TableMapping:
    table: str
    source: str
    encoding: str | None = None
    delimiter: str | None = None
    lookup: list[dict] = field(default_factory=list)
    booleans: list[str] = field(default_factory=list)
    ignore_case: bool = False
    where: str | None = None
    unique_by: str | list[str] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    numbers: NumberStyle | None = None  # decimal/thousands; None: detected in a CSV file
    unpivot: dict | None = None  # headers, name, value, match, names: columns into rows
    also: list[TableMapping] = field(default_factory=list)  # more parts, rows stacked


@dataclass
class Mapping:
    path: Path
    tables: dict[str, TableMapping]

    def sources(self) -> set[str]:
        """Every file/sheet/table name the mapping reads."""
        parts = [p for m in self.tables.values() for p in (m, *m.also)]
        names = {m.source for m in parts}
        for m in parts:
            names.update(lk["from"] for lk in m.lookup)
        return names


def _table_mapping(name: str, spec: object, where: str) -> TableMapping:
    """One checked ``[tables.NAME]`` section."""
    if not isinstance(spec, dict) or not (spec.get("from") or spec.get("sheet")):
        raise KitError(f'{where}: says nothing about where it comes from; add from = "...".')
    unknown = set(spec) - _KEYS
    if unknown:
        raise KitError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KEYS))}."
        )
    lookup = spec.get("lookup", [])
    lookup = [lookup] if isinstance(lookup, dict) else list(lookup)
    for lk in lookup:
        if not isinstance(lk, dict) or not {"from", "on"} <= set(lk):
            raise KitError(f'{where}: each lookup needs from = "..." and on = "...".')
        if set(lk) - _LOOKUP_KEYS:
            raise KitError(
                f"{where}.lookup: unknown key(s) {', '.join(sorted(set(lk) - _LOOKUP_KEYS))}; "
                f"allowed: {', '.join(sorted(_LOOKUP_KEYS))}."
            )
    booleans = spec.get("booleans", [])
    if not isinstance(booleans, list) or not all(isinstance(b, str) for b in booleans):
        raise KitError(f'{where}: booleans must be a list of column names, e.g. ["IsWon"].')
    if not isinstance(spec.get("ignore_case", False), bool):
        raise KitError(f"{where}: ignore_case must be true or false.")
    if "unpivot" in spec:
        check_unpivot(spec["unpivot"], f"{where}.unpivot")
    tm = TableMapping(
        table=name,
        source=spec.get("from") or spec["sheet"],
        encoding=spec.get("encoding"),
        delimiter=spec.get("delimiter"),
        lookup=lookup,
        booleans=list(booleans),
        ignore_case=spec.get("ignore_case", False),
        where=spec.get("where"),
        unique_by=spec.get("unique_by"),
        columns=dict(spec.get("columns", {})),
        derive=dict(spec.get("derive", {})),
        constants=dict(spec.get("constants", {})),
        values={k: dict(v) for k, v in spec.get("values", {}).items()},
        dates=dict(spec.get("dates", {})),
        numbers=number_style(spec.get("decimal"), spec.get("thousands"), where),
        unpivot=dict(spec["unpivot"]) if "unpivot" in spec else None,
    )
    known = set(TABLES[name].names)
    for key in ("columns", "derive", "constants", "values", "dates"):
        for col in getattr(tm, key):
            if col not in known:
                raise KitError(
                    f"{where}.{key}: {col!r} is not a column of {name}; "
                    f"its columns are {', '.join(TABLES[name].names)}."
                )
    return tm


def check_unpivot(spec: object, where: str) -> None:
    """A KitError naming ``where`` unless ``spec`` is a valid ``unpivot`` table.

    >>> check_unpivot({"headers": ["^Entered (.+)$"], "name": "Stage", "value": "At"}, "x")
    >>> try:
    ...     check_unpivot({"headers": ["^Entered .+$"], "name": "Stage", "value": "At"}, "x")
    ... except KitError as exc:
    ...     print(str(exc)[:44])
    x.headers: '^Entered .+$' has no group (...)
    """
    example = 'e.g. unpivot = { headers = [\'^Entered (.+)$\'], name = "Stage", value = "At" }'
    if not isinstance(spec, dict) or not {"headers", "name", "value"} <= set(spec):
        raise KitError(f"{where}: needs headers, name and value; {example}.")
    if set(spec) - _UNPIVOT_KEYS:
        raise KitError(
            f"{where}: unknown key(s) {', '.join(sorted(set(spec) - _UNPIVOT_KEYS))}; "
            f"allowed: {', '.join(sorted(_UNPIVOT_KEYS))}."
        )
    headers, names = spec["headers"], spec.get("names", [])
    for key, value in (("headers", headers), ("names", names)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise KitError(f"{where}.{key}: must be a list of strings; {example}.")
    for key in ("name", "value", "match"):
        if key in spec and not isinstance(spec[key], str):
            raise KitError(f"{where}.{key}: must be a column name (a string); {example}.")
    for pattern in headers:
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            raise KitError(
                f"{where}.headers: {pattern!r} is no regular expression: {exc}."
            ) from None
        if not groups:
            raise KitError(
                f"{where}.headers: {pattern!r} has no group (...) for the name; "
                "e.g. '^Entered (.+)$'."
            )


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; problems are reported with their TOML key."""
    path = Path(path)
    data = read_toml(path, "Mapping file")
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise KitError(f"Mapping file {path} has no [tables.<name>] sections.")
    out: dict[str, TableMapping] = {}
    for name, spec in tables.items():
        where = f"{path.name}: [tables.{name}]"
        if name not in TABLES:
            raise KitError(
                f"{where}: unknown table; the contract's tables are {', '.join(TABLES)}."
            )
        if isinstance(spec, list) and spec:  # [[tables.NAME]]: parts stacked into one table
            parts = [_table_mapping(name, p, f"{where}[{i}]") for i, p in enumerate(spec)]
            parts[0].also = parts[1:]
            out[name] = parts[0]
        else:
            out[name] = _table_mapping(name, spec, where)
    return Mapping(path, out)


def _booleans(frame: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    """``columns`` of ``frame`` as True/False (missing where empty); other values are an error."""
    frame = frame.copy()
    for col in columns:
        if col not in frame.columns:
            raise KitError(
                f"{where}.booleans: no column {col!r}; columns are: "
                f"{', '.join(map(str, frame.columns))}."
            )
        if pd.api.types.is_bool_dtype(frame[col]):
            continue
        text = frame[col].astype("string").str.strip().str.lower()
        known = (text.isin(_TRUE | _FALSE) | text.isna() | (text == "")).fillna(True)
        if not known.all():
            bad = frame.loc[~known.astype(bool).to_numpy(), col]
            examples = ", ".join(repr(v) for v in bad.drop_duplicates().head(5))
            raise KitError(
                f"{where}.booleans: column {col!r} has {len(bad)} row(s) that are not "
                f"true/false, 1/0 or yes/no (e.g. {examples}); fix those values in the "
                f"export or drop {col!r} from booleans."
            )
        frame[col] = text.map(lambda v: pd.NA if pd.isna(v) or v == "" else v in _TRUE).astype(
            "boolean"
        )
    return frame


def _match_case(frame: pd.DataFrame, wanted: set[str]) -> pd.DataFrame:
    """``frame`` with each header that equals a ``wanted`` name in another case renamed to it."""
    by_lower = {w.lower(): w for w in sorted(wanted)}
    rename: dict[str, str] = {}
    for col in frame.columns:
        target = by_lower.get(str(col).lower())
        if target and target != col and target not in frame.columns:
            if target not in rename.values():
                rename[col] = target
    return frame.rename(columns=rename) if rename else frame


def _keeps_columns(tm: TableMapping) -> bool:
    """True when the section maps no column: the file's columns are kept as they are."""
    return not (tm.columns or tm.derive or tm.constants)


def _number_style(tm: TableMapping, frame: pd.DataFrame) -> NumberStyle:
    """How the source writes numbers: the section's ``decimal``/``thousands``, else, for a
    CSV file, what the values of the columns that become numbers tell (the source columns
    of the contract's number columns, and those their expressions compute with)."""
    if tm.numbers is not None:
        return tm.numbers
    if not tm.source.lower().endswith(CSV_SUFFIXES):
        return CONTRACT  # a sheet or a database table: numbers are typed there
    if _keeps_columns(tm):
        sources = number_columns(TABLES[tm.table], frame.columns)
    else:
        sources = [tm.columns[c] for c in number_columns(TABLES[tm.table], tm.columns)]
        for canonical in number_columns(TABLES[tm.table], tm.derive):
            sources += sorted(column_names(tm.derive[canonical], f"[tables.{tm.table}]"))
    sources = [
        c
        for c in dict.fromkeys(sources)
        if c in frame.columns and not pd.api.types.is_numeric_dtype(frame[c])
    ]
    return detect_style(count_forms_frame(frame, sources), tm.source, tm.table)


def _names_used(tm: TableMapping) -> set[str]:
    """Every source column name the table's mapping reads."""
    names = set(tm.columns.values()) | set(tm.booleans)
    for lk in tm.lookup:
        on = lk["on"]
        names.add(on if isinstance(on, str) else on["left"])
    for expression in [tm.where or "", *tm.derive.values()]:
        if expression:
            names |= column_names(expression, f"[tables.{tm.table}]")
    if tm.unpivot:  # its new columns are no headers of the file; the one it matches is
        names -= {tm.unpivot["name"], tm.unpivot["value"]}
        names |= {tm.unpivot["match"]} if "match" in tm.unpivot else set()
    return names


def _same(text: str) -> str:
    """``text`` with case, spaces and punctuation ignored: how unpivot matches names."""
    return re.sub(r"[\W_]+", "", text).casefold()


def unpivot(frame: pd.DataFrame, spec: dict, ignore_case: bool = False) -> pd.DataFrame:
    """``frame`` with the columns whose headers match ``spec["headers"]`` turned into rows
    (the mapping's ``unpivot``, in the module docstring): one row per source row and
    matching column holding a value, the name from the header in column ``spec["name"]``
    and the cell in ``spec["value"]``, indexed by the source row. None matching is an
    error naming the patterns and the headers.

    >>> deals = pd.DataFrame({"Id": ["D1", "D2"], "Stage": ["Won", "Demo"],
    ...     "Entered demo": ["1/2", "1/5"], "Entered won": ["1/9", None]})
    >>> unpivot(deals, {"headers": ["^Entered (.+)$"], "name": "To", "value": "At",
    ...     "match": "Stage"})[["Id", "To", "At"]].values.tolist()
    [['D1', 'Demo', '1/2'], ['D1', 'Won', '1/9'], ['D2', 'Demo', '1/5']]
    """
    flags = re.IGNORECASE if ignore_case else 0
    patterns = [re.compile(p, flags) for p in spec["headers"]]
    taken: list[tuple[int, int, str, str]] = []  # (pattern, position, header, name)
    for position, header in enumerate(map(str, frame.columns)):
        for rank, pattern in enumerate(patterns):
            found = pattern.search(header)
            if found:
                taken.append((rank, position, header, found.group(1).strip()))
                break
    if not taken:
        raise KitError(
            f"unpivot: no header matches {' or '.join(map(repr, spec['headers']))}; "
            f"the headers are: {', '.join(map(str, frame.columns))}."
        )
    taken.sort()
    known: dict[str, str] = {}
    match = spec.get("match")
    if match and match in frame.columns:
        known = {_same(str(v)): str(v) for v in frame[match].dropna().drop_duplicates()}
    for name in spec.get("names", []):
        known.setdefault(_same(name), name)
    headers = [t[2] for t in taken]
    cells = frame[headers]
    keep = frame.drop(columns=headers)
    parts = []
    for _, _, header, name in taken:
        value = cells[header]
        text = value.astype("string").str.strip()
        present = (value.notna() & text.notna() & (text != "")).to_numpy()
        part = keep[present].copy()
        part[spec["name"]] = known.get(_same(name), name)
        part[spec["value"]] = value[present]
        parts.append(part)
    long = pd.concat(parts)
    # a row's name given by several columns: the first (by pattern, then header) wins
    long = long[~pd.MultiIndex.from_arrays([long.index, long[spec["name"]]]).duplicated()]
    return long.sort_index(kind="stable")


def apply_mapping(
    tm: TableMapping,
    read: Callable[[str, TableMapping], pd.DataFrame],
) -> pd.DataFrame:
    """Build one canonical table from raw frames; ``read(name, tm)`` returns a raw frame.

    >>> raw = pd.DataFrame({"Deal": ["D1", "D2"], "Status": ["Won", "Open"]})
    >>> tm = TableMapping("opportunities", "deals.csv", columns={"opportunity_id": "Deal",
    ...     "stage": "Status"}, values={"stage": {"Won": "closed_won"}})
    >>> apply_mapping(tm, lambda name, tm: raw)["stage"].tolist()
    ['closed_won', 'Open']
    """
    if tm.also:
        parts = [_apply_one(p, read) for p in (tm, *tm.also)]
        return pd.concat(parts, ignore_index=True)
    return _apply_one(tm, read)


def _apply_one(
    tm: TableMapping,
    read: Callable[[str, TableMapping], pd.DataFrame],
) -> pd.DataFrame:
    where = f"[tables.{tm.table}]"
    frame = read(tm.source, tm)
    if tm.ignore_case:
        frame = _match_case(frame, _names_used(tm))
    for lk in tm.lookup:
        other = read(lk["from"], tm)
        on = lk["on"]
        left_on, right_on = (on, on) if isinstance(on, str) else (on["left"], on["right"])
        if tm.ignore_case:
            other = _match_case(other, {right_on, *lk.get("columns", [])})
        for side, cols, label in ((frame, left_on, tm.source), (other, right_on, lk["from"])):
            if cols not in side.columns:
                raise KitError(
                    f"{where}.lookup: column {cols!r} is not in {label}; "
                    f"columns are: {', '.join(map(str, side.columns))}."
                )
        keep = [right_on] + [c for c in lk.get("columns", other.columns) if c != right_on]
        other = other[keep].drop_duplicates(subset=right_on, keep="first")
        if lk.get("prefix"):
            other = other.add_prefix(lk["prefix"])
            right_on = lk["prefix"] + right_on
        frame = frame.merge(
            other, how="left", left_on=left_on, right_on=right_on, suffixes=("", " (lookup)")
        )
    if tm.booleans:
        frame = _booleans(frame, tm.booleans, where)
    origin = None  # with unpivot: the source row of each row
    if tm.unpivot:
        try:
            frame = unpivot(frame, tm.unpivot, tm.ignore_case)
        except KitError as exc:
            raise KitError(f"{where}.{exc} ({tm.source})") from None
        origin = frame.index.to_numpy()
        frame = frame.reset_index(drop=True)
    style = _number_style(tm, frame)
    if tm.where:
        keep = evaluate(tm.where, frame, f"{where}.where", style)
        frame = frame[keep.fillna(False).astype(bool)]
    out = frame.copy() if _keeps_columns(tm) else pd.DataFrame(index=frame.index)
    for canonical, source_col in tm.columns.items():
        if source_col not in frame.columns:
            raise KitError(
                f"{where}.columns: {canonical} = {source_col!r}, but {tm.source} has "
                f"no such column; columns are: {', '.join(map(str, frame.columns))}."
            )
        out[canonical] = frame[source_col]
    for canonical, expression in tm.derive.items():
        out[canonical] = evaluate(expression, frame, f"{where}.derive.{canonical}", style)
    for canonical, value in tm.constants.items():
        out[canonical] = value
    for canonical, translation in tm.values.items():
        if canonical not in out.columns:
            raise KitError(f"{where}.values: {canonical} is not mapped; add it to columns.")
        out[canonical] = out[canonical].replace(translation)
    for canonical in number_columns(TABLES[tm.table], out.columns):
        if not pd.api.types.is_numeric_dtype(out[canonical]):
            out[canonical] = to_contract_text(out[canonical], style)
    for canonical, fmt in tm.dates.items():
        if canonical not in out.columns:
            raise KitError(f"{where}.dates: {canonical} is not mapped; add it to columns.")
        out[canonical] = parse_dates(out[canonical], fmt)
    if tm.unpivot:  # each source row's rows in the order of the date they carry
        value = tm.unpivot["value"]
        by = [c for c, src in tm.columns.items() if src == value and c in tm.dates]
        if by and pd.api.types.is_datetime64_any_dtype(out[by[0]]):
            out = out.assign(_row=origin[out.index.to_numpy()])
            out = out.sort_values(["_row", by[0]], kind="stable").drop(columns="_row")
    if tm.unique_by:
        keys = [tm.unique_by] if isinstance(tm.unique_by, str) else list(tm.unique_by)
        missing = [k for k in keys if k not in out.columns]
        if missing:
            raise KitError(f"{where}.unique_by: {', '.join(missing)} is not mapped.")
        out = out.drop_duplicates(subset=keys, keep="first")
    return out.reset_index(drop=True)
