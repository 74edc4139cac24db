"""A quarter's or a year's pages speak of their period: the section intros and phrases
(``report.pages.period_phrase``, ``intro``) and the pacing of a complete quarter."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from conftest import ROOT

from kpi_helpers.catalog import format_value
from kpi_helpers.core import Config, KitError
from kpi_helpers.report.charts import pace_chart
from kpi_helpers.report.outlook import OutlookSections
from kpi_helpers.report.pages import INTROS, intro, period_phrase

MONTH_WORDS = ("this month", "last month", "month by month", "13 months", "end of the month")
# the fixed markdown of a notebook: "month by month" stays for the (monthly) forecasts
FIXED_WORDS = ("this month", "last month", "13 months", "end of the month")


def test_the_phrases_of_each_period():
    assert period_phrase("Deals won {this}, since {last}", "month") == (
        "Deals won this month, since last month"
    )
    assert period_phrase("{by} (up to {n} {units})", "quarter") == (
        "quarter by quarter (up to 8 quarters)"
    )
    assert period_phrase("made at the end of {through}", "month", "June 2026") == (
        "made at the end of this month"
    )
    assert period_phrase("made at the end of {through}", "year", "June 2026") == (
        "made at the end of June 2026"
    )
    with pytest.raises(KitError, match="period 'week'"):
        period_phrase("{this}", "week")


@pytest.mark.parametrize("section", sorted(INTROS))
def test_no_intro_of_a_quarter_or_year_speaks_of_months(section):
    name, _, family = section.partition(":")
    for kind in ("quarter", "year"):
        text = intro(name, kind, "June 2026", family)
        assert not any(w in text for w in MONTH_WORDS), text
        assert "{" not in text
        if "{this}" in INTROS[section]:
            assert f"this {kind}" in text


def test_a_quarters_intros_by_hand():
    assert intro("trends", "quarter") == (
        "Each headline KPI quarter by quarter (up to 8 quarters); the orange dot is this "
        "quarter, the dashed line the target."
    )
    assert intro("trends", "month", family="summary") == (
        "Revenue, bookings and recurring revenue month by month (up to 13 months)."
    )
    assert intro("mrr_movements", "year") == (
        "From last year's MRR to this year's, movement by movement."
    )
    assert intro("headlines", "quarter") == (
        "The headline KPIs this quarter, against last quarter, last year and target."
    )
    assert (
        intro("headlines", "year") == "The headline KPIs this year, against last year and target."
    )
    with pytest.raises(KitError, match="No section intro 'nope'"):
        intro("nope")


def test_the_notebooks_take_their_period_words_from_the_intros():
    """No fixed markdown of a page notebook says "this month"; every ``report.intro``
    names a known section."""
    said = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text("utf-8"))["cells"]:
            text = "".join(cell["source"])
            if cell["cell_type"] == "markdown":
                assert not any(w in text for w in FIXED_WORDS), (path.name, text)
            said += [(path.stem, s) for s in re.findall(r'report\.intro\("(\w+)"\)', text)]
    assert ("summary", "lead") in said and ("team", "leaderboard") in said
    for family, section in said:
        assert intro(section, "quarter", "June 2026", family)


class Page(OutlookSections):
    """The pacing section's page without data: its pace given, its output kept."""

    period, scope, data, cfg = "quarter", "company", None, Config()

    def __init__(self, paces: list[dict]):
        self.paces, self.shown = paces, []

    def pace(self, scopes=None):
        return self.paces

    def display(self, block):
        self.shown.append(block)

    def show(self, fig, data=None):
        self.shown.append(fig)

    def link(self, table):
        return None

    def intro(self, section):  # Report.intro: the sentence under the heading
        self.shown.append(intro(section, self.period))


def pace(months: int, **more) -> dict:
    row = dict(key="company", kpi="sales_revenue", quarter="2026-Q4", months=months,
               of_months=3, actual=5_100.0, rest=0.0, method="", pace=5_100.0,
               lower=5_100.0, upper=5_100.0, target=5_000.0)  # fmt: skip
    return row | more


def test_a_complete_quarter_has_its_actual_not_a_pace():
    page = Page([pace(3)])
    money = lambda v: format_value(v, "currency")  # noqa: E731
    assert page.pace_lines() == [
        f"Sales revenue: {money(5_100)} in 2026-Q4 against a {money(5_000)} target (the "
        "quarter's actual, 3 of 3 months)."
    ]
    page.pacing()
    # the intro speaks of the quarter's actual against target, not of a pace or forecast
    assert page.shown[0] == (
        "The quarter's actual against its target: every month of the quarter is done, so "
        "nothing is forecast."
    )
    fig = page.shown[-1]
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Sales revenue: 2026-Q4, actual and target"
    assert sorted(ax.get_legend_handles_labels()[1]) == ["quarter target", "quarter's actual"]


def test_a_quarter_to_date_keeps_its_pace_and_interval():
    page = Page([pace(2, actual=3_000.0, pace=4_800.0, lower=4_500.0, upper=5_200.0)])
    money = lambda v: format_value(v, "currency")  # noqa: E731
    (line,) = page.pace_lines()
    assert line.startswith(
        f"Sales revenue: on pace for {money(4_800)} this quarter (80 %: {money(4_500)}–"
        f"{money(5_200)}) against a {money(5_000)} target (2026-Q4, 2 of 3 months done"
    )
    page.pacing()
    assert page.shown[0].startswith("Where the quarter is heading: quarter to date plus the")
    ax = page.shown[-1].axes[0]
    assert ax.get_title(loc="left") == "Sales revenue: 2026-Q4 to date, pace and target"
    labels = sorted(ax.get_legend_handles_labels()[1])
    assert labels == ["pace, 80 % interval", "quarter target", "quarter to date"]


def test_the_pace_chart_of_a_complete_quarter_draws_no_interval():
    df = pd.DataFrame({"label": ["Company", "Team EMEA"], "actual": [3.0, 2.0],
                       "pace": [3.0, 2.0], "lower": [3.0, 2.0], "upper": [3.0, 2.0],
                       "target": [3.5, 1.5]})  # fmt: skip
    ax = pace_chart(df, "Bookings", "currency", complete=True).axes[0]
    assert not ax.collections  # no interval lines
    assert [line.get_marker() for line in ax.get_lines()] == ["|"]  # the targets only
