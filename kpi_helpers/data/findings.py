"""What validation finds (:class:`Finding`) and the one order a report lists it in
(``CHECK_ORDER``, :func:`sort_findings`).

>>> check_rank("unreadable", ERROR) < check_rank("missing_column", ERROR)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .contract import TABLES

ERROR, WARNING = "error", "warning"
FINDING_COLUMNS = ["severity", "table", "column", "check", "problem", "rows", "examples", "fix"]

# The kinds of check, in the order a user should fix what they find: a problem early in
# the list can cause the later ones (a file read with the wrong encoding has columns that
# do not parse; a column that does not parse breaks the keys and the rules on values), so
# fixing from the top down, validating again after each step, is the shortest way to
# clean data. A new kind of check is declared here, where it belongs; an undeclared kind
# sorts with the values against the rules (an error) or the suspicious data (a warning).
CHECK_ORDER = (
    # 1. the file: can it be read at all, and was it read the way it was written
    "unreadable",
    "encoding",  # not UTF-8: read as Windows-1252 (a warning: check the names)
    # 2. the table's shape
    "missing_column",
    # 3. values that do not parse as the contract's type
    "bad_month",
    "excel_date",  # numbers where dates belong: dates = "excel" reads them
    "bad_date",
    "bad_number",
    # 4. keys: one row per ID
    "duplicate_id",
    # 5. values against the contract's rules
    "closed_without_date",
    "closed_before_created",
    "bad_stage",
    "negative",
    "score_out_of_range",
    "score_not_whole",
    "unknown_value",
    # 6. links between tables
    "orphan_key",
    # 7. targets: one per month, KPI and scope, for KPIs, teams and reps that exist
    "duplicate_target",
    "unknown_kpi",
    "unknown_team",
    "unknown_rep",
    "target_team_mismatch",
    # 8. suspicious data (what CRM exports get wrong about deals first), then what the
    # data lacks
    "open_without_account",
    "open_without_expected_close",
    "open_past_expected_close",
    "one_deal_type",
    "open_with_close_date",
    "history_unordered",  # the stage history against its deals (data.history_checks)
    "history_before_created",
    "history_after_close",
    "history_last_stage",
    "future",
    "missing_table",
)
_UNDECLARED = {ERROR: CHECK_ORDER.index("orphan_key"), WARNING: CHECK_ORDER.index("future")}


@dataclass
class Finding:
    """One problem of one table: ``rows`` rows have it, ``examples`` name up to five.

    >>> Finding(ERROR, "targets", "kpi", "unknown_kpi", "...", 1, ["sales_revnue"], "...").table
    'targets'
    """

    severity: str
    table: str
    column: str
    check: str
    problem: str
    rows: int
    examples: list[str]
    fix: str


def check_rank(check: str, severity: str) -> float:
    """Where findings of kind ``check`` come in a report (``CHECK_ORDER``); an undeclared
    kind comes before the links between tables (an error) or with the suspicious data (a
    warning).

    >>> check_rank("future", WARNING) > check_rank("orphan_key", WARNING)
    True
    """
    if check in CHECK_ORDER:
        return CHECK_ORDER.index(check)
    return _UNDECLARED.get(severity, len(CHECK_ORDER)) - 0.5


def sort_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` in the order a user should fix them: by kind of check
    (:func:`check_rank`), errors before warnings, tables in contract order; otherwise as
    found.

    >>> f = pd.DataFrame({"check": ["future", "unreadable"], "severity": [WARNING, ERROR],
    ...                   "table": ["leads", "orders"]})
    >>> sort_findings(f)["check"].tolist()
    ['unreadable', 'future']
    """
    tables = {name: i for i, name in enumerate(TABLES)}
    kinds = zip(findings["check"], findings["severity"], strict=True)
    keys = pd.DataFrame(
        {
            "kind": [check_rank(check, severity) for check, severity in kinds],
            "severity": findings["severity"].map({ERROR: 0, WARNING: 1}).fillna(2),
            "table": findings["table"].map(tables).fillna(len(tables)),
        },
        index=findings.index,
    )
    order = keys.sort_values(["kind", "severity", "table"], kind="stable").index
    return findings.loc[order].reset_index(drop=True)


def with_hints(hints: Mapping[str, str], shown: int = 5) -> str:
    """Names, each with its hint, for a finding's problem.

    >>> with_hints({"sales_revnue": " (did you mean sales_revenue?)", "x": ""})
    "'sales_revnue' (did you mean sales_revenue?), 'x'"
    """
    names = [f"{name!r}{hint}" for name, hint in list(hints.items())[:shown]]
    more = f" and {len(hints) - shown} more" if len(hints) > shown else ""
    return ", ".join(names) + more
