"""What a page shows of a CRM export: no walls of n/a, names instead of ids, a calm data
quality box, sections that say why they are empty, headline cards with a signal.

Data: tests/kpi_fixture.py (m = 2026-03) as a CRM export: deals, accounts, reps; plus
four problems outside March (a duplicate account, a negative amount, a deal closed before
it was created, an account owned by a rep missing from reps).
"""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest
from conftest import write_tables
from kpi_fixture import tables

from kpi_helpers.catalog import format_value
from kpi_helpers.report import Report, beyond_usual, notebook, summary_headlines
from kpi_helpers.report.choices import shown_columns
from kpi_helpers.report.html import HTML

M = "2026-03"


def crm() -> dict[str, pd.DataFrame]:
    t = tables()
    out = {k: t[k] for k in ("reps", "accounts", "opportunities")}
    acc = out["accounts"]
    gone = dict(account_id="A7", account_name="Gone", owner_rep_id="R7", segment="SMB")
    out["accounts"] = pd.concat([acc, pd.DataFrame([gone, acc.iloc[5].to_dict()])])
    bad = [  # lost deals of 2025: March 2026 is untouched
        dict(opportunity_id="N1", created_at="2025-06-01", stage="closed_lost", amount=-5.0,
             closed_at="2025-06-20", rep_id="R1", account_id="A1"),
        dict(opportunity_id="N2", created_at="2025-07-10", stage="closed_lost", amount=10.0,
             closed_at="2025-07-01", rep_id="R1", account_id="A1"),
    ]  # fmt: skip
    out["opportunities"] = pd.concat([out["opportunities"], pd.DataFrame(bad)])
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("crm") / "data", crm())


@pytest.fixture(scope="module")
def summary(folder):
    return Report("summary", month=M, source=str(folder))


def _text(block) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", block.text))


def test_the_kpi_table_shows_values_and_one_line_for_the_rest(summary):
    page = summary.kpi_table().text
    table, line = page.split("</table>")
    # win rate: W1 and W2 won, L1 lost in March = 2 of 3
    assert '<tr><td>Win rate</td><td class="num">66.7 %</td>' in table
    assert "needs table" not in table  # no row for a KPI the data cannot give
    # no targets: neither a target nor a status column; changes are there (Feb had deals)
    heads = re.findall(r"<th>([^<]*)</th>", table)
    assert heads == ["KPI", "value", "vs last month"]
    said = _text(HTML(line))
    assert said.startswith("Not available from this data: ")
    assert "Sales revenue, Sales volume (orders)" in said and "(needs table orders)" in said
    assert "Monthly recurring revenue (MRR)" in said and "(needs table subscriptions)" in said


def test_data_quality_lists_every_problem_and_one_calm_line(summary):
    box = summary.data_quality().text
    assert box.startswith('<div class="data-quality">')  # no bold orange paragraph
    items = [_text(HTML(li)) for li in re.findall(r"<li .*?</li>", box)]
    assert items == [  # errors first, each with its count, an example and the fix
        "error accounts.account_id: 1 account_id value(s) appear on more than one row "
        "(2 rows, e.g. A6). Fix: Keep one row per account_id (de-duplicate the export, or "
        "use unique_by in the mapping).",
        "error opportunities.closed_at: closed_at is before created_at (1 row, e.g. N2). "
        "Fix: Correct the dates: a deal cannot close before it is created.",
        "error opportunities.amount: amount is negative (1 row, e.g. N1). "
        "Fix: amount cannot be negative: correct the rows.",
        "warning accounts.owner_rep_id: owner_rep_id values not found in reps.rep_id (each "
        "account goes to the rep of its latest won deal, else latest deal, else the team "
        "'unassigned') (1 row, e.g. A7). Fix: Add the missing rows to reps, or correct "
        "accounts.owner_rep_id.",
        # O3 (open, no expected close); O1 and O5 expected before the data ends (2026-04-01)
        "warning opportunities.expected_close_at: open deals without an expected close date: "
        "the pipeline-weighted forecast and the overdue pipeline leave them out (with none "
        "dated, the forecast is not available) (1 row, e.g. O3). Fix: Give open deals their "
        "expected close date in the CRM (Salesforce CloseDate, HubSpot Close Date) and export "
        "again, or map the CRM's expected close to expected_close_at.",
        "warning opportunities.expected_close_at: open deals whose expected close date is "
        "before 2026-04-01, where the deals' data ends: overdue, yet still counted in the "
        "pipeline (2 rows, e.g. O1, O5). Fix: Update the expected close date of the deals "
        "still in play and close the others (closed_lost) in the CRM; until then the overdue "
        "pipeline (overdue_pipeline_share) counts them.",
    ]
    absent = _text(HTML(box.split('<p class="absent">')[1]))
    missing = ["leads", "activities", "orders", "subscriptions", "costs", "targets",
               "nps_responses", "financials"]  # fmt: skip
    na = summary.current[summary.current["status"] == "not_available"]
    out = sum(any(f"table `{t}`" in why for t in missing) for why in na["reason"])
    assert out > 30  # every revenue, subscription, profitability KPI and more
    assert absent == (
        "This export has no leads, activities, orders, subscriptions, costs, targets, NPS "
        f"responses or financials: {out} KPIs are out of reach (what each needs is under "
        "All KPIs)."
    )


def test_a_clean_dataset_says_so_in_one_line(tmp_path):
    t = tables()
    t["activities"] = t["activities"][t["activities"]["rep_id"] != "R9"]  # a known rep
    o = t["opportunities"]  # every open deal dated, none overdue
    o.loc[o["closed_at"].isna(), "expected_close_at"] = "2026-06-30"
    report = Report("summary", month=M, source=str(write_tables(tmp_path, t)))
    assert _text(report.data_quality()) == "No problem found: the data meets the contract."


def test_tables_show_names_and_drop_empty_columns(folder):
    team = Report("team", month=M, scope="team:North", source=str(folder))
    board = team.table("rep_leaderboard")
    assert {"rep_id", "attainment"} <= set(board.columns)  # the CSV keeps them
    shown = team.show_table(board, percent=("win_rate", "attainment")).text
    heads = re.findall(r"<th>([^<]*)</th>", shown)
    # no targets: attainment is empty; rep ids stay in the CSV; R1 Ana and R2 Ben
    assert "attainment" not in heads and "rep id" not in heads and "rep name" in heads
    assert "Ana &lt;b&gt;" in shown and ">R1<" not in shown


def test_shown_columns_keeps_an_id_without_a_name():
    df = pd.DataFrame({"account_id": ["A1"], "mrr": [None], "rep_id": ["R1"], "rep_name": [""]})
    # rep_name is blank everywhere: dropped, so rep_id is what names the rep
    assert list(shown_columns(df).columns) == ["account_id", "rep_id"]


def test_an_empty_section_says_why(folder, monkeypatch):
    shown = []
    monkeypatch.setattr(notebook, "display", shown.append)
    page = Report("customers", month=M, source=str(folder))
    cohorts = page.table("cohort_retention")
    page.nothing_to_show(cohorts, "No customer bought for the first time in the 12 months.")
    assert cohorts is None
    assert _text(shown[0]) == ("n/a: cohort_retention is not available: needs table subscriptions.")
    page.nothing_to_show(pd.DataFrame(), "No deal was open at the end of the month.")
    assert _text(shown[1]) == "No deal was open at the end of the month."


def test_quote_to_close_needs_its_column(tmp_path):
    t = crm()
    t["opportunities"] = t["opportunities"].drop(columns="quoted_at")
    page = Report("pipeline", month=M, source=str(write_tables(tmp_path, t)))
    assert page.current.loc["quote_to_close", "status"] == "not_available"
    assert "Quote-to-close ratio (needs table opportunities with column quoted_at)" in _text(
        page.kpi_table()
    )


def test_summary_headlines_have_a_signal(summary):
    # churn is undefined in every month (no customer at the start of any month before
    # March): it gives way; the rest have a value somewhere in the 13 months, and the
    # families' headlines top the row up to the summary's ten (stale 12.5 %, overdue 75 %;
    # deals won, the pipeline page's first headline, is not one: the forecast is)
    assert summary.current.loc["churn_rate", "status"] == "undefined"
    assert summary.headlines() == [
        "monthly_sales_bookings",
        "win_rate",
        "new_customers",
        "pipeline_value",
        "sales_cycle_length",
        "stale_pipeline_share",
        "overdue_pipeline_share",
        "active_customers",
        "sales_per_rep",
        "bookings_forecast",
    ]


def test_a_headline_that_is_zero_all_year_makes_way():
    months = [f"2026-0{i}" for i in (1, 2, 3)]
    rows = pd.DataFrame(
        [
            (m, kpi, "ok", value)
            for m in months
            for kpi, value in (
                ("monthly_sales_bookings", 500.0),
                ("new_customers", 0.0),  # every deal typed the same: never a new one
                ("win_rate", 40.0 if m == M else 0.0),
                ("pipeline_value", 10.0),
            )
        ],
        columns=["month", "kpi", "status", "value"],
    )
    assert summary_headlines(rows, M) == ["monthly_sales_bookings", "win_rate", "pipeline_value"]


def test_amounts_are_whole_units_at_every_size():
    assert [format_value(v, "currency") for v in (0.0, 43.17, 1234.5, -0.004)] == [
        "$0",
        "$43",
        "$1,234",
        "$0",
    ]
    assert format_value(3.47, "currency", "EUR") == "€3.47"  # cents only below 10


def test_a_trend_without_any_value_is_one_line_not_an_empty_chart(folder, monkeypatch):
    shown = []
    monkeypatch.setattr(notebook, "display", shown.append)
    page = Report("customers", month=M, source=str(folder))
    page.trends(["churn_rate"])
    # the data starts with N1 (2025-06): 10 months, none with customers at its start
    assert [_text(s) for s in shown] == [
        "Churn rate has no value in these 10 months: a denominator is 0 or an input has no "
        "value in m."
    ]


def test_negative_bars_keep_their_value_labels_clear_of_the_axis_labels():
    """A movement chart (start 1000, won -800, end 200): the -800 label sits left of its
    bar's tip, inside the axes, not over the category names."""
    from kpi_helpers.report import charts

    for horizontal in (True, False):
        fig = charts.bar_chart(["start", "won", "end"], [1000, -800, 200], "t", "currency",
                               horizontal=horizontal)  # fmt: skip
        fig.canvas.draw()
        ax = fig.axes[0]
        box = ax.get_window_extent()
        (label,) = [t for t in ax.texts if t.get_text().startswith("-")]
        at = label.get_window_extent()
        assert (at.x0 >= box.x0) if horizontal else (at.y0 >= box.y0), horizontal


def test_the_stage_history_section_says_once_that_the_data_has_none(summary, monkeypatch):
    """The pipeline page's stage history cell on deals without opportunity_stage_history:
    one sentence saying so and how to add it, no empty tables."""
    import json

    from conftest import ROOT

    from kpi_helpers.report import charts

    cells = json.loads((ROOT / "notebooks" / "pipeline.ipynb").read_text())["cells"]
    (code,) = ["".join(c["source"]) for c in cells if '"stage_conversion"' in "".join(c["source"])]
    shown = []
    monkeypatch.setattr(notebook, "display", shown.append)
    monkeypatch.setattr("IPython.display.display", shown.append)
    exec(code, {"report": summary, "charts": charts})  # any page's report reads the table
    intro, *shown = shown  # the section's intro first
    assert "how the pipeline moved this month" in _text(intro)
    assert [_text(s) for s in shown] == [
        "The data has no stage history (the table opportunity_stage_history), so these tables "
        "are not shown. Export Salesforce's OpportunityHistory.csv, or HubSpot deals with "
        'their "Date entered" stage properties, with the other files and run kpi-kit init '
        "--force again (README: Start from a Salesforce or HubSpot export)."
    ]


def test_a_move_beyond_the_usual_range():
    # 12 months of bookings moving by 10, 20, ..., 110 (absolute), then a 13th month
    months = [str(p) for p in pd.period_range("2025-06", periods=13, freq="M")]
    steps = [10, -20, 30, -40, 50, -60, 70, -80, 90, -100, 110]
    values = [1000.0]
    for s in steps:
        values.append(values[-1] + s)
    # the 80th percentile of |10|..|110| (numpy's linear): 10 + 0.8 * 10 * 10 = 90
    rows = lambda last: pd.DataFrame(  # noqa: E731
        {"kpi": "monthly_sales_bookings", "month": months, "value": [*values, values[-1] + last]}
    )
    assert beyond_usual(rows(-91), "monthly_sales_bookings", months[-1])
    assert not beyond_usual(rows(90), "monthly_sales_bookings", months[-1])
    # another KPI, or a month without its value, never moved beyond usual
    assert not beyond_usual(rows(500), "win_rate", months[-1])
    assert not beyond_usual(rows(500), "monthly_sales_bookings", "2027-01")
    # only 5 earlier changes: no usual range to judge by
    assert not beyond_usual(rows(500).iloc[6:], "monthly_sales_bookings", months[-1])
    assert beyond_usual(rows(500).iloc[5:], "monthly_sales_bookings", months[-1])


def test_pipeline_and_team_cards_have_quarter_and_year_to_date(folder):
    # won in 2026-Q1 (January..March): W1 1000 (March 11) and W2 500 (March 2); O2 closes
    # on April 1; bookings net of associated cost: 1000 - 100 + 500 = 1,400. The calendar
    # year: YTD = QTD.
    pipeline = Report("pipeline", month=M, source=str(folder))
    assert pipeline.headlines()[0] == "deals_won"
    lines = pipeline.card("deals_won")["to_date"]
    assert [(x["span"], x["label"], x["value"]) for x in lines] == [
        ("QTD", "2026-Q1", "2"),
        ("YTD", "2026 to date (3 of 12 months)", "2"),
    ]
    assert "QTD 2" in _text(pipeline.cards())
    team = Report("team", month=M, source=str(folder))
    assert team.headlines()[0] == "monthly_sales_bookings"
    lines = team.card("monthly_sales_bookings")["to_date"]
    assert [(x["span"], x["value"]) for x in lines] == [("QTD", "$1,400"), ("YTD", "$1,400")]
    assert "QTD $1,400" in _text(team.cards())


def test_the_waterfall_colours_follow_the_kpis_better_direction():
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from kpi_helpers.report import charts

    steps = [("Team A", -3.0), ("Team B", 1.0)]
    # sales cycle length (lower is better): a fall is good (green), a rise bad (red)
    fig = charts.waterfall_chart(30.0, steps, "May", "Cycle", unit="days", better="down")
    colours = [mcolors.to_hex(b.get_facecolor()) for b in fig.axes[0].patches[1:3]]
    plt.close(fig)
    assert colours == [mcolors.to_hex(charts.GOOD), mcolors.to_hex(charts.BAD)]
    fig = charts.waterfall_chart(30.0, steps, "May", "Bookings", better="up")
    colours = [mcolors.to_hex(b.get_facecolor()) for b in fig.axes[0].patches[1:3]]
    plt.close(fig)
    assert colours == [mcolors.to_hex(charts.BAD), mcolors.to_hex(charts.GOOD)]
