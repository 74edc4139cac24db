"""Incremental packs: a re-run of a month rebuilds only what changed, and a run that is
killed or runs beside another never damages the month's pack."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from conftest import SAMPLE_END

from kpi_helpers.core import KitError
from kpi_helpers.data.sample_data import generate
from kpi_helpers.pack import build_pack, read_build_log

SCOPES = "company"  # one scope and two pages, for speed: a page is rebuilt per (scope, page)
PAGES = ["revenue", "extra"]  # one kit page and one custom page


def _custom_page(folder: Path, note: str = "") -> None:
    """A custom page ``extra``: the revenue cards, and a note that the test can edit."""
    params = nbformat.v4.new_code_cell(
        'month = "latest"\nscope = "company"\nsource = ""\nsnapshot = ""'
    )
    params.metadata["tags"] = ["parameters"]
    cells = [
        nbformat.v4.new_markdown_cell("# Extra page"),
        params,
        nbformat.v4.new_code_cell(
            "from kpi_helpers.report.notebook import Report\n"
            'report = Report("revenue", month=month, scope=scope, source=source, '
            "snapshot=snapshot)\n"
            'report.title("Extra page")\nreport.cards()'
        ),
    ]
    if note:
        cells.append(nbformat.v4.new_markdown_cell(note))
    folder.mkdir(exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "extra.ipynb")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    # 14 months of the small sample: each of the test's data steps computes the catalog
    root = tmp_path_factory.mktemp("incremental")
    source = root / "export"
    generate(source, seed=11, scale="small", months=14, end_month=SAMPLE_END)
    _custom_page(root / "pages")
    return root, source


def _build(root: Path, source: Path, **options):
    return build_pack(
        SAMPLE_END,
        scopes=SCOPES,
        families=PAGES,
        formats=("html",),
        out=root / "reports",
        source=str(source),
        notebooks=root / "pages",
        progress=False,
        **options,
    )


def _reused(outcomes) -> dict[tuple[str, str], bool]:
    return {(o.scope, o.family): o.reused for o in outcomes}


def _files(month: Path) -> dict[str, bytes]:
    """Every page file of a month (HTML and executed notebook) by relative path."""
    return {
        str(p.relative_to(month)): p.read_bytes()
        for p in sorted(month.glob("*/*.html")) + sorted(month.glob("*/notebooks/*.ipynb"))
    }


def test_reruns_rebuild_only_what_changed(setup):
    root, source = setup
    month, first = _build(root, source)
    assert all(o.ok and not o.reused for o in first) and len(first) == 2
    log = read_build_log(month)
    assert log["data"]["reused"] is False and log["data"]["key"]
    pages_before = _files(month)
    inode = (month / "company" / "revenue.html").stat().st_ino

    # 1. the same request again: the data step and every page are taken over unchanged
    month, again = _build(root, source)
    assert all(o.ok and o.reused for o in again)
    assert read_build_log(month)["data"]["reused"] is True
    assert _files(month) == pages_before
    assert (month / "company" / "revenue.html").stat().st_ino == inode  # linked, not rebuilt
    index = (month / "index.html").read_text(encoding="utf-8")
    assert "2 of 2 page(s) reused" in index and "the data step was reused too" in index
    assert index.count("reused · built") == 2

    # 2. one edited notebook: only its page is built again
    _custom_page(root / "pages", note="Edited after the first build.")
    month, edited = _build(root, source)
    assert _reused(edited) == {("company", "revenue"): True, ("company", "extra"): False}
    assert "Edited after the first build." in (month / "company" / "extra.html").read_text()
    assert read_build_log(month)["data"]["reused"] is True

    # 3. a setting that changes no number but the pages' text: every page is rebuilt
    (root / "kpi.toml").write_text('currency = "EUR"\n', encoding="utf-8")
    month, euros = _build(root, source, config=str(root / "kpi.toml"))
    assert not any(o.reused for o in euros)
    assert "€" in (month / "company" / "revenue.html").read_text(encoding="utf-8")

    # 4. --force builds everything, data included
    month, forced = _build(root, source, force=True)
    assert not any(o.reused for o in forced)
    assert read_build_log(month)["data"]["reused"] is False

    # 5. a changed source: the data step runs again; the pages whose numbers moved
    # (every page shows the month's revenue) are rebuilt
    orders = source / "orders.csv"
    lines = orders.read_text(encoding="utf-8").splitlines(keepends=True)
    orders.write_text("".join(lines[:-1]), encoding="utf-8")  # the last order line removed
    month, changed = _build(root, source)
    assert read_build_log(month)["data"]["reused"] is False
    assert not any(o.reused for o in changed)


def test_a_failed_page_is_never_reused(setup, tmp_path):
    root, source = setup
    pages = tmp_path / "pages"
    pages.mkdir()
    params = nbformat.v4.new_code_cell('month = ""\nscope = ""\nsource = ""\nsnapshot = ""')
    params.metadata["tags"] = ["parameters"]
    cells = [nbformat.v4.new_markdown_cell("# Broken"), params, nbformat.v4.new_code_cell("1/0")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), pages / "broken.ipynb")
    for _ in range(2):
        _, outcomes = build_pack(
            SAMPLE_END,
            scopes="company",
            families=["broken"],
            formats=("html",),
            out=tmp_path / "reports",
            source=str(source),
            notebooks=pages,
            progress=False,
        )
        assert [(o.ok, o.reused) for o in outcomes] == [(False, False)]


def test_a_second_build_of_the_month_waits_for_none(setup, tmp_path):
    """While one build holds the month, another stops at once with a clear message."""
    root, source = setup
    out = tmp_path / "reports"
    out.mkdir()
    with open(out / f".lock-{SAMPLE_END}", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(KitError, match="Another kpi-kit pack is building"):
            build_pack(SAMPLE_END, scopes="company", out=out, source=str(source))
    assert not list(out.glob(f".build-{SAMPLE_END}-*")) and not (out / SAMPLE_END).exists()


def test_a_killed_run_leaves_the_previous_month_intact(setup):
    root, source = setup
    month, _ = _build(root, source)
    before = {p: p.read_bytes() for p in month.rglob("*") if p.is_file()}
    # a forced run, killed (SIGKILL, with its workers and kernels) once pages are running
    run = subprocess.Popen(
        [sys.executable, "-m", "kpi_helpers.cli", "pack", "--month", SAMPLE_END]
        + ["--scopes", SCOPES, "--families", ",".join(PAGES), "--formats", "html"]
        + ["--out", str(root / "reports"), "--source", str(source), "--force"]
        + ["--notebooks", str(root / "pages")],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not list((root / "reports").glob(f".build-{SAMPLE_END}-*/*/*/.work-*")):
            assert run.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never reached its pages"
            time.sleep(0.2)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert {p: p.read_bytes() for p in month.rglob("*") if p.is_file()} == before
    assert list((root / "reports").glob(f".build-{SAMPLE_END}-*"))  # what it left behind

    # the next run clears that away and still reuses the intact pack
    month, outcomes = _build(root, source)
    assert all(o.reused for o in outcomes)
    assert not list((root / "reports").glob(f".build-{SAMPLE_END}-*"))


def test_a_month_caught_between_the_two_renames_is_put_back(setup):
    """The swap renames the old month away, then the new one in: a kill between the two
    leaves the old pack in ``.old-<month>-*``; the next run puts it back and reuses it."""
    root, source = setup
    month, _ = _build(root, source)
    extra = (month / "company" / "extra.html").read_bytes()
    parked = root / "reports" / f".old-{SAMPLE_END}-killed"
    parked.mkdir()
    month.rename(parked / SAMPLE_END)
    month, outcomes = _build(root, source)
    assert all(o.reused for o in outcomes)
    assert not parked.exists()
    assert json.loads((month / "build.json").read_text())["data"]["reused"] is True
    assert (month / "company" / "extra.html").read_bytes() == extra
