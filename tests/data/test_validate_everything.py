"""``kpi-kit validate`` on one export carrying every problem of issue 15 at once ("Done
when"): time-zone edges, duplicate and misspelt targets, a Windows-1252 file, decimal
commas, an Excel serial date and a corrupt Parquet file. Every file is a few rows written
here, every table of the contract is there (so that nothing but the planted problems is
reported), and the expected findings are worked out by hand:

    orders.parquet   512 random bytes                     error: unreadable
    reps.csv         Windows-1252, accented names         warning: encoding
    leads.csv        L1 created 45567 (Excel's serial)    error: excel_date
    targets.csv      2026-03 sales_revenue EMEA twice     error: duplicate_target
                     sales_revnue                         error: unknown_kpi
                     team APAC (no rep of reps)           warning: unknown_team
                     R1 (EMEA) under North America        warning: target_team_mismatch
    activities.csv   C2 logged at a naive wall time two   warning: future
                     hours ahead of New York's clock (an
                     export in UTC wall time): in UTC it
                     is already past, so only the kit's
                     timezone finds it

and, read right without a word: opportunities.csv with ``;``, decimal commas and
zone-aware timestamps at month ends (converted to New York, the kpi.toml's timezone), the
naive timestamps (taken as New York's), the NPS answer with an offset.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from kpi_helpers.cli import main
from kpi_helpers.core import now_in
from kpi_helpers.data import format_report, open_dataset, validate

NY = "America/New_York"

REPS_1252 = (
    "rep_id,rep_name,team\n"
    "R1,José Müller,EMEA\n"
    "R2,Zoë Brontë,North America\n"
    "R3,François Lefèvre,EMEA\n"
)
# ";" between fields, a decimal comma and a thousands dot, as a European Excel writes;
# closed_at at month ends, in New York (UTC-4 from March 8):
#   O1 2026-04-01T02:00:00Z       -> 2026-03-31 22:00, March
#   O2 2026-03-31T23:30:00-05:00  -> 2026-04-01 00:30, April (the offset is not New York's)
#   O3 2026-04-30T22:30:00-04:00  -> 2026-04-30 22:30, April
# and naive created_at, taken as New York's wall time.
DEALS = (
    "opportunity_id;created_at;stage;amount;closed_at;rep_id\n"
    "O1;2026-03-02;closed_won;1.234,56;2026-04-01T02:00:00Z;R1\n"
    "O2;2026-03-05 10:00:00;closed_won;980,50;2026-03-31T23:30:00-05:00;R2\n"
    "O3;2026-03-31 23:30:00;closed_lost;12.500,00;2026-04-30T22:30:00-04:00;R3\n"
    "O4;2026-04-01T01:00:00+02:00;proposal;0,75;;R1\n"
)
LEADS = (
    "lead_id,created_at,rep_id\n"
    "L1,45567,R1\n"  # Excel's serial date for 2024-10-02
    "L2,2026-03-31T23:30:00-05:00,R2\n"
    "L3,2026-04-01 00:15:00,R3\n"
)
TARGETS = (
    "month,kpi,target,team,rep_id\n"
    "2026-03,sales_revenue,50000,EMEA,\n"
    "2026-03,sales_revenue,50000,EMEA,\n"  # the same target again
    "2026-03,sales_revnue,40000,,\n"  # misspelt
    "2026-03,win_rate,30,APAC,\n"  # no rep of reps is in APAC
    "2026-03,monthly_sales_bookings,20000,North America,R1\n"  # R1 is in EMEA
)
CLEAN = {  # the other tables of the contract, with nothing to say
    "accounts.csv": "account_id,account_name,owner_rep_id\nA1,Acme,R1\nA2,Globex,R2\n",
    "subscriptions.csv": "subscription_id,account_id,started_at,mrr\nS1,A1,2026-01-01,500\n",
    "costs.csv": "month,category,amount\n2026-03,marketing,1200\n",
    "nps_responses.csv": (
        "response_id,responded_at,score,account_id\nN1,2026-03-31T23:30:00-05:00,9,A1\n"
    ),
    "financials.csv": "month,net_income\n2026-03,10000\n",
}

# (severity, table.column, check), in the order a user should fix them
EXPECTED = [
    ("error", "orders", "unreadable"),
    ("warning", "reps", "encoding"),
    ("error", "leads.created_at", "excel_date"),
    ("error", "targets.month/kpi/team/rep_id", "duplicate_target"),
    ("error", "targets.kpi", "unknown_kpi"),
    ("warning", "targets.team", "unknown_team"),
    ("warning", "targets.team", "target_team_mismatch"),
    ("warning", "activities.occurred_at", "future"),
]


def export(folder: Path) -> Path:
    """The export (``folder/data``) and its kpi.toml (``folder/kpi.toml``, New York)."""
    data = folder / "data"
    data.mkdir(parents=True)
    (data / "reps.csv").write_bytes(REPS_1252.encode("cp1252"))
    (data / "orders.parquet").write_bytes(random.Random(15).randbytes(512))
    # two hours ahead of New York's clock, written without a zone
    ahead = (now_in(NY) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    activities = (
        f"activity_id,occurred_at,type,rep_id\nC1,2026-03-31 23:30:00,call,R1\nC2,{ahead},call,R2\n"
    )
    files = {"opportunities.csv": DEALS, "leads.csv": LEADS, "targets.csv": TARGETS}
    for name, text in {**files, **CLEAN, "activities.csv": activities}.items():
        (data / name).write_text(text, encoding="utf-8")
    (folder / "kpi.toml").write_text(f'timezone = "{NY}"\n', encoding="utf-8")
    return data


def blocks(report: str) -> list[tuple[str, str, str]]:
    """The findings of a printed report: (severity, where, the finding's whole text)."""
    found = re.split(r"\n(?=ERROR   |WARNING )", report.split("\n\n", 1)[1])
    return [(b.split()[0].lower(), b.split()[1].rstrip(":"), b) for b in found]


@pytest.fixture(scope="module")
def validated(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The export, and what ``kpi-kit validate --source data --config kpi.toml`` prints."""
    folder = tmp_path_factory.mktemp("everything")
    data = export(folder)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    run = subprocess.run(
        [sys.executable, "-m", "kpi_helpers.cli", "validate", "--source", "data"]
        + ["--config", "kpi.toml"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return data, run


def test_one_finding_per_problem_in_the_order_to_fix_them(validated):
    data, run = validated
    assert run.returncode == 2, run.stderr
    assert run.stderr == ""
    assert run.stdout.startswith("Validation of folder data: 4 error(s), 4 warning(s)\n\n")
    printed = [(severity, where) for severity, where, _ in blocks(run.stdout)]
    assert printed == [e[:2] for e in EXPECTED], run.stdout
    # the same findings from Python, with the kind of each check
    with open_dataset(data, timezone=NY, keep_unreadable=True) as ds:
        f = validate(ds)
    where = (f["table"] + "." + f["column"]).str.rstrip(".")
    assert list(zip(f["severity"], where, f["check"], strict=True)) == EXPECTED


# what each finding says: the file or table and column (also in its first line), the
# example rows, and the fix, by kind of check
SAID = {
    "unreadable": [
        "orders.parquet is not a readable Parquet file: Invalid Input Error: No magic bytes "
        "found at end of file.\n",  # named once: not the reader's full path again
        "fix: Export orders again (or correct its mapping section), or move the file out",
    ],
    "encoding": [
        "reps.csv is not UTF-8; it was read as Windows-1252",
        "e.g. José Müller, Zoë Brontë, François Lefèvre",
        "fix: Save reps.csv as UTF-8, or confirm the encoding in the mapping: [tables.reps] "
        'from = "reps.csv", encoding = "cp1252"',
    ],
    "excel_date": [
        "created_at holds numbers, not dates (Excel's serial date 45567 is 2024-10-02) [1 row(s)]",
        "e.g. L1\n",
        "fix: If these are Excel serial dates, map them as such: [tables.leads.dates] "
        'created_at = "excel"',
    ],
    "duplicate_target": [
        "which would be added up: 2026-03 sales_revenue team EMEA (2 rows: 50,000, 50,000) "
        "[2 row(s)]",
        "e.g. 2026-03 sales_revenue team EMEA\n",
        "fix: Keep one row per month, kpi and team/rep_id",
    ],
    "unknown_kpi": [
        "'sales_revnue' (did you mean sales_revenue or ",
        "e.g. 2026-03 sales_revnue company\n",  # the row, not the value again
        "fix: Write the KPI's id as `kpi-kit catalog` lists it.",
    ],
    "unknown_team": [
        "team values not found in reps.team, so their targets match no team: 'APAC' [1 row(s)]",
        "e.g. 2026-03 win_rate team APAC\n",
        "fix: Write the team as reps.team names it",
    ],
    "target_team_mismatch": [
        "(R1 in North America, not EMEA)",
        "e.g. 2026-03 monthly_sales_bookings rep R1\n",
        "fix: Write the rep's team (reps.team) in targets.team, or leave it empty.",
    ],
    "future": [
        "occurred_at is in the future (after ",  # the dataset's now, in its zone
        " in America/New_York) [1 row(s)]",
        "e.g. C2\n",
        "fix: Check the export's dates. A time written without a zone is read as "
        "America/New_York time (kpi.toml's timezone)",
    ],
}


def test_each_finding_names_the_file_the_column_an_example_and_the_fix(validated):
    _, run = validated
    printed = blocks(run.stdout)
    assert len(printed) == len(EXPECTED) == len(SAID)
    for (_, where, block), (_, expected_where, check) in zip(printed, EXPECTED, strict=True):
        assert where == expected_where
        assert block.count("\n        fix: ") == 1, block
        for part in SAID[check]:
            assert part in block + "\n", block


def test_decimal_commas_and_zones_read_right_without_a_word(validated):
    data, run = validated
    assert "opportunities" not in run.stdout and "nps_responses" not in run.stdout
    with open_dataset(data, timezone=NY, keep_unreadable=True) as ds:
        deals = ds.frame("opportunities").set_index("opportunity_id")
        reps = ds.frame("reps")
        answered = ds.frame("nps_responses")["responded_at"]
    assert deals["amount"].tolist() == [1234.56, 980.50, 12500.00, 0.75]

    def minutes(column) -> list[str]:
        return column.dt.strftime("%Y-%m-%d %H:%M").fillna("").tolist()

    assert minutes(deals["closed_at"]) == [
        "2026-03-31 22:00",
        "2026-04-01 00:30",
        "2026-04-30 22:30",
        "",
    ]
    assert minutes(deals["created_at"]) == [
        "2026-03-02 00:00",
        "2026-03-05 10:00",
        "2026-03-31 23:30",  # naive: as written
        "2026-03-31 19:00",  # 2026-04-01T01:00:00+02:00
    ]
    assert minutes(answered) == ["2026-04-01 00:30"]
    assert reps["rep_name"].tolist() == ["José Müller", "Zoë Brontë", "François Lefèvre"]


def test_the_timezone_reaches_validation(validated, capsys):
    """Without kpi.toml (UTC), C2's wall time is hours past: nothing in the future."""
    data, _ = validated
    assert main(["validate", "--source", str(data)]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"Validation of folder {data}: 4 error(s), 3 warning(s)\n")
    assert "activities" not in out


def test_doing_what_the_fixes_say_leaves_nothing_to_fix(validated, tmp_path):
    """Each fix, done as it reads: the mapping lines it gives, the targets rows corrected,
    C2 written with its zone, orders exported again."""
    data, _ = validated
    fixed = tmp_path / "data"
    shutil.copytree(data, fixed)
    orders = {"order_id": ["X1"], "ordered_at": [pd.Timestamp("2026-03-10")], "account_id": ["A1"]}
    pd.DataFrame({**orders, "revenue": [99.5]}).to_parquet(fixed / "orders.parquet")
    lines = (fixed / "targets.csv").read_text(encoding="utf-8").splitlines()
    lines[2:] = [
        "2026-03,sales_revenue,40000,,",
        "2026-03,win_rate,30,North America,",
        "2026-03,monthly_sales_bookings,20000,EMEA,R1",
    ]
    (fixed / "targets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    activities = (fixed / "activities.csv").read_text(encoding="utf-8").rstrip("\n")
    (fixed / "activities.csv").write_text(activities.replace(",call,R2", "Z,call,R2") + "\n")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[tables.reps]\nfrom = "reps.csv"\nencoding = "cp1252"\n\n'
        '[tables.leads]\nfrom = "leads.csv"\n\n[tables.leads.dates]\ncreated_at = "excel"\n',
        encoding="utf-8",
    )
    with open_dataset(fixed, mapping, NY) as ds:
        found = validate(ds)
        created = ds.frame("leads").set_index("lead_id")["created_at"]
    assert found.empty, format_report(found, "fixed")
    assert created.tolist() == [
        pd.Timestamp("2024-10-02"),
        pd.Timestamp("2026-04-01 00:30"),
        pd.Timestamp("2026-04-01 00:15"),
    ]
