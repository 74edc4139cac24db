"""``kpi-kit notebooks DIR``: the kit's page notebooks copied for an analyst."""

from __future__ import annotations

import ast
import shutil

import nbformat
import pytest
from conftest import ROOT

from kpi_helpers.cli import main

PAGES = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if p.stem != "explore")


def _parameters(path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    tree = ast.parse(cell.source)
    return {a.targets[0].id: ast.literal_eval(a.value) for a in tree.body}


def test_copies_the_pages_and_says_how_to_use_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["notebooks", "analysis/nb"]) == 0
    for page in PAGES:
        assert (tmp_path / "analysis" / "nb" / page.name).read_bytes() == page.read_bytes()
    out = capsys.readouterr().out
    assert f"Copied {len(PAGES)} notebooks to analysis/nb:" in out
    data = tmp_path / "analysis" / "data" / "sample"  # ../data/sample, from the notebooks
    assert f"{data}, which does not exist yet" in out
    assert f"kpi-kit sample-data --out {data}" in out
    assert "--source PATH" in out and "lab analysis/nb" in out
    assert "kpi-kit pack --notebooks analysis/nb" in out

    (tmp_path / "data" / "sample").mkdir(parents=True)  # ../data/sample from fresh/
    assert main(["notebooks", "fresh"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'data' / 'sample'}." in out
    assert "does not exist" not in out and "sample-data" not in out


def test_keeps_existing_notebooks_unless_forced(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["notebooks", "nb"]) == 0
    (tmp_path / "nb" / "team.ipynb").write_text("my edits")
    capsys.readouterr()
    assert main(["notebooks", "nb"]) == 2
    err = capsys.readouterr().err
    assert "nb already has activity.ipynb," in err and "team.ipynb" in err
    assert "nothing was copied" in err and "--force" in err
    assert (tmp_path / "nb" / "team.ipynb").read_text() == "my edits"
    assert main(["notebooks", "nb", "--force"]) == 0
    assert f"({len(PAGES)} replaced)" in capsys.readouterr().out
    assert (tmp_path / "nb" / "team.ipynb").read_bytes() == (
        ROOT / "notebooks/team.ipynb"
    ).read_bytes()
    assert not [p for p in (tmp_path / "nb").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("where", ["a_file", "a_file/below"])
def test_a_folder_that_cannot_be_one_is_one_message(where, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    assert main(["notebooks", where]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kpi-kit notebooks: ") and "Traceback" not in err
    assert "a_file" in err and len(err.strip().splitlines()) == 1


def test_sets_the_analysts_source_mapping_and_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "crm export").mkdir()
    assert (
        main(
            ["notebooks", "work/nb", "--source", "crm export", "--mapping", "crm export/m.toml"]
            + ["--config", "kpi.toml"]
        )
        == 0
    )
    for page in PAGES:
        params = _parameters(tmp_path / "work" / "nb" / page.name)
        assert params["source"] == "../../crm export"
        assert params["mapping"] == "../../crm export/m.toml"
        assert params["config"] == "../../kpi.toml"
        assert params["month"] == "latest" and params["snapshot"] == ""
    out = capsys.readouterr().out
    assert f"{tmp_path / 'crm export'}." in out and "does not exist" not in out
    text = (tmp_path / "work" / "nb" / "summary.ipynb").read_text()
    assert "# folder, .xlsx, .duckdb, or env:VAR holding a database URL" in text  # comment kept

    assert main(["notebooks", "db", "--source", "env:SALES_DB_URL"]) == 0
    assert _parameters(tmp_path / "db" / "summary.ipynb")["source"] == "env:SALES_DB_URL"
    capsys.readouterr()
    for url in (
        "postgresql://kit:s3cret@db.example/sales",
        "postgresql://db.example/sales?user=kit&password=s3cret",  # in the query string
    ):
        assert main(["notebooks", "leak", "--source", url]) == 2
        err = capsys.readouterr().err
        assert "env:VAR" in err and "s3cret" not in err
        assert not (tmp_path / "leak").exists()


def test_a_path_with_quotes_stays_one_python_string(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = "q\"uo\\te's ünï"
    assert main(["notebooks", "nb", "--source", odd]) == 0
    assert _parameters(tmp_path / "nb" / "revenue.ipynb")["source"] == f"../{odd}"


def test_only_the_kits_pages_are_copied(tmp_path, monkeypatch):
    import kpi_helpers.core.resources as resources

    kit = tmp_path / "kit"
    shutil.copytree(ROOT / "notebooks", kit)
    shutil.copy(kit / "team.ipynb", kit / "Untitled.ipynb")  # what JupyterLab leaves behind
    monkeypatch.setattr(resources, "resource_dir", lambda name: kit)
    assert main(["notebooks", str(tmp_path / "nb")]) == 0
    assert sorted(p.name for p in (tmp_path / "nb").iterdir()) == [p.name for p in PAGES]
