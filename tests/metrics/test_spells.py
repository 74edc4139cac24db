"""Spells: ``merge_spells`` (nested, touching and separate rows), and
``customers_ordered_12m``: distinct accounts with an order line with revenue > 0 in the 12
months ending with m, per scope, counted as spells (a +1 where an account's orders start,
a -1 12 months after its last order before a gap), on a hand-written ledger.
"""

from __future__ import annotations

import ibis
import pandas as pd
from conftest import write_tables

from kpi_helpers.core import Config, Month
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import merge_spells
from kpi_helpers.metrics.measures import SOURCES, Measures


def test_a_spell_ends_at_the_latest_end_of_its_rows_not_its_last_rows():
    """Lo..hi = 0..30. A: 3..10 holds 4..5 and touches 11..11 -> 3..11; 13..20 holds
    14..15 -> 13..20 (its last row ends first). B: 5..5 alone; 7..9 and 8..35 -> 7..30
    (clipped). C: -4..-1 is before lo -> no spell."""
    rows = [
        ("A", 3, 10),
        ("A", 4, 5),
        ("A", 11, 11),
        ("A", 13, 20),
        ("A", 14, 15),
        ("B", 5, 5),
        ("B", 8, 35),
        ("B", 7, 9),
        ("C", -4, -1),
    ]
    df = pd.DataFrame(rows, columns=["account_id", "a", "b"])
    out = ibis.duckdb.connect().to_pandas(merge_spells(ibis.memtable(df), ["account_id"], 0, 30))
    got = sorted(out[["account_id", "s", "e"]].itertuples(index=False, name=None))
    assert got == [("A", 3, 11), ("A", 13, 20), ("B", 5, 5), ("B", 7, 30)]


MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def ledger() -> dict[str, pd.DataFrame]:
    """Team N (R1, R2) and S (R3); months 2026-01..06 read orders from 2025-02 on.

    - A (R1): 2025-01 (before what is read), 2025-03 and 2026-03, exactly 12 months
      later: no gap -> counted every month.
    - B (R1): 2025-02 and 2026-03, 13 months later: not counted in 2026-02 only.
    - C: R1 in 2025-06 (counted by R1 through 2026-05), R3 in 2025-08 (through 2026-07):
      N through 2026-05, S and the company every month, the company once.
    - D (R2): 2026-04 with revenue 0 (not counted), 2026-05 -> from 2026-05 on.
    - E: R1 and R2 both in 2025-09 -> both reps every month, N (and the company) once.
    """
    lines = [
        ("A", "R1", "2025-01-10", 10.0),
        ("A", "R1", "2025-03-31", 10.0),
        ("A", "R1", "2026-03-01", 10.0),
        ("B", "R1", "2025-02-01", 10.0),
        ("B", "R1", "2026-03-15", 10.0),
        ("C", "R1", "2025-06-20", 10.0),
        ("C", "R3", "2025-08-20", 10.0),
        ("D", "R2", "2026-04-02", 0.0),
        ("D", "R2", "2026-05-02", 10.0),
        ("E", "R1", "2025-09-05", 10.0),
        ("E", "R2", "2025-09-25", 10.0),
    ]
    orders = pd.DataFrame(
        [(f"Q{i}", at, acc, rev, rep) for i, (acc, rep, at, rev) in enumerate(lines)],
        columns=["order_id", "ordered_at", "account_id", "revenue", "rep_id"],
    )
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "team": ["N", "N", "S"]})
    return {"reps": reps, "orders": orders}


# scope -> the count in each of MONTHS
EXPECTED = {
    ("rep", "R1"): [4, 3, 4, 4, 4, 3],  # A, B (not Feb), C (not Jun), E
    ("rep", "R2"): [1, 1, 1, 1, 2, 2],  # E, D from May
    ("rep", "R3"): [1, 1, 1, 1, 1, 1],  # C
    ("team", "N"): [4, 3, 4, 4, 5, 4],  # A, B (not Feb), C (not Jun), D from May, E once
    ("team", "S"): [1, 1, 1, 1, 1, 1],  # C
    ("company", "company"): [4, 3, 4, 4, 5, 5],  # A, B (not Feb), C, D from May, E
}


def test_customers_ordered_12m_counts_each_account_once_per_scope_and_month(tmp_path):
    with open_dataset(write_tables(tmp_path, ledger())) as ds:
        ms = Measures(ds, Config(), Month.parse(MONTHS[0]), Month.parse(MONTHS[-1]))
        got = SOURCES["customers_ordered_12m"].run(ms, ["company", "team", "rep"])
    got = got.set_index(["scope_type", "scope", "mi"])["customers_ordered_12m"]
    for key, counts in EXPECTED.items():
        values = [got.get((*key, Month.parse(m).index), 0) for m in MONTHS]
        assert values == counts, key
