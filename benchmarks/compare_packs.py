"""Build the same pack with two versions of the kit and compare every number.

    .venv/bin/python benchmarks/compare_packs.py --before 13169c7 [--source data/sample]
        [--month latest] [--formats html] [--scopes all] [--families ...]

Checks out ``--before`` (a commit, tag or branch) into a temporary git worktree, builds
``kpi-kit pack`` with it and with the working tree, each as its own process from its own
source tree (``PYTHONPATH`` points at it, so the pack's kernels use it too), into two
output folders, then compares the two month folders:

- ``data/kpis.parquet``: every row (month, scope, KPI) with its value, status, reason,
  comparisons, target and RAG, exactly (floats to 1e-12 relative; NaN equals NaN);
- ``data/validation.*``, ``data/alerts.json`` and every table KPI file of every scope;
- the list of pages built, and which failed.

Prints one line per file and the wall time of each build, and exits 1 on any difference.
The sample data is generated once (``kpi-kit sample-data --seed 7``) when ``--source``
does not exist. Used for issue 14 (the move into layers): the pack before and after the
move must hold the same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from processes import worktree

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = {"created_at", "data_key", "kit", "kit_version", "built_at", "seconds"}


def build(tree: Path, source: Path, out: Path, args: argparse.Namespace) -> float:
    """``kpi-kit pack`` run from ``tree``'s source; the seconds it took."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "kpi_helpers.cli", "pack", "--month", args.month]
    cmd += ["--source", str(source), "--out", str(out), "--formats", args.formats]
    cmd += ["--scopes", args.scopes, "--force"]
    if args.families:
        cmd += ["--families", args.families]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: a page failed; compared below
        sys.exit(f"pack failed in {tree}:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def same_frames(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """ "" when equal (floats to 1e-12 relative, NaN == NaN), else what differs."""
    if list(a.columns) != list(b.columns):
        return f"columns differ: {list(a.columns)} vs {list(b.columns)}"
    if len(a) != len(b):
        return f"{len(a)} rows vs {len(b)}"
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
            for i, (p, q) in enumerate(zip(x, y, strict=True)):
                if (pd.isna(p) and pd.isna(q)) or p == q:
                    continue
                if pd.isna(p) or pd.isna(q) or not math.isclose(p, q, rel_tol=1e-12):
                    return f"{col} row {i}: {p!r} vs {q!r}"
        elif (
            not x.astype(object)
            .where(x.notna(), None)
            .equals(y.astype(object).where(y.notna(), None))
        ):
            bad = next(i for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q)
            return f"{col} row {bad}: {x.iloc[bad]!r} vs {y.iloc[bad]!r}"
    return ""


def differing_kpis(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """The KPI ids whose values differ between two tidy frames of the same rows, each
    with its largest relative difference."""
    x, y = a["value"].astype(float), b["value"].astype(float)
    rel = ((x - y).abs() / y.abs().where(y != 0, 1.0)).fillna(0.0)
    rel[x.isna() != y.isna()] = float("inf")
    worst = rel[rel > 1e-12].groupby(a["kpi"]).max()
    return ", ".join(f"{k} {v:.1e}" for k, v in worst.items()) or "none"


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def strip(value: object) -> object:
    """A JSON value without the keys that differ between any two builds."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def failed_pages(month_dir: Path) -> list[str]:
    """``scope/page`` of every page the build log says failed."""
    log = json.loads((month_dir / "build.json").read_text())
    return sorted(f"{p['scope']}/{p['page']}" for p in log["pages"] if not p["ok"])


def compare(before: Path, after: Path) -> list[str]:
    """One line per compared file, ``DIFF ...`` where they differ."""
    lines = []
    data_a, data_b = before / "data", after / "data"
    files_a = {p.relative_to(data_a) for p in data_a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(data_b) for p in data_b.rglob("*") if p.is_file()}
    for rel in sorted(files_a ^ files_b):
        lines.append(f"DIFF {rel}: only in {'before' if rel in files_a else 'after'}")
    for rel in sorted(files_a & files_b):
        a, b = data_a / rel, data_b / rel
        if rel.suffix in (".parquet", ".csv"):
            why = same_frames(read(a), read(b))
            if why and rel.name == "kpis.parquet":
                why += f" (KPIs that differ: {differing_kpis(read(a), read(b))})"
        elif rel.suffix == ".json":
            ja, jb = strip(json.loads(a.read_text())), strip(json.loads(b.read_text()))
            why = "" if ja == jb else "JSON content differs"
        else:
            why = "" if a.read_bytes() == b.read_bytes() else "bytes differ"
        lines.append(f"{'DIFF' if why else 'same'} data/{rel}{': ' + why if why else ''}")
    pages_a = sorted(p.relative_to(before).as_posix() for p in before.rglob("*.html"))
    pages_b = sorted(p.relative_to(after).as_posix() for p in after.rglob("*.html"))
    same = pages_a == pages_b
    lines.append(f"{'same' if same else 'DIFF'} pages: {len(pages_a)} vs {len(pages_b)} HTML files")
    fails_a, fails_b = failed_pages(before), failed_pages(after)
    same = fails_a == fails_b
    lines.append(
        f"{'same' if same else 'DIFF'} failed pages: {fails_a or 'none'} vs {fails_b or 'none'}"
    )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the kit's version to compare with")
    ap.add_argument("--source", default="data/sample")
    ap.add_argument("--month", default="latest")
    ap.add_argument("--formats", default="html")
    ap.add_argument("--scopes", default="all")
    ap.add_argument("--families", default="")
    args = ap.parse_args()
    source = (ROOT / args.source).resolve()
    if not source.exists():
        subprocess.run(
            [sys.executable, "-m", "kpi_helpers.cli", "sample-data", "--out", str(source)]
            + ["--seed", "7"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
    with tempfile.TemporaryDirectory(prefix="compare-packs-") as tmp, worktree(args.before) as old:
        t_old = build(old, source, Path(tmp) / "out-before", args)
        t_new = build(ROOT, source, Path(tmp) / "out-after", args)
        month_a = next(p for p in (Path(tmp) / "out-before").iterdir() if p.is_dir())
        month_b = Path(tmp) / "out-after" / month_a.name
        lines = compare(month_a, month_b)
        steps = [json.loads((m / "build.json").read_text())["seconds"] for m in (month_a, month_b)]
    print("\n".join(lines))
    diffs = sum(line.startswith("DIFF") for line in lines)
    print(f"pack before ({args.before}): {t_old:.1f} s; after (working tree): {t_new:.1f} s")
    for side, secs in zip(("before", "after"), steps, strict=True):
        print(
            f"  {side:6} steps (build.json): "
            + ", ".join(f"{k} {v:.1f} s" for k, v in secs.items())
        )
    print(f"{len(lines) - diffs} same, {diffs} different")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
