"""Who counts for whom: DATA_CONTRACT.md "An account's rep and team" and "A selling rep
in m", on small hand-written CRM exports (owners often empty, managers in ``reps``).

Month m = 2026-03; customers stay active 365 days after a won deal or an order line.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import load_postgres, write_tables

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset

M = "2026-03"


def _deal(oid, rep, account, stage, created, closed=None, amount=100.0):
    return (oid, created, stage, amount, closed, rep, account)


DEALS = "opportunity_id, created_at, stage, amount, closed_at, rep_id, account_id"


def _frame(columns: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[c.strip() for c in columns.split(",")])


def account_tables() -> dict[str, pd.DataFrame]:
    """Teams North (R1, R2) and South (R3); X9 is an owner missing from ``reps``.

    - B1: owner R3 -> South, although R1 won its deal D0 (2026-03-05): new in m.
    - B2: no owner; won by R1 (D1, 2025-06-10) and by R3 (D2, 2025-09-05), and R1 opened
      D3 on 2026-03-01: the latest *won* deal decides -> R3, South. Active all along.
    - B3: no owner, never won; R3's D4 (created 2025-12-01, lost) and R1's D5 (created
      2026-02-15, open): the latest deal -> R1, North. Its order line of 2026-03-10 (50,
      no rep) is its first purchase: new in m, and the line counts for R1.
    - B4: owner X9 (not in reps); won by R2 (D6, 2025-03-15) -> R2, North. Active at the
      start of m (2025-03-15 >= 2026-03-01 - 365 days), not at its end: lost in m.
    - B5: no owner, no deal; an order line of 2025-10-01 (10, no rep) -> unassigned.
    - B6: no owner; D7 (R1) and D8 (R3) won at the same instant: ties by opportunity_id,
      the greatest (D8) -> R3, South.
    """
    deals = [
        _deal("D0", "R1", "B1", "closed_won", "2026-02-01", "2026-03-05"),
        _deal("D1", "R1", "B2", "closed_won", "2025-05-01", "2025-06-10"),
        _deal("D2", "R3", "B2", "closed_won", "2025-08-01", "2025-09-05"),
        _deal("D3", "R1", "B2", "proposal", "2026-03-01"),
        _deal("D4", "R3", "B3", "closed_lost", "2025-12-01", "2026-01-15"),
        _deal("D5", "R1", "B3", "proposal", "2026-02-15"),
        _deal("D6", "R2", "B4", "closed_won", "2025-03-01", "2025-03-15"),
        _deal("D7", "R1", "B6", "closed_won", "2025-11-01", "2025-11-20 10:00"),
        _deal("D8", "R3", "B6", "closed_won", "2025-11-02", "2025-11-20 10:00"),
    ]
    return {
        "reps": _frame("rep_id, team", [("R1", "North"), ("R2", "North"), ("R3", "South")]),
        "accounts": _frame(
            "account_id, owner_rep_id",
            [("B1", "R3"), ("B2", None), ("B3", None), ("B4", "X9"), ("B5", None), ("B6", None)],
        ),
        "opportunities": _frame(DEALS, deals),
        "orders": _frame(
            "order_id, ordered_at, account_id, revenue, rep_id",
            [("Q1", "2026-03-10", "B3", 50.0, None), ("Q2", "2025-10-01", "B5", 10.0, None)],
        ),
    }


@pytest.fixture(scope="module")
def accounts_ds(tmp_path_factory):
    return open_dataset(write_tables(tmp_path_factory.mktemp("accounts"), account_tables()))


CUSTOMER_KPIS = ["active_customers", "new_customers", "customer_loss", "churn_rate"]

# scope -> (active at the end of m, new in m, lost in m, churn rate in %)
# start of m: B2, B6 (South), B4 (North), B5 (unassigned); end: B1, B2, B6, B3, B5
CUSTOMERS = {
    ("company", "company"): (5, 2, 1, 100 / 4),  # B4 lost of B2, B4, B5, B6
    ("team", "North"): (1, 1, 1, 100.0),  # B3 new; B4 (its only customer) lost
    ("team", "South"): (3, 1, 0, 0.0),  # B1 new; B2, B6 stay
    ("team", "unassigned"): (1, 0, 0, 0.0),  # B5
    ("rep", "R1"): (1, 1, 0, float("nan")),  # B3; nobody at the start: undefined
    ("rep", "R2"): (0, 0, 1, 100.0),  # B4
    ("rep", "R3"): (3, 1, 0, 0.0),  # B1, B2, B6
}


def test_an_accounts_team_is_its_owners_else_its_latest_won_deals_else_its_latest_deals(
    accounts_ds,
):
    df = kpis.compute(accounts_ds, M, scope="all", kpis=CUSTOMER_KPIS)
    got = df.set_index(["scope_type", "scope", "kpi"])["value"]
    for (st, sc), values in CUSTOMERS.items():
        for kpi, expected in zip(CUSTOMER_KPIS, values, strict=True):
            if pd.isna(expected):
                assert pd.isna(got[(st, sc, kpi)]), (sc, kpi)
            else:
                assert got[(st, sc, kpi)] == pytest.approx(expected), (sc, kpi)


def test_an_order_line_without_a_rep_counts_for_its_accounts_rep(accounts_ds):
    df = kpis.compute(accounts_ds, M, scope="all", kpis=["sales_revenue", "monthly_sales_bookings"])
    v = df.set_index(["scope", "kpi"])["value"]
    assert v[("North", "sales_revenue")] == 50.0  # Q1 of B3 -> R1
    assert v[("R1", "sales_revenue")] == 50.0
    assert v[("unassigned", "sales_revenue")] == 0.0
    # a deal counts for its own rep: D0 (account B1 of South) is R1's booking
    assert v[("North", "monthly_sales_bookings")] == 100.0
    assert v[("South", "monthly_sales_bookings")] == 0.0


def selling_tables() -> dict[str, pd.DataFrame]:
    """Teams North (R1, R2), South (R3, R4, M2, S1) and Managers (M1); X7 is missing from
    ``reps``; R2 left on 2026-02-20.

    - E1: R1, created 2026-02-01, won 2026-03-10, 1000 (the bookings of m);
    - E2: R3, created 2026-01-05, still open;
    - E3: R2, created 2026-01-10, lost 2026-02-01;
    - E4: X7, created 2025-11-01, won 2026-02-25, 500 (the bookings of m-1);
    - order lines: C1 (owned by R4) on 2026-03-02 without a rep -> R4; one of S1 on
      2025-12-20.
    M1 and M2 (managers) never own a deal or an order line.
    """
    reps = _frame(
        "rep_id, team, left_at",
        [
            ("R1", "North", None),
            ("R2", "North", "2026-02-20"),
            ("R3", "South", None),
            ("R4", "South", None),
            ("M1", "Managers", None),
            ("M2", "South", None),
            ("S1", "South", None),
        ],
    )
    deals = [
        _deal("E1", "R1", "C2", "closed_won", "2026-02-01", "2026-03-10", 1000.0),
        _deal("E2", "R3", "C2", "proposal", "2026-01-05"),
        _deal("E3", "R2", "C2", "closed_lost", "2026-01-10", "2026-02-01"),
        _deal("E4", "X7", "C3", "closed_won", "2025-11-01", "2026-02-25", 500.0),
    ]
    return {
        "reps": reps,
        "accounts": _frame("account_id, owner_rep_id", [("C1", "R4"), ("C2", "R1"), ("C3", None)]),
        "opportunities": _frame(DEALS, deals),
        "orders": _frame(
            "order_id, ordered_at, account_id, revenue, rep_id",
            [("Q1", "2026-03-02", "C1", 20.0, None), ("Q2", "2025-12-20", "C1", 20.0, "S1")],
        ),
    }


def test_sales_per_rep_divides_by_the_reps_who_sell(tmp_path):
    """Selling reps of m (2026-01..03): R1 (E1), R3 (E2), X7 (E4, counted though missing
    from reps), R4 (the order line of its account C1); not R2 (left before m), S1 (its
    line is of 2025-12), M1, M2. Of m-1 (2025-12..2026-02): R1 (E1 created), R2 (left
    after the start of m-1), R3, X7 and S1."""
    ds = open_dataset(write_tables(tmp_path, selling_tables()))
    df = kpis.compute(ds, M, months=2, scope="all", kpis=["sales_per_rep"])
    v = df.set_index(["month", "scope", "kpi"])["value"]
    st = df.set_index(["month", "scope", "kpi"])["status"]
    assert v[(M, "company", "sales_per_rep")] == 1000 / 4  # R1, R3, R4, X7
    assert v[(M, "North", "sales_per_rep")] == 1000.0  # R1 only
    assert v[(M, "South", "sales_per_rep")] == 0.0  # R3, R4 booked nothing in m
    assert v[(M, "unassigned", "sales_per_rep")] == 0.0  # X7
    assert st[(M, "Managers", "sales_per_rep")] == "undefined"  # M1 sells nothing
    assert v[("2026-02", "company", "sales_per_rep")] == 500 / 5  # E4 over 5 reps
    assert v[("2026-02", "unassigned", "sales_per_rep")] == 500.0


def test_the_same_rules_on_postgresql(postgres_url, accounts_ds):
    """The account rule (window functions over the deals), the selling reps and the stale
    pipeline give the same rows on PostgreSQL as on DuckDB."""
    import ibis

    con = ibis.connect(postgres_url)
    for name in accounts_ds.tables:
        con.create_table(name, accounts_ds.frame(name), overwrite=True)
    ids = [*CUSTOMER_KPIS, "sales_revenue", "sales_per_rep", "stale_pipeline_share"]
    duck = kpis.compute(accounts_ds, M, months=3, scope="all", kpis=ids)
    pg = kpis.compute(open_dataset(postgres_url), M, months=3, scope="all", kpis=ids)
    assert len(duck) == len(pg) > 3 * len(ids)
    pd.testing.assert_frame_equal(pg, duck, check_dtype=False)


def tie_tables() -> dict[str, pd.DataFrame]:
    """The account rule's ties and gaps, one account each (R1, R2, R3 in ``reps``; X9 and
    A0 are not):

    - T1: no owner; open deals F1 (R1) and F2 (R2) created at the same instant: the
      greatest opportunity_id (F2) -> R2.
    - T2: no owner; deal F3 won at one instant twice (a duplicated id), by R1 and by R3:
      the greatest rep_id -> R3.
    - T3: no owner; won by R1 (F4, 2025-05-01) and later by X9 (F5, 2025-09-01): only
      ``reps`` reps count -> R1.
    - T4: owner X9, no deal: the owner although ``reps`` misses it -> X9.
    - T5: two account rows, owners R3 and R2, and one of A0: the least known owner -> R2.
    - T6: no owner; F6 (R1) won without ``closed_at`` (not a won deal to go by), F7 (R3)
      created later and open: the latest deal -> R3.
    - T7: not in ``accounts``; F8 (R1) lost: the latest deal -> R1.
    - T8: owner R1, won by R3 (F9): the owner -> R1.
    """
    deals = [
        _deal("F1", "R1", "T1", "proposal", "2026-01-05 09:00"),
        _deal("F2", "R2", "T1", "proposal", "2026-01-05 09:00"),
        _deal("F3", "R1", "T2", "closed_won", "2025-10-01", "2025-12-01 12:00"),
        _deal("F3", "R3", "T2", "closed_won", "2025-10-01", "2025-12-01 12:00"),
        _deal("F4", "R1", "T3", "closed_won", "2025-04-01", "2025-05-01"),
        _deal("F5", "X9", "T3", "closed_won", "2025-08-01", "2025-09-01"),
        _deal("F6", "R1", "T6", "closed_won", "2026-01-01"),
        _deal("F7", "R3", "T6", "proposal", "2026-02-01"),
        _deal("F8", "R1", "T7", "closed_lost", "2026-01-01", "2026-02-01"),
        _deal("F9", "R3", "T8", "closed_won", "2026-01-01", "2026-02-01"),
    ]
    return {
        "reps": _frame("rep_id, team", [("R1", "North"), ("R2", "North"), ("R3", "South")]),
        "accounts": _frame(
            "account_id, owner_rep_id",
            [
                ("T1", None),
                ("T2", None),
                ("T3", None),
                ("T4", "X9"),
                ("T5", "R3"),
                ("T5", "R2"),
                ("T5", "A0"),
                ("T6", None),
                ("T8", "R1"),
            ],
        ),
        "opportunities": _frame(DEALS, deals),
    }


TIE_REPS = {
    "T1": "R2",
    "T2": "R3",
    "T3": "R1",
    "T4": "X9",
    "T5": "R2",
    "T6": "R3",
    "T7": "R1",
    "T8": "R1",
}


def _account_reps(ds) -> dict[str, str]:
    from kpi_helpers.core import Config, Month
    from kpi_helpers.metrics.measures import Measures

    got = Measures(ds, Config(), Month.parse(M), Month.parse(M)).account_reps().to_pandas()
    return dict(zip(got["_a_id"], got["_a_rep"], strict=True))


def test_an_accounts_rep_breaks_ties_by_opportunity_id_then_rep(tmp_path):
    with open_dataset(write_tables(tmp_path, tie_tables())) as ds:
        assert _account_reps(ds) == TIE_REPS


def test_the_same_ties_on_postgresql(postgres_url, tmp_path):
    load_postgres(postgres_url, write_tables(tmp_path, tie_tables()))
    with open_dataset(postgres_url) as pg:
        assert _account_reps(pg) == TIE_REPS
