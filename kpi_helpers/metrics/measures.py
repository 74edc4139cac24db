"""Base measures: the counts, sums and medians every KPI is a formula of.

Every measure *source* is registered with what it needs, what it produces, which
measures keep "no value" (NaN) instead of 0, and which scope types it exists for. Most
sources are Ibis queries; a few small ones (reps, costs, financials, targets) are
computed in pandas.

How the Ibis sources stay cheap on large data:

- Rows are attributed to a rep and a team once per query, and additive measures
  (counts, sums) are aggregated once at (month, rep, team). Teams and the company are
  sums of those few rows, done in pandas (:func:`roll_up`). Only measures that do not
  add up across reps (distinct counts such as accounts or orders, medians) are
  grouped once per scope type (:meth:`Measures.per_type`).
- "At the end of m" states (open deals, MRR, active customers) are +1/-1 deltas (+x/-x
  for sums) in the month a row starts and the month it stops, summed up over the months
  (:func:`running`), instead of joining every row with every month.
- A named scope (``team:EMEA``) filters the rows inside the query.

Scope attribution follows DATA_CONTRACT.md: a row with a ``rep_id`` belongs to
that rep and the rep's team; account-level rows (subscriptions, NPS answers,
customers) to the account owner; order lines without a rep to the account owner;
unknown reps fall into the team ``unassigned``. The queries are plain Ibis, so they
run unchanged on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import ibis
import numpy as np
import pandas as pd

from kpi_helpers.core import Config, KitError, Month, month_index, month_range
from kpi_helpers.data import UNASSIGNED_TEAM, Dataset

from .scopes import COMPANY, SCOPE_TYPES

KEY = ["scope_type", "scope", "mi"]
BASE = ["mi", "rep", "team"]  # the grain additive measures are aggregated at

# Which rows a scope type needs: None = every row, else (column, value) pairs where
# column is "_rep" or "_team" ("team:EMEA" -> {("_team", "EMEA")}).
Wanted = Mapping[str, frozenset[tuple[str, str]] | None]
Run = Callable[["Measures", list[str]], pd.DataFrame]


@dataclass(frozen=True)
class Source:
    """A measure source: what it needs and produces, and how its measures behave.

    ``keep_nan``: measures left NaN when a scope has no value (medians, targets,
    financials) instead of 0. ``scope_types``/``scope_reason``: the scope types the
    measures exist for, and why not for the others. ``reads``: the sources whose
    measures ``run`` fetches (the engine computes those first, so the fetch is cached).
    """

    name: str
    needs: tuple[str, ...]  # "table" or "table.column"; "a|b": either will do
    produces: tuple[str, ...]
    run: Run
    extra_needs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keep_nan: frozenset[str] = frozenset()
    scope_types: tuple[str, ...] = SCOPE_TYPES
    scope_reason: str = ""
    reads: tuple[str, ...] = ()

    def needs_of(self, measure: str) -> tuple[str, ...]:
        return self.needs + self.extra_needs.get(measure, ())


SOURCES: dict[str, Source] = {}


def source(
    name: str,
    needs: tuple[str, ...],
    produces: tuple[str, ...],
    extra_needs: dict[str, tuple[str, ...]] | None = None,
    keep_nan: tuple[str, ...] = (),
    scope_types: tuple[str, ...] = SCOPE_TYPES,
    scope_reason: str = "",
    reads: tuple[str, ...] = (),
) -> Callable[[Run], Run]:
    """Register a measure source (a decorator on its ``run(ms, scope_types)``)."""

    def register(fn: Run) -> Run:
        SOURCES[name] = Source(
            name,
            needs,
            produces,
            fn,
            extra_needs or {},
            frozenset(keep_nan),
            scope_types,
            scope_reason,
            reads,
        )
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
    """``need``: "table", "table.column" or "table.column,column" (all of them)."""
    table, _, columns = need.partition(".")
    return ds.has(table, *(columns.split(",") if columns else []))


def describe_missing(missing: list[str]) -> str:
    """What the missing needs are, in words.

    >>> describe_missing(["leads.first_response_at", "opportunities.account_id,closed_at"])
    'needs table `leads` with column `first_response_at` and table `opportunities` with columns `account_id`, `closed_at`'
    """  # noqa: E501
    parts = []
    for need in missing:
        table, _, columns = need.partition(".")
        names = ", ".join(f"`{c}`" for c in columns.split(",")) if columns else ""
        plural = "s" if "," in columns else ""
        parts.append(
            f"table `{table}` with column{plural} {names}" if columns else f"table `{table}`"
        )
    return "needs " + " and ".join(parts)


def month_of(ts: ibis.Value) -> ibis.Value:
    """The kit's month index of a timestamp expression (``core.month_index``)."""
    return month_index(ts.year().cast("int64"), ts.month().cast("int64"))


def seconds_between(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """``later - earlier`` in seconds (float), the same on every backend."""
    return later.epoch_seconds().cast("float64") - earlier.epoch_seconds().cast("float64")


class Measures:
    """Attribution and aggregation for months ``first..last`` and the wanted scopes.

    ``wanted`` maps each scope type to the rows it needs (see ``Wanted``); ``fetch``
    computes another source for the same months (the engine passes its cached one).
    """

    def __init__(
        self,
        ds: Dataset,
        config: Config,
        first: Month,
        last: Month,
        wanted: Wanted | None = None,
        fetch: Callable[[str, list[str], set[str]], pd.DataFrame] | None = None,
    ):
        self.ds, self.cfg, self.first, self.last = ds, config, first, last
        self.months = month_range(first, last)
        self.start, self.end = first.start, last.end
        self.wanted = dict(wanted) if wanted is not None else dict.fromkeys(SCOPE_TYPES)
        self.fetch = fetch or (lambda name, types, names: SOURCES[name].run(self, types))
        self.names: set[str] | None = None  # the measures asked for (None: all)

    def asked(self, *names: str) -> bool:
        """Whether any of ``names`` is asked for: a source skips the queries of the rest."""
        return self.names is None or any(n in self.names for n in names)

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

    def _owners(self, of: ibis.Table | None = None) -> ibis.Table | None:
        if not self.ds.has("accounts", "account_id", "owner_rep_id"):
            return None
        a = self.ds.table("accounts")
        if of is not None:
            # the accounts of ``of`` only, before de-duplicating: the accounts table can
            # hold millions of prospects while subscriptions or NPS answers touch few
            a = a.semi_join(of, a.account_id == of.account_id)
        return a.group_by(_a_id=a.account_id).aggregate(_a_owner=a.owner_rep_id.min())

    def by_owner(self, t: ibis.Table, rep_first: str | None = None, few: bool = True) -> ibis.Table:
        """``t`` attributed to its account's owner (or to ``rep_first`` when set).
        ``few``: ``t`` holds far fewer accounts than ``accounts`` (not order lines)."""
        owners = self._owners(t if few and rep_first is None else None)
        if owners is None:
            rep = t[rep_first] if rep_first else ibis.null("string")
            return self.by_rep(t, rep)
        j = t.left_join(owners, t.account_id == owners._a_id)
        rep = j[rep_first].fill_null(j._a_owner) if rep_first else j._a_owner
        return self.by_rep(j.mutate(_owner_rep=rep).drop("_a_id", "_a_owner"), "_owner_rep")

    def by_order(self, t: ibis.Table) -> ibis.Table:
        """Order lines: their own rep, else the account owner.

        Lines with a rep are attributed without the owner lookup; only the lines without
        one look up the owners of their accounts (usually few or none), instead of
        de-duplicating millions of accounts for a join every line goes through."""
        if "rep_id" not in t.columns:
            return self.by_owner(t)
        if self._owners() is None:
            return self.by_owner(t, rep_first="rep_id")
        own = t.filter(t.rep_id.notnull())
        own = self.by_rep(own.mutate(_owner_rep=own.rep_id), "_owner_rep")
        return own.union(self.by_owner(t.filter(t.rep_id.isnull())), distinct=False)

    # ------------------------------------------------------------------ scopes

    def row_filter(self) -> list[tuple[str, str]] | None:
        """The rows every wanted scope together needs: None = all of them."""
        if any(v is None for v in self.wanted.values()):
            return None
        return sorted(set().union(*self.wanted.values()))

    def keep(self, t: ibis.Table, pairs: list[tuple[str, str]] | None = None) -> ibis.Table:
        """Rows of the wanted scopes only (``t`` has ``_rep`` and ``_team``)."""
        pairs = self.row_filter() if pairs is None else pairs
        if not pairs:
            return t
        cond = None
        for col in ("_team", "_rep"):
            values = sorted(v for c, v in pairs if c == col)
            if values:
                c = t[col].isin(values)
                cond = c if cond is None else cond | c
        return t.filter(cond)

    # ------------------------------------------------------------------ aggregation

    def base(
        self,
        t: ibis.Table,
        mi: ibis.Value | str,
        metrics: Callable[[ibis.Table], dict[str, ibis.Value]],
    ) -> pd.DataFrame:
        """Additive ``metrics`` of ``t`` (with ``_rep``/``_team``) per (mi, rep, team)."""
        t = self.keep(t.mutate(_mi=t[mi] if isinstance(mi, str) else mi))
        g = t.group_by([t._mi.name("mi"), t._rep.name("rep"), t._team.name("team")])
        df = g.aggregate(**metrics(t)).to_pandas()
        # plain object keys: pandas cannot merge empty Arrow-backed string columns
        return df.astype({"rep": object, "team": object, "mi": "int64"})

    def per_type(
        self,
        t: ibis.Table,
        mi: ibis.Value | str,
        scope_types: list[str],
        metrics: Callable[[ibis.Table], dict[str, ibis.Value]],
    ) -> pd.DataFrame:
        """``metrics`` that do not add up across reps (distinct counts, medians), grouped
        once per scope type: the scope types are stacked with ``union_all``."""
        t = t.mutate(_mi=t[mi] if isinstance(mi, str) else mi)
        stacked = None
        for st in scope_types:
            scope = {"company": ibis.literal(COMPANY), "team": t._team, "rep": t._rep}[st]
            part = self.keep(t, sorted(self.wanted.get(st) or ()))
            part = part.mutate(scope_type=ibis.literal(st), scope=scope.cast("string"))
            stacked = part if stacked is None else stacked.union(part, distinct=False)
        g = stacked.group_by(["scope_type", "scope", stacked._mi.name("mi")]).aggregate(
            **metrics(stacked)
        )
        df = g.to_pandas()
        return df.astype({"scope_type": object, "scope": object, "mi": "int64"})

    def distinct_count(
        self, t: ibis.Table, mi: str, key: str, scope_types: list[str], name: str
    ) -> pd.DataFrame:
        """Distinct non-null ``key`` values of ``t`` (with ``_rep``/``_team``) per scope
        and month ``mi``, as the measure ``name``; the same as a distinct count per scope
        type, in one pass over ``t`` instead of one per scope type.

        A key whose rows in a month all belong to one rep counts once for that rep, its
        team and the company: those add up like sums (:meth:`roll_up`). Keys spread over
        several reps in a month (rare: an order with lines of two reps) are fetched, only
        when there are any, and counted per scope in pandas. Example: order A (lines of
        r1) and order B (lines of r1 and r2, both in EMEA): r1 2, r2 1, EMEA 2, company 2.
        """
        t = t.filter(t[key].notnull())
        per = t.group_by([mi, key]).aggregate(_r0=t._rep.min(), _r1=t._rep.max(), _t0=t._team.min())
        g = per.group_by(
            [per[mi].name("mi"), per._r0.name("rep"), per._t0.name("team"), per._r1.name("_r1")]
        ).aggregate(**{name: per.count()})
        g = g.to_pandas().astype({"rep": object, "team": object, "mi": "int64"})
        single = g["rep"] == g["_r1"]
        out = self.roll_up(g.loc[single, BASE + [name]], scope_types)
        if single.all():
            return out
        spread = per.filter(per._r0 != per._r1).select(_s_mi=per[mi], _s_key=per[key])
        rows = t.semi_join(spread, (t[mi] == spread._s_mi) & (t[key] == spread._s_key))
        rows = rows.select(mi, key, "_rep", "_team").distinct().to_pandas()
        rows = rows.astype({"_rep": object, "_team": object, mi: "int64"})
        parts = [out]
        for st in scope_types:
            part = selected(rows, self.wanted.get(st))
            scope = COMPANY if st == "company" else part["_team" if st == "team" else "_rep"]
            part = part.assign(scope_type=st, scope=scope, mi=part[mi])
            part = part.drop_duplicates(["scope", "mi", key])
            parts.append(part.groupby(KEY, as_index=False).size().rename(columns={"size": name}))
        both = pd.concat(parts, ignore_index=True)
        both = both.astype({"scope_type": object, "scope": object, "mi": "int64"})
        return both.groupby(KEY, as_index=False, sort=False)[name].sum()

    def roll_up(self, base: pd.DataFrame, scope_types: list[str]) -> pd.DataFrame:
        """Sum (mi, rep, team) rows up to every wanted scope of ``scope_types``."""
        values = [c for c in base.columns if c not in BASE]
        parts = []
        for st in scope_types:
            rows = selected(base, self.wanted.get(st), {"_team": "team", "_rep": "rep"})
            if st == "company":
                g = rows.groupby("mi", as_index=False)[values].sum()
                g.insert(0, "scope", COMPANY)
            else:
                g = rows.groupby([st, "mi"], as_index=False)[values].sum()
                g = g.rename(columns={st: "scope"})
            g.insert(0, "scope_type", st)
            parts.append(g)
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=KEY)
        return out.astype({"scope_type": object, "scope": object, "mi": "int64"})

    def running(self, deltas: pd.DataFrame) -> pd.DataFrame:
        """Month-end states from +/- deltas per (mi, rep, team): the running sum over the
        months ``first..last`` (a delta at mi counts from mi on)."""
        values = [c for c in deltas.columns if c not in BASE]
        if deltas.empty:
            return deltas
        wide = deltas.pivot_table(
            index=["rep", "team"], columns="mi", values=values, aggfunc="sum", fill_value=0
        )
        months = [m.index for m in self.months]
        out = []
        for v in values:
            w = wide[v].reindex(columns=months, fill_value=0).cumsum(axis=1)
            out.append(w.stack().rename(v))
        df = pd.concat(out, axis=1).reset_index()
        df = df[(df[values] != 0).any(axis=1)]  # a scope without a state: filled later
        return df.astype({"rep": object, "team": object, "mi": "int64"})[BASE + values]

    def month_deltas(
        self,
        t: ibis.Table,
        start_mi: ibis.Value,
        stop_mi: ibis.Value,
        values: dict[str, Callable[[ibis.Table], ibis.Value]],
        counted_by: dict[str, str] | None = None,
    ) -> pd.DataFrame:
        """States of rows of ``t`` that hold from month ``start_mi`` up to (not including)
        ``stop_mi`` (NULL: still holding), as :meth:`running` states per (mi, rep, team).

        A row that started before ``first`` enters at ``first`` (the opening balance);
        rows that stop before ``first`` or never hold at a month end are left out.
        ``counted_by`` maps a sum to a count of its rows among ``values``: where no row
        holds, the sum is exactly 0, not what is left of adding and taking away floats.
        """
        first, last = self.first.index, self.last.index
        # a NULL start never holds (greatest() would skip it: test it first)
        t = t.filter(start_mi.notnull())
        t = t.mutate(_from=ibis.greatest(start_mi, first), _to=stop_mi)
        t = t.filter((t._from <= last) & (t._to.isnull() | (t._to > t._from)))
        plus = t.select(
            _rep="_rep", _team="_team", _mi=t._from, **{k: v(t) for k, v in values.items()}
        )
        ends = t.filter(t._to <= last)
        minus = ends.select(
            _rep="_rep", _team="_team", _mi=ends._to, **{k: -v(ends) for k, v in values.items()}
        )
        both = plus.union(minus, distinct=False)
        states = self.running(self.base(both, "_mi", lambda x: {k: x[k].sum() for k in values}))
        for value, count in (counted_by or {}).items():
            states.loc[states[count] == 0, value] = 0.0
        return states

    # ------------------------------------------------------------------ shared sets

    def in_range(self, t: ibis.Table, column: str) -> ibis.Table:
        start, end = ibis.timestamp(self.start), ibis.timestamp(self.end)
        return t.filter((t[column] >= start) & (t[column] < end))

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

    def facts(self, key: tuple, build: Callable[[], ibis.Table]) -> ibis.Table:
        """``build()`` computed once per dataset and kept as a table in the database
        (Ibis ``cache()``: a temporary table), for the queries that read it again."""
        key = ("facts", *key)
        if key not in self.ds.cache:
            self.ds.cache[key] = build().cache()
        return self.ds.cache[key]

    def active_spells(self, since: Month | None = None) -> ibis.Table:
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
        lo, hi = (since or self.first).index, self.last.index
        spells = []
        first_sub = None
        if self.ds.has("subscriptions", "account_id", "started_at"):
            s = self.ds.table("subscriptions")
            s = s.filter(s.started_at.notnull())
            stop = month_of(s.ended_at) - 1 if "ended_at" in s.columns else ibis.null("int64")
            spells.append(s.select("account_id", a=month_of(s.started_at), b=stop.fill_null(hi)))
            first_sub = s.group_by(_f_id=s.account_id).aggregate(_f=month_of(s.started_at.min()))
        events = self.customer_events()
        if events is not None:
            # an event keeps its account active until lookback days after it, so events
            # before start(lo + 1) - lookback end before lo: their spells would be
            # clipped away below; leaving them out first spares most of the history
            look = timedelta(days=self.cfg.customer_lookback_days)
            since_t = ibis.timestamp(Month(lo + 1).start - look)
            e = events.filter((events.t < ibis.timestamp(self.end)) & (events.t >= since_t))
            e = e.group_by([e.account_id, month_of(e.t).name("a")]).aggregate(tmax=e.t.max())
            # active while start(m + 1) <= tmax + lookback, i.e. m < month(tmax + lookback)
            until = month_of(e.tmax + ibis.interval(days=self.cfg.customer_lookback_days))
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

    def cached_spells(self, since: Month) -> ibis.Table:
        """:meth:`active_spells` from ``since``, kept on the dataset; spells computed from
        an earlier month serve too (they hold the same months from ``since`` on)."""
        look = self.cfg.customer_lookback_days
        for key, table in self.ds.cache.items():
            if key[:2] == ("facts", "spells") and key[2:4] == (self.last.index, look):
                if key[4] <= since.index:
                    return table
        return self.facts(
            ("spells", self.last.index, look, since.index), lambda: self.active_spells(since)
        )

    def first_purchase(self) -> ibis.Table:
        """(account_id, first_mi): the month of each account's first purchase or win."""

        def build() -> ibis.Table:
            e = self.customer_events()
            first = e.group_by("account_id").aggregate(first_t=e.t.min())
            return first.mutate(first_mi=month_of(first.first_t))

        return self.facts(("first_purchase",), build)


def selected(
    frame: pd.DataFrame,
    pairs: frozenset[tuple[str, str]] | None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The rows of ``frame`` that any (column, value) of ``pairs`` selects (every row when
    ``pairs`` is None or empty); ``columns`` renames "_team"/"_rep" to the frame's names.

    >>> df = pd.DataFrame({"_team": ["N", "S", "S"], "_rep": ["a", "b", "c"]})
    >>> list(selected(df, frozenset({("_team", "N"), ("_rep", "c")}))["_rep"])
    ['a', 'c']
    """
    if not pairs:
        return frame
    keep = np.zeros(len(frame), dtype=bool)
    for col, value in pairs:
        keep |= (frame[(columns or {}).get(col, col)] == value).to_numpy()
    return frame[keep]


def _flag(cond: ibis.Value) -> ibis.Value:
    """1 or 0 (PostgreSQL cannot cast a boolean to bigint)."""
    return ibis.ifelse(cond, ibis.literal(1, "int64"), ibis.literal(0, "int64"))


def merge_spells(t: ibis.Table, keys: list[str], lo: int, hi: int) -> ibis.Table:
    """Spells (``keys``, a, b: months a..b inclusive) clipped to lo..hi and merged per
    ``keys`` into non-overlapping spells (keys, s, e). Touching spells merge too, so a
    spell's end is a real stop."""
    # greatest()/least() skip NULLs on every backend: drop spells without a start first
    t = t.filter(t.a.notnull())
    t = t.mutate(a=ibis.greatest(t.a, lo), b=ibis.least(t.b, hi))
    t = t.filter(t.a <= t.b)
    # one row per start month, so the two windows below order their rows the same way:
    # with ties on (a, b) a backend may order them differently in each window, and a
    # tied pair could then open two identical spells
    t = t.group_by([*keys, "a"]).aggregate(b=t.b.max())
    before = ibis.window(group_by=keys, order_by="a", rows=(None, -1))
    upto = ibis.window(group_by=keys, order_by="a", rows=(None, 0))
    t = t.mutate(_prev=t.b.max().over(before))
    t = t.mutate(_new=_flag(t._prev.isnull() | (t.a > t._prev + 1)))
    t = t.mutate(_spell=t._new.sum().over(upto))
    return t.group_by([*keys, "_spell"]).aggregate(s=t.a.min(), e=t.b.max()).drop("_spell")


# ---------------------------------------------------------------------- measure sources


@source(
    "orders",
    ("orders",),
    ("revenue", "orders", "revenue_accounts", "units", "cogs", "gross_profit"),
    extra_needs={"units": ("orders.quantity",), "cogs": ("orders.cost",)},
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
    with o.cache() as facts:
        out = ms.roll_up(ms.base(facts, "_o_mi", sums), st)
        orders = ms.distinct_count(facts, "_o_mi", "order_id", st, "orders")
        paid = facts.filter(facts.revenue > 0)
        accounts = ms.distinct_count(paid, "_o_mi", "account_id", st, "revenue_accounts")
    return _merge(out, orders, accounts)


def _merge(*frames: pd.DataFrame) -> pd.DataFrame:
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=KEY, how="outer")
    return out


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
    return _merge(out, ms.per_type(w, "_c_mi", st, distinct))


@source("new_opportunities", ("opportunities",), ("new_opportunities",))
def _new_opps(ms: Measures, st: list[str]) -> pd.DataFrame:
    o = ms.by_rep(ms.in_range(ms.ds.table("opportunities"), "created_at"))
    base = ms.base(o, month_of(o.created_at), lambda t: {"new_opportunities": t.count()})
    return ms.roll_up(base, st)


@source(
    "pipeline", ("opportunities.closed_at",), ("open_deals", "pipeline_value", "weighted_pipeline")
)
def _pipeline(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Deals open at the end of m: created_at < S and (closed_at empty or >= S), S the start
    of m+1; in months: open from month(created_at) until month(closed_at), exclusive."""
    o = ms.ds.table("opportunities")
    default = ibis.cases(
        *[(o.stage == k, float(v)) for k, v in ms.cfg.stage_probability.items()],
        else_=float(ms.cfg.default_probability),
    )
    prob = o.probability.fill_null(default) if "probability" in o.columns else default
    o = ms.by_rep(o.filter(o.created_at < ibis.timestamp(ms.end)).mutate(_prob=prob))
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


@source(
    "leads",
    ("leads",),
    ("leads_created", "leads_contacted", "response_hours_median", "leads_engaged"),
    extra_needs={
        "leads_contacted": ("leads.first_response_at",),
        "response_hours_median": ("leads.first_response_at",),
        "leads_engaged": ("leads.first_response_at", "leads.engaged_at"),
    },
    keep_nan=("response_hours_median",),
)
def _leads(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Leads created in m: all, contacted, their median response hours, engaged."""
    t = ms.by_rep(ms.in_range(ms.ds.table("leads"), "created_at"))
    t = t.mutate(_l_mi=month_of(t.created_at))
    responded = "first_response_at" in t.columns

    def sums(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {"leads_created": x.count()}
        if responded:
            out["leads_contacted"] = x.first_response_at.notnull().sum().cast("int64")
            if "engaged_at" in x.columns:
                engaged = x.engaged_at.notnull() & x.first_response_at.notnull()
                out["leads_engaged"] = engaged.sum().cast("int64")
        return out

    out = ms.roll_up(ms.base(t, "_l_mi", sums), st)
    if responded and ms.asked("response_hours_median"):
        # only contacted leads have hours; median() of a filtered column does not compile
        # on Spark, so the never-contacted leads are left out before
        c = t.filter(t.first_response_at.notnull())
        c = c.select(
            "_l_mi",
            "_rep",
            "_team",
            _hours=seconds_between(c.first_response_at, c.created_at) / 3600.0,
        )
        med = ms.per_type(c, "_l_mi", st, lambda x: {"response_hours_median": x._hours.median()})
        out = _merge(out, med)
    return out


@source("sql", ("leads.qualified_at",), ("sqls",))
def _sqls(ms: Measures, st: list[str]) -> pd.DataFrame:
    t = ms.by_rep(ms.in_range(ms.ds.table("leads"), "qualified_at"))
    return ms.roll_up(ms.base(t, month_of(t.qualified_at), lambda x: {"sqls": x.count()}), st)


@source(
    "activities",
    ("activities",),
    ("calls", "emails", "meetings", "successful_calls"),
    extra_needs={"successful_calls": ("activities.outcome",)},
)
def _activities(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Calls, emails, meetings and successful calls in m (types compared lower-cased)."""
    t = ms.by_rep(ms.in_range(ms.ds.table("activities"), "occurred_at"))
    t = t.mutate(_type=t.type.lower().strip())

    def sums(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {k + "s": (x._type == k).sum().cast("int64") for k in ("call", "email", "meeting")}
        if "outcome" in x.columns:
            ok = (x._type == "call") & (x.outcome.lower().strip() == "successful")
            out["successful_calls"] = ok.sum().cast("int64")
        return out

    return ms.roll_up(ms.base(t, month_of(t.occurred_at), sums), st)


@source(
    "customers",
    ("orders|opportunities.account_id,closed_at",),
    ("active_customers", "new_customers", "customers_lost"),
)
def _customers(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Active customers at the end of m, new customers in m, customers lost in m.

    Customers are attributed to their account's owner, one scope per account, so the
    counts add up from reps to teams and the company. A customer is lost in the month
    after its last active month; spells start one month early for the first month's
    losses."""
    first, last = ms.first.index, ms.last.index
    spells = ms.cached_spells(ms.first - 1)
    spells = ms.by_owner(spells).cache()  # read by the states and the losses
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
    lost = spells.filter(spells.e < last)
    lost = ms.base(lost, lost.e + 1, lambda t: {"customers_lost": t.count()})
    fp = ms.first_purchase()
    fp = ms.by_owner(fp.filter((fp.first_mi >= first) & (fp.first_mi <= last)))
    new = ms.base(fp, "first_mi", lambda t: {"new_customers": t.count()})
    base = pd.concat([states, lost, new], ignore_index=True)
    base = base.groupby(BASE, as_index=False).sum(min_count=1)
    return ms.roll_up(base.fillna(0), st)


@source(
    "new_customer_revenue",
    ("orders", "orders|opportunities.account_id,closed_at"),
    ("new_customer_revenue",),
)
def _new_customer_revenue(ms: Measures, st: list[str]) -> pd.DataFrame:
    o = ms.in_range(ms.ds.table("orders"), "ordered_at")
    o = o.mutate(_o_mi=month_of(o.ordered_at))
    first = ms.first_purchase()
    f = first.select(_f_id=first.account_id, _f_mi=first.first_mi)
    j = o.join(f, (o.account_id == f._f_id) & (o._o_mi == f._f_mi))
    j = ms.by_order(j.drop("_f_id", "_f_mi"))
    return ms.roll_up(ms.base(j, "_o_mi", lambda t: {"new_customer_revenue": t.revenue.sum()}), st)


@source("customers_ordered_12m", ("orders",), ("customers_ordered_12m",))
def _customers_ordered_12m(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Distinct accounts with an order line with revenue > 0 in the 12 months ending with m,
    per scope. An account-month a with an order counts for the months a..a+11; per scope
    and account, each order month a holds until the next one n (or a+12, if sooner), so
    the pieces a..min(a+12, n)-1 never overlap and +1/-1 deltas at their ends count each
    account once. One window (``lead``) per (scope, account), no spell merging.

    Example: orders in months 0 and 5 give pieces 0..4 and 5..16: +1 at 0, -1 at 5,
    +1 at 5, -1 at 17, i.e. counted in months 0..16."""
    first, last = ms.first.index, ms.last.index
    o = ms.ds.table("orders")
    o = o.filter(
        (o.revenue > 0)
        & (o.ordered_at < ibis.timestamp(ms.end))
        & (o.ordered_at >= ibis.timestamp((ms.first - 11).start))
    )
    o = ms.by_order(o)
    o = o.select("account_id", "_rep", "_team", a=month_of(o.ordered_at))
    stacked = None
    for t in st:
        scope = {"company": ibis.literal(COMPANY), "team": o._team, "rep": o._rep}[t]
        part = ms.keep(o, sorted(ms.wanted.get(t) or ()))
        # one row per (scope, account, month): fewer rows for the window to sort
        part = part.select("account_id", "a", _t=ibis.literal(t), _s=scope.cast("string"))
        part = part.distinct()
        stacked = part if stacked is None else stacked.union(part, distinct=False)
    w = ibis.window(group_by=["_t", "_s", "account_id"], order_by="a")
    p = stacked.mutate(_n=stacked.a.lead().over(w))
    # the piece a..stop-1 (stop = a + 12, or the next order month when sooner)
    p = p.mutate(_stop=ibis.cases((p._n.notnull() & (p._n < p.a + 12), p._n), else_=p.a + 12))
    p = p.filter(p._stop > first)
    plus = p.select("_t", "_s", _mi=ibis.greatest(p.a, first), _d=ibis.literal(1, "int64"))
    ends = p.filter(p._stop <= last)
    minus = ends.select("_t", "_s", _mi=ends._stop, _d=ibis.literal(-1, "int64"))
    both = plus.union(minus, distinct=False)
    g = both.group_by([both._mi.name("mi"), both._s.name("rep"), both._t.name("team")])
    deltas = g.aggregate(customers_ordered_12m=both._d.sum()).to_pandas()
    deltas = deltas.astype({"rep": object, "team": object, "mi": "int64"})
    states = ms.running(deltas)  # rep = scope, team = scope type here
    out = states.rename(columns={"rep": "scope", "team": "scope_type"})
    return out[KEY + ["customers_ordered_12m"]]


@source(
    "engagement",
    ("activities.account_id", "orders|opportunities.account_id,closed_at"),
    ("customer_activities",),
)
def _engagement(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Activities in m on an account that is an active customer at the end of m."""
    t = ms.in_range(ms.ds.table("activities"), "occurred_at")
    t = t.filter(t.account_id.notnull()).mutate(_a_mi=month_of(t.occurred_at))
    spells = ms.cached_spells(ms.first)
    c = spells.select(_c_id=spells.account_id, _c_s=spells.s, _c_e=spells.e)
    j = t.join(c, (t.account_id == c._c_id) & (t._a_mi >= c._c_s) & (t._a_mi <= c._c_e))
    j = ms.by_rep(j.drop("_c_id", "_c_s", "_c_e"))
    return ms.roll_up(ms.base(j, "_a_mi", lambda x: {"customer_activities": x.count()}), st)


@source("nps", ("nps_responses",), ("nps_responses", "nps_promoters", "nps_detractors"))
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


def _subscriptions(ms: Measures) -> ibis.Table:
    s = ms.ds.table("subscriptions")
    if "ended_at" not in s.columns:
        s = s.mutate(ended_at=ibis.null("timestamp"))
    return s


@source("mrr", ("subscriptions",), ("mrr",))
def _mrr(ms: Measures, st: list[str]) -> pd.DataFrame:
    """MRR of subscriptions running at the end of m (``started_at`` < S <= ``ended_at``)."""
    s = ms.by_owner(_subscriptions(ms))
    states = ms.month_deltas(
        s,
        month_of(s.started_at),
        month_of(s.ended_at),
        {"mrr": lambda t: t.mrr, "_with_mrr": lambda t: _flag(t.mrr != 0)},
        counted_by={"mrr": "_with_mrr"},
    )
    return ms.roll_up(states.drop(columns="_with_mrr"), st)


MRR_MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churned")


def mrr_changes(ms: Measures, since: Month | None = None) -> ibis.Table:
    """(account_id, mi, mrr_now, mrr_before, new, expansion, reactivation, contraction,
    churned) for each account and month ``since``..``last`` whose MRR at the end of the
    month differs from the month before (other months have no movement).

    Each subscription adds its MRR in its start month and takes it away in its end
    month; the running sum per account is its MRR at each month end. "No MRR" is told by
    the number of running subscriptions with MRR, not by a sum that might be 1e-13."""
    lo = (since or ms.first).index
    s = _subscriptions(ms)
    s = s.filter(s.started_at < ibis.timestamp(ms.end))
    on = _flag(s.mrr != 0)
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
    c, p = j.mrr_now, j.mrr_before
    return j.select(
        "account_id",
        "mi",
        "mrr_now",
        "mrr_before",
        new=ibis.ifelse((p == 0) & (c > 0) & (j._f_mi >= j.mi), c, 0.0),
        reactivation=ibis.ifelse((p == 0) & (c > 0) & (j._f_mi < j.mi), c, 0.0),
        expansion=ibis.ifelse((p > 0) & (c > p), c - p, 0.0),
        contraction=ibis.ifelse((p > 0) & (c > 0) & (c < p), p - c, 0.0),
        churned=ibis.ifelse((p > 0) & (c == 0), p, 0.0),
    )


@source("mrr_movements", ("subscriptions",), tuple(f"mrr_{k}" for k in MRR_MOVEMENTS))
def _mrr_movements(ms: Measures, st: list[str]) -> pd.DataFrame:
    j = ms.by_owner(mrr_changes(ms))
    base = ms.base(j, "mi", lambda t: {f"mrr_{k}": t[k].sum() for k in MRR_MOVEMENTS})
    return ms.roll_up(base, st)


# ------------------------------------------------------- small tables, read into pandas


def employed_in(reps: pd.DataFrame, month: Month) -> pd.Series:
    """Which reps were employed in ``month``: hired before its end (or no hire date) and not
    gone before its start (or no leaving date)."""
    missing = pd.Series(pd.NaT, index=reps.index)
    hired = reps["hired_at"] if "hired_at" in reps else missing
    left = reps["left_at"] if "left_at" in reps else missing
    return (hired.isna() | (hired < month.end)) & (left.isna() | (left >= month.start))


@source("reps_active", ("reps.team",), ("reps_active",))
def reps_active(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Reps employed in each month (:func:`employed_in`), counted per scope."""
    reps = ms.ds.frame("reps")
    rows = [
        reps.loc[employed_in(reps, m), ["rep_id", "team"]].assign(mi=m.index, reps_active=1)
        for m in ms.months
    ]
    base = pd.concat(rows, ignore_index=True).rename(columns={"rep_id": "rep"})
    base = base.dropna(subset=["rep"]).astype({"rep": object, "team": object, "mi": "int64"})
    return ms.roll_up(base[BASE + ["reps_active"]], st)


@source(
    "costs",
    ("costs",),
    ("costs_total", "costs_marketing"),
    scope_types=("company", "team"),
    scope_reason="costs are kept per team, not per rep",
    reads=("leads",),
)
def costs(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Costs per company and team; costs with an empty team are shared by the teams in
    proportion to their new leads of the month (equally when the month has no leads)."""
    st = [s for s in st if s in ("company", "team")]
    leads = None
    if "team" in st and not missing_inputs(ms.ds, SOURCES["leads"].needs):
        leads = ms.fetch("leads", ["team"], {"leads_created"})
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
                rows.append(("company", COMPANY, m.index, cat_name, float(cat["amount"].sum())))
            if "team" not in st:
                continue
            own = cat[cat["team"].notna()].groupby("team")["amount"].sum()
            shared = float(cat.loc[cat["team"].isna(), "amount"].sum())
            share = _lead_shares(leads, m.index, sorted(set(teams) | set(own.index)))
            for team in sorted(set(own.index) | set(share.index)):
                value = float(own.get(team, 0.0)) + shared * float(share.get(team, 0.0))
                rows.append(("team", team, m.index, cat_name, value))
    if not rows:
        return pd.DataFrame(columns=KEY + ["costs_total", "costs_marketing"])
    df = (
        pd.DataFrame(rows, columns=KEY + ["measure", "value"])
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


@source(
    "financials",
    ("financials",),
    tuple(f"fin_{c}" for c in FINANCIALS),
    extra_needs={f"fin_{c}": (f"financials.{c}",) for c in FINANCIALS},
    keep_nan=tuple(f"fin_{c}" for c in FINANCIALS),
    scope_types=("company",),
    scope_reason="financials are company-wide: company scope only",
)
def financials(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Company figures per month (financials are company-wide)."""
    f = ms.ds.frame("financials")
    f = f[f["month"].isin([str(m) for m in ms.months])]
    twice = f["month"][f["month"].duplicated()].unique()
    if len(twice):
        shown = ", ".join(sorted(map(str, twice))[:5])
        raise KitError(
            f"financials.month: {len(twice)} month(s) appear on more than one row "
            f"(e.g. {shown}); the figures of a month must be one row. Fix: keep one row "
            "per month (de-duplicate the export, or use unique_by in the mapping); "
            "`kpi-kit validate` lists them."
        )
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


TARGETED = ("monthly_sales_bookings",)  # KPIs whose target a formula reads


@source(
    "targets",
    ("targets",),
    tuple(f"target_{k}" for k in TARGETED),
    keep_nan=tuple(f"target_{k}" for k in TARGETED),
)
def _targets(ms: Measures, st: list[str]) -> pd.DataFrame:
    t = targets(ms.ds, ms.months)
    t = t[t["kpi"].isin(TARGETED) & t["scope_type"].isin(st)]
    t = (
        t.assign(kpi="target_" + t["kpi"])
        .pivot_table(index=KEY, columns="kpi", values="target", aggfunc="sum")
        .reset_index()
    )
    t.columns.name = None
    return t


def targets(ds: Dataset, months: list[Month]) -> pd.DataFrame:
    """(scope_type, scope, mi, kpi, target) from the targets table; company rows have no
    team and no rep, team rows a team and no rep, rep rows a rep."""
    if not ds.has("targets", "month", "kpi", "target"):
        return pd.DataFrame(columns=KEY + ["kpi", "target"])
    t = ds.frame("targets")
    t = t[t["month"].isin([str(m) for m in months])]
    none = pd.Series(None, index=t.index, dtype=object)
    team = t["team"].replace("", None) if "team" in t else none
    rep = t["rep_id"].replace("", None) if "rep_id" in t else none
    out = pd.DataFrame(
        {
            "scope_type": np.where(rep.notna(), "rep", np.where(team.notna(), "team", "company")),
            "scope": rep.where(rep.notna(), team.where(team.notna(), COMPANY)).astype(object),
            "mi": t["month"].map({x: Month.parse(x).index for x in t["month"].unique()}),
            "kpi": t["kpi"].astype(object),
            "target": t["target"],
        }
    )
    return out.groupby(KEY + ["kpi"], as_index=False)["target"].sum()
