"""Why it moved: the exact drivers of one KPI's change (KPI_CATALOG.md, "Why it moved").

``explain(ds, "monthly_sales_bookings", "company", "2026-05")`` splits the change of a KPI
against a base (the previous month, the same month a year before, or the target) over
the segments of every dimension the KPI's rows carry (team, rep, product, account
industry / segment / region, lead source, deal type, contact method and the columns of
kpi.toml ``[drivers] dimensions``), and over the crosses of two dimensions; the
arithmetic is :mod:`kpi_helpers.drivers.bridge`. The measures per segment come from the
engine: team and rep from its scopes, the other dimensions from measures whose rows are
split by a segment column (``metrics.Segment``), so one definition runs on every backend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import pandas as pd

from kpi_helpers.catalog import KPI, get, scope_label
from kpi_helpers.core import Config, KitError, Month
from kpi_helpers.data import Dataset, check_month, month_asked
from kpi_helpers.metrics import (
    CROSS,
    JOIN,
    MISSING,
    NO_VALUE,
    SEP,
    Engine,
    Scope,
    Segment,
    check_scope,
    compute_tidy,
    one_scope,
    targets,
)

from .bridge import NOT_ALLOCATED, REST, Part, additive, additive_target, pick, ratio, ratio_target
from .shape import bridge_kind, ratio_of
from .words import moved, paragraph

BASES = ("previous", "year", "target")
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
PAIRS = ("all", "scope", "none")  # which crosses of two dimensions to try


@dataclass
class Explanation:
    """The drivers of one KPI's change (see :func:`explain`). ``kind``: additive, ratio or
    none (no exact bridge: the segments' values on both sides only); ``dimensions``: the
    parts of each partition tried (a cross is named ``a × b``); ``drivers``: the chosen
    partition's largest parts; ``rest``: what the other parts add up to ("everything
    else"); ``skipped``: dimension -> why it was not split."""

    kpi: str
    scope: str
    month: str
    base: str
    base_month: str
    value: float
    base_value: float
    kind: str
    dimensions: dict[str, list[Part]] = field(default_factory=dict)
    drivers: list[tuple[str, Part]] = field(default_factory=list)
    rest: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str = ""  # why there are no drivers
    text: str = ""

    @property
    def change(self) -> float:
        return self.value - self.base_value

    @property
    def unexplained_share(self) -> float:
        """The share of the change the drivers leave to "everything else"."""
        return self.rest / self.change if self.change and self.drivers else math.nan

    def as_dict(self) -> dict:
        """The JSON of ``kpi-kit explain --format json``."""
        return {
            "kpi": self.kpi,
            "scope": self.scope,
            "month": self.month,
            "base": self.base,
            "base_month": self.base_month,
            "value": _plain(self.value),
            "base_value": _plain(self.base_value),
            "change": _plain(self.change),
            "kind": self.kind,
            "drivers": [{"dimension": d, **p.as_dict()} for d, p in self.drivers],
            "everything_else": _plain(self.rest),
            "dimensions": {d: [p.as_dict() for p in ps] for d, ps in self.dimensions.items()},
            "skipped": self.skipped,
            "unexplained_share": _plain(self.unexplained_share),
            "reason": self.reason,
            "text": self.text,
        }

    def frame(self) -> pd.DataFrame:
        """Every part of every partition, one row each (``--format csv``, the pack's CSV)."""
        rows = [
            {"dimension": d, **p.as_dict(), "driver": (d, p.segment) in self._chosen}
            for d, ps in self.dimensions.items()
            for p in ps
        ]
        cols = ["dimension", "segment", "contribution", "rate_effect", "mix_effect"]
        cols += ["value", "base_value", "share", "driver"]
        return pd.DataFrame(rows, columns=cols)

    @property
    def _chosen(self) -> set[tuple[str, str]]:
        return {(d, p.segment) for d, p in self.drivers}


def _plain(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


# ------------------------------------------------------------------ measures per segment


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


def _frame(
    engine: Engine, kpi: KPI, first: Month, last: Month, scopes: list[Scope]
) -> pd.DataFrame:
    starts = {n: first - lag for n, lag in kpi.lags.items()}
    return engine.measure_frame(starts, last, scopes)


@dataclass
class _Sides:
    """Per segment (index) the KPI, its numerator and denominator, in m and the base."""

    value: pd.DataFrame  # columns now, before
    num: pd.DataFrame | None = None
    den: pd.DataFrame | None = None


def _sides(frame: pd.DataFrame, kpi: KPI, m: Month, b: Month, kind: str) -> _Sides:
    """``frame``: measures on the grid (scope_type, segment, mi)."""
    frame = frame.droplevel("scope_type")

    def two(f) -> pd.DataFrame:
        v = f(frame)
        mi = v.index.get_level_values("mi")
        now = v[mi == m.index].droplevel("mi")
        before = v[mi == b.index].droplevel("mi")
        return pd.DataFrame({"now": now, "before": before.reindex(now.index)})

    out = _Sides(two(kpi.formula))
    if kind == "ratio":
        n, d, _ = ratio_of(kpi.formula)
        out.num, out.den = two(n), two(d)
    elif kind == "additive":
        out.num = out.value
    return out


def _parts(sides: _Sides, total: _Sides, kind: str, scale: float) -> list[Part]:
    seg = sides.value.index
    if kind == "additive":
        segs = {
            s: (float(sides.num.at[s, "now"]), float(sides.num.at[s, "before"]))
            for s in seg
            if sides.num.at[s, "now"] or sides.num.at[s, "before"]
        }
        tot = total.num.iloc[0]
        return additive(segs, (float(tot["now"]), float(tot["before"])))
    if kind == "ratio":
        num = {s: (float(sides.num.at[s, "now"]), float(sides.num.at[s, "before"])) for s in seg}
        den = {s: (float(sides.den.at[s, "now"]), float(sides.den.at[s, "before"])) for s in seg}
        keep = [s for s in seg if any(num[s]) or any(den[s])]
        n, d = total.num.iloc[0], total.den.iloc[0]
        return ratio(
            {s: num[s] for s in keep},
            {s: den[s] for s in keep},
            (float(n["now"]), float(d["now"]), float(n["before"]), float(d["before"])),
            scale,
        )
    # no bridge: each segment's value on both sides, no contribution
    return [
        Part(s, math.nan, float(sides.value.at[s, "now"]), float(sides.value.at[s, "before"]))
        for s in seg
        if pd.notna(sides.value.at[s, "now"]) or pd.notna(sides.value.at[s, "before"])
    ]


# ------------------------------------------------------------------ explain


def explain(
    ds: Dataset,
    kpi: str,
    scope: str = "company",
    month: str = "latest",
    base: str = "previous",
    dimensions: list[str] | None = None,
    config: Config | None = None,
    pairs: str = "all",
) -> Explanation:
    """The drivers of ``kpi``'s change for one ``scope`` from the ``base`` ("previous"
    month, the same month a "year" before, or the "target") to ``month``, split over
    ``dimensions`` (None: team or rep by the scope, then every dimension the KPI's rows
    carry and the data fills, then kpi.toml ``[drivers] dimensions``) and, with ``pairs``
    "all", over the crosses of two of them ("scope": the team's crosses only; "none").

    Example: ``explain(ds, "win_rate", "company", "2026-05").text`` reads "Win rate fell
    6.0 pp (46.0 % -> 40.0 %) from 2026-04 to 2026-05. Team EMEA explains 71 % (-4.3 pp:
    its own rate -3.1 pp, mix -1.2 pp)." The contributions of each dimension add up to the
    change exactly (to 1e-9 relative).
    """
    cfg = config or Config()
    if base not in BASES:
        raise KitError(f"Unknown base {base!r}: use previous, year or target.")
    if pairs not in PAIRS:
        raise KitError(f"Unknown pairs {pairs!r}: use all, scope or none.")
    k = get(kpi)
    if k.alias_of:
        k = get(k.alias_of)
    if k.formula is None:
        raise KitError(
            f"{k.id} is {'a table' if k.is_table else 'a model'} KPI: "
            "why it moved is told for formula KPIs (see kpi-kit catalog)."
        )
    sc = check_scope(ds, one_scope(scope, "kpi-kit explain"))
    m = month_asked(ds, month)
    check_month(ds, m)
    b = m - 1 if base == "previous" else m - 12 if base == "year" else m
    engine = Engine(ds, cfg)
    tidy = compute_tidy(ds, str(m), 1, [sc], [k.id], config=cfg)
    row = tidy[(tidy["scope_type"] == sc.kind)]
    row = row[row["scope"] == (sc.name or "company")] if sc.name else row
    kind = bridge_kind(k, engine)
    value = float(row["value"].iloc[0]) if len(row) else math.nan
    if base == "target":
        base_value = float(row["target"].iloc[0]) if len(row) else math.nan
    else:
        col = "previous_month" if base == "previous" else "same_month_last_year"
        base_value = float(row[col].iloc[0]) if len(row) else math.nan
    out = Explanation(k.id, str(sc), str(m), base, str(b), value, base_value, kind)
    if math.isnan(value) or math.isnan(base_value):
        status = row["reason"].iloc[0] if len(row) and pd.notna(row["reason"].iloc[0]) else ""
        out.reason = status or (
            f"no {'target' if base == 'target' else 'value'} for {b}"
            if math.isnan(base_value)
            else f"no value for {m}"
        )
        out.text = paragraph(out, k, cfg.currency)
        return out
    dims = _dimensions(ds, sc, base, dimensions, cfg)
    if base == "target":
        _against_target(out, ds, engine, k, sc, m, dims)
    else:
        _against_month(out, ds, engine, cfg, k, sc, m, b, dims, pairs)
    out.dimensions = _canonical(out.dimensions, cfg)
    if kind != "none":
        # a partition of one segment (every deal "new") tells nothing
        tried = {
            d: ps
            for d, ps in out.dimensions.items()
            if len([p for p in ps if p.segment not in (REST, NOT_ALLOCATED)]) > 1
        }
        chosen = pick(tried, out.change) if moved(out, k) else None
        if chosen is not None:
            name, parts, rest = chosen
            out.drivers, out.rest = [(name, p) for p in parts], rest
    out.text = paragraph(out, k, cfg.currency)
    return out


def _dimensions(
    ds: Dataset, sc: Scope, base: str, asked: list[str] | None, cfg: Config
) -> list[str]:
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


def _canonical(parts: dict[str, list[Part]], cfg: Config) -> dict[str, list[Part]]:
    """The partitions in one order whatever order the dimensions were asked in: single
    dimensions (:data:`DIMENSIONS`, then kpi.toml's), then crosses: :func:`pick` breaks
    ties by it."""
    order = [*DIMENSIONS, *cfg.drivers_dimensions]

    def rank(name: str) -> tuple:
        names = name.split(CROSS)
        return (len(names), [order.index(n) if n in order else len(order) for n in names], name)

    return {name: parts[name] for name in sorted(parts, key=rank)}


def _against_month(
    out: Explanation,
    ds: Dataset,
    engine: Engine,
    cfg: Config,
    k: KPI,
    sc: Scope,
    m: Month,
    b: Month,
    dims: list[str],
    pairs: str,
) -> None:
    kind = out.kind
    scale = ratio_of(k.formula)[2] if kind == "ratio" else 1.0
    total = _sides(_frame(engine, k, b, m, [sc]), k, m, b, kind)

    def parts_of(frame: pd.DataFrame) -> list[Part]:
        return _parts(_sides(frame, k, m, b, kind), total, kind, scale)

    others: list[str] = []
    for d in dims:
        if d in ("team", "rep"):
            if (sc.kind, d) in (("team", "team"), ("rep", "team"), ("rep", "rep")):
                out.skipped[d] = f"{scope_label(str(sc))} is one {sc.kind}"
                continue
            if why := engine.reason(k, d):
                out.skipped[d] = why
                continue
            sub = Scope(d, None, sc.name if sc.kind == "team" else None)
            frame = _frame(engine, k, b, m, [sub])
            out.dimensions[d] = parts_of(frame[frame.index.get_level_values("scope_type") == d])
        elif why := _why_not(ds, engine, k, d):
            out.skipped[d] = why
        else:
            others.append(d)
    if not others:
        return
    if kind == "none":  # medians do not add up: one query per dimension
        for d in others:
            rows = _segmented(ds, cfg, k, sc, m, b, (d,))
            if isinstance(rows, str):
                out.skipped[d] = rows
            else:
                out.dimensions[d] = parts_of(_project(rows, sc, [1]))
        return
    # additive measures: one query split by every dimension at once, then summed up to
    # each dimension and each cross of two in pandas
    rows = _segmented(ds, cfg, k, sc, m, b, tuple(others))
    if isinstance(rows, str):
        for d in others:
            out.skipped[d] = rows
        return
    carried = []
    for j, d in enumerate(others, start=1):
        why = _column_state(rows, j)
        if why:
            out.skipped[d] = why
        else:
            carried.append((j, d))
    for j, d in carried:
        out.dimensions[d] = parts_of(_project(rows, sc, [j]))
    if pairs == "none":
        return
    if sc.kind == "company" and "team" in dims:
        for j, d in carried:
            out.dimensions[f"team{CROSS}{d}"] = parts_of(_project(rows, sc, [0, j]))
    if pairs == "all":
        for (j1, d1), (j2, d2) in combinations(carried, 2):
            out.dimensions[f"{d1}{CROSS}{d2}"] = parts_of(_project(rows, sc, [j1, j2]))


def _why_not(ds: Dataset, engine: Engine, k: KPI, d: str) -> str:
    """Why dimension ``d`` cannot split ``k`` ('' when it can, as far as the columns go)."""
    part = dimension_part(ds, d)
    if part is None or not _has_column(ds, part):
        return "no such column in the data"
    small = sorted(x for x in k.measures if _small_table(engine, x))
    if small:
        return f"{', '.join(small)} is not kept per {d}"
    if part[1] == "product" and k.measures & DISTINCT:
        return "distinct counts (orders, customers) are never split by product"
    return ""


def _segmented(
    ds: Dataset, cfg: Config, k: KPI, sc: Scope, m: Month, b: Month, dims: tuple[str, ...]
) -> pd.DataFrame | str:
    """Measures of the scope's rows split by every dimension of ``dims`` at once: a frame
    indexed by (key, mi), the key a tuple (team, value of dims[0], value of dims[1], ...),
    or why nothing could be split."""
    parts = tuple(dimension_part(ds, d) for d in dims)
    only = ("_rep", sc.name) if sc.kind == "rep" else None
    engine = Engine(ds, cfg, Segment(parts, only))
    st = "rep" if sc.kind == "rep" else "team"
    frame = _frame(engine, k, b, m, [Scope(st)])
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
    frame = frame[[len(key) == len(dims) + 1 for key in keys]]
    keys = [key for key in keys if len(key) == len(dims) + 1]
    if frame.empty:
        return "no rows in these months"
    idx = pd.MultiIndex.from_arrays(
        [pd.Index(keys, tupleize_cols=False), frame.index.get_level_values("mi")],
        names=["key", "mi"],
    )
    return frame.set_axis(idx)


def _column_state(rows: pd.DataFrame, j: int) -> str:
    """Why position ``j`` of the keys cannot split (not on every measure's rows, or empty
    in every row), else ''."""
    keys = rows.index.get_level_values("key")
    busy = rows.abs().sum(axis=1).to_numpy() > 0
    values = {key[j] for key, b in zip(keys, busy, strict=True) if b}
    if MISSING in values:
        return "not on the rows of every measure of the KPI"
    if not values or values == {NO_VALUE}:
        return "empty in every row"
    return ""


def _project(rows: pd.DataFrame, sc: Scope, positions: list[int]) -> pd.DataFrame:
    """The segmented ``rows`` summed up to the values at ``positions`` of their keys (0:
    the team), as a measure frame (scope_type, scope = the segment, mi)."""
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


def _against_target(
    out: Explanation, ds: Dataset, engine: Engine, k: KPI, sc: Scope, m: Month, dims: list[str]
) -> None:
    kind = out.kind
    if not dims:
        out.reason = "a rep's target is not split further"
        return
    d = dims[0]
    sub = Scope(d, None, sc.name if sc.kind == "team" else None)
    frame = _frame(engine, k, m, m, [sub])
    frame = frame[frame.index.get_level_values("scope_type") == d]
    sides = _sides(frame, k, m, m, "ratio" if kind == "ratio" else "additive")
    tgt = targets(ds, [m])
    tgt = tgt[(tgt["kpi"] == k.id) & (tgt["scope_type"] == d)]
    t_i = dict(zip(tgt["scope"], tgt["target"].astype(float), strict=True))
    if kind == "additive":
        values = {s: float(v) for s, v in sides.value["now"].items() if v or s in t_i}
        out.dimensions[d] = additive_target(values, t_i, out.base_value)
    elif kind == "ratio":
        scale = ratio_of(k.formula)[2]
        num = {s: float(v) for s, v in sides.num["now"].items()}
        den = {s: float(v) for s, v in sides.den["now"].items() if v}
        out.dimensions[d] = ratio_target(num, den, t_i, out.base_value, scale)
