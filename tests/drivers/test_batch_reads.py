"""How a pack's drivers read their measures fast (issue 17, "Speed"): a split query joins
each other table once for every dimension read through it; a split's keys are factorized
once and cut per scope and base; the batch gives what explain() gives, scope by scope."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.core import Config, Month
from kpi_helpers.data import open_dataset
from kpi_helpers.drivers import explain, explain_many
from kpi_helpers.drivers.segments import Keyed, Sides, Split
from kpi_helpers.metrics import SEP, Engine, Scope, Segment
from kpi_helpers.metrics.segments import JOIN, NO_VALUE, split

INDUSTRY = ("accounts", "industry", "account_id")
REGION = ("accounts", "region", "account_id")


def _deals(folder: Path) -> Path:
    """Team A (rep a1) and team B (rep b1); won deals of February and March 2026 on three
    accounts (industry x region), one lost deal of B in March."""
    deals = [  # id, closed, stage, amount, rep, account, product
        ("O1", "2026-02-10", "closed_won", 100.0, "a1", "acc1", "P1"),
        ("O2", "2026-02-11", "closed_won", 200.0, "a1", "acc2", "P1"),
        ("O3", "2026-02-12", "closed_won", 400.0, "b1", "acc3", "P2"),
        ("O4", "2026-03-10", "closed_won", 300.0, "a1", "acc1", "P1"),
        ("O5", "2026-03-11", "closed_won", 100.0, "b1", "acc3", "P2"),
        ("O6", "2026-03-12", "closed_won", 50.0, "b1", "acc2", "P1"),
        ("O7", "2026-03-13", "closed_lost", 80.0, "b1", "acc3", "P2"),
    ]
    opps = pd.DataFrame(
        deals,
        columns=[
            "opportunity_id",
            "closed_at",
            "stage",
            "amount",
            "rep_id",
            "account_id",
            "product",
        ],
    )
    opps["created_at"] = "2026-01-05"
    accounts = pd.DataFrame(
        {
            "account_id": ["acc1", "acc2", "acc3"],
            "industry": ["retail", "retail", "tech"],
            "region": ["north", "south", "north"],
        }
    )
    reps = pd.DataFrame({"rep_id": ["a1", "b1"], "team": ["A", "B"]})
    return write_tables(folder, {"reps": reps, "accounts": accounts, "opportunities": opps})


def test_one_join_per_table_for_its_dimensions(tmp_path):
    ds = open_dataset(_deals(tmp_path))
    t = ds.table("opportunities")
    t = t.mutate(_rep=t.rep_id, _team=ibis.literal("A"))

    def joins(*parts) -> int:
        return ibis.to_sql(split(ds, Segment(parts), t)).upper().count(" JOIN ")

    # industry and region both come from the account: one join, as for industry alone
    assert joins(INDUSTRY) == joins(INDUSTRY, REGION) == 1
    # and the values are each dimension's, worked out by hand
    engine = Engine(ds, Config(), Segment((INDUSTRY, REGION)))
    frame = engine.measure_frame(
        {"bookings": Month.parse("2026-02")}, Month.parse("2026-03"), [Scope("team")]
    )
    got = {
        (scope, str(Month(mi))): v
        for (st, scope, mi), v in frame["bookings"].items()
        if st == "team" and v
    }
    key = {
        (t, i, r): f"{t}{SEP}{i}{JOIN}{r}"
        for t in "AB"
        for i in ("retail", "tech")
        for r in ("north", "south")
    }
    assert got == {
        (key["A", "retail", "north"], "2026-02"): 100.0,
        (key["A", "retail", "south"], "2026-02"): 200.0,
        (key["B", "tech", "north"], "2026-02"): 400.0,
        (key["A", "retail", "north"], "2026-03"): 300.0,
        (key["B", "tech", "north"], "2026-03"): 100.0,
        (key["B", "retail", "south"], "2026-03"): 50.0,
    }


def test_a_split_cut_to_one_team_reads_its_own_segments():
    # keys (team, value) in months 1 (the base) and 2; the codes are factorized over both
    # teams once, the split of team A's rows names A's values only
    keys = [("A", "x"), ("A", "y"), ("B", "z"), ("A", "x"), ("B", "z"), ("A", NO_VALUE)]
    mi = [1, 1, 1, 2, 2, 2]
    rows = pd.DataFrame(
        {"won": [3.0, 1.0, 5.0, 2.0, 4.0, 0.0]},
        index=pd.MultiIndex.from_arrays(
            [pd.Index(keys, tupleize_cols=False), mi], names=["key", "mi"]
        ),
    )
    coded = Keyed(rows)
    assert coded.names == [["A", "B"], ["x", "y", "z", NO_VALUE]]
    team_a = coded.codes[0] == 0
    at = team_a.nonzero()[0]
    busy = rows["won"].to_numpy() > 0
    assert coded.state(at, busy, 1) == ""
    assert coded.state(at[-1:], busy, 1) == "empty in every row"  # A's (none) row: 0
    total = Sides(pd.DataFrame({"now": [2.0], "before": [4.0]}))
    total.num = total.value
    s = Split.on(coded, at, [rows["won"].to_numpy()], Month(2), Month(1), "additive", total, 1.0)
    parts = {p.segment: (p.value, p.base_value, p.contribution) for p in s.parts([1])}
    assert parts == {"x": (2.0, 3.0, -1.0), "y": (0.0, 1.0, -1.0)}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return open_dataset(_deals(tmp_path_factory.mktemp("batch") / "data"))


def test_the_batch_gives_what_explain_gives_for_every_scope(world):
    kpis = ["monthly_sales_bookings", "win_rate"]
    scopes = ["company", "team:A", "team:B"]
    many = explain_many(world, kpis, scopes, "2026-03", ("previous",))
    team = {
        p.segment: p.contribution for p in many[kpis[0], "company", "previous"].dimensions["team"]
    }
    assert team == {"A": 0.0, "B": -250.0}  # A: 300 -> 300; B: 400 -> 150
    for kpi in kpis:
        for scope in scopes:
            one = explain(world, kpi, scope, "2026-03")
            got = many[kpi, scope, "previous"]
            assert got.text == one.text, (kpi, scope)
            assert got.skipped == one.skipped, (kpi, scope)
            assert list(got.dimensions) == list(one.dimensions), (kpi, scope)
            for name, parts in one.dimensions.items():
                mine = got.dimensions[name]
                assert [p.segment for p in mine] == [p.segment for p in parts]
                numbers = [[p.contribution, p.value, p.base_value] for p in parts]
                assert [[p.contribution, p.value, p.base_value] for p in mine] == [
                    pytest.approx(x, rel=1e-12, nan_ok=True) for x in numbers
                ], (kpi, scope, name)
