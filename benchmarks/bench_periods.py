"""What the extra time periods (issue 16) add to ``compute --scope all`` and to a monthly
pack's data step, as ratios measured in one run.

    .venv/bin/python benchmarks/bench_periods.py /tmp/large [--month latest] [--no-pack]

1. ``compute --scope all`` (the company, every team, every rep): the 13 months
   (``kpis.compute(..., months=13, scope="all")``), then on a freshly opened dataset
   (no engine cache shared) ``compute --period quarter --periods 5 --scope all``, and
   the QTD/YTD figures a monthly page adds to the months' rows
   (``metrics.to_date_figures``). Ratios: quarters / months, and (months + QTD/YTD) /
   months.
2. The monthly pack's data step (``pack.freeze.write_snapshot`` for ``--scopes all``:
   the company and every team) timed once, with its parts timed inside that same run:
   the KPIs, the to-date figures (``to_date.parquet``) and the quarter's pacing
   (``pacing.json``, forecasts of the remaining months for the company and each team),
   and the drivers for comparison. Ratio: the data step / the data step without the
   to-date figures and the pacing.

Peak memory: run it under ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench_drivers import pack_data_step  # the benchmarks folder is the script's

from kpi_helpers import kpis
from kpi_helpers.core import Config
from kpi_helpers.data import month_asked, open_dataset
from kpi_helpers.metrics import to_date_figures
from kpi_helpers.pack import freeze


def seconds(fn, *args, **kw):
    """``fn(*args, **kw)`` and the seconds it took."""
    started = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - started


def bench_compute(source: str, month: str, cfg: Config) -> None:
    """``compute --scope all``: the 13 months, the 5 quarters, and QTD/YTD of the months."""
    with open_dataset(source) as ds:
        m = str(month_asked(ds, month))
        rows, months = seconds(kpis.compute, ds, m, months=13, scope="all", config=cfg)
    print(f"compute --scope all, 13 months: {months:.1f} s ({len(rows):,} rows)", flush=True)
    rows = rows.assign(key=rows["scope_type"] + ":" + rows["scope"])
    qtd, spent_qtd = seconds(to_date_figures, rows, m, cfg.fiscal_year_start)
    print(f"  QTD and YTD of those rows: {spent_qtd:.2f} s ({len(qtd):,} rows)", flush=True)
    with open_dataset(source) as ds:
        q, quarters = seconds(
            kpis.compute, ds, m, months=5, scope="all", config=cfg, period="quarter"
        )
    print(f"compute --period quarter --periods 5 --scope all: {quarters:.1f} s ({len(q):,} rows)")
    print(
        f"ratio quarters / months {quarters / months:.2f}; "
        f"(months + QTD/YTD) / months {(months + spent_qtd) / months:.3f}",
        flush=True,
    )


def bench_pack(source: str, month: str, cfg: Config, out: Path) -> None:
    """One monthly pack data step (``--scopes all``) with its parts timed inside it."""
    spent: dict[str, float] = defaultdict(float)

    def timed(name, fn):
        def run(*args, **kw):
            out, took = seconds(fn, *args, **kw)
            spent[name] += took
            return out

        return run

    real_drivers = freeze.write_drivers
    freeze.write_drivers = timed("drivers", real_drivers)

    def prepare(live) -> None:
        live.kpis_of_scopes = timed("kpis", live.kpis_of_scopes)
        live.to_date = timed("to_date", live.to_date)
        live.pacing = timed("pacing", live.pacing)

    try:
        total, n_scopes = pack_data_step(source, month, out, cfg, prepare)
    finally:
        freeze.write_drivers = real_drivers
    periods = spent["to_date"] + spent["pacing"]
    print(
        f"monthly pack data step ({n_scopes} scopes): {total:.1f} s; of it the KPIs "
        f"{spent['kpis']:.1f} s (company and teams, and the reps), the drivers "
        f"{spent['drivers']:.1f} s, QTD/YTD {spent['to_date']:.2f} s, the pacing "
        f"{spent['pacing']:.1f} s"
    )
    print(
        f"ratio data step / data step without QTD/YTD and pacing: {total / (total - periods):.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--month", default="latest")
    parser.add_argument("--no-pack", action="store_true", help="time compute only")
    args = parser.parse_args()
    source = str(Path(args.source).resolve())
    cfg = Config()
    bench_compute(source, args.month, cfg)
    if args.no_pack:
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-periods-"))
    try:
        bench_pack(source, args.month, cfg, tmp / "data")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
