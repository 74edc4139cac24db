"""The pack's drivers: many KPIs for many scopes and bases at once (``explain_many``),
each explained as :func:`kpi_helpers.drivers.explain` explains one, its measures read
once. ``Batch`` computes the measure frames of every KPI for the company, its teams and
reps in one query per source, and splits by segment in one query per source for the
KPIs that split by the same dimensions, then slices them per KPI, scope and base; a
rep's drivers are read as ``explain`` reads them.
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from kpi_helpers.catalog import KPI, get
from kpi_helpers.core import Config, KitError, Month
from kpi_helpers.data import Dataset, check_month, month_asked
from kpi_helpers.metrics import (
    Engine,
    Scope,
    Segment,
    check_scope,
    compute_tidy,
    one_scope,
    rep_teams,
    team_of,
)

from .explain import PAIRS, Explanation, dimensions_of, explain_one, formula_kpi
from .segments import Reader, dimension_part, keyed, why_not
from .shape import bridge_kind


def explain_many(
    ds: Dataset,
    kpis: list[str],
    scopes: list[str],
    month: str = "latest",
    bases: tuple[str, ...] = ("previous",),
    config: Config | None = None,
    pairs: str = "all",
    rows: pd.DataFrame | None = None,
) -> dict[tuple[str, str, str], Explanation]:
    """The drivers of many KPIs for many scopes and bases at once, as :func:`explain`
    gives each (default dimensions), keyed by (kpi, scope, base): the pack's "why it
    moved". The measures are read once: per team and rep from the engine's cache, and
    per segment in one split query per source for every KPI that splits by the same
    dimensions (not one per KPI and scope). KPIs without an exact bridge (medians,
    growth, models) are split by team and rep only; table and model KPIs are left out.
    ``rows``: the tidy KPI rows of the month for these scopes when already computed.

    Example: ``explain_many(ds, ["win_rate"], ["company", "team:EMEA"], "2026-05")
    [("win_rate", "team:EMEA", "previous")].text``.
    """
    cfg = config or Config()
    bad = [b for b in bases if b not in ("previous", "year")]
    if bad or pairs not in PAIRS:
        raise KitError(f"explain_many takes the bases previous and year and pairs {PAIRS}.")
    m = month_asked(ds, month)
    check_month(ds, m)
    scs = [check_scope(ds, one_scope(s, "A pack's drivers")) for s in scopes]
    ks = list({k.id: k for k in (get(x) for x in kpis) if k.formula is not None}.values())
    ks = [formula_kpi(k.id) for k in ks]
    if rows is None:
        rows = compute_tidy(ds, str(m), 1, scs, [k.id for k in ks], config=cfg)
    rows = rows[rows["month"] == str(m)] if "month" in rows.columns else rows
    first = m - (12 if "year" in bases else 1)
    batch = Batch(ds, cfg, ks, scs, first, m)
    single = Reader(ds, cfg)
    out = {}
    for k in ks:
        for sc in scs:
            reader = single if sc.kind == "rep" else batch
            for base in bases:
                e = explain_one(reader, rows, k, sc, m, base, None, pairs)
                out[(k.id, str(sc), base)] = e
    return out


class Batch(Reader):
    """The measure frames of many KPIs and scopes (company and teams), each computed
    once from ``first`` to ``m`` and sliced per KPI, scope and base (:func:`explain_many`)."""

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
        # the dimensions each KPI splits by (as _against_month finds them): the KPIs
        # that split by the same dimensions share one split query per source
        self.groups: dict[tuple[str, ...], set[str]] = {}
        for k in ks:
            if bridge_kind(k, self.engine) == "none":
                continue
            dims = [d for d in dimensions_of(ds, Scope("company"), "previous", None, cfg)]
            mine = tuple(
                d for d in dims if d not in ("team", "rep") and not why_not(ds, self.engine, k, d)
            )
            self.groups.setdefault(mine, set()).update(k.lags)
        self._rows: dict[tuple[str, ...], tuple[pd.DataFrame, list[str]] | str] = {}

    @cached_property
    def _measures(self) -> pd.DataFrame:
        """Every measure of the batch for the company, every team and every rep, from
        ``first`` to m: one query per source."""
        scopes = [Scope("company"), Scope("team"), Scope("rep")]
        return self.engine.measure_frame(self.starts, self.m, scopes)

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

    def total(self, k: KPI, sc: Scope, b: Month, m: Month) -> pd.DataFrame:
        frame = self._measures
        st = frame.index.get_level_values("scope_type")
        keep = st == sc.kind
        if sc.name:
            keep &= frame.index.get_level_values("scope") == sc.name
        return self._months(frame[keep], k, b, m)

    def by_scope(self, k: KPI, d: str, sc: Scope, b: Month, m: Month) -> pd.DataFrame:
        frame = self._measures
        frame = frame[frame.index.get_level_values("scope_type") == d]
        if sc.kind == "team":  # the reps of one team
            names = frame.index.get_level_values("scope")
            frame = frame[[team_of(r, self.teams) == sc.name for r in names]]
        return self._months(frame, k, b, m)

    def segmented(
        self, k: KPI, sc: Scope, m: Month, b: Month, dims: tuple[str, ...]
    ) -> pd.DataFrame | str:
        if dims not in self._rows:
            parts = tuple(dimension_part(self.ds, d) for d in dims)
            engine = Engine(self.ds, self.cfg, Segment(parts))
            starts = {n: s for n, s in self.starts.items() if n in self.groups.get(dims, ())}
            frame = engine.measure_frame(starts or self.starts, self.m, [Scope("team")])
            rows = keyed(frame, "team", Scope("company"), len(dims))
            teams = [] if isinstance(rows, str) else [x[0] for x in rows.index.get_level_values(0)]
            self._rows[dims] = rows if isinstance(rows, str) else (rows, teams)
        found = self._rows[dims]
        if isinstance(found, str):
            return found
        rows, teams = found
        if sc.kind == "team":
            rows = rows[[t == sc.name for t in teams]]
        rows = self._months(rows, k, b, m)
        return rows if len(rows) else "no rows in these months"
