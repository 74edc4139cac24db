"""The tidy KPI table (``TIDY_COLUMNS``): :func:`compute_tidy` over months, quarters or
fiscal years, with comparisons and targets; ``kpis.compute`` is its facade.

Example::

    compute_tidy(ds, "2026-05", 13, [Scope.parse("company"), Scope.parse("team:EMEA")])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_helpers.catalog import KPI, Kind, select
from kpi_helpers.core import Calendar, Config, KitError, Month, Period
from kpi_helpers.data import Dataset, check_month, data_months, month_asked

from .compare import add_comparisons
from .engine import Engine
from .scopes import Scope, check_known, rep_teams
from .small_tables import targets

TIDY_COLUMNS = [
    "month",
    "period",  # 2026-10, 2026-Q4, FY2027-Q1, FY2027 (kpi.toml's fiscal_year_start)
    "period_start",  # YYYY-MM
    "period_end",  # YYYY-MM (a period to date ends after its last month with data)
    "to_date",  # the period runs past the data: "to date (k of n months)"
    "scope_type",
    "scope",
    "kpi",
    "value",
    "unit",
    "status",
    "reason",
    "previous_month",
    "mom_change",
    "change_unit",
    "same_month_last_year",
    "yoy_change",
    "target",
    "attainment",
    "rag",
    "trend",
    "better",
]


def compute_tidy(
    ds: Dataset,
    month: str,
    months: int,
    scopes: list[Scope],
    kpis: list[str] | None = None,
    families: list[str] | None = None,
    config: Config | None = None,
    period: str = "month",
) -> pd.DataFrame:
    """The tidy KPI table (``TIDY_COLUMNS``) for the ``months`` periods of kind ``period``
    (month, quarter or year of ``config.fiscal_year_start``) ending with the one that
    holds ``month``, and every scope in ``scopes``, computed in one pass; see
    ``kpis.compute``. A quarter or year that runs past the data is to date: its ``month``
    is its last month with data.

    Example: ``compute_tidy(ds, "2026-01", 2, [COMPANY_SCOPE], period="quarter")`` with
    fiscal_year_start 11 gives FY2026-Q1 (2025-11..2026-01) and the quarter before."""
    if months < 1:
        raise KitError("--periods must be at least 1.")
    last = month_asked(ds, month)
    check_month(ds, last)
    chosen = [k for k in select(kpis, families) if not k.is_table and not k.is_model]
    engine = Engine(ds, config)
    if period != "month":
        return _period_tidy(engine, chosen, last, months, scopes, period)
    first = last - (months - 1)
    long = engine.values(chosen, first, last, scopes)
    teams = rep_teams(ds)
    for sc in scopes:
        check_known(sc, teams, seen=[n for k, n in engine.rows if k == sc.kind])
    tgt = targets(ds, [Month(i) for i in range(first.index, last.index + 1)])
    # values() gives the final order (month, scope type, scope, KPI); the left merges of
    # add_comparisons keep it
    tidy = add_comparisons(long, chosen, tgt, engine.cfg)
    labels = {i: str(Month(int(i))) for i in tidy["mi"].unique()}
    tidy["month"] = tidy["mi"].map(labels)
    tidy["period"] = tidy["period_start"] = tidy["period_end"] = tidy["month"]
    tidy["to_date"] = False
    return tidy[TIDY_COLUMNS].reset_index(drop=True)


def read_measures(
    ds: Dataset,
    month: str,
    months: int,
    scopes: list[Scope],
    config: Config | None = None,
    period: str = "month",
) -> None:
    """Read the measures :func:`compute_tidy` would read for every formula KPI of
    ``scopes`` and keep them on the dataset (the engine's cache), without the KPI rows:
    later computations of any of those scopes read them from there. For months, the
    measure frame alone (no formulas, no comparisons); for quarters or years, the
    periods' own measures too (``compute_tidy``, whose rows are not kept).

    Example: ``read_measures(ds, "2026-05", 13, parse_scopes(["company", "team",
    "rep"]))`` before a pack's KPIs, its reps and its drivers."""
    if period != "month":
        compute_tidy(ds, month, months, scopes, config=config, period=period)
        return
    last = month_asked(ds, month)
    check_month(ds, last)
    chosen = [k for k in select(None, None) if not k.is_table and not k.is_model]
    engine = Engine(ds, config)
    engine.measure_frame(engine.starts(chosen, last - (months - 1)), last, scopes)


def periods_asked(cal: Calendar, kind: str, month: Month, n: int, through: Month) -> list[Period]:
    """The ``n`` periods of ``kind`` ending with the one holding ``month``, oldest first;
    one that runs past ``through`` (the data's last month) is cut to it (to date).

    >>> from kpi_helpers.core import Calendar, Month
    >>> ps = periods_asked(Calendar(11), "quarter", Month.parse("2026-01"), 2,
    ...                    Month.parse("2025-12"))
    >>> [(p.label, p.status) for p in ps]
    [('FY2025-Q4', ''), ('FY2026-Q1', 'to date (2 of 3 months)')]
    """
    out = cal.periods_ending(kind, month, n)
    return [p.cut(through) if p.last > through else p for p in out]


def period_targets(ds: Dataset, chosen: list[KPI], periods: list[Period]) -> pd.DataFrame:
    """(scope_type, scope, mi = position in ``periods``, kpi, target): a flow's target is
    the sum of its months' targets (months with data; each must have one, else none), a
    state's or ratio's the target of the period's last month with data (KPI_CATALOG.md,
    "Periods")."""
    months = [m for p in periods for m in p.months()]
    t = targets(ds, months)
    kinds = {k.id: k.kind for k in chosen}
    t = t[t["kpi"].isin(list(kinds))]
    if t.empty:
        return t
    where = {m.index: j for j, p in enumerate(periods) for m in p.months()}
    need = {j: p.months_with_data for j, p in enumerate(periods)}
    ends = {p.through.index for p in periods}
    t = t.assign(j=t["mi"].map(where))
    flow = t["kpi"].map(kinds) == Kind.FLOW
    g = t[flow].groupby(["scope_type", "scope", "j", "kpi"])["target"].agg(["sum", "count"])
    g = g[g["count"].to_numpy() == [need[j] for j in g.index.get_level_values("j")]]
    g = g.reset_index()
    flows = g.rename(columns={"sum": "target"})[["scope_type", "scope", "j", "kpi", "target"]]
    last = t[~flow & t["mi"].isin(ends)][["scope_type", "scope", "j", "kpi", "target"]]
    out = pd.concat([flows, last], ignore_index=True).rename(columns={"j": "mi"})
    return out.astype({"mi": "int64"})


def _period_tidy(
    engine: Engine,
    chosen: list[KPI],
    month: Month,
    n: int,
    scopes: list[Scope],
    kind: str,
) -> pd.DataFrame:
    ds = engine.ds
    cal = Calendar(engine.cfg.fiscal_year_start)
    periods = periods_asked(cal, kind, month, n, data_months(ds)[1])
    long = engine.period_values(chosen, periods, scopes)
    teams = rep_teams(ds)
    for sc in scopes:
        check_known(sc, teams, seen=[x for k, x in engine.rows if k == sc.kind])
    tidy = add_comparisons(long, chosen, period_targets(ds, chosen, periods), engine.cfg)
    j = tidy["mi"].to_numpy()
    tidy["month"] = np.array([str(p.through) for p in periods], dtype=object)[j]
    tidy["period"] = np.array([p.label for p in periods], dtype=object)[j]
    tidy["period_start"] = np.array([p.start for p in periods], dtype=object)[j]
    tidy["period_end"] = np.array([p.end for p in periods], dtype=object)[j]
    tidy["to_date"] = np.array([p.to_date for p in periods], dtype=bool)[j]
    return tidy[TIDY_COLUMNS].reset_index(drop=True)
