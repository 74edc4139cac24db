"""Pacing: where the quarter of month m is heading (KPI_CATALOG.md, "To-date figures of a
month m").

pace = the quarter-to-date actual (the months of m's fiscal quarter through m) + the
forecast of each remaining month of the quarter:

- sales revenue: the ETS model of ``revenue_forecast`` (:func:`.forecast.forecast_series`
  on the revenue series, the model the pack's forecasts table names);
- bookings: the pipeline-weighted forecast for m+1 (:func:`.pipeline_forecast`), and
  beyond it the bookings series' own forecast (m+2 is its second month).

The 80 % interval comes from simulated paths of the remaining months, summed per path
(never the sum of the months' bounds): the series' model paths
(:func:`.forecast.forecast_paths`), and for the pipeline month which of the due deals
close (each with the historical win rate). When m is the quarter's last month the pace
is the actual. The quarter's target is the sum of its three monthly targets (none when
one month lacks one). Made for the company and each team, as the outlook models.

Example::

    pacing(ds, "2026-05", "company", cfg)
    # [{"kpi": "sales_revenue", "quarter": "2026-Q2", "actual": 3.4e6, "pace": 5.2e6,
    #   "lower": 4.8e6, "upper": 5.6e6, "target": 5.0e6, "below": False, ...}, ...]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kpi_helpers.catalog import PACED
from kpi_helpers.core import Calendar, Config, KitError, Month
from kpi_helpers.data import Dataset, data_months, month_asked
from kpi_helpers.metrics import COMPANY, Scope, targets

from .conformal import LEVEL
from .ets import SIMULATIONS
from .forecast import forecast_paths, histories
from .outlook import forecasts, pipeline

PACE_SCOPES = ("company", "team")


def quarter_pace(
    actual: float,
    forecast: list[float],
    paths: np.ndarray | None,
    target: float | None,
) -> dict:
    """The pace of a quarter from its to-date ``actual``, the point ``forecast`` of each
    remaining month and ``paths`` (simulations x remaining months) of those months.

    ``pace`` = actual + sum(forecast); ``lower``/``upper`` = actual + the 10 % and 90 %
    quantiles of the paths' sums (widened to hold the pace); ``below`` is True when the
    pace is under ``target`` and so is the interval's top (``pace_below`` alerts).

    >>> p = quarter_pace(100.0, [50.0], np.array([[40.0], [50.0], [60.0]]), 200.0)
    >>> p["pace"], p["lower"], p["upper"], p["below"]
    (150.0, 142.0, 158.0, True)
    >>> quarter_pace(100.0, [], None, 90.0)["pace"]
    100.0
    """
    pace = float(actual + sum(forecast))
    lower = upper = pace
    if forecast and paths is not None and len(paths):
        sums = np.asarray(paths, dtype="float64").sum(axis=1)
        lo, hi = np.quantile(sums, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        lower, upper = min(actual + float(lo), pace), max(actual + float(hi), pace)
    has_target = target is not None and math.isfinite(target)
    return dict(
        pace=pace,
        lower=lower,
        upper=upper,
        target=float(target) if has_target else None,
        attainment=pace / target * 100.0 if has_target and target else None,
        below=bool(has_target and pace < target and upper < target),
    )


def pacing(
    ds: Dataset, month: str, scope: str = "company", config: Config | None = None
) -> list[dict]:
    """The pace of each of ``PACED`` the data gives for the quarter of ``month`` (m), for
    the company or a team (see the module docstring). Each dict: ``key`` (the scope),
    ``kpi``, ``quarter`` (its label), ``months`` (months done, through m), ``of_months``
    (3), ``actual`` (QTD), ``rest`` (the remaining months' forecast), ``pace``,
    ``lower``, ``upper`` (80 %), ``target`` (None without all three months' targets),
    ``attainment``, ``below`` and ``method`` (the forecasts used, in words; "" when m
    ends the quarter). A KPI
    without a series, or whose quarter starts before its data, is left out; a rep gets
    ``[]`` (the models are fitted for the company and teams)."""
    cfg = config or Config()
    m = month_asked(ds, month)
    sc = Scope.parse(scope)
    if sc.kind not in PACE_SCOPES:
        return []
    quarter = Calendar(cfg.fiscal_year_start).to_date("quarter", m)
    first_month = data_months(ds)[0]
    if quarter.first < first_month:
        return []
    series = histories(ds, list(PACED), scope, first_month, m, cfg)
    remaining = quarter.last.index - m.index
    try:
        table = forecasts(ds, m, scope, cfg) if remaining else None
    except KitError:
        table = None
    goals = _quarter_targets(ds, quarter.all_months(), sc)
    out = []
    for kpi in PACED:
        s = series[kpi]
        if isinstance(s, KitError) or str(quarter.first) not in s.index:
            continue
        actual = float(s.loc[[str(x) for x in quarter.months()]].sum())
        made = _rest(ds, m, scope, cfg, kpi, s, remaining, table)
        if made is None:
            continue
        forecast, paths, method = made
        out.append(
            dict(
                key=scope,
                kpi=kpi,
                quarter=quarter.label,
                months=quarter.months_with_data,
                of_months=quarter.n_months,
                actual=actual,
                rest=float(sum(forecast)),
                method=method,
                **quarter_pace(actual, forecast, paths, goals.get(kpi)),
            )
        )
    return out


def _rest(
    ds: Dataset,
    m: Month,
    scope: str,
    cfg: Config,
    kpi: str,
    series: pd.Series,
    remaining: int,
    table: pd.DataFrame | None,
) -> tuple[list[float], np.ndarray | None, str] | None:
    """The point forecasts, simulated paths and method words of the remaining months;
    None when they cannot be made."""
    if remaining == 0:
        return [], None, ""
    rows = table[table["kpi"] == kpi] if table is not None else pd.DataFrame()
    if len(rows) < remaining:
        return None
    method = str(rows["method"].iloc[0])
    points = [float(v) for v in rows["forecast"].iloc[:remaining]]
    _, paths = forecast_paths(series, remaining, method)
    words = method
    if kpi == "monthly_sales_bookings":
        p = pipeline(ds, m, scope, cfg)
        if p["status"] == "ok" and p["win_rate"] is not None:
            rng = np.random.default_rng(1)
            amounts = np.asarray(p.get("due_amounts", []), dtype="float64")
            # each due deal closes won at its own stage's rate (pooled without a history)
            rates = np.asarray(p.get("due_win_rates", []), dtype="float64")
            won = rng.random((SIMULATIONS, len(amounts))) < rates
            paths = paths.copy()
            paths[:, 0] = won.astype("float64") @ amounts
            points[0] = float(p["value"])
            words = "pipeline-weighted next month" + (f", then {method}" if remaining > 1 else "")
    return points, paths, words


def _quarter_targets(ds: Dataset, months: list[Month], sc: Scope) -> dict[str, float]:
    """kpi -> the sum of the scope's targets of ``months``, for the KPIs that have one in
    every month."""
    t = targets(ds, months)
    name = COMPANY if sc.kind == "company" else sc.name
    t = t[(t["scope_type"] == sc.kind) & (t["scope"] == name)]
    out = {}
    for kpi, g in t.groupby("kpi"):
        if g["mi"].nunique() == len(months) and g["target"].notna().all():
            out[str(kpi)] = float(g["target"].sum())
    return out
