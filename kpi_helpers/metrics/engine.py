"""The KPI engine: measure frames and scalar KPI values for many scopes and months.

``.tidy`` builds the tidy KPI table on it (``compute_tidy``, behind ``kpi_helpers.kpis``)
and ``kpi_helpers.metrics.tables`` uses it for the rep leaderboard; ``.long_frame`` turns
its value arrays into rows. Example (both names from ``kpi_helpers.metrics``)::

    Engine(ds).values(chosen, Month.parse("2026-01"), Month.parse("2026-05"), [COMPANY_SCOPE])

Measures are computed by the sources registered in ``.needs`` (one module per table:
``.orders``, ``.deals``, ``.leads``, ...) for every wanted scope and month at once, with
no more history than the chosen KPIs read, and kept on the dataset (``Dataset.cache``),
so later calls on the same dataset (another scope, a table KPI's leaderboard) reuse them.
KPI formulas (``kpi_helpers.catalog.registry``) then combine the measures in pandas.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

# the measure sources register themselves in SOURCES on import (small_tables with the
# names taken from it below): the engine reads them all
import kpi_helpers.metrics.customers
import kpi_helpers.metrics.deals
import kpi_helpers.metrics.leads
import kpi_helpers.metrics.orders
import kpi_helpers.metrics.subscriptions  # noqa: F401
from kpi_helpers.catalog import (
    FAMILIES,
    KPI,
    REGISTRY,
    TARGET_ALL_MONTHS,
    Kind,
    period_value,
)
from kpi_helpers.core import MONTHS_IN, Calendar, Config, Month, Period
from kpi_helpers.data import (
    Dataset,
    data_months,
    first_event,
    start_reason,
)

from .long_frame import long_frame
from .measures import (
    KEY,
    MONTHS,
    SOURCES,
    Measures,
    Slots,
    Source,
    describe_missing,
    missing_inputs,
)
from .periods import GROUPED, PeriodFrame, carry_of, slots_for
from .profile import timed
from .scopes import COMPANY, SCOPE_TYPES, Scope, rep_teams, selects, wanted_rows
from .segments import Segment
from .small_tables import targets

YOY = 12  # every value carries the same month a year before


def _config_key(cfg: Config) -> tuple:
    # the settings measures depend on (RAG thresholds etc. only change the comparisons)
    return (
        cfg.customer_lookback_days,
        tuple(sorted(cfg.stage_probability.items())),
        cfg.default_probability,
    )


class Engine:
    """Measures and KPI values for one dataset; measure results are kept on the dataset
    (``ds.cache``) and reused by later calls that need the same or fewer months and rows."""

    def __init__(self, ds: Dataset, config: Config | None = None, segment: Segment | None = None):
        self.ds, self.cfg, self.segment = ds, config or Config(), segment
        self.source_of = {p: s for s in SOURCES.values() for p in s.produces}
        key = ("measures", _config_key(self.cfg)) + ((segment,) if segment else ())
        self.results = ds.cache.setdefault(key, {})

    # ------------------------------------------------------------------ availability
    def unavailable(self, measure: str) -> str | None:
        """Why ``measure`` cannot be computed from this dataset, or None."""
        src = self.source_of[measure]
        missing = missing_inputs(self.ds, src.needs_of(measure), src.filled_of(measure))
        return describe_missing(missing, self.ds) if missing else None

    def reason(self, kpi: KPI, scope_type: str) -> str | None:
        """Why ``kpi`` is not available for ``scope_type``, or None when it is. What its
        measures lack is named once ("needs table `leads` with columns
        `first_response_at`, `engaged_at`"), not once per measure."""
        missing = [
            need
            for x in sorted(kpi.measures)
            for need in missing_inputs(
                self.ds, self.source_of[x].needs_of(x), self.source_of[x].filled_of(x)
            )
        ]
        if missing:
            return describe_missing(missing, self.ds)
        for x in sorted(kpi.measures):
            src = self.source_of[x]
            if scope_type not in src.scope_types:
                return src.scope_reason
        return None

    # ------------------------------------------------------------------ where data starts
    def measure_start(self, measure: str) -> tuple[Month, str | None]:
        """The month ``measure``'s data starts and the first event that decides it (None:
        the dataset's first month): the latest of its source's ``since`` events the data
        has, never before the dataset's first month (DATA_CONTRACT.md, "Where a KPI's
        data starts"). Example: ``bookings`` on deals created from 2016-10 and first
        closed in 2017-03 gives ``(Month 2017-03, "closed_deal")``."""
        start: tuple[Month, str | None] = (data_months(self.ds)[0], None)
        for need in self.source_of[measure].since:
            found = [(m, e) for e in need.split("|") if (m := first_event(self.ds, e))]
            if found:
                month, event = min(found, key=lambda x: x[0])
                if month >= start[0]:
                    start = (month, event)
        return start

    def start(self, kpi: KPI) -> tuple[Month, str]:
        """The month ``kpi``'s data starts (the latest start of its measures) and the
        reason of the months before it, e.g. ``"before the first closed deal, 2017-03"``.
        """
        month, event = data_months(self.ds)[0], None
        for name in sorted(kpi.measures):
            m, e = self.measure_start(name)
            if m > month or (m == month and event is None):
                month, event = m, e
        return month, start_reason(event, month)

    # ------------------------------------------------------------------ measures
    def source_frame(
        self,
        src: Source,
        first: Month,
        last: Month,
        wanted: dict[str, frozenset[tuple[str, str]] | None],
        names: frozenset[str] | None = None,
        slots: Slots = MONTHS,
        few_accounts: bool = False,
    ) -> pd.DataFrame:
        """``src``'s measures (KEY columns) for ``first..last``, from the cache when a
        computation of the same or more months, scope types, rows and measures is there.
        ``names``: the measures asked for (None: all); a source may skip the others.
        ``slots``: periods to group the measures that do not add up over months by
        (:class:`Slots`; ``mi`` then holds the period), reused for the same months only.
        ``few_accounts``: see :meth:`few_accounts`."""
        types = [st for st in wanted if st in src.scope_types]
        if not types:
            return pd.DataFrame(columns=KEY)
        wanted = {st: wanted[st] for st in types}
        for (f, la, have, done, sl), df in self.results.get(src.name, {}).items():
            have = dict(have)
            same = sl == slots and (slots.monthly or (f, la) == (first.index, last.index))
            if (
                same
                and f <= first.index
                and la >= last.index
                and (done is None or (names is not None and names <= done))
                and all(_covers(have, st, wanted[st]) for st in types)
            ):
                if not slots.monthly:
                    return df[df["scope_type"].isin(types)]
                mi = df["mi"]
                return df[(mi >= first.index) & (mi <= last.index) & df["scope_type"].isin(types)]

        def fetch(name: str, fetch_types: list[str], measures: set[str]) -> pd.DataFrame:
            # another source for the same months, for every scope of those types
            return self.source_frame(
                SOURCES[name],
                first,
                last,
                dict.fromkeys(fetch_types),
                frozenset(measures),
                few_accounts=few_accounts,
            )

        ms = Measures(self.ds, self.cfg, first, last, wanted, fetch, slots)
        ms.names = set(names) if names is not None else None
        ms.segment = self.segment
        ms.few_accounts = few_accounts
        with timed(src.name):  # kpi-kit compute --profile
            df = src.run(ms, types)
        have = tuple(sorted(wanted.items(), key=lambda kv: kv[0]))
        key = (first.index, last.index, have, names, slots)
        self.results.setdefault(src.name, {})[key] = df
        return df

    def measure_frame(
        self,
        starts: dict[str, Month],
        last: Month,
        scopes: list[Scope],
    ) -> pd.DataFrame:
        """Wide frame of the measures in ``starts`` (measure -> first month it is needed),
        on the complete grid scope_type x scope x month for the wanted ``scopes``.

        Additive measures are 0 where a scope has nothing; ``keep_nan`` ones stay NaN.
        Months before a measure's start hold placeholders that no kept value reads."""
        wanted = wanted_rows(scopes)
        names = {n for n in starts if self.unavailable(n) is None}
        by_source: dict[str, Month] = {}
        asked: dict[str, set[str]] = {}
        for n in names:
            s = self.source_of[n].name
            by_source[s] = min(by_source.get(s, starts[n]), starts[n])
            asked.setdefault(s, set()).add(n)
        # sources that read others (``reads``) last, so their reads come from the cache
        order = sorted(by_source.items(), key=lambda kv: (bool(SOURCES[kv[0]].reads), kv[0]))
        few = self.few_accounts(by_source)
        parts = [
            self.source_frame(
                SOURCES[s], first, last, wanted, frozenset(asked[s]), few_accounts=few
            )
            for s, first in order
        ]
        first = min(starts.values(), default=last)
        grid = self._grid(parts, first, last, scopes)
        parts = [p.set_index(KEY) for p in parts if len(p)]
        frame = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=grid)
        frame = frame.reindex(grid)
        for n in starts:
            if n not in frame.columns:
                frame[n] = np.nan
            elif n not in self.source_of[n].keep_nan:
                frame[n] = frame[n].astype("float64").fillna(0.0)
        return frame[sorted(starts)].astype("float64")

    @staticmethod
    def few_accounts(sources: Iterable[str]) -> bool:
        """Whether at most one of ``sources`` (with the sources they read) attributes rows
        to their account's rep (``Source.by_account``): that source then looks up the reps
        of its own accounts only (``Measures.few_accounts``), else every account's rep is
        looked up once and kept for all of them. Example: ``few_accounts(["mrr",
        "closed_deals"])`` is True, ``few_accounts(["mrr", "customers"])`` False."""
        names = set(sources)
        names |= {r for s in names for r in SOURCES[s].reads}
        return sum(SOURCES[s].by_account for s in names) <= 1

    def _grid(
        self, parts: list[pd.DataFrame], first: Month, last: Month, scopes: list[Scope]
    ) -> pd.MultiIndex:
        types = [st for st in SCOPE_TYPES if any(st in sc.types for sc in scopes)]
        found: dict[str, set[str]] = {st: set() for st in types}
        if "company" in found:
            found["company"].add(COMPANY)
        for df in parts:
            for st, sc in df[["scope_type", "scope"]].drop_duplicates().itertuples(index=False):
                if st in found:
                    found[st].add(sc)
        if self.ds.has("reps", "rep_id", "team"):
            reps = self.ds.frame("reps")
            found.get("team", set()).update(reps["team"].dropna())
            found.get("rep", set()).update(reps["rep_id"].dropna())
        teams = rep_teams(self.ds)
        rows = [
            (st, sc)
            for st in types
            for sc in sorted(found[st])
            if any(selects(s, st, sc, teams) for s in scopes)
        ]
        months = range(first.index, last.index + 1)
        return pd.MultiIndex.from_tuples(
            [(st, sc, mi) for st, sc in rows for mi in months], names=KEY
        )

    # ------------------------------------------------------------------ KPIs
    def values(
        self, chosen: list[KPI], first: Month, last: Month, scopes: list[Scope]
    ) -> pd.DataFrame:
        """Long frame: scope_type, scope, mi, kpi, value, previous_month,
        same_month_last_year, reason, status for months first..last, ordered by month,
        scope type, scope and KPI (the order of ``chosen``); rep rows only for reps in use
        (:func:`reps_in_use`). Each measure is computed from the earliest month a chosen
        KPI (and its value a year before) reads.

        The measure frame is a complete grid (every scope has the same months, in order),
        so a KPI's values are a (scope x month) matrix: the month before and the year
        before are column shifts, and the long frame is built from arrays in one go
        rather than per KPI with pandas group-bys over string keys."""
        scalars = [k for k in chosen if not k.is_table]
        starts = self.starts(scalars, first)
        frame = self.measure_frame(starts, last, scopes)
        # months before a measure's data starts hold no values (never 0), so nothing
        # reads them as 0
        mi = frame.index.get_level_values("mi")
        for name in frame.columns:
            frame.loc[mi < self.measure_start(name)[0].index, name] = np.nan
        begins = [self.start(k) for k in scalars]  # (month, reason) per KPI
        n_months = last.index - min(starts.values(), default=last).index + 1
        n_keep = last.index - first.index + 1
        n_rows = len(frame) // n_months
        grid = frame.index[::n_months]  # one entry per (scope_type, scope)
        shape = (len(scalars), n_rows, n_keep)
        value, before, year_before = np.empty(shape), np.empty(shape), np.empty(shape)
        no_target = np.zeros(shape, dtype=bool)
        # the KPI's columns are there, but not the values it needs (KPI.no_input)
        no_values = np.zeros(shape, dtype=bool)
        for i, kpi in enumerate(scalars):
            v = kpi.formula(frame, self.cfg)
            if not v.index.equals(frame.index):
                v = v.reindex(frame.index)
            v = v.to_numpy(dtype="float64", copy=True).reshape(n_rows, n_months)
            early_months = begins[i][0].index - (last.index - n_months + 1)
            v[:, : max(early_months, 0)] = np.nan  # before the KPI's data starts
            value[i] = v[:, -n_keep:]
            before[i] = _shifted(v, 1)[:, -n_keep:]
            year_before[i] = _shifted(v, YOY)[:, -n_keep:]
            no_values[i], no_target[i] = self._gaps(kpi, frame, n_rows, n_months, n_keep)
        months = np.arange(first.index, last.index + 1)
        return self._long(
            scalars, grid, (value, before, year_before), no_values, no_target, months, months, 1
        )

    @staticmethod
    def starts(chosen: list[KPI], first: Month) -> dict[str, Month]:
        """The first month :meth:`values` reads each measure of ``chosen`` from, for
        values from ``first`` on: a year before (the same month last year), and each
        KPI's lags before that. Example: a KPI reading ``won`` with no lag, first
        2026-01: ``{"won": Month 2025-01}``."""
        out: dict[str, Month] = {}
        for k in chosen:
            for name, lag in k.lags.items():
                start = first - (YOY + lag)
                out[name] = min(out.get(name, start), start)
        return out

    def period_values(self, chosen: list[KPI], periods: list[Period], scopes: list[Scope]):
        """:meth:`values` for ``periods`` (quarters or fiscal years, oldest first, the last
        one cut to the data: ``Period.through``); ``mi`` holds the period's position in
        ``periods``. One pass with the months: the monthly measure frame (the same queries
        as :meth:`values`) carried over to periods (``metrics.periods.CARRY``), plus the
        measures that do not add up over months grouped by period in their queries; then
        each KPI's formula on the period frame (``catalog.period_value``). A period to
        date is compared with the same leading months of the previous period and of the
        period a year before (and its growth KPIs are those spans' growth)."""
        cal = Calendar(self.cfg.fiscal_year_start)
        kind = periods[-1].kind
        n = MONTHS_IN[kind]
        per_year = 12 // n
        scalars = [k for k in chosen if not k.is_table]
        # history: a year and a period before the first period, 13 months of windows
        n_back = per_year + 1 + -(-13 // n)
        # (never before the period holding the data's first month: no measure is there,
        # but always from the year before the last period: its base when it is to date,
        # and from the first period asked, also when it is before the data)
        first_data = min(data_months(self.ds)[0], periods[0].first)
        earliest = max(periods[0].first - n * n_back, first_data)
        start = cal.period(kind, min(earliest, periods[-1].first - n * per_year))
        n_back = (periods[0].first.index - start.first.index) // n
        grid_p = [cal.period(kind, start.first + n * j) for j in range(n_back)] + list(periods)
        names = {x for k in scalars for x in k.measures}
        rows, (pf, pframe), cut = self._period_frames(names, grid_p, scopes)
        n_rows, n_slots = len(rows), len(grid_p)
        target_all = self._target_all(grid_p, rows, pf.grid_index())
        pframe[TARGET_ALL_MONTHS] = target_all
        if cut[0] is pf:
            cut = None
        else:
            cut[1][TARGET_ALL_MONTHS] = target_all
        n_keep = len(periods)
        shape = (len(scalars), n_rows, n_keep)
        value, before, year_before = np.empty(shape), np.empty(shape), np.empty(shape)
        no_values = np.zeros(shape, dtype=bool)
        no_target = np.zeros(shape, dtype=bool)
        for i, kpi in enumerate(scalars):
            v = _matrix(period_value(kpi, pframe, pf, per_year, self.cfg), pframe, n_rows)
            value[i] = v[:, -n_keep:]
            before[i] = _shifted(v, 1)[:, -n_keep:]
            year_before[i] = _shifted(v, per_year)[:, -n_keep:]
            if cut is not None:
                c = _matrix(period_value(kpi, cut[1], cut[0], per_year, self.cfg), cut[1], n_rows)
                if kpi.kind == Kind.GROWTH:
                    value[i][:, -1] = c[:, -1]
                before[i][:, -1] = c[:, -2]
                year_before[i][:, -1] = c[:, -1 - per_year]
            no_values[i], no_target[i] = self._gaps(kpi, pframe, n_rows, n_slots, n_keep)
        firsts = np.array([p.first.index for p in periods], dtype="int64")
        ends = np.array([p.through.index for p in periods], dtype="int64")
        positions = np.arange(len(periods), dtype="int64")
        return self._long(
            scalars,
            rows,
            (value, before, year_before),
            no_values,
            no_target,
            positions,
            firsts,
            n,
            ends,
        )

    def period_frames(
        self, names: set[str], grid_p: list[Period], scopes: list[Scope]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The period measure frames of the measures ``names`` for ``grid_p`` (consecutive
        periods of one kind, oldest first, the last one's ``through`` ending the months
        read), indexed (scope_type, scope, mi = the period's position in ``grid_p``), as
        :meth:`period_values` reads them: (whole, bases). ``whole``: every period over
        its months with data (the monthly measures carried over,
        ``metrics.periods.CARRY``, the others grouped by period in their queries);
        ``bases``: when the last period is to date, the same frame with the last period,
        the one before and the one a year before cut to its leading months (the bases of
        a period to date: :func:`bases_of`), else ``whole`` itself. A KPI of the current
        period reads ``whole`` (churn's customers at the start: the end of the whole
        period before), its bases read ``bases``. With a ``Segment`` engine, the rows
        are segments (the drivers of a quarter's change).

        Example: ``Engine(ds).period_frames({"won", "lost"}, cal.periods_ending("quarter",
        m, 5), [Scope("team")])``."""
        _, whole, bases = self._period_frames(names, grid_p, scopes)
        return whole[1], bases[1]

    def _period_frames(self, names: set[str], grid_p: list[Period], scopes: list[Scope]):
        """(rows, whole, bases) of :meth:`period_frames`, each frame with its
        :class:`PeriodFrame` (the monthly side the catalog's period rules read)."""
        cal = Calendar(self.cfg.fiscal_year_start)
        last_p = grid_p[-1]
        n, k = MONTHS_IN[last_p.kind], last_p.months_with_data
        first, through = grid_p[0].first, last_p.through
        frame = self.measure_frame(dict.fromkeys(names, first), through, scopes)
        mi = frame.index.get_level_values("mi")
        for name in frame.columns:
            frame.loc[mi < self.measure_start(name)[0].index, name] = np.nan
        rows = frame.index[:: through.index - first.index + 1].droplevel("mi")
        full = np.full(len(grid_p), n)
        full[-1] = k
        grouped = self._grouped(names, first, through, scopes, slots_for(last_p, cal), grid_p)
        keep_nan = {x for x in names if x in self.source_of[x].keep_nan}
        pf = PeriodFrame(frame, n, full, rows, self.cfg)
        whole = (pf, pf.frame(grouped, keep_nan))
        if not last_p.to_date:
            return rows, whole, whole
        bases = bases_of(len(grid_p), 12 // n)
        counted = full.copy()
        counted[bases] = k
        taken = self._grouped(names, first, through, scopes, slots_for(last_p, cal, k), grid_p)
        cf = PeriodFrame(frame, n, counted, rows, self.cfg)
        return rows, whole, (cf, cf.frame(_pick_periods(grouped, taken, set(bases)), keep_nan))

    def _grouped(
        self,
        names: set[str],
        first: Month,
        last: Month,
        scopes: list[Scope],
        slots: Slots,
        grid_p: list[Period],
    ) -> pd.DataFrame | None:
        """The measures of ``names`` that do not add up over months (``CARRY``:
        grouped), grouped by the periods of ``slots`` in their sources' queries; ``mi``
        = the period's position in ``grid_p`` (periods outside it dropped)."""
        wanted = wanted_rows(scopes)
        asked: dict[str, set[str]] = {}
        for x in names:
            if carry_of(x) == GROUPED and self.unavailable(x) is None:
                asked.setdefault(self.source_of[x].name, set()).add(x)
        if not asked:
            return None
        position = {slots.of(p.first.index): j for j, p in enumerate(grid_p)}
        parts = []
        few = self.few_accounts(asked)
        for src, wanted_names in sorted(asked.items()):
            df = self.source_frame(
                SOURCES[src], first, last, wanted, frozenset(wanted_names), slots, few
            )
            cols = [c for c in df.columns if c in wanted_names]
            df = df[df["mi"].isin(position)].copy()
            df["mi"] = df["mi"].map(position).astype("int64")
            parts.append(df.set_index(KEY)[cols])
        out = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
        return out.reset_index()

    def _target_all(self, grid_p: list[Period], rows: pd.Index, index: pd.MultiIndex) -> np.ndarray:
        """The bookings targets of every month of each period (NaN unless each month has
        one), also for months after the data: ``catalog.TARGET_ALL_MONTHS``."""
        months = [m for p in grid_p for m in p.all_months()]
        t = targets(self.ds, months)
        t = t[t["kpi"] == "monthly_sales_bookings"]
        n = grid_p[0].n_months
        out = np.full((len(rows), len(grid_p)), np.nan)
        if t.empty:
            return out.ravel()
        first = grid_p[0].first.index
        t = t.assign(j=(t["mi"] - first) // n)
        counts = t.groupby(["scope_type", "scope", "j"])["target"].agg(["sum", "count"])
        place = {key: r for r, key in enumerate(rows)}
        for (st, sc, j), row in counts.iterrows():
            r = place.get((st, sc))
            if r is not None and 0 <= j < len(grid_p) and row["count"] == n:
                out[r, j] = row["sum"]
        return out.ravel()

    def _gaps(
        self, kpi: KPI, frame: pd.DataFrame, n_rows: int, n_slots: int, n_keep: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows x kept slots) where ``kpi``'s inputs hold no values (``KPI.no_input``),
        and where its bookings target is missing."""
        no_values = np.zeros((n_rows, n_keep), dtype=bool)
        no_target = np.zeros((n_rows, n_keep), dtype=bool)
        if kpi.no_input is not None:
            when = kpi.no_input[0](frame, self.cfg)
            w = when.to_numpy(dtype="float64").reshape(n_rows, n_slots)
            no_values = np.nan_to_num(w[:, -n_keep:]) != 0
        if "target_monthly_sales_bookings" in kpi.measures:
            t = frame["target_monthly_sales_bookings"].to_numpy().reshape(n_rows, n_slots)
            no_target = np.isnan(t[:, -n_keep:])
        return no_values, no_target

    def _long(self, scalars: list[KPI], grid: pd.MultiIndex, *rest, **kw) -> pd.DataFrame:
        """:func:`long_frame` of the KPI x row x slot values; keeps the (scope_type,
        scope) rows computed in ``self.rows``."""
        self.rows: set[tuple[str, str]] = set()
        if scalars:
            self.rows = set(zip(grid.get_level_values(0), grid.get_level_values(1), strict=True))
        return long_frame(self, scalars, grid, *rest, **kw)


def families_out_of_reach(ds: Dataset, config: Config | None = None) -> dict[str, list[list[str]]]:
    """The families none of whose KPIs (scalar or table) can be computed from ``ds``, each
    with the ways to bring it in: the sets of missing tables of its KPIs, smallest first,
    without a set that holds another. Example: a dataset of deals, accounts and reps gives
    ``{"subscription": [["subscriptions"]], "profitability": [["costs"], ["financials"],
    ["orders"]]}`` (cost per lead needs ``costs`` and ``leads``: not listed, as ``costs``
    alone already brings the family in)."""
    engine = Engine(ds, config)
    out: dict[str, list[list[str]]] = {}
    for family in FAMILIES:
        ways: set[frozenset[str]] = set()
        for k in REGISTRY.values():
            if k.family != family or k.alias_of:
                continue
            if k.is_table or k.is_model:
                miss = missing_inputs(ds, k.table_needs)
            else:
                needs = [n for m in k.measures for n in engine.source_of[m].needs_of(m)]
                filled = [n for m in k.measures for n in engine.source_of[m].filled_of(m)]
                miss = missing_inputs(ds, tuple(needs), tuple(filled))
            if not miss:
                break
            # a table the data has is named with the column it lacks, never "add it"
            ways.add(
                frozenset(n if ds.has(n.partition(".")[0]) else n.partition(".")[0] for n in miss)
            )
        else:
            least = [w for w in ways if not any(o < w for o in ways)]
            out[family] = sorted((sorted(w) for w in least), key=lambda w: (len(w), w))
    return out


def bases_of(n_periods: int, per_year: int) -> list[int]:
    """The positions in a grid of ``n_periods`` consecutive periods (``per_year`` a year)
    that a period to date (the last) cuts to its leading months: itself, the previous
    period and the same period a year before.

    >>> bases_of(6, 4), bases_of(3, 4)
    ([5, 4, 1], [2, 1])
    """
    return [j for j in (n_periods - 1, n_periods - 2, n_periods - 1 - per_year) if j >= 0]


def _matrix(v: pd.Series, frame: pd.DataFrame, n_rows: int) -> np.ndarray:
    """A KPI's values on a period frame as a (row x period) matrix."""
    if not v.index.equals(frame.index):
        v = v.reindex(frame.index)
    return v.to_numpy(dtype="float64", copy=True).reshape(n_rows, -1)


def _pick_periods(
    main: pd.DataFrame | None, taken: pd.DataFrame | None, positions: set[int]
) -> pd.DataFrame | None:
    """Grouped measures from ``taken`` for the periods at ``positions``, else ``main``."""
    if main is None or taken is None:
        return main
    keep = main[~main["mi"].isin(positions)]
    return pd.concat([keep, taken[taken["mi"].isin(positions)]], ignore_index=True)


def _shifted(v: np.ndarray, k: int) -> np.ndarray:
    """``v`` (scope x month) shifted k months later along each row; NaN before."""
    out = np.full_like(v, np.nan)
    if k < v.shape[1]:
        out[:, k:] = v[:, :-k]
    return out


def _covers(have: dict, st: str, rows: frozenset | None) -> bool:
    """A cached result with ``have`` rows per scope type holds ``rows`` of type ``st``."""
    if st not in have:
        return False
    return have[st] is None or (rows is not None and rows <= have[st])
