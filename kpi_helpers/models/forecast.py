"""Statistical forecasts of a KPI's monthly series (the catalog's ``revenue_forecast``).

The next ``horizon`` months of a series with an 80 % prediction interval, from
exponential smoothing (statsmodels' ``ETSModel``, additive errors), the model chosen
by AICc among:

- trend: none (N), additive (A) or damped additive (Ad);
- season (period 12): none (N), additive (A), or multiplicative (M) when every value
  is strictly positive; a season only with 24 months of history or more.

ETS models are tried with 10 months of history or more (the heuristic start values
need 10 months, two years with a season). Initial states come from that heuristic (a
classical decomposition of the first years); the smoothing parameters are estimated by
maximum likelihood. The series is divided by its mean absolute value before fitting
(AICc ranks the models the same; the optimiser behaves better on numbers near 1).

Every fit is guarded: an exception, a convergence warning, a failed optimiser or a
non-finite AICc, forecast or interval rejects that model. When none is left:

- *seasonal naive* (the value of the same month a year before) with 24 months or
  more (no season is fitted below that, and from there its residuals y(t) - y(t-12)
  cover at least a whole year);
- *naive* (the last value) otherwise.

Intervals of the naive methods use a normal approximation (not the residuals'
empirical quantiles: a short history has too few residuals for a 10 % quantile):
sigma is the root mean square of the one-step residuals (y(t) - y(t-1), or
y(t) - y(t-12)), and the h-step standard deviation is sigma x sqrt(h) for naive,
sigma x sqrt(floor((h-1)/12) + 1) for seasonal naive (so its interval is as wide for
h = 1..12); one month of history has no residual and no interval (``lower`` and
``upper`` empty). ETS intervals are the model's closed form, or 1,000 simulated paths
(fixed seed) where there is none (a multiplicative season). An interval always
contains its forecast.

Example (``forecast_kpi`` from ``kpi_helpers.models``)::

    forecast_kpi(ds, "sales_revenue", "2026-10", scope="team:EMEA")
    #      month  forecast  lower  upper        method
    # 0  2026-11   ...
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist

import numpy as np
import pandas as pd

from kpi_helpers.catalog import get
from kpi_helpers.core import Config, KitError, Month, NotAvailable, month_index
from kpi_helpers.data import Dataset, data_months, month_asked
from kpi_helpers.metrics import Scope, compute_tidy, one_scope

from .pipeline_forecast import PER_STAGE, pipeline_forecast

COLUMNS = ["month", "forecast", "lower", "upper", "method"]
LEVEL = 0.8  # 80 % prediction intervals
SEASON = 12  # months in a seasonal cycle
MIN_SEASONAL = 24  # months of history before a season is tried (and seasonal naive used)
MIN_ETS = 10  # months of history before any ETS model is tried
MAX_HORIZON = 24
SIMULATIONS = 1000  # paths for the intervals without a closed form


def forecast_series(series: pd.Series, horizon: int = 3) -> pd.DataFrame:
    """Forecast the ``horizon`` months after a monthly ``series``, with 80 % intervals.

    ``series`` is indexed by month ("YYYY-MM" text, ``pd.Period`` or timestamps), one
    value per consecutive month, no gaps (see :func:`prepare_history` for raw KPI series).
    Returns one row per future month: ``month`` ("YYYY-MM"), ``forecast``, ``lower``,
    ``upper`` (the 10 % and 90 % quantiles) and ``method`` ("ETS(A,Ad,M)": additive
    errors, damped trend, multiplicative season; "seasonal naive"; "naive"). The frame's
    ``attrs["candidates"]`` gives each model tried with its AICc or why it was rejected.

    Model: the ETS model of lowest AICc = AIC + 2k(k+1)/(n-k-1), where AIC = -2 log L +
    2k, k the estimated parameters and n the months; see the module docstring for the
    candidates and the fallbacks.

    >>> s = pd.Series([10.0, 12, 11, 13, 12], index=["2026-01", "2026-02", "2026-03",
    ...                                               "2026-04", "2026-05"])
    >>> forecast_series(s, horizon=2)[["month", "forecast", "method"]]
         month  forecast method
    0  2026-06      12.0  naive
    1  2026-07      12.0  naive
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
        raise KitError(f"The forecast horizon must be a whole number of months, not {horizon!r}.")
    if not 1 <= horizon <= MAX_HORIZON:
        raise KitError(f"The forecast horizon must be 1 to {MAX_HORIZON} months, not {horizon}.")
    months = _month_index(series)
    y = pd.to_numeric(pd.Series(series.to_numpy()), errors="coerce").to_numpy(dtype="float64")
    if len(y) == 0:
        raise KitError("There is no history to forecast from: the series is empty.")
    if not np.isfinite(y).all():
        raise KitError(
            "The series to forecast has missing or infinite values; fill them first "
            "(forecast_kpi does: see prepare_history)."
        )
    future = [str(Month(months[-1] + h)) for h in range(1, horizon + 1)]
    candidates: dict[str, str] = {}
    fit = _best_ets(y, months[0], horizon, candidates)
    if fit is None:
        fit = _naive(y, horizon, seasonal=len(y) >= MIN_SEASONAL)
    method, mean, lower, upper = fit
    out = pd.DataFrame(
        {
            "month": pd.Series(future, dtype="str"),
            "forecast": mean,
            "lower": np.minimum(lower, mean),
            "upper": np.maximum(upper, mean),
            "method": pd.Series([method] * horizon, dtype="str"),
        }
    )
    out.attrs["candidates"] = candidates
    return out


def forecast_kpi(
    ds: Dataset,
    kpi: str,
    month: str,
    scope: str = "company",
    horizon: int = 3,
    config: Config | None = None,
) -> pd.DataFrame:
    """Forecast the ``horizon`` months after ``month`` ("YYYY-MM" or "latest") of a scalar
    KPI for one scope (``company``, ``team:NAME`` or ``rep:ID``), from its monthly series
    from the dataset's first month through ``month`` (``kpis.series``); columns as
    :func:`forecast_series`. The history is prepared by :func:`prepare_history`.

    Example: ``forecast_kpi(ds, "new_leads", "2026-10", scope="rep:R00003", horizon=6)``.
    """
    one_scope(scope, "A forecast")  # the engine checks that the team or rep exists
    k = get(kpi)
    if k.is_table:
        raise KitError(f"{kpi} is a table KPI: only KPIs with one value per month forecast.")
    if k.is_model:
        return model_forecast(ds, k.id, month, scope, config)
    last = month_asked(ds, month)
    first = data_months(ds)[0]
    found = histories(ds, [k.id], scope, first, last, config)[k.id]
    if isinstance(found, KitError):
        raise found
    return forecast_series(found, horizon)


# what ``kpi-kit forecast`` points at for the model KPIs that are no monthly series
NOT_SERIES = {
    "revenue_forecast": "it is the forecast of sales_revenue: use --kpi sales_revenue",
    "predictive_clv": "it is a model's value, not a monthly series: kpi-kit clv fits it",
}


def model_forecast(
    ds: Dataset, kpi: str, month: str, scope: str = "company", config: Config | None = None
) -> pd.DataFrame:
    """``bookings_forecast`` as :func:`forecast_kpi` gives it: one row for m+1 (the
    pipeline forecasts the month after ``month`` only), with the value, status and reason
    the pack stores (:func:`.pipeline_forecast.pipeline_forecast`): a KitError
    (NotAvailable) with that reason when it has no value, never 0. The other model KPIs
    are no monthly series: a KitError says what to use.

    Example: ``model_forecast(ds, "bookings_forecast", "2026-10")`` -> month 2026-11,
    forecast 412000.0, method "pipeline-weighted (win rate 38 %)".
    """
    if kpi in NOT_SERIES:
        raise KitError(f"{kpi} cannot be forecast: {NOT_SERIES[kpi]}.")
    p = pipeline_forecast(ds, month, scope, config)
    if p["status"] != "ok":
        error = NotAvailable if p["status"] == "not_available" else KitError
        what = p["status"].replace("_", " ")
        raise error(f"{kpi} is {what} for {scope} in {p['as_of']}: {p['reason']}.")
    rate = (
        f" (win rate {p['win_rate']:.0%}, {p['win_rate_basis']})"
        if p["win_rate"] is not None
        else ""
    )
    if p["win_rate_basis"] == PER_STAGE:
        rate = " (per-stage win rates)"
    return pd.DataFrame(
        {
            "month": pd.Series([p["month"]], dtype="str"),
            "forecast": [float(p["value"])],
            "lower": [np.nan],
            "upper": [np.nan],
            "method": pd.Series([f"pipeline-weighted{rate}"], dtype="str"),
        }
    )


def histories(
    ds: Dataset,
    kpis: list[str],
    scope: str,
    first: Month,
    last: Month,
    config: Config | None = None,
) -> dict[str, pd.Series | KitError]:
    """The monthly values of each of ``kpis`` for ``scope`` over ``first..last``, made
    ready to forecast (:func:`prepare_history`), from one computation; a KPI that cannot
    be forecast maps to the KitError that says why."""
    n = last.index - first.index + 1
    if Scope.parse(scope).kind in ("company", "team"):
        _measure_model_scopes(ds, kpis, last, n, config)
    tidy = compute_tidy(ds, str(last), n, [Scope.parse(scope)], kpis, config=config)
    out: dict[str, pd.Series | KitError] = {}
    for kpi in kpis:
        rows = tidy[tidy["kpi"] == kpi]
        if len(rows) and (rows["status"] == "not_available").all():
            out[kpi] = NotAvailable(f"{kpi} is not available: {rows['reason'].iloc[-1]}.")
            continue
        try:
            series = rows.set_index("month")["value"].rename(kpi)
            out[kpi] = prepare_history(series, first, last, scope)
        except KitError as exc:
            out[kpi] = exc
    return out


def _measure_model_scopes(
    ds: Dataset, kpis: list[str], last: Month, n: int, config: Config | None
) -> None:
    """The measures of ``kpis`` for the company and every team (the scopes the outlook
    fits), computed once in one pass and kept by the engine on the dataset, so that each
    scope's :func:`histories` reads them instead of querying the data again."""
    key = ("model_scope_measures", last.index, n, tuple(kpis))
    if key in ds.cache:
        return
    try:
        compute_tidy(ds, str(last), n, [Scope("company"), Scope("team")], kpis, config=config)
    except KitError:  # e.g. no teams: each scope then says why on its own
        pass
    ds.cache[key] = True


def prepare_history(series: pd.Series, first: Month, last: Month, scope: str = "") -> pd.Series:
    """A KPI series made ready to forecast: every month ``first..last``, no missing value.

    - months before the first value (before the data starts, or before a rep's first
      month) are dropped;
    - undefined months inside the history (a zero denominator, or a month the engine
      leaves out for a rep who was not employed and recorded nothing) are filled by
      linear interpolation between the months around them;
    - the last month must have a value for a rep (a rep not active in ``last`` has
      nothing to forecast); an undefined last month carries the last value forward.

    >>> s = pd.Series([np.nan, 4.0, np.nan, 8.0, np.nan],
    ...               index=["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"])
    >>> prepare_history(s, Month.parse("2026-01"), Month.parse("2026-05")).tolist()
    [4.0, 6.0, 8.0, 8.0]
    """
    index = [str(m) for m in (Month(i) for i in range(first.index, last.index + 1))]
    if scope.startswith("rep:") and str(last) not in series.index:
        raise KitError(
            f"{scope} is not active in {last} (not employed and nothing recorded): "
            "nothing to forecast."
        )
    s = pd.to_numeric(series.reindex(index), errors="coerce").astype("float64")
    defined = s.notna().to_numpy()
    if not defined.any():
        name = series.name or "The KPI"
        raise KitError(f"{name} has no value up to {last}: nothing to forecast.")
    s = s.iloc[int(np.argmax(defined)) :]
    return s.interpolate(method="linear", limit_area="inside").ffill()


# ---------------------------------------------------------------------------- models


def _month_index(series: pd.Series) -> list[int]:
    """The kit's month indexes of ``series``' index; consecutive months or a KitError."""
    idx = series.index
    if isinstance(idx, pd.PeriodIndex):
        months = [month_index(p.year, p.month) for p in idx]
    elif isinstance(idx, pd.DatetimeIndex):
        months = [month_index(t.year, t.month) for t in idx]
    else:
        months = [Month.parse(str(x)).index for x in idx]
    if any(b - a != 1 for a, b in zip(months, months[1:], strict=False)):
        raise KitError("The series to forecast must hold consecutive months, in order, once each.")
    return months


def _candidates(y: np.ndarray) -> list[tuple[str | None, bool, str | None]]:
    """(trend, damped, season) of the ETS models to try on ``y``."""
    if len(y) < MIN_ETS:
        return []
    trends = [(None, False), ("add", False), ("add", True)]
    seasons: list[str | None] = [None]
    if len(y) >= MIN_SEASONAL:
        seasons.append("add")
        if (y > 0).all():
            seasons.append("mul")
    return [(t, d, s) for s in seasons for t, d in trends]


def ets_name(trend: str | None, damped: bool, season: str | None) -> str:
    """The usual ETS(error, trend, season) label of an additive-error model.

    >>> ets_name("add", True, "mul")
    'ETS(A,Ad,M)'
    """
    t = "N" if trend is None else "Ad" if damped else "A"
    s = {None: "N", "add": "A", "mul": "M"}[season]
    return f"ETS(A,{t},{s})"


def _best_ets(
    y: np.ndarray, first: int, horizon: int, candidates: dict[str, str]
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray] | None:
    """The forecast of the ETS model of lowest AICc, or None when none fits."""
    # statsmodels loads only when a model is fitted
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    scale = float(np.mean(np.abs(y)))
    if scale == 0 or not math.isfinite(scale):
        return None
    start = Month(first).start
    endog = pd.Series(y / scale, index=pd.date_range(start, periods=len(y), freq="MS"))
    fitted = []  # (AICc, name, result): the fits that converged
    for trend, damped, season in _candidates(y):
        name = ets_name(trend, damped, season)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = ETSModel(
                    endog,
                    error="add",
                    trend=trend,
                    damped_trend=damped,
                    seasonal=season,
                    seasonal_periods=SEASON if season else None,
                    initialization_method="heuristic",
                )
                res = model.fit(disp=False)
        except Exception as exc:  # a model that cannot be fitted is one candidate less
            candidates[name] = f"failed: {type(exc).__name__}: {exc}"
            continue
        trouble = [str(w.message) for w in caught if _is_fit_warning(w)]
        retvals = getattr(res, "mle_retvals", None) or {}
        if trouble or retvals.get("converged") is False:
            candidates[name] = "did not converge" + (f": {trouble[0]}" if trouble else "")
            continue
        aicc = float(res.aicc)
        if not math.isfinite(aicc):
            candidates[name] = "non-finite AICc, forecast or interval"
            continue
        candidates[name] = f"AICc {aicc:.2f}"
        fitted.append((aicc, len(fitted), name, res))
    # the forecast (1,000 simulated paths where there is no closed form) of the best
    # model only, the next best where it fails or is not finite
    for _, _, name, res in sorted(fitted, key=lambda f: f[:2]):
        forecast = _ets_forecast(res, len(y), horizon, scale)
        if not isinstance(forecast, str):
            return (name, *forecast)
        candidates[name] = forecast
    return None


def _ets_forecast(
    res: object, n: int, horizon: int, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | str:
    """Mean, lower and upper of a fitted ETS model's next ``horizon`` values (x ``scale``),
    or why the model is rejected: the prediction fails, warns (as a fit would) or is not
    finite."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pred = res.get_prediction(
                start=n,
                end=n + horizon - 1,
                simulate_repetitions=SIMULATIONS,
                rng=np.random.default_rng(0),
            ).summary_frame(alpha=1 - LEVEL)
    except Exception as exc:  # noqa: BLE001 - a model that cannot forecast is one less
        return f"failed: {type(exc).__name__}: {exc}"
    trouble = [str(w.message) for w in caught if _is_fit_warning(w)]
    if trouble:
        return f"did not converge: {trouble[0]}"
    mean = pred["mean"].to_numpy(dtype="float64") * scale
    lower = pred["pi_lower"].to_numpy(dtype="float64") * scale
    upper = pred["pi_upper"].to_numpy(dtype="float64") * scale
    if not np.isfinite([mean, lower, upper]).all():
        return "non-finite AICc, forecast or interval"
    return mean, lower, upper


def _is_fit_warning(w: warnings.WarningMessage) -> bool:
    """Warnings that say a fit is not to be trusted (convergence, numerical trouble)."""
    # statsmodels loads only when a model is fitted
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    return issubclass(w.category, (ConvergenceWarning, RuntimeWarning))


def _naive(
    y: np.ndarray, horizon: int, seasonal: bool
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Naive or seasonal naive forecast with normal-approximation 80 % intervals."""
    h = np.arange(1, horizon + 1)
    if seasonal:
        lag = SEASON
        mean = y[len(y) - lag + (h - 1) % lag]
        steps = np.sqrt((h - 1) // lag + 1)
    else:
        lag = 1
        mean = np.full(horizon, y[-1])
        steps = np.sqrt(h)
    resid = y[lag:] - y[:-lag]
    sigma = float(np.sqrt(np.mean(resid**2))) if len(resid) else math.nan
    half = NormalDist().inv_cdf(0.5 + LEVEL / 2) * sigma * steps
    method = "seasonal naive" if seasonal else "naive"
    return method, mean.astype("float64"), mean - half, mean + half
