"""Every row of issue 20's table in one run: the catalog, the models and the pack against
their floors, each measured as the issue describes, the ratios computed within the run.

    .venv/bin/python benchmarks/bench_scale.py DATA MONTH [--before COMMIT] [--small SAMPLE]

Each measurement is a whole process of its own (``/usr/bin/time -v``: its wall seconds
and its peak resident memory, the largest of it and its children, printed beside them):

- the scan floor: ``bench_floor.floor``, one grouped pass per table by (month, rep) in
  hand-written DuckDB SQL, reading each column the catalog reads;
- the whole catalog without models (all families but outlook) and with them:
  ``bench_kpis.py``'s ``engine-plain`` and ``engine-all`` (``kpis.compute``, 13 months,
  every scope), their work (opening the data and computing, without start-up and
  imports) as a multiple of the floor;
- the outlook family alone, for the company and 5 teams: ``bench_outlook.family_seconds``;
- 3 KPIs (win rate, bookings, MRR) against hand-written SQL: ``bench_kpis.py``'s
  ``engine-3`` and ``sql`` processes;
- the full pack (company + 5 teams, HTML) against the whole catalog's process plus
  1.5 x the empty-notebook floor: ``bench_pack.pack_cost``;
- with ``--small``, that sample's pack (every scope) against 1.5 x its floor + its
  whole catalog's process.

With ``--before COMMIT`` every row but the floors of the data (the SQL sides) is measured
again with the kit at that commit (a temporary git worktree on ``PYTHONPATH``, the same
venv), in the same run, and printed beside. A row the older kit cannot measure says why.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_kpis import Side, child
from bench_pack import PackCost, pack_cost
from processes import Run, run_timed, worktree

AIM_PEAK_GIB = 1.5  # the whole catalog without models (issue 20)


@dataclass
class Kit:
    """The measurements of one version of the kit (a failed one holds its reason)."""

    name: str
    got: dict[str, object] = field(default_factory=dict)


def own_child(kind: str, *args: str, tree: Path | None = None) -> tuple[Run, float]:
    """One of this script's own measurements (``floor``, ``outlook``) in its own process:
    the process and the seconds of the work alone."""
    run = run_timed([sys.executable, __file__, "--child", kind, *args], tree)
    return run, float(run.stdout.split()[-1])


def attempt(kit: Kit, key: str, measure) -> None:
    """Run ``measure()`` into ``kit.got[key]``, or its failure's reason; print progress."""
    started = time.perf_counter()
    try:
        kit.got[key] = measure()
    except SystemExit as exc:  # run_timed's failure: the process's stderr
        kit.got[key] = "failed: " + str(exc).strip().splitlines()[-1][:120]
    got = kit.got[key]
    if isinstance(got, Side):
        got = f"work {got.work:.1f} s, process {got.run}"
    elif isinstance(got, PackCost):
        got = f"pack {got.pack}, floor {got.floor:.1f} s (process {got.floor_run})"
    elif isinstance(got, tuple):
        got = f"work {got[1]:.1f} s, process {got[0]}"
    print(f"  [{kit.name}] {key}: {got} ({time.perf_counter() - started:.0f} s)", flush=True)


def measure_kit(kit: Kit, data: Path, month: str, scopes: str, small: Path | None, tree=None):
    """Every row's measurement with the kit of ``tree`` (default: this working tree)."""
    d = str(data)
    attempt(kit, "plain", lambda: child("engine-plain", d, month, tree))
    attempt(kit, "models", lambda: child("engine-all", d, month, tree))
    attempt(kit, "outlook", lambda: own_child("outlook", d, month, tree=tree))
    attempt(kit, "kpis3", lambda: child("engine-3", d, month, tree))
    attempt(kit, "pack", lambda: pack_cost(data, month, scopes, tree))
    if small:
        attempt(kit, "small_pack", lambda: pack_cost(small, "latest", "all", tree))
        cost = kit.got["small_pack"]
        if isinstance(cost, PackCost):
            attempt(kit, "small_all", lambda: child("engine-all", str(small), cost.month, tree))


def met(ok: bool) -> str:
    return "yes" if ok else "no"


def rows(kit: Kit, floor: float, sql: Side, small: bool) -> list[tuple[str, bool | None]]:
    """(cell, met?) of each row, for one kit; a failed measurement is its reason."""
    g = kit.got
    out: list[tuple[str, bool | None]] = []

    def catalog(key: str, aim: float) -> None:
        s = g[key]
        if not isinstance(s, Side):
            out.append((str(s), None))
            return
        x = s.work / floor
        ok = x <= aim and (key != "plain" or s.run.peak_gib <= AIM_PEAK_GIB)
        out.append((f"{s.work:.1f} s = {x:.1f} x floor (process {s.run})", ok))

    catalog("plain", 2.5)
    o = g["outlook"]
    out.append(
        (f"{o[1]:.1f} s (process {o[0]})", o[1] <= 10) if isinstance(o, tuple) else (o, None)
    )
    k = g["kpis3"]
    if isinstance(k, Side):
        x = k.run.seconds / sql.run.seconds
        out.append((f"{k.run} vs SQL {sql.run} = {x:.1f} x", x <= 2))
    else:
        out.append((str(k), None))
    catalog("models", 3.0)
    p, m = g["pack"], g["models"]
    if isinstance(p, PackCost) and isinstance(m, Side):
        aim = m.run.seconds + 1.5 * p.floor
        x = p.pack.seconds / aim
        cell = (
            f"{p.pack} vs {m.run.seconds:.1f} + 1.5 x {p.floor:.1f} s = {x:.2f} x "
            f"(data step {p.snapshot:.1f} s, pages {p.page_seconds:.1f} s; "
            f"floor process {p.floor_run})"
        )
        out.append((cell, x <= 1.0))
    else:
        out.append((str(p if not isinstance(p, PackCost) else m), None))
    if small:
        p, c = g.get("small_pack"), g.get("small_all")
        if isinstance(p, PackCost) and isinstance(c, Side):
            aim = 1.5 * p.floor + c.run.seconds
            x = p.pack.seconds / aim
            cell = (
                f"{p.pack} vs 1.5 x {p.floor:.1f} + {c.run.seconds:.1f} s = {x:.2f} x "
                f"({p.pages} pages; compute process {c.run})"
            )
            out.append((cell, x <= 1.0))
        else:
            out.append((str(p if not isinstance(p, PackCost) else c), None))
    return out


WHAT = [
    ("whole catalog without models (13 months, every scope)", "<= 2.5 x floor, peak <= 1.5 GiB"),
    ("outlook family alone (company + 5 teams)", "<= 10 s"),
    ("3 KPIs (win rate, bookings, MRR, every scope, 13 months) vs SQL", "<= 2 x"),
    ("whole catalog with models", "<= 3 x floor"),
    ("full pack (company + 5 teams, HTML) vs catalog + 1.5 x floor", "<= 1.0 x"),
    ("small sample pack vs 1.5 x floor + compute", "<= 1.0 x (holds; keep it)"),
]


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, args = sys.argv[2], sys.argv[3:]
        if kind == "floor":
            from bench_floor import floor

            print(sum(floor(Path(args[0])).values()))
        else:
            from bench_outlook import family_seconds

            print(family_seconds(*args))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="a Parquet sample (sample-data)")
    p.add_argument("month", help="the last month: YYYY-MM or latest")
    p.add_argument("--before", help="a commit of the kit to measure beside this one")
    p.add_argument("--small", type=Path, help="a small sample: its pack vs its floors")
    a = p.parse_args()
    from bench_outlook import scopes_of

    from kpi_helpers.data import month_asked, open_dataset

    data = a.data.resolve()
    if not (data / "opportunities.parquet").exists():
        sys.exit(f"{data}: no opportunities.parquet; the floors read Parquet (sample-data --scale)")
    small = a.small.resolve() if a.small else None
    ds = open_dataset(data)
    month = str(month_asked(ds, a.month))
    scopes = ",".join(scopes_of(ds, month))
    del ds
    print(f"{data}, month {month}, scopes {scopes}", flush=True)
    started = time.perf_counter()
    floor_run, floor = own_child("floor", str(data))
    print(f"  scan floor: {floor:.1f} s, process {floor_run}", flush=True)
    sql = child("sql", str(data), month)
    print(f"  3 KPIs in SQL: process {sql.run}", flush=True)
    now = Kit("now")
    measure_kit(now, data, month, scopes, small)
    kits = [now]
    if a.before:
        before = Kit(f"before {a.before[:7]}")
        with worktree(a.before) as tree:
            measure_kit(before, data, month, scopes, small, tree)
        kits.insert(0, before)
    print(f"\n{len(kits)} kit(s) measured in {time.perf_counter() - started:.0f} s; {data}")
    header = ["what", *(k.name for k in kits), "aim", "met? (now)"]
    print(" | ".join(header))
    print(f"scan floor (hand-written DuckDB) | {floor:.1f} s (process {floor_run})", end="")
    print(" | (same run)" * (len(kits) - 1) + " | - | -")
    cells = [rows(k, floor, sql, small is not None) for k in kits]
    for i, (what, aim) in enumerate(WHAT[: len(cells[0])]):
        ok = cells[-1][i][1]
        line = [what, *(c[i][0] for c in cells), aim, "?" if ok is None else met(ok)]
        print(" | ".join(line))


if __name__ == "__main__":
    main()
