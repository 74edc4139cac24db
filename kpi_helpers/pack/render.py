"""TODO docstring."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from kpi_helpers.core import atomic_path
from kpi_helpers.report import TEMPLATES

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    """The system Chromium: $KPI_KIT_CHROMIUM, else the first one on PATH."""
    env = os.environ.get("KPI_KIT_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_html(nb, header: dict) -> str:
    """HTML of an executed notebook with the kit's template: no code, no prompts, no
    parameters, a header and a table of contents of its sections."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config as TConfig

    c = TConfig()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"parameters", "injected-parameters"}
    c.HTMLExporter.preprocessors = ["nbconvert.preprocessors.TagRemovePreprocessor"]
    exporter = HTMLExporter(
        config=c, template_name="kpi_pack", extra_template_basedirs=[str(TEMPLATES)]
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"kpi": header})
    return body


_BROWSER = {}


def _browser(chromium: str):
    """One headless Chromium per process, reused for every page it prints."""
    if "browser" not in _BROWSER:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        _BROWSER["pw"] = pw
        _BROWSER["browser"] = pw.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
    return _BROWSER["browser"]


def close_browser() -> None:
    """Close this process's Chromium and Playwright, if started."""
    browser, pw = _BROWSER.pop("browser", None), _BROWSER.pop("pw", None)
    if browser is not None:
        browser.close()
    if pw is not None:
        pw.stop()


def print_pdf(html_path: Path, pdf_path: Path, chromium: str) -> None:
    """Print a local HTML file to an A4 PDF with the system Chromium (network blocked)."""
    page = _browser(chromium).new_page()
    try:
        page.route(re.compile(r"^https?://"), lambda route: route.abort())
        page.goto(html_path.resolve().as_uri(), wait_until="load")
        page.pdf(
            path=str(pdf_path),
            format="A4",
            print_background=True,
            margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
        )
    finally:
        page.close()


def merge_pdfs(parts: list[Path], target: Path) -> int:
    """Concatenate the PDFs in ``parts`` that exist into ``target`` (pypdf, no second
    print); return the number of pages written, 0 when there was nothing to merge."""
    from pypdf import PdfWriter

    present = [p for p in parts if p.exists()]
    if not present:
        return 0
    writer = PdfWriter()
    for part in present:
        writer.append(str(part))
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)
