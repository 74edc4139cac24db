"""The measures of a KPI per segment, what the drivers of its change are made of: the
dimensions (:data:`DIMENSIONS`, and the columns kpi.toml ``[drivers] dimensions`` keeps)
and how rows reach them, why a dimension cannot split a KPI, the ``Reader`` that reads a
KPI's measure frames from the engine (per team and rep from its scopes, per segment from
one query split by ``metrics.Segment``), and the frames turned into the parts of a
partition (``segment_parts``, or ``Split`` summing a partition with numpy). The
arithmetic of the bridges is :mod:`kpi_helpers.drivers.bridge`; ``drivers.explain``
builds an explanation from these parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from kpi_helpers.catalog import KPI, scope_label
from kpi_helpers.core import Calendar, Config, KitError, Month, Period
from kpi_helpers.data import Dataset
from kpi_helpers.metrics import (
    CROSS,
    JOIN,
    MISSING,
    NO_VALUE,
    SEP,
    Engine,
    Scope,
    Segment,
    period_targets,
)

from .bridge import Part, additive, ratio
from .shape import linear, ratio_of

# a dimension: (table, column, key) as metrics.Segment reads it; "" table: the rows' own
# column; "scope": the engine's team or rep
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "team": ("scope", "_team", ""),
    "rep": ("scope", "_rep", ""),
    "product": ("", "product", ""),
    "industry": ("accounts", "industry", "account_id"),
    "segment": ("accounts", "segment", "account_id"),
    "region": ("accounts", "region", "account_id"),
    "lead_source": ("leads", "source", "lead_id"),
    "deal_type": ("", "deal_type", ""),
    "contact_method": ("", "contact_method", ""),
}


ROW_TABLES = ("opportunities", "orders", "leads", "activities", "subscriptions")


# measures that count distinct orders or customers: never split by product
DISTINCT = frozenset(
    {
        "orders",
        "revenue_accounts",
        "new_customers",
        "active_customers",
        "customers_lost",
        "customers_ordered_12m",
        "upsell_accounts",
        "cross_sell_accounts",
    }
)


def _small_table(engine: Engine, measure: str) -> bool:
    """A measure computed in pandas from a small table (reps, costs, targets): its rows
    carry no segment column."""
    return engine.source_of[measure].run.__module__.endswith("small_tables")


def dimension_part(ds: Dataset, name: str) -> tuple[str, str, str] | None:
    """How rows reach dimension ``name``: a known one (:data:`DIMENSIONS`) or a column kept
    by the mapping (kpi.toml ``[drivers] dimensions``): on the rows' own table, else on
    their account or lead; None when no table has the column."""
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    if any(ds.has(t, name) for t in ROW_TABLES):
        return ("", name, "")
    for table, key in (("accounts", "account_id"), ("leads", "lead_id")):
        if ds.has(table, key, name):
            return (table, name, key)
    return None


def _has_column(ds: Dataset, part: tuple[str, str, str]) -> bool:
    table, column, key = part
    if table == "scope":
        return True
    if table:
        return ds.has(table, key, column)
    return any(ds.has(t, column) for t in ROW_TABLES)


def kpi_frame(
    engine: Engine, kpi: KPI, first: Month, last: Month, scopes: list[Scope]
) -> pd.DataFrame:
    """The measures ``kpi`` reads from ``first`` to ``last`` (its lags included) for
    ``scopes``, on the engine's grid (scope_type, scope, mi).

    Example: ``kpi_frame(Engine(ds, cfg), get("win_rate"), m - 1, m, [Scope("team")])``."""
    starts = {n: first - lag for n, lag in kpi.lags.items()}
    return engine.measure_frame(starts, last, scopes)


@dataclass
class Sides:
    """Per segment (index) the KPI, its numerator and denominator, in m and the base."""

    value: pd.DataFrame  # columns now, before
    num: pd.DataFrame | None = None
    den: pd.DataFrame | None = None


def sides_of(frame: pd.DataFrame, kpi: KPI, m: Month, b: Month, kind: str) -> Sides:
    """The KPI per segment in m and b (and its numerator and denominator for a ratio);
    ``frame``: measures on the grid (scope_type, segment, mi).

    Example: ``sides_of(kpi_frame(engine, k, b, m, [Scope("team")]), k, m, b, "ratio")``."""

    def two(f) -> pd.DataFrame:
        # the formula on the whole index: its shifts group by (scope_type, scope)
        v = f(frame).droplevel("scope_type")
        mi = v.index.get_level_values("mi")
        now = v[mi == m.index].droplevel("mi")
        before = v[mi == b.index].droplevel("mi")
        return pd.DataFrame({"now": now, "before": before.reindex(now.index)})

    out = Sides(two(kpi.formula))
    if kind == "ratio":
        n, d, _ = ratio_of(kpi.formula)
        out.num, out.den = two(n), two(d)
    elif kind == "additive":
        out.num = out.value
    return out


def segment_parts(sides: Sides, total: Sides, kind: str, scale: float) -> list[Part]:
    """The parts of one partition: the exact additive or ratio bridge of the segments'
    sides against the scope's ``total`` (``kind`` "none": each segment's values, no
    contribution).

    Example: ``segment_parts(sides_of(frame, k, m, b, kind), total, kind, 100.0)``."""
    seg = sides.value.index

    def pairs(f: pd.DataFrame) -> dict:  # segment -> (now, before), read in one go
        now, before = f["now"].to_numpy(dtype="float64"), f["before"].to_numpy(dtype="float64")
        return dict(zip(f.index, zip(now.tolist(), before.tolist(), strict=True), strict=True))

    if kind == "additive":
        segs = {s: v for s, v in pairs(sides.num).items() if v[0] or v[1]}
        tot = total.num.iloc[0]
        return additive(segs, (float(tot["now"]), float(tot["before"])))
    if kind == "ratio":
        num, den = pairs(sides.num), pairs(sides.den)
        keep = [s for s in seg if any(num[s]) or any(den[s])]
        n, d = total.num.iloc[0], total.den.iloc[0]
        return ratio(
            {s: num[s] for s in keep},
            {s: den[s] for s in keep},
            (float(n["now"]), float(d["now"]), float(n["before"]), float(d["before"])),
            scale,
        )
    # no bridge: each segment's value on both sides, no contribution
    now = sides.value["now"].to_numpy(dtype="float64")
    before = sides.value["before"].to_numpy(dtype="float64")
    some = ~(np.isnan(now) & np.isnan(before))
    return [
        Part(s, math.nan, a, b)
        for s, a, b, x in zip(seg, now.tolist(), before.tolist(), some.tolist(), strict=True)
        if x
    ]


class Split:
    """The segmented rows of a KPI read in m and b, its formula a sum of measures (or a
    ratio of two) of the same month: each partition's parts summed with numpy instead
    of one formula per partition (the same numbers as :func:`project` then
    :func:`sides_of`, in the same order)."""

    def __init__(self, codes, names, now, before, kind, total, scale):
        self.codes, self.names, self.now, self.before = codes, names, now, before
        self.kind, self.total, self.scale = kind, total, scale

    @classmethod
    def of(
        cls, rows: pd.DataFrame, k: KPI, m: Month, b: Month, kind: str, total: Sides, scale
    ) -> Split | None:
        """None when the KPI reads earlier months or has no exact bridge."""
        if kind == "none" or k.reads_earlier:
            return None
        vals = linear_values(rows, k, kind)
        return cls.on(Keyed(rows), np.arange(len(rows)), vals, m, b, kind, total, scale)

    @classmethod
    def on(
        cls,
        coded: Keyed,
        rows: np.ndarray,
        vals: list[np.ndarray],
        m: Month,
        b: Month,
        kind: str,
        total: Sides,
        scale: float,
    ) -> Split:
        """The split of the rows ``rows`` (positions) of ``coded``, ``vals`` the KPI's sums
        of measures (:func:`linear_values`) on every row of ``coded``."""
        mi = coded.mi[rows]
        codes = [c[rows] for c in coded.codes]
        vals = [np.broadcast_to(np.asarray(v, dtype="float64"), coded.mi.shape)[rows] for v in vals]
        now = [np.where(mi == m.index, v, 0.0) for v in vals]
        before = [np.where(mi == b.index, v, 0.0) for v in vals]
        return cls(codes, coded.names, now, before, kind, total, scale)

    def parts(self, positions: list[int]) -> list[Part]:
        sizes = [len(self.names[j]) for j in positions]
        code = np.ravel_multi_index([self.codes[j] for j in positions], sizes)
        present, code = np.unique(code, return_inverse=True)  # the bins of the codes found
        n = len(present)
        now = [np.bincount(code, weights=v, minlength=n) for v in self.now]
        before = [np.bincount(code, weights=v, minlength=n) for v in self.before]
        label = {
            c: CROSS.join(
                self.names[j][i] for j, i in zip(positions, np.unravel_index(x, sizes), strict=True)
            )
            for c, x in enumerate(present.tolist())
        }
        order = sorted(label, key=label.get)
        if self.kind == "additive":
            segs = {
                label[c]: (float(now[0][c]), float(before[0][c]))
                for c in order
                if now[0][c] or before[0][c]
            }
            tot = self.total.num.iloc[0]
            return additive(segs, (float(tot["now"]), float(tot["before"])))
        num = {label[c]: (float(now[0][c]), float(before[0][c])) for c in order}
        den = {label[c]: (float(now[1][c]), float(before[1][c])) for c in order}
        keep = [s for s in num if any(num[s]) or any(den[s])]
        tn, td = self.total.num.iloc[0], self.total.den.iloc[0]
        return ratio(
            {s: num[s] for s in keep},
            {s: den[s] for s in keep},
            (float(tn["now"]), float(td["now"]), float(tn["before"]), float(td["before"])),
            self.scale,
        )


def linear_values(rows: pd.DataFrame, k: KPI, kind: str) -> list[np.ndarray]:
    """Per row of ``rows`` the KPI's sum of measures (additive), or its numerator's and
    its denominator's (ratio), as :class:`Split` sums them."""
    if kind == "additive":
        lins = [linear(k.formula)]
    else:
        n, d, _ = ratio_of(k.formula)
        lins = [linear(n), linear(d)]
    return [sum(rows[x].to_numpy(dtype="float64") * w for x, w in lin.items()) for lin in lins]


class Keyed:
    """Segmented rows (:func:`keyed`: indexed by (key, mi)) with each position of their
    keys factorized once, so that the splits of many KPIs, scopes and bases read the
    same codes: ``codes[j]`` per row, ``names[j]`` the values of position j.

    Example: ``Keyed(keyed(frame, "team", Scope("company"), 2)).names[0]``: the teams."""

    def __init__(self, rows: pd.DataFrame):
        keys = rows.index.get_level_values("key")
        self.rows, self.mi = rows, np.asarray(rows.index.get_level_values("mi"))
        self.codes: list[np.ndarray] = []
        self.names: list[list[str]] = []
        for j in range(len(keys[0]) if len(keys) else 0):
            c, u = pd.factorize(pd.Index([key[j] for key in keys], dtype=object))
            self.codes.append(c)
            self.names.append(list(u))

    def state(self, rows: np.ndarray, busy: np.ndarray, j: int) -> str:
        """:func:`column_state` of position ``j`` on the rows ``rows`` (positions), ``busy``
        per row whether any of the KPI's measures is not 0."""
        found = np.unique(self.codes[j][rows[busy[rows]]])
        values = {self.names[j][c] for c in found.tolist()}
        if MISSING in values:
            return "not on the rows of every measure of the KPI"
        if not values or values == {NO_VALUE}:
            return "empty in every row"
        return ""


def why_not(ds: Dataset, engine: Engine, k: KPI, d: str) -> str:
    """Why dimension ``d`` cannot split ``k`` ('' when it can, as far as the columns go).

    Example: ``why_not(ds, engine, get("orders_count"), "product")`` reads "distinct
    counts (orders, customers) are never split by product"."""
    part = dimension_part(ds, d)
    if part is None or not _has_column(ds, part):
        return "no such column in the data"
    small = sorted(x for x in k.measures if _small_table(engine, x))
    if small:
        return f"{', '.join(small)} is not kept per {d}"
    if part[1] == "product" and k.measures & DISTINCT:
        return "distinct counts (orders, customers) are never split by product"
    return ""


class Reader:
    """Where one explanation reads its measure frames: computed on request from the
    engine's cache (:func:`explain`), per month (``period``; a quarter's or a year's
    reader is ``drivers.readers.PeriodBatch``)."""

    split_medians = True  # medians: one split query per dimension
    period = "month"

    def __init__(self, ds: Dataset, cfg: Config):
        self.ds, self.cfg, self.engine = ds, cfg, Engine(ds, cfg)
        self.calendar = Calendar(cfg.fiscal_year_start)

    def key(self, p: Period, kpi: KPI | None = None) -> Month:
        """Where period ``p`` sits on the ``mi`` level of this reader's frames (for
        ``kpi``): its month."""
        return p.first

    @cached_property
    def rep_names(self) -> dict[str, str]:
        """Rep id -> the ``reps`` table's name (the words name a rep by it), read once."""
        if not self.ds.has("reps", "rep_id", "rep_name"):
            return {}
        r = self.ds.frame("reps")[["rep_id", "rep_name"]].dropna()
        return dict(zip(r["rep_id"].astype(str), r["rep_name"].astype(str), strict=True))

    def targets_of(self, k: KPI, d: str, now: Period) -> dict[str, float]:
        """The targets of ``now`` per team or rep (``d``), by name: the month's, or a
        period's (``metrics.period_targets``: a flow's months summed, else the last's)."""
        t = period_targets(self.ds, [k], [now])
        t = t[(t["kpi"] == k.id) & (t["scope_type"] == d)]
        return dict(zip(t["scope"], t["target"].astype(float), strict=True))

    def total_sides(self, k: KPI, sc: Scope, m: Month, b: Month, kind: str) -> Sides:
        """The scope's KPI (and its numerator and denominator: ``kind``) in m and b."""
        return sides_of(self.total(k, sc, b, m), k, m, b, kind)

    def scope_sides(self, k: KPI, d: str, sc: Scope, m: Month, b: Month, kind: str) -> Sides:
        """The KPI per team (``d`` "team") or per rep of the scope (``d`` "rep") in m and b."""
        return sides_of(self.by_scope(k, d, sc, b, m), k, m, b, kind)

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
        """The scope's rows split by ``dims`` (:meth:`segmented`, or why none), why each
        dimension cannot split them ('' when it can: :func:`column_state`), and their
        :class:`Split` (None: no exact bridge, or the KPI reads earlier months)."""
        rows = self.segmented(k, sc, m, b, dims)
        if isinstance(rows, str):
            return rows, [], None
        states = [column_state(rows, j) for j in range(1, len(dims) + 1)]
        return rows, states, Split.of(rows, k, m, b, kind, total, scale)

    def total(self, k: KPI, sc: Scope, b: Month, m: Month) -> pd.DataFrame:
        """The scope's measures (one scope on the grid)."""
        return kpi_frame(self.engine, k, b, m, [sc])

    def by_scope(self, k: KPI, d: str, sc: Scope, b: Month, m: Month) -> pd.DataFrame:
        """The measures per team (``d`` "team") or per rep of the scope (``d`` "rep")."""
        sub = Scope(d, None, sc.name if sc.kind == "team" else None)
        frame = kpi_frame(self.engine, k, b, m, [sub])
        return frame[frame.index.get_level_values("scope_type") == d]

    def segmented(
        self, k: KPI, sc: Scope, m: Month, b: Month, dims: tuple[str, ...]
    ) -> pd.DataFrame | str:
        """Measures of the scope's rows split by every dimension of ``dims`` at once: a
        frame indexed by (key, mi), the key a tuple (team, value of dims[0], value of
        dims[1], ...), or why nothing could be split."""
        parts = tuple(dimension_part(self.ds, d) for d in dims)
        only = ("_rep", sc.name) if sc.kind == "rep" else None
        engine = Engine(self.ds, self.cfg, Segment(parts, only))
        st = "rep" if sc.kind == "rep" else "team"
        frame = kpi_frame(engine, k, b, m, [Scope(st)])
        return keyed(frame, st, sc, len(dims))


def keyed(frame: pd.DataFrame, st: str, sc: Scope, n: int) -> pd.DataFrame | str:
    """A segmented measure frame (``st`` rows: team SEP values, or a rep's values) as rows
    indexed by (key, mi), the key (team, value 1, ..., value n), the scope's rows only;
    or why there is none.

    Example: ``keyed(frame, "team", Scope("company"), 2)``: keys such as ("EMEA",
    "Widgets", "retail")."""
    frame = frame[frame.index.get_level_values("scope_type") == st].droplevel("scope_type")
    scope = frame.index.get_level_values("scope")
    if st == "team":
        keep = [SEP in s and (sc.kind != "team" or s.split(SEP, 1)[0] == sc.name) for s in scope]
        frame = frame[keep]
        keys = [
            tuple([t, *v.split(JOIN)])
            for t, v in (s.split(SEP, 1) for s in frame.index.get_level_values("scope"))
        ]
    else:
        frame = frame[[SEP not in s for s in scope]]
        keys = [tuple([sc.name, *s.split(JOIN)]) for s in frame.index.get_level_values("scope")]
    good = [len(key) == n + 1 for key in keys]
    frame = frame[good]
    keys = [key for key, g in zip(keys, good, strict=True) if g]
    if frame.empty:
        return "no rows in these months"
    idx = pd.MultiIndex.from_arrays(
        [pd.Index(keys, tupleize_cols=False), frame.index.get_level_values("mi")],
        names=["key", "mi"],
    )
    return frame.set_axis(idx)


def column_state(rows: pd.DataFrame, j: int) -> str:
    """Why position ``j`` of the keys cannot split (not on every measure's rows, or empty
    in every row), else ''.

    Example: ``column_state(rows, 1)`` reads "empty in every row" when no row carries a
    value of the first dimension."""
    keys = rows.index.get_level_values("key")
    busy = rows.abs().sum(axis=1).to_numpy() > 0
    values = {key[j] for key, b in zip(keys, busy, strict=True) if b}
    if MISSING in values:
        return "not on the rows of every measure of the KPI"
    if not values or values == {NO_VALUE}:
        return "empty in every row"
    return ""


def project(rows: pd.DataFrame, sc: Scope, positions: list[int]) -> pd.DataFrame:
    """The segmented ``rows`` summed up to the values at ``positions`` of their keys (0:
    the team), as a measure frame (scope_type, scope = the segment, mi).

    Example: ``project(rows, Scope("company"), [0, 2])``: the crosses team x the second
    dimension."""
    keys = rows.index.get_level_values("key")
    label = [CROSS.join(key[j] for j in positions) for key in keys]
    idx = pd.MultiIndex.from_arrays(
        [["segment"] * len(rows), label, rows.index.get_level_values("mi")],
        names=["scope_type", "scope", "mi"],
    )
    out = rows.set_axis(idx).groupby(level=[0, 1, 2], sort=True).sum(min_count=1)
    # a complete grid, so formulas read every (segment, month)
    full = pd.MultiIndex.from_product(
        [
            ["segment"],
            out.index.get_level_values("scope").unique(),
            sorted(set(out.index.get_level_values("mi"))),
        ],
        names=out.index.names,
    )
    return out.reindex(full)


def dimensions_of(
    ds: Dataset, sc: Scope, base: str, asked: list[str] | None, cfg: Config
) -> list[str]:
    """The dimensions to split by: ``asked`` (checked), else team or rep by the scope,
    then every known dimension, then kpi.toml's; against a target, team or rep only.

    Example: ``dimensions_of(ds, Scope("team", "EMEA"), "target", None, cfg)`` is
    ``["rep"]``."""
    by_scope = {"company": ["team"], "team": ["rep"], "rep": []}[sc.kind]
    if base == "target":  # targets exist per team and rep only
        if asked is not None:
            bad = [d for d in asked if d not in by_scope]
            if bad:
                raise KitError(
                    f"Against a target, {scope_label(str(sc))} splits by "
                    f"{' or '.join(by_scope) or 'nothing'} only (targets exist per team and "
                    f"rep), not by {', '.join(bad)}."
                )
        return by_scope
    if asked is None:
        if sc.kind == "company":
            by_scope = ["team", "rep"]
        return (
            by_scope
            + [d for d in DIMENSIONS if d not in ("team", "rep")]
            + [d for d in cfg.drivers_dimensions if d not in DIMENSIONS]
        )
    bad = [d for d in asked if dimension_part(ds, d) is None and d not in DIMENSIONS]
    if bad:
        known = ", ".join(DIMENSIONS)
        raise KitError(
            f"Unknown dimension {', '.join(bad)}: no table of the data has such a column; "
            f"use {known} or a column the mapping keeps (kpi.toml [drivers] dimensions)."
        )
    return list(dict.fromkeys(asked))
