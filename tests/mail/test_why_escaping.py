"""Rep names in "Why it moved" are the data's (any characters, HTML included): they come
out escaped on the page (the section's Jinja2 block) and in the e-mail's summary (an
alert's drivers), from a hand-made drivers record (no pack build)."""

from __future__ import annotations

import html
from types import SimpleNamespace

import pandas as pd

from kpi_helpers.catalog import get
from kpi_helpers.core import Config
from kpi_helpers.drivers import entry, paragraph, why_line
from kpi_helpers.drivers.bridge import Part
from kpi_helpers.drivers.explain import Explanation
from kpi_helpers.mail.compose import render
from kpi_helpers.report.sections import SummarySections

SCRIPT, AMP = "<script>alert(1)</script>", 'A & "B"'
K = get("monthly_sales_bookings")


def _explanation() -> Explanation:
    """Team B's bookings fell $2,000 ($8,000 -> $6,000): reps b1 and b2 lost $1,000 each."""
    e = Explanation(K.id, "team:B", "2026-05", "previous", "2026-04", 6_000.0, 8_000.0,
                    "additive", names={"b1": SCRIPT, "b2": AMP})  # fmt: skip
    e.drivers = [
        ("rep", Part("b1", -1_000.0, 1_000.0, 2_000.0, share=0.5)),
        ("rep", Part("b2", -1_000.0, 1_000.0, 2_000.0, share=0.5)),
    ]
    e.dimensions = {"rep": [p for _, p in e.drivers]}
    e.text = paragraph(e, K, "USD")
    return e


class Page(SummarySections):
    """The summary's "Why it moved" without data: its drivers given, its output kept."""

    scope, period, cfg = "team:B", "month", Config()
    current = pd.DataFrame(columns=["status", "mom_change", "better", "change_unit"])

    def __init__(self, found: dict):
        self.data = SimpleNamespace(drivers=lambda scope, base, ids: found)
        self.shown: list = []

    def headlines(self):
        return [K.id]

    def display(self, block):
        self.shown.append(block.text)


def test_the_words_name_the_reps_as_the_data_does():
    e = _explanation()
    assert f"Rep {SCRIPT} explains 50 % (-$1,000)" in e.text
    assert f"Rep {AMP} explains 50 % (-$1,000)" in e.text


def test_rep_names_are_escaped_on_the_page():
    page = Page({K.id: entry(_explanation(), K)})
    page.why_moved(charts=0)
    (shown,) = page.shown
    assert "<script>" not in shown and 'A & "B"' not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "A &amp; &#34;B&#34;" in shown
    assert f"Rep {SCRIPT} explains 50 %" in html.unescape(shown)


def test_rep_names_are_escaped_in_the_email():
    why = why_line(_explanation(), K)
    alert = dict(name="Bookings fell", value_text="$6,000", rule="fell more than 10 %")
    content = dict(
        company="Acme", scope_label="Team B", month_label="May 2026", previous="last month",
        this="this month", data_through="2026-05-31", cards=[], other_alerts=0,
        alert_rules=1, pacing=[], charts=[], alerts=[alert | dict(why=why, who="")],
    )  # fmt: skip
    body, text, _ = render(content)
    assert "<script>" not in body and 'A & "B"' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert f"Rep {SCRIPT} explains 50 %" in html.unescape(body)
    assert f"Rep {AMP} explains 50 %" in text  # the plain-text part says it as it is
