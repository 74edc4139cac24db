"""The pack's workers: a pool of processes, each running pages one after another in its
own warm Jupyter kernel and printing them with its own Chromium.

A worker (:class:`Worker`) keeps its kernel between pages, resetting it before each (see
``RESET_KERNEL``), and starts a fresh one after a page failed and after
``KERNEL_PAGES`` pages, so that what a page leaves behind where a reset cannot reach
(a module's attribute, a thread) is gone soon. Its browser (:class:`~.render.Printer`)
is started again when it crashed. Its stderr, and its kernels', goes to
``<month>/build/worker-N.log``, with a line per page and the traceback of each failure.
When the pool ends, each worker stops its kernel and its browser.

Example::

    outcomes = run_all(jobs, 2, progress=False, logs=Path("reports/.build-x/2026-10/build"))
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from queue import Empty

from jupyter_client.manager import KernelManager

from .render import Printer, render_html

KERNEL_PAGES = 25  # a kernel runs at most this many pages; then a fresh one starts
LOG_NAME = "worker-{number}.log"


@dataclass
class Job:
    """One page to run for one scope, with where its files go."""

    family: str  # the page's name
    scope: str
    folder: str
    month: str
    parameters: dict
    workdir: str
    out_dir: str
    header: dict
    formats: tuple[str, ...]
    chromium: str | None
    notebook: str
    key: str = ""  # see keys.page_key


@dataclass
class Outcome:
    """How one page went, and the files it left (relative to the month's folder)."""

    family: str  # the page's name
    scope: str
    folder: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)  # relative to the month's folder
    key: str = ""
    reused: bool = False  # taken over from the month's previous build
    built_at: str = ""  # when the page was built (for a reused page: first built)
    log: str = ""  # the log of the worker that ran it, relative to the month's folder


# Run once in a worker's new kernel: load what every page imports and keep the state a page
# may change (environment, import path, matplotlib and pandas settings) to restore it.
WARM_KERNEL = """\
import os, sys, types, copy
import matplotlib, matplotlib.pyplot, pandas
import kpi_helpers.report.notebook
sys.modules["_kit_kernel_state"] = types.SimpleNamespace(
    environ=dict(os.environ), path=list(sys.path), rc=copy.deepcopy(dict(matplotlib.rcParams))
)
del os, sys, types, copy, matplotlib, pandas, kpi_helpers
"""


# Run before each page: an empty namespace, the page's own working folder, the saved
# state back, no figure left open, prompts from 1. Imported modules stay loaded: that is
# what reusing the kernel saves (about a second of kernel start and a second of pandas
# and matplotlib imports per page).
RESET_KERNEL = """\
get_ipython().run_line_magic("reset", "-f")
import os as _o, sys as _s, warnings as _w, matplotlib as _m, pandas as _p
_k = _s.modules["_kit_kernel_state"]
_o.environ.clear(); _o.environ.update(_k.environ); _s.path[:] = _k.path
_o.chdir({workdir!r})
_s.modules["matplotlib.pyplot"].close("all")
_m.rcParams.update(_k.rc)
with _w.catch_warnings():
    _w.simplefilter("ignore")
    _p.reset_option("all")
del _o, _s, _w, _m, _p, _k
get_ipython().execution_count = 1
"""


class PageKernel(KernelManager):
    """A kernel manager that keeps the clients it hands out, so the worker can close the
    one papermill opens for each page: papermill leaves a client open on a kernel it did
    not start (a heartbeat thread and a dozen sockets a page, until a worker running a
    few hundred pages reaches the open-files limit)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clients: list = []

    def client(self, **kwargs):
        kc = super().client(**kwargs)
        self.clients.append(kc)
        return kc

    def close_clients(self) -> None:
        """Stop every client handed out so far (stopping one twice is harmless)."""
        while self.clients:
            kc = self.clients.pop()
            try:
                kc.stop_channels()
            except Exception:  # a client of a dead kernel: nothing left to release
                pass


class Worker:
    """The pages' runner inside one worker process: its kernel, its browser, its log.

    ``number`` counts the pool's workers from 1; ``log`` is its log's path relative to the
    month's folder ("" when it has none), recorded in every outcome it returns. Example::

        worker = Worker()
        try:
            outcome = worker.run(job)
        finally:
            worker.close()
    """

    def __init__(self, number: int = 0, log: str = "") -> None:
        self.number = number
        self.log = log
        self.km: PageKernel | None = None
        self.kernel_pages = 0  # pages run by the current kernel
        self.printer = Printer()

    def note(self, text: str) -> None:
        """A line in the worker's log (its stderr)."""
        print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)

    def kernel(self, workdir: str) -> PageKernel:
        """The worker's Python kernel, reset for a page in ``workdir``; a new one when
        there is none yet, it died or it ran ``KERNEL_PAGES`` pages. papermill runs the
        page in it and leaves it running."""
        if self.km is not None and (not self.km.is_alive() or self.kernel_pages >= KERNEL_PAGES):
            self.close_kernel()
        fresh = self.km is None
        if fresh:
            km = PageKernel(kernel_name="python3")
            km.start_kernel(cwd=workdir)
            self.km, self.kernel_pages = km, 0
            self.note(f"kernel started (pid {_kernel_pid(km)})")
        km = self.km
        # the shell channel only: a request and its reply, with no wait for the kernel's
        # broadcast channel to connect (that wait is a fifth of an empty page's time)
        kc = km.client()
        kc.start_channels(iopub=False, stdin=False, hb=False, control=False)
        try:
            for code in ([WARM_KERNEL] if fresh else []) + [RESET_KERNEL.format(workdir=workdir)]:
                msg_id = kc.execute(code, silent=True, store_history=False)
                reply = _reply(kc, km, msg_id)
                if reply["content"]["status"] != "ok":
                    evalue = reply["content"].get("evalue")
                    raise RuntimeError(f"Kernel could not be reset: {evalue}")
        finally:
            km.close_clients()
        return km

    def close_kernel(self) -> None:
        """Stop the worker's kernel, if started. Synchronous on purpose: it also runs at
        the worker's exit, when jupyter_client's event-loop thread can no longer shut a
        kernel down (``shutdown_kernel`` waits there forever)."""
        km, self.km, self.kernel_pages = self.km, None, 0
        if km is None:
            return
        km.close_clients()
        process = getattr(km.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        km.cleanup_connection_file()

    def close(self) -> None:
        """Stop the kernel and the browser; closing twice is fine."""
        try:
            self.close_kernel()
        finally:
            self.printer.close()

    def run(self, job: Job) -> Outcome:
        """Execute one notebook for one scope, render it, print it."""
        # papermill and nbformat load in the worker process, not in the CLI's
        import nbformat
        import papermill as pm

        started = time.perf_counter()
        out = Path(job.out_dir)
        nb_dir = out / "notebooks"
        nb_dir.mkdir(parents=True, exist_ok=True)
        executed = nb_dir / f"{job.family}.ipynb"
        page = f"{job.scope} {job.family}"
        outcome = Outcome(
            job.family,
            job.scope,
            job.folder,
            ok=True,
            key=job.key,
            built_at=datetime.now().isoformat(timespec="seconds"),
            log=self.log,
        )
        self.note(f"{page}: started")
        for attempt in (1, 2):
            try:
                pm.execute_notebook(
                    job.notebook,
                    str(executed),
                    parameters=job.parameters,
                    cwd=job.workdir,
                    kernel_name="python3",
                    language="python",  # a notebook written by hand may carry no kernelspec
                    start_timeout=90,
                    progress_bar=False,
                    log_output=False,
                    request_save_on_cell_execute=False,  # written once, at the end or on error
                    km=self.kernel(job.workdir),
                )
                self.kernel_pages += 1
                break
            except pm.PapermillExecutionError as exc:
                outcome.ok, outcome.error = False, f"{exc.ename}: {exc.evalue}"[:300]
                self.note(f"FAILED {page}: {exc.ename}: {exc.evalue}{exc}")
                self.close_kernel()  # what the failed page left behind goes with its kernel
                break
            except Exception as exc:  # kernel problems: a fresh kernel, once (papermill#239)
                self.close_kernel()
                outcome.ok, outcome.error = False, f"{type(exc).__name__}: {exc}"[:300]
                self.note(f"FAILED {page} (attempt {attempt}):\n{traceback.format_exc()}")
                if attempt == 2 or not executed.exists() and "Kernel" not in str(exc):
                    break
                outcome.ok, outcome.error = True, ""
        if self.km is not None:
            self.km.close_clients()  # papermill's client of this page
        if executed.exists():
            outcome.files.append(f"{job.folder}/notebooks/{executed.name}")
            try:
                html = render_html(nbformat.read(executed, as_version=4), job.header)
                html_path = out / f"{job.family}.html"
                html_path.write_text(html, encoding="utf-8")
                outcome.files.append(f"{job.folder}/{html_path.name}")
                if "pdf" in job.formats and job.chromium:
                    pdf_path = out / f"{job.family}.pdf"
                    self.printer.print_pdf(html_path, pdf_path, job.chromium)
                    outcome.files.append(f"{job.folder}/{pdf_path.name}")
            except Exception as exc:
                outcome.ok = False
                outcome.error = outcome.error or f"{type(exc).__name__}: {exc}"[:300]
                self.note(f"FAILED {page} (rendering):\n{traceback.format_exc()}")
        outcome.seconds = time.perf_counter() - started
        if outcome.ok:
            self.note(f"{page}: ok in {outcome.seconds:.1f} s")
        return outcome


def _kernel_pid(km: KernelManager) -> int | None:
    process = getattr(km.provisioner, "process", None)
    return getattr(process, "pid", None)


# the worker of this process: set by start_worker in a pool, else made on first use
_WORKER: dict[str, Worker] = {}


def start_worker(counter: Synchronized, logs: str) -> None:
    """A pool worker's start: take the next number from ``counter`` (a shared integer),
    send stderr (the kernels inherit it) to ``logs/worker-N.log`` (nowhere when ``logs``
    is ""), and stop the kernel and browser when the process exits. Example::

        ctx = get_context("spawn")
        ProcessPoolExecutor(2, mp_context=ctx, initializer=start_worker,
                            initargs=(ctx.Value("i", 0), "reports/.build-x/2026-10/build"))
    """
    with counter.get_lock():
        counter.value += 1
        number = counter.value
    log = ""
    if logs:
        path = Path(logs) / LOG_NAME.format(number=number)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        log = f"{path.parent.name}/{path.name}"
    else:
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 2)
    os.close(fd)
    worker = _WORKER["worker"] = Worker(number, log)
    # a spawned worker leaves through sys.exit, which runs atexit (a forked one would not)
    atexit.register(worker.close)


def current_worker() -> Worker:
    """This process's worker: the pool's, else one made now and closed at exit.

    >>> current_worker() is current_worker()
    True
    """
    if "worker" not in _WORKER:
        worker = _WORKER["worker"] = Worker()
        atexit.register(worker.close)
    return _WORKER["worker"]


def run_job(job: Job) -> Outcome:
    """Run one page in this process's worker (see :meth:`Worker.run`); what the pool
    calls. Example: ``outcome = run_job(job)``."""
    return current_worker().run(job)


def run_all(
    job_list: list[Job], jobs: int, progress: bool, logs: Path | None = None
) -> list[Outcome]:
    """Run every job in a pool of ``jobs`` worker processes; return their outcomes in
    the order they finish. ``logs`` (created) is a folder directly in the month's folder
    for the workers' logs, ``worker-1.log`` ...; without it their stderr is dropped.
    Example::

        outcomes = run_all(job_list, 2, progress=True, logs=month_dir / "build")
    """
    from tqdm import tqdm  # the progress bar: only when pages run

    outcomes: list[Outcome] = []
    if not job_list:  # every page reused: no worker, no kernel
        return outcomes
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
    ctx = get_context("spawn")  # no fork of a process holding DuckDB threads
    counter = ctx.Value("i", 0)
    with ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=ctx,
        initializer=start_worker,
        initargs=(counter, str(logs) if logs is not None else ""),
    ) as pool:
        futures = [pool.submit(run_job, j) for j in job_list]
        bar = tqdm(
            total=len(futures), desc="notebooks", unit="nb", disable=not progress, file=sys.stderr
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


def _reply(kc, km: KernelManager, msg_id: str, timeout: float = 90.0) -> dict:
    """The kernel's reply to ``msg_id``. A kernel that died before answering (one that
    could not bind its ports: "Address already in use" in the worker's log) or gave no
    answer within ``timeout`` seconds raises a RuntimeError naming the kernel, so that
    :meth:`Worker.run` tries the page once more on a fresh kernel."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reply = kc.get_shell_msg(timeout=1)
        except Empty:
            if not km.is_alive():
                raise RuntimeError("Kernel died before it answered") from None
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply
    raise RuntimeError(f"Kernel gave no answer in {timeout:.0f} s")
