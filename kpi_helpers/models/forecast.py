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
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_helpers.catalog import get
from kpi_helpers.core import Config, KitError, Month, NotAvailable, file_sha, month_index, parts_sha
from kpi_helpers.data import Dataset, data_months, month_asked
from kpi_helpers.metrics import Scope, compute_tidy, one_scope

from .blas import one_blas_thread
from .conformal import MODEL_WIDEN, Backtest, interval_label, track_record
from .ets import (
    MIN_SEASONAL,
    SEASON,
    SIMULATIONS,
    Z,
    backtest,
    best_ets,
    ets_form,
    monthly_endog,
    naive_forecast,
    steady,
)
from .pipeline_forecast import PER_STAGE, pipeline_forecast

# the interval's making (``interval``) and the track record of the series' one-month-ahead
# forecasts (held, origins, coverage %, MAPE %: the same on every row of a series)
TRACK = ["track_held", "track_origins", "track_coverage", "track_mape"]
COLUMNS = ["month", "forecast", "lower", "upper", "method", "interval", *TRACK]
MAX_HORIZON = 24


def forecast_series(
    series: pd.Series, horizon: int = 3, *, never_negative: bool = False
) -> pd.DataFrame:
    """Forecast the ``horizon`` months after a monthly ``series``, with 80 % intervals.

    ``series`` is indexed by month ("YYYY-MM" text, ``pd.Period`` or timestamps), one
    value per consecutive month, no gaps (see :func:`prepare_history` for raw KPI series).
    Returns one row per future month (:data:`COLUMNS`): ``month`` ("YYYY-MM"),
    ``forecast``, ``lower``, ``upper`` (the 80 % interval), ``method`` ("ETS(A,Ad,M)":
    additive errors, damped trend, multiplicative season; "seasonal naive"; "naive"),
    ``interval`` ("conformal (14 windows)" or "model", see :func:`calibrate`) and the
    series' track record (``track_held`` of the last ``track_origins`` one-month-ahead
    forecasts inside their interval, ``track_coverage`` and ``track_mape`` in %).
    ``never_negative`` (a KPI that cannot be below 0, ``KPI.never_negative``) clips the
    forecasts and bounds at 0. The frame's ``attrs["candidates"]`` gives each model tried
    with its AICc or why it was rejected. A series forecast before (same values, first
    month and settings) comes from a cache, not a new fit.

    Model: the ETS model of lowest AICc = AIC + 2k(k+1)/(n-k-1), where AIC = -2 log L +
    2k, k the estimated parameters and n the months; see the module docstring for the
    candidates and the fallbacks.

    >>> s = pd.Series([10.0, 12, 11, 13, 12], index=["2026-01", "2026-02", "2026-03",
    ...                                               "2026-04", "2026-05"])
    >>> forecast_series(s, horizon=2)[["month", "forecast", "method", "interval"]]
         month  forecast method interval
    0  2026-06      12.0  naive    model
    1  2026-07      12.0  naive    model
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
        raise KitError(f"The forecast horizon must be a whole number of months, not {horizon!r}.")
    if not 1 <= horizon <= MAX_HORIZON:
        raise KitError(f"The forecast horizon must be 1 to {MAX_HORIZON} months, not {horizon}.")
    months = _month_index(series)
    y = model_values(series)
    if len(y) == 0:
        raise KitError("There is no history to forecast from: the series is empty.")
    if not np.isfinite(y).all():
        raise KitError(
            "The series to forecast has missing or infinite values; fill them first "
            "(forecast_kpi does: see prepare_history)."
        )
    key = fit_key(y, months[0], int(horizon), never_negative)
    kept = _remembered(key)
    if kept is not None:
        return kept
    future = [str(Month(months[-1] + h)) for h in range(1, horizon + 1)]
    candidates: dict[str, str] = {}
    with one_blas_thread():  # thousands of tiny operations: threads only wait
        fit = best_ets(y, months[0], horizon, candidates)
        if fit is None:
            fit = naive_forecast(y, horizon, seasonal=len(y) >= MIN_SEASONAL)
        method, mean, lower, upper, spec = fit
        bt = backtest(y, months[0], spec, horizon)
    floor = 0.0 if never_negative else None
    model_lower, model_upper = lower, upper
    lower, upper, how = calibrate(bt, mean, lower, upper)
    if floor is not None:
        clipped = (np.maximum(a, floor) for a in (mean, lower, upper, model_lower, model_upper))
        mean, lower, upper, model_lower, model_upper = clipped
    track = track_record(bt, Z, floor)
    out = pd.DataFrame(
        {
            "month": pd.Series(future, dtype="str"),
            "forecast": mean,
            "lower": np.minimum(lower, mean),
            "upper": np.maximum(upper, mean),
            "method": pd.Series([method] * horizon, dtype="str"),
            "interval": pd.Series(how, dtype="str"),
            "track_held": track["held"],
            "track_origins": track["origins"],
            "track_coverage": float(track["coverage"]),
            "track_mape": float(track["mape"]),
        }
    )
    out.attrs["candidates"] = candidates
    # the model's own bounds, before calibration (benchmarks/bench_forecast.py compares)
    out.attrs["model_bounds"] = (
        np.minimum(model_lower, mean).tolist(),
        np.maximum(model_upper, mean).tolist(),
    )
    _remember(key, out)
    return out.copy()


def calibrate(
    bt: Backtest, mean: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The 80 % bounds h = 1, 2, ... months ahead: the forecast +- the split-conformal
    half-width of the backtest's errors (:meth:`.conformal.Backtest.interval`: the
    h-step errors when there are
    ``MIN_WINDOWS`` (8) of them or more, else those of h = 1..3 pooled), else the
    model's own ``lower`` and ``upper`` widened ``MODEL_WIDEN`` (1.4) times around the
    forecast; and how each was made ("conformal (14 windows)", "conformal (15 pooled
    windows)", "model", or "none" without an interval). A conformal interval is never
    narrower than the one a month before it (the half-widths are a running maximum over
    h). See :mod:`.conformal` for why.

    Example: ``calibrate(backtest(y, first, spec, 3), mean, lower, upper)``.
    """
    lower, upper = lower.astype("float64").copy(), upper.astype("float64").copy()
    how, widest = [], 0.0
    for h in range(1, len(mean) + 1):
        q, windows, pooled = bt.interval(h)
        if math.isfinite(q):
            widest = max(widest, q)
            lower[h - 1], upper[h - 1] = mean[h - 1] - widest, mean[h - 1] + widest
            how.append(interval_label(windows, pooled))
        elif math.isfinite(lower[h - 1]):
            lower[h - 1] = mean[h - 1] - MODEL_WIDEN * (mean[h - 1] - lower[h - 1])
            upper[h - 1] = mean[h - 1] + MODEL_WIDEN * (upper[h - 1] - mean[h - 1])
            how.append("model")
        else:
            how.append("none")
    return lower, upper, how


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
    return forecast_series(found, horizon, never_negative=k.never_negative)


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
            "interval": pd.Series(["none"], dtype="str"),
            **{c: [np.nan] for c in TRACK},
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


def model_values(series: pd.Series) -> np.ndarray:
    """The values of ``series`` as every model and the fits' cache see them: numbers
    (NaN where not a number), rounded to 10 significant digits (:func:`.ets.steady`:
    the same data gives the same forecast in every run).

    >>> model_values(pd.Series([0.1 + 0.2, "x"])).tolist()
    [0.3, nan]
    """
    return steady(pd.to_numeric(pd.Series(series.to_numpy()), errors="coerce"))


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


def forecast_paths(
    series: pd.Series,
    horizon: int,
    method: str | None = None,
    repetitions: int = SIMULATIONS,
    seed: int = 0,
) -> tuple[str, np.ndarray]:
    """``repetitions`` simulated future paths of a monthly ``series`` over the next
    ``horizon`` months (an array repetitions x horizon), from the model
    :func:`forecast_series` chose (``method``, e.g. from a pack's forecasts table; chosen
    again when None). Sums over months need these: the 80 % interval of a sum is the
    quantiles of the summed paths, never the sum of the bounds.

    ETS: the fitted model's simulation (additive normal errors, fixed ``seed``); naive: a
    random walk with the one-step residuals' RMS as sigma; seasonal naive: the same
    month a year before plus an independent error of that sigma. With no residual (one
    month of history) every path is the forecast.

    >>> s = pd.Series([10.0, 12, 11, 13, 12], index=["2026-01", "2026-02", "2026-03",
    ...                                               "2026-04", "2026-05"])
    >>> method, paths = forecast_paths(s, 2, repetitions=500)
    >>> method, paths.shape, bool(abs(paths[:, 0].mean() - 12.0) < 0.3)
    ('naive', (500, 2), True)
    """
    if method is None:
        method = str(forecast_series(series, horizon)["method"].iloc[0])
    months = _month_index(series)
    y = model_values(series)
    rng = np.random.default_rng(seed)
    if method.startswith("ETS("):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        _, t, s = method[4:-1].split(",")
        trend = None if t == "N" else "add"
        season = {"N": None, "A": "add", "M": "mul"}[s]
        scale = float(np.mean(np.abs(y)))
        endog = monthly_endog(y / scale, months[0])
        with warnings.catch_warnings(), one_blas_thread():
            warnings.simplefilter("ignore")
            res = ETSModel(endog, **ets_form(trend, t == "Ad", season)).fit(disp=False)
            sim = res.simulate(horizon, anchor="end", repetitions=repetitions, rng=rng)
        return method, np.asarray(sim, dtype="float64").reshape(horizon, repetitions).T * scale
    seasonal = method == "seasonal naive"
    lag = SEASON if seasonal else 1
    resid = y[lag:] - y[:-lag]
    sigma = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
    errors = rng.normal(0.0, sigma, (repetitions, horizon))
    if seasonal:
        h = np.arange(horizon)
        base = y[len(y) - lag + h % lag]
        steps = np.sqrt(h // lag + 1)
        return method, base + errors * steps
    return method, y[-1] + np.cumsum(errors, axis=1)


# ---------------------------------------------------------------------------- backtest


# ---------------------------------------------------------------------------- cache, jobs

# the files whose code makes a forecast: a change to them is a new key
_CODE = parts_sha(
    *(file_sha(Path(__file__).with_name(f)) for f in ("forecast.py", "ets.py", "conformal.py"))
)
_FITS: OrderedDict[str, pd.DataFrame] = OrderedDict()  # the forecasts made, newest last
KEEP_FITS = 512
# worker processes for the fits of many series; None: default_jobs()
_JOBS: ContextVar[int | None] = ContextVar("forecast_jobs", default=None)
# Worker processes pay off only for many slow fits: each worker imports statsmodels
# (about 2-3 s of CPU) and a series of 36 months fits in about 0.1-0.3 s. So the fits run
# here first; the ones left when SERIAL_SECONDS have passed go to the workers if there
# are at least MIN_PARALLEL of them and they would take longer here than with the
# workers, counting WORKER_START_SECONDS for the workers' start (:func:`pays_off`): a
# pack of a dozen scopes never starts a worker.
SERIAL_SECONDS = 3.0
MIN_PARALLEL = 8
WORKER_START_SECONDS = 3.0


def fit_key(y: np.ndarray, first: int, horizon: int, never_negative: bool) -> str:
    """The cache key of a forecast: a hash of the series' values, its first month, the
    settings and the forecasting code (a new kit version refits).

    >>> a = fit_key(np.array([1.0, 2.0]), 300, 3, False)
    >>> b = fit_key(np.array([1.0, 2.5]), 300, 3, False)
    >>> a == fit_key(np.array([1.0, 2.0]), 300, 3, False), a == b
    (True, False)
    """
    values = np.ascontiguousarray(y, dtype="float64").tobytes()
    return parts_sha(_CODE, values, str(first), str(horizon), str(bool(never_negative)))


def _remembered(key: str) -> pd.DataFrame | None:
    found = _FITS.get(key)
    if found is None:
        return None
    _FITS.move_to_end(key)
    out = found.copy()
    out.attrs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in found.attrs.items()}
    return out


def _remember(key: str, out: pd.DataFrame) -> None:
    _FITS[key] = out.copy()
    _FITS[key].attrs = dict(out.attrs)
    while len(_FITS) > KEEP_FITS:
        _FITS.popitem(last=False)


def default_jobs() -> int:
    """Worker processes for the fits when ``--jobs`` is not given: the machine's cores,
    at most 4.

    >>> 1 <= default_jobs() <= 4
    True
    """
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def fit_jobs(jobs: int | None) -> Iterator[None]:
    """Run the fits inside the block in up to ``jobs`` worker processes (None: the
    default). Example: ``with fit_jobs(2): kpis.compute(ds, "latest", scope="all")``."""
    if jobs is not None and jobs < 1:
        raise KitError(f"--jobs must be 1 or more, not {jobs}.")
    token = _JOBS.set(jobs)
    try:
        yield
    finally:
        _JOBS.reset(token)


def forecast_many(tasks: list[tuple[pd.Series, int, bool]]) -> list[pd.DataFrame | KitError]:
    """:func:`forecast_series` of each (series, horizon, never_negative) of ``tasks``, in
    order; a series that cannot be forecast gives its KitError. The series not in the
    cache are fitted here; those still to fit after ``SERIAL_SECONDS`` go to worker
    processes (``fit_jobs``) when there are enough of them (``MIN_PARALLEL``) and they
    would take longer here than the workers' start (:func:`pays_off`, from the time of
    the fits made here); either way they land in the cache.

    Example: ``forecast_many([(s1, 3, True), (s2, 3, False)])``.
    """
    jobs = _JOBS.get() or default_jobs()
    todo = [(t, k) for t in tasks if (k := _task_key(t)) is not None and k not in _FITS]
    started, fitted = time.perf_counter(), 0
    while todo and (jobs < 2 or time.perf_counter() - started < SERIAL_SECONDS):
        fit_task(todo.pop(0)[0])  # forecast_series keeps it in the cache
        fitted += 1
    per_fit = (time.perf_counter() - started) / fitted if fitted else math.inf
    if len(todo) >= MIN_PARALLEL and pays_off(per_fit * len(todo), min(jobs, len(todo))):
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool
        from multiprocessing import get_context

        try:  # spawn: no fork of a process holding DuckDB threads
            ctx = get_context("spawn")
            with ProcessPoolExecutor(min(jobs, len(todo)), mp_context=ctx) as pool:
                done = pool.map(fit_task, [t for t, _ in todo])
                for (_, key), out in zip(todo, done, strict=True):
                    if isinstance(out, pd.DataFrame):
                        _remember(key, out)
        except (BrokenProcessPool, OSError, RuntimeError):
            pass  # no workers here (a script without a __main__ guard): the fits run below
    return [fit_task(t) for t in tasks]  # from the cache where the workers made them


def pays_off(left: float, jobs: int) -> bool:
    """Whether fits that would take ``left`` seconds here take less with ``jobs``
    worker processes, each starting in ``WORKER_START_SECONDS``: with the workers they
    take about start + left / jobs, so they pay off when left > start x jobs / (jobs - 1).

    >>> pays_off(5.0, 2), pays_off(7.0, 2), pays_off(5.0, 4), pays_off(100.0, 1)
    (False, True, True, False)
    """
    if jobs < 2:
        return False
    return left > WORKER_START_SECONDS * jobs / (jobs - 1)


def fit_task(task: tuple[pd.Series, int, bool]) -> pd.DataFrame | KitError:
    """One task of :func:`forecast_many` (a worker process runs it): the forecast, or the
    KitError that says why there is none. Example: ``fit_task((series, 3, True))``."""
    series, horizon, never_negative = task
    try:
        return forecast_series(series, horizon, never_negative=never_negative)
    except KitError as exc:
        return exc


def _task_key(task: tuple[pd.Series, int, bool]) -> str | None:
    """The cache key of a task; None when the series cannot be forecast at all."""
    series, horizon, never_negative = task
    try:
        return fit_key(model_values(series), _month_index(series)[0], int(horizon), never_negative)
    except (KitError, IndexError, TypeError, ValueError):
        return None  # fit_task gives the error that says why
