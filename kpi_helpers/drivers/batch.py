"""The pack's drivers: many KPIs for many scopes and bases at once (``explain_many``),
each explained as :func:`kpi_helpers.drivers.explain` explains one, its measures read
once (``drivers.readers.Batch``, or ``PeriodBatch`` for a quarter or a year).
"""

from __future__ import annotations

import pandas as pd

from kpi_helpers.catalog import get
from kpi_helpers.core import Config, KitError
from kpi_helpers.data import Dataset, check_month, month_asked, period_with_data
from kpi_helpers.metrics import check_scope, compute_tidy, one_scope

from .explain import PAIRS, Explanation, explain_one, formula_kpi
from .readers import Batch, PeriodBatch


def explain_many(
    ds: Dataset,
    kpis: list[str],
    scopes: list[str],
    month: str = "latest",
    bases: tuple[str, ...] = ("previous",),
    config: Config | None = None,
    pairs: str = "all",
    rows: pd.DataFrame | None = None,
    period: str = "month",
) -> dict[tuple[str, str, str], Explanation]:
    """The drivers of many KPIs for many scopes and bases at once, as :func:`explain`
    gives each (default dimensions), keyed by (kpi, scope, base): the pack's "why it
    moved". The measures are read once: per team and rep from the engine's cache, and
    per segment in one split query per source for every KPI that splits by the same
    dimensions (not one per KPI and scope). KPIs without an exact bridge (medians,
    growth, models) are split by team and rep only; table and model KPIs are left out.
    ``rows``: the tidy KPI rows of the month (or period) for these scopes when already
    computed. ``period`` "quarter" or "year": the period holding ``month`` against the
    previous one and the same one a year before (``drivers.readers.span_of``).

    Example: ``explain_many(ds, ["win_rate"], ["company", "team:EMEA"], "2026-05")
    [("win_rate", "team:EMEA", "previous")].text``.
    """
    cfg = config or Config()
    bad = [b for b in bases if b not in ("previous", "year")]
    if bad or pairs not in PAIRS:
        raise KitError(f"explain_many takes the bases previous and year and pairs {PAIRS}.")
    m = month_asked(ds, month)
    check_month(ds, m)
    if period != "month":  # a period's rows carry its last month with data
        m = period_with_data(ds, m, period, cfg.fiscal_year_start).through
    scs = [check_scope(ds, one_scope(s, "A pack's drivers")) for s in scopes]
    ks = list({k.id: k for k in (get(x) for x in kpis) if k.formula is not None}.values())
    ks = [formula_kpi(k.id) for k in ks]
    if rows is None:
        rows = compute_tidy(ds, str(m), 1, scs, [k.id for k in ks], config=cfg, period=period)
    rows = rows[rows["month"] == str(m)] if "month" in rows.columns else rows
    if period == "month":
        first = m - (12 if "year" in bases else 1)
        batch: Batch = Batch(ds, cfg, ks, scs, first, m)
    else:
        batch = PeriodBatch(ds, cfg, ks, scs, m, period, tuple(bases))
    out = {}
    for k in ks:
        for sc in scs:
            for base in bases:
                e = explain_one(batch, rows, k, sc, m, base, None, pairs)
                out[(k.id, str(sc), base)] = e
    return out
