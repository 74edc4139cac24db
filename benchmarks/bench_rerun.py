"""Re-running a month: the first pack, an identical re-run, a re-run after one notebook
was edited, and ``--force``, each a whole ``kpi-kit pack`` process, in one run.

    .venv/bin/python benchmarks/bench_rerun.py data/sample [--scopes all] [--formats html,pdf]

The edited notebook is a copy of the kit's revenue page with one sentence added, joined
through ``--notebooks`` (it replaces the kit's page). The first run already uses that
folder, so the edit is the only difference. Peak memory is read from ``/usr/bin/time -v``
when it is there. The target of issue 10: an identical re-run takes at most 20 % of the
first.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIME = Path("/usr/bin/time")


def run(cmd: list[str]) -> tuple[float, float | None]:
    """Wall seconds and peak memory (GiB, from /usr/bin/time -v) of one command."""
    wrapped = [str(TIME), "-v", *cmd] if TIME.exists() else cmd
    started = time.perf_counter()
    done = subprocess.run(wrapped, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return took, (int(peak.group(1)) / 2**20 if peak else None)


def edit(page: Path, sentence: str) -> None:
    nb = nbformat.read(page, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(sentence))
    nbformat.write(nb, page)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("--scopes", default="all")
    parser.add_argument("--month", default="latest")
    parser.add_argument("--formats", default="html,pdf")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    pages = tmp / "pages"
    pages.mkdir()
    shutil.copy(ROOT / "notebooks" / "revenue.ipynb", pages / "revenue.ipynb")
    kit = [str(BIN / "kpi-kit"), "pack", "--month", args.month, "--scopes", args.scopes]
    kit += ["--source", str(Path(args.source).resolve()), "--formats", args.formats]
    kit += ["--out", str(tmp / "reports"), "--notebooks", str(pages), "--jobs", "2"]
    rows = []
    try:
        for label, extra in (
            ("first run", []),
            ("identical re-run", []),
            ("revenue notebook edited", None),
            ("--force", ["--force"]),
        ):
            if extra is None:
                edit(pages / "revenue.ipynb", "An analyst's note, added after the first run.")
                extra = []
            took, peak = run(kit + extra)
            (month,) = (tmp / "reports").glob("[0-9]*")
            log = json.loads((month / "build.json").read_text())
            built = sum(1 for p in log["pages"] if not p["reused"])
            rows.append((label, took, peak, built, len(log["pages"]), log["data"]["reused"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    first = rows[0][1]
    print(f"{args.source}, scopes {args.scopes}, formats {args.formats}")
    print(f"{'run':<26}{'wall s':>8}{'x first':>9}{'peak GiB':>10}  pages built  data step")
    for label, took, peak, built, total, data in rows:
        mem = f"{peak:10.2f}" if peak is not None else f"{'-':>10}"
        print(
            f"{label:<26}{took:8.1f}{took / first:9.2f}{mem}  {built:>4} of {total:<4}  "
            f"{'reused' if data else 'computed'}"
        )


if __name__ == "__main__":
    main()
