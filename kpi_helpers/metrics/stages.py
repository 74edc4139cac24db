"""The stage a deal was in at an instant, from ``opportunity_stage_history``
(DATA_CONTRACT.md, "Optional: opportunity_stage_history").

A deal is *in stage s at the end of m* when its latest row with ``entered_at`` < S (the
start of m+1) has stage s; before its first row, it is in that row's stage. The amount
and the expected close of a row hold from that instant on, when the history has them.
Whether the deal is open at all still comes from ``created_at`` / ``closed_at``.

Example::

    h = stage_history(ds)
    points = pd.DataFrame({"opportunity_id": ["O1"], "at": [pd.Timestamp("2026-04-01")]})
    stage_at(h, points)["stage"]  # O1's stage at the end of 2026-03
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import ibis
import pandas as pd

from kpi_helpers.data import STAGE_HISTORY, Dataset

HISTORY_COLUMNS = ("opportunity_id", "stage", "entered_at")
ROW_VALUES = ("amount", "expected_close_at")  # what a row may also record from its instant


def has_stage_history(ds: Dataset) -> bool:
    """Whether ``ds`` has a stage history with its required columns.

    >>> has_stage_history(open_dataset("data/sample"))  # doctest: +SKIP
    True
    """
    return ds.has(STAGE_HISTORY, *HISTORY_COLUMNS)


def stage_history(
    ds: Dataset,
    until: datetime | None = None,
    deals: Iterable[str] | ibis.Table | None = None,
) -> pd.DataFrame:
    """The history rows (``opportunity_id``, ``stage``, ``entered_at``, and ``amount``,
    ``expected_close_at`` when recorded, else NaN) entered before ``until`` (all when None)
    of ``deals`` (IDs, or a table with ``opportunity_id``; all when None), sorted by
    deal, ``entered_at`` and ``stage``.

    Example: ``stage_history(ds, until=Month.parse("2026-03").end)``."""
    h = ds.table(STAGE_HISTORY)
    h = h.filter(h.entered_at.notnull() & h.opportunity_id.notnull() & h.stage.notnull())
    if until is not None:
        h = h.filter(h.entered_at < ibis.timestamp(until))
    if deals is not None:  # a semi join: an IN list of thousands of IDs is slow
        if not isinstance(deals, ibis.Table):
            ids = pd.Series(list(deals), dtype="object").astype(str).drop_duplicates()
            deals = ibis.memtable(pd.DataFrame({"opportunity_id": ids}))
        ids = deals.select(_id=deals.opportunity_id.cast("string"))
        h = h.semi_join(ids, h.opportunity_id == ids._id)
    kept = [c for c in ROW_VALUES if c in h.columns]
    df = h.select(*HISTORY_COLUMNS, *kept).to_pandas()
    for col in ROW_VALUES:
        if col not in df.columns:
            df[col] = None
    df["entered_at"] = pd.to_datetime(df["entered_at"]).astype("datetime64[ns]")
    df["expected_close_at"] = pd.to_datetime(df["expected_close_at"]).astype("datetime64[ns]")
    df["amount"] = df["amount"].astype("float64")
    df["opportunity_id"] = df["opportunity_id"].astype(str)
    return df.sort_values(["opportunity_id", "entered_at", "stage"], ignore_index=True)


def stage_at(history: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """``points`` (``opportunity_id``, ``at``: an instant S) with the deal's ``stage``,
    ``amount`` and ``expected_close_at`` just before S: from its latest row entered before
    S, else its first row; NaN for a deal without rows. Rows keep the order of ``points``.

    >>> h = pd.DataFrame({"opportunity_id": ["O1", "O1"], "stage": ["a", "b"],
    ...     "entered_at": pd.to_datetime(["2026-01-05", "2026-02-01"]),
    ...     "amount": [1.0, 2.0], "expected_close_at": pd.NaT})
    >>> p = pd.DataFrame({"opportunity_id": ["O1"] * 3,
    ...     "at": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"])})
    >>> stage_at(h, p)["stage"].tolist()
    ['a', 'a', 'b']
    """
    values = ["stage", *ROW_VALUES]
    pts = points.reset_index(drop=True).copy()
    pts["_row"] = range(len(pts))
    pts["opportunity_id"] = pts["opportunity_id"].astype(str)
    pts["at"] = pd.to_datetime(pts["at"]).astype("datetime64[ns]")
    h = history[["opportunity_id", "entered_at", *values]].sort_values("entered_at", kind="stable")
    h["entered_at"] = pd.to_datetime(h["entered_at"]).astype("datetime64[ns]")
    before = pd.merge_asof(
        pts.sort_values("at", kind="stable"),
        h,
        left_on="at",
        right_on="entered_at",
        by="opportunity_id",
        allow_exact_matches=False,  # entered at S: not yet in it at the end of m
        direction="backward",
    ).sort_values("_row", ignore_index=True)
    first = history.groupby("opportunity_id", sort=False)[values].first()
    none = before["entered_at"].isna()
    out = points.reset_index(drop=True).copy()
    for col in values:  # before a deal's first row: that row's values (its dtype kept,
        # also when no deal asked has a row: a datetime column is not cast to float)
        fallback = first[col].reindex(pts["opportunity_id"]).to_numpy()
        out[col] = before[col].where(~none.to_numpy(), fallback)
    return out
