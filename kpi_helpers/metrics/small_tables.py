"""Measure sources of the small tables, read into pandas: ``reps`` (selling reps),
``costs`` (per team, shared costs split by new leads), ``financials`` (company figures)
and ``targets``.
"""

from __future__ import annotations

import ibis
import pandas as pd

from kpi_helpers.core import KitError, Month
from kpi_helpers.data import Dataset, check_unique_targets, target_scopes

from .measures import BASE, KEY, SOURCES, Measures, missing_inputs, month_of, source
from .scopes import COMPANY, rep_teams, team_of


def employed_in(reps: pd.DataFrame, month: Month) -> pd.Series:
    """Which reps were employed in ``month``: hired before its end (or no hire date) and not
    gone before its start (or no leaving date)."""
    hired = reps["hired_at"] if "hired_at" in reps else pd.Series(pd.NaT, index=reps.index)
    return (hired.isna() | (hired < month.end)) & ~gone_before(reps, month)


def gone_before(reps: pd.DataFrame, month: Month) -> pd.Series:
    """The ``reps`` rows whose ``left_at`` lies before ``month`` starts: a rep who leaves
    during m still counts in m (no leaving date: still there).

    >>> reps = pd.DataFrame({"left_at": pd.to_datetime(["2026-02-15", None])})
    >>> gone_before(reps, Month.parse("2026-03")).tolist()
    [True, False]
    """
    if "left_at" not in reps:
        return pd.Series(False, index=reps.index)
    return (reps["left_at"] < month.start).fillna(False).astype(bool)


@source("selling_reps", ("orders|opportunities.rep_id",), ("selling_reps",), by_account=True)
def selling_reps(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Selling reps of each month, counted per scope (DATA_CONTRACT.md "A selling rep in
    m"): a rep id that owns a deal created or closed, or an order line (its ``rep_id``,
    else its account's rep), in m or the two months before, and has not left before m
    (``reps.left_at``); counted even when ``reps`` misses it (then for ``unassigned``).
    Managers and users who never own a deal or an order line are not counted.

    Example: a deal of R1 created in January counts R1 in January, February and March;
    had R1 left on 15 February, in January and February only."""
    seen = _selling_months(ms).astype({"rep": object, "mi": "int64"})
    # a rep sells in m when it acted in m-2..m
    rows = pd.concat([seen.assign(mi=seen["mi"] + k) for k in range(3)], ignore_index=True)
    rows = rows[rows["mi"].between(ms.first.index, ms.last.index)].drop_duplicates()
    if ms.ds.has("reps", "rep_id", "left_at"):
        r = ms.ds.frame("reps").dropna(subset=["rep_id"])
        keep = pd.Series(True, index=rows.index)
        for mi in rows["mi"].unique():
            # gone before m: left before its start (a rep listed twice: on every row)
            before = gone_before(r, Month(int(mi)))
            gone = set(r.loc[before, "rep_id"]) - set(r.loc[~before, "rep_id"])
            keep &= ~((rows["mi"] == mi) & rows["rep"].isin(gone))
        rows = rows[keep]
    teams = rep_teams(ms.ds)
    rows = rows.assign(team=[team_of(x, teams) for x in rows["rep"]], selling_reps=1)
    base = rows.astype({"rep": object, "team": object, "mi": "int64"})[BASE + ["selling_reps"]]
    return ms.roll_up(base, st)


def _selling_months(ms: Measures) -> pd.DataFrame:
    """(rep, mi): the distinct rep ids owning a deal created or closed, or an order line,
    in month mi, for the months first-2..last."""
    start, end = ibis.timestamp((ms.first - 2).start), ibis.timestamp(ms.end)
    parts = []

    def dated(t: ibis.Table, column: str, rep: str) -> None:
        t = t.filter(t[rep].notnull() & (t[column] >= start) & (t[column] < end))
        parts.append(t.select(rep=t[rep], mi=month_of(t[column])))

    if ms.ds.has("opportunities", "rep_id"):
        o = ms.ds.table("opportunities")
        for column in ("created_at", "closed_at"):
            if column in o.columns:
                dated(o, column, "rep_id")
    if ms.ds.has("orders"):
        o = ms.ds.table("orders")
        o = o.filter((o.ordered_at >= start) & (o.ordered_at < end))
        rep = "rep_id" if "rep_id" in o.columns else None
        dated(ms.with_account_rep(o, rep), "ordered_at", "_owner_rep")
    both = parts[0]
    for other in parts[1:]:
        both = both.union(other, distinct=False)
    return both.distinct().to_pandas()


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
