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
``family_seconds`` (what ``bench_scale.py`` runs, with this kit and an earlier one) times
the same family through the public API only: per scope its KPIs and its tables.

    .venv/bin/python benchmarks/bench_outlook.py data/sample [--month 2026-10]
        [--clv-fit company|scope] [--steps clv,clv_accounts] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time

TEAMS = 5


def scopes_of(ds: object, month: str, config: object = None) -> list[str]:
    """The company and its first ``TEAMS`` teams by name (``unassigned`` left out), e.g.
    ``scopes_of(open_dataset("data/sample"), "2026-06")[:2] == ["company", "team:APAC"]``.
    Only the kit's public ``kpis.compute``: any version of the kit (``--before``)."""
    from kpi_helpers.kpis import compute

    teams = compute(ds, month, scope="team", kpis=["sales_revenue"], config=config)
    names = sorted(set(teams["scope"]) - {"unassigned"})[:TEAMS]
    return ["company", *(f"team:{t}" for t in names)]


def family_seconds(folder: str, month: str) -> float:
    """Seconds of the outlook family of the company and ``TEAMS`` teams through the kit's
    public API, as a pack's data step asks for it: per scope its KPIs
    (``kpis.compute(families=["outlook"])``) and its tables (``kpis.table``), on one
    dataset (kept fits reused). Runs with any version of the kit (``--before``), e.g.
    ``family_seconds("data/sample", "2026-06")``."""
    from kpi_helpers import kpis

    try:
        from kpi_helpers.catalog import select
        from kpi_helpers.data import open_dataset
    except ImportError:  # a kit from before the layers
        from kpi_helpers.registry import select
        from kpi_helpers.sources import open_dataset

    ds = open_dataset(folder)
    scopes = scopes_of(ds, month)
    tables = [k.id for k in select(None, ["outlook"]) if k.is_table]
    started = time.perf_counter()
    for scope in scopes:
        kpis.compute(ds, month, scope=scope, families=["outlook"])
        for name in tables:
            kpis.table(ds, name, month, scope)
    return time.perf_counter() - started


def main() -> None:
    from kpi_helpers.core import Config, Month
    from kpi_helpers.data import month_asked, open_dataset
    from kpi_helpers.metrics import Scope
    from kpi_helpers.models import outlook

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
    scopes = scopes_of(ds, str(m), cfg)
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
