"""Each validation finding, from a small clean dataset with one problem added."""

from __future__ import annotations

from datetime import datetime

import ibis
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.cli import main
from kpi_helpers.data import (
    CHECK_ORDER,
    FINDING_COLUMNS,
    FOREIGN_KEYS,
    OPTIONAL_TABLES,
    TABLES,
    exit_code,
    format_report,
    open_dataset,
    sort_findings,
    validate,
)

AS_OF = datetime(2026, 6, 1)


def clean() -> dict[str, pd.DataFrame]:
    """A tiny dataset that meets the contract: every table, every key resolves."""
    return {
        "reps": pd.DataFrame(
            {
                "rep_id": ["R1", "R2"],
                "team": ["North", "South"],
                "hired_at": ["2024-01-01", "2024-03-01"],
            }
        ),
        "accounts": pd.DataFrame(
            {
                "account_id": ["A1", "A2"],
                "owner_rep_id": ["R1", "R2"],
                "account_name": ["Acme <b>", "Zed"],
            }
        ),
        "leads": pd.DataFrame(
            {
                "lead_id": ["L1", "L2"],
                "created_at": ["2026-01-02", "2026-01-05 10:00"],
                "rep_id": ["R1", "R2"],
                "account_id": ["A1", "A2"],
            }
        ),
        "opportunities": pd.DataFrame(
            {
                "opportunity_id": ["O1", "O2", "O3"],
                "created_at": ["2026-01-03", "2026-01-04", "2026-02-01"],
                "stage": ["closed_won", "closed_lost", "proposal"],
                "amount": [100.0, 50.0, 70.0],
                "closed_at": ["2026-02-01", "2026-02-02", None],
                "rep_id": ["R1", "R2", "R1"],
                "account_id": ["A1", "A2", "A1"],
                "lead_id": ["L1", "L2", None],
                "deal_type": ["new", "new", "upsell"],
            }
        ),
        "activities": pd.DataFrame(
            {
                "activity_id": ["X1"],
                "occurred_at": ["2026-01-03"],
                "type": ["call"],
                "rep_id": ["R1"],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["S1", "S1", "S2"],
                "ordered_at": ["2026-02-01"] * 3,
                "account_id": ["A1", "A1", "A2"],
                "revenue": [10.0, -2.5, 4.0],
            }
        ),
        "subscriptions": pd.DataFrame(
            {
                "subscription_id": ["U1"],
                "account_id": ["A1"],
                "started_at": ["2026-02-01"],
                "mrr": [9.99],
            }
        ),
        "costs": pd.DataFrame({"month": ["2026-01"], "category": ["marketing"], "amount": [500.0]}),
        "targets": pd.DataFrame(
            {"month": ["2026-01"], "kpi": ["sales_revenue"], "target": [1000.0], "rep_id": [None]}
        ),
        "nps_responses": pd.DataFrame(
            {
                "response_id": ["N1", "N2"],
                "responded_at": ["2026-02-03", "2026-02-04"],
                "score": [9, 0],
                "account_id": ["A1", "A2"],
            }
        ),
        "financials": pd.DataFrame({"month": ["2026-01"], "net_income": [12.0]}),
    }


def run(tmp_path, change=None) -> pd.DataFrame:
    tables = clean()
    if change:
        change(tables)
    return validate(open_dataset(write_tables(tmp_path, tables)), as_of=AS_OF)


def only(findings: pd.DataFrame, check: str) -> pd.Series:
    hits = findings[findings["check"] == check]
    assert len(hits) == 1, format_report(findings, "test")
    return hits.iloc[0]


def test_clean_dataset_has_no_findings(tmp_path):
    findings = run(tmp_path)
    assert list(findings.columns) == FINDING_COLUMNS
    assert findings.empty, format_report(findings, "test")
    assert exit_code(findings) == 0


def test_missing_table_names_the_families_it_disables(tmp_path):
    f = only(run(tmp_path, lambda t: t.pop("subscriptions")), "missing_table")
    assert f.severity == "warning" and f.table == "subscriptions"
    assert "families customers, subscription" in f.problem


def test_warnings_only_exit_1(tmp_path):
    findings = run(tmp_path, lambda t: t.pop("financials"))
    assert exit_code(findings) == 1


def test_missing_required_column(tmp_path):
    f = only(
        run(tmp_path, lambda t: t.update(leads=t["leads"].drop(columns="created_at"))),
        "missing_column",
    )
    assert (f.severity, f.table, f.column) == ("error", "leads", "created_at")
    assert "required column created_at is missing" in f.problem


def _set(table, column, row, value):
    def change(t):
        t[table][column] = t[table][column].astype(object)
        t[table].loc[row, column] = value

    return change


def test_unparseable_date(tmp_path):
    f = only(run(tmp_path, _set("leads", "created_at", 1, "31/02/2026")), "bad_date")
    assert (f.table, f.column, f.rows, f.examples) == ("leads", "created_at", 1, ["L2"])
    assert "created_at has values that are not dates" in f.problem
    assert "dates.created_at" in f.fix


def test_unparseable_number(tmp_path):
    f = only(run(tmp_path, _set("orders", "revenue", 2, "4,00 €")), "bad_number")
    assert (f.table, f.column, f.rows, f.examples) == ("orders", "revenue", 1, ["S2"])


def test_bad_month(tmp_path):
    f = only(run(tmp_path, _set("costs", "month", 0, "Jan 2026")), "bad_month")
    assert f.table == "costs" and "YYYY-MM" in f.problem


def test_duplicate_ids(tmp_path):
    def dup(t):
        t["accounts"] = pd.concat([t["accounts"], t["accounts"].iloc[[1]]])

    f = only(run(tmp_path, dup), "duplicate_id")
    assert (f.table, f.column, f.rows, f.examples) == ("accounts", "account_id", 2, ["A2"])


def test_order_lines_may_share_an_order_id(tmp_path):
    assert "duplicate_id" not in set(run(tmp_path)["check"])


def test_closed_deal_without_closed_at(tmp_path):
    f = only(run(tmp_path, _set("opportunities", "closed_at", 0, None)), "closed_without_date")
    assert (f.severity, f.examples) == ("error", ["O1"])
    assert f.problem == "closed deals without closed_at"


def test_closed_before_created(tmp_path):
    f = only(
        run(tmp_path, _set("opportunities", "closed_at", 1, "2026-01-01")), "closed_before_created"
    )
    assert (f.severity, f.examples, f.problem) == (
        "error",
        ["O2"],
        "closed_at is before created_at",
    )


def test_stage_outside_contract(tmp_path):
    findings = run(tmp_path, _set("opportunities", "stage", 0, "Closed Won"))
    f = only(findings, "bad_stage")
    assert (f.severity, f.examples) == ("error", ["O1"])
    assert "closed_won or closed_lost" in f.problem
    assert 'Won = "closed_won"' in f.fix


def test_nps_out_of_range(tmp_path):
    f = only(run(tmp_path, _set("nps_responses", "score", 1, 11)), "score_out_of_range")
    assert (f.severity, f.examples, f.problem) == ("error", ["N2"], "NPS scores outside 0..10")


@pytest.mark.parametrize(
    "table, column, row, key",
    [
        ("opportunities", "amount", 0, "O1"),
        ("subscriptions", "mrr", 0, "U1"),
        ("costs", "amount", 0, "2026-01"),
    ],
)
def test_negative_amounts(tmp_path, table, column, row, key):
    f = only(run(tmp_path, _set(table, column, row, -1.0)), "negative")
    assert (f.table, f.column, f.examples) == (table, column, [key])
    assert f.problem == f"{column} is negative"


def test_negative_revenue_is_a_return_not_an_error(tmp_path):
    assert "negative" not in set(run(tmp_path)["check"])  # the fixture has a -2.5 line


def test_orphan_foreign_key(tmp_path):
    f = only(run(tmp_path, _set("opportunities", "rep_id", 2, "R9")), "orphan_key")
    assert (f.severity, f.table, f.column, f.examples) == (
        "warning",
        "opportunities",
        "rep_id",
        ["O3"],
    )
    assert "not found in reps.rep_id" in f.problem and "unassigned" in f.problem


def test_future_timestamp(tmp_path):
    f = only(run(tmp_path, _set("activities", "occurred_at", 0, "2027-01-01")), "future")
    assert (f.severity, f.table, f.examples) == ("warning", "activities", ["X1"])


def test_expected_close_may_be_in_the_future(tmp_path):
    def change(t):
        t["opportunities"]["expected_close_at"] = [None, None, "2027-03-01"]

    assert run(tmp_path, change).empty


def test_unknown_deal_type(tmp_path):
    f = only(run(tmp_path, _set("opportunities", "deal_type", 0, "expansion")), "unknown_value")
    assert f.column == "deal_type" and f.severity == "warning"


def test_report_and_cli_exit_code_2(tmp_path, capsys):
    tables = clean()
    tables["opportunities"].loc[0, "closed_at"] = None
    write_tables(tmp_path, tables)
    assert main(["validate", "--source", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "1 error(s)" in out
    assert "ERROR   opportunities.closed_at: closed deals without closed_at [1 row(s)]" in out
    assert "e.g. O1" in out


def test_examples_are_capped_at_five(tmp_path):
    def many(t):
        t["leads"] = pd.DataFrame(
            {"lead_id": [f"L{i}" for i in range(9)], "created_at": ["yesterday"] * 9}
        )

    f = only(run(tmp_path, many), "bad_date")
    assert f.rows == 9 and len(f.examples) == 5


def _queries(monkeypatch) -> list[str]:
    """The SQL of every query Ibis compiles from now on (its own verbose log)."""
    sql: list[str] = []
    monkeypatch.setattr(ibis.options, "verbose", True)
    monkeypatch.setattr(ibis.options, "verbose_log", sql.append)
    return sql


def _parent_keys(ds) -> int:
    """How many parent columns the foreign keys of ``ds`` point at."""
    return len(
        {
            (parent, pcol)
            for (child, col), (parent, pcol) in FOREIGN_KEYS.items()
            if ds.has(child, col) and ds.has(parent, pcol)
        }
    )


def test_a_clean_table_costs_one_query(tmp_path, monkeypatch):
    ds = open_dataset(write_tables(tmp_path, clean()))
    sql = _queries(monkeypatch)
    assert validate(ds, as_of=AS_OF).empty
    # one aggregate of every check per table, one anti join per parent of foreign keys,
    # and the small table targets read whole for the checks across its rows (no team or
    # rep in it: reps is not read)
    # (every table of the contract but the optional stage history, checked apart)
    assert len([q for q in sql if "ANTI JOIN" not in q]) == len(ds.tables) + 1
    assert len(ds.tables) == len(TABLES) - len(OPTIONAL_TABLES)
    assert len(sql) == len(ds.tables) + _parent_keys(ds) + 1


def test_only_checks_that_found_rows_query_for_examples(tmp_path, monkeypatch):
    tables = clean()
    tables["opportunities"]["amount"] = [100.0, -50.0, 70.0]
    tables["opportunities"]["deal_type"] = ["new", "new", "expansion"]
    ds = open_dataset(write_tables(tmp_path, tables))
    sql = _queries(monkeypatch)
    findings = validate(ds, as_of=AS_OF)
    assert list(findings["check"]) == ["negative", "unknown_value"]
    assert list(findings["examples"]) == [["O2"], ["O3"]]
    assert len(sql) == len(ds.tables) + _parent_keys(ds) + 1 + 2  # + targets, read whole


def test_postgresql_finds_what_duckdb_finds(tmp_path, postgres_url):
    """The batched checks are portable: typed tables with planted problems, loaded into
    PostgreSQL, give the same findings, examples and order as in DuckDB."""

    def plant(t):
        t["accounts"] = pd.concat([t["accounts"], t["accounts"].iloc[[1]]])
        o = t["opportunities"]
        o["closed_at"] = [None, "2026-01-01", "2026-03-01"]
        o["stage"] = ["closed_won", "closed_lost", "Closed Won"]
        o["amount"] = [100.0, -50.0, 70.0]
        o["deal_type"] = ["expansion", "new", "upsell"]
        o["rep_id"] = ["R1", "R2", "R9"]
        t["activities"]["occurred_at"] = ["2027-01-01"]
        t["costs"] = pd.DataFrame(
            {"month": ["Jan 2026", "2026-02"], "category": ["travel", "sales"], "amount": [1, -5]}
        )
        t["nps_responses"]["score"] = [11.0, 7.5]

    tables = clean()
    plant(tables)
    duck = open_dataset(write_tables(tmp_path, tables))
    con = ibis.connect(postgres_url)
    for name in duck.tables:
        con.create_table(name, duck.frame(name), overwrite=True)
    pg = open_dataset(postgres_url)
    assert pg.backend == "postgres"
    expected = validate(duck, as_of=AS_OF)
    assert len(expected) == 14, format_report(expected, "duckdb")
    pd.testing.assert_frame_equal(validate(pg, as_of=AS_OF), expected)


def test_findings_come_in_the_order_a_user_should_fix_them(tmp_path):
    """One finding per problem, sorted by the declared kind of check (CHECK_ORDER), errors
    before warnings within a kind, then tables in contract order. Before: errors by table,
    then warnings, a missing table first of them."""

    def plant(t):
        t.pop("financials")
        t["leads"] = t["leads"].drop(columns="created_at")
        t["accounts"] = pd.concat([t["accounts"], t["accounts"].iloc[[1]]])
        t["orders"]["revenue"] = t["orders"]["revenue"].astype(object)
        t["orders"].loc[2, "revenue"] = "4,00 €"
        o = t["opportunities"]
        o["closed_at"] = [None, "2026-02-02", None]
        o["deal_type"] = ["new", "new", "expansion"]
        t["activities"]["rep_id"] = ["R9"]
        t["activities"]["occurred_at"] = ["2027-01-01"]
        t["costs"]["category"] = ["travel"]
        t["targets"] = pd.DataFrame(
            {
                "month": ["2026-01", "2026-01", "2026-01"],
                "kpi": ["sales_revenue", "sales_revenue", "sales_revnue"],
                "target": [1000.0, 1000.0, 5.0],
            }
        )

    findings = run(tmp_path, plant)
    got = list(zip(findings["check"], findings["table"], findings["severity"], strict=True))
    assert got == [
        ("missing_column", "leads", "error"),
        ("bad_number", "orders", "error"),
        ("duplicate_id", "accounts", "error"),
        ("closed_without_date", "opportunities", "error"),
        ("unknown_value", "costs", "error"),
        ("unknown_value", "opportunities", "warning"),
        ("orphan_key", "activities", "warning"),
        ("duplicate_target", "targets", "error"),
        ("unknown_kpi", "targets", "error"),
        ("future", "activities", "warning"),
        ("missing_table", "financials", "warning"),
    ], format_report(findings, "test")
    assert set(findings["check"]) <= set(CHECK_ORDER)
    report = format_report(findings, "test").splitlines()
    assert report[0] == "Validation of test: 7 error(s), 4 warning(s)"
    at = report.index(
        "ERROR   targets.month/kpi/team/rep_id: 1 target(s) set by more than one row, "
        "which would be added up: 2026-01 sales_revenue company (2 rows: 1,000, 1,000) [2 row(s)]"
    )
    assert report[at + 1 : at + 3] == [
        "        e.g. 2026-01 sales_revenue company",
        "        fix: Keep one row per month, kpi and team/rep_id (delete the repeated rows; "
        "if both were meant, write their sum on one row).",
    ]


def test_an_undeclared_kind_of_check_sorts_by_its_severity():
    """A check another part of the kit adds without declaring it: an error among the value
    checks (before the links between tables), a warning with the suspicious data."""
    f = pd.DataFrame(
        {
            "check": ["future", "new_warning", "orphan_key", "new_error", "negative"],
            "severity": ["warning", "warning", "warning", "error", "error"],
            "table": ["leads"] * 5,
        }
    )
    assert sort_findings(f)["check"].tolist() == [
        "negative",
        "new_error",
        "orphan_key",
        "new_warning",
        "future",
    ]
