"""Time and peak memory of the KPI engine against hand-written DuckDB SQL, like with like.

Three sides, each a whole separate process (start-up and imports counted on every side),
each timed and its peak memory read from ``/usr/bin/time -v`` ("Maximum resident set
size"):

- ``sql``: three KPIs (win rate, monthly bookings, MRR), 13 months, company + every
  team + every rep, in one hand-written DuckDB query over the Parquet files;
- ``engine-3``: the same three KPIs through ``kpis.compute`` (which also gives each
  value's previous month, same month last year, target and RAG);
- ``engine-all``: the whole catalog, 13 months, every scope.

    .venv/bin/kpi-kit sample-data --out /tmp/large --scale large --end 2026-10 --format parquet
    .venv/bin/python benchmarks/bench_kpis.py /tmp/large 2026-10 [--before REF]

Ratios are to the SQL side. With ``--before REF`` (a commit), the two engine sides also
run with that version of the kit (checked out into a temporary git worktree, imported
through ``PYTHONPATH``), in the same run: the before/after of a change.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THREE = ["win_rate", "monthly_sales_bookings", "monthly_recurring_revenue"]

SQL = """
WITH reps AS (SELECT rep_id, min(team) AS team FROM read_parquet('{d}/reps.parquet')
              GROUP BY rep_id),
closed AS (
  SELECT year(o.closed_at) * 12 + month(o.closed_at) - 1 AS mi,
         coalesce(r.team, 'unassigned') AS team, coalesce(o.rep_id, 'unassigned') AS rep,
         o.stage = 'closed_won' AS won, o.amount - coalesce(o.associated_cost, 0) AS net
  FROM read_parquet('{d}/opportunities.parquet') o LEFT JOIN reps r USING (rep_id)
  WHERE o.stage IN ('closed_won', 'closed_lost')
    AND o.closed_at >= TIMESTAMP '{start}' AND o.closed_at < TIMESTAMP '{end}'),
deals AS (
  SELECT mi, team, rep, 100.0 * count(*) FILTER (WHERE won) / count(*) AS win_rate,
         sum(net) FILTER (WHERE won) AS bookings
  FROM closed GROUP BY GROUPING SETS ((mi), (mi, team), (mi, rep))),
months AS (
  SELECT year(s) * 12 + month(s) - 1 AS mi, s + INTERVAL 1 MONTH AS next_start
  FROM range(TIMESTAMP '{start}', TIMESTAMP '{end}', INTERVAL 1 MONTH) t(s)),
owners AS (SELECT a.account_id, a.owner_rep_id AS rep, coalesce(r.team, 'unassigned') AS team
           FROM read_parquet('{d}/accounts.parquet') a
           LEFT JOIN reps r ON r.rep_id = a.owner_rep_id),
mrr AS (
  SELECT m.mi, o.team, o.rep, sum(s.mrr) AS mrr
  FROM read_parquet('{d}/subscriptions.parquet') s
  JOIN months m ON s.started_at < m.next_start
               AND (s.ended_at IS NULL OR s.ended_at >= m.next_start)
  LEFT JOIN owners o USING (account_id)
  GROUP BY GROUPING SETS ((m.mi), (m.mi, o.team), (m.mi, o.rep)))
SELECT * FROM deals FULL JOIN mrr USING (mi, team, rep)
"""


def run_engine(folder: str, month: str, kpis_: list[str] | None) -> int:
    from kpi_helpers import kpis

    try:
        from kpi_helpers.data import open_dataset
    except ImportError:  # a kit from before the layers (--before)
        from kpi_helpers.sources import open_dataset

    return len(kpis.compute(open_dataset(folder), month, months=13, scope="all", kpis=kpis_))


def run_sql(folder: str, month: str) -> int:
    import duckdb

    from kpi_helpers.core import Month

    last = Month.parse(month)
    first = last - 12
    sql = SQL.format(d=folder, start=first.start, end=last.end)
    return len(duckdb.connect().execute(sql).df())


def child(kind: str, folder: str, month: str, tree: str = "") -> tuple[float, float, int]:
    """Run one side in its own process (with the kit of source tree ``tree``, default
    the installed one): (seconds, peak RSS in GiB, rows)."""
    env = {**os.environ, "PYTHONPATH": tree} if tree else None
    started = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, __file__, "--child", kind, folder, month],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    took = time.perf_counter() - started
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)[1])
    return took, peak_kib / 2**20, int(out.stdout.split()[-1])


def main() -> None:
    if sys.argv[1] == "--child":
        kind, folder, month = sys.argv[2:5]
        if kind == "sql":
            rows = run_sql(folder, month)
        else:
            rows = run_engine(folder, month, THREE if kind == "engine-3" else None)
        print(rows)
        return
    folder, month = sys.argv[1], sys.argv[2]
    before = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--before" else ""
    sides = {
        "sql": "3 KPIs, hand-written DuckDB SQL",
        "engine-3": "3 KPIs, engine (kpis.compute)",
        "engine-all": "whole catalog, engine",
    }
    results = {kind: child(kind, folder, month) for kind in sides}
    if before:
        with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
            tree = str(Path(tmp) / "kit")
            subprocess.run(["git", "worktree", "add", "--detach", "-q", tree, before], check=True)
            try:
                for kind in ("engine-3", "engine-all"):
                    sides[kind + "@"] = f"{sides[kind].replace('engine', 'before')} ({before[:7]})"
                    results[kind + "@"] = child(kind, folder, month, tree)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", tree], check=True)
    sql_s = results["sql"][0]
    print(f"data: {folder}; 13 months ending {month}; company + every team + every rep")
    print(f"{'side':34} {'seconds':>8} {'x SQL':>6} {'peak RSS':>9} {'rows':>10}")
    for kind, label in sides.items():
        took, peak, rows = results[kind]
        print(f"{label:34} {took:8.1f} {took / sql_s:6.1f} {peak:6.2f} GiB {rows:10,}")


if __name__ == "__main__":
    main()
