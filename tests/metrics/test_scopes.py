"""One rule for scopes, whichever door a scope comes in by: an unknown team or rep is the
same error everywhere, and ``team:unassigned`` (the rows whose rep is not in ``reps``)
is a team everywhere.

The dataset is ``kpi_fixture.tables()`` (teams North and South; R9 is a rep id missing
from ``reps``: its rows are the team ``unassigned``'s), with a few rows of R9 added so
that ``unassigned`` has something in every model:

- activities: C5, a call of R9 on 2026-03-08 (already in the fixture): calls_made 1 in m;
- opportunities: U1 of R9, created 2026-02-01, still open in stage proposal, amount 600,
  expected to close on 2026-04-10 (m+1), no CRM probability (proposal's default: 0.5);
- orders of R9: A5 on 2026-01-10 (40) and 2026-02-10 (60), A6 on 2026-02-20 (30).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables
from kpi_fixture import tables

from kpi_helpers import kpis
from kpi_helpers.alerts import AlertRule, check_dataset
from kpi_helpers.cli import main
from kpi_helpers.core import Config, KitError, NotAvailable
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import check_scope
from kpi_helpers.models import fit_clv, forecast_kpi, pipeline_forecast

M = "2026-03"
STEPS = ["created", "contacted", "engaged", "qualified", "converted", "won"]
UNKNOWN = {
    "team:Norht": (
        "Unknown team 'Norht' (did you mean North?); teams are: North, South, unassigned."
    ),
    "rep:R8": "Unknown rep 'R8'; reps are: R1, R2, R3, R4, unassigned.",
}


def _tables() -> dict[str, pd.DataFrame]:
    t = tables()
    deals = t["opportunities"].assign(expected_close_at=None)
    u1 = {
        "opportunity_id": "U1",
        "created_at": "2026-02-01 00:00",
        "stage": "proposal",
        "amount": 600.0,
        "rep_id": "R9",
        "account_id": "A6",
        "expected_close_at": "2026-04-10",
    }
    t["opportunities"] = pd.concat([deals, pd.DataFrame([u1])], ignore_index=True)
    orders = pd.DataFrame(
        {
            "order_id": ["U2", "U3", "U4"],
            "ordered_at": ["2026-01-10 09:00", "2026-02-10 09:00", "2026-02-20 09:00"],
            "account_id": ["A5", "A5", "A6"],
            "revenue": [40.0, 60.0, 30.0],
            "quantity": [1, 1, 1],
            "cost": [10.0, 10.0, 10.0],
            "product": ["P", "P", "Q"],
            "rep_id": ["R9", "R9", "R9"],
        }
    )
    t["orders"] = pd.concat([t["orders"], orders], ignore_index=True)
    return t


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("scopes") / "data", _tables())


@pytest.fixture
def ds(folder):
    return open_dataset(str(folder))  # a fresh one per test: nothing cached from another


def _alert_rule(scope: str) -> AlertRule:
    return AlertRule("calls_made", "above", 0.0, scope)


# every door a scope comes in by (but the pack: a command, below), as (ds, scope) -> result
DOORS = {
    "kpis.compute": lambda ds, sc: kpis.compute(ds, M, scope=sc, kpis=["calls_made"]),
    "kpis.table": lambda ds, sc: kpis.table(ds, "rep_leaderboard", M, sc),
    "models.forecast_kpi": lambda ds, sc: forecast_kpi(ds, "calls_made", M, sc),
    "models.pipeline_forecast": lambda ds, sc: pipeline_forecast(ds, M, sc),
    "models.fit_clv": lambda ds, sc: fit_clv(ds, M, sc),
    "alerts.check_dataset": lambda ds, sc: check_dataset(ds, [_alert_rule(sc)], M),
}


@pytest.mark.parametrize("scope", UNKNOWN)
@pytest.mark.parametrize("door", DOORS)
def test_an_unknown_team_or_rep_is_the_same_error_at_every_door(ds, door, scope):
    with pytest.raises(KitError) as err:
        DOORS[door](ds, scope)
    # the alert rule's message says which rule, then the same words
    prefix = f"[[alerts]] #1: scope {scope!r}: " if door.startswith("alerts") else ""
    assert str(err.value) == prefix + UNKNOWN[scope]


@pytest.mark.parametrize("scope", UNKNOWN)
def test_an_unknown_team_or_rep_stops_a_pack_with_the_same_error(folder, tmp_path, capsys, scope):
    args = ["pack", "--month", M, "--scopes", scope, "--formats", "html"]
    code = main([*args, "--out", str(tmp_path / "reports"), "--source", str(folder)])
    assert code == 2
    assert capsys.readouterr().err == f"kpi-kit pack: {UNKNOWN[scope]}\n"
    assert not (tmp_path / "reports" / M).exists()


# R9 is the only rep of unassigned: the team and the rep read the same rows
@pytest.mark.parametrize("scope", ["team:unassigned", "rep:R9"])
def test_unassigned_and_a_rep_missing_from_reps_are_scopes_at_every_door(ds, scope):
    kind, _, name = scope.partition(":")
    assert check_scope(ds, scope).name == name

    rows = DOORS["kpis.compute"](ds, scope)
    assert rows[["scope_type", "scope", "kpi"]].values.tolist() == [[kind, name, "calls_made"]]
    assert rows["value"].tolist() == [1.0]  # C5

    board = DOORS["kpis.table"](ds, scope)
    assert board[["rep_id", "rep_name", "team"]].values.tolist() == [["R9", "R9", "unassigned"]]
    # tables of a scope with few rows: no lead in m, no account with two products
    funnel = kpis.table(ds, "funnel", M, scope)
    assert funnel["step"].tolist() == STEPS and funnel["leads"].tolist() == [0] * len(STEPS)
    assert kpis.table(ds, "product_affinity", M, scope).empty

    forecast = DOORS["models.forecast_kpi"](ds, scope)
    assert forecast["month"].tolist() == ["2026-04", "2026-05", "2026-06"]

    deals = DOORS["models.pipeline_forecast"](ds, scope)
    assert (deals["deals"], deals["open_amount"]) == (1, 600.0)  # U1
    assert deals["crm_weighted"] == 600.0 * 0.5  # no probability: proposal's default
    assert deals["status"] == "undefined"  # no deal of R9 has ever closed: no win rate

    clv = fit_clv(ds, M, scope, Config(clv_fit="scope"))  # the scope's own order lines
    assert (clv.customers, clv.repeat_customers) == (2, 1)  # A5 on two days, A6 on one
    assert clv.scope == scope
    # the company fit's predictions go to each account's own rep: A5 and A6 are not R9's
    with pytest.raises(NotAvailable, match=f"No account of {kind} {name} has a purchase"):
        DOORS["models.fit_clv"](ds, scope)

    alerts = DOORS["alerts.check_dataset"](ds, scope).alerts
    assert [(a.scope, a.kpi, a.value, a.team) for a in alerts] == [
        (scope, "calls_made", 1.0, "unassigned" if kind == "rep" else "")
    ]


def test_a_pack_builds_the_page_of_team_unassigned(folder, tmp_path):
    out = tmp_path / "reports"
    args = ["pack", "--month", M, "--scopes", "team:unassigned", "--families", "activity"]
    code = main([*args, "--formats", "html", "--out", str(out), "--source", str(folder)])
    assert code == 0
    pages = sorted(p.relative_to(out / M).as_posix() for p in (out / M).glob("*/*.html"))
    assert pages == ["team-unassigned/activity.html"]
