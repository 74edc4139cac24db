"""The summary e-mail's alerts section, rendered from plain content (no pack needed)."""

from __future__ import annotations

import pytest
from conftest import one_team_drops
from markupsafe import escape

from kpi_helpers.alerts import check_dataset, rules_of
from kpi_helpers.core import load_config
from kpi_helpers.data import open_dataset
from kpi_helpers.mail.compose import render
from kpi_helpers.report import Report, notebook
from kpi_helpers.report.html import HTML


def _content(**alerts) -> dict:
    base = dict(company="Acme", scope_label="Company", month_label="March 2026",
                data_through="2026-03-31", cards=[], charts=[])  # fmt: skip
    return base | alerts


def test_without_rules_the_mail_says_none_are_set():
    html, text, _ = render(_content(alerts=[], other_alerts=0, alert_rules=0))
    assert "No alert rules are set (add [[alerts]] to kpi.toml)." in text
    assert "No alert rules are set" in html and "No alerts for" not in html + text


def test_with_rules_and_nothing_fired_the_mail_says_no_alerts():
    html, text, _ = render(_content(alerts=[], other_alerts=0, alert_rules=2))
    assert "No alerts for this scope this month." in text
    assert "No alert rules are set" not in html + text


@pytest.mark.parametrize("team", ["<script>alert(1)</script>", 'EMEA & "Co"'])
def test_segment_names_are_escaped_on_pages_and_in_mail(tmp_path, monkeypatch, team):
    # team ``team`` loses $2,000 of $8,000 in May: it explains the fall of bookings
    src = one_team_drops(tmp_path / "data", team_b=team)
    config = tmp_path / "kpi.toml"
    config.write_text('[[alerts]]\nkpi = "monthly_sales_bookings"\nchange_below = -10\n')
    shown = []
    monkeypatch.setattr(notebook, "display", shown.append)
    monkeypatch.setattr(notebook, "show", lambda fig: shown.append("a chart"))
    report = Report("summary", month="2026-05", source=str(src), config=str(config))
    report.why_moved(["monthly_sales_bookings"])
    shown.append(report.alerts())
    page = "".join(x.text for x in shown if isinstance(x, HTML))
    assert shown.count("a chart") == 1  # the waterfall
    line = f"Team {team} explains 100 % (-$2,000)"
    assert f"fell 25.0 % ($8,000 -&gt; $6,000) from 2026-04 to 2026-05: {escape(line)}" in page
    alert = f"Monthly sales bookings fell 25.0 %: {line}"
    assert f'<span class="alert-why">{escape(alert)}</span>' in page
    assert team not in page and "<script>" not in page
    # the e-mail: the alert with its drivers, escaped in HTML, as is in the text part
    (a,) = check_dataset(open_dataset(src), rules_of(load_config(config)), "2026-05").alerts
    assert a.why == alert
    item = {k: a.as_dict()[k] for k in ("name", "value_text", "rule", "why")} | {"who": ""}
    html, text, _ = render(_content(alerts=[item], other_alerts=0, alert_rules=1))
    assert escape(alert) in html and team not in html
    assert f"\n  {alert}\n" in text


def test_the_pacing_lines_reach_the_html_and_the_text():
    line = "Sales revenue: on pace for $5.2M this quarter (80 %: $4.8M–$5.6M) against a $5.0M goal"
    html, text, _ = render(_content(alerts=None, other_alerts=0, alert_rules=0, pacing=[line]))
    assert line in text and line in html
    html, text, _ = render(_content(alerts=None, other_alerts=0, alert_rules=0, pacing=[]))
    assert "on pace" not in html + text
