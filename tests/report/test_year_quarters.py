"""A year pack's summary shows the fiscal year's quarters side by side, as a QBR's does
(``Report.year_quarters``): hand-worked on a few order lines."""

from __future__ import annotations

import copy
import html
import re

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.catalog import format_value
from kpi_helpers.report import Report

# fiscal years from November: FY2026 is November 2025..October 2026; the data runs
# through June 2026, so the year is to date and its third quarter (May..July) too
ORDERS = {
    "2025-10-15": 1000.0,  # FY2025: not in the table
    "2025-11-10": 10.0,  # Q1: November..January
    "2026-01-20": 20.0,
    "2026-03-05": 40.0,  # Q2: February..April
    "2026-05-10": 5.0,  # Q3 to date: May, June
    "2026-06-25": 7.0,
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("year")
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(ORDERS))],
            "ordered_at": list(ORDERS),
            "account_id": "A1",
            "revenue": list(ORDERS.values()),
        }
    )
    write_tables(folder / "data", {"orders": orders})
    (folder / "kpi.toml").write_text("fiscal_year_start = 11\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def page(folder):
    return Report(
        "revenue",
        month="2026-06",
        source=str(folder / "data"),
        config=str(folder / "kpi.toml"),
        period="year",
    )


def test_a_year_page_shows_its_quarters_side_by_side(page):
    assert page.when == "FY2026 to date (8 of 12 months)"
    block = html.unescape(page.year_quarters(["sales_revenue"]).text)
    heads = re.findall(r"<th>([^<]*)</th>", block)
    assert heads == ["KPI", "FY2026-Q1", "FY2026-Q2", "FY2026-Q3 to date (2 of 3 months)"]
    cells = re.findall(r"<td>([^<]*)</td>", block)
    money = [format_value(v, "currency") for v in (10 + 20, 40, 5 + 7)]
    assert cells == ["Sales revenue", *money]


def test_the_quarters_of_the_year_and_none_on_a_month_page(page):
    quarters = page.data.year_quarters("company", ["sales_revenue"])
    assert list(quarters["period"]) == ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3"]
    assert list(quarters["to_date"]) == [False, False, True]
    monthly = copy.copy(page)
    monthly.period = "month"
    assert monthly.year_quarters(["sales_revenue"]) is None
