"""The analyst API: compute KPIs for months and scopes into one tidy DataFrame.

Example::

    from kpi_helpers.sources import open_dataset
    from kpi_helpers import kpis
    ds = open_dataset("data/sample")
    kpis.compute(ds, "2026-05", scope="team", families=["pipeline"])
    kpis.series(ds, "win_rate", scope="team:EMEA", start="2025-06", end="2026-05")
    kpis.table(ds, "pipeline_health", "2026-05", scope="team:EMEA")

Every scope of every requested scope type and every month is computed in grouped
queries (``kpi_helpers.measures``): no Python loop over teams or months touches
the data. KPI formulas (``kpi_helpers.registry``) then combine the measures in pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import measures as ms_mod
from .compare import add_comparisons
from .config import Config
from .errors import KitError
from .measures import COMPANY, GROUPS, KEY, SCOPE_TYPES, Measures, describe_missing
from .months import Month
from .registry import KPI, select
from .sources import Dataset

HISTORY = 24  # months computed before the first requested one: YoY of 12-month windows
KEEP_NAN = {"response_hours_median", "target_monthly_sales_bookings"}
# measures that exist for some scope types only, with the reason for the others
SCOPE_LIMITS = {
    "fin_": ({"company"}, "financials are company-wide: company scope only"),
    "costs_": ({"company", "team"}, "costs are kept per team, not per rep"),
}
TIDY_COLUMNS = [
    "month",
    "scope_type",
    "scope",
    "kpi",
    "value",
    "unit",
    "status",
    "reason",
    "previous_month",
    "mom_change",
    "change_unit",
    "same_month_last_year",
    "yoy_change",
    "target",
    "attainment",
    "rag",
    "trend",
    "better",
]


@dataclass(frozen=True)
class Scope:
    """What to compute for: a scope type, optionally one named team or rep."""

    kind: str  # company, team, rep or all
    name: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        """``company``, ``team``, ``rep``, ``all``, ``team:NAME`` or ``rep:ID``."""
        kind, _, name = str(text).partition(":")
        if kind not in (*SCOPE_TYPES, "all") or (name and kind not in ("team", "rep")):
            raise KitError(
                f"Unknown scope {text!r}; use company, team, rep, all, team:NAME or rep:ID."
            )
        return cls(kind, name or None)

    @property
    def types(self) -> list[str]:
        return list(SCOPE_TYPES) if self.kind == "all" else [self.kind]


def data_months(ds: Dataset) -> tuple[Month, Month]:
    """The first and last month holding any lead, deal, activity or order."""
    bounds = []
    for table, col in (
        ("orders", "ordered_at"),
        ("opportunities", "created_at"),
        ("leads", "created_at"),
        ("activities", "occurred_at"),
        ("subscriptions", "started_at"),
    ):
        if ds.has(table, col):
            t = ds.table(table)
            row = t.aggregate(lo=t[col].min(), hi=t[col].max()).to_pandas().iloc[0]
            bounds += [v for v in (row["lo"], row["hi"]) if pd.notna(v)]
    if not bounds:
        raise KitError(f"The dataset ({ds.description}) has no dated rows: nothing to compute.")
    lo, hi = min(bounds), max(bounds)
    return Month(lo.year * 12 + lo.month - 1), Month(hi.year * 12 + hi.month - 1)


def _check_months(ds: Dataset, first: Month, last: Month) -> None:
    lo, hi = data_months(ds)
    if first < lo or last > hi:
        raise KitError(
            f"No data for {first if first < lo else last}: the dataset covers {lo}..{hi}."
        )


class Engine:
    """Measures and KPI values for one dataset; cached per (months, scope types)."""

    def __init__(self, ds: Dataset, config: Config | None = None):
        self.ds, self.cfg = ds, config or Config()
        self.measure_groups = {p: g for g in GROUPS.values() for p in g.produces}

    # ------------------------------------------------------------------ availability
    def unavailable(self, measure: str) -> str | None:
        """Why ``measure`` cannot be computed from this dataset, or None."""
        if measure in self.measure_groups:
            g = self.measure_groups[measure]
            needs = g.needs + g.extra_needs.get(measure, ())
            missing = ms_mod.missing_inputs(self.ds, needs)
            return describe_missing(missing) if missing else None
        if measure == "reps_active":
            need = ("reps.team",)
        elif measure.startswith("costs_"):
            need = ("costs",)
        elif measure.startswith("fin_"):
            need = (f"financials.{measure[4:]}",)
        elif measure.startswith("target_"):
            need = ("targets",)
        else:
            raise KeyError(measure)
        missing = ms_mod.missing_inputs(self.ds, need)
        return describe_missing(missing) if missing else None

    def reason(self, kpi: KPI, scope_type: str) -> str | None:
        """Why ``kpi`` is not available for ``scope_type``, or None when it is."""
        reasons = [r for r in (self.unavailable(x) for x in sorted(kpi.measures)) if r]
        if reasons:
            return "; ".join(dict.fromkeys(reasons))
        for prefix, (types, why) in SCOPE_LIMITS.items():
            if scope_type not in types and any(x.startswith(prefix) for x in kpi.measures):
                return why
        return None

    # ------------------------------------------------------------------ measures
    def measure_frame(
        self, names: set[str], first: Month, last: Month, scope_types: list[str]
    ) -> pd.DataFrame:
        """Wide frame of ``names`` on the complete grid scope_type x scope x month."""
        ms = Measures(self.ds, self.cfg, first, last)
        wanted, names = names, {n for n in names if self.unavailable(n) is None}
        parts: list[pd.DataFrame] = []
        groups = {self.measure_groups[n].name for n in names if n in self.measure_groups}
        leads = None
        for name in sorted(groups):
            df = GROUPS[name].run(ms, scope_types)
            parts.append(df)
            if name == "leads":
                leads = df
        if any(n.startswith("costs_") for n in names):
            if leads is None and self.unavailable("leads_created") is None:
                leads = GROUPS["leads"].run(ms, [s for s in scope_types if s != "rep"] or ["team"])
            parts.append(ms_mod.costs(ms, scope_types, leads))
        if "reps_active" in names:
            parts.append(ms_mod.reps_active(ms, scope_types))
        if any(n.startswith("fin_") for n in names):
            parts.append(ms_mod.financials(ms))
        if any(n.startswith("target_") for n in names):
            t = ms_mod.targets(self.ds, ms.months)
            t = t[t["kpi"].isin([n[len("target_") :] for n in names])]
            t = (
                t.assign(kpi="target_" + t["kpi"])
                .pivot_table(index=KEY, columns="kpi", values="target", aggfunc="sum")
                .reset_index()
            )
            t.columns.name = None
            parts.append(t)
        grid = self._grid(parts, ms, scope_types)
        frame = grid
        for df in parts:
            df = df[df["scope_type"].isin(scope_types)]
            frame = frame.merge(df, on=KEY, how="left")
        frame = frame.groupby(KEY, sort=True).first()  # parts never overlap per column
        for n in wanted:
            if n not in frame.columns:
                frame[n] = np.nan
            elif n not in KEEP_NAN and not n.startswith("fin_"):
                frame[n] = frame[n].astype("float64").fillna(0.0)
        return frame.astype("float64")

    def _grid(self, parts: list[pd.DataFrame], ms: Measures, scope_types: list[str]):
        scopes = {st: set() for st in scope_types}
        scopes.setdefault("company", set()).add(COMPANY)
        for df in parts:
            for st, sc in df[["scope_type", "scope"]].drop_duplicates().itertuples(index=False):
                if st in scopes:
                    scopes[st].add(sc)
        if self.ds.has("reps", "rep_id", "team"):
            reps = self.ds.frame("reps")
            scopes.get("team", set()).update(reps["team"].dropna())
            scopes.get("rep", set()).update(reps["rep_id"].dropna())
        rows = [(st, sc) for st in scope_types for sc in sorted(scopes[st])]
        idx = pd.MultiIndex.from_tuples(
            [(st, sc, m.index) for st, sc in rows for m in ms.months], names=KEY
        )
        return idx.to_frame(index=False)

    # ------------------------------------------------------------------ KPIs
    def values(
        self, chosen: list[KPI], first: Month, last: Month, scope_types: list[str]
    ) -> pd.DataFrame:
        """Long frame: scope_type, scope, mi, kpi, value, status, reason, previous_month,
        same_month_last_year, for months first..last (history computed as needed)."""
        scalars = [k for k in chosen if not k.is_table]
        names = set().union(*(k.measures for k in scalars)) if scalars else set()
        frame = self.measure_frame(names, first - HISTORY, last, scope_types)
        keep = frame.index.get_level_values("mi") >= first.index
        out = []
        for kpi in scalars:
            values = kpi.formula(frame)
            prev, year = (
                values.groupby(level=[0, 1]).shift(1),
                values.groupby(level=[0, 1]).shift(12),
            )
            df = pd.DataFrame(
                {"value": values, "previous_month": prev, "same_month_last_year": year}
            )[keep].reset_index()
            df["kpi"] = kpi.id
            reasons = {st: self.reason(kpi, st) for st in scope_types}
            df["reason"] = df["scope_type"].map(reasons)
            na = df["reason"].notna()
            df.loc[na, ["value", "previous_month", "same_month_last_year"]] = np.nan
            df["status"] = np.where(
                na, "not_available", np.where(df["value"].isna(), "undefined", "ok")
            )
            undefined = df["status"] == "undefined"
            df.loc[undefined, "reason"] = "a denominator is 0 or an input has no value in m"
            if "target_monthly_sales_bookings" in kpi.measures:
                no_target = frame["target_monthly_sales_bookings"][keep].isna().to_numpy()
                df.loc[undefined & no_target, "reason"] = (
                    "no monthly_sales_bookings target for this scope in m"
                )
            out.append(df)
        return (
            pd.concat(out, ignore_index=True)
            if out
            else pd.DataFrame(
                columns=KEY
                + ["kpi", "value", "previous_month", "same_month_last_year", "reason", "status"]
            )
        )


def _rep_rows_in_use(ds: Dataset, long: pd.DataFrame) -> pd.DataFrame:
    """Keep rep rows for reps employed in the month or with any non-zero value in it."""
    reps = long["scope_type"] == "rep"
    if not reps.any() or not ds.has("reps", "rep_id"):
        return long
    r = ds.frame("reps")
    employed = [
        (rid, mi)
        for mi in long.loc[reps, "mi"].unique()
        for rid in r.loc[ms_mod.employed_in(r, Month(int(mi))), "rep_id"]
    ]
    busy = long[reps & (long["value"].fillna(0) != 0)]
    employed = pd.DataFrame(employed, columns=["scope", "mi"]).astype({"mi": "int64"})
    wanted = pd.MultiIndex.from_frame(employed).union(
        pd.MultiIndex.from_frame(busy[["scope", "mi"]])
    )
    in_use = pd.MultiIndex.from_frame(long[["scope", "mi"]]).isin(wanted)
    return long[~reps | in_use]


def compute(
    ds: Dataset,
    month: str,
    months: int = 1,
    scope: str | Scope = "company",
    kpis: list[str] | None = None,
    families: list[str] | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """KPIs for the ``months`` months ending with ``month`` ("YYYY-MM", or "latest" for the
    dataset's last month), one row per month x scope x KPI.

    Columns: ``month, scope_type, scope, kpi, value, unit, status, reason, previous_month,
    mom_change, change_unit, same_month_last_year, yoy_change, target, attainment, rag,
    trend, better``. ``status`` is ``ok``, ``undefined`` (a zero denominator) or
    ``not_available`` (``reason`` names the missing input). ``mom_change``/``yoy_change``
    are percentage points for percent KPIs (``change_unit`` "pp") and relative changes in
    % otherwise. Table KPIs are skipped here: use :func:`table`.
    """
    if months < 1:
        raise KitError("--months must be at least 1.")
    scope = scope if isinstance(scope, Scope) else Scope.parse(scope)
    last = data_months(ds)[1] if month == "latest" else Month.parse(month)
    first = last - (months - 1)
    _check_months(ds, first, last)
    chosen = [k for k in select(kpis, families) if not k.is_table]
    engine = Engine(ds, config)
    long = engine.values(chosen, first, last, scope.types)
    if scope.name is not None:
        _check_scope_name(ds, scope, long)
        long = long[long["scope"] == scope.name]
    long = _rep_rows_in_use(ds, long)
    targets = ms_mod.targets(ds, [Month(i) for i in range(first.index, last.index + 1)])
    tidy = add_comparisons(long, chosen, targets, engine.cfg)
    tidy["month"] = tidy["mi"].map({i: str(Month(int(i))) for i in tidy["mi"].unique()})
    order = {k.id: i for i, k in enumerate(chosen)}
    tidy["_o"] = tidy["kpi"].map(order)
    tidy["_t"] = tidy["scope_type"].map({s: i for i, s in enumerate(SCOPE_TYPES)})
    tidy = tidy.sort_values(["mi", "_t", "scope", "_o"], kind="stable")
    return tidy[TIDY_COLUMNS].reset_index(drop=True)


def _check_scope_name(ds: Dataset, scope: Scope, long: pd.DataFrame) -> None:
    known = sorted(set(long.loc[long["scope_type"] == scope.kind, "scope"]))
    if scope.name not in known:
        listing = ", ".join(known[:40]) + (" ..." if len(known) > 40 else "")
        raise KitError(f"Unknown {scope.kind} {scope.name!r}; {scope.kind}s are: {listing}.")


def series(
    ds: Dataset,
    kpi: str,
    scope: str = "company",
    start: str | None = None,
    end: str | None = None,
    config: Config | None = None,
) -> pd.Series:
    """One KPI as a monthly series (index: "YYYY-MM") for one scope; NaN where undefined.

    ``scope`` is ``company``, ``team:NAME`` or ``rep:ID``; ``start``/``end`` default to
    the dataset's first and last month.
    """
    sc = Scope.parse(scope)
    if sc.kind != "company" and sc.name is None:
        raise KitError("series() needs one scope: company, team:NAME or rep:ID.")
    lo, hi = data_months(ds)
    first = Month.parse(start) if start else lo
    last = Month.parse(end) if end else hi
    df = compute(
        ds, str(last), months=last.index - first.index + 1, scope=sc, kpis=[kpi], config=config
    )
    if (df["status"] == "not_available").any():
        raise KitError(f"{kpi} is not available: {df['reason'].iloc[0]}.")
    return df.set_index("month")["value"].rename(df["kpi"].iloc[0])


def table(
    ds: Dataset, kpi: str, month: str, scope: str = "company", config: Config | None = None
) -> pd.DataFrame:
    """A table KPI (pipeline_health, funnel, ...) for one month and one scope."""
    from . import tables

    return tables.compute_table(ds, kpi, month, scope, config or Config())
