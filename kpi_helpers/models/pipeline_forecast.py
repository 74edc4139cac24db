"""The pipeline-weighted bookings forecast (the catalog's ``bookings_forecast``).

For month m (S = the start of m+1, the end of m):

- **due deals**: deals open at the end of m (``created_at`` < S and ``closed_at`` empty
  or >= S) whose ``expected_close_at`` falls in m+1;
- **historical win rate**: of the deals that were open at a month end in the 12 months
  before m (the ends of m-12 .. m-1) and have closed since, by the end of m (so a past
  month's forecast uses only what was known then), the share won:
  won / (won + lost);
- **forecast** = sum over the due deals of ``amount`` x the win rate of its stage.

*Per-stage win rates.* With a stage history (``opportunity_stage_history``), the stage a
deal was in at each past month end is known (``metrics.stage_at``): the win rate of
stage s is won / (won + lost) over the deals that were in s at some month end of
m-12..m-1 and have closed by the end of m (a deal counts once for each stage it was in
at a month end), and each due deal is weighed by the rate of its stage at the end of m.
A stage no such deal was in takes the pooled rate. Without the history, the stage a
closed deal was in is not in the data (its stage is ``closed_won`` or ``closed_lost``), so
the win rate is *pooled over stages* (one rate for every stage) and ``win_rate_basis``
says so.

Beside it: the CRM-probability-weighted figure, sum of ``amount x probability`` over
the due deals (``metrics.deal_probability``: the CRM ``probability`` 0..1, else the
stage's default from ``kpi.toml`` ``[stage_probability]``, else ``default_probability``,
as in ``weighted_pipeline``), and the target of ``monthly_sales_bookings`` for m+1 when the
targets table has one for the scope.

The expected close date is as recorded: deals that closed since m usually no longer
carry one, so a forecast made for a past month counts only the deals whose expected
close date is still recorded. The figure is meant for the latest month.

Example (``pipeline_forecast`` from ``kpi_helpers.models``)::

    pipeline_forecast(ds, "2026-10", scope="team:EMEA")
    # {'month': '2026-11', 'as_of': '2026-10', 'value': 412000.0, 'win_rate': 0.38, ...}
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd

from kpi_helpers.core import Config, KitError, Month, month_index
from kpi_helpers.data import UNASSIGNED_TEAM, Dataset, check_month, month_asked
from kpi_helpers.metrics import (
    COMPANY,
    Scope,
    check_scope,
    deal_probability,
    has_stage_history,
    one_scope,
    open_at_end,
    rep_teams,
    stage_at,
    stage_history,
    targets,
    team_of,
)

WINDOW = 12  # month ends before m whose open deals give the win rate
PER_STAGE, POOLED = "per stage", "pooled over stages"  # win_rate_basis
NEEDED = ("opportunity_id", "created_at", "stage", "amount", "closed_at")
OPTIONAL = ("rep_id", "expected_close_at")


def pipeline_forecast(
    ds: Dataset, month: str, scope: str = "company", config: Config | None = None
) -> dict:
    """Pipeline-weighted bookings forecast for m+1, made at the end of ``month`` (m).

    value = sum of ``amount`` x win rate over the deals open at the end of m with
    ``expected_close_at`` in m+1; win rate = won / (won + lost) among the deals open at a
    month end in m-12..m-1 and closed by the end of m, per stage with a stage history,
    else pooled over stages (see the module docstring). Returns a dict: ``month`` (m+1),
    ``as_of`` (m), ``scope``, ``value``
    (None unless the status is "ok"), ``status`` ("ok"; "undefined" when the win rate is
    undefined and deals are due; "not_available" when no deal is open at the end of m or
    no open deal has an expected close date: never 0), ``reason`` (for those: how many
    open deals lack an expected close date), ``deals``, ``open_amount``, ``win_rate``
    (0..1, pooled), ``won``, ``lost``, ``crm_weighted``, ``target`` (None without a target
    row), ``by_stage`` (stage of the due deals -> deals, amount, win_rate, weighted,
    crm_weighted), ``win_rate_basis`` ("per stage" or "pooled over stages"),
    ``stage_win_rates`` (stage -> won, lost, win_rate; empty when pooled), and
    ``due_amounts`` / ``due_win_rates`` (each due deal's amount and the win rate it is
    weighted by: pacing simulates which close).

    Example: two deals due in m+1 of 1,000 (proposal) and 3,000 (negotiation), and 4 won
    of the 10 deals closed from the window: value = (1,000 + 3,000) x 0.4 = 1,600.
    """
    cfg = config or Config()
    m = month_asked(ds, month)
    check_month(ds, m)
    sc = one_scope(scope, "A forecast")
    deals = _deals(ds, m, sc, cfg)
    end, next_end = pd.Timestamp(m.end), pd.Timestamp((m + 1).end)
    created, closed = deals["created_at"], deals["closed_at"]

    expected = deals["expected_close_at"]
    due = deals[open_at_end(created, closed, end) & (expected >= end) & (expected < next_end)]
    due = due.copy()

    # deals open at a month end in m-12..m-1 and closed by the end of m: the last month end
    # a deal was open at is the end of the month before the one it closed in (x_mi - 1)
    c_mi = _month_index(created)
    x_mi = _month_index(closed)
    seen = (
        closed.notna()
        & (closed < end)
        & deals["stage"].isin(["closed_won", "closed_lost"])
        & (x_mi - 1 >= m.index - WINDOW)
        & open_at_end(c_mi, x_mi, x_mi)  # open at the end of month x_mi - 1
    )
    won = int((seen & (deals["stage"] == "closed_won")).sum())
    lost = int((seen & (deals["stage"] == "closed_lost")).sum())
    rate = won / (won + lost) if won + lost else math.nan
    basis, per_stage = POOLED, {}
    if has_stage_history(ds):
        basis = PER_STAGE
        # a deal's stage comes from its own rows: each lookup reads its deals' rows only
        history = _history(ds, m, deals.loc[seen, "opportunity_id"])
        per_stage = _stage_win_rates(deals[seen], history, m)
        history = _history(ds, m, due["opportunity_id"])
        now = stage_at(history, pd.DataFrame({"opportunity_id": due["opportunity_id"], "at": end}))
        due["stage"] = now["stage"].fillna(due["stage"].reset_index(drop=True)).to_numpy()
    due["_rate"] = due["stage"].map(lambda s: per_stage.get(s, {}).get("win_rate", rate))
    due["_rate"] = due["_rate"].astype("float64")

    due["_crm"] = due["amount"] * due["_prob"]
    by_stage = {
        str(stage): {
            "deals": int(len(g)),
            "amount": float(g["amount"].sum()),
            "win_rate": _none(float(g["_rate"].iloc[0])),
            "weighted": _none(float(np.sum(g["amount"].to_numpy() * g["_rate"].to_numpy()))),
            "crm_weighted": float(g["_crm"].sum()),
        }
        for stage, g in due.groupby("stage", sort=True)
    }
    amount = float(due["amount"].sum())
    # numpy's sum: a due deal without a rate makes the forecast undefined, not smaller
    value = float(np.sum(due["amount"].to_numpy() * due["_rate"].to_numpy()))
    status, reason = "ok", ""
    no_input = _no_expected_close(deals, m)
    if no_input:  # nothing to weigh: not available, never 0
        value, status, reason = math.nan, "not_available", no_input
    elif not math.isfinite(value):
        status = "undefined"
        reason = (
            f"no deal open at a month end in {m - WINDOW}..{m - 1} has closed by the end of {m}"
        )
    return {
        "month": str(m + 1),
        "as_of": str(m),
        "scope": scope,
        "value": None if status != "ok" else value,
        "status": status,
        "reason": reason,
        "deals": int(len(due)),
        "open_amount": amount,
        "win_rate": _none(rate),
        "won": won,
        "lost": lost,
        "crm_weighted": float(due["_crm"].sum()),
        "target": _target(ds, m + 1, sc),
        "by_stage": by_stage,
        "win_rate_basis": basis,
        "stage_win_rates": per_stage,
        "due_amounts": [float(a) for a in due["amount"]],  # each due deal's amount
        "due_win_rates": [float(r) for r in due["_rate"]],
    }


def _stage_win_rates(seen: pd.DataFrame, history: pd.DataFrame, m: Month) -> dict:
    """Per stage: won, lost and win_rate (NaN-free: a stage with no closed deal is left
    out) of the closed deals ``seen`` that were in the stage at a month end of
    m-12..m-1 (each deal once per stage)."""
    first = np.maximum(_month_index(seen["created_at"]), m.index - WINDOW).astype(int)
    last = (_month_index(seen["closed_at"]) - 1).astype(int)
    n = np.maximum(last - first + 1, 0).to_numpy()
    ids = np.repeat(seen["opportunity_id"].astype(str).to_numpy(), n)
    won = np.repeat((seen["stage"] == "closed_won").to_numpy(), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    months = np.repeat(first.to_numpy(), n) + offset
    ends = pd.Series(months).map({j: pd.Timestamp(Month(int(j)).end) for j in np.unique(months)})
    points = pd.DataFrame({"opportunity_id": ids, "at": ends, "won": won})
    at = stage_at(history, points).dropna(subset=["stage"])
    at = at.drop_duplicates(["opportunity_id", "stage"])
    out = {}
    for stage, g in at.groupby("stage", sort=True):
        w, lost = int(g["won"].sum()), int((~g["won"]).sum())
        out[str(stage)] = {"won": w, "lost": lost, "win_rate": w / (w + lost)}
    return out


def _history(ds: Dataset, m: Month, ids: pd.Series) -> pd.DataFrame:
    """The stage history through the end of m of the deals ``ids`` (:func:`stage_history`):
    the rows of every deal the company's forecast reads, read once per month (kept on the
    dataset with each row's deal as a number), then those of ``ids``, in the same order."""
    key = ("pipeline_history", m.index)
    if key not in ds.cache:  # the deals as a query: no upload of their IDs
        h = stage_history(ds, until=m.end, deals=_window_deals(ds, m))
        codes, deals = pd.factorize(h["opportunity_id"])
        ds.cache[key] = h, codes, pd.Index(deals)
    h, codes, deals = ds.cache[key]
    found = deals.get_indexer(pd.Index(ids.astype(str).unique()))
    wanted = np.zeros(len(deals) + 1, dtype=bool)  # the last: no deal (code -1)
    wanted[found[found >= 0]] = True
    return h[wanted[codes]].reset_index(drop=True)


def _no_expected_close(deals: pd.DataFrame, m: Month) -> str:
    """Why the deals (of the scope) give no forecast at the end of m: no deal is open, or
    no open deal has an expected close date ("" when some has one)."""
    end = pd.Timestamp(m.end)
    is_open = open_at_end(deals["created_at"], deals["closed_at"], end)
    n_open = int(is_open.sum())
    if not n_open:
        return f"no deal is open at the end of {m}"
    if deals.loc[is_open, "expected_close_at"].notna().any():
        return ""
    lack = "its 1 open deal lacks" if n_open == 1 else f"all {n_open:,} open deals lack"
    return f"no deal open at the end of {m} has an expected close date: {lack} `expected_close_at`"


def _deals(ds: Dataset, m: Month, sc: Scope, cfg: Config) -> pd.DataFrame:
    """The deals created by the end of m and open at the end of m-12 or later (closed at
    or after the start of m-11, or still open), attributed to the scope's rows, with
    ``_prob`` (:func:`deal_probability`)."""
    if not ds.has("opportunities", *NEEDED):
        needed = ", ".join(NEEDED)
        raise KitError(f"The pipeline forecast needs table opportunities with columns {needed}.")
    teams = rep_teams(ds)
    check_scope(ds, sc, teams=teams)
    # the company's deals, read once per month and probability settings: every team's
    # forecast of the pack takes its rows from them
    key = _deals_key(m, cfg)
    if key not in ds.cache:
        ds.cache[key] = _company_deals(ds, m, cfg)
    df = ds.cache[key]
    if sc.kind == "company":
        return df.copy()
    rep = df["rep_id"].astype(object).where(df["rep_id"].notna(), None)
    if sc.kind == "team":  # the team each deal counts for
        team = {r: team_of(r, teams) for r in rep.dropna().unique()}
        counts_for = rep.map(team).fillna(team_of(None, teams))
    else:  # the rep; a deal without a rep is the rep unassigned's
        counts_for = rep.fillna(UNASSIGNED_TEAM)
    return df[(counts_for == sc.name).to_numpy()]


def _deals_key(m: Month, cfg: Config) -> tuple:
    """The cache key of the company's deals at m with ``cfg``'s probability settings."""
    probabilities = tuple(sorted(cfg.stage_probability.items()))
    return ("pipeline_deals", m.index, probabilities, cfg.default_probability)


def _company_deals(ds: Dataset, m: Month, cfg: Config) -> pd.DataFrame:
    """The deals of :func:`_deals`, every scope's (the query; :func:`_deals` keeps it)."""
    o = _window_deals(ds, m)
    o = o.mutate(_prob=deal_probability(o, cfg))
    df = o.select(*NEEDED, *(c for c in OPTIONAL if c in o.columns), "_prob").to_pandas()
    for col in OPTIONAL:
        if col not in df.columns:
            df[col] = None
    for col in ("created_at", "closed_at", "expected_close_at"):
        df[col] = pd.to_datetime(df[col])
    df["amount"] = df["amount"].astype("float64").fillna(0.0)
    df["_prob"] = df["_prob"].astype("float64")
    return df


def _window_deals(ds: Dataset, m: Month) -> ibis.Table:
    """The opportunities created by the end of m and open at the end of m-12 or later."""
    o = ds.table("opportunities")
    since = ibis.timestamp((m - WINDOW + 1).start)
    return o.filter(
        o.created_at < ibis.timestamp(m.end), o.closed_at.isnull() | (o.closed_at >= since)
    )


def _month_index(ts: pd.Series) -> pd.Series:
    """year x 12 + month - 1 of each timestamp (NaN where empty)."""
    return month_index(ts.dt.year, ts.dt.month)


def _target(ds: Dataset, month: Month, sc: Scope) -> float | None:
    """The monthly_sales_bookings target of the scope in ``month``, or None."""
    t = targets(ds, [month])
    name = COMPANY if sc.kind == "company" else sc.name
    row = t[(t["kpi"] == "monthly_sales_bookings") & (t["scope_type"] == sc.kind)]
    row = row[row["scope"] == name]
    return float(row["target"].iloc[0]) if len(row) else None


def _none(x: float) -> float | None:
    """None for NaN (JSON-friendly), else the float."""
    return None if not np.isfinite(x) else float(x)
