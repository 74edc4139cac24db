"""Mapping files: turn a foreign export into canonical tables.

A mapping is a TOML file with one ``[tables.<canonical name>]`` section per
table it feeds. Steps run in this order, each optional::

    [tables.orders]
    from = "Sample - Superstore.csv"        # file in the folder, sheet, or DB table
    encoding = "utf-8-sig"                  # CSV only
    delimiter = ","                         # CSV only
    ignore_case = true                      # headers match the names below in any case
    lookup = { from = "people.csv", on = "Region", columns = ["Regional Manager"] }
    booleans = ["IsClosed"]                 # true/false/1/0/yes/no (any case) -> True/False
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
    [tables.orders.dates]                   # canonical = strptime format, or "iso"
    ordered_at = "%d/%m/%y"

A table fed by several files has one ``[[tables.NAME]]`` section per file (note the
double brackets; each section's ``[tables.NAME.columns]`` etc. follow it); each is
mapped on its own and their rows are stacked, e.g. Salesforce tasks and events both
feeding ``activities``.

Order: lookup -> booleans -> where -> columns/derive/constants -> values -> dates ->
unique_by. Only the mapped columns are kept.

- ``lookup`` (one table or a list) left-joins columns of another file on a key;
  ``on = { left = "ManagerId", right = "Id" }`` when the key is named differently on
  each side. ``prefix = "Manager "`` renames the looked-up columns (``Name`` becomes
  ``Manager Name``), which makes a *self-lookup* readable: the User file looking up
  each user's manager in the User file itself, ``from`` naming the table's own file.
- ``booleans`` lists source columns holding true/false, 1/0 or yes/no in any case;
  they become True/False (empty stays empty) for ``where`` and ``derive``, e.g.
  ``stage = "'closed_won' if IsWon else ('closed_lost' if IsClosed else StageName)"``.
  Any other value is an error naming the column and examples.
- ``ignore_case = true``: a source header written in another case (``STAGENAME``,
  ``stagename``) is taken as the name the mapping uses (``StageName``), in the
  table's file and its lookups.
- ``dates``: a strptime format, or ``"iso"`` for ISO 8601 (``2016-10-20``,
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

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi_helpers.core import KitError, read_toml

from .contract import TABLES, ZONED_TEXT
from .expressions import column_names, evaluate

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
}
_LOOKUP_KEYS = {"from", "on", "columns", "prefix"}
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


def _read_dates(values: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``values`` read with ``fmt`` (or ``"iso"``): the text, the naive timestamps (a
    value with a zone at its UTC time, else as written; NaT where it does not read) and
    which values had a zone."""
    text = values.astype("string").str.strip()
    pattern = "ISO8601" if fmt == "iso" else fmt
    if "%z" in fmt:
        zoned = text.notna() & (text != "")
    elif fmt == "iso":
        zoned = text.str.contains(ZONED_TEXT, regex=True)
    else:
        zoned = pd.Series(False, index=text.index)
    zoned = zoned.fillna(False).astype(bool)
    parsed = pd.to_datetime(text.where(~zoned), format=pattern, errors="coerce", utc=True)
    if zoned.any():
        instants = pd.to_datetime(text.where(zoned), format=pattern, errors="coerce", utc=True)
        parsed = parsed.where(~zoned, instants)
    return text, parsed.dt.tz_localize(None), zoned


def _parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with ``fmt`` (or ``"iso"``); values that do not match keep their text for
    validation. A value with a zone comes out as text at its UTC time with ``+00:00``,
    which the dataset converts to its timezone like any zone-aware timestamp (the rule
    lives there: :func:`kpi_helpers.data.casting.cast_to_contract`); the others as naive
    timestamps, taken as already in that zone.

    >>> _parse_dates(pd.Series(["2016-10-20T23:30:00.000-02:00", "2016-10-20"]), "iso").tolist()
    ['2016-10-21 01:30:00.000000+00:00', '2016-10-20 00:00:00.000000']
    >>> _parse_dates(pd.Series(["20/10/2016", ""]), "%d/%m/%Y").tolist()
    [Timestamp('2016-10-20 00:00:00'), NaT]
    """
    text, parsed, zoned = _read_dates(values, fmt)
    bad = parsed.isna() & text.notna() & (text != "")
    zoned &= ~bad
    if not bad.any() and not zoned.any():
        return parsed
    out = parsed.dt.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if zoned.any() else ""))
    out = out.astype("object")
    out[zoned] = out[zoned] + "+00:00"
    out[bad] = text[bad]
    return out


def date_format_fits(values: pd.Series, fmt: str) -> bool:
    """True when every non-empty value reads with ``fmt`` (a strptime format or ``"iso"``).

    >>> date_format_fits(pd.Series(["3/1/2017 00:00", ""]), "%m/%d/%Y %H:%M")
    True
    >>> date_format_fits(pd.Series(["13/1/2017 00:00"]), "%m/%d/%Y %H:%M")
    False
    """
    text, parsed, _ = _read_dates(values, fmt)
    return not (parsed.isna() & text.notna() & (text != "")).any()


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


def _names_used(tm: TableMapping) -> set[str]:
    """Every source column name the table's mapping reads."""
    names = set(tm.columns.values()) | set(tm.booleans)
    for lk in tm.lookup:
        on = lk["on"]
        names.add(on if isinstance(on, str) else on["left"])
    for expression in [tm.where or "", *tm.derive.values()]:
        if expression:
            names |= column_names(expression, f"[tables.{tm.table}]")
    return names


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
    if tm.where:
        frame = frame[evaluate(tm.where, frame, f"{where}.where").fillna(False).astype(bool)]
    out = pd.DataFrame(index=frame.index)
    for canonical, source_col in tm.columns.items():
        if source_col not in frame.columns:
            raise KitError(
                f"{where}.columns: {canonical} = {source_col!r}, but {tm.source} has "
                f"no such column; columns are: {', '.join(map(str, frame.columns))}."
            )
        out[canonical] = frame[source_col]
    for canonical, expression in tm.derive.items():
        out[canonical] = evaluate(expression, frame, f"{where}.derive.{canonical}")
    for canonical, value in tm.constants.items():
        out[canonical] = value
    for canonical, translation in tm.values.items():
        if canonical not in out.columns:
            raise KitError(f"{where}.values: {canonical} is not mapped; add it to columns.")
        out[canonical] = out[canonical].replace(translation)
    for canonical, fmt in tm.dates.items():
        if canonical not in out.columns:
            raise KitError(f"{where}.dates: {canonical} is not mapped; add it to columns.")
        out[canonical] = _parse_dates(out[canonical], fmt)
    if tm.unique_by:
        keys = [tm.unique_by] if isinstance(tm.unique_by, str) else list(tm.unique_by)
        missing = [k for k in keys if k not in out.columns]
        if missing:
            raise KitError(f"{where}.unique_by: {', '.join(missing)} is not mapped.")
        out = out.drop_duplicates(subset=keys, keep="first")
    return out.reset_index(drop=True)
