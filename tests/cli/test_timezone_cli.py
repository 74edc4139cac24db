"""``timezone`` in kpi.toml: the zone in which months begin and end, whatever the
computer's own zone.

A small export with instants near month ends (deals in CSV text with zones, order lines
in Parquet timestamps with a zone) and wall times without a zone. Worked out by hand;
in March to May 2026 New York is at UTC-4:

    deal  O1 won  100   closed 2026-04-01T02:00:00Z        New York 03-31 22:00: March
    deal  O2 won   20   closed 2026-03-31 23:30 (no zone)  as written:          March
    deal  O3 lost   4   closed 2026-04-01T01:00:00+02:00   New York 03-31 19:00: March
    deal  O4 won 1000   closed 2026-04-30T22:30:00-05:00   New York 04-30 23:30: April
    line  L1      10    ordered 2026-04-01T03:00:00Z       New York 03-31 23:00: March
    line  L2     200    ordered 2026-05-01T03:59:00Z       New York 04-30 23:59: April
    line  L3    3000    ordered 2026-03-15T12:00:00Z       March

    New York: bookings March 120, April 1000, May 0; win rate March 2/3; revenue March
    3010, April 200, May 0. In UTC, O1 and L1 fall in April, O4 and L2 in May.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, write_tables

from kpi_helpers.cli import main

NY = "America/New_York"
KPIS = "monthly_sales_bookings,win_rate,sales_revenue"


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tz")
    opps = pd.DataFrame(
        {
            "opportunity_id": ["O1", "O2", "O3", "O4", "O5"],
            "created_at": ["2026-03-01"] * 4 + ["2026-05-10 09:00:00"],
            "stage": ["closed_won", "closed_won", "closed_lost", "closed_won", "proposal"],
            "amount": [100, 20, 4, 1000, 7],
            "closed_at": [
                "2026-04-01T02:00:00Z",
                "2026-03-31 23:30:00",
                "2026-04-01T01:00:00+02:00",
                "2026-04-30T22:30:00-05:00",
                None,
            ],
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["L1", "L2", "L3"],
            "ordered_at": pd.to_datetime(
                ["2026-04-01T03:00:00Z", "2026-05-01T03:59:00Z", "2026-03-15T12:00:00Z"],
                utc=True,
            ),
            "account_id": ["A1", "A2", "A1"],
            "revenue": [10.0, 200.0, 3000.0],
        }
    )
    write_tables(folder / "data", {"opportunities": opps})
    write_tables(folder / "data", {"orders": orders}, fmt="parquet")
    (folder / "ny.toml").write_text(f'source = "data"\ntimezone = "{NY}"\n', encoding="utf-8")
    (folder / "utc.toml").write_text('source = "data"\n', encoding="utf-8")
    return folder


def _values(csv: str) -> dict[tuple[str, str], float]:
    df = pd.read_csv(io.StringIO(csv))
    return {(r.kpi, r.month): r.value for r in df.itertuples()}


NEW_YORK = {
    ("monthly_sales_bookings", "2026-03"): 120.0,
    ("monthly_sales_bookings", "2026-04"): 1000.0,
    ("monthly_sales_bookings", "2026-05"): 0.0,
    ("sales_revenue", "2026-03"): 3010.0,
    ("sales_revenue", "2026-04"): 200.0,
    ("sales_revenue", "2026-05"): 0.0,
    ("win_rate", "2026-03"): pytest.approx(200 / 3),
    ("win_rate", "2026-04"): 100.0,
}
IN_UTC = {
    ("monthly_sales_bookings", "2026-03"): 20.0,
    ("monthly_sales_bookings", "2026-04"): 100.0,
    ("monthly_sales_bookings", "2026-05"): 1000.0,
    ("sales_revenue", "2026-03"): 3000.0,
    ("sales_revenue", "2026-04"): 10.0,
    ("sales_revenue", "2026-05"): 200.0,
    ("win_rate", "2026-03"): 50.0,
    ("win_rate", "2026-04"): 100.0,
}


def test_the_computers_zone_changes_no_byte_of_the_output(export):
    outputs = {}
    for tz in ("UTC", "Pacific/Auckland", "America/Los_Angeles"):
        env = dict(os.environ, TZ=tz)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        run = subprocess.run(
            [sys.executable, "-m", "kpi_helpers.cli", "compute", "--config", "ny.toml"]
            + ["--month", "2026-05", "--months", "3", "--kpi", KPIS],
            cwd=export,
            env=env,
            capture_output=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr.decode()
        outputs[tz] = run.stdout
    assert outputs["Pacific/Auckland"] == outputs["UTC"] == outputs["America/Los_Angeles"]
    values = _values(outputs["UTC"].decode())
    assert {k: values[k] for k in NEW_YORK} == NEW_YORK


@pytest.mark.parametrize("config, expected", [("ny.toml", NEW_YORK), ("utc.toml", IN_UTC)])
def test_a_deal_won_at_2am_utc_on_april_1_counts_in_march_in_new_york(
    export, monkeypatch, capsys, config, expected
):
    monkeypatch.chdir(export)
    args = ["--config", config, "--month", "2026-05", "--months", "3", "--kpi", KPIS]
    assert main(["compute", *args]) == 0
    values = _values(capsys.readouterr().out)
    assert {k: values[k] for k in expected} == expected
