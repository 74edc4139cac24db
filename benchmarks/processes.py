"""What the benchmarks share: a whole process timed with its peak memory, and a kit of
an earlier commit to run beside the working tree (``--before``).

    from processes import kit_command, run_timed, worktree

    with worktree("13169c7") as old:
        run = run_timed(kit_command("compute", "--month", "2026-10"), tree=old)
        print(f"{run.seconds:.1f} s, peak {run.peak_gib:.2f} GiB")
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """One process: its wall seconds, its peak resident memory (the largest of it and
    its children, from ``/usr/bin/time -v``) and what it printed."""

    seconds: float
    peak_gib: float
    stdout: str

    def __str__(self) -> str:
        return f"{self.seconds:.1f} s, peak {self.peak_gib:.2f} GiB"


def kit_command(*args: str) -> list[str]:
    """``kpi-kit ARGS`` as ``python -m kpi_helpers.cli`` (the kit of ``PYTHONPATH``),
    e.g. ``kit_command("compute", "--month", "2026-10")``."""
    return [sys.executable, "-m", "kpi_helpers.cli", *args]


def run_timed(cmd: list[str], tree: Path | None = None, check: bool = True) -> Run:
    """Run ``cmd`` under ``/usr/bin/time -v`` with the kit of source tree ``tree`` (on
    ``PYTHONPATH``, and the working folder; default: this working tree), e.g.
    ``run_timed(["python", "-c", "pass"]).seconds``. A failure exits with its stderr."""
    import time

    tree = tree or ROOT
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *cmd], cwd=tree, env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - started
    if check and done.returncode != 0:  # its own stderr, without time's report
        own = done.stderr.split("\tCommand being timed")[0].rsplit("Command exited", 1)[0]
        sys.exit(f"failed ({done.returncode}) in {tree}: {' '.join(cmd)}\n{own[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return Run(took, int(peak[1]) / 2**20 if peak else float("nan"), done.stdout)


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """The kit at ``commit``, checked out into a temporary git worktree (removed after),
    e.g. ``with worktree("13169c7") as old: run_timed(cmd, tree=old)``."""
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        tree = Path(tmp) / "kit"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(tree), commit], cwd=ROOT, check=True
        )
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
