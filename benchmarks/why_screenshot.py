"""Screenshot of the summary page's "Why it moved" section: ``docs/why-it-moved.png``.

Opens a built pack's summary page in headless Chromium (network blocked) and captures
from the section's heading to the next one. Example::

    kpi-kit sample-data --out /tmp/dp-s7 --seed 7
    kpi-kit pack --month latest --source /tmp/dp-s7 --scopes company --families summary \\
        --formats html --out /tmp/dp-shot
    python benchmarks/why_screenshot.py /tmp/dp-shot/2026-11/company/summary.html
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kpi_helpers.pack import CHROMIUM_ARGS, find_chromium

ROOT = Path(__file__).resolve().parents[1]
CLIP = """() => {
  const heads = [...document.querySelectorAll("h2")];
  const i = heads.findIndex(h => h.textContent.trim().startsWith("Why it moved"));
  const top = heads[i].getBoundingClientRect().top + window.scrollY - 8;
  const next = heads[i + 1];
  const bottom = next ? next.getBoundingClientRect().top + window.scrollY - 8
                      : document.body.scrollHeight;
  return {x: 0, y: top, width: document.documentElement.clientWidth, height: bottom - top};
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="a built pack's summary.html")
    parser.add_argument("--out", default=str(ROOT / "docs" / "why-it-moved.png"))
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("No Chromium: apt-get install chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.route("http*://**", lambda route: route.abort())
        page.goto(Path(args.page).resolve().as_uri())
        clip = page.evaluate(CLIP)
        page.screenshot(path=args.out, full_page=True, clip=clip)
        browser.close()
    print(f"wrote {args.out} ({clip['width']} x {clip['height']:.0f} px)")


if __name__ == "__main__":
    main()
