"""The shipped mappings load the real public exports in ../shared/datasets/.

Expected values are read from the raw files here with plain pandas, independently of
the kit. Skipped when the datasets folder is absent (it is never copied into the repo).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT, SHARED_DATASETS

from kpi_helpers.cli import main
from kpi_helpers.data import open_dataset

SUPERSTORE = SHARED_DATASETS / "superstore"
OLIST = SHARED_DATASETS / "olist_funnel"
needs_superstore = pytest.mark.skipif(not SUPERSTORE.is_dir(), reason="no shared datasets")
needs_olist = pytest.mark.skipif(not OLIST.is_dir(), reason="no shared datasets")


@pytest.fixture(scope="module")
def superstore():
    raw = pd.read_csv(SUPERSTORE / "Sample - Superstore.csv", encoding="utf-8-sig")
    ds = open_dataset(SUPERSTORE, ROOT / "examples" / "superstore" / "mapping.toml")
    return raw, ds


@needs_superstore
def test_superstore_orders(superstore):
    raw, ds = superstore
    orders = ds.frame("orders")
    assert len(orders) == len(raw) == 10_194
    assert orders["order_id"].nunique() == raw["Order ID"].nunique() == 5_111
    assert orders["revenue"].sum() == pytest.approx(raw["Sales"].sum(), rel=1e-12)
    assert orders["cost"].sum() == pytest.approx((raw["Sales"] - raw["Profit"]).sum(), rel=1e-12)
    first = raw.iloc[0]
    line = orders[(orders.order_id == first["Order ID"]) & (orders.revenue == first["Sales"])].iloc[
        0
    ]
    day, month, year = map(int, first["Order Date"].split("/"))
    assert line["ordered_at"] == pd.Timestamp(2000 + year, month, day)
    assert line["cost"] == pytest.approx(first["Sales"] - first["Profit"])
    assert line["product"] == first["Sub-Category"]
    assert line["rep_id"] == first["Region"]
    assert orders["ordered_at"].min() == pd.to_datetime(raw["Order Date"], format="%d/%m/%y").min()


@needs_superstore
def test_superstore_accounts_and_reps(superstore):
    raw, ds = superstore
    accounts = ds.frame("accounts").set_index("account_id")
    assert len(accounts) == raw["Customer ID"].nunique() == 804
    first = raw.drop_duplicates("Customer ID").set_index("Customer ID")
    some = first.index[17]
    assert accounts.loc[some, "account_name"] == first.loc[some, "Customer Name"]
    assert accounts.loc[some, "segment"] == first.loc[some, "Segment"]
    people = pd.read_csv(SUPERSTORE / "people.csv")
    reps = ds.frame("reps").set_index("rep_id")
    assert sorted(reps.index) == sorted(people["Region"])
    assert (
        reps.loc["West", "rep_name"] == people.set_index("Region").loc["West", "Regional Manager"]
    )


@needs_superstore
def test_superstore_validates_without_errors(capsys):
    code = main(
        [
            "validate",
            "--source",
            str(SUPERSTORE),
            "--mapping",
            str(ROOT / "examples" / "superstore" / "mapping.toml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1  # warnings only: the tables Superstore does not have
    assert "0 error(s)" in out and "table leads is missing" in out


@needs_olist
def test_olist_leads_and_won_deals():
    leads_raw = pd.read_csv(OLIST / "olist_marketing_qualified_leads_dataset.csv")
    deals_raw = pd.read_csv(OLIST / "olist_closed_deals_dataset.csv")
    ds = open_dataset(OLIST, ROOT / "examples" / "olist" / "mapping.toml")
    leads = ds.frame("leads").set_index("lead_id")
    opps = ds.frame("opportunities").set_index("opportunity_id")
    assert len(leads) == 8_000 and len(opps) == 842
    assert leads["converted_at"].notna().sum() == len(deals_raw)
    assert leads["source"].isna().sum() == leads_raw["origin"].isna().sum()
    deal = deals_raw.iloc[10]
    assert opps.loc[deal.mql_id, "closed_at"] == pd.Timestamp(deal.won_date)
    contact = leads_raw.set_index("mql_id").loc[deal.mql_id, "first_contact_date"]
    assert opps.loc[deal.mql_id, "created_at"] == pd.Timestamp(contact)
    assert set(opps["stage"]) == {"closed_won"}
    assert ds.frame("reps")["rep_id"].nunique() == deals_raw["sr_id"].nunique()


@needs_olist
def test_olist_real_data_quality_problem_is_found(capsys):
    # One Olist deal is won before its lead first made contact: a real finding.
    code = main(
        [
            "validate",
            "--source",
            str(OLIST),
            "--mapping",
            str(ROOT / "examples" / "olist" / "mapping.toml"),
        ]
    )
    assert code == 2
    assert "opportunities.closed_at: closed_at is before created_at [1 row(s)]" in (
        capsys.readouterr().out
    )
