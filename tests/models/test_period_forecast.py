"""The next quarter's forecast (``kpi-kit forecast --period quarter``): the sum of the
monthly point forecasts, its 80 % interval from the summed simulated paths, on hand-made
series."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpi_helpers.core import Calendar
from kpi_helpers.models import forecast_series, period_total

SHORT = pd.Series([10.0, 12, 11, 13, 12], index=[f"2026-0{m}" for m in range(1, 6)])


def test_a_random_walk_quarter_by_hand():
    # 5 months: the naive model, forecast 12 every month; one-step residuals 2, -1, 2, -1:
    # sigma = sqrt((4 + 1 + 4 + 1) / 4) = sqrt(2.5). After May: June (the rest of Q2),
    # then Q3 = July..September, months 2..4 ahead of May. A random walk's sum over them is
    # 36 + 3 e1 + 3 e2 + 2 e3 + e4: sd = sigma * sqrt(9 + 9 + 4 + 1) = sqrt(57.5)
    t = period_total(SHORT, "quarter", Calendar())
    assert (t["period"], t["period_start"], t["period_end"]) == ("2026-Q3", "2026-07", "2026-09")
    assert (t["forecast"], t["months_ahead"], t["method"]) == (36.0, 4, "naive")
    assert t["paths_mean"] == pytest.approx(36.0, abs=0.5)
    half = 1.2816 * math.sqrt(57.5)  # the normal's 90th percentile: 9.72
    assert t["lower"] == pytest.approx(36.0 - half, abs=1.0)  # 1,000 paths: +-0.4 (1 se)
    assert t["upper"] == pytest.approx(36.0 + half, abs=1.0)
    # never the sum of the monthly bounds (the months' errors do not all fall one way)
    months = forecast_series(SHORT, 4).iloc[1:]
    assert months["upper"].sum() - months["lower"].sum() > t["upper"] - t["lower"]


def test_a_fiscal_quarter_sums_its_own_months():
    # 3 years of a trend with a season; fiscal years from February: May 2026 is the first
    # month of FY2027-Q2 (May..July), the next quarter FY2027-Q3 is August..October
    months = pd.period_range("2023-06", "2026-05", freq="M")
    i = np.arange(len(months))
    noise = np.random.default_rng(3).normal(0, 2.0, len(i))
    series = pd.Series(100 + 2.0 * i + 10 * np.sin(2 * np.pi * i / 12) + noise)
    series.index = [str(m) for m in months]
    t = period_total(series, "quarter", Calendar(2))
    assert (t["period"], t["period_start"], t["months_ahead"]) == ("FY2027-Q3", "2026-08", 5)
    point = forecast_series(series, 5).set_index("month")["forecast"]
    assert t["forecast"] == pytest.approx(point[["2026-08", "2026-09", "2026-10"]].sum())
    # the mean of the summed paths is the summed point forecasts (within 1 %)
    assert t["paths_mean"] == pytest.approx(t["forecast"], rel=0.01)
    assert t["lower"] < t["forecast"] < t["upper"]
