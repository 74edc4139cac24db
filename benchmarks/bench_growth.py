"""How cost grows with the data: per sample, its rows, one ``kpi-kit compute --scope all
--months 13`` (the whole catalog, every scope) and one ``kpi-kit pack`` (company + every
team, HTML), each a whole process timed with its peak memory from ``/usr/bin/time -v``;
the README's "How cost grows" table, one row per sample, in one run::

    .venv/bin/python benchmarks/bench_growth.py 2026-10 data/small /tmp/medium /tmp/large \
        [--no-pack] [--families revenue,pipeline,...]

Each sample is a folder written by ``kpi-kit sample-data`` (its ``_sample.json`` gives
the rows). ``--families`` limits ``compute`` to those families (e.g. all but outlook, to
see the catalog without the model fits).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from processes import kit_command, run_timed


def rows(folder: Path) -> int:
    """Rows of the sample, all tables (``_sample.json``)."""
    return sum(json.loads((folder / "_sample.json").read_text())["rows"].values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("month", help="the last month, YYYY-MM")
    parser.add_argument("samples", nargs="+", type=lambda p: Path(p).resolve())
    parser.add_argument("--no-pack", action="store_true", help="compute only")
    parser.add_argument("--families", help="compute these families only (comma-separated)")
    args = parser.parse_args()
    print("| data | rows | compute --scope all | peak | pack (HTML) | peak |")
    print("|---|---|---|---|---|---|")
    for folder in args.samples:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = kit_command("compute", "--source", str(folder), "--month", args.month)
            cmd += ["--months", "13", "--scope", "all", "--out", f"{tmp}/kpis.csv"]
            if args.families:
                cmd += ["--family", args.families]
            c = run_timed(cmd)
            pack = "-", "-"
            if not args.no_pack:
                p = kit_command("pack", "--source", str(folder), "--month", args.month)
                p = run_timed(p + ["--formats", "html", "--out", f"{tmp}/pack"])
                pack = f"{p.seconds:.1f} s", f"{p.peak_gib:.2f} GiB"
        name = json.loads((folder / "_sample.json").read_text())["scale"]
        print(
            f"| {name} | {rows(folder) / 1e6:.2f} M | {c.seconds:.1f} s | {c.peak_gib:.2f} GiB "
            f"| {pack[0]} | {pack[1]} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
