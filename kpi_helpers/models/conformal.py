"""Split-conformal prediction intervals from rolling-origin backtests, and a forecast's
track record.

A forecast method is run from each origin o of a series' own history (the months
before o only), and its h-step error e(o, h) = y(o + h - 1) - forecast is kept. The
80 % interval h months ahead is then the forecast +- q, where q is the
ceil((n + 1) x 0.8)-th smallest of the n absolute errors |e(., h)| (the finite-sample
correction of split conformal prediction, as statsforecast and sktime apply it): with
exchangeable errors the interval holds at least 80 % of the time.

Too few windows (a short history, or a seasonal model, backtested from 24 months only):

1. fewer than ``MIN_WINDOWS`` h-step errors: the errors of horizons 1..3 are pooled,
   each divided by sqrt(h) (a random walk's spread grows so), and the half-width is
   q x sqrt(h) ("conformal (15 pooled windows)");
2. fewer than ``MIN_WINDOWS`` pooled errors: the model's own interval, widened by
   ``MODEL_WIDEN`` around the forecast ("model"). The model's interval leaves out the
   uncertainty of the estimated parameters and of the model choice: on the benchmark's
   series with enough windows (benchmarks/bench_forecast.py, calibration errors only:
   the backtests before each held-out origin) the conformal half-width was a median
   1.38 times the model's (quartiles 1.12-1.73), so 1.4.

Errors are not divided by the series' level: tried (by the mean |y| of the 12 months
before each origin), the intervals held 87 % on the benchmark instead of 80 %: the
errors of the first origins, with little history, are large for their level.

The track record replays the last ``TRACK_ORIGINS`` one-month-ahead forecasts, each with
the interval it would have had then (calibrated on the errors before it only), and
counts how many held and their MAPE.

>>> conformal_quantile(np.arange(1.0, 11.0))  # the 9th of 10 (ceil(11 x 0.8) = 9)
9.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.8  # 80 % prediction intervals
MIN_WINDOWS = 8  # backtest windows before a conformal interval replaces the model's
TRACK_ORIGINS = 12  # the track record looks at the last 12 one-month-ahead forecasts
POOL_HORIZONS = 3  # too few h-step errors: pool those of h = 1..3, scaled by sqrt(h)
MODEL_WIDEN = 1.4  # the model's interval x 1.4 when even the pooled errors are too few


def conformal_quantile(errors: np.ndarray, level: float = LEVEL) -> float:
    """The half-width of the split-conformal interval from backtest ``errors``: the
    ceil((n + 1) x level)-th smallest absolute error (NaN values left out); NaN with fewer
    than ``MIN_WINDOWS`` errors.

    >>> conformal_quantile(np.array([-3.0, 1, 2, -4, 5, 6, -7, 8]))  # ceil(7.2) = 8th
    8.0
    >>> conformal_quantile(np.array([1.0, 2.0]))
    nan
    """
    e = np.abs(np.asarray(errors, dtype="float64"))
    e = np.sort(e[np.isfinite(e)])
    n = len(e)
    if n < MIN_WINDOWS:
        return math.nan
    k = min(math.ceil((n + 1) * level), n)  # n >= 8 at 80 %: k <= n always
    return float(e[k - 1])


def interval_label(windows: int, pooled: bool = False) -> str:
    """How an interval was made, as the outputs say it.

    >>> interval_label(14), interval_label(15, pooled=True), interval_label(3)
    ('conformal (14 windows)', 'conformal (15 pooled windows)', 'model')
    """
    if windows < MIN_WINDOWS:
        return "model"
    return f"conformal ({windows} pooled windows)" if pooled else f"conformal ({windows} windows)"


@dataclass(frozen=True)
class Backtest:
    """Forecasts of one method from rolling origins over a series ``y`` of n months.

    ``origins[i]`` is the number of months of history the i-th forecast saw (it forecasts
    y[o], y[o + 1], ...); ``mean[i, h - 1]`` is its h-step forecast; ``sigma[i]`` the
    model's own one-step standard deviation then (NaN if none).
    """

    y: np.ndarray
    origins: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray

    def errors(self, h: int, before: int | None = None) -> np.ndarray:
        """The h-step errors y - forecast whose month is observed, and (``before``) lies
        before month index ``before``: the errors known at that origin.

        >>> bt = Backtest(np.arange(5.0), np.array([2, 3, 4]),
        ...               np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), np.full(3, 1.0))
        >>> bt.errors(1).tolist(), bt.errors(2).tolist(), bt.errors(1, before=4).tolist()
        ([1.0, 1.0, 1.0], [2.0, 2.0], [1.0, 1.0])
        """
        end = len(self.y) if before is None else before
        target = self.origins + h - 1
        keep = target < end
        return self.y[target[keep]] - self.mean[keep, h - 1]

    def interval(self, h: int, before: int | None = None) -> tuple[float, int, bool]:
        """(half-width, windows, pooled) of the conformal h-step interval at origin
        ``before`` (None: after the last month) from the errors known there: the
        h-step errors when ``MIN_WINDOWS`` or more, else those of h = 1..``POOL_HORIZONS``
        each divided by sqrt(h) (the half-width then x sqrt(h)); NaN when the pooled
        ones are too few as well.

        >>> y = np.full(10, 10.0)  # forecasts 9, 8, ..., 2: errors 1..8
        >>> bt = Backtest(y, np.arange(2, 10), (10.0 - np.arange(1.0, 9.0))[:, None],
        ...               np.full(8, 1.0))
        >>> bt.interval(1)  # the 8th of 8
        (8.0, 8, False)
        """
        own = self.errors(h, before)
        q = conformal_quantile(own)
        if math.isfinite(q):
            return q, int(np.isfinite(own).sum()), False
        horizons = range(1, min(self.mean.shape[1], POOL_HORIZONS) + 1)
        pooled = np.concatenate([self.errors(k, before) / math.sqrt(k) for k in horizons])
        q = conformal_quantile(pooled) * math.sqrt(h)
        return q, int(np.isfinite(pooled).sum()), True


def track_record(bt: Backtest, z: float, floor: float | None = None) -> dict:
    """How the one-month-ahead forecasts of the last ``TRACK_ORIGINS`` origins did: each
    with its conformal interval from the errors before it (:meth:`Backtest.interval`;
    the model's, forecast +- ``MODEL_WIDEN`` x ``z`` x sigma, with too few), bounds
    clipped at ``floor`` when given. Returns ``held`` (actuals inside), ``origins``, ``coverage``
    (% held) and ``mape`` (%, actuals of 0 left out; NaN when none).

    >>> y = np.array([10.0, 10, 10, 10, 12.5])
    >>> bt = Backtest(y, np.array([3, 4]), np.array([[10.0], [10.0]]), np.array([1.0, 1.0]))
    >>> track_record(bt, z=1.28)  # 10 +- 1.4 x 1.28 = 1.8: holds 10, misses 12.5
    {'held': 1, 'origins': 2, 'coverage': 50.0, 'mape': 10.0}
    """
    n = len(bt.y)
    rows = [i for i, o in enumerate(bt.origins) if o < n and np.isfinite(bt.mean[i, 0])]
    rows = rows[-TRACK_ORIGINS:]
    held, ape = 0, []
    for i in rows:
        o = int(bt.origins[i])
        q = bt.interval(1, before=o)[0]
        half = q if math.isfinite(q) else MODEL_WIDEN * z * bt.sigma[i]
        mean = bt.mean[i, 0]
        lower, upper = mean - half, mean + half
        if floor is not None:
            mean, lower, upper = max(mean, floor), max(lower, floor), max(upper, floor)
        actual = bt.y[o]
        held += bool(lower <= actual <= upper)  # a NaN bound (no interval) holds nothing
        if actual != 0:
            ape.append(abs(actual - mean) / abs(actual))
    count = len(rows)
    return {
        "held": held,
        "origins": count,
        "coverage": 100.0 * held / count if count else math.nan,
        "mape": 100.0 * float(np.mean(ape)) if ape else math.nan,
    }
