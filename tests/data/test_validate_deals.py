"""Validation of the deals a CRM export gets wrong (issue 21): open deals without an
expected close date or an account, open deals past their expected close, and one deal
type for every deal while accounts win again and again. Tiny datasets written here."""

from __future__ import annotations

from datetime import datetime

import ibis
import pandas as pd
from conftest import write_tables

from kpi_helpers.data import format_report, open_dataset, validate

AS_OF = datetime(2026, 6, 1)


def deals(rows: list[tuple], columns: str) -> dict[str, pd.DataFrame]:
    """Reps R1, accounts A1..A3 and the deals ``rows`` (with ``columns``)."""
    return {
        "reps": pd.DataFrame({"rep_id": ["R1"], "team": ["North"]}),
        "accounts": pd.DataFrame({"account_id": ["A1", "A2", "A3"]}),
        "opportunities": pd.DataFrame(rows, columns=[c.strip() for c in columns.split(",")]),
    }


def findings(tmp_path, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    found = validate(open_dataset(write_tables(tmp_path, tables)), as_of=AS_OF)
    return found[found["check"] != "missing_table"]


def only(found: pd.DataFrame, check: str) -> pd.Series:
    hits = found[found["check"] == check]
    assert len(hits) == 1, format_report(found, "test")
    return hits.iloc[0]


COLUMNS = "opportunity_id, created_at, stage, amount, closed_at, expected_close_at, account_id"


def test_open_deals_without_an_expected_close_date(tmp_path):
    rows = [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-02-01", None, "A1"),  # closed: fine
        ("O2", "2026-01-06", "proposal", 200.0, None, "2026-07-01", "A1"),
        ("O3", "2026-01-07", "proposal", 300.0, None, None, "A2"),
        ("O4", "2026-01-08", "qualification", 400.0, None, None, "A3"),
        ("O5", "2026-01-09", "closed_lost", 500.0, "2026-02-02", None, "A3"),  # closed
    ]
    found = findings(tmp_path, deals(rows, COLUMNS))
    f = only(found, "open_without_expected_close")
    assert (f.severity, f.table, f.column, f.rows) == (
        "warning",
        "opportunities",
        "expected_close_at",
        2,
    )
    assert f.examples == ["O3", "O4"]
    assert "pipeline-weighted forecast" in f.problem
    assert "CloseDate" in f.fix and "Close Date" in f.fix  # where the CRMs keep it
    assert len(found) == 1, format_report(found, "test")  # nothing else: O2 is not overdue


def test_open_deals_without_an_account(tmp_path):
    rows = [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-02-01", None, None),  # closed
        ("O2", "2026-01-06", "proposal", 200.0, None, "2026-07-01", None),
        ("O3", "2026-01-07", "proposal", 300.0, None, "2026-07-01", "A2"),
    ]
    f = only(findings(tmp_path, deals(rows, COLUMNS)), "open_without_account")
    assert (f.column, f.rows, f.examples) == ("account_id", 1, ["O2"])
    assert "AccountId" in f.fix and "Associated Company" in f.fix


def test_open_deals_past_their_expected_close_date_where_the_data_ends(tmp_path):
    # The data ends on 2026-03-31 (O1's close): later than the latest created_at. O9's
    # created_at lies after AS_OF (a future date, its own finding) and does not count.
    # Overdue: O2 (expected 2026-01-31) and O3 (2026-03-30); O4 is due on the last day,
    # O5 after it; O6 has no date; O7 is closed.
    rows = [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-03-31 15:00", None, "A1"),
        ("O2", "2025-11-06", "proposal", 200.0, None, "2026-01-31", "A1"),
        ("O3", "2026-01-07", "proposal", 300.0, None, "2026-03-30", "A2"),
        ("O4", "2026-01-08", "proposal", 400.0, None, "2026-03-31", "A2"),
        ("O5", "2026-01-09", "proposal", 500.0, None, "2026-04-15", "A3"),
        ("O6", "2026-01-10", "proposal", 600.0, None, None, "A3"),
        ("O7", "2026-01-11", "closed_lost", 700.0, "2026-02-01", "2026-01-15", "A3"),
        ("O9", "2027-01-01", "proposal", 900.0, None, "2027-02-01", "A3"),
    ]
    found = findings(tmp_path, deals(rows, COLUMNS))
    f = only(found, "open_past_expected_close")
    assert (f.severity, f.column, f.rows, f.examples) == (
        "warning",
        "expected_close_at",
        2,
        ["O2", "O3"],
    )
    assert "before 2026-03-31" in f.problem
    assert only(found, "future").examples == ["O9"]


def test_no_overdue_finding_without_open_deals_with_dates(tmp_path):
    rows = [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-03-31", "2026-01-01", "A1"),
        ("O2", "2025-11-06", "proposal", 200.0, None, None, "A1"),
    ]
    found = findings(tmp_path, deals(rows, COLUMNS))
    assert set(found["check"]) == {"open_without_expected_close"}


REPEAT = "opportunity_id, created_at, stage, amount, closed_at, account_id, deal_type"
# A1 won twice (O1, O2), A2 won once and lost once: one account with repeat wins.
REPEAT_ROWS = [
    ("O1", "2026-01-05", "closed_won", 100.0, "2026-02-01", "A1", "new"),
    ("O2", "2026-02-05", "closed_won", 200.0, "2026-03-01", "A1", None),  # empty: new
    ("O3", "2026-01-07", "closed_won", 300.0, "2026-02-03", "A2", "new"),
    ("O4", "2026-02-07", "closed_lost", 400.0, "2026-03-03", "A2", "new"),
    ("O5", "2026-03-07", "proposal", 500.0, None, "A3", "new"),
]


def test_one_deal_type_for_every_deal_while_accounts_win_again(tmp_path):
    f = only(findings(tmp_path, deals(REPEAT_ROWS, REPEAT)), "one_deal_type")
    assert (f.severity, f.column, f.rows, f.examples) == ("warning", "deal_type", 5, ["A1"])
    assert f.problem.startswith("every deal is typed 'new' although 1 account has 2+ won")
    assert "upsell, cross-sell and expansion read as 0" in f.problem
    assert "Type" in f.fix and "Deal Type" in f.fix


def test_no_deal_type_column_counts_every_deal_as_new(tmp_path):
    rows = [r[:-1] for r in REPEAT_ROWS] + [
        ("O6", "2026-03-08", "closed_won", 50.0, "2026-03-20", "A2"),  # A2 won twice now
    ]
    f = only(findings(tmp_path, deals(rows, REPEAT.rsplit(",", 1)[0])), "one_deal_type")
    assert (f.rows, f.examples) == (6, ["A1", "A2"])
    assert f.problem.startswith(
        "no deal_type column, so every deal counts as 'new', although 2 accounts have 2+ won deals"
    )


def test_one_deal_type_is_fine_without_repeat_wins_or_with_two_types(tmp_path):
    single = [r for r in REPEAT_ROWS if r[0] != "O2"]  # no account won twice
    assert findings(tmp_path / "a", deals(single, REPEAT)).empty
    typed = [(*r[:-1], "upsell") if r[0] == "O2" else r for r in REPEAT_ROWS]
    assert findings(tmp_path / "b", deals(typed, REPEAT)).empty


def test_clean_deals_cost_no_extra_query(tmp_path, monkeypatch):
    """The figures the new checks need are counted in the table's one aggregate; only a
    check whose figures call for it queries again."""
    rows = [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-03-31", None, "A1", "new"),
        ("O2", "2026-01-06", "proposal", 200.0, None, "2026-07-01", "A1", "upsell"),
    ]
    ds = open_dataset(write_tables(tmp_path, deals(rows, COLUMNS + ", deal_type")))
    sql: list[str] = []
    monkeypatch.setattr(ibis.options, "verbose", True)
    monkeypatch.setattr(ibis.options, "verbose_log", sql.append)
    assert set(validate(ds, as_of=AS_OF)["check"]) == {"missing_table"}
    # one aggregate per table (reps, accounts, opportunities): the earliest expected close
    # (2026-07-01) is after the end of the data (2026-03-31), and two deal types are used,
    # so neither the overdue deals nor the repeat wins are counted
    assert len([q for q in sql if "ANTI JOIN" not in q]) == 3, "\n\n".join(sql)


def test_postgresql_finds_what_duckdb_finds(tmp_path, postgres_url):
    rows = [
        ("O1", "2026-01-05", "closed_won", 100.0, "2026-03-31 15:00", None, "A1", "new"),
        ("O2", "2025-11-06", "proposal", 200.0, None, "2026-01-31", None, "new"),
        ("O3", "2026-01-07", "proposal", 300.0, None, None, "A2", None),
        ("O4", "2026-02-07", "closed_won", 400.0, "2026-03-03", None, "A1", "new"),
    ]
    duck = open_dataset(write_tables(tmp_path, deals(rows, COLUMNS + ", deal_type")))
    con = ibis.connect(postgres_url)
    for name in duck.tables:
        con.create_table(name, duck.frame(name), overwrite=True)
    pg = open_dataset(postgres_url)
    expected = validate(duck, as_of=AS_OF)
    assert {
        "open_without_expected_close",
        "open_without_account",
        "open_past_expected_close",
        "one_deal_type",
    } <= set(expected["check"])
    pd.testing.assert_frame_equal(validate(pg, as_of=AS_OF), expected)
