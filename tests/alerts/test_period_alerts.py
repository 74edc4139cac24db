"""``kpi-kit alerts --period quarter``: the rules read the quarter's rows, on a hand-made
dataset. Deals won (bookings) in 2026: July 50, August 50, September 300; a bookings
target of 200 every month. September alone is 300 / 200 = 150 % of its target; the
quarter 2026-Q3 is (50 + 50 + 300) / (3 x 200) = 400 / 600 = 66.7 %."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.cli import main

RULE = '[[alerts]]\nkpi = "sales_target_attainment"\nbelow = 100\n'


def tables() -> dict[str, pd.DataFrame]:
    won = [("D1", "2026-07-10", 50.0), ("D2", "2026-08-12", 50.0), ("D3", "2026-09-15", 300.0)]
    return {
        "reps": pd.DataFrame({"rep_id": ["r1"], "name": ["Ann"], "team": ["T"]}),
        "accounts": pd.DataFrame({"account_id": ["A1"], "owner_rep_id": ["r1"]}),
        "opportunities": pd.DataFrame(
            {
                "opportunity_id": [d for d, _, _ in won],
                "account_id": "A1",
                "rep_id": "r1",
                "created_at": "2026-07-01",
                "closed_at": [c for _, c, _ in won],
                "stage": "closed_won",
                "amount": [a for _, _, a in won],
            }
        ),
        "targets": pd.DataFrame(
            {
                "month": ["2026-07", "2026-08", "2026-09"],
                "kpi": "monthly_sales_bookings",
                "target": 200.0,
            }
        ),
    }


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("period-alerts")
    (folder / "kpi.toml").write_text(RULE, encoding="utf-8")
    return write_tables(folder / "data", tables()), folder / "kpi.toml"


def alerts(data, *more: str) -> int:
    source, config = data
    args = ["alerts", "--source", str(source), "--config", str(config), "--month", "2026-09"]
    return main([*args, *more])


def test_the_month_meets_its_target(data, capsys):
    assert alerts(data) == 0
    assert capsys.readouterr().out == "No alerts for 2026-09 (1 rule(s) checked).\n"


def test_the_quarter_misses_the_quarters_target(data, capsys):
    assert alerts(data, "--period", "quarter", "--format", "json") == 3
    (alert,) = json.loads(capsys.readouterr().out)
    assert (alert["kpi"], alert["scope"], alert["rule"]) == (
        "sales_target_attainment",
        "company",
        "below 100.0 %",
    )
    assert alert["value"] == pytest.approx(400 / 600 * 100)
    assert alert["value_text"] == "66.7 %"
    assert alerts(data, "--period", "quarter") == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "1 alert(s) for 2026-Q3 (1 rule(s) checked)."
