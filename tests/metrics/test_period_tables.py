"""A QBR's tables of events cover the quarter's months, not only its last (``LiveData``,
``metrics.tables.table_span``): hand-worked on a few rows whose quarter months differ.

Fiscal years from November: FY2026-Q3 is May..July 2026; the data runs through June, so
the quarter is to date (May and June). The quarter before, FY2026-Q2, is February..April:
its same leading months (February, March) are what a quarter to date is compared with.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.core import Config
from kpi_helpers.report.live import LiveData

CFG = Config(fiscal_year_start=11)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    reps = pd.DataFrame({"rep_id": ["r1", "r2"], "rep_name": ["Ann", "Bob"], "team": "T"})
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "owner_rep_id": ["r1", "r2"]})
    won = pd.DataFrame(
        {
            "opportunity_id": ["D0", "D1", "D2", "D3"],
            "account_id": ["A1", "A1", "A2", "A1"],
            "rep_id": ["r1", "r1", "r2", "r1"],
            "created_at": ["2026-01-05", "2026-04-20", "2026-05-02", "2026-06-01"],
            "closed_at": ["2026-03-20", "2026-05-10", "2026-05-25", "2026-06-05"],
            "stage": "closed_won",
            "amount": [50.0, 100.0, 200.0, 300.0],
            "contact_method": ["phone", "email", "phone", "email"],
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ["L0", "L1", "L2", "L3"],
            "created_at": ["2026-04-30", "2026-05-02", "2026-05-20", "2026-06-20"],
            "source": ["ads", "web", "web", "ads"],
            "rep_id": "r1",
            "converted_at": ["2026-05-03", "2026-05-09", None, "2026-06-25"],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
            "ordered_at": ["2026-02-10", "2026-03-10", "2026-04-10", "2026-05-10",
                           "2026-05-20", "2026-06-10"],
            "account_id": "A1",
            "product": ["P1", "P2", "P1", "P1", "P2", "P1"],
            "revenue": [40.0, 10.0, 99.0, 10.0, 20.0, 30.0],
        }
    )  # fmt: skip
    tables = dict(reps=reps, accounts=accounts, opportunities=won, leads=leads, orders=orders)
    return write_tables(tmp_path_factory.mktemp("qtables"), tables)


@pytest.fixture(scope="module")
def quarter(folder):
    live = LiveData(str(folder), config=CFG, month="2026-06", period="quarter")
    assert (live.label, live.month) == ("FY2026-Q3", "2026-06")
    return live


def test_the_leaderboard_covers_the_quarter(quarter):
    board = quarter.table("rep_leaderboard", "company").set_index("rep_id")
    # May and June: r1 won D1 (100) and D3 (300), r2 won D2 (200); D0 is March's
    assert board.loc["r1", "monthly_sales_bookings"] == pytest.approx(100 + 300)
    assert board.loc["r2", "monthly_sales_bookings"] == pytest.approx(200)
    assert board.loc["r1", "deals_won"] == 2 and board["rank"].tolist() == [1, 2]


def test_the_contact_methods_and_lead_sources_cover_the_quarter(quarter):
    methods = quarter.table("sales_by_contact_method", "company").set_index("contact_method")
    assert methods["won_amount"].to_dict() == {"email": 400.0, "phone": 200.0}
    assert methods.loc["email", "share_of_won_amount"] == pytest.approx(400 / 600 * 100)
    sources = quarter.table("leads_by_source", "company").set_index("source")
    # L1, L2 (web) in May, L3 (ads) in June; L0 is April's
    assert sources[["leads", "converted"]].to_dict("index") == {
        "web": {"leads": 2, "converted": 1},
        "ads": {"leads": 1, "converted": 1},
    }
    funnel = quarter.table("funnel", "company").set_index("step")["leads"]
    assert (funnel["created"], funnel["converted"]) == (3, 2)


def test_the_products_cover_the_quarter_against_the_same_months_before(quarter):
    products = quarter.table("product_performance", "company").set_index("product")
    # May + June: P1 10 + 30, P2 20; February + March (not April): P1 40, P2 10
    assert products["revenue"].to_dict() == {"P1": 40.0, "P2": 20.0}
    assert products.loc["P1", "share_of_revenue"] == pytest.approx(40 / 60 * 100)
    assert products.loc["P1", "qoq_growth"] == pytest.approx(0.0)
    assert products.loc["P2", "qoq_growth"] == pytest.approx((20 - 10) / 10 * 100)
    assert "mom_growth" not in products


def test_a_months_tables_stay_the_months(folder):
    live = LiveData(str(folder), config=CFG, month="2026-06")
    board = live.table("rep_leaderboard", "company").set_index("rep_id")
    assert board.loc["r1", "monthly_sales_bookings"] == pytest.approx(300)
    products = live.table("product_performance", "company").set_index("product")
    assert products["revenue"].to_dict() == {"P1": 30.0}
    assert products.loc["P1", "mom_growth"] == pytest.approx((30 - 10) / 10 * 100)  # May: 10


def test_a_quarters_model_table_is_as_of_its_last_month_with_data(tmp_path):
    from kpi_helpers import kpis
    from kpi_helpers.data import open_dataset

    # the data runs through 2026-11 (D3 closes then): 2026-Q4 is to date, its last month
    # with data November. The pipeline outlook of the end of October is the deals due in
    # November (D1, $1,000); of the end of November, those due in December (D2, $3,000).
    src = write_tables(
        tmp_path,
        {
            "reps": "rep_id,team\na1,A\n",
            "opportunities": "opportunity_id,created_at,stage,amount,closed_at,"
            "expected_close_at,rep_id\n"
            "D1,2026-09-01,negotiation,1000,,2026-11-15,a1\n"
            "D2,2026-09-01,negotiation,3000,,2026-12-10,a1\n"
            "D3,2026-09-01,closed_won,500,2026-11-20,,a1\n",
        },
    )
    ds = open_dataset(src)
    total = {}
    for month, period in (("2026-10", "month"), ("2026-10", "quarter"), ("2026-11", "month")):
        t = kpis.table(ds, "pipeline_outlook", month, period=period)
        total[month, period] = t.loc[t["stage"] == "total", "amount"].item()
    assert total == {
        ("2026-10", "month"): 1_000.0,
        ("2026-10", "quarter"): 3_000.0,
        ("2026-11", "month"): 3_000.0,
    }
