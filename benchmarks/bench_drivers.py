"""What "why it moved" adds to a pack's data step (issue 17), as a ratio measured in one run.

    .venv/bin/python benchmarks/bench_drivers.py /tmp/large [--month latest] [--repeat 1]

The data step is ``pack.freeze.write_snapshot`` for every scope of a ``--scopes all``
pack (the company, every team): every KPI, table, finding, and, with the drivers, the
drivers of every headline of the summary and the family pages for every scope, against
the month before and the year before (``drivers.json``, ``<scope>/drivers.csv``).
Without them, ``write_drivers`` is skipped. Each side opens the dataset afresh (no engine
cache is shared); the sides alternate (without, with, without, with, ...) and the median
of each is compared. The time of ``write_drivers`` itself in the "with" runs is shown
too, and what it adds to the rest of the same run (d / (with - d)): a figure of one run,
which the warm-up of the first run (its reads, its imports) and the machine's load
between two runs do not move. Target: with / without <= 1.15 on ``--scale large``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from kpi_helpers.core import Config
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import pack_scopes
from kpi_helpers.pack import freeze
from kpi_helpers.pack.build import safe_name
from kpi_helpers.report.live import LiveData


def pack_data_step(
    source: str, month: str, out: Path, config: Config | None = None, prepare=None
) -> tuple[float, int]:
    """The seconds of a ``--scopes all`` pack's data step (``freeze.write_snapshot`` for
    the company and every team) on the dataset opened afresh, and the number of scopes;
    ``prepare(live)`` may wrap the LiveData's methods first (bench_periods.py times them)."""
    started = time.perf_counter()
    with open_dataset(source) as ds:
        scopes, optional = pack_scopes(ds)
        taken: set[str] = {"data", "build"}
        folders = {s: safe_name(s, taken) for s in scopes}
        live = LiveData(ds, config=config, month=month)
        if prepare is not None:
            prepare(live)
        freeze.write_snapshot(live, scopes, folders, out, optional=optional)
    return time.perf_counter() - started, len(scopes)


def one_step(source: str, month: str, out: Path, drivers: bool) -> tuple[float, float]:
    """The data step's seconds, and those of its drivers (0 without them)."""
    spent = [0.0]
    real = freeze.write_drivers

    def timed(*args, **kw):
        started = time.perf_counter()
        try:
            return real(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - started

    freeze.write_drivers = timed if drivers else (lambda *args, **kw: {})
    try:
        return pack_data_step(source, month, out)[0], spent[0]
    finally:
        freeze.write_drivers = real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--month", default="latest")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs")
    args = parser.parse_args()
    source = str(Path(args.source).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="bench-drivers-"))
    without, with_, parts = [], [], []
    try:
        for i in range(args.repeat):
            t, _ = one_step(source, args.month, tmp / f"without-{i}", drivers=False)
            without.append(t)
            print(f"run {i + 1}: without the drivers {t:.1f} s", flush=True)
            t, d = one_step(source, args.month, tmp / f"with-{i}", drivers=True)
            with_.append(t)
            parts.append(d)
            print(f"run {i + 1}: with the drivers    {t:.1f} s (the drivers: {d:.1f} s)")
        a, b = statistics.median(without), statistics.median(with_)
        print(
            f"data step without the drivers: {a:.1f} s; with: {b:.1f} s "
            f"(the drivers {statistics.median(parts):.1f} s); ratio {b / a:.3f} "
            "(target <= 1.15)"
        )
        share = statistics.median(d / (t - d) for t, d in zip(with_, parts, strict=True))
        print(f"within a run with the drivers, they add {share:.1%} to the rest of its data step")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
