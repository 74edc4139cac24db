"""The ``pace_below`` alert rule on hand-made pacing: it fires only where the quarter's
pace AND the top of its 80 % interval are under the quarter's target."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_helpers.alerts import check, parse_rules
from kpi_helpers.core import KitError


def pace(key: str, value: float, upper: float, target: float | None) -> dict:
    below = target is not None and value < target and upper < target
    return dict(key=key, kpi="monthly_sales_bookings", quarter="2026-Q4", pace=value,
                lower=value - 10.0, upper=upper, target=target, below=below)  # fmt: skip


ROWS = pd.DataFrame(
    {
        "key": ["company", "team:A", "team:B", "team:C"],
        "kpi": "monthly_sales_bookings",
        "month": "2026-11",
        "status": "ok",
        "value": 1.0,
    }
)
PACE = [
    pace("company", 500.0, 520.0, 400.0),  # above its target
    pace("team:A", 80.0, 95.0, 100.0),  # pace and band top under the target: fires
    pace("team:B", 80.0, 105.0, 100.0),  # pace under, but the band reaches the target
    pace("team:C", 80.0, 90.0, None),  # no quarter target
]


def test_pace_below_fires_where_the_whole_band_misses_the_target():
    rules = parse_rules([{"kpi": "monthly_sales_bookings", "scope": "team:*", "pace_below": True}])
    found = check(rules, ROWS, "2026-11", pace=PACE)
    assert [a.scope for a in found.alerts] == ["team:A"]
    a = found.alerts[0]
    assert (a.value, a.value_text, a.kind) == (80.0, "$80", "pace_below")
    assert a.rule == "on pace for $80 this quarter (80 %: $70–$95) against a $100 target (2026-Q4)"
    company = parse_rules([{"kpi": "monthly_sales_bookings", "pace_below": True}])
    assert check(company, ROWS, "2026-11", pace=PACE).alerts == []
    assert rules[0].text() == (
        "Monthly sales bookings, every team: on pace to miss the quarter's target"
    )


def test_pace_below_needs_a_paced_kpi_and_true():
    with pytest.raises(KitError, match="pace_below is checked on sales_revenue and monthly_sal"):
        parse_rules([{"kpi": "win_rate", "pace_below": True}])
    with pytest.raises(KitError, match="write pace_below = true"):
        parse_rules([{"kpi": "sales_revenue", "pace_below": 1}])
