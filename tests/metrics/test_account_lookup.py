"""The accounts' reps looked up for one source's accounts only (``Measures.account_reps``
given ``accounts``) follow the same rule (DATA_CONTRACT.md "An account's rep and team")
as the whole lookup; the engine takes the short lookup when one source asked reads the
accounts' reps, and keeps the whole one when several do (issue 20).

Month m = 2026-03; every subscription runs from 2026-01-01.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import load_postgres, write_tables

from kpi_helpers import kpis
from kpi_helpers.core import Config, Month
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import Engine
from kpi_helpers.metrics.measures import Measures

M = "2026-03"
KEPT = ("facts", "account_reps")


def _frame(columns: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[c.strip() for c in columns.split(",")])


def tables() -> dict[str, pd.DataFrame]:
    """North (R1, R2), South (R3); X9 owns accounts but is not in ``reps``.

    - A1: owner R3 -> R3.
    - A2: owner X9 (not in reps), won by R2 -> R2.
    - A3: no owner; won by R1 (D3), then R3 opened D4 later -> the latest won deal: R1.
    - A4: no owner, never won; R1's D5, then R3's D6 created later -> R3.
    - A5: no owner, won by R2, but no subscription: not in the short lookup.
    - A6: owner X9, no deal -> X9 (team unassigned).
    - A7: a subscription only (not in accounts, no deal): no rep (unassigned).
    """
    deal = "opportunity_id, created_at, stage, amount, closed_at, rep_id, account_id"
    return {
        "reps": _frame("rep_id, team", [("R1", "North"), ("R2", "North"), ("R3", "South")]),
        "accounts": _frame(
            "account_id, owner_rep_id",
            [("A1", "R3"), ("A2", "X9"), ("A3", None), ("A4", None), ("A5", None), ("A6", "X9")],
        ),
        "opportunities": _frame(
            deal,
            [
                ("D1", "2025-05-01", "closed_won", 10.0, "2025-06-01", "R1", "A1"),
                ("D2", "2025-05-01", "closed_won", 10.0, "2025-06-01", "R2", "A2"),
                ("D3", "2025-05-01", "closed_won", 10.0, "2025-06-01", "R1", "A3"),
                ("D4", "2025-09-01", "proposal", 10.0, None, "R3", "A3"),
                ("D5", "2025-05-01", "proposal", 10.0, None, "R1", "A4"),
                ("D6", "2025-09-01", "closed_lost", 10.0, "2026-03-10", "R3", "A4"),
                ("D7", "2025-05-01", "closed_won", 10.0, "2025-06-01", "R2", "A5"),
            ],
        ),
        "subscriptions": _frame(
            "subscription_id, account_id, started_at, ended_at, mrr",
            [
                (f"S{a[1]}", a, "2026-01-01", None, mrr)
                for a, mrr in [("A1", 100.0), ("A2", 50.0), ("A3", 20.0), ("A4", 10.0)]
                + [("A6", 5.0), ("A7", 1.0)]
            ],
        ),
    }


SUBSCRIBED = {"A1": "R3", "A2": "R2", "A3": "R1", "A4": "R3", "A6": "X9"}


def _reps(table) -> dict[str, str]:
    got = table.to_pandas()
    return dict(zip(got["_a_id"], got["_a_rep"], strict=True))


def test_the_short_lookup_gives_the_subscribed_accounts_the_reps_of_the_whole_one(tmp_path):
    with open_dataset(write_tables(tmp_path, tables())) as ds:
        ms = Measures(ds, Config(), Month.parse(M), Month.parse(M))
        short = _reps(ms.account_reps(ds.table("subscriptions")))
        assert KEPT not in ds.cache  # built for the query, not kept
        assert short == SUBSCRIBED
        whole = _reps(ms.account_reps())
        assert whole == {**SUBSCRIBED, "A5": "R2"}  # A5: deals, no subscription
        assert KEPT in ds.cache
        # once the whole lookup is kept, it serves the short one too
        assert _reps(ms.account_reps(ds.table("subscriptions"))) == whole


# MRR at the end of m per scope: North R2 50 + R1 20, South R3 100 + 10, unassigned
# X9 5 + A7 1
MRR = {
    ("company", "company"): 186.0,
    ("team", "North"): 70.0,
    ("team", "South"): 110.0,
    ("team", "unassigned"): 6.0,
    ("rep", "R3"): 110.0,
}


@pytest.mark.parametrize(
    ("also", "kept"),
    [("win_rate", False), ("active_customers", True)],
    ids=["one-reader", "two-readers"],
)
def test_the_engine_keeps_the_whole_lookup_only_when_several_sources_read_it(tmp_path, also, kept):
    assert Engine.few_accounts(["mrr", "closed_deals"])
    assert not Engine.few_accounts(["mrr", "customers"])
    with open_dataset(write_tables(tmp_path, tables())) as ds:
        df = kpis.compute(ds, M, scope="all", kpis=["monthly_recurring_revenue", also])
        assert (KEPT in ds.cache) is kept
    v = df[df["kpi"] == "monthly_recurring_revenue"].set_index(["scope_type", "scope"])["value"]
    assert {s: v[s] for s in MRR} == MRR


def test_the_short_lookup_on_postgresql(postgres_url, tmp_path):
    load_postgres(postgres_url, write_tables(tmp_path, tables()))
    with open_dataset(postgres_url) as pg:
        ms = Measures(pg, Config(), Month.parse(M), Month.parse(M))
        assert _reps(ms.account_reps(pg.table("subscriptions"))) == SUBSCRIBED
