"""The rules of the ``targets`` table (DATA_CONTRACT.md), in one place for validation and
for the engine.

A target row sets the goal of one KPI, in one month, for one scope: the company (no
team, no rep), a team (a team, no rep) or a rep (a rep, whatever team the row names).
An empty ``team`` or ``rep_id`` is no team or rep, written as an empty text or left out.
Each (month, kpi, scope) has at most one row: two rows would be added up into a target
nobody set, so they are an error (:func:`duplicate_targets`, :func:`check_unique_targets`).

>>> import pandas as pd
>>> t = pd.DataFrame({"month": ["2026-10", "2026-10"], "kpi": ["sales_revenue"] * 2,
...                   "target": [5.0, 5.0], "team": ["EMEA", "EMEA"], "rep_id": [None, ""]})
>>> list(duplicate_targets(t)["row"])
['2026-10 sales_revenue team EMEA']
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from kpi_helpers.catalog import REGISTRY
from kpi_helpers.core import KitError, did_you_mean

from .findings import ERROR, WARNING, Finding, with_hints

TABLE = "targets"

TARGET_KEY = ("month", "kpi", "team", "rep_id")  # one row per month, kpi and scope
DUPLICATE_FIX = (
    "Keep one row per month, kpi and team/rep_id (delete the repeated rows; if both "
    "were meant, write their sum on one row)."
)


def _names(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` as names, None where empty (missing column, NULL, or blank text)."""
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    values = frame[column].astype(object)
    blank = values.isna() | (values.astype(str).str.strip() == "")
    return values.where(~blank, None)


def target_scopes(frame: pd.DataFrame) -> pd.DataFrame:
    """The scope each row of a targets ``frame`` sets: ``scope_type`` (company, team or
    rep) and ``scope`` (the team or rep; None for the company), beside the rows' ``team``
    and ``rep_id`` read as names (None where empty).

    >>> t = pd.DataFrame({"month": ["2026-10"] * 3, "kpi": ["new_customers"] * 3,
    ...                   "team": ["", "EMEA", "EMEA"], "rep_id": [None, None, "R1"]})
    >>> target_scopes(t)[["scope_type", "scope"]].values.tolist()
    [['company', None], ['team', 'EMEA'], ['rep', 'R1']]
    """
    team, rep = _names(frame, "team"), _names(frame, "rep_id")
    kind = pd.Series("company", index=frame.index, dtype=object)
    kind = kind.mask(team.notna(), "team").mask(rep.notna(), "rep")
    scope = rep.where(rep.notna(), team)
    return frame.assign(team=team, rep_id=rep, scope_type=kind, scope=scope)


def target_label(rows: pd.DataFrame) -> pd.Series:
    """How a finding names target rows: month, KPI and scope (from :func:`target_scopes`).

    >>> t = target_scopes(pd.DataFrame({"month": ["2026-10"], "kpi": ["win_rate"],
    ...                                 "team": ["EMEA"], "rep_id": ["R1"]}))
    >>> target_label(t).tolist()
    ['2026-10 win_rate rep R1']
    """
    scope = rows["scope_type"] + (" " + rows["scope"].fillna("")).str.rstrip()
    return rows["month"].astype(str) + " " + rows["kpi"].astype(str) + " " + scope


def duplicate_targets(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (month, kpi, scope) that a targets ``frame`` sets more than once:
    ``row`` (its label), ``n`` (how many rows) and ``targets`` (their values, in order).
    Rows without a month or a KPI set nothing and are left out. See the module's
    example."""
    t = target_scopes(frame)
    t = t[t["month"].notna() & t["kpi"].notna()]
    # labelled and grouped: the repeated rows only (a large table has few or none)
    t = t[t.duplicated(["month", "kpi", "scope_type", "scope"], keep=False)]
    t = t.assign(row=target_label(t)) if len(t) else t.assign(row=pd.Series(dtype=object))
    values = t["target"] if "target" in t else pd.Series(float("nan"), index=t.index)
    groups = t.assign(target=values).groupby("row", sort=True)["target"]
    out = pd.DataFrame({"n": groups.size(), "targets": groups.agg(list)}).reset_index()
    return out[out["n"] > 1].reset_index(drop=True)


def duplicate_problem(dupes: pd.DataFrame, shown: int = 5) -> str:
    """The sentence that names duplicate targets (from :func:`duplicate_targets`), with
    the rows of the first ``shown``; the same in ``kpi-kit validate`` and in the error
    that stops a computation.

    >>> d = pd.DataFrame({"row": ["2026-10 sales_revenue team EMEA"], "n": [2],
    ...                   "targets": [[5.0, 5.0]]})
    >>> duplicate_problem(d)  # doctest: +ELLIPSIS
    '1 target(s) set by more than one row, ...: 2026-10 sales_revenue team EMEA (2 rows: 5, 5)'
    """
    listed = "; ".join(
        f"{r.row} ({r.n} rows: {', '.join(f'{v:,.10g}' for v in r.targets)})"
        for r in dupes.head(shown).itertuples()
    )
    more = f"; and {len(dupes) - shown} more" if len(dupes) > shown else ""
    return (
        f"{len(dupes)} target(s) set by more than one row, which would be added up: {listed}{more}"
    )


def check_unique_targets(frame: pd.DataFrame) -> None:
    """Raise a :class:`KitError` when a targets ``frame`` sets a target twice: the engine
    never adds two rows up into a target nobody set.

    >>> t = pd.DataFrame({"month": ["2026-10"] * 2, "kpi": ["sales_revenue"] * 2,
    ...                   "target": [5.0, 5.0], "team": ["EMEA"] * 2})
    >>> check_unique_targets(t)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    kpi_helpers.core.errors.KitError: Table targets: 1 target(s) set by more than one row, ...
    """
    dupes = duplicate_targets(frame)
    if len(dupes):
        raise KitError(f"Table targets: {duplicate_problem(dupes)}. {DUPLICATE_FIX}")


def unknown_target_kpis(frame: pd.DataFrame) -> dict[str, str]:
    """The ``kpi`` values of a targets ``frame`` that no KPI reads, each with its hint:
    a close catalog id, or the id an alias stands for (targets are matched on it).

    >>> unknown_target_kpis(pd.DataFrame({"kpi": ["win_rat", "sales_revenue", None]}))
    {'win_rat': ' (did you mean win_rate?)'}
    >>> unknown_target_kpis(pd.DataFrame({"kpi": ["customer_satisfaction"]}))
    {'customer_satisfaction': ' (another name for net_promoter_score: write net_promoter_score)'}
    """
    ids = [k for k, kpi in REGISTRY.items() if not kpi.alias_of]
    hints: dict[str, str] = {}
    for value in sorted(frame["kpi"].dropna().astype(str).unique()):
        kpi = REGISTRY.get(value)
        if kpi is not None and kpi.alias_of:
            hints[value] = f" (another name for {kpi.alias_of}: write {kpi.alias_of})"
        elif kpi is None:
            hints[value] = did_you_mean(value.strip(), ids)
    return hints


def target_findings(
    frame: pd.DataFrame, read_reps: Callable[[], pd.DataFrame] | None
) -> list[Finding]:
    """What ``kpi-kit validate`` finds in a targets ``frame``: targets set twice and KPIs
    that are not catalog ids (errors); with ``read_reps`` (reps is loaded; read only when
    a target names a team or rep), teams and reps that reps does not know, and rep
    targets naming another team than the rep's (warnings).

    >>> t = pd.DataFrame({"month": ["2026-10"], "kpi": ["win_rat"], "target": [40.0]})
    >>> [(f.check, f.examples) for f in target_findings(t, None)]
    [('unknown_kpi', ['2026-10 win_rat company'])]
    """
    t = target_scopes(frame)
    found: list[Finding] = []
    dupes = duplicate_targets(t)
    if len(dupes):
        problem = duplicate_problem(dupes, shown=1)  # the examples name the others
        rows = int(dupes["n"].sum())
        found.append(
            Finding(
                ERROR,
                TABLE,
                "/".join(TARGET_KEY),
                "duplicate_target",
                problem,
                rows,
                dupes["row"].head(5).tolist(),
                DUPLICATE_FIX,
            )
        )
    hints = unknown_target_kpis(t)
    if hints:
        problem = "kpi values that are not KPI ids, so their targets are never used: "
        found.append(
            Finding(
                ERROR,
                TABLE,
                "kpi",
                "unknown_kpi",
                problem + with_hints(hints),
                int(t["kpi"].isin(list(hints)).sum()),
                _rows(t[t["kpi"].isin(list(hints))]),
                "Write the KPI's id as `kpi-kit catalog` lists it.",
            )
        )
    if read_reps is None or (t["team"].isna() & t["rep_id"].isna()).all():
        return found
    return found + _against_reps(t, read_reps())


def _rows(rows: pd.DataFrame) -> list[str]:
    """The first five of target ``rows`` (from :func:`target_scopes`) as a finding's
    examples: the rows to correct, by month, KPI and scope (the problem names the values)."""
    return target_label(rows).head(5).tolist()


def _against_reps(t: pd.DataFrame, reps: pd.DataFrame) -> list[Finding]:
    """Teams and reps of targets (from :func:`target_scopes`) that ``reps`` does not
    know, and rep targets that name another team than the rep's."""
    reps = reps.dropna(subset=["rep_id"])
    team_of = dict(zip(reps["rep_id"], reps["team"], strict=True))
    teams = sorted(set(reps["team"].dropna()))
    known = t["rep_id"].isin(list(team_of))
    found: list[Finding] = []
    team_rows = t[(t["scope_type"] == "team") & ~t["team"].isin(teams)]
    if len(team_rows):
        names = {n: did_you_mean(str(n), teams) for n in team_rows["team"].unique()}
        problem = "team values not found in reps.team, so their targets match no team: "
        found.append(
            Finding(
                WARNING,
                TABLE,
                "team",
                "unknown_team",
                problem + with_hints(names),
                len(team_rows),
                _rows(team_rows),
                "Write the team as reps.team names it, or add the team's reps to reps.",
            )
        )
    rep_rows = t[t["rep_id"].notna() & ~known]
    if len(rep_rows):
        names = {r: did_you_mean(str(r), list(team_of)) for r in rep_rows["rep_id"].unique()}
        found.append(
            Finding(
                WARNING,
                TABLE,
                "rep_id",
                "unknown_rep",
                "rep_id values not found in reps.rep_id: " + with_hints(names),
                len(rep_rows),
                _rows(rep_rows),
                "Add the rep to reps (with its team), or correct targets.rep_id.",
            )
        )
    rep_team = t["rep_id"].map(team_of)
    moved = t[known & t["team"].notna() & rep_team.notna() & (t["team"] != rep_team)]
    if len(moved):
        pairs = zip(moved["rep_id"], moved["team"], strict=True)
        named = list(dict.fromkeys(f"{r} in {team}, not {team_of[r]}" for r, team in pairs))
        more = f" and {len(named) - 5} more" if len(named) > 5 else ""
        found.append(
            Finding(
                WARNING,
                TABLE,
                "team",
                "target_team_mismatch",
                f"rep targets name another team than the rep's in reps ({'; '.join(named[:5])}"
                f"{more}); a rep's target counts for the rep only, whatever team the row names",
                len(moved),
                _rows(moved),
                "Write the rep's team (reps.team) in targets.team, or leave it empty.",
            )
        )
    return found
