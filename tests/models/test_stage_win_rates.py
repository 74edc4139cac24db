"""bookings_forecast with per-stage win rates from opportunity_stage_history (issue 19),
on a fixture where the per-stage rates differ from the pooled one; without the history
the rate is pooled over stages and says so. m = 2026-03: the window's month ends are the
ends of 2025-03 .. 2026-02."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.data import open_dataset
from kpi_helpers.models import pipeline_forecast

M = "2026-03"
COLUMNS = ["opportunity_id", "created_at", "stage", "amount", "closed_at", "expected_close_at"]
DEALS = pd.DataFrame(
    [
        # closed deals the rates learn from (their stage at each month end in the window)
        ("A", "2026-01-05", "closed_won", 100.0, "2026-03-10", None),  # Jan pro, Feb prop
        ("B", "2026-01-10", "closed_lost", 100.0, "2026-02-15", None),  # Jan prospecting
        ("C", "2025-12-01", "closed_lost", 100.0, "2026-01-20", None),  # Dec proposal
        ("D", "2026-02-01", "closed_won", 100.0, "2026-03-05", None),  # Feb proposal
        ("E", "2026-01-03", "closed_lost", 100.0, "2026-03-20", None),  # Jan, Feb prospecting
        # open at the end of 2026-03, due in 2026-04
        ("P1", "2026-03-01", "prospecting", 3000.0, None, "2026-04-10"),
        ("P2", "2026-02-01", "proposal", 1500.0, None, "2026-04-20"),
        ("P3", "2026-03-02", "negotiation", 1000.0, None, "2026-04-05"),
        ("P4", "2026-03-10", "proposal", 600.0, None, "2026-04-25"),  # proposal since April
    ],
    columns=COLUMNS,
)
HISTORY = pd.DataFrame(
    [
        ("A", "prospecting", "2026-01-05"),
        ("A", "proposal", "2026-02-10"),
        ("A", "closed_won", "2026-03-10"),
        ("B", "prospecting", "2026-01-10"),
        ("B", "closed_lost", "2026-02-15"),
        ("C", "prospecting", "2025-12-01"),
        ("C", "proposal", "2025-12-20"),
        ("C", "closed_lost", "2026-01-20"),
        ("D", "prospecting", "2026-02-01"),
        ("D", "proposal", "2026-02-20"),
        ("D", "closed_won", "2026-03-05"),
        ("E", "prospecting", "2026-01-03"),
        ("E", "closed_lost", "2026-03-20"),
        ("P1", "prospecting", "2026-03-01"),
        ("P2", "prospecting", "2026-02-01"),
        ("P2", "proposal", "2026-03-15"),
        ("P3", "negotiation", "2026-03-02"),
        ("P4", "prospecting", "2026-03-10"),
        ("P4", "proposal", "2026-04-02"),
    ],
    columns=["opportunity_id", "stage", "entered_at"],
)


@pytest.fixture(scope="module")
def forecasts(tmp_path_factory):
    root = tmp_path_factory.mktemp("stages")
    pooled = open_dataset(write_tables(root / "pooled", {"opportunities": DEALS}))
    staged = open_dataset(
        write_tables(
            root / "staged", {"opportunities": DEALS, "opportunity_stage_history": HISTORY}
        )
    )
    return pipeline_forecast(pooled, M), pipeline_forecast(staged, M)


def test_without_history_the_rate_is_pooled_over_stages(forecasts):
    pooled, _ = forecasts
    # A, D won; B, C, E lost: 2 / 5
    assert (pooled["won"], pooled["lost"], pooled["win_rate"]) == (2, 3, pytest.approx(0.4))
    assert pooled["win_rate_basis"] == "pooled over stages"
    assert pooled["stage_win_rates"] == {}
    assert pooled["value"] == pytest.approx((3000 + 1500 + 1000 + 600) * 0.4)  # 2,440


def test_with_history_each_stage_has_its_own_rate(forecasts):
    _, staged = forecasts
    assert staged["win_rate_basis"] == "per stage"
    # prospecting at a month end: A (won), B, E (lost); proposal: A, D (won), C (lost)
    assert staged["stage_win_rates"] == {
        "prospecting": {"won": 1, "lost": 2, "win_rate": pytest.approx(1 / 3)},
        "proposal": {"won": 2, "lost": 1, "win_rate": pytest.approx(2 / 3)},
    }
    assert staged["win_rate"] == pytest.approx(0.4)  # the pooled rate stays beside them
    # P1 3,000 x 1/3 + P2 1,500 x 2/3 + P3 1,000 x 0.4 (no closed deal was in negotiation:
    # pooled) + P4 600 x 1/3 (in prospecting at the end of March) = 2,600
    assert staged["value"] == pytest.approx(2600.0)
    by_stage = {s: (v["deals"], v["amount"], v["weighted"]) for s, v in staged["by_stage"].items()}
    assert by_stage == {
        "negotiation": (1, 1000.0, pytest.approx(400.0)),
        "proposal": (1, 1500.0, pytest.approx(1000.0)),
        "prospecting": (2, 3600.0, pytest.approx(1200.0)),
    }


def test_every_team_reads_the_company_history(tmp_path, monkeypatch):
    """North sells A, B, C, P1, P2; South D, E, P3, P4. North: prospecting A won, B lost
    (1/2), proposal A won, C lost (1/2): P1 3,000 x 1/2 + P2 1,500 (proposal since
    2026-03-15) x 1/2 = 2,250. South: proposal D won (1/1), prospecting E lost (0/1),
    pooled D, E (1/2): P3 1,000 (negotiation: pooled) x 1/2 + P4 600 (prospecting at the
    end of March) x 0 = 500. The history is read once, for the company's deals."""
    pf = importlib.import_module("kpi_helpers.models.pipeline_forecast")
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]})
    north = {"A", "B", "C", "P1", "P2"}
    deals = DEALS.assign(rep_id=["R1" if d in north else "R2" for d in DEALS.opportunity_id])
    tables = {"opportunities": deals, "opportunity_stage_history": HISTORY, "reps": reps}
    ds = open_dataset(write_tables(tmp_path / "teams", tables))
    reads = []
    real = pf.stage_history
    monkeypatch.setattr(pf, "stage_history", lambda *a, **k: reads.append(1) or real(*a, **k))
    company = pipeline_forecast(ds, M)
    teams = {t: pipeline_forecast(ds, M, f"team:{t}") for t in ("North", "South")}
    assert len(reads) == 1
    assert company["value"] == pytest.approx(2600.0, rel=1e-12)  # as above
    assert teams["North"]["value"] == pytest.approx(2250.0, rel=1e-12)
    assert teams["South"]["value"] == pytest.approx(500.0, rel=1e-12)
    assert teams["North"]["stage_win_rates"]["proposal"]["win_rate"] == 0.5
    assert teams["South"]["stage_win_rates"]["proposal"]["win_rate"] == 1.0
