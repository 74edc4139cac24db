"""Base measures: the counts, sums and medians every KPI is a formula of.

Each measure group is one grouped Ibis query that returns, for every scope of
every requested scope type and every month, a handful of measures. Scope types
are stacked with ``union_all`` so one query serves company, teams and reps at
once, and months come from the timestamp's year and month (or from a join with
a small table of month bounds for "at the end of m" states). The queries are
plain Ibis, so they run unchanged on DuckDB, PostgreSQL and Spark.

Scope attribution follows DATA_CONTRACT.md: a row with a ``rep_id`` belongs to
that rep and the rep's team; account-level rows (subscriptions, NPS answers,
customers) to the account owner; order lines without a rep to the account owner;
unknown reps fall into the team ``unassigned``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import ibis
import pandas as pd

from .config import Config
from .contract import UNASSIGNED_TEAM
from .months import Month, month_range
from .sources import Dataset

COMPANY = "company"
SCOPE_TYPES = ("company", "team", "rep")
KEY = ["scope_type", "scope", "mi"]


@dataclass(frozen=True)
class Group:
    """A measure group: what it needs and which measures it produces."""

    name: str
    needs: tuple[str, ...]  # "table" or "table.column"
    produces: tuple[str, ...]
    run: Callable[[Measures, list[str]], pd.DataFrame]
    extra_needs: dict[str, tuple[str, ...]]  # what single measures need beyond ``needs``


GROUPS: dict[str, Group] = {}


def group(
    name: str,
    needs: tuple[str, ...],
    produces: tuple[str, ...],
    extra_needs: dict[str, tuple[str, ...]] | None = None,
):
    def register(fn):
        GROUPS[name] = Group(name, needs, produces, fn, extra_needs or {})
        return fn

    return register


def missing_inputs(ds: Dataset, needs: tuple[str, ...]) -> list[str]:
    """The needs (``table`` or ``table.column``) that ``ds`` does not meet."""
    out = []
    for need in needs:
        options = need.split("|")  # alternatives: any one will do
        if not any(_has(ds, option) for option in options):
            out.append(options[-1] if len(options) > 1 else need)
    return out


def _has(ds: Dataset, need: str) -> bool:
    table, _, column = need.partition(".")
    return ds.has(table, *([column] if column else []))


def describe_missing(missing: list[str]) -> str:
    """``needs table `leads` with column `first_response_at```."""
    parts = []
    for need in missing:
        table, _, column = need.partition(".")
        parts.append(f"table `{table}` with column `{column}`" if column else f"table `{table}`")
    return "needs " + " and ".join(parts)


def _mi(ts: ibis.Value) -> ibis.Value:
    return ts.year().cast("int64") * 12 + ts.month().cast("int64") - 1


def _seconds(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    return later.epoch_seconds().cast("float64") - earlier.epoch_seconds().cast("float64")


class Measures:
    """Computes measure groups for months ``first..last`` and the given scope types."""

    def __init__(self, ds: Dataset, config: Config, first: Month, last: Month):
        self.ds, self.cfg, self.first, self.last = ds, config, first, last
        self.months = month_range(first, last)
        self.start, self.end = first.start, last.end
        lookback = timedelta(days=config.customer_lookback_days)
        self.month_table = ibis.memtable(
            {
                "m_mi": [m.index for m in self.months],
                "m_start": [m.start for m in self.months],
                "m_end": [m.end for m in self.months],
                "m_look": [m.end - lookback for m in self.months],
            },
            schema={
                "m_mi": "int64",
                "m_start": "timestamp",
                "m_end": "timestamp",
                "m_look": "timestamp",
            },
        )

    # ------------------------------------------------------------------ attribution

    def _reps(self) -> ibis.Table | None:
        if not self.ds.has("reps", "rep_id", "team"):
            return None
        r = self.ds.table("reps")
        # one row per rep (validation reports duplicates; min() is the same on every backend)
        return r.group_by(_r_id=r.rep_id).aggregate(_r_team=r.team.min())

    def by_rep(self, t: ibis.Table, rep: ibis.Value | str = "rep_id") -> ibis.Table:
        """``t`` with ``_rep`` and ``_team`` from a rep id column (or expression)."""
        if isinstance(rep, str):  # a column name; a table without it has no reps
            rep_expr = t[rep] if rep in t.columns else ibis.null("string")
        else:
            rep_expr = rep
        t = t.mutate(_rep=rep_expr)
        reps = self._reps()
        if reps is None:
            return t.mutate(
                _team=ibis.literal(UNASSIGNED_TEAM), _rep=t._rep.fill_null(UNASSIGNED_TEAM)
            )
        j = t.left_join(reps, t._rep == reps._r_id)
        return j.mutate(
            _team=j._r_team.fill_null(UNASSIGNED_TEAM), _rep=j._rep.fill_null(UNASSIGNED_TEAM)
        ).drop("_r_id", "_r_team")

    def _owners(self) -> ibis.Table | None:
        if not self.ds.has("accounts", "account_id", "owner_rep_id"):
            return None
        a = self.ds.table("accounts")
        return a.group_by(_a_id=a.account_id).aggregate(_a_owner=a.owner_rep_id.min())

    def by_owner(self, t: ibis.Table, rep_first: str | None = None) -> ibis.Table:
        """``t`` attributed to its account's owner (or to ``rep_first`` when set)."""
        owners = self._owners()
        if owners is None:
            rep = t[rep_first] if rep_first else ibis.null("string")
            return self.by_rep(t, rep)
        j = t.left_join(owners, t.account_id == owners._a_id)
        rep = j[rep_first].fill_null(j._a_owner) if rep_first else j._a_owner
        return self.by_rep(j.mutate(_owner_rep=rep).drop("_a_id", "_a_owner"), "_owner_rep")

    def aggregate(
        self,
        t: ibis.Table,
        mi: ibis.Value | str,
        scope_types: list[str],
        metrics: Callable[[ibis.Table], dict[str, ibis.Value]],
    ) -> pd.DataFrame:
        """Group ``t`` (with ``_rep``/``_team``) by scope and month and compute ``metrics``."""
        t = t.mutate(_mi=t[mi] if isinstance(mi, str) else mi)
        stacked = None
        for st in scope_types:
            scope = {"company": ibis.literal(COMPANY), "team": t._team, "rep": t._rep}[st]
            part = t.mutate(scope_type=ibis.literal(st), scope=scope.cast("string"))
            stacked = part if stacked is None else stacked.union(part, distinct=False)
        g = stacked.group_by(["scope_type", "scope", stacked._mi.name("mi")]).aggregate(
            **metrics(stacked)
        )
        df = g.to_pandas()
        # plain object keys: pandas cannot merge empty Arrow-backed string columns
        return df.astype({"scope_type": object, "scope": object, "mi": "int64"})

    def in_range(self, t: ibis.Table, column: str) -> ibis.Table:
        start, end = ibis.timestamp(self.start), ibis.timestamp(self.end)
        return t.filter((t[column] >= start) & (t[column] < end))

    def at_month_ends(self, t: ibis.Table, start: str, end: str) -> ibis.Table:
        """Rows of ``t`` running at the end of each month: ``start < S`` and
        (``end`` is empty or ``end >= S``), S = start of the next month."""
        m = self.month_table
        return t.join(m, (t[start] < m.m_end) & (t[end].isnull() | (t[end] >= m.m_end)))

    # ------------------------------------------------------------------ shared sets

    def won_deals(self) -> ibis.Table:
        o = self.ds.table("opportunities")
        return o.filter((o.stage == "closed_won") & o.closed_at.notnull())

    def customer_events(self) -> ibis.Table | None:
        """(account_id, t): order lines with revenue > 0 and won deals."""
        parts = []
        if self.ds.has("orders", "account_id", "ordered_at", "revenue"):
            o = self.ds.table("orders")
            parts.append(o.filter(o.revenue > 0).select("account_id", t=o.ordered_at))
        if self.ds.has("opportunities", "account_id", "closed_at"):
            w = self.won_deals()
            parts.append(w.filter(w.account_id.notnull()).select("account_id", t=w.closed_at))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)

    def active_accounts(self) -> ibis.Table:
        """Distinct (account_id, mi): active customers at the end of each month."""
        sets = []
        events = self.customer_events()
        if events is not None:
            e = events.filter(events.t < ibis.timestamp(self.end))
            e = e.group_by([e.account_id, _mi(e.t).name("e_mi")]).aggregate(tmax=e.t.max())
            m = self.month_table
            j = e.join(m, (e.e_mi <= m.m_mi) & (e.tmax >= m.m_look))
            sets.append(j.select("account_id", mi=j.m_mi))
        if self.ds.has("subscriptions", "account_id", "started_at", "ended_at"):
            s = self.at_month_ends(self.ds.table("subscriptions"), "started_at", "ended_at")
            sets.append(s.select("account_id", mi=s.m_mi))
        elif self.ds.has("subscriptions", "account_id", "started_at"):
            s = self.ds.table("subscriptions").mutate(ended_at=ibis.null("timestamp"))
            s = self.at_month_ends(s, "started_at", "ended_at")
            sets.append(s.select("account_id", mi=s.m_mi))
        out = sets[0]
        for other in sets[1:]:
            out = out.union(other, distinct=False)
        return out.distinct()

    def first_purchase(self) -> ibis.Table:
        """(account_id, first_mi): the month of each account's first purchase or win."""
        e = self.customer_events()
        first = e.group_by("account_id").aggregate(first_t=e.t.min())
        return first.mutate(first_mi=_mi(first.first_t))


# ---------------------------------------------------------------------- measure groups


@group(
    "orders",
    ("orders",),
    ("revenue", "orders", "revenue_accounts", "units", "cogs"),
    extra_needs={"units": ("orders.quantity",), "cogs": ("orders.cost",)},
)
def _orders(ms: Measures, st: list[str]) -> pd.DataFrame:
    o = _orders_scoped(ms, ms.in_range(ms.ds.table("orders"), "ordered_at"))

    def metrics(t: ibis.Table) -> dict[str, ibis.Value]:
        out = {
            "revenue": t.revenue.sum(),
            "orders": t.order_id.nunique(),
            "revenue_accounts": t.account_id.nunique(where=t.revenue > 0),
        }
        if "quantity" in t.columns:
            out["units"] = t.quantity.sum()
        if "cost" in t.columns:
            out["cogs"] = t.cost.sum()
        return out

    return ms.aggregate(o, _mi(o.ordered_at), st, metrics)


def _orders_scoped(ms: Measures, t: ibis.Table) -> ibis.Table:
    if "rep_id" in t.columns:
        return ms.by_owner(t, rep_first="rep_id")
    return ms.by_owner(t)


@group(
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
)
def _closed(ms, st):
    o = ms.ds.table("opportunities")
    cols = o.columns
    o = ms.in_range(o.filter(o.stage.isin(["closed_won", "closed_lost"])), "closed_at")
    o = o.mutate(
        _won=o.stage == "closed_won",
        _type=(o.deal_type.fill_null("new") if "deal_type" in cols else ibis.literal("new")),
        _cost=(o.associated_cost.fill_null(0) if "associated_cost" in cols else ibis.literal(0.0)),
        _quoted=(o.quoted_at.notnull() if "quoted_at" in cols else ibis.literal(False)),
        _acct=(o.account_id if "account_id" in cols else ibis.null("string")),
    )
    o = ms.by_rep(o)

    def metrics(t):
        won = t._won
        return {
            "won": won.sum().cast("int64"),
            "lost": (~won).sum().cast("int64"),
            "won_amount": t.amount.sum(where=won),
            "bookings": (t.amount - t._cost).sum(where=won),
            "cycle_days_sum": (_seconds(t.closed_at, t.created_at) / 86400.0).sum(where=won),
            "won_new": (won & (t._type == "new")).sum().cast("int64"),
            "won_new_amount": t.amount.sum(where=won & (t._type == "new")),
            "quoted_won": (won & t._quoted).sum().cast("int64"),
            "quoted_closed": t._quoted.sum().cast("int64"),
            "expansion_amount": t.amount.sum(where=won & t._type.isin(["upsell", "cross_sell"])),
            "upsell_accounts": t._acct.nunique(where=won & (t._type == "upsell")),
            "cross_sell_accounts": t._acct.nunique(where=won & (t._type == "cross_sell")),
        }

    return ms.aggregate(o, _mi(o.closed_at), st, metrics)


@group("new_opportunities", ("opportunities",), ("new_opportunities",))
def _new_opps(ms, st):
    o = ms.in_range(ms.ds.table("opportunities"), "created_at")
    o = ms.by_rep(o)
    return ms.aggregate(o, _mi(o.created_at), st, lambda t: {"new_opportunities": t.count()})


@group(
    "pipeline", ("opportunities.closed_at",), ("open_deals", "pipeline_value", "weighted_pipeline")
)
def _pipeline(ms, st):
    o = ms.ds.table("opportunities")
    default = ibis.cases(
        *[(o.stage == k, float(v)) for k, v in ms.cfg.stage_probability.items()],
        else_=float(ms.cfg.default_probability),
    )
    prob = o.probability.fill_null(default) if "probability" in o.columns else default
    o = o.mutate(_prob=prob)
    o = ms.by_rep(o)
    j = ms.at_month_ends(o, "created_at", "closed_at")
    return ms.aggregate(
        j,
        "m_mi",
        st,
        lambda t: {
            "open_deals": t.count(),
            "pipeline_value": t.amount.sum(),
            "weighted_pipeline": (t.amount * t._prob).sum(),
        },
    )


@group(
    "leads",
    ("leads",),
    ("leads_created", "leads_contacted", "response_hours_median", "leads_engaged"),
    extra_needs={
        "leads_contacted": ("leads.first_response_at",),
        "response_hours_median": ("leads.first_response_at",),
        "leads_engaged": ("leads.first_response_at", "leads.engaged_at"),
    },
)
def _leads(ms, st):
    """Leads created in m: all, contacted, their median response hours, engaged."""
    t = ms.by_rep(ms.in_range(ms.ds.table("leads"), "created_at"))
    responded = "first_response_at" in t.columns
    if responded:
        t = t.mutate(_hours=_seconds(t.first_response_at, t.created_at) / 3600.0)

    def metrics(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {"leads_created": x.count()}
        if responded:
            out["leads_contacted"] = x.first_response_at.notnull().sum().cast("int64")
            # _hours is NULL for leads never contacted, and median() skips NULLs (a median
            # with a filter does not compile on Spark)
            out["response_hours_median"] = x._hours.median()
            if "engaged_at" in x.columns:
                engaged = x.engaged_at.notnull() & x.first_response_at.notnull()
                out["leads_engaged"] = engaged.sum().cast("int64")
        return out

    return ms.aggregate(t, _mi(t.created_at), st, metrics)


@group("sql", ("leads.qualified_at",), ("sqls",))
def _sqls(ms, st):
    t = ms.in_range(ms.ds.table("leads"), "qualified_at")
    t = ms.by_rep(t)
    return ms.aggregate(t, _mi(t.qualified_at), st, lambda x: {"sqls": x.count()})


@group(
    "activities",
    ("activities",),
    ("calls", "emails", "meetings", "successful_calls"),
    extra_needs={"successful_calls": ("activities.outcome",)},
)
def _activities(ms, st):
    """Calls, emails, meetings and successful calls in m (types compared lower-cased)."""
    t = ms.by_rep(ms.in_range(ms.ds.table("activities"), "occurred_at"))
    t = t.mutate(_type=t.type.lower().strip())

    def metrics(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {k + "s": (x._type == k).sum().cast("int64") for k in ("call", "email", "meeting")}
        if "outcome" in x.columns:
            ok = (x._type == "call") & (x.outcome.lower().strip() == "successful")
            out["successful_calls"] = ok.sum().cast("int64")
        return out

    return ms.aggregate(t, _mi(t.occurred_at), st, metrics)


@group(
    "customers",
    ("orders|opportunities.closed_at",),
    ("active_customers", "new_customers", "customers_lost"),
)
def _customers(ms, st):
    active = ms.active_accounts()
    a = ms.by_owner(active)
    out = ms.aggregate(a, "mi", st, lambda t: {"active_customers": t.account_id.nunique()})
    first = ms.first_purchase()
    first = first.filter((first.first_mi >= ms.first.index) & (first.first_mi <= ms.last.index))
    new = ms.aggregate(
        ms.by_owner(first), "first_mi", st, lambda t: {"new_customers": t.account_id.nunique()}
    )
    prev = active.mutate(mi=active.mi + 1)
    lost = prev.anti_join(active, ["account_id", "mi"])
    lost = lost.filter(lost.mi <= ms.last.index)
    lost = ms.aggregate(
        ms.by_owner(lost), "mi", st, lambda t: {"customers_lost": t.account_id.nunique()}
    )
    return out.merge(new, on=KEY, how="outer").merge(lost, on=KEY, how="outer")


@group(
    "new_customer_revenue", ("orders", "orders|opportunities.closed_at"), ("new_customer_revenue",)
)
def _new_customer_revenue(ms, st):
    o = ms.in_range(ms.ds.table("orders"), "ordered_at")
    o = o.mutate(_o_mi=_mi(o.ordered_at))
    first = ms.first_purchase()
    f = first.select(_f_id=first.account_id, _f_mi=first.first_mi)
    j = o.join(f, (o.account_id == f._f_id) & (o._o_mi == f._f_mi))
    j = _orders_scoped(ms, j.drop("_f_id", "_f_mi"))
    return ms.aggregate(j, "_o_mi", st, lambda t: {"new_customer_revenue": t.revenue.sum()})


@group("customers_ordered_12m", ("orders",), ("customers_ordered_12m",))
def _customers_ordered_12m(ms, st):
    o = ms.ds.table("orders")
    o = o.filter(
        (o.revenue > 0)
        & (o.ordered_at < ibis.timestamp(ms.end))
        & (o.ordered_at >= ibis.timestamp((ms.first - 11).start))
    )
    o = _orders_scoped(ms, o)
    o = o.select("account_id", "_rep", "_team", e_mi=_mi(o.ordered_at)).distinct()
    m = ms.month_table
    j = o.join(m, (o.e_mi <= m.m_mi) & (o.e_mi >= m.m_mi - 11))
    return ms.aggregate(j, "m_mi", st, lambda t: {"customers_ordered_12m": t.account_id.nunique()})


@group(
    "engagement",
    ("activities.account_id", "orders|opportunities.closed_at"),
    ("customer_activities",),
)
def _engagement(ms, st):
    t = ms.in_range(ms.ds.table("activities"), "occurred_at")
    t = t.mutate(_a_mi=_mi(t.occurred_at))
    active = ms.active_accounts()
    c = active.select(_c_id=active.account_id, _c_mi=active.mi)
    j = t.join(c, (t.account_id == c._c_id) & (t._a_mi == c._c_mi))
    j = j.drop("_c_id", "_c_mi")
    j = ms.by_rep(j)
    return ms.aggregate(j, "_a_mi", st, lambda x: {"customer_activities": x.count()})


@group("nps", ("nps_responses",), ("nps_responses", "nps_promoters", "nps_detractors"))
def _nps(ms, st):
    t = ms.in_range(ms.ds.table("nps_responses"), "responded_at")
    t = ms.by_owner(t) if "account_id" in t.columns else ms.by_rep(t, ibis.null("string"))
    return ms.aggregate(
        t,
        _mi(t.responded_at),
        st,
        lambda x: {
            "nps_responses": x.count(),
            "nps_promoters": (x.score >= 9).sum().cast("int64"),
            "nps_detractors": (x.score <= 6).sum().cast("int64"),
        },
    )


def mrr_by_account(ms: Measures) -> ibis.Table:
    """(account_id, mi, mrr_now, mrr_before, first_start): MRR at the end of each month and
    of the month before, for every account with MRR in either."""
    s = ms.ds.table("subscriptions")
    if "ended_at" not in s.columns:
        s = s.mutate(ended_at=ibis.null("timestamp"))
    first = s.group_by("account_id").aggregate(first_start=s.started_at.min())
    runs = ms.at_month_ends(s, "started_at", "ended_at")
    per = runs.group_by([runs.account_id, runs.m_mi.name("mi")]).aggregate(mrr=runs.mrr.sum())
    grid = per.select("account_id", "mi").union(
        per.select("account_id", mi=per.mi + 1), distinct=True
    )
    grid = grid.filter((grid.mi >= ms.first.index + 1) & (grid.mi <= ms.last.index))
    now = per.select(_n_id=per.account_id, _n_mi=per.mi, mrr_now=per.mrr)
    before = per.select(_b_id=per.account_id, _b_mi=per.mi + 1, mrr_before=per.mrr)
    j = grid.left_join(now, (grid.account_id == now._n_id) & (grid.mi == now._n_mi))
    j = j.left_join(before, (j.account_id == before._b_id) & (j.mi == before._b_mi))
    f = first.select(_f_id=first.account_id, first_start=first.first_start)
    j = j.left_join(f, j.account_id == f._f_id)
    j = j.select(
        "account_id",
        "mi",
        mrr_now=j.mrr_now.fill_null(0.0),
        mrr_before=j.mrr_before.fill_null(0.0),
        first_start=j.first_start,
    )
    # month start of mi, to tell "never before" (new) from "had MRR earlier" (reactivation)
    m = ms.month_table
    j = j.join(m.select(m.m_mi, m.m_start), j.mi == m.m_mi).drop("m_mi")
    c, p = j.mrr_now, j.mrr_before
    return j.mutate(
        new=ibis.ifelse((p == 0) & (c > 0) & (j.first_start >= j.m_start), c, 0.0),
        reactivation=ibis.ifelse((p == 0) & (c > 0) & (j.first_start < j.m_start), c, 0.0),
        expansion=ibis.ifelse((p > 0) & (c > p), c - p, 0.0),
        contraction=ibis.ifelse((p > 0) & (c > 0) & (c < p), p - c, 0.0),
        churned=ibis.ifelse((p > 0) & (c == 0), p, 0.0),
    )


MRR_MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churned")


@group("mrr", ("subscriptions",), ("mrr",))
def _mrr(ms, st):
    s = ms.ds.table("subscriptions")
    if "ended_at" not in s.columns:
        s = s.mutate(ended_at=ibis.null("timestamp"))
    j = ms.by_owner(ms.at_month_ends(s, "started_at", "ended_at"))
    return ms.aggregate(j, "m_mi", st, lambda t: {"mrr": t.mrr.sum()})


@group("mrr_movements", ("subscriptions",), tuple(f"mrr_{k}" for k in MRR_MOVEMENTS))
def _mrr_movements(ms, st):
    j = ms.by_owner(mrr_by_account(ms))
    return ms.aggregate(j, "mi", st, lambda t: {f"mrr_{k}": t[k].sum() for k in MRR_MOVEMENTS})


# ------------------------------------------------------- small tables, read into pandas


def employed_in(reps: pd.DataFrame, month: Month) -> pd.Series:
    """Which reps were employed in ``month``: hired before its end (or no hire date) and not
    gone before its start (or no leaving date)."""
    missing = pd.Series(pd.NaT, index=reps.index)
    hired = reps["hired_at"] if "hired_at" in reps else missing
    left = reps["left_at"] if "left_at" in reps else missing
    return (hired.isna() | (hired < month.end)) & (left.isna() | (left >= month.start))


def reps_active(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Reps employed in each month (:func:`employed_in`), counted per scope."""
    reps = ms.ds.frame("reps")
    rows = []
    for m in ms.months:
        active = reps[employed_in(reps, m)]
        if "company" in st:
            rows.append(
                dict(scope_type="company", scope=COMPANY, mi=m.index, reps_active=len(active))
            )
        if "team" in st:
            for team, n in active.groupby("team").size().items():
                rows.append(dict(scope_type="team", scope=team, mi=m.index, reps_active=n))
        if "rep" in st:
            rows.extend(
                dict(scope_type="rep", scope=r, mi=m.index, reps_active=1) for r in active["rep_id"]
            )
    return pd.DataFrame(rows, columns=KEY + ["reps_active"])


def costs(ms: Measures, st: list[str], leads: pd.DataFrame | None) -> pd.DataFrame:
    """Costs per company and team; costs with an empty team are shared by the teams in
    proportion to their new leads of the month (equally when the month has no leads)."""
    c = ms.ds.frame("costs")
    c = c[c["month"].isin([str(m) for m in ms.months])].copy()
    c["mi"] = [Month.parse(x).index for x in c["month"]]
    c["team"] = c["team"].replace("", None) if "team" in c else None
    c["category"] = c["category"].str.strip().str.lower()
    rows = []
    teams = sorted(set(ms.ds.frame("reps")["team"])) if ms.ds.has("reps", "team") else []
    for m in ms.months:
        month = c[c["mi"] == m.index]
        for cat_name, cat in (
            ("costs_total", month),
            ("costs_marketing", month[month["category"] == "marketing"]),
        ):
            if "company" in st:
                rows.append(
                    dict(
                        scope_type="company",
                        scope=COMPANY,
                        mi=m.index,
                        measure=cat_name,
                        value=float(cat["amount"].sum()),
                    )
                )
            if "team" not in st:
                continue
            own = cat[cat["team"].notna()].groupby("team")["amount"].sum()
            shared = float(cat.loc[cat["team"].isna(), "amount"].sum())
            share = _lead_shares(leads, m.index, sorted(set(teams) | set(own.index)))
            for team in sorted(set(own.index) | set(share.index)):
                value = float(own.get(team, 0.0)) + shared * float(share.get(team, 0.0))
                rows.append(
                    dict(scope_type="team", scope=team, mi=m.index, measure=cat_name, value=value)
                )
    if not rows:
        return pd.DataFrame(columns=KEY + ["costs_total", "costs_marketing"])
    df = (
        pd.DataFrame(rows)
        .pivot_table(index=KEY, columns="measure", values="value", aggfunc="sum")
        .reset_index()
    )
    df.columns.name = None
    return df


def _lead_shares(leads: pd.DataFrame | None, mi: int, teams: list[str]) -> pd.Series:
    if leads is not None:
        month = leads[(leads["scope_type"] == "team") & (leads["mi"] == mi)]
        total = month["leads_created"].sum()
        if total > 0:
            return month.set_index("scope")["leads_created"] / total
    return pd.Series(1.0 / len(teams), index=teams) if teams else pd.Series(dtype=float)


FINANCIALS = (
    "net_income",
    "nopat",
    "invested_capital",
    "cost_of_capital",
    "average_inventory_cost",
    "employees",
)


def financials(ms: Measures) -> pd.DataFrame:
    """Company figures per month (financials are company-wide)."""
    f = ms.ds.frame("financials")
    f = f[f["month"].isin([str(m) for m in ms.months])]
    out = pd.DataFrame(
        {
            "scope_type": "company",
            "scope": COMPANY,
            "mi": [Month.parse(x).index for x in f["month"]],
        }
    )
    for col in FINANCIALS:
        out[f"fin_{col}"] = f[col].to_numpy() if col in f else float("nan")
    return out


def targets(ds: Dataset, months: list[Month]) -> pd.DataFrame:
    """(scope_type, scope, mi, kpi, target) from the targets table; company rows have no
    team and no rep, team rows a team and no rep, rep rows a rep."""
    if not ds.has("targets", "month", "kpi", "target"):
        return pd.DataFrame(columns=KEY + ["kpi", "target"])
    t = ds.frame("targets")
    t = t[t["month"].isin([str(m) for m in months])].copy()
    team = t["team"].replace("", None) if "team" in t else pd.Series(None, index=t.index)
    rep = t["rep_id"].replace("", None) if "rep_id" in t else pd.Series(None, index=t.index)
    t["scope_type"] = [
        ("rep" if pd.notna(r) else "team" if pd.notna(tm) else "company")
        for tm, r in zip(team, rep, strict=True)
    ]
    t["scope"] = [
        r if pd.notna(r) else tm if pd.notna(tm) else COMPANY
        for tm, r in zip(team, rep, strict=True)
    ]
    t["mi"] = [Month.parse(x).index for x in t["month"]]
    return t.groupby(KEY + ["kpi"], as_index=False)["target"].sum()
