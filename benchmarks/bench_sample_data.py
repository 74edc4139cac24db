"""Time, peak memory and size of `kpi-kit sample-data` per scale.

    .venv/bin/python benchmarks/bench_sample_data.py [small medium large]

Each scale runs in a fresh process so peak memory (max RSS) is that scale's own.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(scale: str) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / scale
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kpi_helpers.cli",
                "sample-data",
                "--out",
                str(out),
                "--scale",
                scale,
                "--end",
                "2026-10",
            ],
            check=True,
            capture_output=True,
        )
        took = time.perf_counter() - started
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return took, size, peak


def main() -> None:
    scales = sys.argv[1:] or ["small", "medium", "large"]
    print(f"{'scale':<8}{'seconds':>10}{'MiB on disk':>14}{'peak GiB':>10}")
    for scale in scales:
        took, size, peak = measure(scale)
        print(f"{scale:<8}{took:>10.1f}{size:>14.1f}{peak:>10.2f}")


if __name__ == "__main__":
    main()
