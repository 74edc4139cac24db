"""Pacing for the quarter of m, against sums worked out by hand.

The input is a tiny orders ledger: one order a month 2025-10..2026-04 with revenue 100,
120, 110, 130, 120, 140, 150. Seven months are too few for ETS (10), so the forecast is
naive: 150 for every month ahead, and its one-step residuals 20, -10, 20, -10, 20, 10
give sigma = sqrt(1500 / 6) = 15.81. m = 2026-04 opens 2026-Q2: QTD 150, two months to
come, pace = 150 + 150 + 150 = 450.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.alerts import check_dataset, parse_rules
from kpi_helpers.core import Config
from kpi_helpers.data import open_dataset
from kpi_helpers.models.pacing import pacing, quarter_pace

REVENUE = [100.0, 120.0, 110.0, 130.0, 120.0, 140.0, 150.0]
MONTHS = [str(p) for p in pd.period_range("2025-10", periods=7, freq="M")]
SIGMA = math.sqrt(1500 / 6)
Z90 = 1.2815515655446004


def tables(targets: dict[str, float]) -> dict[str, pd.DataFrame]:
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(7)],
            "ordered_at": [f"{m}-10" for m in MONTHS],
            "account_id": "A1",
            "revenue": REVENUE,
        }
    )
    goals = pd.DataFrame(
        {"month": list(targets), "kpi": "sales_revenue", "target": list(targets.values())}
    )
    return {"orders": orders, "targets": goals.assign(team=None, rep_id=None)}


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    goals = {"2026-04": 200.0, "2026-05": 200.0, "2026-06": 200.0}
    return open_dataset(write_tables(tmp_path_factory.mktemp("pace") / "data", tables(goals)))


def test_pace_is_qtd_plus_the_forecast_of_the_months_left(ds):
    (p,) = pacing(ds, "2026-04", "company", Config())
    assert (p["kpi"], p["quarter"], p["months"], p["of_months"]) == ("sales_revenue",
                                                                       "2026-Q2", 1, 3)  # fmt: skip
    assert p["actual"] == 150.0 and p["rest"] == 300.0 and p["pace"] == 450.0
    assert p["method"] == "naive" and p["target"] == 600.0
    # the sum of two random-walk months is 2 e1 + e2: sd sigma x sqrt(5); its 80 % band
    # is narrower than the months' summed bounds, z sigma (1 + sqrt(2))
    half = Z90 * SIGMA * math.sqrt(5)  # 45.3
    assert p["upper"] - p["pace"] == pytest.approx(half, abs=3.0)
    assert p["pace"] - p["lower"] == pytest.approx(half, abs=3.0)
    assert p["upper"] - p["pace"] < Z90 * SIGMA * (1 + math.sqrt(2))  # 48.9
    # 450 and the band's top (~495) are under the target of 3 x 200
    assert p["below"] is True and p["attainment"] == 75.0


def test_the_quarters_last_month_paces_at_its_actual(tmp_path):
    goals = {"2025-10": 100.0, "2025-11": 100.0, "2025-12": 100.0}
    small = open_dataset(write_tables(tmp_path / "data", tables(goals)))
    (p,) = pacing(small, "2025-12", "company", Config())
    # 2025-Q4: 100 + 120 + 110, nothing left to forecast
    assert p["pace"] == p["lower"] == p["upper"] == p["actual"] == 330.0
    assert p["target"] == 300.0 and p["below"] is False and p["method"] == ""


def test_a_month_without_target_gives_no_quarter_target(tmp_path):
    goals = {"2026-04": 200.0, "2026-05": 200.0}  # June has none
    small = open_dataset(write_tables(tmp_path / "data", tables(goals)))
    (p,) = pacing(small, "2026-04", "company", Config())
    assert p["target"] is None and p["attainment"] is None and p["below"] is False


def test_quarter_pace_sums_paths_per_path():
    paths = np.array([[10.0, 0.0], [0.0, 10.0], [5.0, 5.0]])  # every path sums to 10
    p = quarter_pace(100.0, [5.0, 5.0], paths, 115.0)
    # summed per path, the band is a point: 110 (the months' own bands would add up)
    assert (p["pace"], p["lower"], p["upper"]) == (110.0, 110.0, 110.0)
    assert p["below"] is True
    above = quarter_pace(100.0, [5.0, 5.0], paths + [[0.0, 6.0]], 115.0)
    # the top of the band reaches 116: the pace is under target, not the whole band
    assert above["upper"] > 115.0 and above["below"] is False


def test_pace_below_alert_on_the_dataset(ds):
    rules = parse_rules([{"kpi": "sales_revenue", "pace_below": True}])
    found = check_dataset(ds, rules, "2026-04", Config())
    (alert,) = found.alerts
    assert (alert.kpi, alert.scope, alert.kind, alert.value) == (
        "sales_revenue",
        "company",
        "pace_below",
        450.0,
    )
    assert alert.rule.startswith("on pace for $450 this quarter (80 %: $4")
    assert alert.rule.endswith("against a $600 target (2026-Q2)")
