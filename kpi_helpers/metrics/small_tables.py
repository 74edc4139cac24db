"""Measure sources of the small tables, read into pandas: ``reps`` (reps employed),
``costs`` (per team, shared costs split by new leads), ``financials`` (company figures)
and ``targets``.
"""

from __future__ import annotations

import pandas as pd

from kpi_helpers.core import KitError, Month
from kpi_helpers.data import Dataset, check_unique_targets, target_scopes

from .measures import BASE, KEY, SOURCES, Measures, missing_inputs, source
from .scopes import COMPANY


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
    """(scope_type, scope, mi, kpi, target) from the targets table, one row per target;
    company rows have no team and no rep, team rows a team and no rep, rep rows a rep
    (``data.target_scopes``). A target set by two rows in ``months`` is a KitError
    (``data.check_unique_targets``), never their sum."""
    if not ds.has("targets", "month", "kpi", "target"):
        return pd.DataFrame(columns=KEY + ["kpi", "target"])
    t = ds.frame("targets")
    t = t[t["month"].isin([str(m) for m in months])]
    check_unique_targets(t)
    t = target_scopes(t)
    return pd.DataFrame(
        {
            "scope_type": t["scope_type"],
            "scope": t["scope"].where(t["scope"].notna(), COMPANY).astype(object),
            "mi": t["month"].map({x: Month.parse(x).index for x in t["month"].unique()}),
            "kpi": t["kpi"].astype(object),
            "target": t["target"],
        }
    ).reset_index(drop=True)
