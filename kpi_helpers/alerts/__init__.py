"""Threshold alerts: ``[[alerts]]`` rules of ``kpi.toml`` (:mod:`.rules`: parsing, which
reads the catalog only) checked against a month's KPI rows (:mod:`.check`).

>>> parse_rules([{"kpi": "win_rate", "scope": "team:*", "below": 20}])[0].text()
'Win rate, every team: below 20.0 %'
"""

from .check import Alert, AlertCheck, check, check_dataset, evaluate, format_text, rows_for_rules
from .rules import AlertRule, needed_kpis, needed_scopes, parse_rules, rules_of, scalar_ids

__all__ = [
    "Alert",
    "AlertCheck",
    "AlertRule",
    "check",
    "check_dataset",
    "evaluate",
    "format_text",
    "needed_kpis",
    "needed_scopes",
    "parse_rules",
    "rows_for_rules",
    "rules_of",
    "scalar_ids",
]
