"""The review pack, built for real: papermill runs every notebook, nbconvert renders them,
the system Chromium prints PDFs and opens the pages."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest
from conftest import ROOT, SAMPLE_END, free_port, write_tables
from kpi_fixture import tables
from markupsafe import escape
from pypdf import PdfReader

from kpi_helpers import kpis
from kpi_helpers.catalog import CATALOG, format_kpi, format_value, get
from kpi_helpers.cli import main
from kpi_helpers.core import KitError, kit_version, load_config
from kpi_helpers.data import open_dataset
from kpi_helpers.explore import lab_command
from kpi_helpers.explore.numbers import Numbers
from kpi_helpers.pack import build_pack, find_chromium, find_pages
from kpi_helpers.report import (
    HEADLINES,
    PACK_FAMILIES,
    TITLES,
    Snapshot,
    beyond_usual,
    summary_headlines,
)

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: apt-get install chromium (.ci/run does)"
)
TEAM = "Partners & Alliances"  # a name with a character that must be escaped and slugged


def test_notebooks_are_stored_without_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code), path.name
        assert "parameters" in code[0].metadata.get("tags", []), path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    # the pages, and the explorer (not a page: kpi-kit explore opens it)
    assert {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")} == {*PACK_FAMILIES, "explore"}


@pytest.fixture(scope="module")
def pack(sample_dir, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no Chromium")
    out = tmp_path_factory.mktemp("reports")
    (out / "2001-01").mkdir()  # another month: must survive
    (out / "2001-01" / "index.html").write_text("old pack")
    # an alert rule that fires for every team; months in Berlin time (the sample's
    # timestamps have no zone: taken as Berlin's, the numbers are the same as in UTC)
    config = out / "kpi.toml"
    config.write_text('timezone = "Europe/Berlin"\n' + ALERT_RULES, encoding="utf-8")
    path, outcomes = build_pack(
        SAMPLE_END,
        scopes=f"company,team:{TEAM}",
        jobs=2,
        out=out,
        source=str(sample_dir),
        config=str(config),
        progress=False,
    )
    return path, outcomes


ALERT_RULES = '[[alerts]]\nkpi = "new_leads"\nscope = "team:*"\nabove = 0\n'


def pack_cli(**options) -> int:
    """``kpi-kit pack --name value ...``, as the command line runs it."""
    return main(["pack", *[x for k, v in options.items() for x in (f"--{k}", str(v))]])


def _pages(path: Path) -> list[Path]:
    return sorted(path.glob("*/*.html"))


@needs_chromium
def test_every_notebook_ran_for_company_and_team(pack):
    path, outcomes = pack
    assert len(outcomes) == 2 * len(PACK_FAMILIES)
    assert all(o.ok for o in outcomes), [(o.scope, o.family, o.error) for o in outcomes]
    assert sorted(p.name for p in path.iterdir()) == [
        "build",
        "build.json",
        "company",
        "data",
        "index.html",
        "team-partners-alliances",
    ]
    assert sorted(p.name for p in (path / "build").iterdir()) == ["worker-1.log", "worker-2.log"]
    assert "worker log" not in (path / "index.html").read_text()  # no page failed
    for folder in ("company", "team-partners-alliances"):
        for fam in PACK_FAMILIES:
            assert (path / folder / f"{fam}.html").exists()
            assert (path / folder / "notebooks" / f"{fam}.ipynb").exists()
    assert (path.parent / "2001-01" / "index.html").read_text() == "old pack"
    assert not list(path.parent.glob(".build-*"))  # the temporary build folder is gone


@needs_chromium
def test_pages_show_no_code_and_load_nothing_from_the_network(pack):
    path, _ = pack
    for page in _pages(path):
        text = page.read_text(encoding="utf-8")
        assert "Report(" not in text and "import " not in text, page  # no input cells
        assert "jp-InputArea" not in text and "In&nbsp;[" not in text
        assert "<script" not in text.lower(), page
        assert not re.search(r'(src|href)\s*=\s*["\']?https?://', text), page
        assert "url(http" not in text
        images = re.findall(r"<img [^>]*src=\"([^\"]+)\"", text)
        assert images and all(i.startswith("data:image/png;base64,") for i in images), page
        assert "month = " not in text  # neither parameters cell is shown


@needs_chromium
def test_every_kpi_of_the_family_is_present_or_na_with_reason(pack):
    path, _ = pack
    for fam in PACK_FAMILIES[1:]:
        text = (path / "company" / f"{fam}.html").read_text(encoding="utf-8")
        table = text.split('<table class="kpis">', 1)[1].split("</table>", 1)[0]
        # a KPI the data cannot give has no row: the line under the table names it
        line = text.split("</table>", 1)[1].split('<p class="missing">', 1)[-1].split("</p>")[0]
        for k in CATALOG:
            if k.family == fam and not k.alias_of and not k.is_table:
                name = html.escape(k.name)
                assert f"<td>{name}</td>" in table or name in line, (fam, k.id)
        for k in CATALOG:  # definitions of every KPI, aliases and tables included
            if k.family == fam:
                assert f"<code>{k.id}</code>" in text, (fam, k.id)
    team = (path / "team-partners-alliances" / "profitability.html").read_text()
    assert "Not available from this data:" in team and "financials are company-wide" in team


@needs_chromium
def test_team_name_is_escaped_in_the_header(pack):
    path, _ = pack
    text = (path / "team-partners-alliances" / "summary.html").read_text(encoding="utf-8")
    assert "Team Partners &amp; Alliances" in text
    assert "Team Partners & Alliances" not in text
    meta = json.loads((path / "data" / "snapshot.json").read_text())
    assert f"data through {meta['data_through']} · months in Europe/Berlin time" in text


@needs_chromium
def test_pdfs_exist_and_have_pages(pack):
    path, _ = pack
    for folder in ("company", "team-partners-alliances"):
        for name in [f"{f}.pdf" for f in PACK_FAMILIES] + ["pack.pdf"]:
            data = (path / folder / name).read_bytes()
            assert data.startswith(b"%PDF"), name
            pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
            assert pages >= 1, name
        # the scope's PDF is its pages' PDFs merged: every page, in the pack's order
        parts = [PdfReader(path / folder / f"{f}.pdf") for f in PACK_FAMILIES]
        whole = PdfReader(path / folder / "pack.pdf")
        assert len(whole.pages) == sum(len(p.pages) for p in parts)
        first_lines = [p.pages[0].extract_text().split("\n")[0] for p in parts]
        starts = [sum(len(p.pages) for p in parts[:i]) for i in range(len(parts))]
        assert [whole.pages[i].extract_text().split("\n")[0] for i in starts] == first_lines


@needs_chromium
def test_index_lists_every_scope_and_family_summary_first(pack):
    path, _ = pack
    text = (path / "index.html").read_text(encoding="utf-8")
    assert text.index("Executive summary") < text.index("Revenue and growth")
    for folder in ("company", "team-partners-alliances"):
        for fam in PACK_FAMILIES:
            assert f'href="{folder}/{fam}.html"' in text and f'href="{folder}/{fam}.pdf"' in text
    assert "Team Partners &amp; Alliances" in text and "0 failed notebook(s)" in text
    assert "Sales revenue:" in text


@needs_chromium
def test_pages_render_in_chromium_without_errors(pack):
    from playwright.sync_api import sync_playwright

    path, _ = pack
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for page_path in (
            path / "index.html",
            path / "company" / "pipeline.html",
            path / "team-partners-alliances" / "subscription.html",
        ):
            page = browser.new_page()
            errors, requests = [], []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert errors == [], (page_path, errors)
            assert all(w > 0 for w in widths), page_path
            if page_path.name != "index.html":
                assert widths, page_path
            assert not [u for u in requests if u.startswith(("http://", "https://"))]
            page.close()
        browser.close()


@needs_chromium
def test_executed_notebooks_are_kept_for_audit(pack):
    path, _ = pack
    nb = nbformat.read(path / "company" / "notebooks" / "pipeline.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and f'month = "{SAMPLE_END}"' in injected[0].source
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


# ------------------------------------------------------------------ failure and safety


def test_pdf_without_chromium_fails_before_any_work(sample_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_KIT_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(KitError, match="PDF needs a Chromium browser.*apt-get install chromium"):
        build_pack(
            SAMPLE_END,
            scopes="company",
            formats=("html", "pdf"),
            out=tmp_path / "r",
            source=str(sample_dir),
            progress=False,
        )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--month", "2099-01"], "No data for 2099-01"),
        (["--month", SAMPLE_END, "--scopes", "team:Atlantis"], "Unknown team 'Atlantis'"),
        (["--month", SAMPLE_END, "--families", "gossip"], "Unknown page 'gossip'"),
        (["--month", SAMPLE_END, "--formats", "docx"], "--formats takes html and/or pdf"),
    ],
)
def test_bad_requests_fail_before_work_and_keep_the_old_pack(
    sample_dir, tmp_path, capsys, args, message
):
    old = tmp_path / "reports" / SAMPLE_END
    old.mkdir(parents=True)
    (old / "index.html").write_text("previous pack")
    code = main(
        [
            "pack",
            *args,
            "--formats" if "--formats" not in args else "--jobs",
            "html" if "--formats" not in args else "1",
            "--out",
            str(tmp_path / "reports"),
            "--source",
            str(sample_dir),
        ]
    )
    assert code == 2 and message in capsys.readouterr().err
    assert (old / "index.html").read_text() == "previous pack"
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [SAMPLE_END]


def test_names_from_the_data_are_escaped(tmp_path):
    t = tables()
    t["reps"].loc[0, "rep_name"] = '<img src=x onerror=alert(1)> "Ana"'
    t["accounts"].loc[0, "account_name"] = "<script>alert('acme')</script>"
    src = write_tables(tmp_path / "data", t)
    path, outcomes = build_pack(
        "2026-03",
        scopes="company",
        families=["team", "profitability"],
        formats=("html",),
        out=tmp_path / "reports",
        source=str(src),
        progress=False,
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    team = (path / "company" / "team.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in team and "<img src=x" not in team
    profit = (path / "company" / "profitability.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert('acme')&lt;/script&gt;" in profit
    assert "<script>" not in profit


def test_database_password_never_reaches_the_pack(postgres_url, sample_dir, tmp_path):
    import ibis

    from kpi_helpers.data import open_dataset

    ds = open_dataset(sample_dir)
    con = ibis.connect(postgres_url)
    for name in ds.tables:
        con.create_table(name, ds.frame(name), overwrite=True)
    path, outcomes = build_pack(
        SAMPLE_END,
        scopes="company",
        families=["summary"],
        formats=("html",),
        out=tmp_path / "r",
        source=postgres_url,
        progress=False,
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    password = "kit-secret-pw"
    for f in path.rglob("*"):
        if f.is_file():
            assert password not in f.read_text(encoding="utf-8", errors="replace"), f
    nb = nbformat.read(path / "company" / "notebooks" / "summary.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'source = ""' in injected.source  # pages read the snapshot: no URL, no variable
    assert "postgresql" not in json.dumps(nb)
    assert "postgresql://kit:***@127.0.0.1:" in (path / "company" / "summary.html").read_text()


def test_titles_cover_every_notebook():
    assert set(TITLES) == set(PACK_FAMILIES)


# ------------------------------------------------------------------ one computation per pack

CARD = re.compile(r'<div class="name">([^<]*)</div><div class="value">([^<]*)</div>')


def _scope_of(folder: str) -> str:
    return "company" if folder == "company" else f"team:{TEAM}"


@needs_chromium
def test_pages_show_the_numbers_compute_gives(pack, sample_dir):
    path, _ = pack
    ds = open_dataset(sample_dir)
    for folder in ("company", "team-partners-alliances"):
        ids = sorted({k for fam in PACK_FAMILIES for k in HEADLINES[fam]})
        live = kpis.compute(ds, SAMPLE_END, scope=_scope_of(folder), kpis=ids).set_index("kpi")
        for fam in PACK_FAMILIES:
            cards = dict(CARD.findall((path / folder / f"{fam}.html").read_text("utf-8")))
            for kpi in HEADLINES[fam]:
                k, row = get(kpi), live.loc[kpi]
                if row["status"] == "ok":
                    assert cards[html.escape(k.name)] == format_kpi(k, row["value"])
                else:
                    assert html.escape(k.name) not in cards  # an n/a card has no value
    # the index reads the same snapshot: its headline equals the page's card
    index = (path / "index.html").read_text("utf-8")
    revenue = dict(CARD.findall((path / "company" / "revenue.html").read_text("utf-8")))
    assert f"Sales revenue: <b>{revenue['Sales revenue']}</b>" in index


@needs_chromium
def test_snapshot_describes_the_data_without_secrets(pack, sample_dir):
    path, _ = pack
    meta = json.loads((path / "data" / "snapshot.json").read_text())
    assert meta["month"] == SAMPLE_END and set(meta["scopes"]) == {"company", f"team:{TEAM}"}
    deals = pd.read_csv(sample_dir / "opportunities.csv")
    assert meta["row_counts"]["opportunities"] == len(deals)
    assert len(meta["fingerprint"]) == 64 and meta["kit_version"] == kit_version()
    assert meta["data_through"] <= pd.Timestamp(SAMPLE_END).strftime("%Y-%m-31")
    assert meta["timezone"] == "Europe/Berlin"  # kpi.toml's: the zone the months end in
    rows = pd.read_parquet(path / "data" / "kpis.parquet")
    assert set(rows["month"]) == {
        str(p) for p in pd.period_range(end=SAMPLE_END, periods=13, freq="M")
    }


@needs_chromium
def test_csv_links_resolve_to_the_values_shown(pack):
    path, _ = pack
    links = 0
    for page in _pages(path):
        text = page.read_text("utf-8")
        for href in re.findall(r'href="([^"]+\.csv)"', text):
            target = (page.parent / href).resolve()
            assert target.is_file() and path.resolve() in target.parents, (page, href)
            links += 1
        # every data table is followed by the link to its CSV, which holds its rows
        for table, href in re.findall(
            r'<table class="data">(.*?)</table>(?:<p class="more">[^<]*</p>)?'
            r'<p class="data-link"><a href="([^"]+)"',
            text,
            flags=re.S,
        ):
            csv = pd.read_csv(page.parent / href, dtype=str, keep_default_na=False)
            shown = [html.unescape(c) for c in re.findall(r"<tr><td>([^<]*)</td>", table)]
            # the first column shown (a name where the CSV has the id first) is in the CSV
            assert shown and any(set(shown) <= set(csv[c]) for c in csv), (page, href)
    assert links > 50
    # the cards' values are in the scope's KPI CSV
    kpi_csv = pd.read_csv(path / "data" / "company" / "kpis.csv")
    now = kpi_csv[kpi_csv["month"] == SAMPLE_END].set_index("kpi")
    cards = dict(CARD.findall((path / "company" / "pipeline.html").read_text("utf-8")))
    k = get("win_rate")
    assert cards[k.name] == format_value(now.loc["win_rate", "value"], k.unit)


def _notebook(path: Path, code: list[str], title: str | None, parameters: bool = True) -> None:
    cells = [nbformat.v4.new_markdown_cell(f"# {title}")] if title else []
    params = nbformat.v4.new_code_cell(
        'month = "latest"\nscope = "company"\nsource = "../data/sample"\nsnapshot = ""'
    )
    if parameters:
        params.metadata["tags"] = ["parameters"]
    cells += [params] + [nbformat.v4.new_code_cell(c) for c in code]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


# the README's example of a custom page, plus two probes
PROBE = [
    "import sys\n"
    "from kpi_helpers import charts\n"
    "from kpi_helpers.report.notebook import Report\n"
    'report = Report("revenue", month=month, scope=scope, source=source, snapshot=snapshot)\n'
    'report.title("Revenue by product")',
    'products = report.table("product_performance")\n'
    'report.show(charts.bar_chart(products["product"], products["revenue"],\n'
    '            "Revenue by product", "currency"), data="product_performance")\n'
    'report.show_table(products, money=("revenue",))',
    "report.cards()",
    'print("ibis loaded:", "ibis" in sys.modules)',
]


DIRTY = [
    "import os, sys, matplotlib, pandas as pd\n"
    'os.environ["KIT_LEAK"] = "1"; sys.path.append("/leak"); os.chdir("/")\n'
    'matplotlib.rcParams["lines.linewidth"] = 9; pd.set_option("display.max_rows", 3)\n'
    "leaked = 42",
]
CHECK = [
    "import os, sys, matplotlib, pandas as pd\n"
    "found = [name for name, bad in [\n"
    '    ("environment", "KIT_LEAK" in os.environ), ("path", "/leak" in sys.path),\n'
    '    ("folder", os.getcwd() == "/"), ("namespace", "leaked" in globals()),\n'
    '    ("matplotlib", matplotlib.rcParams["lines.linewidth"] == 9),\n'
    '    ("pandas", pd.get_option("display.max_rows") == 3)] if bad]\n'
    'print("leaks:", found or "none")',
]


@pytest.fixture(scope="module")
def custom_pack(sample_dir, tmp_path_factory):
    """One build (one data step) for the tests of pages beyond the kit's own: from a
    relative working folder into ``packs`` (kpi.toml's ``output``, no --out), with the
    kit's pages taken from a copy (KPI_KIT_NOTEBOOKS) whose pipeline page raises, and
    custom pages (--notebooks): the README's example with two probes, a page that dirties
    its kernel and one that looks for the dirt, and a scratch notebook that is no page.
    One worker (jobs 1): every page runs in the same kernel, in the order asked. The
    source is a copy of the sample, which a test deletes afterwards."""
    root = tmp_path_factory.mktemp("custom")
    source = root / "export"
    shutil.copytree(sample_dir, source)
    kit = root / "kit-notebooks"
    shutil.copytree(ROOT / "notebooks", kit)
    nb = nbformat.read(kit / "pipeline.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("pipeline exploded")'))
    nbformat.write(nb, kit / "pipeline.ipynb")
    custom = root / "pages"
    custom.mkdir()
    _notebook(custom / "regional_bookings.ipynb", PROBE, "Bookings by region")
    _notebook(custom / "scratch.ipynb", ["1 / 0"], None, parameters=False)  # not a page
    _notebook(custom / "a_dirty.ipynb", DIRTY, "Dirty")
    _notebook(custom / "b_check.ipynb", CHECK, "Check")
    (root / "kpi.toml").write_text('output = "packs"\n', encoding="utf-8")
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err):
        patch.chdir(root)
        patch.setenv("KPI_KIT_NOTEBOOKS", str(kit))
        code = pack_cli(
            month=SAMPLE_END,
            scopes="company",
            families="summary,pipeline,team,revenue,regional_bookings,a_dirty,b_check",
            formats="html",
            config="kpi.toml",
            notebooks=custom,
            source=source,
            jobs=1,
        )
    return root, code, err.getvalue()


def test_a_relative_out_folder_works_like_make_demo(custom_pack):
    """``make demo`` packs into ``reports`` (relative), and ``output`` in kpi.toml names
    such a folder without --out: kernels change folder between pages, so every path the
    runner hands them must be absolute."""
    root, code, err = custom_pack
    assert code == 1 and err.count("FAILED") == 1  # the pipeline page only, on purpose
    pages = {p.stem for p in (root / "packs" / SAMPLE_END / "company").glob("*.html")}
    assert pages == {"summary", "pipeline", "team", "revenue", "regional_bookings"} | {
        "a_dirty",
        "b_check",
    }
    assert not (root / "reports").exists()


def test_a_failed_notebook_does_not_stop_the_others(custom_pack):
    root, code, err = custom_pack
    assert code == 1
    month = root / "packs" / SAMPLE_END
    log = month / "build" / "worker-1.log"  # one worker ran every page (jobs 1)
    assert f"FAILED company pipeline: RuntimeError: pipeline exploded (log: {log})" in err
    assert err.count("FAILED") == 1
    assert "FAILED company pipeline: RuntimeError: pipeline exploded" in log.read_text()
    assert (month / "company" / "summary.html").exists()
    kept = nbformat.read(month / "company" / "notebooks" / "pipeline.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in kept.cells for o in c.get("outputs", []))
    index = (month / "index.html").read_text()
    assert "1 failed notebook(s)" in index and "pipeline exploded" in index
    assert '<a class="log" href="build/worker-1.log">worker log</a>' in index
    assert "This section could not be computed" in (month / "company" / "pipeline.html").read_text()


def test_pages_sharing_a_kernel_do_not_share_state(custom_pack):
    """The dirty page changed the environment, sys.path, the folder, the namespace,
    matplotlib and pandas; the next page in the same kernel sees none of it."""
    root, _, _ = custom_pack
    page = root / "packs" / SAMPLE_END / "company" / "b_check.html"
    assert "leaks: none" in page.read_text("utf-8")


def test_custom_pages_join_the_pack_and_pages_outlive_the_source(custom_pack, tmp_path):
    root, _, _ = custom_pack
    source = root / "export"
    month = root / "packs" / SAMPLE_END
    page = (month / "company" / "regional_bookings.html").read_text("utf-8")
    assert "ibis loaded: False" in page  # drawn from the snapshot: the engine never loaded
    assert "Revenue by product" in page and "data:image/png" in page
    assert page.count('href="../data/company/product_performance.csv"') == 2  # chart, table
    revenue = dict(CARD.findall((month / "company" / "revenue.html").read_text("utf-8")))
    assert dict(CARD.findall(page)) == revenue  # same numbers on both pages
    index = (month / "index.html").read_text("utf-8")
    assert "Bookings by region" in index and 'href="company/regional_bookings.html"' in index
    assert index.index("Revenue and growth") < index.index("Bookings by region")
    assert not (month / "company" / "scratch.html").exists()

    # the source is gone: a page still renders from the snapshot, with the same numbers
    shutil.rmtree(source)
    out = tmp_path / "again.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "revenue.ipynb"),
        str(out),
        parameters=dict(
            month=SAMPLE_END, scope="company", source=str(source), snapshot=str(month / "data")
        ),
        cwd=str(tmp_path),
        progress_bar=False,
    )
    html_out = "".join(
        o.get("data", {}).get("text/html", "")
        for c in nbformat.read(out, as_version=4).cells
        for o in c.get("outputs", [])
    )
    assert dict(CARD.findall(html_out)) == revenue

    # a notebook kept for audit re-runs where it lies: its snapshot is ../../data
    kept = month / "company" / "notebooks" / "revenue.ipynb"
    pm.execute_notebook(str(kept), str(tmp_path / "rerun.ipynb"), cwd=str(kept.parent))
    rerun = nbformat.read(tmp_path / "rerun.ipynb", as_version=4)
    html_rerun = "".join(
        o.get("data", {}).get("text/html", "") for c in rerun.cells for o in c.get("outputs", [])
    )
    assert dict(CARD.findall(html_rerun)) == revenue


@needs_chromium
def test_snapshot_tables_read_back_as_computed(pack, sample_dir):
    from kpi_helpers.pack import TABLE_NAMES
    from kpi_helpers.report import Snapshot
    from kpi_helpers.report.live import LiveData

    path, _ = pack
    snap = Snapshot(path / "data")
    live = LiveData(str(sample_dir), month=SAMPLE_END)
    for scope in snap.scopes:
        for name in TABLE_NAMES:
            try:
                expected = live.table(name, scope)
            except KitError as exc:
                with pytest.raises(KitError, match=re.escape(str(exc))):
                    snap.table(name, scope)
                continue
            pd.testing.assert_frame_equal(snap.table(name, scope), expected, obj=name)


def test_pages_are_the_kit_notebooks_overlaid_by_custom_ones(tmp_path):
    for name in ("zeta", "alpha", "summary"):
        _notebook(tmp_path / f"{name}.ipynb", ["pass"], f"My {name}")
    _notebook(tmp_path / "draft.ipynb", ["pass"], "Draft", parameters=False)
    pages = find_pages(tmp_path)
    assert [p.name for p in pages] == [*PACK_FAMILIES, "alpha", "zeta"]
    assert pages[0].notebook == str(tmp_path / "summary.ipynb")  # replaces the kit's
    assert pages[1].notebook == str(ROOT / "notebooks" / "revenue.ipynb")
    assert pages[-1].title == "My zeta"
    (tmp_path / "pack.ipynb").write_text((tmp_path / "zeta.ipynb").read_text())
    with pytest.raises(KitError, match="not pack or index"):
        find_pages(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(KitError, match="no notebook there has a cell tagged `parameters`"):
        find_pages(tmp_path / "empty")


def test_only_the_kits_pages_come_from_its_folder(tmp_path, monkeypatch):
    kit = tmp_path / "kit"
    shutil.copytree(ROOT / "notebooks", kit)
    shutil.copy(kit / "team.ipynb", kit / "Untitled.ipynb")  # what JupyterLab leaves behind
    monkeypatch.setenv("KPI_KIT_NOTEBOOKS", str(kit))
    assert [p.name for p in find_pages()] == list(PACK_FAMILIES)


def test_pack_notebooks_setting(tmp_path):
    cfg = tmp_path / "kpi.toml"
    cfg.write_text('[pack]\nnotebooks = "my_pages"\n')
    assert load_config(cfg).pack_notebooks == "my_pages"
    cfg.write_text('[pack]\nnotbooks = "typo"\n')
    with pytest.raises(KitError, match=r"unknown setting \[pack\] 'notbooks'"):
        load_config(cfg)


@needs_chromium
def test_alerts_reach_the_snapshot_the_summary_pages_and_the_index(pack):
    path, _ = pack
    data = json.loads((path / "data" / "alerts.json").read_text("utf-8"))
    assert data["month"] == SAMPLE_END
    assert data["rules"] == ["Lead delivery (new leads), every team: above 0"]
    # every team of the data, not only those of the pack
    assert [a["scope"] for a in data["alerts"]] == [
        "team:APAC",
        "team:EMEA",
        "team:Mid-Market",
        "team:North America",
        f"team:{TEAM}",
    ]
    ours = data["alerts"][-1]
    line = f"{ours['value_text']} — above 0"
    team = (path / "team-partners-alliances" / "summary.html").read_text("utf-8")
    assert f"Lead delivery (new leads)</strong> · Team Partners &amp; Alliances: {line}" in team
    assert "Team EMEA" not in team  # another team's alert is not on this team's page
    # with why it moved (its top drivers), on the page as in alerts.json
    assert ours["why"].startswith("Lead delivery (new leads) ") and ours["drivers"]
    assert f'<span class="alert-why">{escape(ours["why"])}</span>' in team
    company = (path / "company" / "summary.html").read_text("utf-8")
    assert "No alerts for the company this month (1 rule checked)." in company
    assert "5 alerts for teams and reps" in company
    index = (path / "index.html").read_text("utf-8")
    assert "Alerts this month (5)" in index
    assert (
        '<a href="team-partners-alliances/summary.html">Team Partners &amp; Alliances</a> · '
        f"<strong>Lead delivery (new leads)</strong>: {line}" in index
    )
    assert '<a href="company/summary.html">Team EMEA</a>' in index  # no page: the company's
    assert "Partners & Alliances" not in index.replace(f"team:{TEAM}", "")


def test_outlook_page_and_the_summary_forecast_line(pack):
    path, outcomes = pack
    assert all(o.ok for o in outcomes if o.family == "outlook")
    page = (path / "company" / "outlook.html").read_text("utf-8")
    for section in ("Forecasts", "bookings", "Customer lifetime value", "Top accounts", "At risk"):
        assert section in page, section
    # the method behind each forecast is named in its table
    assert re.search(r"ETS\(A,[NA]d?,[NAM]\)|seasonal naive|naive", page)
    # under each chart: how its interval was made and its track record
    assert re.search(r"80 % interval: (conformal \(\d+ (pooled )?windows\)|model)", page)
    assert re.search(r"Track record: the 80 % interval held \d+ of the last 12 months", page)
    summary = (path / "company" / "summary.html").read_text("utf-8")
    line = re.search(
        r"Sales revenue forecast for next month \(([^)]*)\): \$[\d,]+ \(80 %: \$[\d,]+–\$[\d,]+\)",
        summary,
    )
    assert line, "the summary names next month's revenue forecast with its interval"


@needs_chromium
def test_the_explorer_shows_the_packs_numbers(pack):
    """Issue 18: every headline card of every page of the pack, drawn by the explorer for
    its scope, is the page's card to the character (value, changes, target, RAG); each
    rep (no pages) shows its snapshot row as the pages format it; the index names the
    command that opens the explorer on this pack."""
    path, _ = pack
    numbers = Numbers(Snapshot(path / "data"))
    month = numbers.month
    by_name = {html.escape(k.name): k.id for k in CATALOG}
    seen = 0
    for folder, scope in (("company", "company"), ("team-partners-alliances", f"team:{TEAM}")):
        for fam in PACK_FAMILIES:
            page = (path / folder / f"{fam}.html").read_text("utf-8")
            for name, value in CARD.findall(page):
                kpi = by_name[name]
                assert numbers.value_text(scope, month, kpi) == value, (scope, kpi)
                cards = numbers.card_html(scope, month, kpi)  # <div class="cards">CARD</div>
                card = cards.removeprefix('<div class="cards">').removesuffix("</div>")
                assert card.startswith('<div class="card rag-'), card
                # the page's HTML writer drops a class's trailing space ("change " of a
                # change without a tone)
                assert re.sub(r' +"', '"', card) in page, (scope, kpi)
                seen += 1
    assert seen > 40
    reps = Snapshot(path / "data").rep_kpis()
    now = reps[reps["month"] == month]
    assert set(reps["key"]) == set(numbers.snap.reps) and len(numbers.snap.reps) > 5
    for (key, kpi), row in now.set_index(["key", "kpi"]).iterrows():
        if kpi in HEADLINES["summary"] and row["status"] == "ok":
            assert numbers.value_text(key, month, kpi) == format_kpi(get(kpi), row["value"])
    index = (path / "index.html").read_text("utf-8")
    assert "Explore these numbers in JupyterLab: <code>kpi-kit explore " in index
    assert f"kpi-kit explore {path.resolve().as_posix()}</code>" in index


@pytest.fixture(scope="module")
def lab(pack, tmp_path_factory):
    """One real JupyterLab server for the module, on 127.0.0.1 with a token, started as
    ``kpi-kit explore`` starts it (on the sample pack); its URL."""
    path, _ = pack
    yield from lab_server(path, tmp_path_factory.mktemp("lab"))


def lab_server(path: Path, home: Path):
    port, token = free_port(), secrets.token_hex(16)
    argv, env, _ = lab_command(path, port=port, token=token, browser=False)
    settings = home / "settings"  # no news toast over the screenshot, no kernel dialog
    for plugin, values in (
        ("apputils-extension/notification", {"fetchNews": "false"}),
        ("notebook-extension/tracker", {"autoStartDefaultKernel": True}),
    ):
        (settings / "@jupyterlab" / plugin).parent.mkdir(parents=True, exist_ok=True)
        file = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        file.write_text(json.dumps(values), encoding="utf-8")
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "ws"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
    )
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                assert server.poll() is None, (home / "lab.log").read_text()
                time.sleep(0.1)
        yield f"{url}/lab/tree/explore.ipynb?token={token}"
    finally:
        server.terminate()
        server.wait(20)
        log.close()


@needs_chromium
def test_the_explorer_in_jupyterlab(pack, lab):
    """Issue 18 in a real browser: run explore.ipynb in JupyterLab, pick the team in
    ``Scope``, see its card, drill into its top rep, read the breadcrumb; the screenshot
    is docs/explore.png."""
    path, _ = pack
    explore_in_browser(lab, Snapshot(path / "data"), f"team:{TEAM}", ROOT / "docs" / "explore.png")


def explore_in_browser(url: str, snap: Snapshot, team: str, shot: Path | None) -> None:
    from playwright.sync_api import expect, sync_playwright

    numbers = Numbers(snap)
    rows = snap.kpis(team).set_index(["month", "kpi"])
    value = format_kpi(get("sales_revenue"), rows.loc[(snap.month, "sales_revenue"), "value"])
    top = numbers.breakdown(team, snap.month, "sales_revenue", "previous").iloc[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        try:
            page.goto(url)
            page.locator(".jp-Notebook").wait_for(timeout=60_000)
            # should JupyterLab ask for the kernel (the notebook names python3): take it
            select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
            explorer = page.locator(".kpi-explorer")

            def wait_for(what, seconds: float) -> None:
                deadline = time.monotonic() + seconds
                while not what.is_visible():
                    if select.is_visible():
                        select.click()
                    if time.monotonic() > deadline:
                        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
                        raise AssertionError(f"JupyterLab shows no {what}; outputs: {outputs}")
                    page.wait_for_timeout(300)

            wait_for(page.get_by_text("| Idle"), 60)  # the kernel is up
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            wait_for(explorer, 150)  # Ibis and the snapshot, on a busy CI
            t = 30_000  # ms: a redraw on a busy machine
            scope = explorer.get_by_label("Scope")
            for label in ("Month", "KPI", "Compare with"):
                expect(explorer.get_by_text(label, exact=True)).to_be_visible(timeout=t)
            title = explorer.locator(".pack-title")
            expect(title).to_contain_text("Company", timeout=t)
            scope.select_option(label=numbers.choices[team].label)
            expect(title).to_contain_text(f"Sales revenue {numbers.choices[team].label}", timeout=t)
            expect(explorer.locator(".card .value")).to_have_text(value, timeout=t)
            expect(explorer.locator(".bar-name").first).to_have_text(top["name"], timeout=t)
            if shot:
                explorer.screenshot(path=str(shot))
            explorer.locator(".bar-name").first.click()
            crumbs = explorer.locator(".crumb")
            expect(crumbs).to_have_text(["Company", team[5:], top["name"]], timeout=t)
            expect(title).to_contain_text(numbers.choices[top["scope"]].label, timeout=t)
        finally:
            browser.close()


@needs_chromium
def test_why_it_moved_is_read_from_the_snapshot_on_the_pages(pack):
    path, _ = pack
    data = json.loads((path / "data" / "drivers.json").read_text("utf-8"))
    assert data["month"] == SAMPLE_END and data["bases"] == ["previous", "year"]
    assert set(data["scopes"]) == {"company", f"team:{TEAM}"}
    snap = Snapshot(path / "data")
    company = snap.drivers("company")
    shown = summary_headlines(snap.kpis("company"), SAMPLE_END)
    assert set(shown) | set(HEADLINES["pipeline"]) <= set(company)
    bridged = [e for e in company.values() if e["bridge"]]
    assert bridged
    for e in bridged:  # the waterfall's steps add up to the change
        steps = sum(x for _, x in e["bridge"])
        assert abs(steps - e["change"]) <= 1e-9 * max(1.0, abs(e["change"])), e["kpi"]
    summary = (path / "company" / "summary.html").read_text("utf-8")
    assert "Why it moved" in summary and '<ul class="why-moved">' in summary
    first = next(company[k] for k in shown if company[k]["drivers"])
    assert escape(first["text"].removeprefix(first["name"])) in summary
    assert 'href="../data/company/drivers.csv"' in summary
    csv = pd.read_csv(path / "data" / "company" / "drivers.csv")
    assert {"kpi", "base", "dimension", "segment", "contribution"} <= set(csv.columns)
    pipeline = (path / "company" / "pipeline.html").read_text("utf-8")
    assert '<ul class="why-moved">' in pipeline
    # the index: the top driver beside each summary headline that moved beyond usual
    index = (path / "index.html").read_text("utf-8")
    rows = snap.kpis("company")
    unusual = [k for k in shown if beyond_usual(rows, k, SAMPLE_END) and company[k]["top"]]
    usual = [k for k in shown if k not in unusual and company[k]["top"]]
    assert unusual and usual, (unusual, usual)  # the sample has both
    for k in unusual:
        assert f"· {escape(company[k]['top'][0])}</span>" in index, k
    for k in usual:
        assert f"· {escape(company[k]['top'][0])}</span>" not in index, k


def test_summary_shows_quarter_to_date_and_the_pace(pack):
    """SAMPLE_END (2026-06) ends 2026-Q2: QTD is April..June, YTD January..June, and the
    pace of the quarter is its actual, against the sum of its three monthly targets."""
    path, _ = pack
    rows = pd.read_parquet(path / "data" / "kpis.parquet")
    rev = rows[(rows["key"] == "company") & (rows["kpi"] == "sales_revenue")].set_index("month")
    quarter = ["2026-04", "2026-05", "2026-06"]
    qtd, target = rev.loc[quarter, "value"].sum(), rev.loc[quarter, "target"].sum()
    before = rev.loc[quarter, "same_month_last_year"].sum()
    ytd = rev.loc[[f"2026-{m:02d}" for m in range(1, 7)], "value"].sum()
    money = lambda v: html.escape(format_value(v, "currency"))  # noqa: E731
    page = (path / "company" / "summary.html").read_text("utf-8")
    assert f'<span class="span">QTD</span> {money(qtd)} · a year before {money(before)}' in page
    assert f"· target {money(target)} · {qtd / target * 100:.0f} %" in page
    assert f'<span class="span">YTD</span> {money(ytd)}' in page
    assert (  # June ends the quarter: its actual, no pace
        f"Sales revenue: {money(qtd)} in 2026-Q2 against a {money(target)} target (the "
        "quarter's actual, 3 of 3 months)." in page
    )
    pace = json.loads((path / "data" / "pacing.json").read_text("utf-8"))
    assert {p["key"] for p in pace} == {"company", f"team:{TEAM}"}
