"""The table KPIs of the stage history (issue 19): stage_conversion, days_in_stage and
pipeline_movement, worked out by hand on the deals below for m = 2026-03 (the pipeline at
the start of m: the end of 2026-02; at its end: the end of 2026-03)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers import kpis
from kpi_helpers.core import KitError
from kpi_helpers.data import open_dataset

M = "2026-03"
DEALS = pd.DataFrame(
    [
        ("A", "2026-01-05", "closed_won", 1000.0, "2026-03-10", None),
        ("B", "2026-02-01", "proposal", 500.0, None, "2026-05-10"),
        ("C", "2026-02-10", "closed_lost", 300.0, "2026-03-20", None),
        ("D", "2026-03-03", "negotiation", 700.0, None, "2026-04-30"),
        ("E", "2026-03-02", "closed_won", 400.0, "2026-03-28", None),
        ("F", "2025-12-01", "qualification", 900.0, None, None),
        ("G", "2025-02-01", "closed_lost", 50.0, "2025-06-01", None),
    ],
    columns=["opportunity_id", "created_at", "stage", "amount", "closed_at", "expected_close_at"],
)
HISTORY = pd.DataFrame(
    [
        ("A", "prospecting", "2026-01-05", 800.0, "2026-03-15"),
        ("A", "proposal", "2026-02-10", 1000.0, "2026-03-15"),
        ("A", "closed_won", "2026-03-10", 1000.0, None),
        ("B", "prospecting", "2026-02-01", 500.0, "2026-03-20"),  # due in m at its start
        ("B", "proposal", "2026-03-05", 500.0, "2026-05-10"),  # ... slipped past m
        ("C", "prospecting", "2026-02-10", 300.0, None),
        ("C", "closed_lost", "2026-03-20", 300.0, None),
        ("D", "prospecting", "2026-03-03", 600.0, None),
        ("D", "negotiation", "2026-03-25", 700.0, None),  # skipped two stages
        ("E", "prospecting", "2026-03-02", 400.0, None),
        ("E", "proposal", "2026-03-12", 400.0, None),
        ("E", "closed_won", "2026-03-28", 400.0, None),
        ("F", "qualification", "2025-12-01", 1200.0, None),
        ("F", "qualification", "2026-03-15", 900.0, None),  # same stage: a new amount only
        ("G", "prospecting", "2025-02-01", 50.0, None),  # before the 12 months
        ("G", "proposal", "2025-05-01", 50.0, None),
        ("G", "closed_lost", "2025-06-01", 50.0, None),
    ],
    columns=["opportunity_id", "stage", "entered_at", "amount", "expected_close_at"],
)


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    tables = {"opportunities": DEALS, "opportunity_stage_history": HISTORY}
    return open_dataset(write_tables(tmp_path_factory.mktemp("stage_tables"), tables))


def test_stage_conversion(ds):
    df = kpis.table(ds, "stage_conversion", M)
    got = [tuple(r) for r in df[["stage", "next_stage", "deals", "reached_next", "won"]].values]
    assert got == [
        # A, B, C, D, E entered (G before the 12 months); all but C (lost) moved on, D by
        # skipping to negotiation; A and E were won
        ("prospecting", "qualification", 5, 4, 2),
        ("qualification", "proposal", 1, 0, 0),  # F: its second row is no new entry
        ("proposal", "negotiation", 4, 2, 2),  # A, B, E, G; A and E won
        ("negotiation", "closed_won", 1, 0, 0),  # D
    ]
    assert df["conversion_to_next"].tolist() == pytest.approx([80.0, 0.0, 50.0, 0.0])
    assert df["win_rate"].tolist() == pytest.approx([40.0, 0.0, 50.0, 0.0])


def test_days_in_stage(ds):
    df = kpis.table(ds, "days_in_stage", M).set_index("stage")
    # left prospecting in March: E 10, D 22, B 32, C 38 days (C by closing lost);
    # p90 = 32 + 0.7 x (38 - 32)
    assert df.loc["prospecting"].tolist() == pytest.approx([4, 27.0, 36.2])
    # left proposal: A after 28 days, E after 16 (both by closing won); F never left
    assert df.loc["proposal"].tolist() == pytest.approx([2, 22.0, 26.8])
    assert list(df.index) == ["prospecting", "proposal"]


def test_pipeline_movement_adds_up_exactly(ds):
    df = kpis.table(ds, "pipeline_movement", M)
    got = [(r.step, r.stage, r.deals, r.value) for r in df.itertuples()]
    assert got == [
        ("start", "prospecting", 2, 800.0),  # B 500, C 300
        ("start", "qualification", 1, 1200.0),  # F at its amount then
        ("start", "proposal", 1, 1000.0),  # A
        ("new", "proposal", 1, 400.0),  # E, created and won in m: in proposal at its close
        ("new", "negotiation", 1, 700.0),  # D
        ("moved_in", "proposal", 1, 500.0),  # B
        ("moved_out", "prospecting", 1, -500.0),
        ("won", "proposal", 2, -1400.0),  # A, E
        ("lost", "prospecting", 1, -300.0),  # C
        ("amount_change", "qualification", 1, -300.0),  # F: 1,200 -> 900
        ("end", "qualification", 1, 900.0),
        ("end", "proposal", 1, 500.0),
        ("end", "negotiation", 1, 700.0),
        ("slipped", "proposal", 1, 500.0),  # B: due in March at its start, now May
    ]
    parts = df[df["part"]]
    assert parts["value"].sum() == 2100.0 - 3000.0  # exactly: the end minus the start
    for stage, g in df.groupby("stage"):  # and per stage
        start = g.loc[g["step"] == "start", "value"].sum()
        end = g.loc[g["step"] == "end", "value"].sum()
        assert g.loc[g["part"], "value"].sum() == end - start, stage
    assert not df.loc[df["step"].isin(["start", "end", "slipped"]), "part"].any()


def test_without_history_the_tables_are_not_available(tmp_path):
    plain = open_dataset(write_tables(tmp_path, {"opportunities": DEALS}))
    for kpi in ("stage_conversion", "days_in_stage", "pipeline_movement"):
        with pytest.raises(KitError, match="opportunity_stage_history"):
            kpis.table(plain, kpi, M)


def test_stage_at_of_deals_without_rows_keeps_the_columns_types():
    """Deals asked that have no row in the history (the pipeline forecast looks up its
    due deals in the rows of those deals only): NaN stage and amount, NaT expected close,
    not a failed cast of the dates to numbers."""
    from kpi_helpers.metrics.stages import stage_at

    history = pd.DataFrame(
        {
            "opportunity_id": ["X"],
            "stage": ["proposal"],
            "entered_at": pd.to_datetime(["2026-01-05"]),
            "amount": [10.0],
            "expected_close_at": pd.to_datetime(["2026-04-01"]),
        }
    ).iloc[0:0]
    points = pd.DataFrame({"opportunity_id": ["B", "D"], "at": pd.to_datetime(["2026-03-31"] * 2)})
    out = stage_at(history, points)
    assert out["opportunity_id"].tolist() == ["B", "D"]
    assert out["stage"].isna().all() and out["amount"].isna().all()
    assert out["expected_close_at"].isna().all()
    assert str(out["expected_close_at"].dtype).startswith("datetime64")
