"""Measure sources of the ``orders`` table (the revenue ledger, one row per order line):
revenue, orders, paying accounts, units, COGS, gross profit, the revenue of new
customers and the customers who ordered in the last 12 months.
"""

from __future__ import annotations

import ibis
import pandas as pd

from kpi_helpers.data import keep_table

from .customers import first_purchase
from .measures import KEY, Measures, month_of, outer_merge, source
from .scopes import COMPANY


@source(
    "orders",
    ("orders",),
    ("revenue", "orders", "revenue_accounts", "units", "cogs", "gross_profit"),
    extra_needs={"units": ("orders.quantity",), "cogs": ("orders.cost",)},
    since=("order_line",),
    by_account=True,
)
def _orders(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Order lines of m: revenue, orders, accounts with revenue > 0, units, COGS, and
    gross profit = revenue - cost (revenue alone when the orders have no ``cost``; an
    empty cost counts as 0, like in COGS)."""
    o = ms.by_order(ms.in_range(ms.ds.table("orders"), "ordered_at"))
    keep = ["order_id", "account_id", "revenue"] + [
        c for c in ("quantity", "cost") if c in o.columns
    ]
    o = o.select("_rep", "_team", *keep, _o_mi=month_of(o.ordered_at))

    def sums(t: ibis.Table) -> dict[str, ibis.Value]:
        out = {"revenue": t.revenue.sum()}
        if "quantity" in t.columns:
            out["units"] = t.quantity.sum()
        if "cost" in t.columns:
            out["cogs"] = t.cost.sum()
            out["gross_profit"] = (t.revenue - t.cost.fill_null(0)).sum()
        else:
            out["gross_profit"] = t.revenue.sum()
        return out

    if not ms.asked("orders", "revenue_accounts"):
        return ms.roll_up(ms.base(o, "_o_mi", sums), st)

    # attributed once, read by the sums and the distinct counts, and dropped right after
    # (the engine keeps the resulting measures, not the ~0.5 GB of order lines)
    # distinct orders and accounts are counted per slot (a month, or a period: an order
    # whose lines span two months of a quarter counts once in it)
    o, slot = ms.slotted(o, "_o_mi")
    with keep_table(ms.ds, o) as facts:
        out = ms.roll_up(ms.base(facts, "_o_mi", sums), st)
        orders = ms.distinct_count(facts, slot, "order_id", st, "orders")
        paid = facts.filter(facts.revenue > 0)
        accounts = ms.distinct_count(paid, slot, "account_id", st, "revenue_accounts")
    return outer_merge(out, orders, accounts)


@source(
    "new_customer_revenue",
    ("orders", "orders|opportunities.account_id,closed_at"),
    ("new_customer_revenue",),
    since=("order_line",),
    by_account=True,
)
def _new_customer_revenue(ms: Measures, st: list[str]) -> pd.DataFrame:
    o = ms.in_range(ms.ds.table("orders"), "ordered_at")
    """Revenue in m (or period p: :class:`Slots`) from the accounts whose first purchase
    falls in m (p): in a quarter, the second month's orders of a customer new in its first
    month count."""
    o = o.mutate(_o_mi=ms.slots.of(month_of(o.ordered_at)))
    first = first_purchase(ms)
    f = first.select(_f_id=first.account_id, _f_mi=ms.slots.of(first.first_mi))
    j = o.join(f, (o.account_id == f._f_id) & (o._o_mi == f._f_mi))
    j = ms.by_order(j.drop("_f_id", "_f_mi"))
    return ms.roll_up(ms.base(j, "_o_mi", lambda t: {"new_customer_revenue": t.revenue.sum()}), st)


@source(
    "customers_ordered_12m",
    ("orders",),
    ("customers_ordered_12m",),
    since=("order_line",),
    by_account=True,
)
def _customers_ordered_12m(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Distinct accounts with an order line with revenue > 0 in the 12 months ending with m,
    per scope. An account-month a with an order counts for the months a..a+11; per scope
    and account these make *spells*: a spell starts at an order month with no order in
    the 12 months before it and ends 12 months after an order month with none in the 12
    months after it. Each spell is a +1 at its start and a -1 at its end, summed up over
    the months (:meth:`Measures.running`): one window (``lag`` and ``lead``) per (scope,
    account), no spell merging, and only the spells' ends leave the database.

    Example: orders in months 0, 5 and 30 give the spells 0..16 and 30..41: +1 at 0,
    -1 at 17, +1 at 30, -1 at 42, i.e. counted in months 0..16 and 30..41."""
    o = ms.ds.table("orders")
    o = o.filter(
        (o.revenue > 0)
        & (o.ordered_at < ibis.timestamp(ms.end))
        & (o.ordered_at >= ibis.timestamp((ms.first - 11).start))
    )
    o = ms.by_order(o)
    # the order lines read once, as their (account, rep, team, month)s, kept for the
    # scope types below (a backend may run a shared subquery once per reader)
    o = o.select("account_id", "_rep", "_team", a=month_of(o.ordered_at)).distinct()
    with keep_table(ms.ds, o) as facts:
        deltas = _ordered_deltas(ms, facts, st)
    states = ms.running(deltas)  # rep = scope, team = scope type here
    out = states.rename(columns={"rep": "scope", "team": "scope_type"})
    return out[KEY + ["customers_ordered_12m"]]


def _ordered_deltas(ms: Measures, o: ibis.Table, st: list[str]) -> pd.DataFrame:
    """The +1/-1 deltas of :func:`_customers_ordered_12m` per (mi, scope, scope type),
    from ``o``: distinct (account_id, _rep, _team, a)."""
    first, last = ms.first.index, ms.last.index
    stacked = None
    for t in st:
        scope = {"company": ibis.literal(COMPANY), "team": o._team, "rep": o._rep}[t]
        part = ms.keep(o, sorted(ms.wanted.get(t) or ()))
        # one row per (scope, account, month): fewer rows for the window to sort
        part = part.select("account_id", "a", _t=ibis.literal(t), _s=scope.cast("string"))
        if t != "rep":  # (account, rep, month) rows are distinct already
            part = part.distinct()
        stacked = part if stacked is None else stacked.union(part, distinct=False)
    w = ibis.window(group_by=["_t", "_s", "account_id"], order_by="a")
    p = stacked.mutate(_p=stacked.a.lag().over(w), _n=stacked.a.lead().over(w))
    # a spell starts at a month without an order in the 12 before it (counted from
    # ``first`` on: the orders read start 11 months earlier, so every spell ends after
    # ``first``) and ends 12 months after one without an order in the 12 after it
    starts = p.filter(p._p.isnull() | (p._p + 12 < p.a))
    plus = starts.select(
        "_t", "_s", _mi=ibis.greatest(starts.a, first), _d=ibis.literal(1, "int64")
    )
    ends = p.filter((p._n.isnull() | (p._n > p.a + 12)) & (p.a + 12 <= last))
    minus = ends.select("_t", "_s", _mi=ends.a + 12, _d=ibis.literal(-1, "int64"))
    both = plus.union(minus, distinct=False)
    g = both.group_by([both._mi.name("mi"), both._s.name("rep"), both._t.name("team")])
    deltas = g.aggregate(customers_ordered_12m=both._d.sum()).to_pandas()
    return deltas.astype({"rep": object, "team": object, "mi": "int64"})
