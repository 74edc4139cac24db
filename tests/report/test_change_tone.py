"""One rule for a change's colour (report.pages.change_tone): cards, to-date lines and
the waterfall's steps."""

from __future__ import annotations

import math

import pytest

from kpi_helpers.report.charts import BAD, GOOD, NEUTRAL_C, step_colour
from kpi_helpers.report.pages import change_tone


@pytest.mark.parametrize(
    ("change", "better", "tone"),
    [
        (2.5, "up", "good"),
        (-2.5, "up", "bad"),
        (-2.5, "down", "good"),
        (2.5, "down", "bad"),
        (2.5, "neutral", ""),
        (0.0, "up", ""),  # no change is neither good nor bad
        (0.0, "down", ""),
        (math.nan, "up", ""),
    ],
)
def test_change_tone(change, better, tone):
    assert change_tone(change, better) == tone
    assert step_colour(change, better) == {"good": GOOD, "bad": BAD, "": NEUTRAL_C}[tone]
