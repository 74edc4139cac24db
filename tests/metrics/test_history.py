"""Any history length and data that covers only part of the contract: months before the
data are not available (never 0), changes of signed KPIs in their own unit, families the
data cannot give, cards and charts that fit the data. Values worked out by hand from
tests/kpi_fixture.py (its data starts in 2025-03: order Y0, $100, on 2025-03-10)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest
from conftest import write_tables
from kpi_fixture import tables

from kpi_helpers import kpis
from kpi_helpers.catalog import get
from kpi_helpers.core import KitError
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import families_out_of_reach
from kpi_helpers.report import charts
from kpi_helpers.report.notebook import Report


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("fixture"), tables())


@pytest.fixture(scope="module")
def dataset(fixture_dir):
    return open_dataset(fixture_dir)


def _rows(df: pd.DataFrame, kpi: str) -> pd.DataFrame:
    return df[df["kpi"] == kpi].set_index("month")


def test_months_before_the_data_are_not_available_never_zero(dataset):
    df = kpis.compute(dataset, "2025-04", months=3, kpis=["sales_revenue", "monthly_sales_growth"])
    rev, growth = _rows(df, "sales_revenue"), _rows(df, "monthly_sales_growth")
    assert list(rev.index) == ["2025-02", "2025-03", "2025-04"]
    # 2025-02 is before the first order: no value, with the reason
    for r in (rev.loc["2025-02"], growth.loc["2025-02"]):
        assert r["status"] == "not_available"
        assert r["reason"] == "before the first order line, 2025-03"
        assert math.isnan(r["value"])
    # 2025-03: $100 (Y0); no month before it, so no previous value and no change
    first = rev.loc["2025-03"]
    assert (first["status"], first["value"]) == ("ok", 100.0)
    assert math.isnan(first["previous_month"]) and math.isnan(first["mom_change"])
    assert math.isnan(first["same_month_last_year"]) and math.isnan(first["yoy_change"])
    # growth in 2025-03 reads 2025-02: undefined, and says why
    assert growth.loc["2025-03", "status"] == "undefined"
    assert growth.loc["2025-03", "reason"] == "it reads months before the first order line, 2025-03"
    # 2025-04: no orders, so $0, after $100: -100 %
    assert rev.loc["2025-04", "value"] == 0.0
    assert rev.loc["2025-04", "previous_month"] == 100.0
    assert growth.loc["2025-04", "value"] == pytest.approx(-100.0)


def test_a_month_before_the_data_cannot_be_asked_for(dataset):
    with pytest.raises(KitError, match=r"No data for 2025-02: the dataset covers 2025-03"):
        kpis.compute(dataset, "2025-02")


def test_series_starting_before_the_data(dataset):
    s = kpis.series(dataset, "sales_revenue", start="2025-01", end="2025-03")
    assert math.isnan(s["2025-01"]) and math.isnan(s["2025-02"]) and s["2025-03"] == 100.0


def test_signed_kpis_change_in_their_own_unit(dataset):
    df = kpis.compute(dataset, "2026-03", kpis=["incremental_sales", "sales_revenue"])
    inc = df[df["kpi"] == "incremental_sales"].iloc[0]
    # revenue: Nov 0, Dec 200, Jan 300, Feb 400, Mar 80 + 120 - 20 = 180
    # Mar: 180 - (400 + 300 + 200) / 3 = -120; Feb: 400 - (300 + 200 + 0) / 3 = 233.33
    assert inc["value"] == pytest.approx(-120.0)
    assert inc["previous_month"] == pytest.approx(400 - 500 / 3)
    # the change is -353.33 (in $), not a % of a signed amount
    assert inc["change_unit"] == "currency"
    assert inc["mom_change"] == pytest.approx(-120.0 - (400 - 500 / 3))
    rev = df[df["kpi"] == "sales_revenue"].iloc[0]
    assert rev["change_unit"] == "%"
    assert rev["mom_change"] == pytest.approx((180 - 400) / 400 * 100)


def test_values_and_changes_in_words():
    gap = get("gap_to_target")
    assert charts.format_kpi(gap, 127_000.0) == "$127k behind target"
    assert charts.format_kpi(gap, -40_000.0, "EUR") == "€40k ahead of target"
    assert charts.format_change(-451_222.0, "currency") == "-$451,222"
    assert charts.format_change(1.25, "pp") == "+1.2 pp"


def test_axis_labels_never_repeat_on_a_small_range():
    # a churn rate between 0.3 % and 2.1 %: whole-number labels read "2 %, 2 %, 1 %, 0 %"
    values = pd.Series(
        [0.3, 0.8, 1.2, 2.1, 1.7, 0.9, 0.4], index=[f"2026-0{i}" for i in range(1, 8)]
    )
    fig = charts.trend_chart(values, "Churn rate", "percent")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert len(labels) >= 3 and len(set(labels)) == len(labels)
    assert all(label.endswith(" %") for label in labels)
    assert any("." in label for label in labels)


def test_axis_labels_keep_whole_numbers_when_they_suffice():
    f = charts.AxisFormatter("currency")
    assert f.format_ticks([0.0, 500_000.0, 1_000_000.0, 1_500_000.0]) == [
        "$0.0M",
        "$0.5M",
        "$1.0M",
        "$1.5M",
    ]
    assert charts.AxisFormatter("percent").format_ticks([0.0, 20.0, 40.0]) == [
        "0 %",
        "20 %",
        "40 %",
    ]


def test_families_the_data_cannot_give(tmp_path):
    t = tables()
    crm = {k: t[k] for k in ("opportunities", "accounts", "reps")}
    ds = open_dataset(write_tables(tmp_path, crm))
    out = families_out_of_reach(ds)
    # subscriptions alone bring recurring revenue in; any of costs, financials or orders
    # brings profitability in (cost per lead needs costs and leads: costs is enough)
    assert out["subscription"] == [["subscriptions"]]
    assert out["profitability"] == [["costs"], ["financials"], ["orders"]]
    # deals give revenue (bookings), pipeline, customers (won deals), team, activity
    # (sales by contact method)
    assert set(out) == {"subscription", "profitability"}


def test_cards_name_what_is_missing_instead_of_na_cards(tmp_path):
    t = tables()
    crm = {k: t[k] for k in ("opportunities", "accounts", "reps")}
    folder = write_tables(tmp_path, crm)
    html = Report("activity", month="2026-03", source=str(folder)).cards().text
    # calls made, new leads and lead response time need tables this data lacks
    assert 'class="value na"' not in html
    assert "Not available from this data:" in html
    assert "Calls made" in html and "needs table activities" in html


def test_summary_headlines_are_those_the_data_can_give(tmp_path):
    t = tables()
    crm = {k: t[k] for k in ("opportunities", "accounts", "reps")}
    report = Report("summary", month="2026-03", source=str(write_tables(tmp_path, crm)))
    heads = report.headlines()
    assert "sales_revenue" not in heads and "monthly_recurring_revenue" not in heads
    assert heads[:2] == ["monthly_sales_bookings", "win_rate"]
    assert all(report.current.loc[k, "status"] != "not_available" for k in heads)


def test_yoy_says_no_data_a_year_earlier(fixture_dir):
    html = Report("revenue", month="2025-12", source=str(fixture_dir)).cards().text
    # the data starts 2025-03: 2024-12 is before it
    assert "no data a year earlier" in html


def test_a_flat_zero_line_has_no_negative_ticks():
    values = pd.Series([0.0] * 6, index=[f"2026-0{i}" for i in range(1, 7)])
    fig = charts.trend_chart(values, "Churn rate", "percent")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert labels[0] == "0.0 %" or labels[0] == "0 %"
    assert not any(label.startswith("-") for label in labels)
    assert len(set(labels)) == len(labels)


def test_deals_without_accounts_and_no_orders_compute_without_customers(tmp_path):
    """A CRM export without the deals' accounts: no customer KPIs, no crash."""
    t = tables()
    crm = {k: t[k] for k in ("opportunities", "reps")}
    crm["opportunities"] = crm["opportunities"].drop(columns="account_id")
    ds = open_dataset(write_tables(tmp_path, crm))
    df = kpis.compute(ds, "2026-03").set_index("kpi")
    assert df.loc["active_customers", "status"] == "not_available"
    assert "`opportunities` with columns `account_id`, `closed_at`" in str(
        df.loc["active_customers", "reason"]
    )
    assert df.loc["win_rate", "status"] == "ok"
