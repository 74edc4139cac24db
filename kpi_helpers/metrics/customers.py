"""Customers: who is a customer when, and the measures of customers.

An account is a customer while it is *active* (DATA_CONTRACT.md; :func:`active_spells`):
subscribers while a subscription runs, other accounts for ``customer_lookback_days``
after an order line with revenue > 0 or a won deal. Its first purchase
(:func:`first_purchase`) makes it a new customer. The sets are kept on the dataset
(``Measures.facts``) for the sources and table KPIs that read them again.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import pandas as pd

from kpi_helpers.core import Month
from kpi_helpers.data import keep_table

from .measures import BASE, Measures, month_of, source


def customer_events(ms: Measures) -> ibis.Table | None:
    """(account_id, t): the events that make an account a customer at t, order lines with
    revenue > 0 (t = ``ordered_at``) and won deals (t = ``closed_at``); None when the data
    has neither. Example: a line of 50 on 2026-03-03 and a return of -20 give one event
    (2026-03-03), a deal won on 2026-03-11 another."""
    parts = []
    if ms.ds.has("orders", "account_id", "ordered_at", "revenue"):
        o = ms.ds.table("orders")
        parts.append(o.filter(o.revenue > 0).select("account_id", t=o.ordered_at))
    if ms.ds.has("opportunities", "account_id", "closed_at"):
        w = ms.ds.table("opportunities")
        w = w.filter((w.stage == "closed_won") & w.closed_at.notnull())
        parts.append(w.filter(w.account_id.notnull()).select("account_id", t=w.closed_at))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)


def active_spells(ms: Measures, since: Month | None = None) -> ibis.Table:
    """(account_id, s, e): the months s..e (inclusive) in which an account is an active
    customer at the month end, as non-overlapping spells within ``since``..``last``.

    DATA_CONTRACT.md: an account that has subscribed (a subscription started before
    S = start of m+1) is active exactly while a subscription runs at the end of m
    (``started_at`` < S <= ``ended_at``); any other account while an order line with
    revenue > 0 or a won deal at t has start(m+1) - lookback <= t < start(m+1). So the
    months from an account's first subscription month F on are judged by its
    subscriptions alone, and its events keep it active in the months before F only.

    Example (lookback 365 days): orders in 2025-01 and 2025-06, then a subscription
    from 2025-09-10 to 2026-02-05: active 2025-01..2025-08 from the orders (cut at F-1 =
    2025-08), 2025-09..2026-01 from the subscription, lost in 2026-02; an order in
    2026-03 does not make it active again (it has subscribed), a new subscription does.
    """
    lo, hi = (since or ms.first).index, ms.last.index
    spells = []
    first_sub = None
    if ms.ds.has("subscriptions", "account_id", "started_at"):
        s = ms.ds.table("subscriptions")
        s = s.filter(s.started_at.notnull())
        stop = month_of(s.ended_at) - 1 if "ended_at" in s.columns else ibis.null("int64")
        spells.append(s.select("account_id", a=month_of(s.started_at), b=stop.fill_null(hi)))
        first_sub = s.group_by(_f_id=s.account_id).aggregate(_f=month_of(s.started_at.min()))
    events = customer_events(ms)
    if events is not None:
        # an event keeps its account active until lookback days after it, so events
        # before start(lo + 1) - lookback end before lo: their spells would be
        # clipped away below; leaving them out first spares most of the history
        look = timedelta(days=ms.cfg.customer_lookback_days)
        since_t = ibis.timestamp(Month(lo + 1).start - look)
        e = events.filter((events.t < ibis.timestamp(ms.end)) & (events.t >= since_t))
        e = e.group_by([e.account_id, month_of(e.t).name("a")]).aggregate(tmax=e.t.max())
        # active while start(m + 1) <= tmax + lookback, i.e. m < month(tmax + lookback)
        until = month_of(e.tmax + ibis.interval(days=ms.cfg.customer_lookback_days))
        e = e.select("account_id", "a", b=until - 1)
        if first_sub is not None:
            # a subscriber's events count before its first subscription month F only
            j = e.left_join(first_sub, e.account_id == first_sub._f_id)
            j = j.filter(j._f.isnull() | (j.a < j._f))
            cut = ibis.ifelse(j._f.notnull() & (j._f <= j.b), j._f - 1, j.b)
            e = j.select("account_id", "a", b=cut)
        spells.append(e)
    out = spells[0]
    for other in spells[1:]:
        out = out.union(other, distinct=False)
    return merge_spells(out, ["account_id"], lo, hi)


def cached_spells(ms: Measures, since: Month) -> ibis.Table:
    """:func:`active_spells` from ``since``, kept on the dataset; spells computed from
    an earlier month serve too (they hold the same months from ``since`` on), e.g.
    ``cached_spells(ms, ms.first)`` reuses the spells the customers source computed from
    ``ms.first - 1``."""
    look = ms.cfg.customer_lookback_days
    for key, table in ms.ds.cache.items():
        if key[:2] == ("facts", "spells") and key[2:4] == (ms.last.index, look):
            if key[4] <= since.index:
                return table
    return ms.facts(("spells", ms.last.index, look, since.index), lambda: active_spells(ms, since))


def first_purchase(ms: Measures) -> ibis.Table:
    """(account_id, first_mi): the month of each account's first purchase or win, the
    first of its :func:`customer_events`, kept on the dataset. Example: orders in 2025-12
    and 2026-03 and a deal won in 2026-01: first_mi = the index of 2025-12."""

    def build() -> ibis.Table:
        e = customer_events(ms)
        first = e.group_by("account_id").aggregate(first_t=e.t.min())
        return first.mutate(first_mi=month_of(first.first_t))

    return ms.facts(("first_purchase",), build)


def merge_spells(t: ibis.Table, keys: list[str], lo: int, hi: int) -> ibis.Table:
    """Spells (``keys``, a, b: months a..b inclusive) clipped to lo..hi and merged per
    ``keys`` into non-overlapping spells (keys, s, e). Touching spells merge too, so a
    spell's end is a real stop. Example, lo..hi = 2..20: 1..4, 3..6 and 7..9 merge into
    2..9; 12..30 becomes 12..20."""
    # greatest()/least() skip NULLs on every backend: drop spells without a start first
    t = t.filter(t.a.notnull())
    t = t.mutate(a=ibis.greatest(t.a, lo), b=ibis.least(t.b, hi))
    t = t.filter(t.a <= t.b)
    # one row per start month: with ties on a, a backend could order the tied rows
    # differently from one query to the next
    t = t.group_by([*keys, "a"]).aggregate(b=t.b.max())
    # a spell starts at a row that neither overlaps nor touches the rows before it (the
    # latest end before it, _prev); it ends where the next one starts, at the latest end
    # before that start (the next start's _prev), or at the latest end of all (_last)
    before = ibis.window(group_by=keys, order_by="a", rows=(None, -1))
    t = t.mutate(_prev=t.b.max().over(before), _last=t.b.max().over(group_by=keys))
    starts = t.filter(t._prev.isnull() | (t.a > t._prev + 1))
    w = ibis.window(group_by=keys, order_by="a")
    end = ibis.coalesce(starts._prev.lead().over(w), starts._last)
    return starts.select(*keys, s=starts.a, e=end)


# ---------------------------------------------------------------------- measure sources


@source(
    "customers",
    ("orders|opportunities.account_id,closed_at",),
    ("active_customers", "new_customers", "customers_lost"),
    since=("order_line|closed_deal",),
    by_account=True,
)
def _customers(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Active customers at the end of m, new customers in m, customers lost in m.

    Customers are attributed to their account's rep, one scope per account, so the
    counts add up from reps to teams and the company. A customer is lost in the month
    after its last active month; spells start one month early for the first month's
    losses."""
    first, last = ms.first.index, ms.last.index
    spells = cached_spells(ms, ms.first - 1)
    spells = keep_table(ms.ds, ms.by_owner(spells))  # read by the states and the losses
    active = spells.filter(spells.e >= first).select(
        "_rep", "_team", "account_id", _start=ibis.greatest(spells.s, first), _stop=spells.e + 1
    )
    plus = active.select("_rep", "_team", _mi=active._start, _d=ibis.literal(1, "int64"))
    ended = active.filter(active._stop <= last)
    minus = ended.select("_rep", "_team", _mi=ended._stop, _d=ibis.literal(-1, "int64"))
    states = ms.running(
        ms.base(
            plus.union(minus, distinct=False), "_mi", lambda t: {"active_customers": t._d.sum()}
        )
    )
    lost = ms.base(*_lost(ms, spells), lambda t: {"customers_lost": t.count()})
    fp = first_purchase(ms)
    fp = ms.by_owner(fp.filter((fp.first_mi >= first) & (fp.first_mi <= last)))
    new = ms.base(fp, "first_mi", lambda t: {"new_customers": t.count()})
    base = pd.concat([states, lost, new], ignore_index=True)
    base = base.groupby(BASE, as_index=False).sum(min_count=1)
    return ms.roll_up(base.fillna(0), st)


def _lost(ms: Measures, spells: ibis.Table) -> tuple[ibis.Table, ibis.Value]:
    """The spells whose end loses a customer, and the month (slot) it is lost in: the
    month after the spell's last. Over a period p (:class:`Slots`): an account active at
    the start of p (its spell began before p) whose spell ends in p and that is not
    active again at the end of p (its next spell, if any, starts after p's last month).

    Example, a quarter Nov..Jan: active Aug..Nov, lost in Dec: lost in the quarter; active
    Aug..Nov and again from Jan: not lost; active Dec only (new in it): not lost."""
    lost = spells.filter(spells.e < ms.last.index)
    if ms.slots.monthly:
        return lost, lost.e + 1
    w = ibis.window(group_by="account_id", order_by="s")
    t = spells.mutate(_next=spells.s.lead().over(w))
    t = t.filter(t.e < ms.last.index).mutate(_p=ms.slots.of(t.e + 1))
    begun = t.s < ms.slots.first_of(t._p)
    t = t.filter(begun & (t._next.isnull() | (t._next > ms.slot_last(t._p))))
    return t, t._p


@source(
    "engagement",
    ("activities.account_id", "orders|opportunities.account_id,closed_at"),
    ("customer_activities",),
    since=("activity", "order_line|closed_deal"),
)
def _engagement(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Activities in m on an account that is an active customer at the end of m (in a
    period: activities in p of the accounts active at the end of p)."""
    t = ms.in_range(ms.ds.table("activities"), "occurred_at")
    t = t.filter(t.account_id.notnull()).mutate(_a_mi=ms.slots.of(month_of(t.occurred_at)))
    spells = cached_spells(ms, ms.first)
    c = spells.select(_c_id=spells.account_id, _c_s=spells.s, _c_e=spells.e)
    # active at the end of m (of a period: at the end of its last month)
    end = ms.slot_last(t._a_mi)
    j = t.join(c, (t.account_id == c._c_id) & (end >= c._c_s) & (end <= c._c_e))
    j = ms.by_rep(j.drop("_c_id", "_c_s", "_c_e"))
    return ms.roll_up(ms.base(j, "_a_mi", lambda x: {"customer_activities": x.count()}), st)


@source(
    "nps",
    ("nps_responses",),
    ("nps_responses", "nps_promoters", "nps_detractors"),
    since=("nps_answer",),
    by_account=True,
)
def _nps(ms: Measures, st: list[str]) -> pd.DataFrame:
    t = ms.in_range(ms.ds.table("nps_responses"), "responded_at")
    t = ms.by_owner(t) if "account_id" in t.columns else ms.by_rep(t, ibis.null("string"))
    return ms.roll_up(
        ms.base(
            t,
            month_of(t.responded_at),
            lambda x: {
                "nps_responses": x.count(),
                "nps_promoters": (x.score >= 9).sum().cast("int64"),
                "nps_detractors": (x.score <= 6).sum().cast("int64"),
            },
        ),
        st,
    )
