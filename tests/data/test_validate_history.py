"""Validation of opportunity_stage_history against its deals (issue 19): every deal in
opportunities, one order of stages per deal, entered_at between created_at and closed_at,
the last stage equal to the deal's stage. Tiny datasets written here."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from conftest import write_tables

from kpi_helpers.data import format_report, open_dataset, validate

AS_OF = datetime(2026, 6, 1)

DEALS = pd.DataFrame(
    [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-03-01"),
        ("O2", "2026-01-06", "proposal", 200.0, None),
        ("O3", "2026-01-07", "closed_lost", 300.0, "2026-02-10"),
    ],
    columns=["opportunity_id", "created_at", "stage", "amount", "closed_at"],
)


def findings(tmp_path, history: list[tuple] | None) -> pd.DataFrame:
    tables = {"opportunities": DEALS}
    if history is not None:
        columns = ["opportunity_id", "stage", "entered_at"]
        tables["opportunity_stage_history"] = pd.DataFrame(history, columns=columns)
    found = validate(open_dataset(write_tables(tmp_path, tables)), as_of=AS_OF)
    return found[~found["table"].isin(["reps", "accounts", "leads"])].reset_index(drop=True)


CLEAN = [
    ("O1", "prospecting", "2026-01-05"),
    ("O1", "proposal", "2026-02-01"),
    ("O1", "closed_won", "2026-03-01"),
    ("O2", "qualification", "2026-01-06"),
    ("O2", "proposal", "2026-01-20 10:00"),
    ("O3", "prospecting", "2026-01-07"),
    ("O3", "closed_lost", "2026-02-10"),
]


def test_a_consistent_history_is_clean_and_a_missing_one_is_no_finding(tmp_path):
    clean = findings(tmp_path / "a", CLEAN)
    assert not (clean["table"] == "opportunity_stage_history").any(), format_report(clean, "t")
    # optional: a dataset without it gets no missing-table warning for it
    without = findings(tmp_path / "b", None)
    assert "opportunity_stage_history" not in set(without["table"])


def test_each_broken_rule_is_one_warning_naming_the_deals(tmp_path):
    history = [
        *CLEAN,
        ("O9", "proposal", "2026-01-10"),  # no such deal
        ("O2", "negotiation", "2026-01-20 10:00"),  # same instant as O2's proposal
        ("O3", "prospecting", "2026-01-01"),  # before O3 was created (01-07)
        ("O1", "negotiation", "2026-03-05"),  # after O1 closed (03-01); and now its last row
    ]
    found = findings(tmp_path, history)
    found = found[found["table"] == "opportunity_stage_history"]
    got = {f.check: (f.severity, f.column, f.rows, list(f.examples)) for f in found.itertuples()}
    assert got == {
        "orphan_key": ("warning", "opportunity_id", 1, ["O9"]),
        "history_unordered": ("warning", "entered_at", 1, ["O2"]),
        "history_before_created": ("warning", "entered_at", 1, ["O3"]),
        "history_after_close": ("warning", "entered_at", 1, ["O1"]),
        # O1 ends in negotiation but is closed_won; O2's last instant holds two stages,
        # one of them not its stage (proposal)
        "history_last_stage": ("warning", "stage", 2, ["O1", "O2"]),
    }, format_report(found, "t")
    report = format_report(found, "t")
    assert "opportunity_stage_history.stage: deals whose latest stage" in report


def test_the_table_reads_and_checks_its_own_columns(tmp_path):
    bad = [("O1", "prospecting", "someday"), ("O2", "proposal", "2026-01-06")]
    found = findings(tmp_path, bad)
    f = found[found["check"] == "bad_date"].iloc[0]
    assert (f.severity, f.table, f.column, f.rows) == (
        "error",
        "opportunity_stage_history",
        "entered_at",
        1,
    )
