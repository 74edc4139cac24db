"""Table KPIs: one DataFrame for one month (or quarter, or fiscal year) and one scope.

Each function receives the month's :class:`Measures` (for scope attribution and the
shared customer sets), a :class:`Keep` filter for the scope, and the month; it queries
with Ibis and finishes the small result in pandas. A table of the events *in* a period
(the funnel, the leaderboard, the products...: ``SPAN_TABLES``) receives a :class:`Span`
instead, the period's months with data; the others are "as of the end of m" and get
the period's last month with data (KPI_CATALOG.md, "Periods"). Example::

    compute_table(ds, "pipeline_health", "2026-05", "team:EMEA", Config())
    compute_table(ds, "funnel", "2026-05", "company", Config(), period="quarter")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import ibis
import numpy as np
import pandas as pd

from kpi_helpers.catalog import KPI, get
from kpi_helpers.core import Calendar, Config, KitError, Month, Period
from kpi_helpers.data import Dataset, check_month, period_with_data

from .compare import relative_changes
from .customers import active_spells, first_purchase
from .measures import (
    Measures,
    describe_missing,
    missing_inputs,
    month_of,
    open_at_end,
    seconds_between,
)
from .scopes import Scope, check_scope, one_scope, rep_teams, team_of
from .stage_tables import CLOSED_SINCE, days_in_stage, pipeline_movement, stage_conversion
from .subscriptions import mrr_movement
from .tidy import compute_tidy


class Keep:
    """The rows of one scope: ``keep(t)`` filters a table with ``_rep``/``_team``."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.column = {"company": None, "team": "_team", "rep": "_rep"}[scope.kind]

    def __call__(self, t: ibis.Table) -> ibis.Table:
        return t if self.column is None else t.filter(t[self.column] == self.scope.name)


@dataclass(frozen=True)
class Span:
    """The months a table of events covers: a month, or a quarter's or fiscal year's
    months with data (``period.first`` .. ``period.through``). Like a :class:`Month`, it
    has ``start`` and ``end`` (the half-open interval of instants), so a filter "in m"
    reads it unchanged.

    >>> april, may = Month.parse("2026-04"), Month.parse("2026-05")
    >>> q = Span.of(Calendar().period("quarter", april).cut(may))
    >>> str(q.start.date()), str(q.end.date()), q.kind
    ('2026-04-01', '2026-06-01', 'quarter')
    """

    period: Period

    @classmethod
    def of(cls, period: Period | Month) -> Span:
        """The span of a period, or of one month."""
        if isinstance(period, Month):
            period = Calendar().period("month", period)
        return cls(period)

    @property
    def kind(self) -> str:
        return self.period.kind

    @property
    def start(self) -> datetime:
        """The first instant of the span."""
        return self.period.first.start

    @property
    def end(self) -> datetime:
        """The first instant after the span (the start of the month after ``through``)."""
        return self.period.through.end

    def __str__(self) -> str:
        return self.period.label


TableFn = Callable[[Measures, Keep, Month], pd.DataFrame]
TABLES: dict[str, TableFn] = {}
SPAN_TABLES: set[str] = set()  # tables of the events in a period: they get a Span


def _table(fn: TableFn) -> TableFn:
    TABLES[fn.__name__] = fn
    return fn


def _span_table(fn: Callable[[Measures, Keep, Span], pd.DataFrame]) -> Callable:
    """Register a table of the events in a period (:class:`Span`)."""
    SPAN_TABLES.add(fn.__name__)
    return _table(fn)


def _pct(part, whole):
    whole = pd.Series(whole, dtype="float64") if np.ndim(whole) else whole
    return (
        part
        / (
            whole.where(whole != 0)
            if isinstance(whole, pd.Series)
            else (whole if whole else np.nan)
        )
        * 100.0
    )


def _scoped(ms: Measures, t: ibis.Table, how: str) -> ibis.Table:
    """Attribute rows to scopes the way the measures do: by rep, order line or account."""
    if how == "rep":
        return ms.by_rep(t)
    return ms.by_order(t) if how == "orders" else ms.by_owner(t)


def _in_month(t: ibis.Table, column: str, span: Span) -> ibis.Value:
    """Rows whose ``column`` falls in ``span``: [its start, the start of the month after)."""
    return (t[column] >= ibis.timestamp(span.start)) & (t[column] < ibis.timestamp(span.end))


@_table
def pipeline_health(ms, keep, month):
    o = ms.ds.table("opportunities")
    o = _scoped(ms, o, "rep")
    end = ibis.timestamp(month.end)
    o = keep(o.filter(open_at_end(o.created_at, o.closed_at, end)))
    # a deal closed since then was open at the end of m, but its stage then is unknown
    stage = ibis.ifelse(o.stage.isin(["closed_won", "closed_lost"]), CLOSED_SINCE, o.stage)
    o = o.mutate(_age=seconds_between(end, o.created_at) / 86400.0, stage=stage)
    df = (
        o.group_by("stage")
        .aggregate(deals=o.count(), value=o.amount.sum(), median_age_days=o._age.median())
        .to_pandas()
    )
    order = {s: i for i, s in enumerate(ms.cfg.stage_probability)}
    df["_o"] = df["stage"].map(order).fillna(len(order))
    df = df.sort_values(["_o", "stage"]).drop(columns="_o").reset_index(drop=True)
    df["share_of_value"] = _pct(df["value"], df["value"].sum())
    return df


@_span_table
def funnel(ms, keep, span):
    leads = _scoped(ms, ms.ds.table("leads"), "rep")
    t = keep(leads.filter(_in_month(leads, "created_at", span)))
    cols = t.columns
    steps = {"created": t.count()}
    for name, col in (
        ("contacted", "first_response_at"),
        ("engaged", "engaged_at"),
        ("qualified", "qualified_at"),
        ("converted", "converted_at"),
    ):
        if col in cols:
            steps[name] = t[col].notnull().sum().cast("int64")
    row = t.aggregate(**steps).to_pandas().iloc[0].to_dict()
    if ms.ds.has("opportunities", "lead_id", "stage"):
        o = ms.ds.table("opportunities")
        won_leads = (
            o.filter((o.stage == "closed_won") & o.lead_id.notnull())
            .select(_w=o.lead_id)
            .distinct()
        )
        row["won"] = int(t.semi_join(won_leads, t.lead_id == won_leads._w).count().execute())
    # a scope without leads in m: 0 at every step (a sum over no rows is NULL)
    leads = [0 if pd.isna(v) else int(v) for v in row.values()]
    df = pd.DataFrame({"step": list(row), "leads": leads})
    df["conversion_from_previous"] = _pct(df["leads"], df["leads"].shift(1))
    df["conversion_from_created"] = _pct(df["leads"], df["leads"].iloc[0])
    return df


GROWTH_COLUMNS = {"month": "mom_growth", "quarter": "qoq_growth", "year": "yoy_growth"}


@_span_table
def product_performance(ms, keep, span):
    """Per product, revenue and units in the span, share of its revenue, and growth over
    the previous period of the same kind (the same leading months when to date):
    ``mom_growth``, ``qoq_growth`` or ``yoy_growth``."""
    before = span.period.previous(Calendar(ms.cfg.fiscal_year_start))
    o = ms.ds.table("orders")
    o = o.filter(
        (o.ordered_at >= ibis.timestamp(before.first.start))
        & (o.ordered_at < ibis.timestamp(span.end))
    )
    o = keep(_scoped(ms, o, "orders"))
    o = o.mutate(_mi=month_of(o.ordered_at))
    qty = o.quantity if "quantity" in o.columns else ibis.literal(None, "float64")
    o = o.mutate(_qty=qty)
    df = (
        o.group_by(["product", "_mi"])
        .aggregate(revenue=o.revenue.sum(), units=o._qty.sum())
        .to_pandas()
    )
    inside = lambda p: df["_mi"].isin([m.index for m in p.months()])  # noqa: E731
    now = df[inside(span.period)].groupby("product")[["revenue", "units"]].sum(min_count=1)
    prev = df[inside(before)].groupby("product")["revenue"].sum()
    out = now[["revenue", "units"]].copy()
    out["share_of_revenue"] = _pct(out["revenue"], out["revenue"].sum())
    prev = prev.reindex(out.index)
    growth = GROWTH_COLUMNS[span.kind]
    out[growth] = relative_changes(out["revenue"], prev)
    out = out.reset_index()
    return out.sort_values(["revenue", "product"], ascending=[False, True], ignore_index=True)


@_span_table
def sales_by_contact_method(ms, keep, span):
    o = _scoped(ms, ms.ds.table("opportunities"), "rep")
    o = keep(o.filter((o.stage == "closed_won") & _in_month(o, "closed_at", span)))
    o = o.mutate(contact_method=o.contact_method.fill_null("(none)"))
    df = (
        o.group_by("contact_method")
        .aggregate(deals_won=o.count(), won_amount=o.amount.sum())
        .to_pandas()
    )
    df["share_of_won_amount"] = _pct(df["won_amount"], df["won_amount"].sum())
    return df.sort_values(
        ["won_amount", "contact_method"], ascending=[False, True], ignore_index=True
    )


def _bought_12m(ms, keep, month: Month) -> pd.DataFrame:
    """Distinct (account_id, product) with revenue > 0 in the 12 months ending with m."""
    o = ms.ds.table("orders")
    o = o.filter(
        (o.revenue > 0)
        & (o.ordered_at >= ibis.timestamp((month - 11).start))
        & (o.ordered_at < ibis.timestamp(month.end))
        & o.product.notnull()
    )
    o = keep(_scoped(ms, o, "orders"))
    return o.select("account_id", "product").distinct().to_pandas()


COHORT_MONTHS = 12  # cohorts, and months k = 0..11 after each


@_table
def cohort_retention(ms, keep, month):
    """For each of the 12 monthly cohorts ending with m, the share (%) of its customers
    active k = 0..11 months later: active in a month = an order line with revenue > 0 in
    it or a subscription running at its end (``started_at`` < S <= ``ended_at``).

    A cohort is the accounts whose first purchase (first order line with revenue > 0 or
    first won deal: the new customers of that month) fell in its month, attributed to the
    account's rep (``Measures.account_reps``). Share = active accounts / cohort customers
    x 100; cells after m are NaN (not yet seen), and so is every cell of a cohort without
    customers.

    Columns: ``cohort`` (YYYY-MM), ``customers``, ``k0``..``k11``. Example, m = 2025-06:
    cohort 2025-03 = D1 (orders in March and May) and D2 (subscribed 2025-03-25 to
    2025-05-15): k0 100, k1 50 (D2), k2 50 (D1), k3 0, k4..k11 NaN.
    """
    lo, hi = month.index - (COHORT_MONTHS - 1), month.index
    first = first_purchase(ms)
    first = first.filter((first.first_mi >= lo) & (first.first_mi <= hi))
    cohort = keep(_scoped(ms, first, "owner")).select("account_id", "first_mi")
    since, until = ibis.timestamp(Month(lo).start), ibis.timestamp(month.end)
    parts = []  # (account_id, mi): active in month mi
    if ms.ds.has("orders", "account_id", "ordered_at", "revenue"):
        o = ms.ds.table("orders")
        o = o.filter((o.revenue > 0) & (o.ordered_at >= since) & (o.ordered_at < until))
        o = o.semi_join(cohort, o.account_id == cohort.account_id)
        o = o.select("account_id", mi=month_of(o.ordered_at)).distinct()
        parts.append(o.to_pandas())
    if ms.ds.has("subscriptions", "account_id", "started_at"):
        s = ms.ds.table("subscriptions")
        end = s.ended_at if "ended_at" in s.columns else ibis.null("timestamp")
        # running at the end of months month(started_at)..month(ended_at) - 1
        s = s.filter(s.started_at.notnull() & (s.started_at < until))
        s = s.semi_join(cohort, s.account_id == cohort.account_id)
        spans = s.select(
            "account_id", a=month_of(s.started_at), b=(month_of(end) - 1).fill_null(hi)
        ).to_pandas()
        spans["mi"] = [
            list(range(max(a, lo), min(b, hi) + 1))
            for a, b in zip(spans["a"], spans["b"], strict=True)
        ]
        parts.append(spans.explode("mi").dropna(subset=["mi"])[["account_id", "mi"]])
    members = cohort.to_pandas()
    cohorts = range(lo, hi + 1)
    size = members.groupby("first_mi")["account_id"].nunique().reindex(cohorts, fill_value=0)
    ks = list(range(COHORT_MONTHS))
    active = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["mi"])
    active = active.astype({"mi": "int64"}).merge(members, on="account_id")
    active["k"] = active["mi"] - active["first_mi"]
    active = active[active["k"] >= 0]
    kept = active.groupby(["first_mi", "k"])["account_id"].nunique().unstack("k")
    kept = kept.reindex(index=cohorts, columns=ks).fillna(0.0)
    share = kept.div(size.where(size > 0), axis=0) * 100.0
    after_m = np.add.outer(np.asarray(cohorts), np.asarray(ks)) > hi
    share = share.mask(after_m)
    out = pd.DataFrame(
        {"cohort": [str(Month(c)) for c in cohorts], "customers": size.to_numpy(dtype="int64")}
    )
    for k in ks:
        out[f"k{k}"] = share[k].to_numpy(dtype="float64")
    return out


@_table
def product_penetration_rate(ms, keep, month):
    spells = active_spells(ms, since=month)  # active at the end of m: a spell holding m
    active = keep(_scoped(ms, spells.filter(spells.s <= month.index), "owner"))
    active_ids = set(active.select("account_id").distinct().to_pandas()["account_id"])
    bought = _bought_12m(ms, keep, month)
    bought = bought[bought["account_id"].isin(active_ids)]
    df = bought.groupby("product")["account_id"].nunique().rename("customers").reset_index()
    df["active_customers"] = len(active_ids)
    df["penetration_rate"] = _pct(df["customers"], len(active_ids))
    return df.sort_values(
        ["penetration_rate", "product"], ascending=[False, True], ignore_index=True
    )


@_table
def product_affinity(ms, keep, month):
    bought = _bought_12m(ms, keep, month)
    n = bought["account_id"].nunique()
    cols = ["product_a", "product_b", "accounts", "support", "confidence_a_to_b", "lift"]
    if n == 0:
        return pd.DataFrame(columns=cols)
    single = bought.groupby("product")["account_id"].nunique() / n
    pairs = bought.merge(bought, on="account_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["product_a"] < pairs["product_b"]]
    if pairs.empty:  # no account bought two products
        return pd.DataFrame(columns=cols)
    df = (
        pairs.groupby(["product_a", "product_b"])["account_id"]
        .nunique()
        .rename("accounts")
        .reset_index()
    )
    df["support"] = df["accounts"] / n
    sa, sb = df["product_a"].map(single), df["product_b"].map(single)
    df["confidence_a_to_b"] = df["support"] / sa
    df["lift"] = df["support"] / (sa * sb)
    order = ["lift", "accounts", "product_a", "product_b"]
    df = df.sort_values(order, ascending=[False, False, True, True], ignore_index=True)
    return df[cols]


@_table
def customer_profitability(ms, keep, month):
    o = ms.ds.table("orders")
    o = o.filter(
        (o.ordered_at >= ibis.timestamp((month - 11).start))
        & (o.ordered_at < ibis.timestamp(month.end))
    )
    o = keep(_scoped(ms, o, "orders"))
    per = o.group_by("account_id").aggregate(revenue=o.revenue.sum(), cogs=o.cost.sum())
    df = per.to_pandas()
    if ms.ds.has("accounts", "account_id"):
        # names and segments of these accounts only: the accounts table can be millions
        a = ms.ds.table("accounts")
        extra = [c for c in ("account_name", "segment") if c in a.columns]
        a = a.select("account_id", *extra)
        a = a.semi_join(per, a.account_id == per.account_id).to_pandas()
        df = df.merge(a.drop_duplicates("account_id"), on="account_id", how="left")
    if "segment" not in df.columns:
        df["segment"] = None
    df["gross_profit"] = df["revenue"] - df["cogs"]
    df["margin"] = _pct(df["gross_profit"], df["revenue"])
    df["level"] = "account"
    seg = (
        df.assign(segment=df["segment"].fillna("(none)"))
        .groupby("segment", as_index=False)[["revenue", "cogs", "gross_profit"]]
        .sum()
    )
    seg["margin"] = _pct(seg["gross_profit"], seg["revenue"])
    seg["level"] = "segment"
    accounts = df.sort_values(["gross_profit", "account_id"], ascending=[False, True])
    out = pd.concat([seg, accounts], ignore_index=True)
    first = ["level", "segment", "account_id", "account_name"]
    return out[
        [c for c in first if c in out.columns] + ["revenue", "cogs", "gross_profit", "margin"]
    ]


@_span_table
def mrr_movements(ms, keep, span):
    """Per account with MRR at the end of m or of m-1: the two MRRs and the movement
    (:func:`mrr_movement`: new, expansion, reactivation, contraction, churned; else
    unchanged)."""
    s = ms.ds.table("subscriptions")
    ended = s.ended_at if "ended_at" in s.columns else ibis.null("timestamp")
    now, before = ibis.timestamp(span.end), ibis.timestamp(span.start)
    running_now = open_at_end(s.started_at, ended, now)
    running_before = open_at_end(s.started_at, ended, before)  # the end of m-1
    per = s.group_by("account_id").aggregate(
        mrr_now=s.mrr.sum(where=running_now),
        mrr_before=s.mrr.sum(where=running_before),
        _n=(running_now | running_before).sum(),
        _first=s.started_at.min(),
    )
    per = keep(_scoped(ms, per.filter(per._n > 0), "owner"))
    df = per.select("account_id", "mrr_now", "mrr_before", "_first").to_pandas()
    c, p = df["mrr_now"].fillna(0.0), df["mrr_before"].fillna(0.0)
    df["mrr_now"], df["mrr_before"] = c, p
    first_month = df["_first"] >= pd.Timestamp(span.start)
    df["movement"] = "unchanged"
    for kind, (moved, _) in mrr_movement(p, c, first_month).items():
        df.loc[moved, "movement"] = kind
    df["change"] = df["mrr_now"] - df["mrr_before"]
    df = df[["account_id", "mrr_before", "mrr_now", "movement", "change"]]
    return df.sort_values(["movement", "change", "account_id"], ignore_index=True)


@_span_table
def rep_leaderboard(ms, keep, span):
    """The rep scope of the engine, for the reps of the page's scope only, over the
    span's period."""
    ids = [
        "monthly_sales_bookings",
        "deals_won",
        "win_rate",
        "average_deal_size",
        "sales_cycle_length",
        "new_leads",
        "calls_made",
        "emails_sent",
        "meetings_held",
    ]
    ids = [i for i in ids if ms.ds.has("leads") or i != "new_leads"]
    ids = [
        i
        for i in ids
        if ms.ds.has("activities") or i not in ("calls_made", "emails_sent", "meetings_held")
    ]
    sc = keep.scope
    reps_of = {
        "company": Scope("rep"),
        "team": Scope("rep", team=sc.name),
        "rep": Scope("rep", name=sc.name),
    }[sc.kind]
    through = str(span.period.through)
    df = compute_tidy(ms.ds, through, 1, [reps_of], kpis=ids, config=ms.cfg, period=span.kind)
    wide = df.pivot_table(
        index="scope", columns="kpi", values="value", aggfunc="first", dropna=False
    ).reindex(columns=ids)  # every column, also when no rep of the scope is in the month
    att = df[df["kpi"] == "monthly_sales_bookings"].set_index("scope")["attainment"]
    wide["attainment"] = att
    acts = [c for c in ("calls_made", "emails_sent", "meetings_held") if c in wide.columns]
    if acts:
        wide["activities"] = wide[acts].sum(axis=1)
        wide = wide.drop(columns=acts)
    wide = wide.reset_index().rename(columns={"scope": "rep_id"})
    names = ["rep_id"] + (["rep_name"] if ms.ds.has("reps", "rep_name") else [])
    wide = wide.merge(ms.ds.frame("reps")[names], on="rep_id", how="left")
    teams = rep_teams(ms.ds)
    wide["team"] = wide["rep_id"].map(lambda r: team_of(r, teams))
    if "rep_name" not in wide:
        wide["rep_name"] = wide["rep_id"]
    wide["rep_name"] = wide["rep_name"].fillna(wide["rep_id"])
    cols = [
        "rep_id",
        "rep_name",
        "team",
        "monthly_sales_bookings",
        "deals_won",
        "win_rate",
        "average_deal_size",
        "sales_cycle_length",
        "activities",
        "new_leads",
        "attainment",
    ]
    wide = wide[[c for c in cols if c in wide.columns]]
    wide = wide.sort_values(
        ["monthly_sales_bookings", "rep_id"], ascending=[False, True], na_position="last"
    )
    wide.insert(0, "rank", range(1, len(wide) + 1))
    return wide.reset_index(drop=True)


# --------------------------------------------------------------- tables for the packs only
# (not catalog KPIs: the notebooks' extra views of the same data)


@_span_table
def response_hours(ms, keep, span):
    """Hours to first response of the leads created in m that were contacted."""
    t = _scoped(ms, ms.ds.table("leads"), "rep")
    t = keep(t.filter(_in_month(t, "created_at", span) & t.first_response_at.notnull()))
    return t.select(hours=seconds_between(t.first_response_at, t.created_at) / 3600.0).to_pandas()


@_span_table
def leads_by_source(ms, keep, span):
    """Leads created in m per source: leads, converted, share converted."""
    t = _scoped(ms, ms.ds.table("leads"), "rep")
    t = keep(t.filter(_in_month(t, "created_at", span)))
    conv = t.converted_at.notnull() if "converted_at" in t.columns else ibis.literal(False)
    t = t.mutate(source=t.source.fill_null("(none)"), _conv=conv)
    df = (
        t.group_by("source")
        .aggregate(leads=t.count(), converted=t._conv.sum().cast("int64"))
        .to_pandas()
    )
    df["conversion"] = _pct(df["converted"], df["leads"])
    return df.sort_values(["leads", "source"], ascending=[False, True], ignore_index=True)


@_table
def pipeline_by_age(ms, keep, month):
    """Deals open at the end of m by age band: deals and value."""
    o = _scoped(ms, ms.ds.table("opportunities"), "rep")
    end = ibis.timestamp(month.end)
    o = keep(o.filter(open_at_end(o.created_at, o.closed_at, end)))
    df = o.select("amount", age=seconds_between(end, o.created_at) / 86400.0).to_pandas()
    bands = [0, 30, 60, 90, 180, np.inf]
    names = ["< 30 days", "30-59 days", "60-89 days", "90-179 days", "180+ days"]
    df["age_band"] = pd.cut(df["age"], bands, right=False, labels=names)
    out = df.groupby("age_band", observed=False).agg(
        deals=("amount", "size"), value=("amount", "sum")
    )
    return out.reset_index()


# the tables of the stage history (metrics.stage_tables)
_table(stage_conversion)
for _fn in (days_in_stage, pipeline_movement):
    _span_table(_fn)


def table_span(ds: Dataset, month: Month, period: str, config: Config) -> Span:
    """The months a table of ``period`` (month, quarter, year) holding ``month`` covers:
    the period's months with data (one cut by the data's last month is to date). The
    one place where a table KPI's span is chosen; a table "as of the end" is taken at
    its ``period.through``."""
    if period == "month":
        return Span.of(month)
    return Span.of(period_with_data(ds, month, period, config.fiscal_year_start))


def compute_table(
    ds: Dataset, kpi_id: str, month: str, scope: str, config: Config, period: str = "month"
) -> pd.DataFrame:
    """The formula table KPI ``kpi_id`` for ``month`` (or the quarter or fiscal year
    holding it: ``period``) and one ``scope`` (company, team:X or rep:ID); the model
    tables (forecasts, pipeline_outlook, clv_accounts) are in ``kpi_helpers.models`` and
    ``kpis.table`` reaches both."""
    kpi = get(kpi_id)
    if kpi.table not in TABLES:
        raise KitError(f"{kpi.id} is not a formula table KPI: use kpis.table().")
    m, sc = table_context(ds, kpi, month, scope)
    span = table_span(ds, m, period, config)
    m = span.period.through
    at = span if kpi.table in SPAN_TABLES else m
    return TABLES[kpi.table](Measures(ds, config, m - 12, m), Keep(sc), at)


def table_context(
    ds: Dataset, kpi: KPI, month: str | Month, scope: str | Scope
) -> tuple[Month, Scope]:
    """What every table KPI checks first: a table KPI whose inputs the data holds, a
    month the data covers and one scope that exists (:func:`check_scope`). Returns the
    month and the scope."""
    if not kpi.is_table:
        raise KitError(f"{kpi.id} is a scalar KPI: use compute() or series().")
    missing = missing_inputs(ds, kpi.table_needs)
    if missing:
        raise KitError(f"{kpi.id} is not available: {describe_missing(missing)}.")
    m = Month.parse(str(month))
    check_month(ds, m)
    return m, check_scope(ds, one_scope(scope, "A table KPI"))
