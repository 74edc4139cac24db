"""The review pack, built for real: papermill runs every notebook, nbconvert renders them,
the system Chromium prints PDFs and opens the pages."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SAMPLE_END, write_tables
from kpi_fixture import tables

from kpi_helpers.cli import main
from kpi_helpers.errors import KitError
from kpi_helpers.notebook import TITLES
from kpi_helpers.pack import PACK_FAMILIES, build_pack, find_chromium
from kpi_helpers.registry import CATALOG

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
    assert {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")} == set(PACK_FAMILIES)


@pytest.fixture(scope="module")
def pack(sample_dir, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no Chromium")
    out = tmp_path_factory.mktemp("reports")
    (out / "2001-01").mkdir()  # another month: must survive
    (out / "2001-01" / "index.html").write_text("old pack")
    path, outcomes = build_pack(
        SAMPLE_END,
        scopes=f"company,team:{TEAM}",
        jobs=2,
        out=out,
        source=str(sample_dir),
        progress=False,
    )
    return path, outcomes


def _pages(path: Path) -> list[Path]:
    return sorted(path.glob("*/*.html"))


@needs_chromium
def test_every_notebook_ran_for_company_and_team(pack):
    path, outcomes = pack
    assert len(outcomes) == 2 * len(PACK_FAMILIES)
    assert all(o.ok for o in outcomes), [(o.scope, o.family, o.error) for o in outcomes]
    assert sorted(p.name for p in path.iterdir()) == [
        "company",
        "index.html",
        "team-partners-alliances",
    ]
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
        for k in CATALOG:
            if k.family == fam and not k.alias_of and not k.is_table:
                assert f"<td>{html.escape(k.name)}</td>" in table, (fam, k.id)
        for k in CATALOG:  # definitions of every KPI, aliases and tables included
            if k.family == fam:
                assert f"<code>{k.id}</code>" in text, (fam, k.id)
    team = (path / "team-partners-alliances" / "profitability.html").read_text()
    assert "n/a" in team and "financials are company-wide" in team


@needs_chromium
def test_team_name_is_escaped_in_the_header(pack):
    path, _ = pack
    text = (path / "team-partners-alliances" / "summary.html").read_text(encoding="utf-8")
    assert "Team Partners &amp; Alliances" in text
    assert "Team Partners & Alliances" not in text


@needs_chromium
def test_pdfs_exist_and_have_pages(pack):
    path, _ = pack
    for folder in ("company", "team-partners-alliances"):
        for name in [f"{f}.pdf" for f in PACK_FAMILIES] + ["pack.pdf"]:
            data = (path / folder / name).read_bytes()
            assert data.startswith(b"%PDF"), name
            pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
            assert pages >= 1, name
        whole = len(re.findall(rb"/Type\s*/Page[^s]", (path / folder / "pack.pdf").read_bytes()))
        assert whole >= len(PACK_FAMILIES)  # a page break between families


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


def test_a_failed_notebook_does_not_stop_the_others(sample_dir, tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    nb = nbformat.read(notebooks / "pipeline.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("pipeline exploded")'))
    nbformat.write(nb, notebooks / "pipeline.ipynb")
    monkeypatch.setenv("KPI_KIT_NOTEBOOKS", str(notebooks))
    out = tmp_path / "reports"
    code = main(
        [
            "pack",
            "--month",
            SAMPLE_END,
            "--scopes",
            "company",
            "--families",
            "summary,pipeline",
            "--formats",
            "html",
            "--out",
            str(out),
            "--source",
            str(sample_dir),
        ]
    )
    assert code == 1
    assert "FAILED company pipeline: RuntimeError: pipeline exploded" in capsys.readouterr().err
    month = out / SAMPLE_END
    assert (month / "company" / "summary.html").exists()
    kept = nbformat.read(month / "company" / "notebooks" / "pipeline.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in kept.cells for o in c.get("outputs", []))
    index = (month / "index.html").read_text()
    assert "1 failed notebook(s)" in index and "pipeline exploded" in index
    assert "This section could not be computed" in (month / "company" / "pipeline.html").read_text()


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
        (["--month", SAMPLE_END, "--families", "gossip"], "Unknown family 'gossip'"),
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

    from kpi_helpers.sources import open_dataset

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
    nb = json.loads((path / "company" / "notebooks" / "summary.ipynb").read_text())
    assert "env:KPI_KIT_SOURCE_URL" in json.dumps(nb)
    assert "postgresql://kit:***@127.0.0.1:" in (path / "company" / "summary.html").read_text()


def test_titles_cover_every_notebook():
    assert set(TITLES) == set(PACK_FAMILIES)
