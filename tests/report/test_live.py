"""A page without a snapshot (an analyst in JupyterLab) reads its numbers and its alerts
from ``report.live``, through the same calls a snapshot answers; values are those worked
out by hand in tests/kpi_fixture.py for m = 2026-03."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import write_tables
from kpi_fixture import tables

from kpi_helpers.report import Report
from kpi_helpers.report.live import LiveData

M = "2026-03"
RULES = """
[[alerts]]
kpi = "win_rate"
scope = "team:*"
below = 60

[[alerts]]
kpi = "win_rate"
below = 60
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    (folder / "kpi.toml").write_text(RULES)
    return folder, write_tables(folder / "data", tables())


def test_live_data_checks_the_configs_alert_rules(source):
    folder, data = source
    page = Report("summary", month=M, source=str(data), config=str(folder / "kpi.toml"))
    fired = page.data.alerts()
    # North's win rate is 50 % (one of its two closed deals won), below 60; the company's
    # is 2 of 3 (66.7 %) and South's 100 %, not below: no alert
    assert [(a["scope"], a["kpi"], round(a["value"], 6)) for a in fired] == [
        ("team:North", "win_rate", 50.0)
    ]
    assert page.data.alert_rules() == [
        "Win rate, every team: below 60.0 %",
        "Win rate, company: below 60.0 %",
    ]
    # the company page counts the team's alert; the team's page shows it
    assert "1 alert for teams and reps" in page.alerts().text
    team = Report("summary", month=M, scope="team:North", source=str(data), config=page.config)
    assert "50.0 %" in team.alerts().text and "No alerts" not in team.alerts().text


def test_without_rules_a_live_page_has_no_alerts(source):
    _, data = source
    live = LiveData(str(data), month=M)
    assert live.alerts() == [] and live.alert_rules() == []


def test_a_page_from_a_snapshot_never_loads_the_engine():
    """The notebook module, its charts and the snapshot reader import no Ibis: the live
    path (report.live) is imported only by a page that has no snapshot."""
    code = (
        "import sys; from kpi_helpers.report import Report, Snapshot, charts; "
        "print('ibis' in sys.modules, 'kpi_helpers.report.live' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


STALE = (
    "of the open pipeline is stale: older than twice the median cycle of the deals won in "
    "the last 12 months (at least 30 days)"
)
OVERDUE = "of the open pipeline is overdue: past its expected close date"


def test_a_stale_or_overdue_pipeline_above_a_quarter_is_flagged(source):
    """m: company overdue (O1 2000 + O5 400) / 3200 = 75 %, stale O5 400 / 3200 = 12.5 %;
    South stale and overdue O5 400 / 1200 = 33.3 %."""
    _, data = source
    summary = Report("summary", month=M, source=str(data))
    assert summary.flags() == [f"75.0 % {OVERDUE}"]
    assert f'<ul class="flags"><li>75.0 % {OVERDUE}</li></ul>' in summary.cards().text
    assert summary.card("overdue_pipeline_share")["rag"] == "red"  # no target: the flag
    assert summary.card("stale_pipeline_share")["rag"] == "none"  # 12.5 %: no flag

    south = Report("pipeline", month=M, scope="team:South", source=str(data))
    html = south.cards().text
    assert f"<li>33.3 % {STALE}</li><li>33.3 % {OVERDUE}</li>" in html
    # both are cards of the pipeline page
    assert '<div class="name">Stale pipeline</div>' in html
    assert '<div class="name">Overdue pipeline</div>' in html
