"""The pack index speaks in the words of its period ("this quarter" on a QBR), from
``report.PERIOD_WORDS``: written by ``pack.index.write_index`` from a stand-in snapshot
(no pack build)."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pandas as pd
import pytest

from kpi_helpers.core import Config
from kpi_helpers.pack.index import write_index
from kpi_helpers.pack.runner import Outcome


def _index(folder, period: str) -> str:
    snapshot = SimpleNamespace(
        month="2026-06",
        meta={"fingerprint": "0123456789abcdef", "kit_version": "0"},
        kpis=lambda: pd.DataFrame(columns=["month", "key", "kpi"]),
    )
    alert = dict(href="", scope_label="Company", name="Win rate", value_text="10 %")
    meta = dict(
        company="Acme",
        generated_at="2026-07-01 08:00",
        snapshot="data through 2026-06-30",
        month_label="2026-Q2" if period != "month" else "June 2026",
        period=period,
        alerts=[alert | dict(rule="below 20 %", why="")],
        explore="",
        left_out=[],
        quiet=[],
        data_reused=False,
    )
    reused = Outcome("summary", "company", "company", True, reused=True)
    write_index(folder, [], {}, [], [reused], snapshot, Config(), meta)
    page = html.unescape((folder / "index.html").read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("period", ["month", "quarter", "year"])
def test_the_index_says_this_period(tmp_path, period):
    text = _index(tmp_path, period)
    assert f"Alerts this {period} (1)" in text
    assert f"1 of 1 page(s) reused from an earlier build of this {period}" in text
    for other in {"month", "quarter", "year"} - {period}:
        assert f"this {other}" not in text
