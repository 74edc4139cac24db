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

from kpi_helpers.catalog import KPI, PERIOD_RULES, Kind, get, scope_label
from kpi_helpers.core import PERIOD_KINDS, Config, KitError, Month, Period
from kpi_helpers.data import Dataset, check_month, month_asked, period_with_data
from kpi_helpers.metrics import CROSS, Scope, check_scope, compute_tidy, one_scope

from .bridge import NOT_ALLOCATED, REST, Part, additive_target, pick, ratio_target
from .readers import BASES, PeriodBatch, span_of
from .segments import (
    DIMENSIONS,
    Reader,
    dimensions_of,
    project,
    segment_parts,
    sides_of,
    why_not,
)
from .shape import bridge_kind, ratio_of
from .words import moved, paragraph

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
    names: dict[str, str] = field(default_factory=dict, repr=False)  # rep id -> name

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
        chosen = self._chosen
        cols = ["dimension", "segment", "contribution", "rate_effect", "mix_effect"]
        cols += ["value", "base_value", "share", "driver"]
        rows = [
            (d, *p.as_dict().values(), (d, p.segment) in chosen)
            for d, ps in self.dimensions.items()
            for p in ps
        ]
        fields = ["dimension", *Part.__dataclass_fields__, "driver"]
        return pd.DataFrame(rows, columns=fields)[cols]

    @property
    def _chosen(self) -> set[tuple[str, str]]:
        return {(d, p.segment) for d, p in self.drivers}


def _plain(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


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
    period: str = "month",
) -> Explanation:
    """The drivers of ``kpi``'s change for one ``scope`` from the ``base`` ("previous"
    month, the same month a "year" before, or the "target") to ``month`` (``period``
    "quarter" or "year": the period holding ``month``, through it, against the previous
    period, the same period a year before or its target: ``readers.span_of``), split over
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
    if period not in PERIOD_KINDS:
        raise KitError(f"Unknown period {period!r}: use {', '.join(PERIOD_KINDS)}.")
    k = formula_kpi(kpi)
    sc = check_scope(ds, one_scope(scope, "kpi-kit explain"))
    m = month_asked(ds, month)
    check_month(ds, m)
    tidy = compute_tidy(ds, str(m), 1, [sc], [k.id], config=cfg, period=period)
    reader = Reader(ds, cfg)
    if period != "month":
        reader = PeriodBatch(ds, cfg, [k], [sc], m, period, (base,))
        reader.split_medians = True
    return explain_one(reader, tidy, k, sc, m, base, dimensions, pairs)


def formula_kpi(kpi: str) -> KPI:
    """The formula KPI behind ``kpi`` (an alias's original); a table or model KPI is an
    error (why it moved is told for formula KPIs).

    >>> formula_kpi("win_rate").id
    'win_rate'
    """
    k = get(kpi)
    if k.alias_of:
        k = get(k.alias_of)
    if k.formula is None:
        raise KitError(
            f"{k.id} is {'a table' if k.is_table else 'a model'} KPI: "
            "why it moved is told for formula KPIs (see kpi-kit catalog)."
        )
    return k


def explain_one(
    reader: Reader,
    tidy: pd.DataFrame,
    k: KPI,
    sc: Scope,
    m: Month,
    base: str,
    dimensions: list[str] | None,
    pairs: str,
) -> Explanation:
    """One KPI, scope and base, its measure frames read through ``reader`` (what
    :func:`explain` and ``drivers.batch.explain_many`` return per KPI).

    Example: ``explain_one(Reader(ds, cfg), tidy, get("win_rate"), Scope("company"), m,
    "previous", None, "all").text``."""
    ds, cfg, engine = reader.ds, reader.cfg, reader.engine
    now = period_with_data(ds, m, reader.period, cfg.fiscal_year_start)
    now, before = span_of(now, base, reader.calendar)
    mk, bk = reader.key(now, k), reader.key(before, k)  # where they sit in its frames
    row = tidy[(tidy["scope_type"] == sc.kind) & (tidy["kpi"] == k.id)]
    row = row[row["scope"] == sc.name] if sc.name else row
    kind = bridge_kind(k, engine)
    value = float(row["value"].iloc[0]) if len(row) else math.nan
    if base == "target":
        base_value = float(row["target"].iloc[0]) if len(row) else math.nan
    else:
        col = "previous_month" if base == "previous" else "same_month_last_year"
        base_value = float(row[col].iloc[0]) if len(row) else math.nan
    out = Explanation(k.id, str(sc), now.label, base, before.label, value, base_value, kind)
    out.names = reader.rep_names
    if math.isnan(value) or math.isnan(base_value):
        status = row["reason"].iloc[0] if len(row) and pd.notna(row["reason"].iloc[0]) else ""
        out.reason = status or (
            f"no {'target' if base == 'target' else 'value'} for {before.label}"
            if math.isnan(base_value)
            else f"no value for {now.label}"
        )
        out.text = paragraph(out, k, cfg.currency)
        return out
    dims = dimensions_of(ds, sc, base, dimensions, cfg)
    if base == "target":
        _against_target(out, reader, k, sc, now, dims)
    else:
        _against_month(out, reader, k, sc, mk, bk, dims, pairs)
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
    reader: Reader,
    k: KPI,
    sc: Scope,
    m: Month,
    b: Month,
    dims: list[str],
    pairs: str,
) -> None:
    ds, engine = reader.ds, reader.engine
    kind = out.kind
    scale = ratio_of(k.formula)[2] if kind == "ratio" else 1.0
    total = reader.total_sides(k, sc, m, b, kind)

    def parts_of(frame: pd.DataFrame) -> list[Part]:
        return segment_parts(sides_of(frame, k, m, b, kind), total, kind, scale)

    own_rule = k.id in PERIOD_RULES or k.kind == Kind.AS_OF
    if reader.period != "month" and own_rule:
        for d in dims:  # the period's value is not the formula on its measures
            out.skipped[d] = f"not split for a {reader.period}: its value has its own rule"
        return
    others: list[str] = []
    for d in dims:
        if d in ("team", "rep"):
            if (sc.kind, d) in (("team", "team"), ("rep", "team"), ("rep", "rep")):
                out.skipped[d] = f"{scope_label(str(sc))} is one {sc.kind}"
                continue
            if why := engine.reason(k, d):
                out.skipped[d] = why
                continue
            sides = reader.scope_sides(k, d, sc, m, b, kind)
            out.dimensions[d] = segment_parts(sides, total, kind, scale)
        elif why := why_not(ds, engine, k, d):
            out.skipped[d] = why
        else:
            others.append(d)
    if not others:
        return
    if kind == "none":  # medians do not add up: one query per dimension
        if not reader.split_medians:
            for d in others:
                out.skipped[d] = "not split for a KPI without an exact bridge in a pack"
            return
        for d in others:
            rows = reader.segmented(k, sc, m, b, (d,))
            if isinstance(rows, str):
                out.skipped[d] = rows
            else:
                out.dimensions[d] = parts_of(project(rows, sc, [1]))
        return
    # additive measures: one query split by every dimension at once, then summed up to
    # each dimension and each cross of two in pandas
    rows, states, fast = reader.split_of(k, sc, m, b, tuple(others), kind, total, scale)
    if isinstance(rows, str):
        for d in others:
            out.skipped[d] = rows
        return
    carried = []
    for j, (d, why) in enumerate(zip(others, states, strict=True), start=1):
        if why:
            out.skipped[d] = why
        else:
            carried.append((j, d))

    def split(positions: list[int]) -> list[Part]:
        if fast is not None:
            return fast.parts(positions)
        return parts_of(project(rows, sc, positions))

    for j, d in carried:
        out.dimensions[d] = split([j])
    if pairs == "none":
        return
    if sc.kind == "company" and "team" in dims:
        for j, d in carried:
            out.dimensions[f"team{CROSS}{d}"] = split([0, j])
    if pairs == "all":
        for (j1, d1), (j2, d2) in combinations(carried, 2):
            out.dimensions[f"{d1}{CROSS}{d2}"] = split([j1, j2])


def _against_target(
    out: Explanation, reader: Reader, k: KPI, sc: Scope, now: Period, dims: list[str]
) -> None:
    kind = out.kind
    if not dims:
        out.reason = "a rep's target is not split further"
        return
    d = dims[0]
    mk = reader.key(now, k)
    frame = reader.by_scope(k, d, sc, mk, mk)
    sides = sides_of(frame, k, mk, mk, "ratio" if kind == "ratio" else "additive")
    t_i = reader.targets_of(k, d, now)
    if kind == "additive":
        values = {s: float(v) for s, v in sides.value["now"].items() if v or s in t_i}
        out.dimensions[d] = additive_target(values, t_i, out.base_value)
    elif kind == "ratio":
        scale = ratio_of(k.formula)[2]
        num = {s: float(v) for s, v in sides.num["now"].items()}
        den = {s: float(v) for s, v in sides.den["now"].items() if v}
        out.dimensions[d] = ratio_target(num, den, t_i, out.base_value, scale)
