"""Time and peak memory of the KPI engine against hand-written DuckDB SQL, like with like.

Three sides, each a whole separate process (start-up and imports counted on every side),
each timed and its peak memory read from ``/usr/bin/time -v`` ("Maximum resident set
size"):

- ``sql``: three KPIs (win rate, monthly bookings, MRR), 13 months, company + every
  team + every rep, in one hand-written DuckDB query over the Parquet files;
- ``engine-3``: the same three KPIs through ``kpis.compute`` (which also gives each
  value's previous month, same month last year, target and RAG);
- ``engine-all``: the whole catalog, 13 months, every scope (``engine-plain``, which
  ``bench_scale.py`` also runs: the same without the models, the outlook family).

    .venv/bin/kpi-kit sample-data --out /tmp/large --scale large --end 2026-10 --format parquet
    .venv/bin/python benchmarks/bench_kpis.py /tmp/large 2026-10 [--before REF]

Ratios are to the SQL side. With ``--before REF`` (a commit), the two engine sides also
run with that version of the kit (checked out into a temporary git worktree, imported
through ``PYTHONPATH``), in the same run: the before/after of a change.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from processes import Run, run_timed, worktree

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


def run_engine(folder: str, month: str, kind: str) -> int:
    """``kpis.compute`` of ``kind`` (``engine-3``: the three KPIs; ``engine-all``: the
    whole catalog; ``engine-plain``: the whole catalog without the models, i.e. all
    families but outlook), 13 months, every scope: the rows it gave."""
    from kpi_helpers import kpis

    try:
        from kpi_helpers.catalog import FAMILIES
        from kpi_helpers.data import open_dataset
    except ImportError:  # a kit from before the layers (--before)
        from kpi_helpers.registry import FAMILIES
        from kpi_helpers.sources import open_dataset

    chosen = THREE if kind == "engine-3" else None
    families = [f for f in FAMILIES if f != "outlook"] if kind == "engine-plain" else None
    ds = open_dataset(folder)
    return len(kpis.compute(ds, month, months=13, scope="all", kpis=chosen, families=families))


def run_sql(folder: str, month: str) -> int:
    import duckdb

    from kpi_helpers.core import Month

    last = Month.parse(month)
    first = last - 12
    sql = SQL.format(d=folder, start=first.start, end=last.end)
    return len(duckdb.connect().execute(sql).df())


@dataclass(frozen=True)
class Side:
    """One side's process (seconds, peak memory), the rows it gave and the seconds of
    its work alone (opening the data and computing: no start-up, no imports)."""

    run: Run
    rows: int
    work: float


def child(kind: str, folder: str, month: str, tree: Path | None = None) -> Side:
    """Run one side (``sql``, ``engine-3``, ``engine-all``, ``engine-plain``) in its own
    process, with the kit of source tree ``tree`` (default: this working tree), e.g.
    ``child("engine-3", "data/sample", "2026-06").run.seconds``."""
    run = run_timed([sys.executable, __file__, "--child", kind, folder, month], tree)
    rows, work = run.stdout.split()[-2:]
    return Side(run, int(rows), float(work))


def main() -> None:
    if sys.argv[1] == "--child":
        kind, folder, month = sys.argv[2:5]
        started = time.perf_counter()
        rows = run_sql(folder, month) if kind == "sql" else run_engine(folder, month, kind)
        print(rows, time.perf_counter() - started)
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
        with worktree(before) as tree:
            for kind in ("engine-3", "engine-all"):
                sides[kind + "@"] = f"{sides[kind].replace('engine', 'before')} ({before[:7]})"
                results[kind + "@"] = child(kind, folder, month, tree)
    sql_s = results["sql"].run.seconds
    print(f"data: {folder}; 13 months ending {month}; company + every team + every rep")
    print(f"{'side':34} {'seconds':>8} {'x SQL':>6} {'peak RSS':>9} {'rows':>10}")
    for kind, label in sides.items():
        side = results[kind]
        took, peak, rows = side.run.seconds, side.run.peak_gib, side.rows
        print(f"{label:34} {took:8.1f} {took / sql_s:6.1f} {peak:6.2f} GiB {rows:10,}")


if __name__ == "__main__":
    main()
