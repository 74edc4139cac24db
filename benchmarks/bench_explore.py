"""Time the explorer's interactions: 100 random picks of ``Scope``, ``Month``, ``KPI``,
``Compare with`` and clicks on a breakdown bar or a breadcrumb, the widgets driven from
Python exactly as JupyterLab's front end sets them; each time is one full redraw (card,
trend, breakdown, table, CSV). Prints the median, p95 and max (ms); the budget is 300 ms
on ``--scale large`` (3,258 reps).

    .venv/bin/kpi-kit sample-data --out /tmp/large --scale large --format parquet
    .venv/bin/python benchmarks/bench_explore.py --source /tmp/large   # live: the
        # snapshot (company, teams, every rep) is computed once first, timed apart
    .venv/bin/python benchmarks/bench_explore.py --pack reports/2026-11   # a built pack
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from kpi_helpers.explore.sources import open_explorer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--pack", help="a pack folder (reports/YYYY-MM)")
    where.add_argument("--source", help="a dataset: the snapshot is computed live once")
    ap.add_argument("--n", type=int, default=100, help="interactions (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ex = open_explorer(pack=args.pack or "", source=args.source or "")
    opened = time.perf_counter() - t0
    n = ex.n
    teams = sum(s.startswith("team:") for s in n.choices)
    reps = sum(s.startswith("rep:") for s in n.choices)
    print(f"opened in {opened:.1f} s: {teams} teams, {reps} reps, {len(n.months)} months, "
          f"{len(n.kpis)} KPIs")  # fmt: skip
    rng = random.Random(args.seed)
    scopes = list(n.choices)
    months = [m for _, m in ex.month.options]
    kpis = [k for _, k in ex.kpi.options]
    times: dict[str, list[float]] = {}
    cpu: list[float] = []  # this process's CPU time: what a busy machine does not inflate
    for _ in range(args.n):
        what = rng.choice(["scope", "month", "kpi", "compare", "drill", "crumb"])
        bars = [r.children[0] for r in ex.bars.children if r.layout.display != "none"]
        crumbs = [b for b in ex.crumbs.children if getattr(b, "disabled", True) is False]
        t, c = time.perf_counter(), time.process_time()
        if what == "scope":
            ex.scope.value = rng.choice(scopes)
        elif what == "month":
            ex.month.value = rng.choice(months)
        elif what == "kpi":
            ex.kpi.value = rng.choice(kpis)
        elif what == "compare":
            ex.compare.value = rng.choice(list(ex.compare.options))
        elif what == "drill" and bars:
            rng.choice(bars).click()
        elif what == "crumb" and crumbs:
            rng.choice(crumbs).click()
        else:  # nothing to click here: pick a team instead
            what = "scope"
            ex.scope.value = rng.choice([s for s in scopes if s.startswith("team:")] or scopes)
        times.setdefault(what, []).append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    every = sorted(x for v in times.values() for x in v)
    p95 = every[max(0, round(0.95 * len(every)) - 1)]
    print(f"{len(every)} interactions: median {statistics.median(every):.0f} ms, "
          f"p95 {p95:.0f} ms, max {every[-1]:.0f} ms")  # fmt: skip
    cpu.sort()
    c95 = cpu[max(0, round(0.95 * len(cpu)) - 1)]
    mid = statistics.median(cpu)
    print(f"CPU time: median {mid:.0f} ms, p95 {c95:.0f} ms, max {cpu[-1]:.0f} ms")
    for what, v in sorted(times.items()):
        print(
            f"  {what:8} n={len(v):3}  median {statistics.median(v):5.0f} ms  max {max(v):5.0f} ms"
        )


if __name__ == "__main__":
    main()
