"""Forecasts are reproducible: a database's float sums differ between runs in the last
bits (about 1e-14 relative), and that must not change the model chosen or its forecast;
AICc ties between ETS candidates are broken by the candidates' fixed order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_helpers.core import Month
from kpi_helpers.models import ets, forecast_series

# the sample's monthly_sales_bookings of team Mid-Market, 2023-12 .. 2026-11 (cents): its
# ETS(A,A,A) fit ends elsewhere (the forecast 0.2 % apart) when month 29 (index 28) is
# 1e-13 relative larger, as two runs of DuckDB's parallel sums may give it
BOOKINGS = [
    8662.18, 121839.97, 108934.05, 71845.54, 47725.83, 87539.72, 0.0, 84556.75, 53233.54,
    168082.45, 31481.70, 116920.01, 32631.08, 196216.28, 67658.24, 87083.95, 100715.21,
    75265.44, 106198.14, 79800.23, 10437.87, 48123.57, 319925.02, 85779.39, 127719.71,
    28255.80, 185129.44, 183975.99, 119280.95, 214650.51, 26603.34, 85636.54, 79279.78,
    454423.55, 244506.61, 413557.02,
]  # fmt: skip
FIRST = pd.Period("2023-12", freq="M")


def series(values: list[float]) -> pd.Series:
    index = [str(FIRST + i) for i in range(len(values))]
    return pd.Series(np.asarray(values, dtype="float64"), index=index)


def test_last_bits_of_a_sum_do_not_change_the_forecast():
    noisy = list(BOOKINGS)
    noisy[28] *= 1 + 1e-13  # 119280.95 -> 119280.95000000001
    assert noisy[28] != BOOKINGS[28]
    fa, fb = forecast_series(series(BOOKINGS)), forecast_series(series(noisy))
    assert fa["method"].iloc[0] == "ETS(A,A,A)"
    pd.testing.assert_frame_equal(fa, fb, check_exact=True)


def test_the_fit_sees_the_same_values():
    # the fits themselves (with no cache) then run on equal arrays: forecast_series
    # passes every model and the cache key ets.steady's values
    noisy = np.array(BOOKINGS)
    noisy[28] *= 1 + 1e-13
    assert ets.steady(noisy).tolist() == BOOKINGS  # cents have fewer than 10 digits
    assert ets.steady(noisy).tobytes() == ets.steady(np.array(BOOKINGS)).tobytes()


def test_steady_keeps_ten_significant_digits():
    # 1,355,691.70642028 -> 1,355,691.706 (10 digits); cents are kept as they are
    y = np.array([1355691.70642028125, 218587.39, -0.000123456789012, 1e-300, 0.0])
    assert ets.steady(y).tolist() == [1355691.706, 218587.39, -0.0001234567890, 1e-300, 0.0]
    assert np.isnan(ets.steady(np.array([np.nan]))).all()


def test_aicc_ties_keep_the_candidates_order():
    # candidates in ets_candidates' order: ETS(A,N,N), ETS(A,A,N), ETS(A,Ad,N), ...
    # AICc -30 and -30 - 1e-12 (noise): a tie, the first candidate wins, whichever float
    # is smaller; -30 - 1e-6 is a real difference (3e-8 relative): it wins
    assert ets.by_aicc([-20.0, -30.0, -30.0 - 1e-12]) == [1, 2, 0]
    assert ets.by_aicc([-20.0, -30.0 - 1e-12, -30.0]) == [1, 2, 0]
    assert ets.by_aicc([-20.0, -30.0, -30.0 - 1e-6]) == [2, 1, 0]
    # the tie is relative to the best's size (1e-9 x 3,000 = 3e-6) and at least 1e-9
    assert ets.by_aicc([3000.0 + 2e-6, 3000.0]) == [0, 1]
    assert ets.by_aicc([1e-10, 0.0, 5.0]) == [0, 1, 2]
    assert ets.by_aicc([]) == []


def test_one_blas_thread_gives_the_same_fit():
    # the fits run with one BLAS thread (models/blas.py: faster on busy cores); the
    # chosen model and its forecast are those of the threaded BLAS, to the last bit
    from kpi_helpers.models.blas import one_blas_thread

    y, first = ets.steady(np.array(BOOKINGS[-24:])), Month.parse("2024-12").index
    threaded = ets.best_ets(y, first, 3, {})
    with one_blas_thread():
        single = ets.best_ets(y, first, 3, {})
        with one_blas_thread():  # nested: the outer block's setting comes back
            pass
    assert single[0] == threaded[0] and single[1].tobytes() == threaded[1].tobytes()
