"""More periods asked than the data has: the periods before the data are rows saying so,
not a crash (``kpi-kit alerts --period quarter`` asks for 13 quarters)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset


def test_13_quarters_of_one_quarters_data(tmp_path):
    # won: July 50, August 50, September 300 (2026-Q3); targets 200 a month
    folder = write_tables(
        tmp_path / "data",
        {
            "reps": pd.DataFrame({"rep_id": ["r1"], "name": ["Ann"], "team": ["T"]}),
            "accounts": pd.DataFrame({"account_id": ["A1"], "owner_rep_id": ["r1"]}),
            "opportunities": pd.DataFrame(
                {
                    "opportunity_id": ["D1", "D2", "D3"],
                    "account_id": "A1",
                    "rep_id": "r1",
                    "created_at": "2026-07-01",
                    "closed_at": ["2026-07-10", "2026-08-12", "2026-09-15"],
                    "stage": "closed_won",
                    "amount": [50.0, 50.0, 300.0],
                }
            ),
            "targets": pd.DataFrame(
                {
                    "month": ["2026-07", "2026-08", "2026-09"],
                    "kpi": "monthly_sales_bookings",
                    "target": 200.0,
                }
            ),  # fmt: skip
        },
    )
    with open_dataset(str(folder)) as ds:
        got = kpis.compute(ds, "2026-09", months=13, kpis=["sales_target_attainment"],
                           period="quarter")  # fmt: skip
    quarters = [f"{y}-Q{q}" for y in (2023, 2024, 2025, 2026) for q in (1, 2, 3, 4)]
    assert list(got["period"]) == quarters[2:15]  # 2023-Q3 .. 2026-Q3
    assert (got["status"].iloc[:-1] == "not_available").all()
    # (50 + 50 + 300) / (3 x 200)
    assert got["value"].iloc[-1] == pytest.approx(400 / 600 * 100)
