"""Measure sources of the ``subscriptions`` table: MRR at the end of m and its movements
in m (new, expansion, reactivation, contraction, churned).
"""

from __future__ import annotations

import ibis
import pandas as pd

from kpi_helpers.core import Month

from .measures import Column, Measures, flag, month_of, source


def _subscriptions(ms: Measures) -> ibis.Table:
    s = ms.ds.table("subscriptions")
    if "ended_at" not in s.columns:
        s = s.mutate(ended_at=ibis.null("timestamp"))
    return s


@source("mrr", ("subscriptions",), ("mrr",), since=("subscription",), by_account=True)
def _mrr(ms: Measures, st: list[str]) -> pd.DataFrame:
    """MRR of subscriptions running at the end of m (``started_at`` < S <= ``ended_at``)."""
    s = ms.by_owner(_subscriptions(ms))
    states = ms.month_deltas(
        s,
        month_of(s.started_at),
        month_of(s.ended_at),
        {"mrr": lambda t: t.mrr, "_with_mrr": lambda t: flag(t.mrr != 0)},
        counted_by={"mrr": "_with_mrr"},
    )
    return ms.roll_up(states.drop(columns="_with_mrr"), st)


MRR_MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churned")


def mrr_movement(before: Column, now: Column, first_month: Column) -> dict[str, tuple]:
    """The one rule of MRR movements: how an account's MRR moved from the end of m-1
    (``before``) to the end of m (``now``), as movement -> (condition, amount). For Ibis
    expressions and pandas Series alike; ``first_month`` (boolean): m is the month of the
    account's first subscription.

    - new: no MRR before, some now, in its first month (amount: now);
    - reactivation: no MRR before, some now, subscribed in an earlier month (now);
    - expansion: more than before (now - before);
    - contraction: less than before, but some (before - now);
    - churned: some before, none now (before).

    At most one condition holds, and its amount is then > 0; none holds when the MRR did
    not change. Example, before/now 0/5 (first month), 0/5, 10/15, 10/4, 10/0:

    >>> moves = mrr_movement(
    ...     pd.Series([0.0, 0.0, 10.0, 10.0, 10.0]),
    ...     pd.Series([5.0, 5.0, 15.0, 4.0, 0.0]),
    ...     pd.Series([True, False, False, False, False]),
    ... )
    >>> for i in range(5):
    ...     print([(k, float(amount[i])) for k, (moved, amount) in moves.items() if moved[i]])
    [('new', 5.0)]
    [('reactivation', 5.0)]
    [('expansion', 5.0)]
    [('contraction', 6.0)]
    [('churned', 10.0)]
    """
    p, c = before, now
    return {
        "new": ((p == 0) & (c > 0) & first_month, c),
        "expansion": ((p > 0) & (c > p), c - p),
        "reactivation": ((p == 0) & (c > 0) & ~first_month, c),
        "contraction": ((p > 0) & (c > 0) & (c < p), p - c),
        "churned": ((p > 0) & (c == 0), p),
    }


def mrr_changes(ms: Measures, since: Month | None = None) -> ibis.Table:
    """(account_id, mi, mrr_now, mrr_before, new, expansion, reactivation, contraction,
    churned: the amounts of :func:`mrr_movement`) for each account and month
    ``since``..``last`` in which a subscription of the account starts or ends (other
    months have no movement).

    Each subscription adds its MRR in its start month and takes it away in its end
    month; the running sum per account is its MRR at each month end. "No MRR" is told by
    the number of running subscriptions with MRR, not by a sum that might be 1e-13."""
    lo = (since or ms.first).index
    s = _subscriptions(ms)
    s = s.filter(s.started_at < ibis.timestamp(ms.end))
    on = flag(s.mrr != 0)
    start, stop = month_of(s.started_at), month_of(s.ended_at)
    plus = s.select("account_id", mi=start, d=s.mrr, n=on)
    ends = s.filter(stop.notnull() & (stop <= ms.last.index))
    minus = ends.select("account_id", mi=month_of(ends.ended_at), d=-ends.mrr, n=-on)
    both = plus.union(minus, distinct=False)
    per = both.group_by(["account_id", "mi"]).aggregate(d=both.d.sum(), n=both.n.sum())
    first = s.group_by(_f_id=s.account_id).aggregate(_f_mi=month_of(s.started_at.min()))
    upto = ibis.window(group_by="account_id", order_by="mi", rows=(None, 0))
    per = per.mutate(now=per.d.sum().over(upto), n_now=per.n.sum().over(upto))
    per = per.filter((per.mi >= lo) & (per.mi <= ms.last.index))
    per = per.mutate(
        mrr_now=ibis.ifelse(per.n_now > 0, per.now, 0.0),
        mrr_before=ibis.ifelse(per.n_now - per.n > 0, per.now - per.d, 0.0),
    )
    j = per.join(first, per.account_id == first._f_id)
    moves = mrr_movement(j.mrr_before, j.mrr_now, j._f_mi >= j.mi)
    return j.select(
        "account_id",
        "mi",
        "mrr_now",
        "mrr_before",
        first_mi=j._f_mi,
        **{k: ibis.ifelse(moved, amount, 0.0) for k, (moved, amount) in moves.items()},
    )


@source(
    "mrr_movements",
    ("subscriptions",),
    tuple(f"mrr_{k}" for k in MRR_MOVEMENTS),
    since=("subscription",),
    by_account=True,
)
def _mrr_movements(ms: Measures, st: list[str]) -> pd.DataFrame:
    """MRR movements in m; over a period p (:class:`Slots`), per account between the
    start and the end of p: its MRR before its first change in p against its MRR after
    its last change in p (new when its first subscription month is in p)."""
    c = mrr_changes(ms)
    if ms.slots.monthly:
        j = c
    else:
        c = c.mutate(_p=ms.slots.of(c.mi))
        keys = ["account_id", "_p"]
        c = c.mutate(
            _a=ibis.row_number().over(ibis.window(group_by=keys, order_by="mi")),
            _z=ibis.row_number().over(ibis.window(group_by=keys, order_by=ibis.desc("mi"))),
        )
        g = c.group_by(keys).aggregate(
            _b=c.mrr_before.sum(where=c._a == 0),
            _n=c.mrr_now.sum(where=c._z == 0),
            _f=c.first_mi.min(),
        )
        moves = mrr_movement(g._b, g._n, ms.slots.of(g._f) >= g._p)
        j = g.select(
            "account_id",
            mi=g._p,
            **{k: ibis.ifelse(moved, amount, 0.0) for k, (moved, amount) in moves.items()},
        )
    j = ms.by_owner(j)
    base = ms.base(j, "mi", lambda t: {f"mrr_{k}": t[k].sum() for k in MRR_MOVEMENTS})
    return ms.roll_up(base, st)
