"""Why it moved for a period to date, of a KPI that reads the period before (churn's
customers at the start): the current period reads whole earlier periods, the base the
same leading months (KPI_CATALOG.md, "Periods" and "Why it moved")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tables

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset
from kpi_helpers.drivers import explain, explain_many


def _churn_world(folder: Path) -> Path:
    """Subscriptions of two teams (A: rep a1, B: rep b1); the data ends in 2026-05, so
    2026-Q2 is to date (April, May) and its base is 2026-Q1's January and February.

    Running at the end of Dec 2025: A1 A2 A4 | B1 B2 B3 B4 (3 | 4);
    Feb 2026: A1 A4 | B1 B2 B4 (A2, B3 ended); Mar 2026: A1 A3 A4 | B1 B2 B5 (A3 and B5
    started, B4 ended); May 2026: A1 | B1 B2 B5 (A3, A4 ended)."""
    subs = [
        ("S1", "A1", "2025-07-01", ""),
        ("S2", "A2", "2025-07-01", "2026-02-15"),
        ("S3", "A3", "2026-03-01", "2026-04-15"),
        ("S4", "A4", "2025-07-01", "2026-05-10"),
        ("S5", "B1", "2025-07-01", ""),
        ("S6", "B2", "2025-07-01", ""),
        ("S7", "B3", "2025-07-01", "2026-01-20"),
        ("S8", "B4", "2025-07-01", "2026-03-10"),
        ("S9", "B5", "2026-03-05", ""),
    ]
    rows = "\n".join(f"{s},{a},{start},{end},100" for s, a, start, end in subs)
    accounts = "\n".join(f"{a},{a[0].lower()}1" for _, a, _, _ in subs)
    return write_tables(
        folder,
        {
            "reps": "rep_id,team\na1,A\nb1,B\n",
            "accounts": f"account_id,owner_rep_id\n{accounts}\n",
            "subscriptions": f"subscription_id,account_id,started_at,ended_at,mrr\n{rows}\n",
            # customer KPIs start with the first closed deal: one lost deal in July 2025
            "opportunities": "opportunity_id,account_id,created_at,stage,amount,closed_at,"
            "rep_id\nO1,A1,2025-07-01,closed_lost,100,2025-07-02,a1\n",
        },
    )


def _same_sides(e, dimension: str, want: dict[str, tuple[float, float]]) -> None:
    """The segments of one dimension have ``want``'s (value, base value)."""
    got = {p.segment: (p.value, p.base_value) for p in e.dimensions[dimension]}
    assert set(got) == set(want)
    for segment, sides in want.items():
        assert got[segment] == pytest.approx(sides), segment


def test_churn_of_a_quarter_to_date_by_hand(tmp_path):
    ds = open_dataset(_churn_world(tmp_path))
    # 2026-Q2 to date: at the start (end of March) A 3, B 3; lost by the end of May: A3,
    # A4 -> 2 / 6 = 33.3 % (A 2 / 3, B 0 / 3). Base, 2026-Q1's Jan-Feb: at the start (end
    # of December) A 3, B 4; lost by the end of February: A2, B3 -> 2 / 7 = 28.6 % (A 1 /
    # 3, B 1 / 4). Read at the end of February instead of March, Q2's start would be 5.
    tidy = kpis.compute(
        ds, "2026-05", scope=["company", "team"], kpis=["churn_rate"], period="quarter"
    )
    tidy = tidy[tidy["period"] == "2026-Q2"].set_index("scope")
    assert tidy["to_date"].all()
    by_hand = {"company": (200 / 6, 200 / 7), "A": (200 / 3, 100 / 3), "B": (0.0, 25.0)}
    for scope, sides in by_hand.items():
        assert (tidy.at[scope, "value"], tidy.at[scope, "previous_month"]) == pytest.approx(sides)
    e = explain(ds, "churn_rate", "company", "2026-05", period="quarter")
    assert (e.month, e.base_month) == ("2026-Q2", "2026-Q1")
    assert (e.value, e.base_value) == pytest.approx(by_hand["company"])
    # churn has no exact bridge (its denominator is a state at the start): each team's
    # value on both sides, as the KPIs give them, and no contribution
    assert e.kind == "none" and "team" not in e.skipped
    _same_sides(e, "team", {"A": by_hand["A"], "B": by_hand["B"]})
    _same_sides(e, "rep", {"a1": by_hand["A"], "b1": by_hand["B"]})
    # a team's reps, and the pack's batch, read the same frames
    a = explain(ds, "churn_rate", "team:A", "2026-05", period="quarter")
    assert (a.value, a.base_value) == pytest.approx(by_hand["A"])
    _same_sides(a, "rep", {"a1": by_hand["A"]})
    got = explain_many(ds, ["churn_rate"], ["company"], "2026-05", period="quarter")
    assert got[("churn_rate", "company", "previous")].dimensions["team"] == e.dimensions["team"]


def test_churn_of_a_month_shows_each_teams_sides(tmp_path):
    ds = open_dataset(_churn_world(tmp_path))
    # May 2026: at the start (end of April) A1 A4 | B1 B2 B5, lost A4 -> A 1 / 2, B 0 / 3;
    # April: at the start A1 A3 A4 | B1 B2 B5, lost A3 -> A 1 / 3, B 0 / 3
    e = explain(ds, "churn_rate", "company", "2026-05")
    assert (e.value, e.base_value) == pytest.approx((100 / 5, 100 / 6))
    _same_sides(e, "team", {"A": (50.0, 100 / 3), "B": (0.0, 0.0)})


def test_growth_of_a_quarter_to_date_reads_the_same_months(tmp_path):
    # revenue per month of teams A (a1) and B (b1); the data ends in 2026-05
    months = {"2025-10": (100, 50), "2025-11": (100, 60), "2025-12": (100, 70)}
    months |= {"2026-01": (120, 40), "2026-02": (90, 80), "2026-03": (300, 10)}
    months |= {"2026-04": (200, 30), "2026-05": (150, 90)}
    lines = [
        f"L{m}{rep},O{m}{rep},{m}-05,{amount},{rep},C{rep}"
        for m, pair in months.items()
        for rep, amount in zip(("a1", "b1"), pair, strict=True)
    ]
    src = write_tables(
        tmp_path,
        {
            "reps": "rep_id,team\na1,A\nb1,B\n",
            "orders": "line_id,order_id,ordered_at,revenue,rep_id,account_id\n"
            + "\n".join(lines)
            + "\n",
        },
    )
    ds = open_dataset(src)
    # 2026-Q2 to date (Apr-May) against 2026-Q1's Jan-Feb: A 350 / 210 - 1 = +66.7 %,
    # B 120 / 120 - 1 = 0 %, company 470 / 330 - 1 = +42.4 %. Its base, as the KPIs give
    # it: Jan-Feb against the whole 2025-Q4: A 210 / 300 - 1 = -30 %, B 120 / 180 - 1 =
    # -33.3 %, company 330 / 480 - 1 = -31.25 %
    by_hand = {
        "company": (100 * (470 / 330 - 1), -31.25),
        "A": (100 * (350 / 210 - 1), -30.0),
        "B": (0.0, 100 * (120 / 180 - 1)),
    }
    tidy = kpis.compute(
        ds, "2026-05", scope=["company", "team"], kpis=["monthly_sales_growth"], period="quarter"
    )
    tidy = tidy[tidy["period"] == "2026-Q2"].set_index("scope")
    for scope, sides in by_hand.items():
        assert (tidy.at[scope, "value"], tidy.at[scope, "previous_month"]) == pytest.approx(sides)
    e = explain(ds, "monthly_sales_growth", "company", "2026-05", period="quarter")
    assert (e.value, e.base_value) == pytest.approx(by_hand["company"])
    _same_sides(e, "team", {"A": by_hand["A"], "B": by_hand["B"]})
