"""Wall time of a review pack next to its floor and next to the command-line tools.

    .venv/bin/python benchmarks/bench_pack.py data/sample [--scopes all] [--loop]

Measured, each as a whole process with its peak memory, in one run:
- the pack (``kpi-kit pack --formats html``), and the time of its data step (the
  snapshot: every KPI, table and finding computed once), from its ``build.json``;
- the floor: the same command with ``--notebooks`` pointing at notebooks that do nothing
  (one per page: kernel start, papermill, HTML export, index), less its own data step;
- the whole catalog for the month, 13 months deep, every scope (``bench_kpis.py``'s
  ``engine-all``: ``kpis.compute`` in its own process);
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
from dataclasses import dataclass
from pathlib import Path

import nbformat
from bench_kpis import child
from processes import Run, kit_command, run_timed

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PAGES = ("summary", "revenue", "pipeline", "activity", "customers", "profitability", "team")
PAGES += ("subscription",)


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


@dataclass(frozen=True)
class PackCost:
    """A pack's process and its floor's (each a whole ``kpi-kit pack``), with the steps
    of their build logs: ``floor`` is the floor process less its own data step."""

    month: str
    pages: int
    scopes: list[str]
    pack: Run
    snapshot: float
    page_seconds: float
    floor_run: Run
    floor: float


def built(out: Path) -> Path:
    """The month folder a pack built into ``out`` (the one with a build log)."""
    return next(d for d in out.iterdir() if (d / "build.json").exists())


def pack_cost(source: Path, month: str, scopes: str, tree: Path | None = None) -> PackCost:
    """Build the pack (HTML, ``--jobs 2``) of ``scopes`` and its floor (the same command
    with empty notebooks), each in its own process with the kit of ``tree`` (default:
    this working tree), e.g. ``pack_cost(Path("data/sample"), "latest", "all").pack``."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    kit = kit_command("pack", "--month", month, "--source", str(source.resolve()))
    kit += ["--scopes", scopes, "--formats", "html", "--jobs", "2"]
    try:
        pack = run_timed(kit + ["--out", str(tmp / "pack")], tree)
        month_dir = built(tmp / "pack")
        log = json.loads((month_dir / "build.json").read_text())
        nb = empty_pages(tmp / "nb")
        floor_run = run_timed(kit + ["--out", str(tmp / "floor"), "--notebooks", str(nb)], tree)
        floor_log = json.loads((built(tmp / "floor") / "build.json").read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PackCost(
        month=month_dir.name,
        pages=len(log["pages"]),
        scopes=sorted({p["scope"] for p in log["pages"]}),
        pack=pack,
        snapshot=log["seconds"]["snapshot"],
        page_seconds=log["seconds"]["pages"],
        floor_run=floor_run,
        floor=floor_run.seconds - floor_log["seconds"]["snapshot"],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--scopes", default="all")
    parser.add_argument("--month", default="latest")
    parser.add_argument("--loop", action="store_true", help="also time the CLI loop")
    args = parser.parse_args()
    source = str(Path(args.source).resolve())
    cost = pack_cost(Path(source), args.month, args.scopes)
    compute = child("engine-all", source, cost.month).run
    pack, floor = cost.pack.seconds, cost.floor
    if args.loop:
        with tempfile.TemporaryDirectory(prefix="bench-loop-") as tmp:
            loop = _loop(Path(tmp), source, cost.month, cost.scopes)
    n, scopes = cost.pages, cost.scopes
    target = 1.5 * floor + compute.seconds
    print(f"{n} pages ({len(scopes)} scopes x {n // len(scopes)}), month {cost.month}, {source}")
    print(
        f"kpi-kit pack, HTML:                      {pack:7.1f} s, peak {cost.pack.peak_gib:.2f} GiB"
    )
    print(f"  of which the data step (snapshot):     {cost.snapshot:7.1f} s")
    print(f"  of which the pages:                    {cost.page_seconds:7.1f} s")
    print(f"floor (empty notebooks, no data step):   {floor:7.1f} s")
    print(f"whole catalog, 13 months, every scope:   {compute}")
    print(f"pack / floor:                            {pack / floor:7.2f} x")
    print(
        f"target 1.5 x floor + compute:            {target:7.1f} s "
        f"(the pack is {pack / target:.2f} of it)"
    )
    if args.loop:
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
