"""Mapping files: turn a foreign export into canonical tables.

A mapping is a TOML file with one ``[tables.<canonical name>]`` section per
table it feeds. Steps run in this order, each optional::

    [tables.orders]
    from = "Sample - Superstore.csv"        # file in the folder, sheet, or DB table
    encoding = "utf-8-sig"                  # CSV only
    delimiter = ","                         # CSV only
    lookup = { from = "people.csv", on = "Region", columns = ["Regional Manager"] }
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
    [tables.orders.dates]                   # canonical = strptime format
    ordered_at = "%d/%m/%y"

Order: lookup -> where -> columns/derive/constants -> values -> dates -> unique_by.
Only the mapped columns are kept. Date values that do not match the format are
left as they were, so validation reports them by row instead of losing them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .contract import TABLES
from .errors import KitError
from .expressions import evaluate

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
}


@dataclass
class TableMapping:
    table: str
    source: str
    encoding: str | None = None
    delimiter: str | None = None
    lookup: list[dict] = field(default_factory=list)
    where: str | None = None
    unique_by: str | list[str] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)


@dataclass
class Mapping:
    path: Path
    tables: dict[str, TableMapping]

    def sources(self) -> set[str]:
        """Every file/sheet/table name the mapping reads."""
        names = {m.source for m in self.tables.values()}
        for m in self.tables.values():
            names.update(lk["from"] for lk in m.lookup)
        return names


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; problems are reported with their TOML key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(f"Mapping file {path} does not exist.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KitError(f"Mapping file {path} is not valid TOML: {exc}.") from None
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
            if not {"from", "on"} <= set(lk):
                raise KitError(f'{where}: each lookup needs from = "..." and on = "...".')
        tm = TableMapping(
            table=name,
            source=spec.get("from") or spec["sheet"],
            encoding=spec.get("encoding"),
            delimiter=spec.get("delimiter"),
            lookup=lookup,
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
        out[name] = tm
    return Mapping(path, out)


def _parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with ``fmt``; values that do not match keep their text for validation."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = parsed.isna() & text.notna() & (text != "")
    if not bad.any():
        return parsed
    out = parsed.dt.strftime("%Y-%m-%d %H:%M:%S").astype("object")
    out[bad] = text[bad]
    return out


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
    where = f"[tables.{tm.table}]"
    frame = read(tm.source, tm)
    for lk in tm.lookup:
        other = read(lk["from"], tm)
        on = lk["on"]
        left_on, right_on = (on, on) if isinstance(on, str) else (on["left"], on["right"])
        for side, cols, label in ((frame, left_on, tm.source), (other, right_on, lk["from"])):
            if cols not in side.columns:
                raise KitError(
                    f"{where}.lookup: column {cols!r} is not in {label}; "
                    f"columns are: {', '.join(map(str, side.columns))}."
                )
        keep = [right_on] + [c for c in lk.get("columns", other.columns) if c != right_on]
        other = other[keep].drop_duplicates(subset=right_on, keep="first")
        frame = frame.merge(
            other, how="left", left_on=left_on, right_on=right_on, suffixes=("", " (lookup)")
        )
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
