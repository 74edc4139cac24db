"""The explorer driven from Python on a hand-made snapshot of 3 months: two teams, three
reps, sales revenue with a company target. Every expected value is worked out from the
rows below."""

from __future__ import annotations

import base64
import html
import io
import json
import re

import ipywidgets as w
import pandas as pd
import pytest
from conftest import ROOT, write_tables
from kpi_fixture import tables

from kpi_helpers.catalog import get
from kpi_helpers.cli import main
from kpi_helpers.explore import latest_pack
from kpi_helpers.explore.numbers import Numbers
from kpi_helpers.explore.sources import open_explorer, open_numbers
from kpi_helpers.explore.widgets import Explorer
from kpi_helpers.metrics import profiling
from kpi_helpers.pack.freeze import scope_and_rep_rows, write_reps
from kpi_helpers.report import Report, Snapshot
from kpi_helpers.report.live import LiveData

MONTHS = ["2026-09", "2026-10", "2026-11"]
BAD_TEAM = "<b>Partners</b>"  # a name that must be escaped in every HTML widget
BAD_REP = "Max <script>x</script>"
# sales revenue by scope and month; the company's target in November is 180
REVENUE = {
    "company": [100.0, 150.0, 200.0],
    "team:EMEA": [60.0, 90.0, 120.0],
    f"team:{BAD_TEAM}": [40.0, 60.0, 80.0],
    "rep:R1": [40.0, 50.0, 70.0],
    "rep:R2": [20.0, 40.0, 50.0],
    "rep:R3": [40.0, 60.0, 80.0],
}
REPS = {
    "rep:R1": {"name": "Jane Doe", "team": "EMEA"},
    "rep:R2": {"name": BAD_REP, "team": "EMEA"},
    "rep:R3": {"name": "Ola Nordmann", "team": BAD_TEAM},
}


def rows_of(key: str) -> list[dict]:
    kind, _, name = key.partition(":")
    out, prev = [], None
    for month, value in zip(MONTHS, REVENUE[key], strict=True):
        target = 180.0 if key == "company" and month == "2026-11" else None
        out.append(
            dict(
                month=month,
                scope_type=kind,
                scope=name or "company",
                kpi="sales_revenue",
                value=value,
                unit="currency",
                status="ok",
                reason=None,
                previous_month=prev,
                mom_change=None if prev is None else (value - prev) / prev * 100,
                change_unit="%",
                same_month_last_year=None,
                yoy_change=None,
                target=target,
                attainment=None if target is None else value / target * 100,
                rag="green" if target else "",
                trend="improving" if prev is not None else "",
                better="up",
                key=key,
            )
        )
        prev = value
    return out


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """reports/2026-11 with a hand-made snapshot (and an older pack, 2026-10)."""
    reports = tmp_path_factory.mktemp("proj") / "reports"
    for month in ("2026-10", "2026-11"):
        data = reports / month / "data"
        data.mkdir(parents=True)
        scopes = [k for k in REVENUE if not k.startswith("rep:")]
        pd.DataFrame([r for k in scopes for r in rows_of(k)]).to_parquet(data / "kpis.parquet")
        reps = pd.DataFrame([r for k in REPS for r in rows_of(k)])
        reps.to_parquet(data / "reps.parquet")
        meta = dict(format=1, month=month, scopes={s: f"f{i}" for i, s in enumerate(scopes)},
                    quiet_scopes=[], tables={}, reps=REPS)  # fmt: skip
        (data / "snapshot.json").write_text(json.dumps(meta), encoding="utf-8")
    return reports / "2026-11"


@pytest.fixture
def ex(pack):
    return open_explorer(pack=pack)


def texts(ex: Explorer) -> str:
    """Every HTML the explorer shows, joined."""

    def walk(x):
        if isinstance(x, w.HTML):
            yield x.value
        for c in getattr(x, "children", ()):
            yield from walk(c)

    return "\n".join(walk(ex.widget))


def crumbs(ex: Explorer) -> list[str]:
    return [b.description for b in ex.crumbs.children if isinstance(b, w.Button)]


def bars(ex: Explorer) -> list[w.Button]:
    return [row.children[0] for row in ex.bars.children if row.layout.display != "none"]


def test_controls_carry_their_labels_and_choices(ex):
    assert [ex.scope.description, ex.month.description, ex.kpi.description] == [
        "Scope",
        "Month",
        "KPI",
    ]
    assert ex.compare.description == "Compare with"
    assert list(ex.compare.options) == ["previous", "year before", "target"]
    labels = [label for label, _ in ex.scope.options]
    assert labels == ["Company", "Team EMEA", f"Team {BAD_TEAM}", "Jane Doe (EMEA)",
                      f"{BAD_REP} (EMEA)", f"Ola Nordmann ({BAD_TEAM})"]  # fmt: skip
    assert [v for _, v in ex.month.options] == ["2026-11", "2026-10", "2026-09"]
    assert ex.kpi.options == (("Revenue and growth › Sales revenue", "sales_revenue"),)


def test_the_card_is_the_pages_card(ex, pack):
    page = Report("summary", scope="company", snapshot=str(pack / "data"))
    assert ex.card.value == str(page.cards(["sales_revenue"]).text).split("<p class")[0]
    # by hand: $200, +33.3 % on October's $150, 111 % of the $180 target
    assert '<div class="value">$200</div>' in ex.card.value
    assert "▲ +33.3 % vs last month" in ex.card.value
    assert "target $180 · 111 %" in ex.card.value and "rag-green" in ex.card.value
    assert "Sales revenue" in ex.title.value and "Company · November 2026" in ex.title.value


def test_a_month_shows_that_month(ex):
    ex.month.value = "2026-10"
    assert '<div class="value">$150</div>' in ex.card.value
    assert "+50.0 % vs last month" in ex.card.value  # 150 on 100
    assert "October 2026" in ex.title.value
    assert "2026-11" not in ex.trend.value and "26-10" in ex.trend.value


def test_breakdown_drills_down_and_the_breadcrumb_goes_back_up(ex):
    assert [b.description for b in bars(ex)] == ["EMEA", BAD_TEAM]  # 120 > 80
    assert [v for _, v in ex.pick.options] == ["team:EMEA", f"team:{BAD_TEAM}"]
    bars(ex)[0].click()
    assert ex.scope.value == "team:EMEA"
    assert crumbs(ex) == ["Company", "EMEA"]
    assert '<div class="value">$120</div>' in ex.card.value
    assert [b.description for b in bars(ex)] == ["Jane Doe", BAD_REP]  # 70 > 50
    ex.pick.value = "rep:R2"  # picked from the list beside the bars
    assert ex.scope.value == "rep:R2"
    assert crumbs(ex) == ["Company", "EMEA", BAD_REP]
    assert bars(ex) == [] and "no breakdown" in ex.heading.value
    ex.crumbs.children[2].click()  # "EMEA"
    assert ex.scope.value == "team:EMEA"
    ex.crumbs.children[0].click()
    assert ex.scope.value == "company" and crumbs(ex) == ["Company"]


def test_compare_with_sets_the_breakdown_against_the_choice(ex):
    ex.compare.value = "previous"
    assert "(previous month $90)" in ex.bars.children[0].children[1].value  # EMEA: 120 on 90
    assert ex.bars.children[2].layout.display == "none"  # two teams: the other bars hidden
    assert "<td>+33.3 %</td>" in ex.table.value
    ex.compare.value = "target"
    assert "<th>target</th><th>attainment</th>" in ex.table.value


def test_names_are_escaped_everywhere(ex):
    ex.go("rep:R2")
    ex.go(f"team:{BAD_TEAM}")
    shown = texts(ex)
    assert "<script>" not in shown and "<b>Partners" not in shown
    assert html.escape(BAD_TEAM, quote=False) in shown
    ex.go("team:EMEA")
    assert html.escape(BAD_REP, quote=False) in ex.table.value


def test_the_csv_is_the_table_shown(ex):
    href = re.search(r'href="data:text/csv;base64,([^"]+)"', ex.download.value).group(1)
    assert 'download="sales_revenue-company-2026-11.csv"' in ex.download.value
    df = pd.read_csv(io.StringIO(base64.b64decode(href).decode("utf-8")))
    assert list(df.columns) == ["scope", "name", "Sales revenue", "previous month", "change",
                                "rag"]  # fmt: skip
    assert df["Sales revenue"].tolist() == [120.0, 80.0]
    assert df["previous month"].tolist() == [90.0, 60.0]
    ex.go("rep:R1")  # a rep: its months
    href = re.search(r"base64,([^\"]+)", ex.download.value).group(1)
    df = pd.read_csv(io.StringIO(base64.b64decode(href).decode("utf-8")))
    assert df["Sales revenue"].tolist() == [40.0, 50.0, 70.0]


def test_find_a_rep_narrows_the_scope_dropdown(ex):
    ex.find.value = "jane"
    assert [v for _, v in ex.scope.options] == ["company", "team:EMEA", f"team:{BAD_TEAM}",
                                                "rep:R1"]  # fmt: skip
    assert ex.scope.value == "company"  # what was shown stays
    ex.go("rep:R3")  # a drill into a rep the filter hides clears it
    assert ex.find.value == "" and ex.scope.value == "rep:R3"
    assert crumbs(ex) == ["Company", BAD_TEAM, "Ola Nordmann"]


def test_numbers_equal_the_snapshot_for_every_scope(pack):
    n = Numbers(Snapshot(pack / "data"))
    k = get("sales_revenue")
    for scope, values in REVENUE.items():
        for month, value in zip(MONTHS, values, strict=True):
            assert n.value_text(scope, month, k.id) == f"${value:,.0f}", (scope, month)


def test_the_latest_pack_is_found_from_a_folder_below_the_project(pack, tmp_path):
    project = pack.parent.parent
    (project / "notebooks").mkdir(exist_ok=True)
    assert latest_pack(project / "notebooks") == pack
    with pytest.raises(Exception, match="No pack under reports/"):
        latest_pack(tmp_path)


def test_kpi_kit_explore_on_a_folder_that_is_no_pack(tmp_path, capsys):
    assert main(["explore", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a pack: it has no data/snapshot.json" in err and "Traceback" not in err


def test_the_notebook_opens_the_pack_its_environment_names():
    nb = json.loads((ROOT / "notebooks" / "explore.ipynb").read_text(encoding="utf-8"))
    first = "".join(nb["cells"][1]["source"])
    assert 'os.environ.get("KPI_KIT_PACK", "")' in first
    assert "parameters" in nb["cells"][1]["metadata"]["tags"]


def test_data_without_reps_gives_a_snapshot_without_reps(tmp_path):
    """Orders that name no rep: no rep scopes, no reps.parquet (the engine is not asked
    for reps it cannot have)."""
    write_tables(tmp_path, {"orders": "order_id,account_id,ordered_at,amount\n"
                                      "o1,a1,2026-01-05,10\no2,a2,2026-02-03,20\n"})  # fmt: skip
    live = LiveData(str(tmp_path), month="2026-02")
    rows, reps = scope_and_rep_rows(live, ["company"])
    assert reps.empty and set(rows["key"]) == {"company"}
    assert write_reps(live, tmp_path, reps) == {}
    assert not (tmp_path / "reps.parquet").exists()


def test_the_scopes_and_the_reps_are_one_computation_with_the_same_rows(tmp_path):
    """kpi_fixture's dataset: the pack's scopes and every rep computed together give the
    rows of two computations apart, with no more queries than the scopes alone (the
    reps come from the same grouped measures, not a second pass over the data)."""
    write_tables(tmp_path, tables())
    scopes = ["company", "team:North"]
    live = LiveData(str(tmp_path), month="2026-03")
    apart = LiveData(str(tmp_path), month="2026-03")  # a dataset of its own: no cache
    with profiling() as together:
        rows, reps = scope_and_rep_rows(live, scopes)
    with profiling() as alone:
        rows_apart = apart.kpis_of_scopes(scopes)
    reps_apart = apart.kpis_of_scopes(["rep"])
    pd.testing.assert_frame_equal(rows, rows_apart)
    pd.testing.assert_frame_equal(reps, reps_apart)
    assert len(together.queries) <= len(alone.queries)
    march = reps[(reps["month"] == "2026-03") & (reps["kpi"] == "sales_revenue")]
    assert dict(zip(march["key"], march["value"], strict=True))["rep:R1"] == 60.0


def test_live_mode_computes_once_per_source_and_month(tmp_path):
    """kpi_fixture's dataset (its March 2026 worked out by hand in test_kpis.py)."""
    write_tables(tmp_path, tables())
    first = open_numbers(source=str(tmp_path), month="2026-03")
    again = open_numbers(source=str(tmp_path), month="2026-03")
    assert again.snap is first.snap  # cached: computed once
    assert first.value_text("company", "2026-03", "sales_revenue") == "$180"
    assert first.value_text("team:North", "2026-03", "sales_revenue") == "$60"  # R1's lines
    assert first.value_text("team:South", "2026-03", "sales_revenue") == "$120"
    assert set(first.children("team:North")) <= {"rep:R1", "rep:R2"}
    assert "rep:R1" in first.children("team:North")


def test_why_it_moved_shows_the_packs_drivers_escaped(pack):
    """The pack's drivers of the pick (drivers.json), under the breakdown, as the pages
    print them; none against the target, or for a month the pack does not explain."""
    text = f"Sales revenue rose 33.3 % ($150 -> $200): Team {BAD_TEAM} explains 40 % (+$20)"
    entry = dict(kpi="sales_revenue", base="previous", name="Sales revenue",
                 text=text, drivers=[{"label": f"Team {BAD_TEAM}"}])  # fmt: skip
    drivers = dict(month="2026-11", bases=["previous"], scopes={"company": [entry]})
    path = pack / "data" / "drivers.json"
    path.write_text(json.dumps(drivers), encoding="utf-8")
    try:
        ex = open_explorer(pack=pack)
        ex.go("company")
        ex.compare.value = "previous"
        assert html.escape(text.removeprefix("Sales revenue"), quote=False) in ex.why.value
        assert "<b>Partners" not in ex.why.value
        ex.compare.value = "target"
        assert ex.why.value == ""
        ex.compare.value = "previous"
        ex.month.value = "2026-10"
        assert ex.why.value == ""
    finally:
        path.unlink()
