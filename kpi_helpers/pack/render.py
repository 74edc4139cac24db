"""Rendering a page: HTML from an executed notebook (nbconvert, in-process, the kit's
template) and PDF from that HTML (the system Chromium through Playwright), and the
whole-pack PDF of a scope.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from kpi_helpers.core import atomic_path, resource_dir

if TYPE_CHECKING:
    from nbformat import NotebookNode

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
    """The system Chromium: $KPI_KIT_CHROMIUM, else the first one on PATH; None when
    there is none.

    >>> path = find_chromium()
    >>> path is None or Path(path).exists()
    True
    """
    env = os.environ.get("KPI_KIT_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_html(nb: NotebookNode, header: dict) -> str:
    """HTML of an executed notebook with the kit's template: no code, no prompts, no
    parameters, a header and a table of contents of its sections. Example::

        nb = nbformat.read("reports/2026-10/company/notebooks/revenue.ipynb", as_version=4)
        html = render_html(nb, {"title": "Revenue", "company": "Acme", "scope": "Company",
                                "month": "October 2026", "snapshot": "..."})
    """
    # nbconvert is heavy: loaded by the workers that render, not by every kpi-kit command
    from nbconvert import HTMLExporter
    from traitlets.config import Config as TConfig

    c = TConfig()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"parameters", "injected-parameters"}
    c.HTMLExporter.preprocessors = ["nbconvert.preprocessors.TagRemovePreprocessor"]
    exporter = HTMLExporter(
        config=c, template_name="kpi_pack", extra_template_basedirs=[str(resource_dir("templates"))]
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"kpi": header})
    return body


class Printer:
    """Prints pages to PDF with one headless Chromium, kept for the next page.

    The browser starts on the first PDF. One that crashed, was killed or disconnected is
    started again for the next PDF (a PDF it failed half-way is printed once more by a
    fresh browser), and a browser that failed to start leaves nothing behind: the next
    PDF tries again. :meth:`close` ends the browser and Playwright; the pack's workers
    call it when they exit. Example::

        printer = Printer()
        try:
            printer.print_pdf(Path("revenue.html"), Path("revenue.pdf"), "/usr/bin/chromium")
        finally:
            printer.close()
    """

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None
        self.chromium = ""  # the executable the browser was started from

    def _start(self, chromium: str):
        """A connected browser from ``chromium``: the running one, else a new one."""
        browser = self.browser
        if browser is not None and self.chromium == chromium and browser.is_connected():
            return browser
        self.close()
        # Playwright loads only when a PDF is asked for: HTML-only packs never need it
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
        except BaseException:
            playwright.stop()  # else the next start fails: "Sync API inside the asyncio loop"
            raise
        self.playwright, self.browser, self.chromium = playwright, browser, chromium
        return browser

    def print_pdf(self, html_path: Path, pdf_path: Path, chromium: str) -> None:
        """Print a local HTML file to an A4 PDF (network blocked) with the browser at
        ``chromium``. A browser that died since the last PDF, or dies during this one, is
        replaced and the PDF printed again, once."""
        from playwright.sync_api import Error  # Playwright: only when a PDF is asked for

        for attempt in (1, 2):
            browser = self._start(chromium)
            try:
                _print(browser, html_path, pdf_path)
                return
            except Error:
                # a killed browser may still say it is connected until Playwright reads
                # its end: whatever failed, a fresh browser prints the page once more
                self.close()
                if attempt == 2:
                    raise

    def close(self) -> None:
        """End the browser and Playwright, if started; closing twice is fine."""
        browser, playwright = self.browser, self.playwright
        self.browser = self.playwright = None
        self.chromium = ""
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        except Exception:  # a browser that died on the way out: nothing left to close
            pass
        finally:
            if playwright is not None:
                playwright.stop()


def _print(browser, html_path: Path, pdf_path: Path) -> None:
    page = browser.new_page()
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
        try:
            page.close()
        except Exception:  # the browser died with the page: the error above says so
            pass


def merge_pdfs(parts: list[Path], target: Path) -> int:
    """Concatenate the PDFs in ``parts`` that exist into ``target`` (pypdf, no second
    print; written atomically); return the number of pages written, 0 when there was
    nothing to merge. Example::

        merge_pdfs([Path("company/summary.pdf"), Path("company/revenue.pdf")],
                   Path("company/pack.pdf"))
    """
    from pypdf import PdfWriter  # only packs with PDFs load it

    present = [p for p in parts if p.exists()]
    if not present:
        return 0
    writer = PdfWriter()
    for part in present:
        writer.append(str(part))
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)
