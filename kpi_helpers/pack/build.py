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
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from kpi_helpers.alerts import AlertRule, rules_of
from kpi_helpers.catalog import scope_label
from kpi_helpers.core import (
    PERIOD_KINDS,
    Calendar,
    Config,
    KitError,
    Month,
    file_sha,
    load_config,
    month_lock,
    replace_folder,
    resource_dir,
    restore_folder,
)
from kpi_helpers.data import (
    Dataset,
    check_month,
    month_asked,
    open_dataset,
    period_with_data,
    spill_to,
)
from kpi_helpers.metrics import (
    check_scope,
    families_out_of_reach,
    one_scope,
    pack_scopes,
    quiet_line,
)
from kpi_helpers.report import (
    PACK_FAMILIES,
    PERIOD_WORDS,
    SNAPSHOT_FILE,
    TREND_PERIODS,
    Snapshot,
    month_label,
    page_title,
)
from kpi_helpers.report.live import LiveData  # the engine's side of report, kept out of its face

from .freeze import data_line, write_snapshot
from .index import (
    SNAPSHOT_DIR,
    Page,
    alert_links,
    explore_line,
    write_build_log,
    write_index,
)
from .keys import (
    data_key,
    kit_digest,
    link_files,
    link_tree,
    page_key,
    previous_pages,
    snapshot_digest,
    template_digest,
)
from .render import find_chromium, merge_pdfs
from .runner import Job, Outcome, run_all

NOTEBOOKS = resource_dir("notebooks")  # KPI_KIT_NOTEBOOKS points elsewhere (the tests do)
LOG_DIR = "build"  # the workers' logs: <month>/build/worker-N.log
WORK_PREFIX = ".work-"  # a page's working folder while it runs


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


# ------------------------------------------------------------------ pages


def has_parameters_cell(path: Path) -> bool:
    """Whether a notebook has a code cell tagged ``parameters`` (papermill's convention)."""
    import nbformat  # the pack's parent reads a notebook only to find custom pages

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise KitError(f"{path} is not a readable notebook: {exc}.") from None
    return any(
        c.cell_type == "code" and "parameters" in c.metadata.get("tags", []) for c in nb.cells
    )


def _notebook_title(path: Path, name: str) -> str:
    """A custom page's title: its first markdown heading, else its file name."""
    import nbformat  # the pack's parent reads a notebook only to find custom pages

    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return page_title(name)


def find_pages(custom: str | Path | None = None) -> list[Page]:
    """The pack's pages: the kit's notebooks plus every notebook in ``custom`` that has a
    ``parameters`` cell (one named like a kit page replaces it). Order: ``summary``
    first, the kit's families in their order, then the rest by name."""
    base = Path(os.environ.get("KPI_KIT_NOTEBOOKS") or NOTEBOOKS)
    # only the kit's own pages from its folder: not an Untitled.ipynb an analyst left there
    found = {n: base / f"{n}.ipynb" for n in PACK_FAMILIES if (base / f"{n}.ipynb").exists()}
    if custom:
        folder = Path(custom)
        if not folder.is_dir():
            raise KitError(f"--notebooks {folder}: no such folder of notebooks.")
        mine = [p for p in sorted(folder.glob("*.ipynb")) if has_parameters_cell(p)]
        if not mine:
            raise KitError(
                f"--notebooks {folder}: no notebook there has a cell tagged `parameters` "
                "(tag the cell that sets month, scope and snapshot)."
            )
        for path in mine:
            if path.stem in ("pack", "index") or not re.fullmatch(
                r"[A-Za-z0-9][A-Za-z0-9_-]{0,60}", path.stem
            ):
                raise KitError(
                    f"Notebook {path.name}: name pages with letters, digits, - and _ only "
                    "(and not pack or index, which the pack uses)."
                )
            found[path.stem] = path
    kit = [n for n in PACK_FAMILIES if n in found]
    rest = sorted(n for n in found if n not in PACK_FAMILIES)
    return [
        Page(
            n, str(found[n]), page_title(n) if n in PACK_FAMILIES else _notebook_title(found[n], n)
        )
        for n in kit + rest
    ]


def _scopes(ds, wanted: str) -> tuple[list[str], frozenset[str]]:
    """The pack's scopes, and those it keeps only when they have data: ``all`` (or
    nothing) = ``metrics.pack_scopes`` (the company, every team, unassigned when it has
    rows); else the comma-separated scopes, each one scope that exists
    (``metrics.check_scope``)."""
    if wanted in ("all", ""):
        return pack_scopes(ds)
    scopes = [s.strip() for s in wanted.split(",") if s.strip()]
    for s in scopes:
        check_scope(ds, one_scope(s, "A pack page"))
    return scopes, frozenset()


def _settings_text(mapping: str | None, config: str | None) -> str:
    """The mapping's and config's text: part of the snapshot's fingerprint."""
    return "".join(
        Path(p).read_text(encoding="utf-8", errors="replace") for p in (mapping, config) if p
    )


def build_pack(
    month: str,
    scopes: str = "all",
    families: list[str] | None = None,
    formats: tuple[str, ...] = ("html", "pdf"),
    jobs: int = 2,
    out: str | Path | None = None,
    source: str | None = None,
    mapping: str | None = None,
    config: str | None = None,
    progress: bool = True,
    notebooks: str | Path | None = None,
    force: bool = False,
    database: str | None = None,
    period: str = "month",
) -> tuple[Path, list[Outcome]]:
    """Build ``out/<month>/`` and return its path and the outcome of every notebook.

    ``period="quarter"`` builds the quarterly review (QBR) of the fiscal quarter holding
    ``month`` into ``out/<quarter>/`` (``2026-Q4``, ``FY2027-Q1``; ``"year"``:
    ``FY2027``): the same pages with ``period`` set, over the last 8 quarters (4 years),
    from the engine's period values; a quarter past the data is to date.

    The engine runs once: the snapshot (``out/<month>/data/``) holds every number of
    every page, and the notebooks and the index read it. ``out`` is ``output`` in
    kpi.toml by default (``reports``); ``notebooks`` is a folder of custom pages
    (``[pack] notebooks`` in kpi.toml by default). A re-run takes over the
    data step and every page whose inputs did not change from the month's previous
    build (see :mod:`kpi_helpers.pack.keys`); ``force`` rebuilds everything. ``database``:
    the database of a Spark Connect ``source``. DuckDB spills into the build's folder
    inside ``out`` when the data outgrows its memory limit."""
    cfg = load_config(config)
    rules = rules_of(cfg)  # a bad [[alerts]] rule stops the build before anything runs
    source = source or cfg.source
    mapping = mapping or cfg.mapping or None
    pages = find_pages(notebooks or cfg.pack_notebooks or None)
    names = [p.name for p in pages]
    for fam in families or []:
        if fam not in names:
            raise KitError(f"Unknown page {fam!r}; pages are: {', '.join(names)}.")
    pages = [p for p in pages if not families or p.name in families]
    if period not in PERIOD_KINDS:
        raise KitError(f"--period {period!r}: use one of {', '.join(PERIOD_KINDS)}.")
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
    # everything below reads the data once to check the request before any work starts;
    # the pages read only the snapshot: _build closes the dataset before they run
    with open_dataset(source, mapping, cfg.timezone, database=database) as ds:
        if period != "month" and month == "complete":  # the last period the data covers
            month = str(last_complete(ds, period, Calendar(cfg.fiscal_year_start)))
        last = month_asked(ds, month)
        check_month(ds, last)
        month = label = str(last)
        when = month_label(month)
        if period != "month":  # the folder says the period: reports/2026-Q4/
            span = period_with_data(ds, last, period, cfg.fiscal_year_start)
            label, when = span.label, f"{span.label} {span.status}".strip()
            month = str(span.through)  # what the snapshot holds, whichever month was asked
        scope_list, optional = _scopes(ds, scopes)
        out = Path(out or cfg.output).resolve()  # kernels change folder: absolute paths only
        out.mkdir(parents=True, exist_ok=True)
        with month_lock(out, label):
            clear_leftovers(out, label)
            build_root = Path(tempfile.mkdtemp(prefix=f".build-{label}-", dir=out))
            spill_to(ds, build_root / "spill")
            try:
                request = BuildRequest(
                    month,
                    scope_list,
                    pages,
                    tuple(formats),
                    jobs,
                    chromium,
                    cfg,
                    rules,
                    source,
                    mapping,
                    optional,
                    period,
                    label,
                    when,
                )
                return _build(build_root, out, request, ds, config, progress, force)
            finally:
                shutil.rmtree(build_root, ignore_errors=True)


def last_complete(ds: Dataset, kind: str, calendar: Calendar) -> Month:
    """The last month of the last ``kind`` ("quarter", "year") the data of ``ds`` covers in
    full (``kpi-kit pack --period quarter --month complete``): the period holding the
    data's last month if that month ends it, else the one before.

    Example: data through 2026-11, calendar quarters: ``Month 2026-09`` (2026-Q3).
    """
    latest = month_asked(ds, "latest")
    span = calendar.period(kind, latest)
    return latest if span.last == latest else span.first - 1


def clear_leftovers(out: Path, month: str) -> None:
    """Clear up what a killed build of ``month`` left in ``out`` (call it holding the
    month's lock): its temporary folders; a month folder caught between the two renames
    of the swap is put back (``core.restore_folder``).

    >>> clear_leftovers(Path("no-such-reports"), "2026-10")  # nothing there: nothing done
    """
    restore_folder(out / month)
    for stale in out.glob(f".build-{month}-*"):
        shutil.rmtree(stale, ignore_errors=True)


@dataclass(frozen=True)
class BuildRequest:
    """What to build: checked by :func:`build_pack` before any work starts."""

    month: str
    scopes: list[str]
    pages: list[Page]
    formats: tuple[str, ...]
    jobs: int
    chromium: str | None
    cfg: Config
    rules: list[AlertRule]  # the [[alerts]] of cfg, parsed
    source: str
    mapping: str | None
    optional: frozenset[str] = frozenset()  # scopes kept only when they have data
    period: str = "month"  # month, quarter (a QBR) or year
    label: str = ""  # the folder's name: the month, or the period's label (2026-Q4)
    when: str = ""  # what the pages say: October 2026, 2026-Q4 to date (2 of 3 months)


def _build(
    build_root: Path,
    out: Path,
    req: BuildRequest,
    ds,
    config: str | None,
    progress: bool,
    force: bool,
) -> tuple[Path, list[Outcome]]:
    month, cfg, mapping = req.month, req.cfg, req.mapping
    label = req.label or month
    when = req.when or month_label(month)
    build = build_root / label
    previous = out / label  # the period's pack so far: what a re-run may take over
    clock = {"started": time.perf_counter()}
    taken: set[str] = {SNAPSHOT_DIR, LOG_DIR}
    folders = {s: safe_name(s, taken) for s in req.scopes}
    settings = _settings_text(mapping, config)
    key = data_key(req.source, settings, label, folders, date.today())
    snap_dir = build / SNAPSHOT_DIR
    data_reused = not force and key is not None and _data_key_of(previous) == key
    if data_reused:
        link_tree(previous / SNAPSHOT_DIR, snap_dir)
        meta = Snapshot(snap_dir).meta
    else:
        live = LiveData(ds, config=cfg, month=month, period=req.period)
        meta = write_snapshot(
            live,
            req.scopes,
            folders,
            snap_dir,
            settings,
            data_key=key,
            alert_rules=req.rules,
            optional=req.optional,
        )
        del live
    snapshot = Snapshot(snap_dir)
    # a scope without data gets no pages (the index names it); unassigned without rows
    # is not in the snapshot at all
    n, units = TREND_PERIODS[req.period], PERIOD_WORDS[req.period]["units"]  # the pack's span
    quiet = [quiet_line(scope_label(s), label, n, units) for s in snapshot.quiet_scopes]
    scopes = snapshot.paged_scopes
    # a family none of whose KPIs the data can give is left out; the index says why
    out_of_reach = families_out_of_reach(ds, cfg)
    left_out = [
        dict(title=p.title, tables=out_of_reach[p.name])
        for p in req.pages
        if p.name in out_of_reach
    ]
    pages = [p for p in req.pages if p.name not in out_of_reach]
    clock["snapshot"] = time.perf_counter()
    ds.close()  # the pages read the snapshot; the source is not opened again
    # pages read the snapshot, never the source: a path is named for the record, a
    # database URL (it may hold a password, papermill#416) not at all
    source = req.source
    param_source = str(Path(source).resolve()) if Path(str(source)).exists() else ""
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    snapshot_line = data_line(meta)
    company = cfg.company or "Sales KPI review"
    reusable = {} if force else previous_pages(previous)
    inputs = dict(  # the settings too: the currency or company name changes a page
        snapshot=snapshot_digest(snap_dir) + hashlib.sha256(settings.encode()).hexdigest(),
        kit=kit_digest(),
        templates=template_digest(),
    )
    notebook_sha = {p.name: file_sha(Path(p.notebook)) for p in pages}
    job_list, outcomes = [], []
    for scope in scopes:
        for page in pages:
            header = dict(
                title=f"{page.title} · {scope_label(scope)} · {when}",
                company=company,
                scope=scope_label(scope),
                month=when,
                snapshot=snapshot_line,
            )
            params = dict(
                month=month,
                scope=scope,
                source=param_source,
                mapping=str(Path(mapping).resolve()) if mapping else "",
                config=str(Path(config).resolve()) if config else "",
                snapshot=f"../../{SNAPSHOT_DIR}",
            )
            if req.period != "month":  # a monthly page's key stays as it was
                params["period"] = header["period"] = req.period
            page_id = page_key(notebook_sha[page.name], params, header, req.formats, **inputs)
            before = reusable.get((scope, page.name))
            if before and before["key"] == page_id:
                link_files(previous, build, before["files"])
                outcomes.append(
                    Outcome(
                        page.name,
                        scope,
                        folders[scope],
                        ok=True,
                        files=list(before["files"]),
                        key=page_id,
                        reused=True,
                        built_at=before.get("built_at", ""),
                    )
                )
                continue
            # its own working folder, as deep as notebooks/: the snapshot is ../../data
            # from both, so an executed notebook kept for audit re-runs where it lies
            workdir = build / folders[scope] / f"{WORK_PREFIX}{page.name}"
            workdir.mkdir(parents=True)
            header |= dict(
                generated_at=generated,
                footer=f"{page.title} · {scope_label(scope)} · built {generated}",
            )
            job_list.append(
                Job(
                    page.name,
                    scope,
                    folders[scope],
                    month,
                    params,
                    str(workdir),
                    str(build / folders[scope]),
                    header,
                    req.formats,
                    req.chromium,
                    page.notebook,
                    page_id,
                )
            )
    outcomes += run_all(job_list, req.jobs, progress, logs=build / LOG_DIR)
    clock["pages"] = time.perf_counter()
    if "pdf" in req.formats:
        for scope in scopes:
            merge_pdfs(
                [build / folders[scope] / f"{p.name}.pdf" for p in pages],
                build / folders[scope] / "pack.pdf",
            )
    index_meta = dict(
        company=company,
        generated_at=generated,
        snapshot=snapshot_line,
        month_label=when,
        period=req.period,
        left_out=left_out,
        quiet=quiet,
        data_reused=data_reused,
        alerts=alert_links(snapshot.alerts(), folders, build),
        explore=explore_line(previous),
    )
    write_index(build, scopes, folders, pages, outcomes, snapshot, cfg, index_meta)
    clock["index"] = time.perf_counter()
    write_build_log(build, clock, outcomes, dict(key=key, reused=data_reused))
    for work in build.glob(f"*/{WORK_PREFIX}*"):
        shutil.rmtree(work, ignore_errors=True)
    return replace_folder(build, out / label), outcomes


def _data_key_of(month_dir: Path) -> str | None:
    """The data key the month's previous snapshot was written under, if any."""
    try:
        meta = json.loads((month_dir / SNAPSHOT_DIR / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get("data_key")
