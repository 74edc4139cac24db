"""Measure sources of the ``opportunities`` table: deals won and lost in m (amounts,
bookings, cycle days, quoted deals, expansion accounts), deals created in m, the
pipeline open at the end of m, and its stale and overdue parts.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import pandas as pd

from kpi_helpers.core import Config
from kpi_helpers.data import keep_table

from .measures import (
    BASE,
    Measures,
    month_of,
    open_at_end,
    outer_merge,
    seconds_between,
    source,
)


@source(
    "closed_deals",
    ("opportunities.closed_at",),
    (
        "won",
        "lost",
        "won_amount",
        "bookings",
        "cycle_days_sum",
        "won_new",
        "won_new_amount",
        "quoted_won",
        "quoted_closed",
        "expansion_amount",
        "upsell_accounts",
        "cross_sell_accounts",
    ),
    # without the column, no deal counts as quoted: "needs `quoted_at`", not a 0 denominator
    extra_needs={
        "quoted_won": ("opportunities.quoted_at",),
        "quoted_closed": ("opportunities.quoted_at",),
    },
    since=("closed_deal",),
)
def _closed(ms: Measures, st: list[str]) -> pd.DataFrame:
    o = ms.ds.table("opportunities")
    cols = o.columns
    o = ms.in_range(o.filter(o.stage.isin(["closed_won", "closed_lost"])), "closed_at")
    o = o.mutate(
        _won=o.stage == "closed_won",
        _type=(o.deal_type.fill_null("new") if "deal_type" in cols else ibis.literal("new")),
        _cost=(o.associated_cost.fill_null(0) if "associated_cost" in cols else ibis.literal(0.0)),
        _quoted=(o.quoted_at.notnull() if "quoted_at" in cols else ibis.literal(False)),
        _acct=(o.account_id if "account_id" in cols else ibis.null("string")),
        _c_mi=month_of(o.closed_at),
    )
    o = ms.by_rep(o)

    def sums(t: ibis.Table) -> dict[str, ibis.Value]:
        won = t._won
        every = {
            "won": won.sum().cast("int64"),
            "lost": (~won).sum().cast("int64"),
            "won_amount": t.amount.sum(where=won),
            "bookings": (t.amount - t._cost).sum(where=won),
            "cycle_days_sum": (seconds_between(t.closed_at, t.created_at) / 86400.0).sum(where=won),
            "won_new": (won & (t._type == "new")).sum().cast("int64"),
            "won_new_amount": t.amount.sum(where=won & (t._type == "new")),
            "quoted_won": (won & t._quoted).sum().cast("int64"),
            "quoted_closed": t._quoted.sum().cast("int64"),
            "expansion_amount": t.amount.sum(where=won & t._type.isin(["upsell", "cross_sell"])),
        }
        # the sums asked for only (won, lost and bookings for win rate and bookings)
        return {k: v for k, v in every.items() if ms.asked(k)} or {"won": every["won"]}

    def distinct(t: ibis.Table) -> dict[str, ibis.Value]:
        return {
            "upsell_accounts": t._acct.nunique(where=t._type == "upsell"),
            "cross_sell_accounts": t._acct.nunique(where=t._type == "cross_sell"),
        }

    # only won expansion deals matter for the distinct accounts: a much smaller union
    out = ms.roll_up(ms.base(o, "_c_mi", sums), st)
    if not ms.asked("upsell_accounts", "cross_sell_accounts"):
        return out
    w = o.filter(o._won & o._type.isin(["upsell", "cross_sell"]))
    w, slot = ms.slotted(w.select("_c_mi", "_rep", "_team", "_acct", "_type"), "_c_mi")
    return outer_merge(out, ms.per_type(w, slot, st, distinct))


@source("new_opportunities", ("opportunities",), ("new_opportunities",), since=("deal",))
def _new_opps(ms: Measures, st: list[str]) -> pd.DataFrame:
    o = ms.by_rep(ms.in_range(ms.ds.table("opportunities"), "created_at"))
    base = ms.base(o, month_of(o.created_at), lambda t: {"new_opportunities": t.count()})
    return ms.roll_up(base, st)


def deal_probability(o: ibis.Table, config: Config) -> ibis.Value:
    """The probability (0..1) that each deal of ``o`` (opportunities) is won: its CRM
    ``probability``, else its stage's default (kpi.toml ``[stage_probability]``), else
    ``default_probability``. The one rule of the weighted pipeline and the pipeline
    forecast's CRM-weighted figure.

    >>> o = ibis.memtable(
    ...     {"stage": ["proposal", "proposal", "demo"], "probability": [None, 0.9, None]}
    ... )
    >>> cfg = Config(stage_probability={"proposal": 0.5}, default_probability=0.3)
    >>> o.select(p=deal_probability(o, cfg)).to_pandas()["p"].tolist()
    [0.5, 0.9, 0.3]
    """
    default = ibis.literal(float(config.default_probability))
    if config.stage_probability:
        stages = [(o.stage == k, float(v)) for k, v in config.stage_probability.items()]
        default = ibis.cases(*stages, else_=default)
    return o.probability.fill_null(default) if "probability" in o.columns else default


@source(
    "pipeline",
    ("opportunities.closed_at",),
    ("open_deals", "pipeline_value", "weighted_pipeline"),
    since=("deal",),
)
def _pipeline(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Deals open at the end of m (:func:`open_at_end` of created_at and closed_at): in
    months, open from month(created_at) until month(closed_at), exclusive."""
    o = ms.ds.table("opportunities")
    o = o.filter(o.created_at < ibis.timestamp(ms.end))
    o = ms.by_rep(o.mutate(_prob=deal_probability(o, ms.cfg)))
    states = ms.month_deltas(
        o,
        month_of(o.created_at),
        month_of(o.closed_at),
        {
            "open_deals": lambda t: ibis.literal(1, "int64"),
            "pipeline_value": lambda t: t.amount,
            "weighted_pipeline": lambda t: t.amount * t._prob,
        },
        counted_by={"pipeline_value": "open_deals", "weighted_pipeline": "open_deals"},
    )
    return ms.roll_up(states, st)


STALE_MIN_DAYS = 30.0  # a deal is never stale before this age (KPI_CATALOG.md)


def stale_age_days(median_cycle_days: ibis.Value) -> ibis.Value:
    """The age in days above which a deal open at the end of m is stale: twice the median
    cycle length of the deals won in the 12 months ending with m, at least 30 days; 30 days
    when none was won (no cycle to go by). The one rule of ``stale_pipeline_share``.

    >>> t = ibis.memtable({"median": [52.0, 10.0, None]})
    >>> t.select(days=stale_age_days(t.median)).to_pandas()["days"].tolist()
    [104.0, 30.0, 30.0]
    """
    twice = median_cycle_days * 2.0
    return ibis.ifelse(twice.notnull() & (twice > STALE_MIN_DAYS), twice, STALE_MIN_DAYS)


@source("stale_pipeline", ("opportunities.closed_at",), ("stale_value",))
def _stale(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Value of the deals open at the end of m older than the stale age of their scope
    (:func:`stale_age_days`). Each scope goes by the cycle of its own won deals, so the
    values do not add up from reps to teams: they are grouped per scope type.

    Example: a team whose deals won in the last 12 months took 20, 50 and 60 days (median
    50) calls stale its deals open at the end of m created more than 100 days before."""
    o = ms.ds.table("opportunities")
    first, last = ms.first.index, ms.last.index
    # the median cycle of the deals won in the 12 months ending with each month, per scope
    w = o.filter(
        (o.stage == "closed_won")
        & (o.closed_at >= ibis.timestamp((ms.first - 11).start))
        & (o.closed_at < ibis.timestamp(ms.end))
    )
    w = ms.by_rep(w)
    w = w.select(
        "_rep",
        "_team",
        _c=month_of(w.closed_at),
        _days=seconds_between(w.closed_at, w.created_at) / 86400.0,
    )
    won = _union([w.select("_rep", "_team", "_days", _mi=w._c + k) for k in range(12)])
    won = ms.stacked(won.filter((won._mi >= first) & (won._mi <= last)), st)
    med = won.group_by(
        [won.scope_type.name("_m_type"), won.scope.name("_m_scope"), won._mi.name("_m_mi")]
    ).aggregate(_med=won._days.median())
    # the deals open at the end of each month and older than the least stale age
    o = o.filter(
        (o.created_at < ibis.timestamp(ms.last.end - timedelta(days=STALE_MIN_DAYS)))
        & (o.closed_at.isnull() | (o.closed_at >= ibis.timestamp(ms.first.end)))
    )
    o = ms.by_rep(o).select("_rep", "_team", "amount", "created_at", "closed_at")
    with keep_table(ms.ds, o) as deals:
        parts = []
        for month in ms.months:
            end = ibis.timestamp(month.end)
            old = ibis.timestamp(month.end - timedelta(days=STALE_MIN_DAYS))
            d = deals.filter(open_at_end(deals.created_at, deals.closed_at, end))
            d = d.filter(d.created_at < old)
            parts.append(
                d.select(
                    "_rep",
                    "_team",
                    "amount",
                    "created_at",
                    _mi=ibis.literal(month.index, "int64"),
                    _end=end,
                )
            )
        opens = ms.stacked(_union(parts), st)
        j = opens.left_join(
            med,
            (opens.scope_type == med._m_type)
            & (opens.scope == med._m_scope)
            & (opens._mi == med._m_mi),
        )
        stale = seconds_between(j._end, j.created_at) > stale_age_days(j._med) * 86400.0
        g = j.group_by(["scope_type", "scope", j._mi.name("mi")]).aggregate(
            stale_value=j.amount.sum(where=stale)
        )
        df = g.to_pandas()
    return df.astype({"scope_type": object, "scope": object, "mi": "int64"})


@source(
    "overdue_pipeline",
    ("opportunities.closed_at", "opportunities.expected_close_at"),
    ("overdue_value", "open_dated"),
)
def _overdue(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Deals open at the end of m with an ``expected_close_at``: their number, and the
    value of those expected before the end of m (overdue). In months: dated from
    month(created_at), overdue from the later of month(created_at) and
    month(expected_close_at), until month(closed_at), exclusive."""
    o = ms.ds.table("opportunities")
    o = o.filter((o.created_at < ibis.timestamp(ms.end)) & o.expected_close_at.notnull())
    o = ms.by_rep(o)
    created, closed = month_of(o.created_at), month_of(o.closed_at)
    one = lambda t: ibis.literal(1, "int64")  # noqa: E731
    dated = ms.month_deltas(o, created, closed, {"open_dated": one})
    late = ms.month_deltas(
        o,
        ibis.greatest(created, month_of(o.expected_close_at)),
        closed,
        {"overdue_value": lambda t: t.amount, "_late": one},
        counted_by={"overdue_value": "_late"},
    )
    base = dated.merge(late.drop(columns="_late"), on=BASE, how="outer")
    return ms.roll_up(base.fillna(0), st)


def _union(parts: list[ibis.Table]) -> ibis.Table:
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out
