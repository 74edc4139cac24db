"""Wall time of a full review pack against a shell loop of the papermill and nbconvert
command-line tools over the same notebooks and scopes.

    .venv/bin/python benchmarks/bench_pack.py data/sample

The loop renders HTML only (nbconvert's webpdf cannot use the system Chromium), so the
fair comparison is the pack with --formats html; the full pack (HTML + PDF) is shown too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str], **kw) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)
    return time.perf_counter() - started


def main() -> None:
    source = str(Path(sys.argv[1]).resolve())
    sys.path.insert(0, str(ROOT))
    from kpi_helpers import kpis
    from kpi_helpers.pack import PACK_FAMILIES
    from kpi_helpers.sources import open_dataset

    ds = open_dataset(source)
    month = str(kpis.data_months(ds)[1])
    teams = sorted(set(ds.frame("reps")["team"]))
    scopes = ["company"] + [f"team:{t}" for t in teams]
    tmp = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    try:
        kit = [str(BIN / "kpi-kit"), "pack", "--month", month, "--source", source, "--jobs", "2"]
        full = timed(kit + ["--formats", "html,pdf", "--out", str(tmp / "full")])
        html = timed(kit + ["--formats", "html", "--out", str(tmp / "html")])
        started = time.perf_counter()
        for i, scope in enumerate(scopes):
            for fam in PACK_FAMILIES:
                out = tmp / "loop" / f"{i}-{fam}.ipynb"
                out.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    [
                        str(BIN / "papermill"),
                        str(ROOT / "notebooks" / f"{fam}.ipynb"),
                        str(out),
                        "-p",
                        "month",
                        month,
                        "-p",
                        "scope",
                        scope,
                        "-p",
                        "source",
                        source,
                        "--no-progress-bar",
                    ],
                    check=True,
                    capture_output=True,
                    cwd=out.parent,
                )
                subprocess.run(
                    [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(out)],
                    check=True,
                    capture_output=True,
                )
        loop = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(scopes) * len(PACK_FAMILIES)
    print(f"{n} notebooks ({len(scopes)} scopes x {len(PACK_FAMILIES)}), month {month}")
    print(f"kpi-kit pack, HTML + PDF:            {full:7.1f} s")
    print(f"kpi-kit pack, HTML only:             {html:7.1f} s")
    print(f"shell loop papermill + nbconvert:    {loop:7.1f} s (HTML only)")
    print(f"loop / pack (HTML only):             {loop / html:7.1f} x")


if __name__ == "__main__":
    main()
