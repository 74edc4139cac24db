"""The next quarter's (or fiscal year's) forecast of a flow KPI: the sum of its monthly
forecasts, with an 80 % interval from the summed simulated paths (never the sum of the
monthly bounds, which is too wide: the months' errors do not all fall the same way).

Example::

    period_forecast(ds, "sales_revenue", "2026-11", "quarter")   # the quarter after Q4
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_helpers.catalog import Kind, get
from kpi_helpers.core import Calendar, Config, KitError, Month
from kpi_helpers.data import Dataset, data_months, month_asked
from kpi_helpers.metrics import one_scope

from .forecast import MAX_HORIZON, forecast_paths, forecast_series, histories

PERIOD_COLUMNS = ["kpi", "scope", "period", "period_start", "period_end", "forecast", "lower",
                  "upper", "paths_mean", "method", "months_ahead"]  # fmt: skip


def period_total(
    series: pd.Series, kind: str, calendar: Calendar, *, never_negative: bool = False
) -> dict:
    """The forecast of the next ``kind`` ("quarter", "year") after the one holding the
    last month of the monthly ``series`` (index "YYYY-MM", consecutive months): the sum
    of :func:`forecast_series`'s point forecasts over its months (``forecast``), and the
    10th and 90th percentiles of the sum of :func:`forecast_paths`' simulated paths over
    the same months (``lower``, ``upper``; ``paths_mean`` is their mean). The months
    before it (the rest of the current period) are forecast too but not summed.

    >>> s = pd.Series([10.0, 12, 11, 13, 12], index=["2026-01", "2026-02", "2026-03",
    ...                                               "2026-04", "2026-05"])
    >>> t = period_total(s, "quarter", Calendar())
    >>> t["period"], t["forecast"], t["months_ahead"]
    ('2026-Q3', 36.0, 4)
    """
    last = Month.parse(str(series.index[-1]))
    now = calendar.period(kind, last)
    nxt = calendar.period(kind, now.last + 1)
    horizon = nxt.last.index - last.index
    if horizon > MAX_HORIZON:
        raise KitError(
            f"The {kind} after {now.label} ends {horizon} months after {last}: forecasts "
            f"reach {MAX_HORIZON} months; use an earlier --period or --month."
        )
    point = forecast_series(series, horizon, never_negative=never_negative)
    method, paths = forecast_paths(series, horizon, str(point["method"].iloc[0]))
    if never_negative:
        paths = np.maximum(paths, 0.0)
    within = slice(horizon - nxt.n_months, horizon)  # the next period's months
    total = paths[:, within].sum(axis=1)
    return dict(
        period=nxt.label,
        period_start=str(nxt.first),
        period_end=str(nxt.last),
        forecast=float(point["forecast"].iloc[within].sum()),
        lower=float(np.quantile(total, 0.1)),
        upper=float(np.quantile(total, 0.9)),
        paths_mean=float(total.mean()),
        method=method,
        months_ahead=horizon,
    )


def period_forecast(
    ds: Dataset,
    kpi: str,
    month: str,
    kind: str = "quarter",
    scope: str = "company",
    config: Config | None = None,
) -> pd.DataFrame:
    """One row (:data:`PERIOD_COLUMNS`): the forecast of a flow KPI (revenue, bookings,
    deals won...) for the ``kind`` after the one holding ``month`` (YYYY-MM or latest,
    the last month of history), from :func:`period_total`. Only flows add up over months.

    Example: ``period_forecast(ds, "sales_revenue", "2026-11", "quarter", "team:EMEA")``.
    """
    cfg = config or Config()
    one_scope(scope, "A forecast")
    k = get(kpi)
    if k.kind != Kind.FLOW or k.is_model or k.is_table:
        raise KitError(
            f"--period {kind}: {kpi} does not add up over months (a {k.kind} KPI); a "
            "period's forecast sums the monthly forecasts of a flow, e.g. --kpi sales_revenue "
            "or monthly_sales_bookings (kpi-kit forecast without --period forecasts months)."
        )
    last = month_asked(ds, month)
    found = histories(ds, [k.id], scope, data_months(ds)[0], last, cfg)[k.id]
    if isinstance(found, KitError):
        raise found
    total = period_total(
        found, kind, Calendar(cfg.fiscal_year_start), never_negative=k.never_negative
    )
    return pd.DataFrame([dict(kpi=k.id, scope=scope, **total)], columns=PERIOD_COLUMNS)
