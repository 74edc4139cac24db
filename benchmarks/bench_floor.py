"""The scan floor and the catalog as a multiple of it, per family, in one run.

The floor is hand-written DuckDB SQL: one grouped pass per table by (month, rep), reading
every column the catalog reads of it (the measure sources' needs), over the Parquet files.
No engine can read the data in less. Then, in the same process, each family of the
catalog (``kpis.compute(..., months=13, scope="all", families=[f])``, a fresh dataset
each, so nothing is reused) and the whole catalog without the models (all but outlook),
each printed as a multiple of the floor:

    .venv/bin/kpi-kit sample-data --out /tmp/large --scale large --end 2026-10
    /usr/bin/time -v .venv/bin/python benchmarks/bench_floor.py /tmp/large 2026-10

``--profile`` adds the engine's time per measure source and per query for the whole
catalog (what ``kpi-kit compute --profile`` prints).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from kpi_helpers import kpis
from kpi_helpers.catalog import FAMILIES, select
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import profiling
from kpi_helpers.metrics.measures import SOURCES

# the time column each table's rows are counted in a month by
WHEN = {
    "opportunities": "created_at",
    "leads": "created_at",
    "activities": "occurred_at",
    "orders": "ordered_at",
    "subscriptions": "started_at",
    "nps_responses": "responded_at",
    "accounts": "created_at",
}


def catalog_columns() -> dict[str, set[str]]:
    """The columns the measure sources read, per table (their needs)."""
    out: dict[str, set[str]] = {}
    for src in SOURCES.values():
        needs = list(src.needs) + [n for ns in src.extra_needs.values() for n in ns]
        for need in needs:
            for option in need.split("|"):
                table, _, cols = option.partition(".")
                out.setdefault(table, set()).update(c for c in cols.split(",") if c)
    return out


def floor(data: Path) -> dict[str, float]:
    """Seconds of one grouped pass per table by (month, rep), every catalog column read."""
    con = duckdb.connect()
    seconds = {}
    for table, cols in sorted(catalog_columns().items()):
        path = data / f"{table}.parquet"
        if table not in WHEN or not path.exists():
            continue
        have = set(duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").df()["column_name"])
        cols = sorted((cols | {WHEN[table]}) & have)
        rep = "rep_id" if "rep_id" in have else "account_id"
        when = WHEN[table]
        reads = ", ".join(f'count("{c}")' for c in cols)
        started = time.perf_counter()
        con.sql(
            f"SELECT year({when}) * 12 + month({when}) AS mi, {rep}, count(*), {reads} "
            f"FROM read_parquet('{path}') GROUP BY ALL"
        ).fetchall()
        seconds[table] = time.perf_counter() - started
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a Parquet sample (sample-data --format parquet)")
    parser.add_argument("month", help="the last month, YYYY-MM")
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    per_table = floor(args.data)
    base = sum(per_table.values())
    print(f"scan floor (DuckDB, one grouped pass per table): {base:.2f} s")
    for table, sec in per_table.items():
        print(f"  {table:<15} {sec:7.2f} s")

    def run(families: list[str] | None) -> float:
        with open_dataset(args.data) as ds:
            started = time.perf_counter()
            kpis.compute(ds, args.month, months=args.months, scope="all", families=families)
            return time.perf_counter() - started

    print(f"\n{'family':<16} {'KPIs':>4} {'seconds':>8} {'x floor':>8}")
    for family in FAMILIES:
        chosen = [k for k in select(None, [family]) if not k.is_table]
        if not chosen:
            continue
        sec = run([family])
        print(f"{family:<16} {len(chosen):>4} {sec:8.2f} {sec / base:8.1f}")
    plain = [f for f in FAMILIES if f != "outlook"]  # the model fits are the outlook family
    with profiling() as prof:
        whole = run(plain)
    print(f"{'without models':<16} {'':>4} {whole:8.2f} {whole / base:8.1f}")
    if args.profile:
        print("\n" + prof.report())


if __name__ == "__main__":
    main()
