"""Issue 21 end to end: the README's "Start from a Salesforce or HubSpot export" path on
the two hand-made exports of tests/crm_exports.py, checked against the values worked out
by hand there (m = 2017-12).

Salesforce: ``kpi-kit init`` then ONE ``kpi-kit pack`` (company and every team, HTML
only: a pack costs 20-40 s), read through its snapshot, its index and the company's
summary page. HubSpot: ``kpi-kit init`` then ``kpi-kit compute`` (no pack).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from crm_exports import (
    ACCOUNT_TEAMS,
    DATA_THROUGH,
    FIRST_CLOSE,
    MONTH,
    OVERDUE_PIPELINE_SHARE,
    PIPELINE,
    SALES_PER_REP,
    SALESFORCE_WARNINGS,
    STALE_PIPELINE_SHARE,
    hubspot_export,
    salesforce_export,
)

from kpi_helpers.cli import main
from kpi_helpers.core import Config, Month
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics.measures import Measures
from kpi_helpers.report import Snapshot
from kpi_helpers.report.charts import span_title

BEFORE_FIRST_CLOSE = "before the first closed deal, 2017-03"
# the 13 months of the pack: 2016-12..2017-12; bookings have data from 2017-03 on
EARLY = ["2016-12", "2017-01", "2017-02"]
MISSING = "leads, activities, orders, subscriptions, costs, targets, NPS responses or financials"


class _Text(HTMLParser):
    """The visible text of a page (no scripts, no styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory):
    """The Salesforce export, its ``kpi-kit init`` and one pack of its last month
    (company and teams, HTML): the export's folder and the pack's month folder."""
    root = tmp_path_factory.mktemp("crm-first-look")
    salesforce_export(root / "salesforce")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)  # kpi.toml's paths are relative to where kpi-kit runs (README)
        assert main(["init", "--source", "salesforce"]) == 0
        config = ["--config", "salesforce/kpi.toml", "--month", "latest"]
        pack = ["pack", *config, "--scopes", "all", "--formats", "html", "--out", "reports"]
        assert main(pack) == 0  # every page built
    return root / "salesforce", root / "reports" / MONTH


@pytest.fixture(scope="module")
def snapshot(salesforce):
    return Snapshot(salesforce[1] / "data")


@pytest.fixture(scope="module")
def summary(salesforce):
    """The company's summary page: its HTML and its visible text."""
    page = (salesforce[1] / "company" / "summary.html").read_text(encoding="utf-8")
    return page, visible_text(page)


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    """The HubSpot export, its ``kpi-kit init`` and ``kpi-kit compute`` of the 13 months
    to its last month, every scope: the export's folder and the KPI rows."""
    root = tmp_path_factory.mktemp("crm-first-look")
    hubspot_export(root / "hubspot")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        assert main(["init", "--source", "hubspot"]) == 0
        config = ["--config", "hubspot/kpi.toml", "--month", "latest", "--months", "13"]
        out = ["--scope", "all", "--format", "csv", "--out", "kpis.csv"]
        assert main(["compute", *config, *out]) == 0
    return root / "hubspot", pd.read_csv(root / "kpis.csv")


def at(rows: pd.DataFrame, kpi: str, scope: str = "company", month: str = MONTH) -> pd.Series:
    """The one row of ``kpi`` for ``scope`` (a snapshot's key or compute's scope) in
    ``month``."""
    where = rows["key"] if "key" in rows.columns else rows["scope"]
    got = rows[(rows["kpi"] == kpi) & (where == scope) & (rows["month"] == month)]
    assert len(got) == 1, (kpi, scope, month)
    return got.iloc[0]


def values(rows: pd.DataFrame, kpi: str, scopes: list[str], month: str = MONTH) -> dict:
    return {s: float(at(rows, kpi, s, month)["value"]) for s in scopes}


SF_TEAMS = ["team:Maria Chen", "team:Omar Haddad"]
HS_TEAMS = ["East", "West"]  # East = Maria Chen's reps, West = Omar Haddad's


# ------------------------------------------------------------------ 1. no $0 forecasts


def test_the_bookings_forecast_is_not_available_without_expected_close_dates(snapshot, hubspot):
    sf = at(snapshot.kpis(), "bookings_forecast")
    # P04 (2000) and P05 (1000) are due in 2018-01, and 11 of the 15 deals open at a
    # month end in 2016-12..2017-11 were won (CRM-weighted: 400)
    assert sf["status"] == "ok" and sf["value"] == pytest.approx(3000 * 11 / 15)
    _, rows = hubspot
    hs = at(rows, "bookings_forecast")
    assert hs["status"] == "not_available" and pd.isna(hs["value"])
    assert hs["reason"] == (
        "no deal open at the end of 2017-12 has an expected close date: "
        "all 6 open deals lack `expected_close_at`"
    )
    forecasts = rows[rows["kpi"] == "bookings_forecast"]
    assert not (forecasts["value"] == 0).any()  # never 0, in any month or scope
    reasons = forecasts[forecasts["month"] == MONTH].set_index("scope")["reason"]
    assert reasons["East"].endswith("all 4 open deals lack `expected_close_at`")
    assert reasons["West"].endswith("all 2 open deals lack `expected_close_at`")


# ------------------------------------------------------------------ 2. account teams


def account_teams(folder) -> dict[str, str]:
    """Each account's team by the kit's account rule (``Measures.account_reps``); an
    account it gives no rep is ``unassigned``."""
    with open_dataset(folder, folder / "mapping.toml") as ds:
        m = Month.parse(MONTH)
        reps = Measures(ds, Config(), m, m).account_reps().to_pandas()
        team = ds.frame("reps").set_index("rep_id")["team"].to_dict()
        accounts = list(ds.frame("accounts")["account_id"])
    rep_of = dict(zip(reps["_a_id"], reps["_a_rep"], strict=True))
    return {a: team.get(rep_of.get(a), "unassigned") for a in accounts}


def test_customers_count_for_their_accounts_team(salesforce, snapshot, hubspot):
    assert account_teams(salesforce[0]) == ACCOUNT_TEAMS["salesforce"]
    assert account_teams(hubspot[0]) == ACCOUNT_TEAMS["hubspot"]
    # active at the end of m: Acme and Initech (Omar Haddad's, West), Globex (Maria
    # Chen's, East); Umbrella never won, Hooli has no deal
    kpis = snapshot.kpis()
    assert values(kpis, "active_customers", ["company", *SF_TEAMS]) == {
        "company": 3,
        "team:Maria Chen": 1,
        "team:Omar Haddad": 2,
    }
    assert values(hubspot[1], "active_customers", ["company", *HS_TEAMS]) == {
        "company": 3,
        "East": 2,  # Initech has no owner in HubSpot: Ana's (East) by its latest won deal
        "West": 1,
    }
    # new customers: Acme and Globex in 2017-03, Initech in 2017-05
    assert values(kpis, "new_customers", SF_TEAMS, "2017-03") == dict.fromkeys(SF_TEAMS, 1)
    assert values(kpis, "new_customers", SF_TEAMS, "2017-05") == {
        "team:Maria Chen": 0,
        "team:Omar Haddad": 1,
    }


# ------------------------------------------------------------------ 3. the empty scopes


def test_the_teams_that_sell_nothing_get_no_pages_and_one_line(salesforce, snapshot):
    _, path = salesforce
    # the managers (unassigned) own no deal and no longer any customer; the SDR's team
    # never had a row
    quiet = ["team:Sales Development", "team:unassigned"]
    assert snapshot.quiet_scopes == quiet
    assert snapshot.paged_scopes == ["company", *SF_TEAMS]
    assert not (path / "team-sales-development").exists()
    assert not (path / "team-unassigned").exists()
    index = html.unescape((path / "index.html").read_text(encoding="utf-8"))
    for team in ("Sales Development", "unassigned"):
        line = f"Team {team}: no deals, orders, leads or customers in the 13 months to 2017-12"
        assert index.count(f"{line}; no pages") == 1


# ------------------------------------------------------------------ 4. sales per rep


def test_sales_per_rep_counts_the_selling_reps(snapshot, hubspot, summary):
    assert values(snapshot.kpis(), "sales_per_rep", ["company", *SF_TEAMS]) == {
        "company": SALES_PER_REP["company"],
        "team:Maria Chen": SALES_PER_REP["Maria Chen"],
        "team:Omar Haddad": SALES_PER_REP["Omar Haddad"],
    }
    assert values(hubspot[1], "sales_per_rep", ["company", *HS_TEAMS]) == {
        "company": SALES_PER_REP["company"],
        "East": SALES_PER_REP["Maria Chen"],
        "West": SALES_PER_REP["Omar Haddad"],
    }
    page, _ = summary
    assert '<div class="name">Sales per rep</div><div class="value">$2,000</div>' in page


# ------------------------------------------------------------------ 5. the n/a months


def test_the_months_before_the_first_closed_deal_are_not_available(snapshot, hubspot, summary):
    for rows in (snapshot.kpis(), hubspot[1]):
        for kpi in ("monthly_sales_bookings", "win_rate", "average_deal_size"):
            for month in EARLY:
                row = at(rows, kpi, "company", month)
                assert row["status"] == "not_available", (kpi, month)
                assert row["reason"] == BEFORE_FIRST_CLOSE
            first = at(rows, kpi, "company", FIRST_CLOSE)
            assert first["status"] == "ok" and pd.isna(first["mom_change"])
        # a real zero after it: W06 is won in July, L02 lost in June
        assert at(rows, "monthly_sales_bookings", "company", "2017-06")["value"] == 0
        # the year before m is before the data: no comparison with it
        assert pd.isna(at(rows, "monthly_sales_bookings")["yoy_change"])
        # pipeline states start with the first created deal (2016-10)
        assert at(rows, "pipeline_value", "company", "2016-12")["value"] == 11700
    # the summary's bookings chart: the months from 2017-03, titled so (the title is
    # drawn into the chart's image)
    bookings = snapshot.kpis("company").query("kpi == 'monthly_sales_bookings'")
    shown = list(bookings.loc[bookings["status"] != "not_available", "month"])
    assert shown[0] == FIRST_CLOSE and len(shown) == 10
    title = span_title("Monthly sales bookings", shown, len(bookings))
    assert title == "Monthly sales bookings, since March 2017"
    _, text = summary
    card = "Monthly sales bookings $6,000 ▲ +233.3 % vs last month — no data a year earlier"
    assert card in text


# ------------------------------------------------------------------ 6. pipeline hygiene


def test_the_stale_and_overdue_pipeline_and_their_flags(snapshot, hubspot, summary):
    kpis = snapshot.kpis()
    assert at(kpis, "pipeline_value")["value"] == PIPELINE
    assert at(kpis, "stale_pipeline_share")["value"] == pytest.approx(STALE_PIPELINE_SHARE)
    assert at(kpis, "overdue_pipeline_share")["value"] == pytest.approx(OVERDUE_PIPELINE_SHARE)
    _, rows = hubspot
    assert at(rows, "stale_pipeline_share")["value"] == pytest.approx(STALE_PIPELINE_SHARE)
    overdue = at(rows, "overdue_pipeline_share")
    assert overdue["status"] == "not_available" and "expected_close_at" in overdue["reason"]
    page, text = summary
    # both above 25 %: a flag each above the cards, and red cards
    flags = re.findall(r'<ul class="flags">(.*?)</ul>', page, re.S)
    assert len(flags) == 1 and flags[0].count("<li>") == 2
    assert "63.3 % of the open pipeline is stale" in text
    assert "80.0 % of the open pipeline is overdue" in text
    for name, value in (("Stale pipeline", "63.3 %"), ("Overdue pipeline", "80.0 %")):
        card = f'<div class="card rag-red"><div class="name">{name}</div>'
        assert f'{card}<div class="value">{value}</div>' in page


# ------------------------------------------------------------------ 7. data quality


def test_the_data_quality_box_lists_the_real_problems_calmly(snapshot, summary):
    findings = snapshot.findings()
    real = findings[findings["check"] != "missing_table"]
    assert set(zip(real["column"], real["check"], real["rows"], strict=True)) == (
        SALESFORCE_WARNINGS
    )
    page, text = summary
    box = visible_text(re.search(r'<div class="data-quality">(.*?)</div>', page, re.S)[1])
    for column, _, rows in SALESFORCE_WARNINGS:  # each with its count, an example, a fix
        assert f"opportunities.{column}" in box
        assert f"({rows} rows, e.g. " in box
    assert box.count("Fix: ") == len(SALESFORCE_WARNINGS)
    # the eight missing tables: one calm line, not eight warnings
    assert f"This export has no {MISSING}: " in text
    assert "is missing" not in box and "error(s)" not in box


# ------------------------------------------------------------------ 9. data through


def test_the_header_says_data_through_the_last_close(snapshot, summary):
    assert snapshot.meta["data_through"] == DATA_THROUGH
    assert snapshot.meta["data_through_note"] == ""  # accounts end 2017-12-05: within a month
    _, text = summary
    assert f"data through {DATA_THROUGH} · " in text
    assert "2017-12-27" not in text  # the last created deal is not where the data ends


# ------------------------------------------------------------------ 8. no n/a walls


def test_the_company_summary_has_no_wall_of_na(snapshot, summary):
    page, text = summary
    assert text.count("n/a") == 0  # before issue 21: 47
    current = snapshot.kpis("company")
    current = current[(current["month"] == MONTH) & (current["status"] != "not_available")]
    table = re.search(r'<table class="kpis">(.*?)</table>', page, re.S)[1]
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"num\">(.*?)</td>", table)
    assert len(rows) == len(current) < 30  # before issue 21: 66 rows, 45 of them n/a
    assert all(value for _, value in rows)  # every KPI shown has a value
    assert "<th>target</th>" not in table and "<th>status</th>" not in table  # no targets
    # one line names the rest
    assert text.count("Not available from this data: ") == 1
    # cards: KPIs with a value, the forecast's among them; no card of an artefact
    cards = re.findall(r'<div class="name">(.*?)</div><div class="value[^"]*">', page)
    assert "Churn rate" not in cards and "Upsell rate" not in cards
    assert {"Stale pipeline", "Overdue pipeline", "Pipeline-weighted forecast"} <= set(cards)
    assert "0065g" not in text.split("Data quality")[0]  # no Salesforce id above the box
