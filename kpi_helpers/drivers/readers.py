"""Where the drivers of many KPIs read their measures at once, and what a change is
measured between. ``span_of`` is the one rule of the base: a month against the month
before, the same month a year earlier or its target; a quarter or a fiscal year against
the previous period of the same kind, the same period a year earlier or its own target
(a period to date against the same leading months, as the KPIs compare it).
``Batch`` computes the measure frames of every KPI for the company, its teams and reps
in one query per source, and splits by segment in one query per source for the KPIs
that split by the same dimensions; each KPI's formula then runs once per scope type
and base for every scope (``Batch.total_sides``, ``Batch.scope_sides``), and each
split's keys are factorized once (``segments.Keyed``) and cut per scope and base;
``PeriodBatch`` does the same on the engine's period measure frames (a quarter's or a
year's drivers).

>>> from kpi_helpers.core import Calendar, Month
>>> m = Month.parse("2026-11")
>>> now, before = span_of(Calendar().period("quarter", m).cut(m), "previous", Calendar())
>>> now.label, before.label, before.status
('2026-Q4', '2026-Q3', 'to date (2 of 3 months)')
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from kpi_helpers.catalog import KPI, Kind
from kpi_helpers.core import MONTHS_IN, Calendar, Config, KitError, Month, Period
from kpi_helpers.data import Dataset, period_with_data
from kpi_helpers.metrics import (
    SEP,
    Engine,
    Scope,
    Segment,
    known_names,
    rep_teams,
    team_of,
)

from .segments import (
    DIMENSIONS,
    Keyed,
    Reader,
    Sides,
    Split,
    dimension_part,
    dimensions_of,
    keyed,
    linear_values,
    why_not,
)
from .shape import bridge_kind, ratio_of

BASES = ("previous", "year", "target")


def span_of(now: Period, base: str, calendar: Calendar) -> tuple[Period, Period]:
    """(the period explained, its base): ``now`` (the period holding the month asked,
    cut to the data: ``data.period_with_data``) and the previous period of the same
    kind, the same period a year earlier (the same leading months when ``now`` is to
    date), or itself (``base`` "target": its own target).

    >>> from kpi_helpers.core import Calendar, Month
    >>> m, cal = Month.parse("2026-01"), Calendar(11)
    >>> [p.label for p in span_of(cal.period("quarter", m), "year", cal)]
    ['FY2026-Q1', 'FY2025-Q1']
    """
    if base not in BASES:
        raise KitError(f"Unknown base {base!r}: use previous, year or target.")
    if base == "previous":
        return now, now.previous(calendar)
    if base == "year":
        return now, now.year_before(calendar)
    return now, now


class Batch(Reader):
    """The measure frames of many KPIs and scopes (company and teams), each computed
    once from ``first`` to ``m`` and sliced per KPI, scope and base
    (``drivers.explain_many``)."""

    split_medians = False  # medians are split by team and rep only

    def __init__(
        self, ds: Dataset, cfg: Config, ks: list[KPI], scopes: list[Scope], first: Month, m: Month
    ):
        super().__init__(ds, cfg)
        self.first, self.m, self.scopes, self.teams = first, m, scopes, rep_teams(ds)
        self.starts: dict[str, Month] = {}
        for k in ks:
            for n, lag in k.lags.items():
                self.starts[n] = min(self.starts.get(n, first - lag), first - lag)
        # the dimensions each KPI splits by (as explain finds them): the KPIs that split
        # by the same dimensions share one split query per source
        self.groups: dict[tuple[str, ...], set[str]] = {}
        for k in ks:
            if bridge_kind(k, self.engine) == "none":
                continue
            dims = dimensions_of(ds, Scope("company"), "previous", None, cfg)
            mine = tuple(
                d for d in dims if d not in ("team", "rep") and not why_not(ds, self.engine, k, d)
            )
            self.groups.setdefault(mine, set()).update(k.lags)
        self._rows: dict[tuple, tuple[pd.DataFrame, list[str]] | str] = {}
        self._cut: dict[tuple, pd.DataFrame] = {}

    @cached_property
    def _measures(self) -> pd.DataFrame:
        """Every measure of the batch for the company, every team and every rep, from
        ``first`` to m: per scope type, so that the engine's cache serves each from the
        KPIs already computed (a pack's data step computes the company's and teams' KPIs,
        then the reps'), else one query per source."""
        kinds = [[Scope("company")], self.team_scopes, [Scope("rep")]]
        return pd.concat([self.engine.measure_frame(self.starts, self.m, s) for s in kinds])

    @cached_property
    def team_scopes(self) -> list[Scope]:
        """Every team the measures may have rows for, each by name (the teams of
        ``reps``, ``unassigned``, those the ``costs`` and ``targets`` tables name): the
        same rows as ``Scope("team")``, asked as a pack's data step asks for its teams,
        so that the engine's cache serves them."""
        names = set(known_names("team", self.teams))
        for table in ("reps", "costs", "targets"):
            if self.ds.has(table, "team"):
                names.update(str(t) for t in self.ds.frame(table)["team"].dropna() if str(t))
        return [Scope("team", t) for t in sorted(names)]

    @cached_property
    def _slices(self) -> dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]]:
        """Per scope type of the measures: its rows (indexed scope, mi, as ``sides_of``
        reads them), and per row its scope, its month and, for a rep, "rep SEP team"."""
        frame = self._measures
        st = frame.index.get_level_values("scope_type")
        out = {}
        for kind in ("company", "team", "rep"):
            keep = np.asarray(st == kind)
            rows = frame[keep].droplevel("scope_type")
            names = np.asarray(rows.index.get_level_values("scope"), dtype=object)
            mi = np.asarray(rows.index.get_level_values("mi"))
            out[kind] = (rows, names, mi, self._team_of_rows[keep])
        return out

    def _rows_in(self, st: str, m: Month, b: Month) -> tuple:
        """The rows of scope type ``st`` in m or b (:attr:`_slices`), cut once per base."""
        key = ("in", st, m.index, b.index)
        if key not in self._cut:
            rows, names, mi, teams = self._slices[st]
            at = np.flatnonzero((mi == m.index) | (mi == b.index))
            self._cut[key] = (rows.iloc[at], names[at], mi[at], teams[at])
        return self._cut[key]

    def _values(self, k: KPI, st: str, m: Month, b: Month, kind: str) -> dict[str, np.ndarray]:
        """The KPI (and its numerator and denominator for a ratio) on every row of scope
        type ``st`` in m and b: one pass of each formula for every scope. The formulas see
        the rows as ``sides_of`` gives them, indexed (scope, mi), where a formula's
        windows and shifts (per scope and month) read each row alone: a row's value is
        the one a scope's own frame gives. A KPI that reads earlier months (``k.lags``)
        is not read here: :meth:`total_sides` gives it its scope's own frame."""
        key = ("values", k.id, st, m.index, b.index, kind)
        if key not in self._cut:
            rows = self._rows_in(st, m, b)[0]
            fs = {"value": k.formula}
            if kind == "ratio":
                n, d, _ = ratio_of(k.formula)
                fs.update(num=n, den=d)
            self._cut[key] = {p: f(rows).to_numpy(dtype="float64") for p, f in fs.items()}
        return self._cut[key]

    def _sides(self, k: KPI, st: str, keep, m: Month, b: Month, kind: str) -> Sides:
        """The KPI per scope of type ``st`` that ``keep`` (a function of the rows' scopes
        and teams: a bool array) selects, in m and b, as ``sides_of`` gives it."""
        _, names, mi, teams = self._rows_in(st, m, b)
        chosen = keep(names, teams)
        now_at, before_at = (mi == m.index) & chosen, (mi == b.index) & chosen
        index = pd.Index(names[now_at], dtype=object, name="scope")
        same = np.array_equal(names[now_at], names[before_at])
        frames = {}
        for part, v in self._values(k, st, m, b, kind).items():
            before = v[before_at]
            if not same:  # not a complete grid: by scope, as sides_of aligns them
                before = pd.Series(before, index=names[before_at]).reindex(index).to_numpy()
            frames[part] = pd.DataFrame({"now": v[now_at], "before": before}, index=index)
        out = Sides(frames["value"])
        if kind == "ratio":
            out.num, out.den = frames["num"], frames["den"]
        elif kind == "additive":
            out.num = out.value
        return out

    def total_sides(self, k: KPI, sc: Scope, m: Month, b: Month, kind: str) -> Sides:
        if k.reads_earlier:  # its scope's own frame, with the months before
            return super().total_sides(k, sc, m, b, kind)
        if not sc.name:
            return self._sides(k, sc.kind, lambda names, teams: True, m, b, kind)
        return self._sides(k, sc.kind, lambda names, teams: names == sc.name, m, b, kind)

    def scope_sides(self, k: KPI, d: str, sc: Scope, m: Month, b: Month, kind: str) -> Sides:
        if k.reads_earlier:
            return super().scope_sides(k, d, sc, m, b, kind)
        if sc.kind == "team":  # the reps of one team
            mine = f"rep{SEP}{sc.name}"
            return self._sides(k, "rep", lambda names, teams: teams == mine, m, b, kind)
        return self._sides(k, d, lambda names, teams: True, m, b, kind)

    def split_frame(self, engine: Engine, names: set[str], scope: Scope) -> pd.DataFrame:
        """The measures ``names`` (all: empty) of the segmented ``engine`` for ``scope``
        (every team, or one rep's rows), from ``first`` to m."""
        starts = {n: s for n, s in self.starts.items() if n in names}
        return engine.measure_frame(starts or self.starts, self.m, [scope])

    @staticmethod
    def _months(frame: pd.DataFrame, k: KPI, b: Month, m: Month, level: str = "mi"):
        """The rows of the months the KPI reads for m and b (contiguous when it reads
        earlier months), its measures only."""
        lag = max(k.lags.values(), default=0)
        mi = frame.index.get_level_values(level)
        if lag:
            keep = (mi >= b.index - lag) & (mi <= m.index)
        else:
            keep = (mi == m.index) | (mi == b.index)
        return frame.loc[keep, sorted(k.lags)]

    def _rows_of(self, key: tuple, pick) -> pd.DataFrame:
        """The rows ``pick`` keeps of a frame, cut once per ``key`` (a scope, a split) and
        reused by every KPI and base of the batch."""
        if key not in self._cut:
            self._cut[key] = pick()
        return self._cut[key]

    def total(self, k: KPI, sc: Scope, b: Month, m: Month) -> pd.DataFrame:
        def pick() -> pd.DataFrame:
            frame = self._measures
            keep = frame.index.get_level_values("scope_type") == sc.kind
            if sc.name:
                keep &= frame.index.get_level_values("scope") == sc.name
            return frame[keep]

        return self._months(self._rows_of(("total", str(sc)), pick), k, b, m)

    def by_scope(self, k: KPI, d: str, sc: Scope, b: Month, m: Month) -> pd.DataFrame:
        frame = self._measures
        if sc.kind == "team":  # the reps of one team
            mine = f"rep{SEP}{sc.name}"
            rows = self._rows_of(("reps of", mine), lambda: frame[self._team_of_rows == mine])
            return self._months(rows, k, b, m)
        st = frame.index.get_level_values("scope_type")
        return self._months(self._rows_of(("by", d), lambda: frame[st == d]), k, b, m)

    @cached_property
    def _team_of_rows(self) -> np.ndarray:
        """Per row of the measures: "rep SEP team" for a rep's row, "" otherwise (a
        team's reps found without one Python loop per KPI)."""
        idx = self._measures.index
        st, names = idx.get_level_values("scope_type"), idx.get_level_values("scope")
        team = {r: team_of(r, self.teams) for r in set(names[st == "rep"])}
        return np.array(
            [f"rep{SEP}{team[r]}" if t == "rep" else "" for t, r in zip(st, names, strict=True)],
            dtype=object,
        )

    def segmented(
        self, k: KPI, sc: Scope, m: Month, b: Month, dims: tuple[str, ...]
    ) -> pd.DataFrame | str:
        if sc.kind == "rep":  # every rep's rows at once: split by rep, then the dimensions
            key = ("rep", *dims)
            if key not in self._rows:
                self._rows[key] = self._by_rep(dims)
            found = self._rows[key]
            if isinstance(found, str):
                return found
            rows, reps = found
            rows = self._rows_of((key, sc.name), lambda: rows[[r == sc.name for r in reps]])
            rows = self._months(rows, k, b, m)
            return rows if len(rows) else "no rows in these months"
        if dims not in self._rows:
            parts = tuple(dimension_part(self.ds, d) for d in dims)
            engine = Engine(self.ds, self.cfg, Segment(parts))
            frame = self.split_frame(engine, set(self.groups.get(dims, ())), Scope("team"))
            rows = keyed(frame, "team", Scope("company"), len(dims))
            teams = [] if isinstance(rows, str) else [x[0] for x in rows.index.get_level_values(0)]
            self._rows[dims] = rows if isinstance(rows, str) else (rows, teams)
        found = self._rows[dims]
        if isinstance(found, str):
            return found
        rows, teams = found
        if sc.kind == "team":
            cut = (dims, sc.name)
            rows = self._rows_of(cut, lambda: rows[[t == sc.name for t in teams]])
        rows = self._months(rows, k, b, m)
        return rows if len(rows) else "no rows in these months"

    def split_of(
        self,
        k: KPI,
        sc: Scope,
        m: Month,
        b: Month,
        dims: tuple[str, ...],
        kind: str,
        total: Sides,
        scale: float,
    ) -> tuple[pd.DataFrame | str, list[str], Split | None]:
        """As :meth:`Reader.split_of`, on the rows of every team split by ``dims`` read
        once (:class:`Keyed`: their keys factorized once, each KPI's sums of measures
        and whether a row has any computed once for every scope and base)."""
        if sc.kind == "rep" or kind == "none" or k.reads_earlier:
            return super().split_of(k, sc, m, b, dims, kind, total, scale)
        self.segmented(k, Scope("company"), m, b, dims)  # the split query, once
        found = self._rows[dims]
        if isinstance(found, str):
            return found, [], None
        if ("coded", dims) not in self._cut:
            self._cut[("coded", dims)] = Keyed(found[0])
        coded: Keyed = self._cut[("coded", dims)]
        keep = (coded.mi == m.index) | (coded.mi == b.index)
        if sc.kind == "team":
            mine = [i for i, t in enumerate(coded.names[0]) if t == sc.name]
            keep &= np.isin(coded.codes[0], mine)
        rows = np.flatnonzero(keep)
        if not len(rows):
            return "no rows in these months", [], None
        key = ("linear", dims, k.id, kind)
        if key not in self._cut:
            cols = coded.rows[sorted(k.lags)]
            busy = np.nansum(np.abs(cols.to_numpy(dtype="float64")), axis=1) > 0
            self._cut[key] = (linear_values(coded.rows, k, kind), busy)
        vals, busy = self._cut[key]
        states = [coded.state(rows, busy, j) for j in range(1, len(dims) + 1)]
        split = Split.on(coded, rows, vals, m, b, kind, total, scale)
        return coded.rows.iloc[rows][sorted(k.lags)], states, split

    def _by_rep(self, dims: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]] | str:
        """The rows of every rep split by ``dims`` (one query per source: the team rows
        split by rep, then ``dims``), keyed (rep, value 1, ...) as ``keyed`` keys one
        rep's rows, and the rep of each row."""
        parts = (DIMENSIONS["rep"], *(dimension_part(self.ds, d) for d in dims))
        engine = Engine(self.ds, self.cfg, Segment(parts))
        frame = self.split_frame(engine, set(self.groups.get(dims, ())), Scope("team"))
        rows = keyed(frame, "team", Scope("company"), len(dims) + 1)
        if isinstance(rows, str):
            return rows
        keys = rows.index.get_level_values("key")
        own = pd.Index([x[1:] for x in keys], tupleize_cols=False)
        idx = pd.MultiIndex.from_arrays(
            [own, rows.index.get_level_values("mi")], names=["key", "mi"]
        )
        return rows.set_axis(idx), [x[1] for x in keys]


class PeriodBatch(Batch):
    """:class:`Batch` for a quarter or a fiscal year (``period``) holding ``m``: the
    engine's period measure frames (``Engine.period_frames``: flows summed over the
    period, states at its end, distinct counts and medians over its events) of the
    consecutive periods from the earliest base of ``bases`` (and the periods before it
    that the KPIs' formulas read) to the period of ``m``; ``mi`` holds the period's
    position (:meth:`key`). A period to date is compared with the same leading months:
    its frames hold the bases' frame (cut to those months) on positions 0..N-1, then
    the whole periods' frame on N..2N-1, from which the current period is read (churn's
    customers at its start are those at the end of the whole period before); a growth
    KPI reads the current period from the cut frame, as the KPIs give it.

    Example: ``PeriodBatch(ds, cfg, [get("win_rate")], [Scope("company")], m, "quarter",
    ("previous",))``."""

    def __init__(
        self,
        ds: Dataset,
        cfg: Config,
        ks: list[KPI],
        scopes: list[Scope],
        m: Month,
        period: str,
        bases: tuple[str, ...],
    ):
        cal = Calendar(cfg.fiscal_year_start)
        now = period_with_data(ds, m, period, cfg.fiscal_year_start)
        spans = [span_of(now, b, cal) for b in bases]
        lag = max((x for k in ks for x in k.lags.values()), default=0)
        n = MONTHS_IN[period]
        first = cal.period(period, min(before.first for _, before in spans) - n * lag)
        count = (now.first.index - first.first.index) // n
        self.grid = [cal.period(period, first.first + n * j) for j in range(count)] + [now]
        self.to_date = now.to_date
        last = len(self.grid) * (2 if self.to_date else 1) - 1
        super().__init__(ds, cfg, ks, scopes, Month(lag), Month(last))
        self.period = period

    def key(self, p: Period, kpi: KPI | None = None) -> Month:
        """The position of ``p`` in the batch's frames: in the periods, or for the
        current period to date (unless ``kpi`` is a growth KPI), in the whole frame
        after them."""
        j = [x.first for x in self.grid].index(p.first)
        whole = self.to_date and j == len(self.grid) - 1
        if whole and (kpi is None or kpi.kind != Kind.GROWTH):
            j += len(self.grid)
        return Month(j)

    @cached_property
    def _measures(self) -> pd.DataFrame:
        scopes = [Scope("company"), Scope("team"), Scope("rep")]
        return self._frames(self.engine, set(self.starts), scopes)

    def split_frame(self, engine: Engine, names: set[str], scope: Scope) -> pd.DataFrame:
        return self._frames(engine, names or set(self.starts), [scope])

    def _frames(self, engine: Engine, names: set[str], scopes: list[Scope]) -> pd.DataFrame:
        """The period frames of ``names`` (the bases', then the whole one for a period
        to date), each row's periods in order so that a formula's ``shift`` reads the
        period before within each frame."""
        whole, bases = engine.period_frames(names, self.grid, scopes)
        if not self.to_date:
            return whole
        n = len(self.grid)
        rows = whole.index[::n].droplevel("mi")
        both = np.concatenate(
            [
                bases.to_numpy(dtype="float64").reshape(len(rows), n, -1),
                whole[bases.columns].to_numpy(dtype="float64").reshape(len(rows), n, -1),
            ],
            axis=1,
        )
        index = pd.MultiIndex.from_tuples(
            [(st, sc, j) for st, sc in rows for j in range(2 * n)], names=whole.index.names
        )
        return pd.DataFrame(both.reshape(len(index), -1), index=index, columns=bases.columns)
