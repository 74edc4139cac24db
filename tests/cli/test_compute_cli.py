"""kpi-kit compute and catalog on the sample data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import SAMPLE_END

from kpi_helpers.catalog import CATALOG
from kpi_helpers.cli import main
from kpi_helpers.core import Month
from kpi_helpers.kpis import TIDY_COLUMNS

MIDDLE = str(Month.parse(SAMPLE_END) - 18)  # the sample covers 36 months


def test_every_scalar_kpi_is_ok_mid_range(sample_dir, tmp_path, capsys):
    out = tmp_path / "kpis.csv"
    code = main(
        [
            "compute",
            "--source",
            str(sample_dir),
            "--month",
            MIDDLE,
            "--scope",
            "all",
            "--out",
            str(out),
            "--tables",
            str(tmp_path / "tables"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    assert list(df.columns) == TIDY_COLUMNS
    company = df[df.scope_type == "company"]
    scalars = {k.id for k in CATALOG if not k.is_table and not k.alias_of}
    assert set(company.kpi) == scalars
    # the sample's deals keep an expected close date only while open (as CRMs do): those
    # open at the end of a past month have all closed since, so its pipeline-weighted
    # forecast has nothing to weigh: not available (never $0), and its table not written
    forecast = company[company.kpi == "bookings_forecast"].iloc[0]
    assert forecast.status == "not_available"
    assert forecast.reason.startswith(f"no deal open at the end of {MIDDLE} has an expected")
    # for the same reason the overdue pipeline has no dated deal to judge
    overdue = company[company.kpi == "overdue_pipeline_share"].iloc[0]
    assert overdue.status == "not_available"
    assert overdue.reason.startswith("no deal open at the end of the month has an expected")
    ok = company[~company.kpi.isin(["bookings_forecast", "overdue_pipeline_share"])]
    assert (ok.status == "ok").all(), ok[ok.status != "ok"][["kpi", "reason"]]
    assert {"company", "team", "rep"} == set(df.scope_type)
    assert len(df[df.scope_type == "team"].scope.unique()) == 5
    written = {p.stem for p in (tmp_path / "tables").iterdir()}
    assert written == {k.id for k in CATALOG if k.is_table} - {"pipeline_outlook"}
    assert "pipeline_outlook: no deal open at the end of" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_formats(sample_dir, tmp_path, fmt):
    out = tmp_path / f"k.{fmt}"
    assert (
        main(
            [
                "compute",
                "--source",
                str(sample_dir),
                "--month",
                MIDDLE,
                "--months",
                "2",
                "--family",
                "revenue",
                "--kpi",
                "win_rate",
                "--format",
                fmt,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    df = pd.read_parquet(out) if fmt == "parquet" else pd.DataFrame(json.loads(out.read_text()))
    assert set(df.month) == {MIDDLE, str(Month.parse(MIDDLE) - 1)}
    assert "win_rate" in set(df.kpi) and "sales_revenue" in set(df.kpi)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--month", "2040-01"], "No data for 2040-01: the dataset covers"),
        (["--month", MIDDLE, "--scope", "team:Narnia"], "Unknown team 'Narnia'; teams are: APAC"),
        (["--month", MIDDLE, "--kpi", "magic"], "Unknown KPI 'magic'"),
        (["--month", MIDDLE, "--family", "magic"], "Unknown family 'magic'"),
        (["--month", "May 2025"], "is not a month"),
    ],
)
def test_one_line_errors(sample_dir, capsys, args, message):
    assert main(["compute", "--source", str(sample_dir), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_existing_output_is_kept_on_error(sample_dir, tmp_path):
    out = tmp_path / "kpis.csv"
    out.write_text("previous results\n")
    assert (
        main(["compute", "--source", str(sample_dir), "--month", "2040-01", "--out", str(out)]) == 2
    )
    assert out.read_text() == "previous results\n"


@pytest.mark.parametrize(
    "fmt, marker",
    [
        ("md", "| win_rate | Win rate | pipeline |"),
        ("csv", "win_rate,Win rate,pipeline"),
        ("html", "<td>win_rate</td>"),
    ],
)
def test_catalog(capsys, fmt, marker):
    assert main(["catalog", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert marker in out
    assert "alias of average_order_value" in out


def test_latest_month(sample_dir, tmp_path):
    out = tmp_path / "latest.csv"
    assert (
        main(
            [
                "compute",
                "--source",
                str(sample_dir),
                "--month",
                "latest",
                "--kpi",
                "sales_revenue",
                "--kpi",
                "funnel",
                "--out",
                str(out),
                "--tables",
                str(tmp_path / "t"),
            ]
        )
        == 0
    )
    assert pd.read_csv(out).month.tolist() == [SAMPLE_END]
    assert (tmp_path / "t" / "funnel.csv").exists()


@pytest.mark.parametrize(
    "today, expected",
    [("2026-11-23", "2026-10"), ("2026-01-02", "2025-12"), ("2026-03-31", "2026-02")],
)
def test_previous_is_the_last_complete_month(today, expected):
    from datetime import date

    assert str(Month.previous(date.fromisoformat(today))) == expected


def test_month_previous_on_the_command_line(sample_dir, tmp_path, capsys):
    """``--month previous`` names the last complete calendar month: the sample ends in
    SAMPLE_END, long before today, so the command says the month is outside the data."""
    code = main(
        ["compute", "--source", str(sample_dir), "--month", "previous", "--kpi", "win_rate"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"No data for {Month.previous()}: the dataset covers" in err


def test_tables_of_a_quarter_cover_its_months(tmp_path, capsys):
    from conftest import write_tables

    # 2026-Q2: Ann wins $100 in April and $200 in May, Bob $50 in June
    src = write_tables(
        tmp_path / "data",
        {
            "reps": "rep_id,rep_name,team\nr1,Ann,T\nr2,Bob,T\n",
            "opportunities": "opportunity_id,created_at,stage,amount,closed_at,rep_id\n"
            "D1,2026-04-01,closed_won,100,2026-04-10,r1\n"
            "D2,2026-04-01,closed_won,200,2026-05-10,r1\n"
            "D3,2026-04-01,closed_won,50,2026-06-10,r2\n",
        },
    )
    args = ["compute", "--source", str(src), "--month", "2026-05", "--kpi", "rep_leaderboard"]
    args += ["--out", str(tmp_path / "kpis.csv"), "--tables"]
    got = {}
    for period in ("month", "quarter"):
        assert main([*args, str(tmp_path / period), "--period", period]) == 0, capsys.readouterr()
        board = pd.read_csv(tmp_path / period / "rep_leaderboard.csv")
        got[period] = dict(zip(board["rep_name"], board["monthly_sales_bookings"], strict=True))
    assert got == {"month": {"Ann": 200.0, "Bob": 0.0}, "quarter": {"Ann": 300.0, "Bob": 50.0}}
