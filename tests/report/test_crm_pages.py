"""Pages of a CRM export (tests/late_start_fixture.py, worked out by hand there): charts say
"since March 2017" where the KPI's data starts late, the summary forecasts bookings when
there is no revenue, and the outlook says why it has no pipeline forecast instead of
drawing an empty chart."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
from conftest import write_tables
from late_start_fixture import tables

from kpi_helpers.report import Report, notebook

M = "2017-05"


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    return str(write_tables(tmp_path_factory.mktemp("crm"), tables()))


@pytest.fixture(scope="module")
def outlook(crm):
    return Report("outlook", month=M, source=crm)


@pytest.fixture
def shown(monkeypatch):
    """The titles of the charts a page shows."""
    titles: list[str] = []
    monkeypatch.setattr(
        notebook, "show", lambda fig: titles.append(fig.axes[0].get_title(loc="left"))
    )
    return titles


def test_trend_charts_say_where_the_data_starts(crm, shown):
    page = Report("pipeline", month=M, source=crm)
    page.trends(["win_rate", "pipeline_value"])
    # win rate: 2017-03..2017-05 of the page's 13 months (2016-05..2017-05); the pipeline
    # starts with the first deal (2016-10), also inside the 13 months
    assert shown == ["Win rate, since March 2017", "Pipeline value, since October 2016"]


def test_the_summary_forecasts_bookings_without_revenue(outlook):
    """No orders, so no revenue: the summary's forecast line (drawn here from the outlook's
    KPIs, which hold the same forecasts) forecasts bookings: history 2017-03..2017-05
    (1,000, 2,000, 400), naive: the last value, $400."""
    text = outlook.forecast_line().text
    assert "Monthly sales bookings forecast for next month (June 2017): $400 (80 %:" in text
    assert "naive" in text and "no revenue" not in text.lower()


def test_the_outlook_says_why_it_has_no_pipeline_forecast(outlook, shown):
    text = outlook.next_month().text
    assert shown == []  # no chart on a -$0.04..$0.04 axis
    assert "n/a: no deal open at the end of 2017-05 has an expected close date" in text
    assert "all 2 open deals lack" in text


def test_the_outlook_says_when_nothing_is_due_next_month(tmp_path, shown):
    """D4 is expected to close in July, not June: nothing to weigh for June."""
    data = write_tables(tmp_path, tables(expected={"D4": "2017-07-15"}))
    text = Report("outlook", month=M, source=str(data)).next_month().text
    assert shown == [] and "No open deal is expected to close in June 2017." in text
