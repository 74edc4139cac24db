"""Measure sources of the ``opportunities`` table: deals won and lost in m (amounts,
bookings, cycle days, quoted deals, expansion accounts), deals created in m, and the
pipeline open at the end of m.
"""

from __future__ import annotations

import ibis
import pandas as pd

from kpi_helpers.core import Config

from .measures import Measures, month_of, outer_merge, seconds_between, source


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
        return {
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
    w = w.select("_c_mi", "_rep", "_team", "_acct", "_type")
    return outer_merge(out, ms.per_type(w, "_c_mi", st, distinct))


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
