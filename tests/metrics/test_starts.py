"""Where a KPI's data starts (DATA_CONTRACT.md): per KPI, the latest first event of its
inputs. Months before it are not available, never 0, and so are comparisons with them.
Values worked out by hand in tests/late_start_fixture.py (deals created from 2016-10,
first closed in 2017-03)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import write_tables
from late_start_fixture import tables

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset

BEFORE_CLOSE = "before the first closed deal, 2017-03"


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    return open_dataset(write_tables(tmp_path_factory.mktemp("crm"), tables()))


@pytest.fixture(scope="module")
def rows(crm) -> pd.DataFrame:
    ids = ["monthly_sales_bookings", "win_rate", "average_deal_size", "pipeline_value", "new_leads"]
    df = kpis.compute(crm, "2017-05", months=8, kpis=ids)
    return df.set_index(["kpi", "month"])


@pytest.mark.parametrize("kpi", ["monthly_sales_bookings", "win_rate", "average_deal_size"])
def test_won_and_lost_kpis_start_with_the_first_closed_deal(rows, kpi):
    for month in ("2016-10", "2016-12", "2017-02"):
        r = rows.loc[(kpi, month)]
        assert (r["status"], r["reason"]) == ("not_available", BEFORE_CLOSE), (kpi, month)
        assert math.isnan(r["value"])


def test_bookings_from_the_first_close_and_no_change_against_the_months_before(rows):
    b = rows.loc["monthly_sales_bookings"]
    assert b["value"].loc["2017-03":].tolist() == [1000.0, 2000.0, 400.0]
    # March's previous month has no value: no MoM change (not "+inf" or "-100 %" vs a 0)
    march = b.loc["2017-03"]
    assert math.isnan(march["previous_month"]) and math.isnan(march["mom_change"])
    assert b.loc["2017-04", "mom_change"] == pytest.approx(100.0)  # 1,000 -> 2,000
    assert rows.loc[("win_rate", "2017-04"), "value"] == pytest.approx(50.0)  # D3 won, D2 lost


def test_pipeline_states_start_with_the_first_deal(rows):
    p = rows.loc["pipeline_value"]
    assert (p["status"] == "ok").all()
    assert p.loc["2016-12", "value"] == 3500.0  # D1 + D2 + D3 open at the end of December
    assert p.loc["2017-05", "value"] == 1000.0  # D4 + D5


def test_lead_kpis_start_with_the_first_lead(rows):
    leads = rows.loc["new_leads"]
    october = leads.loc["2016-10"]
    assert (october["status"], october["reason"]) == (
        "not_available",
        "before the first lead, 2016-11",
    )
    assert leads.loc["2016-11", "value"] == 1.0  # L1
    assert leads.loc["2016-12", "value"] == 0.0  # a real 0: leads are in the data


def test_a_lag_is_checked_against_its_own_measure_start(crm):
    """Sales velocity of 2017-03 reads the deals open at the end of 2017-02: before the
    first closed deal, but after the first deal, so it has a value: 5 deals open (D1..D5)
    x average deal 1,000 (D1) x win rate 100 % / cycle 156 days (2016-10-05..2017-03-10)."""
    df = kpis.compute(crm, "2017-03", months=2, kpis=["sales_velocity"]).set_index("month")
    assert df.loc["2017-03", "status"] == "ok"
    assert df.loc["2017-03", "value"] == pytest.approx(5 * 1000 / 156)
    assert (df.loc["2017-02", "status"], df.loc["2017-02", "reason"]) == (
        "not_available",
        BEFORE_CLOSE,
    )


def test_series_before_the_first_close_is_nan(crm):
    s = kpis.series(crm, "monthly_sales_bookings")
    assert s.index[0] == "2016-10" and s.loc[:"2017-02"].isna().all()
    assert s.loc["2017-03":].tolist() == [1000.0, 2000.0, 400.0]
