"""TODO docstring."""

from __future__ import annotations

import atexit
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from jupyter_client.manager import KernelManager

from .render import print_pdf, render_html


@dataclass
class Job:
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
    key: str = ""  # see rebuild.page_key


@dataclass
class Outcome:
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


_KERNEL: dict = {}


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


def warm_kernel(workdir: str) -> KernelManager:
    """This worker's Python kernel, started once and reset for each notebook (a kernel
    that died is replaced); papermill runs the notebook in it and leaves it running."""
    km = _KERNEL.get("km")
    fresh = km is None or not km.is_alive()
    if fresh:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=workdir)
        _KERNEL["km"] = km
        atexit.register(close_kernel)
    # the shell channel only: a request and its reply, with no wait for the kernel's
    # broadcast channel to connect (that wait is a fifth of an empty page's time)
    kc = km.client()
    kc.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        for code in ([WARM_KERNEL] if fresh else []) + [RESET_KERNEL.format(workdir=workdir)]:
            msg_id = kc.execute(code, silent=True, store_history=False)
            reply = kc.get_shell_msg(timeout=90)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=90)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"Kernel could not be reset: {reply['content'].get('evalue')}")
    finally:
        kc.stop_channels()
    return km


def close_kernel() -> None:
    """Stop this worker's kernel, if started. Synchronous on purpose: it also runs at the
    worker's exit, when jupyter_client's event-loop thread can no longer shut a kernel
    down (``shutdown_kernel`` waits there forever)."""
    km = _KERNEL.pop("km", None)
    if km is None:
        return
    process = getattr(km.provisioner, "process", None)
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=30)
    km.cleanup_connection_file()


def run_job(job: Job) -> Outcome:
    """Execute one notebook for one scope, render it, print it (in a worker process)."""
    import nbformat
    import papermill as pm

    started = time.perf_counter()
    out = Path(job.out_dir)
    nb_dir = out / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    executed = nb_dir / f"{job.family}.ipynb"
    outcome = Outcome(
        job.family,
        job.scope,
        job.folder,
        ok=True,
        key=job.key,
        built_at=datetime.now().isoformat(timespec="seconds"),
    )
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
                km=warm_kernel(job.workdir),
            )
            break
        except pm.PapermillExecutionError as exc:
            outcome.ok, outcome.error = False, f"{exc.ename}: {exc.evalue}"[:300]
            break
        except Exception as exc:  # kernel problems: a fresh kernel, once (papermill#239)
            close_kernel()
            outcome.ok, outcome.error = False, f"{type(exc).__name__}: {exc}"[:300]
            if attempt == 2 or not executed.exists() and "Kernel" not in str(exc):
                break
            outcome.ok, outcome.error = True, ""
    if executed.exists():
        outcome.files.append(f"{job.folder}/notebooks/{executed.name}")
        page = render_html(nbformat.read(executed, as_version=4), job.header)
        html_path = out / f"{job.family}.html"
        html_path.write_text(page, encoding="utf-8")
        outcome.files.append(f"{job.folder}/{html_path.name}")
        if "pdf" in job.formats and job.chromium:
            pdf_path = out / f"{job.family}.pdf"
            print_pdf(html_path, pdf_path, job.chromium)
            outcome.files.append(f"{job.folder}/{pdf_path.name}")
    outcome.seconds = time.perf_counter() - started
    return outcome


def _quiet_worker() -> None:
    """Kernels inherit the worker's stderr: keep their start-up chatter off the terminal
    (a failure still reaches the user through the notebook's outcome)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def run_all(job_list: list[Job], jobs: int, progress: bool) -> list[Outcome]:
    from tqdm import tqdm

    outcomes: list[Outcome] = []
    if not job_list:  # every page reused: no worker, no kernel
        return outcomes
    ctx = get_context("spawn")  # no fork of a process holding DuckDB threads
    with ProcessPoolExecutor(
        max_workers=max(1, jobs), mp_context=ctx, initializer=_quiet_worker
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
