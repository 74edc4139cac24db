"""Time and peak memory of the whole KPI catalog, 13 months x every scope, against a
hand-written DuckDB SQL of three KPIs (win rate, monthly bookings, MRR) on the same data.

    .venv/bin/kpi-kit sample-data --out /tmp/medium --scale medium --end 2026-10
    .venv/bin/python benchmarks/bench_kpis.py /tmp/medium 2026-10

Each side runs in its own process, so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

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


def run_engine(folder: str, month: str) -> int:
    from kpi_helpers import kpis
    from kpi_helpers.sources import open_dataset

    df = kpis.compute(open_dataset(folder), month, months=13, scope="all")
    return len(df)


def run_sql(folder: str, month: str) -> int:
    import duckdb

    from kpi_helpers.months import Month

    last = Month.parse(month)
    first = last - 12
    sql = SQL.format(d=folder, start=first.start, end=last.end)
    return len(duckdb.connect().execute(sql).df())


def child(kind: str, folder: str, month: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, folder, month],
        check=True,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    rows, peak_kib = out.stdout.split()
    return took, int(peak_kib) / 2**20, int(rows)


def main() -> None:
    if sys.argv[1] == "--child":
        kind, folder, month = sys.argv[2:5]
        rows = (run_engine if kind == "engine" else run_sql)(folder, month)
        print(rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return
    folder, month = sys.argv[1], sys.argv[2]
    engine = child("engine", folder, month)
    sql = child("sql", folder, month)
    print(f"data: {folder}, 13 months ending {month}, scopes company + teams + reps")
    print(
        f"whole catalog (engine):     {engine[0]:7.1f} s  peak {engine[1]:5.2f} GiB  "
        f"{engine[2]:,} rows"
    )
    print(f"3 KPIs, hand-written SQL:   {sql[0]:7.1f} s  peak {sql[1]:5.2f} GiB  {sql[2]:,} rows")
    print(f"ratio engine / SQL:         {engine[0] / sql[0]:7.1f} x")


if __name__ == "__main__":
    main()
