"""Split-conformal prediction intervals from rolling-origin backtests, and a forecast's
track record.

A forecast method is run from each origin o of a series' own history (the months
before o only), and its h-step error e(o, h) = y(o + h - 1) - forecast is kept. The
80 % interval h months ahead is then the forecast +- q, where q is the
ceil((n + 1) x 0.8)-th smallest of the n absolute errors |e(., h)| (the finite-sample
correction of split conformal prediction, as statsforecast and sktime apply it): with
exchangeable errors the interval holds at least 80 % of the time. Fewer than
``MIN_WINDOWS`` errors give no conformal interval (the model's own is used instead).

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


def interval_label(windows: int) -> str:
    """How an interval was made, as the outputs say it.

    >>> interval_label(14), interval_label(3)
    ('conformal (14 windows)', 'model')
    """
    return f"conformal ({windows} windows)" if windows >= MIN_WINDOWS else "model"


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

    def interval(self, h: int) -> tuple[float, int]:
        """(half-width, windows) of the conformal h-step interval from every error."""
        e = self.errors(h)
        return conformal_quantile(e), int(np.isfinite(e).sum())


def track_record(bt: Backtest, z: float, floor: float | None = None) -> dict:
    """How the one-month-ahead forecasts of the last ``TRACK_ORIGINS`` origins did: each
    with its conformal interval from the one-step errors before it (the model's,
    forecast +- ``z`` x sigma, with fewer than ``MIN_WINDOWS``), bounds clipped at
    ``floor`` when given. Returns ``held`` (actuals inside), ``origins``, ``coverage``
    (% held) and ``mape`` (%, actuals of 0 left out; NaN when none).

    >>> y = np.array([10.0, 10, 10, 10, 12])
    >>> bt = Backtest(y, np.array([3, 4]), np.array([[10.0], [10.0]]), np.array([1.0, 1.0]))
    >>> track_record(bt, z=1.28)  # 10 +- 1.28: holds 10, misses 12
    {'held': 1, 'origins': 2, 'coverage': 50.0, 'mape': 8.333333333333332}
    """
    n = len(bt.y)
    rows = [i for i, o in enumerate(bt.origins) if o < n and np.isfinite(bt.mean[i, 0])]
    rows = rows[-TRACK_ORIGINS:]
    held, ape = 0, []
    for i in rows:
        o = int(bt.origins[i])
        q = conformal_quantile(bt.errors(1, before=o))
        half = q if math.isfinite(q) else z * bt.sigma[i]
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
