"""Build a monthly review pack: every notebook per scope, executed by papermill, rendered
to HTML in-process, printed to PDF by the system Chromium, with an index page.

The pack is built in a temporary folder beside ``reports/<month>`` and moved into place
when complete, so a run that stops half-way leaves the previous pack untouched and
re-running a month replaces only that month. Each notebook runs in its own working
directory in a pool of worker processes; one notebook failing does not stop the others:
its executed notebook (with the error) is kept, the index marks it, and the run's exit
code is non-zero.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from . import kpis
from .charts import format_value
from .config import Config, load_config
from .errors import KitError
from .months import Month
from .notebook import HEADLINES, TITLES, month_label, scope_label
from .registry import FAMILIES, get
from .sources import open_dataset

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"  # KPI_KIT_NOTEBOOKS points elsewhere (the tests do)
TEMPLATES = ROOT / "templates"
PACK_FAMILIES = ("summary", *FAMILIES)
SECRET_ENV = "KPI_KIT_SOURCE_URL"
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


def safe_name(name: str, taken: set[str]) -> str:
    """A folder name from a scope: lower-case letters, digits and dashes only, with a short
    hash when two scopes would collide or nothing readable is left.

    >>> safe_name("team:Partners & Alliances", set())
    'team-partners-alliances'
    >>> safe_name("team:../../etc", set())
    'team-etc'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "scope"
    if slug in taken or slug in ("scope", "team", "rep"):
        slug = f"{slug}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    taken.add(slug)
    return slug


@dataclass
class Job:
    family: str
    scope: str
    folder: str
    month: str
    parameters: dict
    workdir: str
    out_dir: str
    header: dict
    formats: tuple[str, ...]
    chromium: str | None
    notebooks: str


@dataclass
class Outcome:
    family: str
    scope: str
    folder: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ rendering


def render_html(nb, header: dict) -> str:
    """HTML of an executed notebook with the kit's template: no code, no prompts, no
    parameters, a header and a table of contents."""
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
    return add_toc(body)


def add_toc(page: str) -> str:
    """Give every h2 an id and list them in the page's <!--TOC--> slot."""
    entries = []

    def visit(match: re.Match) -> str:
        attrs, inner = match.group(1), match.group(2)
        text = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        anchor = f"s{len(entries) + 1}"
        entries.append((anchor, text))
        attrs = re.sub(r'\sid="[^"]*"', "", attrs)
        return f'<h2{attrs} id="{anchor}">{inner}</h2>'

    page = re.sub(r"<h2([^>]*)>(.*?)</h2>", visit, page, flags=re.S)
    toc = "<ol>" + "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in entries) + "</ol>"
    return page.replace("<!--TOC-->", toc, 1)


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


# ------------------------------------------------------------------ one notebook


def run_job(job: Job) -> Outcome:
    """Execute one notebook for one scope, render it, print it (in a worker process)."""
    import nbformat
    import papermill as pm

    started = time.perf_counter()
    out = Path(job.out_dir)
    nb_dir = out / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    executed = nb_dir / f"{job.family}.ipynb"
    outcome = Outcome(job.family, job.scope, job.folder, ok=True)
    for attempt in (1, 2):
        try:
            pm.execute_notebook(
                str(Path(job.notebooks) / f"{job.family}.ipynb"),
                str(executed),
                parameters=job.parameters,
                cwd=job.workdir,
                kernel_name="python3",
                start_timeout=90,
                progress_bar=False,
                log_output=False,
            )
            break
        except pm.PapermillExecutionError as exc:
            outcome.ok, outcome.error = False, f"{exc.ename}: {exc.evalue}"[:300]
            break
        except Exception as exc:  # kernel start-up problems: retry once (papermill#239)
            outcome.ok, outcome.error = False, f"{type(exc).__name__}: {exc}"[:300]
            if attempt == 2 or not executed.exists() and "Kernel" not in str(exc):
                break
            outcome.ok, outcome.error = True, ""
    outcome.files.append(str(executed))
    if executed.exists():
        page = render_html(nbformat.read(executed, as_version=4), job.header)
        html_path = out / f"{job.family}.html"
        html_path.write_text(page, encoding="utf-8")
        outcome.files.append(str(html_path))
        if "pdf" in job.formats and job.chromium:
            pdf_path = out / f"{job.family}.pdf"
            print_pdf(html_path, pdf_path, job.chromium)
            outcome.files.append(str(pdf_path))
    outcome.seconds = time.perf_counter() - started
    return outcome


# ------------------------------------------------------------------ the pack


def _snapshot(ds, last: Month) -> str:
    counts = []
    for table, label in (
        ("opportunities", "deals"),
        ("leads", "leads"),
        ("orders", "order lines"),
        ("subscriptions", "subscriptions"),
    ):
        if ds.has(table):
            counts.append(f"{int(ds.table(table).count().execute()):,} {label}")
    return f"{ds.description} · data through {last} · " + ", ".join(counts)


def _scopes(ds, wanted: str) -> list[str]:
    teams = sorted(set(ds.frame("reps")["team"].dropna())) if ds.has("reps", "team") else []
    if wanted in ("all", ""):
        return ["company"] + [f"team:{t}" for t in teams]
    scopes = [s.strip() for s in wanted.split(",") if s.strip()]
    for s in scopes:
        sc = kpis.Scope.parse(s)
        if sc.kind == "team" and sc.name not in teams:
            raise KitError(f"Unknown team {sc.name!r}; teams are: {', '.join(teams)}.")
        if sc.kind in ("team", "rep") and sc.name is None or sc.kind == "all":
            raise KitError(f"Scope {s!r}: name one team (team:NAME) or rep (rep:ID).")
    return scopes


def _headlines(ds, month: str, scopes: list[str], cfg: Config) -> pd.DataFrame:
    ids = sorted({k for fam in PACK_FAMILIES for k in HEADLINES[fam]})
    frames = [
        kpis.compute(ds, month, scope=s, kpis=ids, config=cfg)
        for s in (["company"] if "company" in scopes else [])
        + (["team"] if any(s.startswith("team:") for s in scopes) else [])
        + [s for s in scopes if s.startswith("rep:")]
    ]
    df = pd.concat(frames, ignore_index=True)
    df["key"] = [
        ("company" if t == "company" else f"{t}:{s}")
        for t, s in zip(df.scope_type, df.scope, strict=True)
    ]
    return df.set_index(["key", "kpi"])


def build_pack(
    month: str,
    scopes: str = "all",
    families: list[str] | None = None,
    formats: tuple[str, ...] = ("html", "pdf"),
    jobs: int = 2,
    out: str | Path = "reports",
    source: str | None = None,
    mapping: str | None = None,
    config: str | None = None,
    progress: bool = True,
) -> tuple[Path, list[Outcome]]:
    """Build ``out/<month>/`` and return its path and the outcome of every notebook."""
    cfg = load_config(config)
    source = source or cfg.source
    mapping = mapping or cfg.mapping or None
    families = families or list(PACK_FAMILIES)
    for fam in families:
        if fam not in PACK_FAMILIES:
            raise KitError(f"Unknown family {fam!r}; families are: {', '.join(PACK_FAMILIES)}.")
    bad = [f for f in formats if f not in ("html", "pdf")]
    if bad or not formats:
        raise KitError("--formats takes html and/or pdf, e.g. --formats html,pdf.")
    chromium = None
    if "pdf" in formats:
        chromium = find_chromium()
        if chromium is None:
            raise KitError(
                "PDF needs a Chromium browser and none was found: install one "
                "(Debian: apt-get install chromium) or set KPI_KIT_CHROMIUM to its "
                "path; --formats html works without it."
            )
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            raise KitError("PDF needs the playwright package: make install.") from None
    # everything below reads the data once to check the request before any work starts
    ds = open_dataset(source, mapping)
    lo, hi = kpis.data_months(ds)
    last = hi if month in ("latest", "") else Month.parse(month)
    if not lo <= last <= hi:
        raise KitError(f"No data for {last}: the dataset covers {lo}..{hi}.")
    month = str(last)
    scope_list = _scopes(ds, scopes)
    headlines = _headlines(ds, month, scope_list, cfg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    build_root = Path(tempfile.mkdtemp(prefix=f".build-{month}-", dir=out))
    build = build_root / month
    env = {}
    param_source = str(Path(source).resolve()) if Path(str(source)).exists() else source
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+]*://", str(source)):
        # never a URL (it may hold a password) as a notebook parameter: papermill#416
        env[SECRET_ENV] = str(source)
        param_source = f"env:{SECRET_ENV}"
    notebooks = os.environ.get("KPI_KIT_NOTEBOOKS") or str(NOTEBOOKS)
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    snapshot = _snapshot(ds, hi)
    company = cfg.company or "Sales KPI review"
    taken: set[str] = set()
    folders = {s: safe_name(s, taken) for s in scope_list}
    job_list = []
    for scope in scope_list:
        for fam in families:
            workdir = Path(tempfile.mkdtemp(prefix="run-", dir=build_root))
            header = dict(
                title=f"{TITLES[fam]} · {scope_label(scope)} · {month_label(month)}",
                company=company,
                scope=scope_label(scope),
                month=month_label(month),
                generated_at=generated,
                snapshot=snapshot,
                footer=f"{TITLES[fam]} · {scope_label(scope)} · built {generated}",
            )
            params = dict(
                month=month,
                scope=scope,
                source=param_source,
                mapping=str(Path(mapping).resolve()) if mapping else "",
                config=str(Path(config).resolve()) if config else "",
            )
            job_list.append(
                Job(
                    fam,
                    scope,
                    folders[scope],
                    month,
                    params,
                    str(workdir),
                    str(build / folders[scope]),
                    header,
                    tuple(formats),
                    chromium,
                    notebooks,
                )
            )
    outcomes = _run_all(job_list, jobs, env, progress)
    try:
        _scope_pdfs(build, scope_list, folders, families, chromium, formats)
        meta = dict(
            company=company,
            generated_at=generated,
            snapshot=snapshot,
            month_label=month_label(month),
        )
        _write_index(build, scope_list, folders, families, outcomes, headlines, cfg, meta)
        for run in build_root.glob("run-*"):
            shutil.rmtree(run, ignore_errors=True)
        final = out / month
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{month}-", dir=out))
            final.rename(old / month)
        build.rename(final)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        close_browser()
        shutil.rmtree(build_root, ignore_errors=True)
    return final, outcomes


def _quiet_worker() -> None:
    """Kernels inherit the worker's stderr: keep their start-up chatter off the terminal
    (a failure still reaches the user through the notebook's outcome)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def _run_all(job_list: list[Job], jobs: int, env: dict, progress: bool) -> list[Outcome]:
    from tqdm import tqdm

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # inherited by the workers and their kernels
    try:
        outcomes = []
        ctx = get_context("spawn")  # no fork of a process holding DuckDB threads
        with ProcessPoolExecutor(
            max_workers=max(1, jobs), mp_context=ctx, initializer=_quiet_worker
        ) as pool:
            futures = [pool.submit(run_job, j) for j in job_list]
            bar = tqdm(
                total=len(futures),
                desc="notebooks",
                unit="nb",
                disable=not progress,
                file=sys.stderr,
            )
            for fut in as_completed(futures):
                try:
                    outcomes.append(fut.result())
                except Exception as exc:  # a worker that died: the others carry on
                    job = job_list[futures.index(fut)]
                    outcomes.append(
                        Outcome(
                            job.family,
                            job.scope,
                            job.folder,
                            ok=False,
                            error=f"{type(exc).__name__}: {exc}"[:300],
                        )
                    )
                bar.update(1)
            bar.close()
        return outcomes
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _scope_pdfs(build: Path, scopes, folders, families, chromium, formats) -> None:
    """One combined PDF per scope: the family pages one after another."""
    if "pdf" not in formats:
        return
    for scope in scopes:
        folder = build / folders[scope]
        bodies, head = [], None
        for fam in families:
            page_path = folder / f"{fam}.html"
            if not page_path.exists():
                continue
            page = page_path.read_text(encoding="utf-8")
            if head is None:
                head = page.split("<body>", 1)[0]
            main = re.search(r"<main>(.*)</main>", page, flags=re.S)
            if main:
                bodies.append(f'<div class="family-page">{main.group(1)}</div>')
        if head is None:
            continue
        combined = folder / "pack.html"
        combined.write_text(
            head + "<body><main>" + "".join(bodies) + "</main></body></html>", encoding="utf-8"
        )
        print_pdf(combined, folder / "pack.pdf", chromium)
        combined.unlink()


def _write_index(
    build: Path,
    scopes: list[str],
    folders: dict[str, str],
    families: list[str],
    outcomes: list[Outcome],
    headlines: pd.DataFrame,
    cfg: Config,
    meta: dict,
) -> None:
    by_key = {(o.scope, o.family): o for o in outcomes}
    scope_rows = []
    for scope in scopes:
        folder = folders[scope]
        pages = []
        for fam in families:
            o = by_key.get((scope, fam))
            key = scope
            heads = []
            for kpi in HEADLINES[fam]:
                k = get(kpi)
                if (key, k.id) not in headlines.index:
                    continue
                r = headlines.loc[(key, k.id)]
                value = (
                    format_value(r["value"], k.unit, cfg.currency) if r["status"] == "ok" else "n/a"
                )
                change = (
                    "" if pd.isna(r["mom_change"]) else f"{r['mom_change']:+.1f} {r['change_unit']}"
                )
                tone = {"improving": "good", "worsening": "bad"}.get(r["trend"], "")
                heads.append(
                    dict(name=k.name, value=value, change=change, tone=tone, rag=r["rag"] or "")
                )
            has_html = (build / folder / f"{fam}.html").exists()
            has_pdf = (build / folder / f"{fam}.pdf").exists()
            pages.append(
                dict(
                    title=TITLES[fam],
                    failed=not (o and o.ok),
                    error=(o.error if o else "not run"),
                    headlines=heads,
                    html=f"{folder}/{fam}.html" if has_html else "",
                    pdf=f"{folder}/{fam}.pdf" if has_pdf else "",
                    notebook=f"{folder}/notebooks/{fam}.ipynb",
                )
            )
        pdf = f"{folder}/pack.pdf" if (build / folder / "pack.pdf").exists() else ""
        scope_rows.append(dict(label=scope_label(scope), folder=folder, pages=pages, pdf=pdf))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    css = (TEMPLATES / "kpi_pack" / "pack.css").read_text(encoding="utf-8")
    page = env.get_template("index.html.j2").render(
        **meta, scopes=scope_rows, css=Markup(css), failed=sum(1 for o in outcomes if not o.ok)
    )
    (build / "index.html").write_text(page, encoding="utf-8")
