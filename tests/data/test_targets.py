"""The targets table is checked: one row per month, KPI and scope, catalog KPI ids, teams
and reps that exist (DATA_CONTRACT.md, issue 15). The engine never adds two rows up."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.cli import main
from kpi_helpers.data import format_report, open_dataset, validate

AS_OF = datetime(2026, 6, 1)


def tables(targets: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Two reps in two teams, three deals won in February 2026 (North 100 + 60, South
    40), and ``targets``."""
    return {
        "reps": pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]}),
        "opportunities": pd.DataFrame(
            {
                "opportunity_id": ["O1", "O2", "O3"],
                "created_at": ["2026-01-03", "2026-01-04", "2026-02-05"],
                "stage": ["closed_won"] * 3,
                "amount": [100.0, 60.0, 40.0],
                "closed_at": ["2026-02-01", "2026-02-10", "2026-02-11"],
                "rep_id": ["R1", "R1", "R2"],
            }
        ),
        "targets": targets,
    }


def targets(*rows: tuple) -> pd.DataFrame:
    """Target rows (month, kpi, target, team, rep_id)."""
    return pd.DataFrame(rows, columns=["month", "kpi", "target", "team", "rep_id"])


def findings(tmp_path, *rows: tuple, reps: bool = True, fmt: str = "csv") -> pd.DataFrame:
    data = tables(targets(*rows))
    if not reps:
        data.pop("reps")
    return validate(open_dataset(write_tables(tmp_path, data, fmt)), as_of=AS_OF)


def only(found: pd.DataFrame, check: str) -> pd.Series:
    hits = found[found["check"] == check]
    assert len(hits) == 1, format_report(found, "test")
    return hits.iloc[0]


def checks(found: pd.DataFrame) -> set[str]:
    return set(found["check"]) - {"missing_table"}


GOOD = [
    ("2026-02", "monthly_sales_bookings", 320.0, None, None),
    ("2026-02", "monthly_sales_bookings", 200.0, "North", None),
    ("2026-02", "monthly_sales_bookings", 120.0, "South", None),
    ("2026-02", "monthly_sales_bookings", 80.0, "South", "R2"),
    ("2026-02", "win_rate", 50.0, "North", None),
]


def test_good_targets_have_no_findings(tmp_path):
    found = findings(tmp_path, *GOOD)
    assert checks(found) == set(), format_report(found, "test")


def test_a_repeated_row_is_an_error_naming_the_rows(tmp_path):
    f = only(findings(tmp_path, *GOOD, GOOD[1]), "duplicate_target")
    assert (f.severity, f.table, f.rows) == ("error", "targets", 2)
    assert f.examples == ["2026-02 monthly_sales_bookings team North"]
    assert "2026-02 monthly_sales_bookings team North (2 rows: 200, 200)" in f.problem
    assert "Keep one row per month, kpi and team/rep_id" in f.fix


def test_empty_team_and_rep_are_the_same_key(tmp_path):
    """Written as Parquet, an empty text and a missing value are different values; both
    mean "no team" (a company target) and "no rep" (a team target)."""
    found = findings(
        tmp_path,
        ("2026-02", "new_customers", 5.0, "", None),
        ("2026-02", "new_customers", 6.0, None, ""),
        ("2026-02", "new_customers", 3.0, "North", ""),
        ("2026-02", "new_customers", 4.0, "North", None),
        fmt="parquet",
    )
    f = only(found, "duplicate_target")
    assert f.rows == 4
    assert f.examples == ["2026-02 new_customers company", "2026-02 new_customers team North"]
    # the problem details the first, the examples name them all
    assert "2026-02 new_customers company (2 rows: 5, 6); and 1 more" in f.problem


def test_a_reps_target_is_one_target_whatever_team_the_rows_name(tmp_path):
    """Both rows set rep R1's target: the engine would add them up."""
    found = findings(
        tmp_path,
        ("2026-02", "sales_revenue", 10.0, "North", "R1"),
        ("2026-02", "sales_revenue", 10.0, "South", "R1"),
    )
    f = only(found, "duplicate_target")
    assert f.examples == ["2026-02 sales_revenue rep R1"]
    # the row that names the wrong team is a finding of its own
    g = only(found, "target_team_mismatch")
    assert g.examples == ["2026-02 sales_revenue rep R1"]
    assert "(R1 in South, not North)" in g.problem


def test_a_kpi_that_is_not_a_catalog_id_is_an_error_with_did_you_mean(tmp_path):
    f = only(
        findings(
            tmp_path,
            *GOOD,
            ("2026-02", "sales_revnue", 1000.0, None, None),
            ("2026-03", "sales_revnue", 1000.0, None, None),
        ),
        "unknown_kpi",
    )
    assert (f.severity, f.table, f.column, f.rows) == ("error", "targets", "kpi", 2)
    # the rows to correct; the problem names the value and what it may mean
    assert f.examples == ["2026-02 sales_revnue company", "2026-03 sales_revnue company"]
    assert "'sales_revnue' (did you mean sales_revenue or " in f.problem
    assert "kpi-kit catalog" in f.fix


def test_an_alias_is_named_with_the_id_targets_are_matched_on(tmp_path):
    f = only(
        findings(tmp_path, ("2026-02", "customer_satisfaction", 40.0, None, None)), "unknown_kpi"
    )
    assert (
        "'customer_satisfaction' (another name for net_promoter_score: write net_promoter_score)"
        in f.problem
    )


def test_a_team_not_in_reps_is_a_warning_naming_it(tmp_path):
    f = only(findings(tmp_path, *GOOD, ("2026-02", "win_rate", 50.0, "Nort", None)), "unknown_team")
    assert (f.severity, f.table, f.column, f.rows) == ("warning", "targets", "team", 1)
    assert f.examples == ["2026-02 win_rate team Nort"]
    assert "'Nort' (did you mean North?)" in f.problem


def test_a_rep_not_in_reps_is_one_warning_naming_it(tmp_path):
    found = findings(tmp_path, *GOOD, ("2026-02", "win_rate", 50.0, None, "R9"))
    f = only(found, "unknown_rep")
    assert (f.severity, f.column, f.rows, f.examples) == (
        "warning",
        "rep_id",
        1,
        ["2026-02 win_rate rep R9"],
    )
    assert "'R9'" in f.problem
    assert checks(found) == {"unknown_rep"}  # not a second finding as an orphan key


def test_without_reps_teams_and_reps_are_not_checked(tmp_path):
    found = findings(
        tmp_path,
        ("2026-02", "win_rate", 50.0, "Nort", None),
        ("2026-02", "win_rate", 50.0, None, "R9"),
        reps=False,
    )
    assert checks(found) == set(), format_report(found, "test")


def test_a_reps_target_in_another_team_is_a_warning(tmp_path):
    f = only(
        findings(tmp_path, *GOOD, ("2026-02", "sales_revenue", 70.0, "South", "R1")),
        "target_team_mismatch",
    )
    assert (f.severity, f.column, f.rows, f.examples) == (
        "warning",
        "team",
        1,
        ["2026-02 sales_revenue rep R1"],
    )
    assert "(R1 in South, not North)" in f.problem
    assert "counts for the rep" in f.problem


def compute(folder, month: str, scope: str, capsys) -> tuple[int, str, str]:
    code = main(
        [
            "compute",
            "--source",
            str(folder),
            "--month",
            month,
            "--scope",
            scope,
            "--kpi",
            "monthly_sales_bookings",
        ]
    )
    out = capsys.readouterr()
    return code, out.out, out.err


def test_compute_refuses_a_target_set_twice(tmp_path, capsys):
    """Before: the team North's target became 200 + 200 = 400, attainment 160 / 400 = 40 %
    (red) instead of 160 / 200 = 80 %, with exit 0."""
    folder = write_tables(tmp_path, tables(targets(*GOOD, GOOD[1])))
    code, out, err = compute(folder, "2026-02", "team:North", capsys)
    assert code == 2 and out == ""
    assert "Table targets: 1 target(s) set by more than one row" in err
    assert "2026-02 monthly_sales_bookings team North (2 rows: 200, 200)" in err
    assert "Traceback" not in err


def test_compute_reads_one_target_per_scope(tmp_path, capsys):
    """A duplicate in a month not computed does not stop it: North booked 100 + 60 = 160
    in February against 200, 80 %."""
    old = ("2025-01", "monthly_sales_bookings", 5.0, "North", None)
    folder = write_tables(tmp_path, tables(targets(*GOOD, old, old)))
    code, out, _ = compute(folder, "2026-02", "team:North", capsys)
    assert code == 0
    row = pd.read_csv(pd.io.common.StringIO(out)).iloc[0]
    assert (row["value"], row["target"], row["attainment"]) == (160.0, 200.0, pytest.approx(80.0))
