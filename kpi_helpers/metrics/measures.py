"""Base measures: the counts, sums and medians every KPI is a formula of.

This module holds the machinery; the sources live with their tables and register
themselves in ``.needs`` on import (the engine imports them all)::

    orders          order lines: revenue, orders, units, COGS, new-customer revenue
    deals           opportunities: won and lost deals, new deals, the open pipeline
    leads           leads, SQLs and activities
    customers       who is a customer when (spells, first purchases); NPS answers
    subscriptions   MRR and its movements
    small_tables    reps, costs, financials and targets, computed in pandas

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
customers) to the account's rep (:meth:`Measures.account_reps`: its owner, else the rep
of its latest won deal, else of its latest deal); order lines without a rep to the
account's rep; unknown reps fall into the team ``unassigned``. The queries are plain
Ibis, so they run unchanged on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis
import numpy as np
import pandas as pd

from kpi_helpers.core import Config, Month, month_range
from kpi_helpers.data import UNASSIGNED_TEAM, Dataset, keep_table

from .needs import SOURCES, Run, Source, describe_missing, empty_columns, missing_inputs, source
from .scopes import COMPANY, SCOPE_TYPES
from .segments import Segment, split
from .slots import MONTHS, Column, Slots, month_of, open_at_end, seconds_between

# the sources' names, from where they live (.needs, .slots), for the table modules
__all__ = [
    "BASE",
    "KEY",
    "MONTHS",
    "SOURCES",
    "Column",
    "Measures",
    "Run",
    "Slots",
    "Source",
    "Wanted",
    "describe_missing",
    "empty_columns",
    "flag",
    "missing_inputs",
    "month_of",
    "open_at_end",
    "outer_merge",
    "seconds_between",
    "selected",
    "source",
]

KEY = ["scope_type", "scope", "mi"]
BASE = ["mi", "rep", "team"]  # the grain additive measures are aggregated at

# Which rows a scope type needs: None = every row, else (column, value) pairs where
# column is "_rep" or "_team" ("team:EMEA" -> {("_team", "EMEA")}).
Wanted = Mapping[str, frozenset[tuple[str, str]] | None]


class Measures:
    """Attribution and aggregation for months ``first..last`` and the wanted scopes.

    ``wanted`` maps each scope type to the rows it needs (see ``Wanted``); ``fetch``
    computes another source for the same months (the engine passes its cached one).
    ``slots``: what the measures that do not add up over months (distinct counts,
    medians, movements between two instants) are grouped by, months by default
    (:class:`Slots`; their ``mi`` column then holds the slot).
    """

    def __init__(
        self,
        ds: Dataset,
        config: Config,
        first: Month,
        last: Month,
        wanted: Wanted | None = None,
        fetch: Callable[[str, list[str], set[str]], pd.DataFrame] | None = None,
        slots: Slots = MONTHS,
    ):
        self.ds, self.cfg, self.first, self.last = ds, config, first, last
        self.slots = slots
        self.months = month_range(first, last)
        self.start, self.end = first.start, last.end
        self.wanted = dict(wanted) if wanted is not None else dict.fromkeys(SCOPE_TYPES)
        self.fetch = fetch or (lambda name, types, names: SOURCES[name].run(self, types))
        self.names: set[str] | None = None  # the measures asked for (None: all)
        # True: the one source asked that reads the accounts' reps looks them up for its
        # own accounts only (:meth:`with_account_rep`), not for every account (the engine
        # decides: ``Source.by_account``)
        self.few_accounts = False
        self.segment: Segment | None = None

    def slotted(self, t: ibis.Table, mi: str) -> tuple[ibis.Table, str]:
        """``t`` with the slot (:class:`Slots`) of its month column ``mi``, and the slot
        column's name: ``(t, mi)`` unchanged when the slots are months."""
        if self.slots.monthly:
            return t, mi
        return t.mutate(_slot=self.slots.of(t[mi])), "_slot"

    def slot_last(self, slot: ibis.Value) -> ibis.Value:
        """The last month index of a slot that counts, never after ``last`` (a period to
        date ends with the data)."""
        end = self.slots.first_of(slot) + (self.slots.counted() - 1)
        return end if self.slots.monthly else ibis.least(end, self.last.index)

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
            t = t.mutate(_rep=t._rep.fill_null(UNASSIGNED_TEAM))
            t = t.mutate(_team=ibis.literal(UNASSIGNED_TEAM))
        else:
            j = t.left_join(reps, t._rep == reps._r_id)
            t = j.mutate(
                _team=j._r_team.fill_null(UNASSIGNED_TEAM), _rep=j._rep.fill_null(UNASSIGNED_TEAM)
            ).drop("_r_id", "_r_team")
        return t if self.segment is None else split(self.ds, self.segment, t)

    def account_reps(self, accounts: ibis.Table | None = None) -> ibis.Table | None:
        """(_a_id, _a_rep): each account's rep, the one rule of DATA_CONTRACT.md "An
        account's rep and team", decided once over the whole data and kept on the dataset
        (:meth:`facts`); None when the data has neither ``accounts.owner_rep_id`` nor
        deals with ``account_id`` and ``rep_id``. Given ``accounts`` (a table with
        ``account_id``), the reps of those accounts only, by the same rule over their own
        accounts and deals, not kept (the whole lookup when it is kept already): cheaper
        when one query alone needs them.

        In order: its owner (``accounts.owner_rep_id``) when that owner is in ``reps``;
        else the ``reps`` rep on its most recent won deal (latest ``closed_at``, ties by the
        greatest ``opportunity_id``); else the ``reps`` rep on its most recent deal (latest
        ``created_at``, same ties); else its owner even when ``reps`` misses it (its rows
        then count for that rep id and the team ``unassigned``). The team follows from the
        rep (:meth:`by_rep`). Example: an account without an owner, won by R1 in January
        and by R3 in February, with an open deal of R1 created in March, is R3's;
        ``ms.account_reps(ds.table("subscriptions"))`` gives the reps of the subscribed
        accounts.
        """
        owned, dealt = self._account_inputs()
        if not owned and not dealt:
            return None
        if accounts is None or ("facts", "account_reps") in self.ds.cache:
            return self.facts(("account_reps",), lambda: self._account_reps(owned, dealt))
        ids = accounts.select(_s_id=accounts.account_id)
        return self._account_reps(owned, dealt, ids)

    def _account_inputs(self) -> tuple[bool, bool]:
        # (owned, dealt): whether the accounts have owners, the deals accounts and reps
        return (
            self.ds.has("accounts", "account_id", "owner_rep_id"),
            self.ds.has("opportunities", "account_id", "rep_id", "created_at"),
        )

    def _account_reps(self, owned: bool, dealt: bool, ids: ibis.Table | None = None) -> ibis.Table:
        # ids: the accounts (_s_id) to look up (None: all), their accounts' and deals' rows
        # picked before anything else. One row per candidate: an account row (_k: its
        # owner if in reps, _o: its owner) or an account's latest won deal (_w) or
        # latest deal (_d), the other columns NULL. One grouping per account then takes
        # the first of _k, _w, _d, _o that is set: no ranking of the candidates, no join
        # back. (The accounts are the large table: they are read once, never grouped
        # before the union.) Only the deals of accounts without an owner in ``reps`` are
        # ranked: the others' deals never decide.
        reps = self._reps()
        none = ibis.null("string")
        parts = []
        todo = ids  # the accounts whose deals may decide (None: any account's)
        known = None  # (_kid): the accounts with an owner in ``reps``

        def row(t: ibis.Table, account: str, **values: ibis.Value) -> ibis.Table:
            cols = {c: values.get(c, none) for c in ("_k", "_w", "_d", "_o")}
            return t.select(_a_id=t[account], **cols)

        def latest(o: ibis.Table, at: str, into: str) -> ibis.Table:
            # one row per account: its deal with the latest ``at`` (ties: greatest id, rep)
            keys = [ibis.desc(at)] + [
                ibis.desc(c) for c in ("opportunity_id", "rep_id") if c in o.columns
            ]
            o = o.filter(o[at].notnull())
            w = ibis.window(group_by="account_id", order_by=keys)
            o = o.mutate(_n=ibis.row_number().over(w))
            o = o.filter(o._n == 0)
            return row(o, "account_id", **{into: o.rep_id})

        if owned:
            a = self.ds.table("accounts")
            a = a if ids is None else a.semi_join(ids, a.account_id == ids._s_id)
            a = a.filter(a.account_id.notnull() & a.owner_rep_id.notnull())
            if reps is None:
                parts.append(row(a, "account_id", _o=a.owner_rep_id))
            else:
                j = a.left_join(reps, a.owner_rep_id == reps._r_id)
                owner = j.owner_rep_id
                rows = row(
                    j, "account_id", _k=ibis.ifelse(j._r_id.notnull(), owner, none), _o=owner
                )
                parts.append(rows)
                known = rows.filter(rows._k.notnull()).select(_kid=rows._a_id)  # one pass
                if ids is not None:
                    todo = ids.anti_join(known, ids._s_id == known._kid)
        if dealt and reps is not None:  # only deals of ``reps`` reps count
            o = self.ds.table("opportunities")
            if todo is not None:
                o = o.semi_join(todo, o.account_id == todo._s_id)
            elif known is not None:
                o = o.anti_join(known, o.account_id == known._kid)
            o = o.filter(o.account_id.notnull() & o.rep_id.notnull())
            o = o.semi_join(reps, o.rep_id == reps._r_id)
            if "closed_at" in o.columns:
                parts.append(latest(o.filter(o.stage == "closed_won"), "closed_at", "_w"))
            parts.append(latest(o, "created_at", "_d"))
        if not parts:  # deals but no reps: no account has a rep
            o = self.ds.table("opportunities")
            parts.append(row(o.limit(0), "account_id"))
        both = parts[0]
        for other in parts[1:]:
            both = both.union(other, distinct=False)
        g = both.group_by("_a_id").aggregate(
            _k=both._k.min(), _w=both._w.min(), _d=both._d.min(), _o=both._o.min()
        )
        return g.select("_a_id", _a_rep=ibis.coalesce(g._k, g._w, g._d, g._o))

    def with_account_rep(self, t: ibis.Table, rep_first: str | None = None) -> ibis.Table:
        """``t`` (with ``account_id``) plus ``_owner_rep``: the ``rep_first`` column where it
        is set, else the rep of the row's account (:meth:`account_reps`); NULL when neither
        is known. E.g. an order line without ``rep_id`` gets its account's rep. With
        ``few_accounts``, the reps of ``t``'s accounts only (those without ``rep_first``)."""
        accounts = None
        if self.few_accounts:
            accounts = t.filter(t[rep_first].isnull()) if rep_first else t
        acc = self.account_reps(accounts)
        if acc is None:
            rep = t[rep_first] if rep_first else ibis.null("string")
            return t.mutate(_owner_rep=rep)
        j = t.left_join(acc, t.account_id == acc._a_id)
        rep = j[rep_first].fill_null(j._a_rep) if rep_first else j._a_rep
        return j.mutate(_owner_rep=rep).drop("_a_id", "_a_rep")

    def by_owner(self, t: ibis.Table, rep_first: str | None = None) -> ibis.Table:
        """``t`` attributed to its account's rep and team (:meth:`account_reps`), or to
        ``rep_first`` where that column is set."""
        return self.by_rep(self.with_account_rep(t, rep_first), "_owner_rep")

    def by_order(self, t: ibis.Table) -> ibis.Table:
        """Order lines: their own rep, else their account's rep.

        Lines with a rep are attributed without the account lookup; only the lines without
        one look up their accounts' reps (usually few or none)."""
        if "rep_id" not in t.columns:
            return self.by_owner(t)
        if not any(self._account_inputs()):
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
        stacked = self.stacked(t, scope_types)
        g = stacked.group_by(["scope_type", "scope", stacked._mi.name("mi")]).aggregate(
            **metrics(stacked)
        )
        df = g.to_pandas()
        return df.astype({"scope_type": object, "scope": object, "mi": "int64"})

    def stacked(self, t: ibis.Table, scope_types: list[str]) -> ibis.Table:
        """The rows of ``t`` (with ``_rep``/``_team``) once per scope type, each with its
        ``scope_type`` and ``scope`` (``company``, the team or the rep), the wanted scopes
        only (``union_all``): what :meth:`per_type` groups."""
        stacked = None
        for st in scope_types:
            scope = {"company": ibis.literal(COMPANY), "team": t._team, "rep": t._rep}[st]
            part = self.keep(t, sorted(self.wanted.get(st) or ()))
            part = part.mutate(scope_type=ibis.literal(st), scope=scope.cast("string"))
            stacked = part if stacked is None else stacked.union(part, distinct=False)
        return stacked

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
        # open at the end of its first month (from _from on, :func:`open_at_end` in
        # months), else it holds at no month end
        t = t.filter((t._from <= last) & open_at_end(t._from, t._to, t._from + 1))
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

    # ------------------------------------------------------------------ shared helpers

    def in_range(self, t: ibis.Table, column: str) -> ibis.Table:
        start, end = ibis.timestamp(self.start), ibis.timestamp(self.end)
        return t.filter((t[column] >= start) & (t[column] < end))

    def facts(self, key: tuple, build: Callable[[], ibis.Table]) -> ibis.Table:
        """``build()`` computed once per dataset and kept as a table in the database
        (``data.keep_table``: a temporary table), for the queries that read it again."""
        key = ("facts", *key)
        if key not in self.ds.cache:
            self.ds.cache[key] = keep_table(self.ds, build())
        return self.ds.cache[key]


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


def flag(cond: ibis.Value) -> ibis.Value:
    """1 where ``cond`` holds, else 0, as int64 (PostgreSQL cannot cast a boolean to
    bigint), e.g. ``flag(t.mrr != 0).sum()`` counts the rows with MRR."""
    return ibis.ifelse(cond, ibis.literal(1, "int64"), ibis.literal(0, "int64"))


def outer_merge(*frames: pd.DataFrame) -> pd.DataFrame:
    """The measure frames of one source joined on ``KEY`` (outer: every scope of any),
    e.g. ``outer_merge(sums, distinct_counts)``; a scope missing from one frame gets NaN
    there (the engine fills 0 or keeps NaN per measure)."""
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on=KEY, how="outer")
    return out
