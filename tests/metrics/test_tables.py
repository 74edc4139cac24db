"""Table KPIs against hand-worked values from tests/kpi_fixture.py (m = 2026-03)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables
from kpi_fixture import tables

from kpi_helpers import kpis
from kpi_helpers.catalog import CATALOG, get
from kpi_helpers.core import KitError
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics.tables import TABLES
from kpi_helpers.models import MODEL_TABLES

M = "2026-03"


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return open_dataset(write_tables(tmp_path_factory.mktemp("tables"), tables()))


def test_every_table_kpi_has_a_function():
    # formula tables in metrics, model tables in models: each table in exactly one
    assert {k.table for k in CATALOG if k.is_table} == set(TABLES) | set(MODEL_TABLES)
    assert not set(TABLES) & set(MODEL_TABLES)


def test_pipeline_health(ds):
    df = kpis.table(ds, "pipeline_health", M).set_index("stage")
    # O1: proposal, 2000, open since 2026-02-10: 50 days at 2026-04-01
    assert df.loc["proposal", ["deals", "value", "median_age_days"]].tolist() == [1, 2000, 50]
    # O2 was open at the end of m and closed on the 1st of m+1: its stage then is unknown
    assert df.loc["(closed since)", ["deals", "value", "median_age_days"]].tolist() == [1, 800, 17]
    assert df["share_of_value"].sum() == pytest.approx(100)


def test_funnel(ds):
    df = kpis.table(ds, "funnel", M).set_index("step")
    assert df["leads"].to_dict() == {
        "created": 4,
        "contacted": 3,
        "engaged": 1,
        "qualified": 1,
        "converted": 1,
        "won": 1,
    }
    assert df.loc["contacted", "conversion_from_previous"] == pytest.approx(75.0)
    assert df.loc["engaged", "conversion_from_previous"] == pytest.approx(100 / 3)


def test_funnel_for_a_team(ds):
    df = kpis.table(ds, "funnel", M, scope="team:South").set_index("step")
    assert df.loc["created", "leads"] == 2 and df.loc["contacted", "leads"] == 1


def test_product_performance(ds):
    df = kpis.table(ds, "product_performance", M).set_index("product")
    assert df.loc["P", ["revenue", "units"]].tolist() == [150.0, 4.0]  # 50 + 120 - 20
    assert df.loc["Q", "revenue"] == 30.0
    assert df.loc["P", "share_of_revenue"] == pytest.approx(150 / 180 * 100)
    assert df.loc["P", "mom_growth"] == pytest.approx((150 - 400) / 400 * 100)
    assert pd.isna(df.loc["Q", "mom_growth"])  # no Q in February


def test_sales_by_contact_method(ds):
    df = kpis.table(ds, "sales_by_contact_method", M).set_index("contact_method")
    assert df["won_amount"].to_dict() == {"call": 1000.0, "email": 500.0}
    assert df.loc["call", "share_of_won_amount"] == pytest.approx(200 / 3)


def test_product_penetration_rate(ds):
    df = kpis.table(ds, "product_penetration_rate", M).set_index("product")
    # 5 active customers; in the 12 months P: A1, A3; Q: A1; R: A2 (A1's R is 13 months old)
    assert df["penetration_rate"].to_dict() == pytest.approx({"P": 40.0, "Q": 20.0, "R": 20.0})


def test_product_affinity(ds):
    df = kpis.table(ds, "product_affinity", M)
    assert len(df) == 1  # only A1 bought two products: P and Q
    row = df.iloc[0]
    assert (row.product_a, row.product_b, row.accounts) == ("P", "Q", 1)
    assert row.support == pytest.approx(1 / 3)  # of A1, A2, A3
    assert row.confidence_a_to_b == pytest.approx(0.5)  # (1/3) / (2/3)
    assert row.lift == pytest.approx(1.5)  # (1/3) / ((2/3) * (1/3))


def test_customer_profitability(ds):
    df = kpis.table(ds, "customer_profitability", M)
    acc = df[df.level == "account"].set_index("account_id")
    assert acc.loc["A1", ["revenue", "cogs", "gross_profit"]].tolist() == [660.0, 252.0, 408.0]
    assert acc.loc["A1", "account_name"] == "Acme & Co"
    seg = df[df.level == "segment"].set_index("segment")
    assert seg.loc["SMB", ["revenue", "gross_profit"]].tolist() == [960.0, 608.0]
    assert seg.loc["Enterprise", "gross_profit"] == 60.0


def test_mrr_movements(ds):
    df = kpis.table(ds, "mrr_movements", M).set_index("account_id")
    assert df["movement"].to_dict() == {
        "A1": "expansion",
        "A2": "contraction",
        "A3": "new",
        "A4": "reactivation",
        "A6": "churned",
    }
    assert df["change"].to_dict() == {"A1": 40.0, "A2": -30.0, "A3": 60.0, "A4": 70.0, "A6": -50.0}


def test_cohort_retention_on_the_fixture(ds):
    df = kpis.table(ds, "cohort_retention", M).set_index("cohort")
    assert list(df.columns) == ["customers"] + [f"k{k}" for k in range(12)]
    assert list(df.index) == [f"2025-{k:02d}" for k in range(4, 13)] + ["2026-01", "2026-02", M]
    # 2026-01: A2 (first order Y2): its order in January, then S1 running at the ends of
    # February and March
    assert df.loc["2026-01", "customers"] == 1
    assert df.loc["2026-01"].iloc[1:4].tolist() == [100.0, 100.0, 100.0]
    # 2026-03: A3 (order X2, S6), A4 (W1; S8 running at the end of m), A5 (W2 only: no
    # order line and no subscription in m, so not active)
    assert df.loc[M, "customers"] == 3
    assert df.loc[M, "k0"] == pytest.approx(200 / 3)
    assert df.loc[M].iloc[2:].isna().all()  # k1..k11 fall after m
    assert df.loc["2025-04", "customers"] == 0 and df.loc["2025-04"].iloc[1:].isna().all()


def test_cohort_retention_hand_worked(tmp_path):
    """m = 2025-06. Owners: D1, D2, D3 -> R1 (North), D4 -> R2 (South).

    D1 orders 2025-03-05 and 2025-05-10.
    D2 orders 2025-03-20, subscribes 2025-03-25..2025-05-15 (running at the ends of March
       and April, not of May).
    D3 wins a deal 2025-04-28 (its first purchase: cohort 2025-04), orders 2025-05-02 and
       has only a return (-5) in June.
    D4 orders 2025-04-15 and subscribes from that day on.
    D5 has a return only: no purchase, no cohort.

    cohort 2025-03 (D1, D2): k0 2/2, k1 D2 1/2, k2 D1 1/2, k3 0/2; k4.. after m.
    cohort 2025-04 (D3, D4): k0 D4 1/2, k1 2/2, k2 D4 1/2; k3.. after m.
    team North, cohort 2025-04 (D3): k0 0, k1 100, k2 0.
    """
    t = {
        "reps": pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]}),
        "accounts": pd.DataFrame(
            {
                "account_id": ["D1", "D2", "D3", "D4", "D5"],
                "owner_rep_id": ["R1", "R1", "R1", "R2", "R1"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7"],
                "ordered_at": [
                    "2025-03-05",
                    "2025-05-10",
                    "2025-03-20",
                    "2025-05-02",
                    "2025-06-07",
                    "2025-04-15",
                    "2025-04-20",
                ],
                "account_id": ["D1", "D1", "D2", "D3", "D3", "D4", "D5"],
                "revenue": [10.0, 10.0, 10.0, 10.0, -5.0, 20.0, -3.0],
            }
        ),
        "opportunities": pd.DataFrame(
            {
                "opportunity_id": ["W1"],
                "created_at": ["2025-04-01"],
                "stage": ["closed_won"],
                "amount": [100.0],
                "closed_at": ["2025-04-28"],
                "rep_id": ["R1"],
                "account_id": ["D3"],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "subscription_id": ["U1", "U2"],
                "account_id": ["D2", "D4"],
                "started_at": ["2025-03-25", "2025-04-15"],
                "ended_at": ["2025-05-15", None],
                "mrr": [5.0, 5.0],
            }
        ),
    }
    ds = open_dataset(write_tables(tmp_path, t))
    df = kpis.table(ds, "cohort_retention", "2025-06").set_index("cohort")
    assert len(df) == 12 and df.index[0] == "2024-07" and df.index[-1] == "2025-06"
    ks = [f"k{k}" for k in range(12)]
    nan = float("nan")
    assert df.loc["2025-03", "customers"] == 2
    assert df.loc["2025-03", ks].tolist() == pytest.approx(
        [100.0, 50.0, 50.0, 0.0] + [nan] * 8, nan_ok=True
    )
    assert df.loc["2025-04", "customers"] == 2
    assert df.loc["2025-04", ks].tolist() == pytest.approx(
        [50.0, 100.0, 50.0] + [nan] * 9, nan_ok=True
    )
    empty = df.drop(index=["2025-03", "2025-04"])
    assert (empty["customers"] == 0).all() and empty[ks].isna().all().all()
    north = kpis.table(ds, "cohort_retention", "2025-06", scope="team:North")
    north = north.set_index("cohort")
    assert north.loc["2025-04", "customers"] == 1
    assert north.loc["2025-04", ["k0", "k1", "k2", "k3"]].tolist() == pytest.approx(
        [0.0, 100.0, 0.0, nan], nan_ok=True
    )


def test_rep_leaderboard(ds):
    df = kpis.table(ds, "rep_leaderboard", M).set_index("rep_id")
    assert list(df.index[:2]) == ["R1", "R4"]
    r1 = df.loc["R1"]
    assert (r1.monthly_sales_bookings, r1.deals_won, r1.win_rate) == (900.0, 1.0, 50.0)
    assert (r1.new_leads, r1.activities, r1.attainment) == (2.0, 3.0, 90.0)  # V1 is "other"
    assert r1.rep_name == "Ana <b>" and r1.team == "North"
    assert df.loc["R9", "team"] == "unassigned"
    north = kpis.table(ds, "rep_leaderboard", M, scope="team:North")
    assert set(north.rep_id) <= {"R1", "R2"}


def test_table_kpi_missing_input(tmp_path):
    t = tables()
    t["orders"] = t["orders"].drop(columns="product")
    with pytest.raises(KitError, match="needs table `orders` with column `product`"):
        kpis.table(open_dataset(write_tables(tmp_path, t)), "product_performance", M)


def test_table_kpi_needs_one_scope(ds):
    with pytest.raises(KitError, match="needs one scope"):
        kpis.table(ds, "funnel", M, scope="team")


def test_every_table_a_page_shows_is_a_registered_table_kpi(ds):
    """Response times, leads by source and pipeline by age are table KPIs like the others,
    so compute --tables exports them and the snapshot holds them."""
    for name in ("response_hours", "leads_by_source", "pipeline_by_age", "cohort_retention"):
        assert get(name).is_table
    assert sorted(kpis.table(ds, "response_hours", M)["hours"]) == [1.5, 2.0, 4.0]  # Ld3 never
    sources = kpis.table(ds, "leads_by_source", M).set_index("source")
    assert sources["leads"].to_dict() == {"web": 3, "event": 1}
    assert sources.loc["web", "converted"] == 1
    ages = kpis.table(ds, "pipeline_by_age", M).set_index("age_band")
    assert ages.loc["< 30 days", "value"] == 800.0  # O2, 17 days
    assert ages.loc["30-59 days", "value"] == 2000.0  # O1, 50 days
    assert kpis.table(ds, "response_hours", M, "team:South")["hours"].tolist() == [2.0]


def test_pack_extra_missing_input(tmp_path):
    t = tables()
    t["leads"] = t["leads"].drop(columns="first_response_at")
    ds = open_dataset(write_tables(tmp_path, t))
    with pytest.raises(
        KitError,
        match="response_hours is not available: needs table `leads` "
        "with column `first_response_at`",
    ):
        kpis.table(ds, "response_hours", M)
