"""Screenshot of a quarterly review's summary page: ``docs/qbr-summary.png``.

Renders ``<pack>/company/summary.html`` of a built QBR pack in headless Chromium (network
blocked, the helper of ``email_screenshot.py``) and keeps the top of the page: the
header, the cards and the fiscal year's quarters side by side. Example::

    kpi-kit sample-data --out /tmp/qbr-sample --seed 7
    printf 'fiscal_year_start = 2\\n' > /tmp/kpi.toml
    kpi-kit pack --config /tmp/kpi.toml --source /tmp/qbr-sample --period quarter \\
        --month complete --scopes company --families summary --formats html --out /tmp/qbr
    python benchmarks/qbr_screenshot.py --pack /tmp/qbr/FY2027-Q3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from email_screenshot import render  # noqa: E402 (the benchmarks folder is no package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", required=True, help="the QBR pack's folder")
    parser.add_argument("--out", default=str(ROOT / "docs" / "qbr-summary.png"))
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1400, help="pixels kept from the top")
    args = parser.parse_args()
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.png"
        render(Path(args.pack) / "company" / "summary.html", full, [args.width])
        shot = Image.open(full)
        shot.crop((0, 0, shot.width, min(shot.height, args.height))).save(args.out)
    print(f"Wrote {args.out} ({Path(args.out).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
