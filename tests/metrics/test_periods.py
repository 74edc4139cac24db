"""KPIs of fiscal quarters, worked out by hand (KPI_CATALOG.md, "Periods").

fiscal_year_start = 11: FY2026-Q1 is 2025-11..2026-01 (it straddles the calendar year),
the quarter before (FY2025-Q4) 2025-08..2025-10, and FY2026-Q2 (2026-02..04) runs past the
data (last event 2026-02-10): to date, 1 of 3 months. The rows below; each value's
arithmetic is in a comment beside it.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers import kpis
from kpi_helpers.cli import main
from kpi_helpers.core import Config
from kpi_helpers.data import open_dataset

CFG = Config(fiscal_year_start=11)
Q1 = "2026-01"  # a month of FY2026-Q1


def tables() -> dict[str, pd.DataFrame]:
    reps = pd.DataFrame({"rep_id": ["r1"], "name": ["Ann"], "team": ["T"]})
    accounts = pd.DataFrame(
        {"account_id": ["A1", "A2", "A3", "B1", "B2", "B3", "B4"], "owner_rep_id": ["r1"] * 7}
    )
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O4", "O5", "O6"],
            "account_id": ["A1", "A1", "A2", "A1", "A1", "A3", "A2"],
            "rep_id": ["r1"] * 7,
            "ordered_at": [
                "2025-08-10",
                "2025-11-05",
                "2025-12-05",
                "2026-01-05",
                "2026-01-05",
                "2026-01-20",
                "2026-02-10",
            ],
            "revenue": [100.0, 100.0, 200.0, 200.0, 100.0, 100.0, 50.0],
        }
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D2", "D3", "D4", "D5", "D6"],
            "account_id": ["A1", "A1", "A1", "A2", "A2", "A3"],
            "rep_id": ["r1"] * 6,
            "created_at": [
                "2025-10-01",
                "2025-10-01",
                "2025-11-01",
                "2025-12-01",
                "2025-12-01",
                "2025-12-15",
            ],
            "closed_at": [
                "2025-11-15",
                "2025-11-20",
                "2025-12-10",
                "2026-01-10",
                "2026-01-15",
                None,
            ],
            "stage": [
                "closed_won",
                "closed_lost",
                "closed_won",
                "closed_lost",
                "closed_lost",
                "proposal",
            ],
            "amount": [1000.0, 500.0, 2000.0, 300.0, 300.0, 4000.0],
        }
    )
    # response hours: Nov 1 and 3, Dec 10, Jan 4, 5 and 6
    created = ["2025-11-03", "2025-11-04", "2025-12-03", "2026-01-05", "2026-01-06", "2026-01-07"]
    hours = [1, 3, 10, 4, 5, 6]
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(1, 7)],
            "rep_id": ["r1"] * 6,
            "created_at": pd.to_datetime(created),
            "first_response_at": [
                pd.Timestamp(c) + pd.Timedelta(hours=h) for c, h in zip(created, hours, strict=True)
            ],
        }
    )
    subscriptions = pd.DataFrame(
        {
            "subscription_id": ["S1", "S2", "S3", "S4", "S5"],
            "account_id": ["B1", "B2", "B2", "B3", "B4"],
            "started_at": ["2025-06-01", "2025-06-01", "2026-01-05", "2025-12-01", "2025-06-01"],
            "ended_at": ["2025-12-10", "2025-11-15", None, "2026-01-20", None],
            "mrr": [100.0, 50.0, 80.0, 30.0, 200.0],
        }
    )
    targets = pd.DataFrame(
        {
            "month": ["2025-11", "2025-12", "2026-01", "2025-11", "2026-01", "2026-01", "2026-02"],
            "kpi": ["monthly_sales_bookings"] * 3
            + ["sales_revenue", "sales_revenue", "pipeline_value", "monthly_sales_bookings"],
            "target": [1000.0, 1000.0, 1500.0, 300.0, 300.0, 5000.0, 800.0],
        }
    )
    return {
        "reps": reps,
        "accounts": accounts,
        "orders": orders,
        "opportunities": opportunities,
        "leads": leads,
        "subscriptions": subscriptions,
        "targets": targets,
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("periods") / "data", tables())


@pytest.fixture(scope="module")
def quarters(data_dir):
    """FY2025-Q4, FY2026-Q1 and FY2026-Q2 (to date), company, one pass."""
    ds = open_dataset(data_dir)
    df = kpis.compute(ds, "2026-02", 3, "company", config=CFG, period="quarter")
    return df.set_index(["period", "kpi"])


def row(quarters, period: str, kpi: str) -> pd.Series:
    return quarters.loc[(period, kpi)]


def test_a_flow_is_summed_over_the_quarter(quarters):
    r = row(quarters, "FY2026-Q1", "sales_revenue")
    # Nov 100 + Dec 200 + Jan 200 + 100 + 100 = 700; FY2025-Q4 (Aug..Oct): 100
    assert r["value"] == 700.0 and r["previous_month"] == 100.0
    assert r["mom_change"] == pytest.approx(600.0)
    assert (r["period_start"], r["period_end"], r["month"], r["to_date"]) == (
        "2025-11",
        "2026-01",
        "2026-01",
        False,
    )
    # FY2025-Q1 (2024-11..2025-01) lies before the first order line (2025-08)
    assert math.isnan(r["same_month_last_year"])


def test_a_ratio_is_never_the_mean_of_its_months(quarters):
    # won D1, D3 / (won 2 + lost D2, D4, D5) = 40 %; the monthly rates 50, 100, 0 average 50
    assert row(quarters, "FY2026-Q1", "win_rate")["value"] == pytest.approx(40.0)
    # AOV 700 / 4 orders (O4's two lines are one order) = 175; months 100, 200, 200 avg 166.7
    assert row(quarters, "FY2026-Q1", "average_order_value")["value"] == pytest.approx(175.0)
    # ARPA: 700 / 3 distinct accounts (A1, A2, A3); the months' accounts add up to 1+1+2 = 4
    assert row(quarters, "FY2026-Q1", "average_revenue_per_account")["value"] == pytest.approx(
        700 / 3
    )


def test_a_median_is_over_the_quarters_leads(quarters):
    # median of 1, 3, 10, 4, 5, 6 hours = (4 + 5) / 2; the months' medians are 2, 10, 5
    assert row(quarters, "FY2026-Q1", "lead_response_time")["value"] == pytest.approx(4.5)


def test_a_state_is_the_quarters_last_month(quarters):
    # open at the end of Jan 2026: D6 4000 (D4, D5 closed in Jan; end of Dec: 4600)
    r = row(quarters, "FY2026-Q1", "pipeline_value")
    assert r["value"] == 4000.0
    # the target of its last month (Jan 5000): attainment 80 %
    assert r["target"] == 5000.0 and r["attainment"] == pytest.approx(80.0)


def test_churn_is_over_the_span(quarters):
    # active at the start (end of Oct): A1 (order in Aug, 365-day lookback), B1, B2, B4 = 4;
    # lost between the start and the end of the quarter: B1 only (B2 lost in Nov but back
    # in Jan, B3 new in Dec): 1 / 4 = 25 % (summing the months' losses would give 3)
    assert row(quarters, "FY2026-Q1", "customer_loss")["value"] == 1.0
    assert row(quarters, "FY2026-Q1", "churn_rate")["value"] == pytest.approx(25.0)
    # MRR start 100 + 50 + 200 = 350, per account between the two instants: B1 churned
    # 100, B2 50 -> 80 expansion 30, B3 0 -> 0 none: revenue churn 100 / 350
    assert row(quarters, "FY2026-Q1", "revenue_churn_rate")["value"] == pytest.approx(
        100 / 350 * 100
    )
    assert row(quarters, "FY2026-Q1", "net_new_mrr")["value"] == pytest.approx(280 - 350)


def test_growth_is_quarter_over_quarter(quarters):
    # (700 - 100) / 100 x 100
    assert row(quarters, "FY2026-Q1", "monthly_sales_growth")["value"] == pytest.approx(600.0)


def test_targets_are_summed_for_flows_and_need_every_month(quarters):
    r = row(quarters, "FY2026-Q1", "monthly_sales_bookings")
    # bookings D1 1000 + D3 2000 = 3000 against 1000 + 1000 + 1500
    assert r["value"] == 3000.0 and r["target"] == 3500.0
    assert r["attainment"] == pytest.approx(3000 / 3500 * 100)
    a = row(quarters, "FY2026-Q1", "sales_target_attainment")["value"]
    assert a == pytest.approx(3000 / 3500 * 100)
    # sales_revenue has targets for Nov and Jan, none for Dec: no quarter target
    assert math.isnan(row(quarters, "FY2026-Q1", "sales_revenue")["target"])


def test_a_quarter_to_date(quarters):
    r = row(quarters, "FY2026-Q2", "sales_revenue")
    # Feb 50 so far, against the same leading month of FY2026-Q1 (Nov 100), not its 700
    assert (r["value"], r["previous_month"], r["to_date"]) == (50.0, 100.0, True)
    assert (r["month"], r["period_start"], r["period_end"]) == ("2026-02", "2026-02", "2026-04")
    assert r["mom_change"] == pytest.approx(-50.0)
    # growth of the span: (50 - 100) / 100
    assert row(quarters, "FY2026-Q2", "monthly_sales_growth")["value"] == pytest.approx(-50.0)
    # gap to target: the targets of every month of the quarter (Feb 800; Mar, Apr none)
    assert math.isnan(row(quarters, "FY2026-Q2", "gap_to_target")["value"])


def test_compute_cli_writes_the_period_columns(data_dir, tmp_path, capsys):
    toml = tmp_path / "kpi.toml"
    toml.write_text("fiscal_year_start = 11\n", encoding="utf-8")
    out = tmp_path / "q.csv"
    args = ["compute", "--source", str(data_dir), "--config", str(toml), "--month", Q1]
    assert main([*args, "--period", "quarter", "--periods", "2", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns[:5]) == ["month", "period", "period_start", "period_end", "to_date"]
    assert df[["period", "period_start", "period_end"]].drop_duplicates().values.tolist() == [
        ["FY2025-Q4", "2025-08", "2025-10"],
        ["FY2026-Q1", "2025-11", "2026-01"],
    ]
    # months keep their rows, with the period columns too; --months is --periods
    assert main([*args, "--months", "2", "--out", str(out), "--kpi", "sales_revenue"]) == 0
    df = pd.read_csv(out)
    assert df[["month", "period", "period_end", "to_date", "value"]].values.tolist() == [
        ["2025-12", "2025-12", "2025-12", False, 200.0],
        ["2026-01", "2026-01", "2026-01", False, 400.0],
    ]
