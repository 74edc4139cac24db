"""Time of the outlook family (issue 20: "ETS per series, pipeline forecast, BG/NBD +
Gamma-Gamma, for the company and 5 teams", aim <= 10 s on ``--scale large``), per model.

Opens the dataset once, then times, for the company and each team (at most ``TEAMS``):

- ``forecasts``: the ETS forecasts of the headline series (``models.outlook.forecasts``);
- ``pipeline``: the pipeline-weighted forecast of m+1;
- ``clv``: the predictive CLV fit (the company's fit, whose per-account predictions serve
  the teams, unless ``clv_fit = "scope"`` in kpi.toml), then the table ``clv_accounts``
  with its at-risk columns (the second fit at m-3).

Every step runs once, in the pack's order, on one dataset (so kept fits and the engine's
cached facts are reused as in a pack). ``--profile`` prints cProfile's top functions.

    .venv/bin/python benchmarks/bench_outlook.py data/sample [--month 2026-10]
        [--clv-fit company|scope] [--steps clv,clv_accounts] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time

from kpi_helpers.core import Config, Month
from kpi_helpers.data import month_asked, open_dataset
from kpi_helpers.kpis import compute
from kpi_helpers.metrics import Scope
from kpi_helpers.models import outlook

TEAMS = 5


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("--month", default="latest")
    p.add_argument("--clv-fit", default="company", choices=["company", "scope"])
    p.add_argument("--profile", action="store_true")
    p.add_argument("--steps", help="comma-separated steps to run (default: all)")
    args = p.parse_args()
    started = time.perf_counter()
    ds = open_dataset(args.source)
    m: Month = month_asked(ds, args.month)
    cfg = Config(**({"clv_fit": args.clv_fit} if args.clv_fit != "company" else {}))
    teams = compute(ds, str(m), scope="team", kpis=["sales_revenue"], config=cfg)
    names = sorted(set(teams["scope"]) - {"unassigned"})[:TEAMS]
    scopes = ["company", *(f"team:{t}" for t in names)]
    print(f"{args.source}: month {m}, scopes {', '.join(scopes)}")
    print(f"open + team list: {time.perf_counter() - started:.1f} s")

    steps = {
        "forecasts": lambda s: outlook.forecasts(ds, m, s, cfg),
        "pipeline": lambda s: outlook.pipeline(ds, m, s, cfg),
        "clv": lambda s: outlook.clv(ds, m, s, cfg),
        "clv_accounts (at risk)": lambda s: outlook.clv_table(ds, m, Scope.parse(s), cfg),
    }
    if args.steps:
        steps = {k: v for k, v in steps.items() if k.split()[0] in args.steps.split(",")}
    prof = cProfile.Profile() if args.profile else None
    per_step: dict[str, list[float]] = {}
    for name, step in steps.items():
        for s in scopes:
            t0, c0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            try:
                step(s)
                ok = ""
            except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
                ok = f" ({type(exc).__name__}: {str(exc)[:60]})"
            if prof:
                prof.disable()
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
            per_step[name] = [
                a + b for a, b in zip(per_step.get(name, (0, 0)), (took, cpu), strict=True)
            ]
            print(f"  {name:24s} {s:28s} {took:6.2f} s (CPU {cpu:6.2f} s){ok}")
    print(", ".join(f"{k} {v[0]:.1f} s (CPU {v[1]:.1f} s)" for k, v in per_step.items()))
    wall, cpu = (sum(v[i] for v in per_step.values()) for i in (0, 1))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"outlook family, {len(scopes)} scopes: {wall:.1f} s (CPU {cpu:.1f} s: every thread "
        f"of this process, DuckDB's too); peak memory {peak:,.0f} MB"
    )
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
