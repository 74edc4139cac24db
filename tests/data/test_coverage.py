"""Which months the data covers, the date it runs through (DATA_CONTRACT.md, "Data
through") and the first events KPIs start with ("Where a KPI's data starts")."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables
from late_start_fixture import tables

from kpi_helpers.core import Month
from kpi_helpers.data import (
    data_months,
    data_through,
    ends_early,
    first_event,
    open_dataset,
    period_with_data,
)


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    return open_dataset(write_tables(tmp_path_factory.mktemp("crm"), tables()))


def test_data_runs_through_the_last_close_not_the_last_created_deal(crm):
    # the last deal was created on 2017-03-05, D6 closed on 2017-05-31 18:00
    assert data_through(crm) == {
        "opportunities": pd.Timestamp("2017-05-31 18:00"),
        "leads": pd.Timestamp("2017-01-15"),
    }
    assert [str(m) for m in data_months(crm)] == ["2016-10", "2017-05"]


def test_tables_that_end_more_than_a_month_earlier_are_named(crm):
    assert ends_early(data_through(crm)) == "leads end 2017-01-15"
    # a month earlier exactly is not "more than a month"
    through = {"orders": pd.Timestamp("2017-05-31"), "leads": pd.Timestamp("2017-04-30")}
    assert ends_early(through) == ""


def test_first_events(crm):
    assert first_event(crm, "deal") == Month.parse("2016-10")
    assert first_event(crm, "closed_deal") == Month.parse("2017-03")
    assert first_event(crm, "lead") == Month.parse("2016-11")
    assert first_event(crm, "order_line") is None  # no orders table


def test_the_period_of_a_month_is_cut_to_the_data(crm):
    # the data runs through 2017-05: 2017-Q2 to date (April, May); with fiscal years from
    # November, FY2017 (2016-11..2017-10) to date, 7 of 12 months; Q1 is complete
    q = period_with_data(crm, Month.parse("2017-04"), "quarter")
    assert (q.label, str(q.through), q.status) == ("2017-Q2", "2017-05", "to date (2 of 3 months)")
    y = period_with_data(crm, Month.parse("2017-05"), "year", 11)
    assert (y.label, str(y.first), y.status) == ("FY2017", "2016-11", "to date (7 of 12 months)")
    q1 = period_with_data(crm, Month.parse("2017-02"), "quarter")
    assert (q1.label, str(q1.through), q1.to_date) == ("2017-Q1", "2017-03", False)
    assert str(period_with_data(crm, Month.parse("2017-05"), "month")) == "2017-05"


def test_planned_and_future_dates_are_not_data(tmp_path):
    """Expected close dates, targets and dates after today never move "data through"; a
    closed_at on a deal whose stage is open is no closed deal."""
    t = {
        "opportunities": pd.DataFrame(
            {
                "opportunity_id": ["O1", "O2"],
                "created_at": ["2017-01-10", "2017-02-03"],
                "stage": ["closed_won", "proposal"],
                "amount": [10.0, 20.0],
                "closed_at": ["2017-02-14", "2017-01-20"],  # O2: open, a stray close date
                "expected_close_at": [None, "2017-09-30"],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "subscription_id": ["S1"],
                "account_id": ["A1"],
                "started_at": ["2017-01-01"],
                "ended_at": ["2099-12-31"],  # after today
                "mrr": [5.0],
            }
        ),
        "targets": pd.DataFrame(
            {"month": ["2017-12"], "kpi": ["monthly_sales_bookings"], "target": [100.0]}
        ),
    }
    ds = open_dataset(write_tables(tmp_path, t))
    assert data_through(ds) == {
        "opportunities": pd.Timestamp("2017-02-14"),
        "subscriptions": pd.Timestamp("2017-01-01"),
    }
    assert [str(m) for m in data_months(ds)] == ["2017-01", "2017-02"]
    assert first_event(ds, "closed_deal") == Month.parse("2017-02")  # O1, not O2's 2017-01
