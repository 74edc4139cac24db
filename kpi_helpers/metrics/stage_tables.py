"""The table KPIs of the stage history (issue 19): ``stage_conversion``, ``days_in_stage``
and ``pipeline_movement``. Each takes the month's :class:`Measures`, the scope's filter
(``keep``, as every table KPI) and the month; ``metrics.tables`` registers them (the last
two as tables of events: their "m" is a ``tables.Span``, a quarter's months). The
stage a deal was in at an instant comes from :mod:`.stages`.

The stage order is the one of kpi.toml's ``[stage_probability]`` (prospecting,
qualification, proposal, negotiation by default), then other open stages by name, then
closed_won and closed_lost. Example::

    compute_table(ds, "stage_conversion", "2026-05", "team:EMEA", Config())
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd

from kpi_helpers.core import Month
from kpi_helpers.data import CLOSED_STAGES

from .measures import Measures
from .stages import stage_at, stage_history

Keep = Callable[[ibis.Table], ibis.Table]  # the scope's rows (metrics.tables.Keep)
WON, LOST = CLOSED_STAGES
CONVERSION_MONTHS = 12  # stage_conversion: deals that entered a stage in the 12 months to m
MOVEMENT_STEPS = ("start", "new", "moved_in", "moved_out", "won", "lost", "amount_change", "end")
CLOSED_SINCE = "(closed since)"  # a deal without history rows that closed since the instant
SLIPPED = "slipped"  # pipeline_movement's memo rows: not a part of the change


def stage_order(stages, cfg_stages) -> list[str]:
    """The stages in their order: kpi.toml's ``[stage_probability]``, other open stages by
    name, then closed_won and closed_lost.

    >>> stage_order({"closed_won", "demo", "proposal", "prospecting"}, ["prospecting", "proposal"])
    ['prospecting', 'proposal', 'demo', 'closed_won']
    """
    if isinstance(stages, pd.Series):  # a history's column: each stage once
        stages = stages.dropna().unique()
    seen = {str(s) for s in stages if pd.notna(s)}
    known = [s for s in cfg_stages if s in seen]
    other = sorted(seen - set(known) - set(CLOSED_STAGES))
    return known + other + [s for s in CLOSED_STAGES if s in seen]


def _deals(ms: Measures, keep: Keep, month: Month) -> pd.DataFrame:
    """The scope's deals created by the end of m: id, created_at, closed_at, stage, amount,
    expected_close_at (NaT when not recorded)."""
    o = keep(ms.by_rep(ms.ds.table("opportunities")))
    o = o.filter(o.created_at < ibis.timestamp(month.end))
    cols = ["opportunity_id", "created_at", "stage", "amount"]
    extra = [c for c in ("closed_at", "expected_close_at") if c in o.columns]
    df = o.select(*cols, *extra).to_pandas()
    for col in ("closed_at", "expected_close_at", "created_at"):
        df[col] = pd.to_datetime(df[col] if col in df.columns else pd.NaT).astype("datetime64[ns]")
    df["opportunity_id"] = df["opportunity_id"].astype(str)
    df["amount"] = df["amount"].astype("float64").fillna(0.0)
    return df


def entries(history: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``history`` (sorted by deal and ``entered_at``) where a deal entered a
    stage: its first row and each row whose stage differs from the row before. A row in
    the same stage (Salesforce writes one when the amount or the close date changes) is no
    entry.

    >>> h = pd.DataFrame({"opportunity_id": ["O1"] * 3, "stage": ["a", "a", "b"]})
    >>> entries(h).index.tolist()
    [0, 2]
    """
    before = history.groupby("opportunity_id", sort=False)["stage"].shift(1)
    return history[before.isna() | (before != history["stage"])]


def _stints(history: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """One row per stay in a stage: the deal, the stage, ``entered_at`` and ``left_at`` (the
    deal's next entry, else its close for an open stage; NaT while it stays)."""
    h = entries(history).merge(deals[["opportunity_id", "closed_at"]], on="opportunity_id")
    h = h.sort_values(["opportunity_id", "entered_at", "stage"], ignore_index=True)
    nxt = h.groupby("opportunity_id")["entered_at"].shift(-1)
    closes = ~h["stage"].isin(CLOSED_STAGES)
    h["left_at"] = nxt.where(nxt.notna(), h["closed_at"].where(closes))
    h["next_stage"] = h.groupby("opportunity_id")["stage"].shift(-1)
    return h


def stage_conversion(ms: Measures, keep: Keep, month: Month) -> pd.DataFrame:
    """Per stage, the deals that entered it in the 12 months ending with m; of them, the
    share that reached the next stage (entered a later stage of the order, or were won) and
    the share won, both by the end of m.

    Columns: stage, next_stage, deals, reached_next, won, conversion_to_next (%),
    win_rate (%). Example: 4 deals entered proposal in the 12 months; 3 moved on to
    negotiation or closed_won, 1 was won: 75 % reached the next stage, 25 % were won.
    """
    deals = _deals(ms, keep, month)
    history = stage_history(ms.ds, until=month.end, deals=deals["opportunity_id"])
    order = stage_order(history["stage"], ms.cfg.stage_probability)
    open_order = [s for s in order if s not in CLOSED_STAGES]
    rank = {s: i for i, s in enumerate(open_order + [WON])}
    since = pd.Timestamp((month - (CONVERSION_MONTHS - 1)).start)
    h = entries(history)
    h = h[h["stage"].isin(open_order) & (h["entered_at"] >= since)]
    entered = h.drop_duplicates(["opportunity_id", "stage"])
    # the furthest stage each deal reached by the end of m (closed_won counts as the last)
    reach = history.assign(_r=history["stage"].map(rank)).groupby("opportunity_id")["_r"].max()
    won_ids = set(
        deals.loc[
            (deals["stage"] == WON) & (deals["closed_at"] < month.end), "opportunity_id"
        ].tolist()
    )
    rows = []
    for i, stage in enumerate(open_order):
        ids = entered.loc[entered["stage"] == stage, "opportunity_id"]
        if ids.empty:
            continue
        # a Python set's lookups: Series.isin of a large set makes a pyarrow scalar of each
        # member on every call (pandas 3's strings; 18 s on the large sample)
        is_won = np.fromiter((x in won_ids for x in ids.tolist()), bool, len(ids))
        # a won deal reached every stage after its own, recorded or not
        reached = int(((ids.map(reach).fillna(-1) > i).to_numpy() | is_won).sum())
        won = int(is_won.sum())
        nxt = open_order[i + 1] if i + 1 < len(open_order) else WON
        rows.append((stage, nxt, len(ids), reached, won))
    cols = ["stage", "next_stage", "deals", "reached_next", "won"]
    out = pd.DataFrame(rows, columns=cols).astype({c: "int64" for c in cols[2:]})
    whole = out["deals"].where(out["deals"] > 0)
    out["conversion_to_next"] = out["reached_next"] / whole * 100.0
    out["win_rate"] = out["won"] / whole * 100.0
    return out


def days_in_stage(ms: Measures, keep: Keep, month: Month) -> pd.DataFrame:
    """Per open stage, the stays that ended in m (the deal entered another stage or closed
    in m): how many, and the median and 90th percentile of the days in the stage (exact:
    seconds / 86,400; the percentile interpolates linearly between the two nearest stays).

    Columns: stage, deals, median_days, p90_days. Example: two deals left proposal in m
    after 10 and 20 days: median 15, p90 19.
    """
    deals = _deals(ms, keep, month)
    history = stage_history(ms.ds, until=month.end, deals=deals["opportunity_id"])
    s = _stints(history, deals)
    start, end = pd.Timestamp(month.start), pd.Timestamp(month.end)
    s = s[~s["stage"].isin(CLOSED_STAGES) & (s["left_at"] >= start) & (s["left_at"] < end)]
    s = s.assign(days=(s["left_at"] - s["entered_at"]).dt.total_seconds() / 86400.0)
    order = stage_order(s["stage"], ms.cfg.stage_probability)
    rows = [
        (
            stage,
            len(g),
            float(np.median(g["days"])),
            float(np.percentile(g["days"], 90)),
        )
        for stage in order
        for g in [s[s["stage"] == stage]]
    ]
    out = pd.DataFrame(rows, columns=["stage", "deals", "median_days", "p90_days"])
    return out.astype({"deals": "int64", "median_days": "float64", "p90_days": "float64"})


def pipeline_movement(ms: Measures, keep: Keep, month: Month) -> pd.DataFrame:
    """A waterfall of the pipeline value from the start of m (the end of m-1) to its end, per
    stage. A deal's value at an instant is its amount then (the history's, when recorded,
    else the deal's), in its stage then; it is in the pipeline while open
    (``created_at`` < S <= ``closed_at``). The steps:

    - start / end: the pipeline at the start / end of m;
    - new: deals created in m, at their value at the end of m (or at their close, for deals
      created and closed in m);
    - moved_out / moved_in: deals open at both instants in another stage at the end than at
      the start, out of the start's stage and into the end's, at their value at the start;
    - won / lost: deals closed in m, at their value at the start (created in m: at close),
      negative;
    - amount_change: deals open at both instants, value at the end minus at the start;
    - slipped (memo, ``part`` False): deals open at both instants whose expected close at the
      start fell in m and at the end lies after m, at their value at the end; they stay in
      the pipeline, so they are no part of the change.

    The parts (``part`` True, neither start nor end) add up to end - start exactly, per stage
    and in total. Columns: step, stage, deals, value, part.
    """
    deals = _deals(ms, keep, month)
    start, end = pd.Timestamp(month.start), pd.Timestamp(month.end)
    relevant = deals[deals["closed_at"].isna() | (deals["closed_at"] >= start)]
    history = stage_history(ms.ds, until=month.end, deals=relevant["opportunity_id"])

    d = relevant.reset_index(drop=True)

    def state(at: pd.Timestamp | pd.Series) -> pd.DataFrame:
        """Each relevant deal's stage, value and expected close just before ``at``, and
        whether it is open then."""
        points = pd.DataFrame({"opportunity_id": d["opportunity_id"], "at": at})
        got = stage_at(history, points)
        closed_stage = d["stage"].isin(CLOSED_STAGES)
        return pd.DataFrame(
            {
                "stage": got["stage"].fillna(d["stage"].where(~closed_stage, CLOSED_SINCE)),
                "value": got["amount"].astype("float64").fillna(d["amount"]),
                "expected": pd.to_datetime(got["expected_close_at"]).fillna(d["expected_close_at"]),
                "open": (d["created_at"] < points["at"])
                & (d["closed_at"].isna() | (d["closed_at"] >= points["at"])),
            }
        )

    a, b = state(start), state(end)
    # deals created and closed in m: their stage and value just before the close
    at_close = state(d["closed_at"].fillna(end))
    closed_in_m = d["closed_at"].notna() & (d["closed_at"] < end)
    both = a["open"] & b["open"]
    created_in_m = ~a["open"] & (d["created_at"] >= start) & (d["created_at"] < end)
    parts: list[tuple[str, pd.Series, pd.Series, pd.Series]] = [
        ("start", a["open"], a["stage"], a["value"]),
        ("new", created_in_m & b["open"], b["stage"], b["value"]),
        ("new", created_in_m & closed_in_m, at_close["stage"], at_close["value"]),
        ("moved_out", both & (a["stage"] != b["stage"]), a["stage"], -a["value"]),
        ("moved_in", both & (a["stage"] != b["stage"]), b["stage"], a["value"]),
    ]
    for step, kind in (("won", WON), ("lost", LOST)):
        closed = closed_in_m & ((d["stage"] == WON) == (kind == WON))
        parts.append((step, closed & a["open"], a["stage"], -a["value"]))
        parts.append((step, closed & created_in_m, at_close["stage"], -at_close["value"]))
    parts.append(("amount_change", both, b["stage"], b["value"] - a["value"]))
    parts.append(("end", b["open"], b["stage"], b["value"]))
    slipped = both & (a["expected"] >= start) & (a["expected"] < end) & (b["expected"] >= end)
    parts.append((SLIPPED, slipped, b["stage"], b["value"]))
    frames = [
        pd.DataFrame({"step": step, "stage": stage[mask], "value": value[mask]})
        for step, mask, stage, value in parts
    ]
    rows = pd.concat(frames, ignore_index=True)
    rows["deals"] = 1
    rows = rows.groupby(["step", "stage"], as_index=False).agg(
        deals=("deals", "sum"), value=("value", "sum")
    )
    rows = rows[(rows["step"] != "amount_change") | (rows["value"] != 0)]
    steps = {s: i for i, s in enumerate((*MOVEMENT_STEPS, SLIPPED))}
    order = stage_order(rows["stage"], ms.cfg.stage_probability)
    stages = {s: i for i, s in enumerate(order)}
    rows = rows.assign(_s=rows["step"].map(steps), _g=rows["stage"].map(stages).fillna(len(stages)))
    rows = rows.sort_values(["_s", "_g", "stage"], ignore_index=True).drop(columns=["_s", "_g"])
    rows["part"] = ~rows["step"].isin(["start", "end", SLIPPED])
    return rows[["step", "stage", "deals", "value", "part"]].astype({"deals": "int64"})
