"""A team that sells nothing gets no pages, and its summary page does not crash.

The pack is a quarterly review (QBR): the words of the index and of the snapshot's
reasons follow its span (8 quarters; a monthly pack's "13 months" is checked by
tests/pack/test_crm_first_look.py).

The pack plan is checked without kernels (the page runner is replaced by one that only
records what it was asked to run); one summary page is executed for the empty team.
Data: tests/kpi_fixture.py (m = 2026-03) as a CRM export (deals, accounts, reps) plus a
manager in a team of his own without any row, as Salesforce's ``User.csv`` has them.
"""

from __future__ import annotations

import html

import nbformat
import pandas as pd
import papermill as pm
import pytest
from conftest import ROOT, write_tables
from kpi_fixture import tables

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import has_activity, pack_scopes
from kpi_helpers.pack import build, build_pack
from kpi_helpers.pack.runner import Outcome
from kpi_helpers.report import Snapshot

M = "2026-03"
QUIET = "Team Managers: no deals, orders, leads or customers in the 8 quarters to 2026-Q1; no pages"


def _crm(with_calls: bool = False) -> dict[str, pd.DataFrame]:
    t = tables()
    crm = {k: t[k] for k in ("reps", "accounts", "opportunities")}
    boss = pd.DataFrame([dict(rep_id="M1", rep_name="Mo Boss", team="Managers")])
    crm["reps"] = pd.concat([crm["reps"], boss], ignore_index=True)
    if with_calls:  # C5 is a call of R9, a rep missing from reps: team unassigned
        crm["activities"] = t["activities"]
    return crm


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """A QBR of every scope, built without running a page: the (scope, page) pairs it
    would run, the index it wrote, and the quarter's folder."""
    folder = write_tables(tmp_path_factory.mktemp("crm") / "data", _crm())
    out = tmp_path_factory.mktemp("reports")
    ran = []

    def run_all(jobs, *args, **kwargs):
        ran.extend((j.scope, j.family) for j in jobs)
        return [Outcome(j.family, j.scope, j.folder, ok=True) for j in jobs]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "run_all", run_all)
        path, _ = build_pack(
            M, formats=("html",), out=out, source=str(folder), progress=False, period="quarter"
        )
    return ran, html.unescape((path / "index.html").read_text(encoding="utf-8")), path


def test_a_team_without_data_gets_no_pages_and_one_line(plan):
    ran, index, path = plan
    # North and South sold; Managers has no deal, order, lead or customer; no row of this
    # export lacks a known rep, so there is no team unassigned at all
    assert sorted({scope for scope, _ in ran}) == ["company", "team:North", "team:South"]
    assert index.count(QUIET) == 1
    assert "unassigned" not in index
    snap = Snapshot(path / "data")
    assert snap.quiet_scopes == ["team:Managers"]
    assert snap.paged_scopes == ["company", "team:North", "team:South"]
    assert not (path / "team-managers").exists()
    assert "13 months" not in index
    reasons = {e.get("reason") for e in snap.meta["tables"]["team:Managers"].values()}
    assert reasons == {"this scope has no deals, orders, leads or customers in the 8 quarters"}


def test_every_scope_includes_unassigned_when_it_has_rows(tmp_path):
    ds = open_dataset(write_tables(tmp_path, _crm(with_calls=True)))
    scopes, optional = pack_scopes(ds)
    assert scopes == ["company", "team:Managers", "team:North", "team:South", "team:unassigned"]
    assert optional == {"team:unassigned"}  # kept only when it has rows
    rows = kpis.compute(ds, M, months=13, scope="team")
    has = {team: has_activity(r) for team, r in rows.groupby("scope")}
    # R9's call C5 puts a row in unassigned; Managers has none
    assert has == {"Managers": False, "North": True, "South": True, "unassigned": True}


def test_the_summary_page_of_an_empty_team_runs(plan, tmp_path):
    _, _, path = plan
    out = tmp_path / "summary.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "summary.ipynb"),
        str(out),
        parameters=dict(
            month=M, scope="team:Managers", period="quarter", snapshot=str(path / "data")
        ),
        cwd=str(tmp_path),
        progress_bar=False,
    )
    shown = html.unescape(
        "".join(
            o.get("data", {}).get("text/html", "")
            for c in nbformat.read(out, as_version=4).cells
            for o in c.get("outputs", [])
        )
    )
    assert "Team Managers" in shown
    assert "No KPI moved enough to report." in shown  # what crashed: nothing moved
