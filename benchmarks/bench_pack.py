"""Wall time of a review pack next to its floor and next to the command-line tools.

    .venv/bin/python benchmarks/bench_pack.py data/sample [--scopes all] [--loop]

Measured, each as a whole process, in one run:
- the pack (``kpi-kit pack --formats html``), and the time of its data step (the
  snapshot: every KPI, table and finding computed once), from its ``build.json``;
- the floor: the same command with ``--notebooks`` pointing at notebooks that do nothing
  (one per page: kernel start, papermill, HTML export, index), less its own data step;
- one whole-catalog ``kpi-kit compute --scope all`` for the month, 13 months deep;
- with ``--loop``, a shell-style loop of the papermill and nbconvert command-line tools
  over the same pages and scopes (each notebook computing for itself), HTML only.

The target of issue 7: pack <= 1.5 x floor + compute.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PAGES = ("summary", "revenue", "pipeline", "activity", "customers", "profitability", "team")
PAGES += ("subscription",)


def timed(cmd: list[str], **kw) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - started


def empty_pages(folder: Path) -> Path:
    """One notebook per kit page that only takes its parameters."""
    folder.mkdir(parents=True)
    for name in PAGES:
        params = nbformat.v4.new_code_cell(
            'month = ""\nscope = ""\nsource = ""\nmapping = ""\nconfig = ""\nsnapshot = ""'
        )
        params.metadata["tags"] = ["parameters"]
        cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{name}.ipynb")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--scopes", default="all")
    parser.add_argument("--month", default="latest")
    parser.add_argument("--loop", action="store_true", help="also time the CLI loop")
    args = parser.parse_args()
    source = str(Path(args.source).resolve())
    tmp = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    kit = [str(BIN / "kpi-kit"), "pack", "--month", args.month, "--source", source]
    kit += ["--scopes", args.scopes, "--formats", "html", "--jobs", "2"]
    try:
        pack = timed(kit + ["--out", str(tmp / "pack")])
        (month_dir,) = (tmp / "pack").iterdir()
        month = month_dir.name
        log = json.loads((month_dir / "build.json").read_text())
        scopes = sorted({p["scope"] for p in log["pages"]})
        floor_all = timed(
            kit + ["--out", str(tmp / "floor"), "--notebooks", str(empty_pages(tmp / "nb"))]
        )
        floor_log = json.loads(next((tmp / "floor").iterdir()).joinpath("build.json").read_text())
        floor = floor_all - floor_log["seconds"]["snapshot"]
        compute = timed(
            [str(BIN / "kpi-kit"), "compute", "--source", source, "--month", month]
            + ["--months", "13", "--scope", "all", "--out", str(tmp / "kpis.csv")]
        )
        loop = _loop(tmp, source, month, scopes) if args.loop else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(log["pages"])
    target = 1.5 * floor + compute
    print(f"{n} pages ({len(scopes)} scopes x {n // len(scopes)}), month {month}, {args.source}")
    print(f"kpi-kit pack, HTML:                      {pack:7.1f} s")
    print(f"  of which the data step (snapshot):     {log['seconds']['snapshot']:7.1f} s")
    print(f"  of which the pages:                    {log['seconds']['pages']:7.1f} s")
    print(f"floor (empty notebooks, no data step):   {floor:7.1f} s")
    print(f"compute --scope all, 13 months:          {compute:7.1f} s")
    print(f"pack / floor:                            {pack / floor:7.2f} x")
    print(
        f"target 1.5 x floor + compute:            {target:7.1f} s "
        f"(the pack is {pack / target:.2f} of it)"
    )
    if loop is not None:
        print(
            f"papermill + nbconvert CLI loop (HTML):   {loop:7.1f} s ({loop / pack:.1f} x the pack)"
        )


def _loop(tmp: Path, source: str, month: str, scopes: list[str]) -> float:
    started = time.perf_counter()
    for i, scope in enumerate(scopes):
        for name in PAGES:
            out = tmp / "loop" / f"{i}-{name}.ipynb"
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [str(BIN / "papermill"), str(ROOT / "notebooks" / f"{name}.ipynb"), str(out)]
                + ["-p", "month", month, "-p", "scope", scope, "-p", "source", source]
                + ["--no-progress-bar"],
                check=True,
                capture_output=True,
                cwd=out.parent,
            )
            subprocess.run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                check=True,
                capture_output=True,
            )
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
