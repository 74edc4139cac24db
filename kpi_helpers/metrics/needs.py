"""The registry of measure sources (:class:`Source`, ``SOURCES``, :func:`source`) and
what a dataset lacks for a measure (:func:`missing_inputs`, :func:`describe_missing`).

Each table's module (``.orders``, ``.deals``, ...) registers its sources here on import;
the engine reads ``SOURCES``. Example::

    @source("sql", ("leads.qualified_at",), ("sqls",), since=("lead",))
    def _sqls(ms: Measures, st: list[str]) -> pd.DataFrame: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpi_helpers.data import TABLES, Dataset

from .scopes import SCOPE_TYPES

# run(ms: Measures, scope_types) -> the measures (KEY columns)
Run = Callable[[Any, list[str]], pd.DataFrame]


@dataclass(frozen=True)
class Source:
    """A measure source: what it needs and produces, and how its measures behave.

    ``keep_nan``: measures left NaN when a scope has no value (medians, targets,
    financials) instead of 0. ``scope_types``/``scope_reason``: the scope types the
    measures exist for, and why not for the others. ``reads``: the sources whose
    measures ``run`` fetches (the engine computes those first, so the fetch is cached).
    ``since``: the first events (``data.FIRST_EVENTS``; "a|b": the earlier of those the
    data has) before whose month the measures have no value: their data starts at the
    latest of them (DATA_CONTRACT.md, "Where a KPI's data starts"); none: the data's
    first month. ``by_account``: ``run`` attributes rows to their account's rep
    (``Measures.with_account_rep``): the engine looks the reps up for every account once
    when several of the sources asked do, else for that source's own accounts only.
    """

    name: str
    needs: tuple[str, ...]  # "table" or "table.column"; "a|b": either will do
    produces: tuple[str, ...]
    run: Run
    extra_needs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keep_nan: frozenset[str] = frozenset()
    scope_types: tuple[str, ...] = SCOPE_TYPES
    scope_reason: str = ""
    reads: tuple[str, ...] = ()
    since: tuple[str, ...] = ()
    by_account: bool = False

    def needs_of(self, measure: str) -> tuple[str, ...]:
        return self.needs + self.extra_needs.get(measure, ())

    def filled_of(self, measure: str) -> tuple[str, ...]:
        """The needs of ``measure`` whose columns must hold a value in some row: its own
        columns (``extra_needs``: quoted_at, first_response_at...), where a column blank in
        every row means no input, never a count of 0. Not the source's shared columns: a
        blank ``closed_at`` in every row means every deal is open."""
        return self.extra_needs.get(measure, ())


SOURCES: dict[str, Source] = {}


def source(
    name: str,
    needs: tuple[str, ...],
    produces: tuple[str, ...],
    extra_needs: dict[str, tuple[str, ...]] | None = None,
    keep_nan: tuple[str, ...] = (),
    scope_types: tuple[str, ...] = SCOPE_TYPES,
    scope_reason: str = "",
    reads: tuple[str, ...] = (),
    since: tuple[str, ...] = (),
    by_account: bool = False,
) -> Callable[[Run], Run]:
    """Register a measure source (a decorator on its ``run(ms, scope_types)``)."""

    def register(fn: Run) -> Run:
        SOURCES[name] = Source(
            name,
            needs,
            produces,
            fn,
            extra_needs or {},
            frozenset(keep_nan),
            scope_types,
            scope_reason,
            reads,
            since,
            by_account,
        )
        return fn

    return register


def missing_inputs(ds: Dataset, needs: tuple[str, ...], filled: tuple[str, ...] = ()) -> list[str]:
    """The needs (``table`` or ``table.column``) that ``ds`` does not meet; a need also in
    ``filled`` (:meth:`Source.filled_of`) is not met by a column empty in every row
    (:func:`empty_columns`) either: a blank column of an export must not read as 0."""
    out = []
    for need in needs:
        options = [_whole(ds, o) for o in need.split("|")]  # alternatives: any one will do
        if not any(_has(ds, option, need in filled) for option in options):
            out.append(options[-1])
    return out


def _whole(ds: Dataset, need: str) -> str:
    """A need of a whole ``table`` as the columns the contract requires of it (its
    starred columns) that the dataset's table lacks: a ledger without ``revenue`` does
    not meet "orders", its KPIs say "needs table `orders` with column `revenue`" (a query
    failed on it before). Other needs are returned as they are."""
    if "." in need or need not in TABLES or not ds.has(need):
        return need
    lacking = [c for c in TABLES[need].required if not ds.has(need, c)]
    return f"{need}.{','.join(lacking)}" if lacking else need


def _has(ds: Dataset, need: str, filled: bool = False) -> bool:
    """``need``: "table", "table.column" or "table.column,column" (all of them; with
    ``filled`` each with a value in some row)."""
    table, _, columns = need.partition(".")
    cols = columns.split(",") if columns else []
    if not ds.has(table, *cols):
        return False
    return not (filled and cols and set(cols) & empty_columns(ds, table))


def empty_columns(ds: Dataset, table: str) -> frozenset[str]:
    """The columns of ``table`` without a value in any row (none when the table has no
    rows at all); one query per table, cached with the dataset.

    Example: an export whose ``Quote Date`` column is blank in every row gives
    ``empty_columns(ds, "opportunities") == {"quoted_at"}``."""
    key = ("empty_columns", table)
    if key not in ds.cache:
        t = ds.table(table)
        counts = t.aggregate(
            _rows=t.count(), **{f"c{i}": t[c].count() for i, c in enumerate(t.columns)}
        ).execute()
        row = counts.iloc[0]
        ds.cache[key] = frozenset(
            c for i, c in enumerate(t.columns) if int(row["_rows"]) and not int(row[f"c{i}"])
        )
    return ds.cache[key]


def describe_missing(missing: list[str], ds: Dataset | None = None) -> str:
    """What the missing needs are, in words, each table once; given the dataset, a column
    it has but left empty in every row (:func:`empty_columns`) is said so.

    >>> describe_missing(["leads.first_response_at", "opportunities.account_id,closed_at"])
    'needs table `leads` with column `first_response_at` and table `opportunities` with columns `account_id`, `closed_at`'
    >>> describe_missing(["leads", "leads.first_response_at", "leads.engaged_at"])
    'needs table `leads` with columns `first_response_at`, `engaged_at`'
    """  # noqa: E501
    wanted: dict[str, list[str]] = {}  # each table once, with every column it lacks
    for need in missing:
        table, _, columns = need.partition(".")
        cols = wanted.setdefault(table, [])
        cols.extend(c for c in columns.split(",") if c and c not in cols)
    parts = []
    for table, cols in wanted.items():
        names = ", ".join(f"`{c}`" for c in cols)
        plural = "s" if len(cols) > 1 else ""
        if cols and ds is not None and ds.has(table, *cols):
            parts.append(f"values in column{plural} {names} of `{table}` (empty in every row)")
        else:
            parts.append(
                f"table `{table}` with column{plural} {names}" if cols else f"table `{table}`"
            )
    return "needs " + " and ".join(parts)
