"""The pack's workers, for real: their kernels and Chromium, their logs, their restarts.

Every build here runs a few tiny custom pages for one scope in one worker (``jobs=1``,
so the pages share the worker's kernel and browser, in name order) into one reports
folder: the first build computes the snapshot, the later ones take it over. The source
is a DuckDB file: a connection to it is an open file."""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from pathlib import Path

import duckdb
import nbformat
import pytest
from conftest import SAMPLE_END
from pypdf import PdfReader

from kpi_helpers.pack import build_pack, find_chromium
from kpi_helpers.pack.render import Printer
from kpi_helpers.pack.runner import KERNEL_PAGES

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: apt-get install chromium (.ci/run does)"
)
MARK = "KPI_KIT_TEST_BUILD"  # set for a build: every process it starts inherits it
PID = (
    "import os\n"
    'print("kernel pid", os.getpid())\n'
    'print("worker fds", len(os.listdir(f"/proc/{os.getppid()}/fd")))'  # the kernel's parent
)


def _page(path: Path, code: str) -> None:
    params = nbformat.v4.new_code_cell(
        'month = "latest"\nscope = "company"\nsource = ""\nsnapshot = ""'
    )
    params.metadata["tags"] = ["parameters"]
    cells = [nbformat.v4.new_markdown_cell(f"# {path.stem}"), params]
    nb = nbformat.v4.new_notebook(cells=cells + [nbformat.v4.new_code_cell(code)])
    nbformat.write(nb, path)


def _marked(mark: str) -> list[str]:
    """The command lines of the processes whose environment holds ``MARK=mark``, but
    this one and its multiprocessing resource tracker (it lives as long as this does)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone, or not ours to read
            continue
        if f"{MARK}={mark}".encode() not in environ.split(b"\0") or int(pid) == os.getpid():
            continue
        if "multiprocessing.resource_tracker" not in command:
            found.append(f"{pid}: {command}")
    return found


@pytest.fixture(scope="module")
def source(sample_dir, tmp_path_factory) -> Path:
    """The sample data as a DuckDB file (text columns, typed by the kit)."""
    path = tmp_path_factory.mktemp("duckdb") / "sales.duckdb"
    con = duckdb.connect(str(path))
    for csv in sorted(sample_dir.glob("*.csv")):
        con.execute(
            f"CREATE TABLE {csv.stem} AS SELECT * FROM read_csv('{csv}', all_varchar = true)"
        )
    con.close()
    return path


@pytest.fixture(scope="module")
def build(source, tmp_path_factory):
    """``build({page: code}, formats)``: a pack of those pages, and its outcomes by page.
    After each build no process it started is left (kernels, Chromium, workers)."""
    root = tmp_path_factory.mktemp("workers")
    count = itertools.count(1)

    def run(pages: dict[str, str], formats: tuple[str, ...] = ("html",)):
        folder = root / f"pages-{next(count)}"
        folder.mkdir()
        for name, code in pages.items():
            _page(folder / f"{name}.ipynb", code)
        mark = uuid.uuid4().hex
        os.environ[MARK] = mark
        try:
            path, outcomes = build_pack(
                SAMPLE_END,
                scopes="company",
                families=list(pages),
                formats=formats,
                jobs=1,
                out=root / "reports",
                source=str(source),
                notebooks=folder,
                progress=False,
            )
        finally:
            del os.environ[MARK]
        deadline = time.monotonic() + 15
        while _marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _marked(mark) == [], "the workers left processes running"
        return path, {o.family: o for o in outcomes}

    return run


def _printed(month: Path, page: str) -> str:
    """What the page printed (its executed notebook's stream outputs)."""
    nb = nbformat.read(month / "company" / "notebooks" / f"{page}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def _kernel_pid(month: Path, page: str) -> int:
    return int(re.search(r"kernel pid (\d+)", _printed(month, page)).group(1))


LEAK = (
    "import builtins\n"
    "builtins.kit_leak = 'left by a_fail'  # no reset of the namespace removes this\n"
    + PID
    + "\nraise ValueError('a_fail broke on purpose')"
)
AFTER = PID + "\nimport builtins\nprint('leak:', getattr(builtins, 'kit_leak', 'none'))"


def test_a_failed_page_takes_its_kernel_along_and_links_its_log(build):
    month, outcomes = build({"a_fail": LEAK, "b_after": AFTER})
    assert not outcomes["a_fail"].ok
    assert outcomes["a_fail"].error == "ValueError: a_fail broke on purpose"
    assert outcomes["b_after"].ok, outcomes["b_after"].error
    # the next page in the same worker runs in a new kernel: the global is gone
    assert "leak: none" in _printed(month, "b_after")
    assert _kernel_pid(month, "b_after") != _kernel_pid(month, "a_fail")

    index = (month / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a class="log" href="([^"]+)">worker log</a>', index)
    assert links == ["build/worker-1.log"]  # the failed page's entry only
    log = (month / links[0]).read_text(encoding="utf-8")
    assert "FAILED company a_fail: ValueError: a_fail broke on purpose" in log
    assert "raise ValueError('a_fail broke on purpose')" in log  # the traceback too
    assert "company b_after: ok" in log


# Run in the kernel, whose parent is the worker: SIGKILL every Chromium process the
# worker started (the browser that printed a_first's PDF).
KILL = """\
import os, signal
worker, parent = os.getppid(), {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            parent[int(pid)] = int(fh.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        pass
def started_by_worker(pid):
    while pid > 1:
        pid = parent.get(pid, 0)
        if pid == worker:
            return True
    return False
killed = 0
for pid in parent:
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        continue
    if "chrom" in exe and started_by_worker(pid):
        os.kill(pid, signal.SIGKILL)
        killed += 1
print("killed chromium processes:", killed)
"""


@needs_chromium
def test_a_killed_browser_is_replaced_for_the_next_pdf(build):
    month, outcomes = build({"a_first": PID, "b_kill": KILL}, formats=("html", "pdf"))
    assert all(o.ok for o in outcomes.values()), [o.error for o in outcomes.values()]
    killed = re.search(r"killed chromium processes: (\d+)", _printed(month, "b_kill"))
    assert int(killed.group(1)) >= 1  # a_first's browser was there, and was killed
    for page in ("a_first", "b_kill"):
        assert len(PdfReader(month / "company" / f"{page}.pdf").pages) >= 1
    assert len(PdfReader(month / "company" / "pack.pdf").pages) >= 2


def test_a_kernel_is_replaced_after_25_pages(build):
    names = [f"p{i:02d}" for i in range(1, KERNEL_PAGES + 2)]
    month, outcomes = build(dict.fromkeys(names, PID))
    assert KERNEL_PAGES == 25 and all(o.ok for o in outcomes.values())
    pids = [_kernel_pid(month, n) for n in names]
    assert len(set(pids[:KERNEL_PAGES])) == 1  # one warm kernel for the first 25 pages
    assert pids[KERNEL_PAGES] != pids[0]  # and a new one for the 26th
    # the worker closes papermill's client of each page: its open files stay flat (a
    # client left open costs a dozen sockets a page, 200 more by the 25th page)
    fds = [int(re.search(r"worker fds (\d+)", _printed(month, n)).group(1)) for n in names]
    assert max(fds[2:KERNEL_PAGES]) - fds[2] <= 4, fds


# Run in the kernel: which of its ancestors (the worker, the build) has the source open.
HOLDERS = """\
import os
pid, holders = os.getpid(), []
while pid > 1:
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == source:
                holders.append(pid)
        except OSError:
            pass
    with open(f"/proc/{pid}/stat") as fh:
        pid = int(fh.read().rsplit(")", 1)[1].split()[1])
print("source open in:", holders or "none")
"""


def _open_in_this_process(path: Path) -> bool:
    fds = Path("/proc/self/fd")
    return any(os.readlink(fd) == str(path) for fd in fds.iterdir() if fd.is_symlink())


def test_the_pages_run_after_the_build_closed_the_source(build, source):
    month, outcomes = build({"holders": HOLDERS})
    assert outcomes["holders"].ok, outcomes["holders"].error
    assert "source open in: none" in _printed(month, "holders")
    assert not _open_in_this_process(source)  # nor once the build is done
    with open(source, "rb"):  # the check sees an open file
        assert _open_in_this_process(source)


@needs_chromium
def test_a_browser_that_failed_to_start_does_not_stop_the_next_pdf(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<h1>Revenue</h1>", encoding="utf-8")
    printer = Printer()
    try:
        with pytest.raises(Exception, match="no-such-chromium"):
            printer.print_pdf(page, tmp_path / "a.pdf", str(tmp_path / "no-such-chromium"))
        printer.print_pdf(page, tmp_path / "b.pdf", CHROMIUM)
        assert "Revenue" in PdfReader(tmp_path / "b.pdf").pages[0].extract_text()
    finally:
        printer.close()
    printer.close()  # twice is fine
    assert printer.browser is None and not (tmp_path / "a.pdf").exists()
