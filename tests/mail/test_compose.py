"""The summary e-mail's alerts section, rendered from plain content (no pack needed)."""

from __future__ import annotations

from kpi_helpers.mail.compose import render


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


def test_the_pacing_lines_reach_the_html_and_the_text():
    line = "Sales revenue: on pace for $5.2M this quarter (80 %: $4.8M–$5.6M) against a $5.0M goal"
    html, text, _ = render(_content(alerts=None, other_alerts=0, alert_rules=0, pacing=[line]))
    assert line in text and line in html
    html, text, _ = render(_content(alerts=None, other_alerts=0, alert_rules=0, pacing=[]))
    assert "on pace" not in html + text
