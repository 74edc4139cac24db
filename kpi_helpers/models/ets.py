"""The ETS models behind the forecasts: which forms are tried on a series (by its length
and sign), the fit that picks one by AICc, the naive fallbacks, and the rolling-origin
backtest whose errors calibrate the intervals (:mod:`.conformal`).
"""

from __future__ import annotations

import math
import warnings
from statistics import NormalDist

import numpy as np
import pandas as pd

from kpi_helpers.core import Month

from .conformal import LEVEL, Backtest

SEASON = 12  # months in a seasonal cycle
MIN_SEASONAL = 24  # months of history before a season is tried (and seasonal naive used)
MIN_ETS = 10  # months of history before any ETS model is tried
Z = NormalDist().inv_cdf(0.5 + LEVEL / 2)  # 1.2816: the normal 80 % half-width in sigmas
SIMULATIONS = 1000  # paths for the intervals without a closed form
BACKTEST_ORIGINS = 24  # rolling origins of the backtest: the last two years at most
DIGITS = 10  # significant digits of a value a fit sees (see steady)
AICC_TIE = 1e-9  # AICc this close to the best (relative) is a tie (see by_aicc)


def steady(y: np.ndarray) -> np.ndarray:
    """``y`` rounded to ``DIGITS`` (10) significant digits: the values every fit, and the
    cache key of a forecast, see. A database's parallel float sums differ between runs in
    the last bits (about 1e-14 relative), and the optimiser of an ETS fit turns such a
    difference into another forecast (1e-3 apart) or another model; rounded, the same
    data gives the same forecast in every run.

    >>> steady(np.array([1355691.70642028125, 0.1 + 0.2, 0.0])).tolist()
    [1355691.706, 0.3, 0.0]
    """
    return np.array([float(f"{v:.{DIGITS}g}") for v in np.asarray(y, dtype="float64")])


def by_aicc(aiccs: list[float]) -> list[int]:
    """The positions of ``aiccs`` (one per candidate, in :func:`ets_candidates`' order),
    best first: lowest AICc, where AICc within ``AICC_TIE`` (1e-9) relative of the best
    counts as the best and ties keep the candidates' order (simplest model first), so
    float noise in an AICc never decides which model wins.

    >>> by_aicc([-30.0 + 1e-12, -30.0, -25.0])
    [0, 1, 2]
    >>> by_aicc([-20.0, -30.0, -25.0])
    [1, 2, 0]
    """
    if not aiccs:
        return []
    best = min(aiccs)
    tie = AICC_TIE * max(1.0, abs(best))
    rank = [best if a - best <= tie else a for a in aiccs]
    return sorted(range(len(aiccs)), key=lambda i: (rank[i], i))


def ets_candidates(y: np.ndarray) -> list[tuple[str | None, bool, str | None]]:
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


def best_ets(y: np.ndarray, first: int, horizon: int, candidates: dict[str, str]) -> tuple | None:
    """(name, mean, lower, upper, spec) of the ETS model of lowest AICc (ties:
    :func:`by_aicc`) whose forecast and model interval are finite, or None when none fits;
    ``spec`` refits it (:func:`backtest`). ``y``: the values as :func:`steady` leaves them.
    Example: ``best_ets(steady(y), Month.parse("2024-01").index, 3, {})[0]`` -> "ETS(A,Ad,N)"."""
    # statsmodels loads only when a model is fitted
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    scale = float(np.mean(np.abs(y)))
    if scale == 0 or not math.isfinite(scale):
        return None
    endog = monthly_endog(y / scale, first)
    fitted = []  # (aicc, name, form, results)
    for trend, damped, season in ets_candidates(y):
        name = ets_name(trend, damped, season)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = ETSModel(endog, **ets_form(trend, damped, season)).fit(disp=False)
                mean = np.asarray(res.forecast(horizon), dtype="float64")
        except Exception as exc:  # a model that cannot be fitted is one candidate less
            candidates[name] = f"failed: {type(exc).__name__}: {exc}"
            continue
        trouble = [str(w.message) for w in caught if is_fit_warning(w)]
        retvals = getattr(res, "mle_retvals", None) or {}
        if trouble or retvals.get("converged") is False:
            candidates[name] = "did not converge" + (f": {trouble[0]}" if trouble else "")
            continue
        aicc = float(res.aicc)
        if not (math.isfinite(aicc) and np.isfinite(mean).all()):
            candidates[name] = "non-finite AICc, forecast or interval"
            continue
        candidates[name] = f"AICc {aicc:.2f}"
        fitted.append((aicc, name, (trend, damped, season), res))
    # the model interval only for the best (simulated paths cost): the next if it fails
    for i in by_aicc([f[0] for f in fitted]):
        _aicc, name, form, res = fitted[i]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = res.get_prediction(
                    start=len(y),
                    end=len(y) + horizon - 1,
                    simulate_repetitions=SIMULATIONS,
                    rng=np.random.default_rng(0),
                ).summary_frame(alpha=1 - LEVEL)
        except Exception as exc:
            candidates[name] = f"failed: {type(exc).__name__}: {exc}"
            continue
        mean, lower, upper = (
            pred[c].to_numpy(dtype="float64") * scale for c in ("mean", "pi_lower", "pi_upper")
        )
        if not np.isfinite([mean, lower, upper]).all():
            candidates[name] = "non-finite AICc, forecast or interval"
            continue
        spec = ("ets", form, np.asarray(res.params, dtype="float64"), scale)
        return name, mean, lower, upper, spec
    return None


def ets_form(trend: str | None, damped: bool, season: str | None) -> dict:
    """ETSModel's keyword arguments for one model form."""
    return dict(
        error="add",
        trend=trend,
        damped_trend=damped,
        seasonal=season,
        seasonal_periods=SEASON if season else None,
        initialization_method="heuristic",
    )


def monthly_endog(y: np.ndarray, first: int) -> pd.Series:
    """``y`` on a monthly date index starting at month ``first``."""
    return pd.Series(y, index=pd.date_range(Month(first).start, periods=len(y), freq="MS"))


def is_fit_warning(w: warnings.WarningMessage) -> bool:
    """Warnings that say a fit is not to be trusted (convergence, numerical trouble)."""
    # statsmodels loads only when a model is fitted
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    return issubclass(w.category, (ConvergenceWarning, RuntimeWarning))


def naive_forecast(y: np.ndarray, horizon: int, seasonal: bool) -> tuple:
    """Naive or seasonal naive forecast with normal-approximation 80 % intervals:
    (method, mean, lower, upper, spec)."""
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
    half = Z * sigma * steps
    method = "seasonal naive" if seasonal else "naive"
    return method, mean.astype("float64"), mean - half, mean + half, (method,)


def backtest(y: np.ndarray, first: int, spec: tuple, horizon: int) -> Backtest:
    """The chosen method's forecasts 1..``horizon`` months ahead from each of the last
    ``BACKTEST_ORIGINS`` origins of ``y`` (the history before the origin only), and its
    one-step sigma there. Cheap refits: an ETS model keeps its form and the smoothing
    parameters of the fit on the whole series, and only re-runs its states (and its
    heuristic start) over the history through each origin; the naive methods are
    re-applied. An origin where the model cannot run gives NaN (no error counted).

    Example: ``backtest(y, Month.parse("2024-01").index, ("naive",), 3).errors(1)``.
    """
    n = len(y)
    if spec[0] == "ets":
        start = MIN_SEASONAL if spec[1][2] else MIN_ETS
    else:
        start = SEASON + 1 if spec[0] == "seasonal naive" else 2
    origins = np.arange(max(start, n - BACKTEST_ORIGINS), n)
    mean = np.full((len(origins), horizon), np.nan)
    sigma = np.full(len(origins), np.nan)
    for i, o in enumerate(origins):
        if spec[0] == "ets":
            mean[i], sigma[i] = ets_refit(y[:o], first, spec, horizon)
        else:
            _, m, lo, _, _ = naive_forecast(y[:o], horizon, seasonal=spec[0] == "seasonal naive")
            mean[i], sigma[i] = m, (m[0] - lo[0]) / Z
    return Backtest(y, origins, mean, sigma)


def ets_refit(y: np.ndarray, first: int, spec: tuple, horizon: int) -> tuple[np.ndarray, float]:
    """The forecast and one-step sigma of the ETS model ``spec`` with its parameters fixed,
    run over ``y``; NaN when it cannot run there."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    _, form, params, scale = spec
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ETSModel(monthly_endog(y / scale, first), **ets_form(*form)).smooth(params)
            mean = np.asarray(res.forecast(horizon), dtype="float64") * scale
            sigma = math.sqrt(float(res.mse)) * scale
    except Exception:  # noqa: BLE001  an origin the model cannot run: no error counted
        return np.full(horizon, np.nan), math.nan
    return mean, sigma
