"""The analyst API: compute KPIs for months and scopes into one tidy DataFrame.

Example::

    from kpi_helpers.data import open_dataset
    from kpi_helpers import kpis
    ds = open_dataset("data/sample")
    kpis.compute(ds, "2026-05", scope="team", families=["pipeline"])
    kpis.compute(ds, "2026-05", months=13, scope=["company", "team", "rep:r001"])
    kpis.series(ds, "win_rate", scope="team:EMEA", start="2025-06", end="2026-05")
    kpis.table(ds, "pipeline_health", "2026-05", scope="team:EMEA")

Every scope of every requested scope type and every month is computed in grouped
queries (``kpi_helpers.metrics.measures``, driven by ``kpi_helpers.metrics.engine``): no Python loop
over teams or months touches the data. Measures are kept on the dataset, so later
calls on the same ``ds`` (other scopes, table KPIs) reuse them.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from kpi_helpers.catalog import CATALOG, get, select
from kpi_helpers.core import Config, KitError, Month
from kpi_helpers.data import Dataset, data_months, month_asked, period_with_data
from kpi_helpers.metrics import (
    TIDY_COLUMNS,
    Scope,
    compute_table,
    compute_tidy,
    one_scope,
    parse_scopes,
)

__all__ = ["TIDY_COLUMNS", "Scope", "compute", "data_months", "series", "table"]

# a formula KPI whose rows give the (month, scope) grid when only model KPIs are asked for
SKELETON = next(k.id for k in CATALOG if k.formula is not None)


def compute(
    ds: Dataset,
    month: str,
    months: int = 1,
    scope: str | Scope | Iterable[str | Scope] = "company",
    kpis: list[str] | None = None,
    families: list[str] | None = None,
    config: Config | None = None,
    period: str = "month",
) -> pd.DataFrame:
    """KPIs for the ``months`` months ending with ``month`` ("YYYY-MM", or "latest" for the
    dataset's last month), one row per month x scope x KPI. With ``period="quarter"``
    (or ``"year"``): the ``months`` fiscal quarters (years, of ``config.fiscal_year_start``)
    ending with the one that holds ``month``, each computed over its months (a ratio from
    the quarter's numerator and denominator, a state at its end; KPI_CATALOG.md
    "Periods"), e.g. ``compute(ds, "2026-01", 4, period="quarter", config=cfg)``.

    ``scope`` is ``company``, ``team``, ``rep``, ``all``, ``team:NAME``, ``rep:ID`` or a
    list of those (``["company", "team", "rep:r001"]``), computed in one pass; a named
    scope reads only its own rows.

    Columns: ``month, period, period_start, period_end, to_date, scope_type, scope, kpi,
    value, unit, status, reason, previous_month, mom_change, change_unit,
    same_month_last_year, yoy_change, target, attainment, rag, trend, better`` (for a
    quarter, ``previous_month`` and ``mom_change`` are against the previous quarter and
    ``month`` is its last month with data). ``status`` is ``ok``, ``undefined`` (a zero
    denominator) or
    ``not_available`` (``reason`` names the missing input). ``mom_change``/``yoy_change``
    are percentage points for percent KPIs (``change_unit`` "pp") and relative changes in
    % otherwise, e.g. win rate 50 % after 40 %: mom_change 10 (pp). Table KPIs are
    skipped here: use :func:`table`. The outlook KPIs (``revenue_forecast``,
    ``bookings_forecast``, ``predictive_clv``) come from fitted models, for the month asked
    for and the company and teams (:mod:`kpi_helpers.models.outlook`).
    """
    if config is not None:
        ds.check_timezone(config.timezone)
    scopes = parse_scopes(scope)
    chosen = [k for k in select(kpis, families) if not k.is_table]
    models = [k for k in chosen if k.is_model]
    if not models:
        return compute_tidy(ds, month, months, scopes, kpis, families, config, period)
    formulas = [k.id for k in chosen if not k.is_model]
    # the (month, scope) rows the model KPIs get: those the formula KPIs get
    tidy = compute_tidy(ds, month, months, scopes, formulas or [SKELETON], None, config, period)
    base = tidy
    if not formulas:
        tidy = tidy.iloc[:0]
    last = Month.parse(base["month"].max())
    from kpi_helpers.models import model_rows  # the models (scipy) only when one is asked

    rows = model_rows(ds, models, base, last, config or Config())
    # a model's value is that of the period's last month with data (kind as_of)
    spans = ["period", "period_start", "period_end", "to_date"]
    rows = rows.join(base.drop_duplicates("month").set_index("month")[spans], on="month")
    meta = {k.id: k for k in models}
    rows["unit"] = rows["kpi"].map(lambda x: meta[x].unit)
    rows["better"] = rows["kpi"].map(lambda x: meta[x].better)
    rows["change_unit"] = "%"
    rows["trend"] = rows["rag"] = ""
    out = pd.concat([tidy, rows], ignore_index=True)[TIDY_COLUMNS] if len(tidy) else rows
    # the engine's order: month, scope type, scope, then KPI in the order asked for
    keys = list(zip(base["scope_type"], base["scope"], strict=True))
    place = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    rank = {k.id: i for i, k in enumerate(chosen)}
    order = pd.DataFrame(
        {
            "m": out["month"],
            "s": [
                place.get(k, len(place)) for k in zip(out["scope_type"], out["scope"], strict=True)
            ],
            "k": out["kpi"].map(rank),
        }
    ).sort_values(["m", "s", "k"], kind="stable")
    return out.loc[order.index].reindex(columns=TIDY_COLUMNS).reset_index(drop=True)


def series(
    ds: Dataset,
    kpi: str,
    scope: str = "company",
    start: str | None = None,
    end: str | None = None,
    config: Config | None = None,
) -> pd.Series:
    """One KPI as a monthly series (index: "YYYY-MM") for one scope; NaN where undefined or
    before the data starts.

    ``scope`` is ``company``, ``team:NAME`` or ``rep:ID``; ``start``/``end`` default to
    the dataset's first and last month, e.g. ``series(ds, "win_rate", "team:EMEA")``.
    """
    sc = one_scope(scope, "series()")
    lo, hi = data_months(ds)
    first = Month.parse(start) if start else lo
    last = Month.parse(end) if end else hi
    df = compute(
        ds, str(last), months=last.index - first.index + 1, scope=sc, kpis=[kpi], config=config
    )
    if df.empty:  # a rep employed in none of these months and with nothing recorded
        raise KitError(f"{scope} has no {kpi} value from {first} to {last}.")
    na = df[df["status"] == "not_available"]
    if len(na) == len(df):  # months before the data alone are NaN, like undefined ones
        raise KitError(f"{kpi} is not available: {na['reason'].iloc[-1]}.")
    return df.set_index("month")["value"].rename(df["kpi"].iloc[0])


def table(
    ds: Dataset,
    kpi: str,
    month: str,
    scope: str = "company",
    config: Config | None = None,
    period: str = "month",
) -> pd.DataFrame:
    """A table KPI (pipeline_health, funnel, ...) for one month and one scope, e.g.
    ``table(ds, "pipeline_health", "2026-05", scope="team:EMEA")``; ``period="quarter"``
    (or ``"year"``): the tables of events (funnel, leaderboard, products...) cover the
    months of the quarter holding ``month``, the others (the model tables too: forecasts,
    pipeline_outlook, clv_accounts) are as of its last month with data."""
    from kpi_helpers.models import MODEL_TABLES, model_table  # as in compute()

    cfg = config or Config()
    ds.check_timezone(cfg.timezone)
    if get(kpi).table in MODEL_TABLES:
        if period != "month":  # as of the period's last month with data, as the others
            m = period_with_data(ds, month_asked(ds, month), period, cfg.fiscal_year_start)
            month = str(m.through)
        return model_table(ds, kpi, month, scope, cfg)
    return compute_table(ds, kpi, month, scope, cfg, period)
