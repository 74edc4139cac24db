"""The quarterly business review: ``kpi-kit pack --period quarter`` builds the same pages
for the fiscal quarter holding --month, over the engine's last 8 quarters, into a folder
named by the quarter; one small build (company, summary page, HTML)."""

from __future__ import annotations

import html
import importlib
import re

import pandas as pd
import pytest
from conftest import SAMPLE_END, write_tables

from kpi_helpers import kpis
from kpi_helpers.catalog import format_change, format_value
from kpi_helpers.core import Calendar, load_config
from kpi_helpers.data import open_dataset
from kpi_helpers.mail import find_pack
from kpi_helpers.mail.compose import render, summary_content
from kpi_helpers.pack import build_pack
from kpi_helpers.pack.build import last_complete
from kpi_helpers.report import Report

# fiscal years from February: SAMPLE_END (2026-06) is the 2nd month of FY2027-Q2 (May-July)
QUARTER = "FY2027-Q2"
TO_DATE = "FY2027-Q2 to date (2 of 3 months)"
EIGHT = ["FY2025-Q3", "FY2025-Q4", "FY2026-Q1", "FY2026-Q2"]
EIGHT += ["FY2026-Q3", "FY2026-Q4", "FY2027-Q1", QUARTER]


@pytest.fixture(scope="module")
def qbr(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("qbr")
    config = out / "kpi.toml"
    config.write_text("fiscal_year_start = 2\n", encoding="utf-8")
    path, outcomes = build_pack(
        "2026-05",  # any month of the quarter: its pages are the quarter's through June
        scopes="company",
        families=["summary"],
        formats=("html",),
        jobs=1,
        out=out,
        source=str(sample_dir),
        config=str(config),
        progress=False,
        period="quarter",
    )
    assert all(o.ok for o in outcomes), [(o.family, o.error) for o in outcomes]
    return path, load_config(config)


@pytest.fixture(scope="module")
def engine(qbr, sample_dir):
    """The engine's revenue rows: the 8 quarters, and the months behind them."""
    _, cfg = qbr
    with open_dataset(str(sample_dir), None, cfg.timezone) as ds:
        quarters = kpis.compute(
            ds, SAMPLE_END, months=8, scope="company", families=["revenue"], config=cfg,
            period="quarter",
        )  # fmt: skip
        months = kpis.compute(
            ds, SAMPLE_END, months=24, scope="company", families=["revenue"], config=cfg
        )
    rev = quarters[quarters["kpi"] == "sales_revenue"].set_index("period")
    monthly = months[months["kpi"] == "sales_revenue"].set_index("month")["value"]
    return rev, monthly


def test_the_qbr_folder_index_and_pages_name_the_quarter_to_date(qbr):
    path, _ = qbr
    assert path.name == QUARTER
    assert not (path.parent / SAMPLE_END).exists()  # no month folder
    index = html.unescape(path.joinpath("index.html").read_text("utf-8"))
    assert "Quarterly business review" in index and TO_DATE in index
    assert "this month" not in index and "month-to-month" not in index
    page = html.unescape(path.joinpath("company", "summary.html").read_text("utf-8"))
    assert f"Executive summary · Company · {TO_DATE}" in page
    # the year's quarters side by side: FY2027 has had Q1 and (to date) Q2
    assert f"<th>KPI</th><th>FY2027-Q1</th><th>{TO_DATE}</th></tr>" in page
    assert "vs last quarter" in page and "vs last month" not in page
    # why it moved: the quarter's change from the quarter before (its same two months)
    why = page.partition('<ul class="why-moved">')[2].partition("</ul>")[0]
    assert "from FY2027-Q1 to FY2027-Q2" in why and "explains" in why


def test_the_quarter_page_speaks_of_the_quarter(qbr):
    """The fixed words of a page (section intros, the forecast line, the alerts) are the
    quarter's: "this quarter", "since last quarter", "up to 8 quarters"."""
    path, _ = qbr
    page = html.unescape(path.joinpath("company", "summary.html").read_text("utf-8"))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))  # what a reader sees
    for said in (
        "The quarter in one page",
        "The headline KPIs this quarter, against last quarter, last year and target.",
        "The KPIs that changed most since last quarter",
        "explain each headline's change since last quarter",
        "quarter by quarter (up to 8 quarters)",
        "Every KPI the data gives this quarter",
        "forecast for July 2026, the month after June 2026: ",
    ):
        assert said in text
    for month_words in ("this month", "since last month", "month by month", "13 months"):
        assert month_words not in text


def test_the_quarters_are_the_engines_and_add_up_their_months(qbr, engine):
    path, _ = qbr
    rev, monthly = engine
    assert list(rev.index) == EIGHT
    assert (rev.loc[QUARTER, "period_start"], rev.loc[QUARTER, "period_end"]) == (
        "2026-05",
        "2026-07",
    )
    assert bool(rev.loc[QUARTER, "to_date"]) and not rev.loc["FY2027-Q1", "to_date"]
    # by hand: FY2027-Q1 is February..April 2026; Q2 to date May and June
    q1 = monthly[["2026-02", "2026-03", "2026-04"]].sum()
    assert rev.loc["FY2027-Q1", "value"] == pytest.approx(q1)
    assert rev.loc[QUARTER, "value"] == pytest.approx(monthly[["2026-05", "2026-06"]].sum())
    page = path.joinpath("company", "summary.html").read_text("utf-8")
    money = html.escape(format_value(q1, "currency"))
    assert f"<td>Sales revenue</td><td>{money}</td>" in page


def test_the_trend_shows_8_quarters_and_the_card_qoq_and_yoy(qbr, engine, monkeypatch):
    path, _ = qbr
    rev, monthly = engine
    page = importlib.import_module("kpi_helpers.report.notebook")
    drawn, draw = [], page.trend_chart
    monkeypatch.setattr(
        page, "trend_chart", lambda s, title, *a: drawn.append((title, s)) or draw(s, title, *a)
    )
    report = Report("revenue", snapshot=str(path / "data"), period="quarter")
    report.trends(["sales_revenue"])
    (title, series), = drawn  # fmt: skip
    assert title == "Sales revenue, last 8 quarters"
    assert list(series.index) == EIGHT
    assert list(series) == pytest.approx(list(rev["value"]))
    # QoQ and YoY of a quarter to date: against the same months of the quarter before
    # (February, March) and of the same quarter a year before (May, June 2025)
    now = monthly[["2026-05", "2026-06"]].sum()
    qoq = (now / monthly[["2026-02", "2026-03"]].sum() - 1) * 100
    yoy = (now / monthly[["2025-05", "2025-06"]].sum() - 1) * 100
    assert rev.loc[QUARTER, "mom_change"] == pytest.approx(qoq)
    card = report.card("sales_revenue")
    assert (card["mom"]["value"], card["mom"]["label"]) == (
        format_change(qoq, "%"),
        "vs last quarter",
    )
    assert (card["yoy"]["value"], card["yoy"]["label"]) == (
        format_change(yoy, "%"),
        "vs last year",
    )


def test_send_finds_the_qbr_by_its_label(qbr):
    path, cfg = qbr
    pack = find_pack(path.parent, QUARTER)
    assert pack.path == path and pack.snapshot.period == "quarter"
    content = summary_content(pack, "company", cfg)
    assert content["month_label"] == TO_DATE
    assert [c.alt for c in content["charts"]][:1] == ["Sales revenue, last 8 quarters"]
    # the message speaks of the quarter: its cards' changes are against the last quarter
    html, text, _ = render(content | {"subject": "QBR", "links": {}, "attachment": None})
    assert "vs last quarter" in html and "vs last month" not in html
    assert "vs last quarter)" in text and "this month" not in text + html


@pytest.mark.parametrize(
    "kind, fiscal_year_start, month",
    [
        ("quarter", 1, "2026-09"),  # 2026-Q4 has October and November: Q3 is the last whole
        ("quarter", 2, "2026-10"),  # FY2027-Q3 is August..October
        ("quarter", 12, "2026-11"),  # FY2027-Q4 is September..November: complete
        ("year", 1, "2025-12"),
    ],
)
def test_month_complete_is_the_last_period_the_data_covers(
    tmp_path, kind, fiscal_year_start, month
):
    won = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D2"],
            "account_id": "A1",
            "rep_id": "r1",
            "created_at": "2025-01-05",
            "closed_at": ["2025-02-10", "2026-11-20"],  # the data runs through 2026-11
            "stage": "closed_won",
            "amount": 10.0,
        }
    )
    folder = write_tables(
        tmp_path / "data",
        {
            "reps": pd.DataFrame({"rep_id": ["r1"], "name": ["Ann"], "team": ["T"]}),
            "accounts": pd.DataFrame({"account_id": ["A1"], "owner_rep_id": ["r1"]}),
            "opportunities": won,
        },
    )
    with open_dataset(str(folder)) as ds:
        assert str(last_complete(ds, kind, Calendar(fiscal_year_start))) == month


def test_the_qbrs_forecast_chart_puts_no_quarter_on_the_months_axis(qbr, monkeypatch):
    """The forecasts are monthly; a QBR's rows are quarters (three months' revenue each):
    drawn before the next months, a quarter would look like a cliff."""
    path, _ = qbr
    outlook = importlib.import_module("kpi_helpers.report.outlook")
    drawn, draw = [], outlook.forecast_chart
    monkeypatch.setattr(
        outlook,
        "forecast_chart",
        lambda actual, rows, *a: drawn.append((actual, rows)) or draw(actual, rows, *a),
    )
    Report("outlook", snapshot=str(path / "data"), period="quarter").forecast_charts()
    assert drawn and all(actual.empty for actual, _ in drawn)
    assert all(rows["month"].str.fullmatch(r"\d{4}-\d{2}").all() for _, rows in drawn)
