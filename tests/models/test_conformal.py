"""Calibrated forecast intervals (kpi_helpers.models.conformal and forecast_series):
split-conformal half-widths, their coverage on simulated series, the fallback to the
model's interval with few backtest windows, clipping at 0, the track record, the cache."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpi_helpers.catalog import get
from kpi_helpers.core import Month
from kpi_helpers.models import forecast_many, forecast_series
from kpi_helpers.models.conformal import Backtest, conformal_quantile, track_record
from kpi_helpers.models.forecast import Z, backtest, calibrate


def monthly(values, start: str = "2023-01") -> pd.Series:
    index = [str(p) for p in pd.period_range(start, periods=len(values), freq="M")]
    return pd.Series(np.asarray(values, dtype="float64"), index=index)


# ------------------------------------------------------------------ the quantile


def test_conformal_quantile_uses_the_finite_sample_correction():
    # 10 errors: the ceil(11 x 0.8) = 9th smallest |e|, not the plain 80 % quantile (8th)
    errors = np.array([-1.0, 2, -3, 4, -5, 6, -7, 8, -9, 10])
    assert conformal_quantile(errors) == 9.0
    # 20 errors: ceil(21 x 0.8) = 17th smallest
    assert conformal_quantile(np.arange(1.0, 21.0)) == 17.0
    # 8 errors (the fewest): ceil(9 x 0.8) = 8th, the largest; NaN errors are left out
    assert conformal_quantile(np.array([1.0, 2, 3, 4, 5, 6, 7, 8, np.nan])) == 8.0
    # 7 errors: too few, no conformal interval
    assert math.isnan(conformal_quantile(np.arange(1.0, 8.0)))


def test_conformal_interval_covers_80_percent_of_a_simulated_ets_series():
    """ETS(A,N,N) with alpha = 1 (a random walk, noise sd 1): the naive forecast is its
    own model. Over 500 draws of 30 months, the 80 % interval of month 31 made from the
    backtest of months 1-30 holds 80 % +- 5 % of the time."""
    rng = np.random.default_rng(2026)
    draws, held = 500, 0
    for _ in range(draws):
        y = 100.0 + np.cumsum(rng.normal(0.0, 1.0, 31))
        history, actual = y[:30], y[30]
        bt = backtest(history, Month.parse("2024-01").index, ("naive",), 1)
        assert bt.interval(1)[1] == 24  # origins 6..29: the last 24
        mean = np.array([history[-1]])
        lower, upper, how = calibrate(bt, mean, mean - 99.0, mean + 99.0)
        assert how == ["conformal (24 windows)"]
        held += bool(lower[0] <= actual <= upper[0])
    assert 0.75 <= held / draws <= 0.85, held / draws


def test_a_forecast_says_its_interval_is_conformal():
    """23 months of a linear trend with noise (no season tried below 24): an ETS model
    from 10 months, backtested from origins 10..22: 13 one-step, 12 two-step and 11
    three-step windows; the interval is symmetric around the forecast."""
    t = np.arange(23)
    y = 500.0 + 10.0 * t + np.random.default_rng(4).normal(0.0, 15.0, 23)
    f = forecast_series(monthly(y), 3)
    assert f["method"].iloc[0].startswith("ETS(A,")
    windows = ["conformal (13 windows)", "conformal (12 windows)", "conformal (11 windows)"]
    assert f["interval"].tolist() == windows
    assert np.allclose(f["upper"] - f["forecast"], f["forecast"] - f["lower"])
    assert (f["upper"] > f["forecast"]).all()
    # the track record: the last 12 one-step forecasts (origins 11..22)
    assert f["track_origins"].iloc[0] == 12 and 0 <= f["track_held"].iloc[0] <= 12


def test_few_backtest_windows_fall_back_to_the_model_interval():
    # 14 months: a non-seasonal ETS from 10 months, so origins 10..13: 4 windows < 8
    t = np.arange(14)
    y = 200.0 + 5.0 * t + np.random.default_rng(8).normal(0.0, 4.0, 14)
    # and pooled over h = 1, 2: 4 + 3 = 7 < 8: the model's interval, widened 1.4 times
    f = forecast_series(monthly(y), 2)
    assert f["interval"].tolist() == ["model", "model"]
    lower, upper = (np.array(b) for b in f.attrs["model_bounds"])
    mean = f["forecast"].to_numpy()
    assert f["lower"].to_numpy() == pytest.approx(mean - 1.4 * (mean - lower))
    assert f["upper"].to_numpy() == pytest.approx(mean + 1.4 * (upper - mean))
    # 5 months, naive: origins 2..4, 3 windows; one month: no interval at all
    assert forecast_series(monthly([10.0, 12, 11, 13, 12]), 1)["interval"].iloc[0] == "model"
    assert forecast_series(monthly([7.0]), 1)["interval"].iloc[0] == "none"


def test_too_few_h_step_errors_pool_the_horizons_scaled_by_sqrt_h():
    """A flat series backtested from origins 6..9, 3 months ahead: 4 one-step errors
    (1, 2, 3, 4), 3 two-step (5, 6, 7 x sqrt 2) and 2 three-step (8, 9 x sqrt 3), fewer
    than 8 each. Pooled, each divided by sqrt(h): 1 .. 9, 9 windows; the
    ceil(10 x 0.8) = 8th smallest is 8: half-widths 8 x sqrt(h)."""
    y = np.full(10, 100.0)
    r2, r3 = math.sqrt(2), math.sqrt(3)
    mean = 100.0 - np.array(
        [[1.0, 5 * r2, 8 * r3], [2, 6 * r2, 9 * r3], [3, 7 * r2, 0.0], [4, 0.0, 0.0]]
    )
    bt = Backtest(y, np.arange(6, 10), mean, np.full(4, 1.0))
    assert len(bt.errors(1)) == 4 and len(bt.errors(3)) == 2
    for h, root in ((1, 1.0), (2, r2), (3, r3)):
        half, windows, pooled = bt.interval(h)
        assert (windows, pooled) == (9, True)
        assert half == pytest.approx(8.0 * root)
    forecast = np.full(3, 100.0)
    lower, upper, how = calibrate(bt, forecast, forecast - 1.0, forecast + 1.0)
    assert how == ["conformal (9 pooled windows)"] * 3
    assert upper - forecast == pytest.approx([8.0, 8.0 * r2, 8.0 * r3])


# ------------------------------------------------------------------ clipping at 0


def test_kpis_that_cannot_be_negative_are_told_by_unit_and_kind():
    for kpi in ("sales_revenue", "monthly_sales_bookings", "monthly_recurring_revenue"):
        assert get(kpi).never_negative, kpi
    assert get("new_leads").never_negative and get("win_rate").never_negative
    # signed amounts, growth and NPS can fall below 0
    for kpi in ("net_new_mrr", "gap_to_target", "monthly_sales_growth", "net_promoter_score"):
        assert not get(kpi).never_negative, kpi


def test_forecasts_and_bounds_are_clipped_at_zero():
    # naive: the last value 1; sigma = RMS of (-4, 5, -5.5, 0.5) = 4.23; h = 1 lower
    # 1 - 1.4 x 1.2816 x 4.23 < 0 (3 windows: the model's interval, widened 1.4 times)
    s = monthly([5.0, 1.0, 6.0, 0.5, 1.0])
    free = forecast_series(s, 2)
    assert free["lower"].iloc[0] == pytest.approx(1.0 - 1.4 * Z * math.sqrt(71.5 / 4), rel=1e-6)
    assert (free["lower"] < 0).all()
    clipped = forecast_series(s, 2, never_negative=True)
    assert (clipped["lower"] == 0).all()
    assert clipped["upper"].tolist() == pytest.approx(free["upper"].tolist())
    # a falling trend: its forecasts go below 0, clipped to 0 with their bounds
    falling = monthly(100.0 - 10.0 * np.arange(11) + np.array([0.5, -0.5] * 5 + [0.0]))
    assert forecast_series(falling, 3)["forecast"].iloc[-1] < 0
    f = forecast_series(falling, 3, never_negative=True)
    assert (f[["forecast", "lower", "upper"]].to_numpy() >= 0).all()
    assert f["forecast"].iloc[-1] == 0


# ------------------------------------------------------------------ track record


def test_track_record_of_a_hand_made_backtest():
    """Forecast 100 from origins 2..21; errors of months 2..9 are +-1..8; of months
    10..21: 20 (month 10), 0.5 (11..20), 9 (month 21). At origin 10 the 8 errors before
    give q = 8: 20 misses. At 11..20 q >= 8 (the 8th smallest of 1..8 and 20, or later):
    0.5 holds. At 21 the 19 errors before (ten 0.5, 1..8, 20): the ceil(20 x 0.8) = 16th
    smallest is 6: 9 misses. The interval held 10 of the last 12 months."""
    errors = [1.0, -2, 3, -4, 5, -6, 7, -8, 20] + [0.5] * 10 + [9.0]
    y = np.array([100.0, 100.0] + [100.0 + e for e in errors])
    origins = np.arange(2, 22)
    bt = Backtest(y, origins, np.full((20, 1), 100.0), np.full(20, 1.0))
    got = track_record(bt, Z)
    assert (got["held"], got["origins"]) == (10, 12)
    assert got["coverage"] == pytest.approx(100 * 10 / 12)
    mape = (20 / 120 + 10 * 0.5 / 100.5 + 9 / 109) / 12 * 100
    assert got["mape"] == pytest.approx(mape)


def test_track_record_falls_back_to_the_model_interval_before_8_windows():
    # origins 1..3 of y = 10, 10, 13, 9: forecast 10, sigma 1; no conformal yet, so
    # the model's 10 +- 1.4 x 1.2816 = 1.79: month 1 (10) holds, month 2 (13) misses,
    # month 3 (9) holds
    y = np.array([10.0, 10.0, 13.0, 9.0])
    bt = Backtest(y, np.array([1, 2, 3]), np.full((3, 1), 10.0), np.full(3, 1.0))
    got = track_record(bt, Z)
    assert (got["held"], got["origins"]) == (2, 3)
    assert got["mape"] == pytest.approx((0 + 3 / 13 + 1 / 9) / 3 * 100)


def test_forecast_rows_carry_the_track_record():
    s = monthly([10.0, 12, 11, 13, 12])  # naive, origins 2..4 (the model's interval)
    f = forecast_series(s, 2)
    # origin 2: 12 +- 1.2816 x RMS(2) = 2.56: 11 holds; origin 3: 11 +- 1.2816 x
    # RMS(2, -1) = 2.03: 13 holds; origin 4: 13 +- 1.2816 x RMS(2, -1, 2) = 2.22: 12 holds
    assert f["track_held"].tolist() == [3, 3] and f["track_origins"].tolist() == [3, 3]
    assert f["track_mape"].iloc[0] == pytest.approx((1 / 11 + 2 / 13 + 1 / 12) / 3 * 100)


# ------------------------------------------------------------------ cache


def test_a_series_with_the_same_values_is_not_fitted_again(monkeypatch):
    from kpi_helpers.models import forecast as fc

    calls = []
    real = fc.best_ets
    monkeypatch.setattr(fc, "best_ets", lambda *a: calls.append(1) or real(*a))
    y = 50.0 + np.random.default_rng(12).normal(0.0, 3.0, 12)
    first = forecast_series(monthly(y), 2)
    again = forecast_many([(monthly(y), 2, False), (monthly(y * 2), 2, False)])
    assert len(calls) == 2  # y once, 2y once: the second y came from the cache
    pd.testing.assert_frame_equal(again[0], first)
    # another start month is another series
    forecast_series(monthly(y, start="2020-01"), 2)
    assert len(calls) == 3


def _fitted_without_workers(monkeypatch, n: int, level: float, **settings) -> None:
    """Fit ``n`` short series with two jobs and ``settings`` (forecast's module
    constants), failing if a worker pool is started; each gets its forecast."""
    import concurrent.futures

    from kpi_helpers.models import forecast as fc

    for name, value in settings.items():
        monkeypatch.setattr(fc, name, value)
    monkeypatch.setattr(fc, "_FITS", type(fc._FITS)())

    def no_pool(*a, **k):
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    rng = np.random.default_rng(int(level))
    tasks = [(monthly(level + i + rng.normal(0.0, 2.0, 12)), 2, True) for i in range(n)]
    with fc.fit_jobs(2):
        out = forecast_many(tasks)
    assert all(isinstance(o, pd.DataFrame) and len(o) == 2 for o in out)
    assert len(fc._FITS) == n


def test_fits_within_the_serial_budget_never_start_workers(monkeypatch):
    """Eight short series fit here in well under the budget: no worker process is
    started (each would import statsmodels, ~2 s of CPU, for fits of ~0.1 s)."""
    _fitted_without_workers(monkeypatch, 8, 40.0, SERIAL_SECONDS=600.0)


def test_fits_left_that_take_less_than_the_workers_start_stay_here(monkeypatch):
    """Six series left after the budget (one fit), at a fraction of a second each, would
    take less than the workers' start (set to 600 s here): they are fitted here too,
    with no worker process (the old rule counted fits, not their time, and started two)."""
    _fitted_without_workers(
        monkeypatch, 7, 30.0, SERIAL_SECONDS=0.01, MIN_PARALLEL=2, WORKER_START_SECONDS=600.0
    )


def test_fits_left_after_the_budget_run_in_workers_with_the_same_forecasts(monkeypatch):
    """With no serial budget, three series go to two worker processes: nothing is
    fitted here, and each forecast equals the one fitted here afterwards."""
    from kpi_helpers.models import forecast as fc

    monkeypatch.setattr(fc, "SERIAL_SECONDS", 0.0)
    monkeypatch.setattr(fc, "MIN_PARALLEL", 2)
    monkeypatch.setattr(fc, "_FITS", type(fc._FITS)())
    calls = []
    real = fc.best_ets
    monkeypatch.setattr(fc, "best_ets", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(4)
    tasks = [(monthly(60.0 + 5 * i + rng.normal(0.0, 3.0, 15)), 2, False) for i in range(3)]
    with fc.fit_jobs(2):
        out = forecast_many(tasks)
    assert calls == []  # the workers fitted all three
    fc._FITS.clear()
    for task, got in zip(tasks, out, strict=True):
        pd.testing.assert_frame_equal(got, forecast_series(*task[:2], never_negative=False))
    assert len(calls) == 3
