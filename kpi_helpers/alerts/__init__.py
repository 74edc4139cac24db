"""Threshold alerts: ``[[alerts]]`` rules of ``kpi.toml`` (:mod:`.rules`: parsing, which
reads the catalog only) checked against a month's KPI rows (:mod:`.checks`).

Checking needs the engine (Ibis); its names (``check_dataset``, ``check``, ``evaluate``,
``Alert``, ...) load on first use, so reading kpi.toml's rules, which every command
does, never loads the engine.

>>> parse_rules([{"kpi": "win_rate", "scope": "team:*", "below": 20}])[0].text()
'Win rate, every team: below 20.0 %'
"""

from importlib import import_module

from .rules import AlertRule, needed_kpis, needed_scopes, parse_rules, rules_of, scalar_ids

CHECKING = (
    "Alert",
    "AlertCheck",
    "add_drivers",
    "check",
    "check_dataset",
    "evaluate",
    "format_text",
    "rows_for_rules",
)

__all__ = [
    "AlertRule",
    "needed_kpis",
    "needed_scopes",
    "parse_rules",
    "rules_of",
    "scalar_ids",
    *CHECKING,
]


def __getattr__(name: str):
    if name in CHECKING:
        # the engine (Ibis) loads with the first check, not with the rules
        return getattr(import_module("kpi_helpers.alerts.checks"), name)
    raise AttributeError(f"module 'kpi_helpers.alerts' has no attribute {name!r}")
