"""Scopes: the company, a team or a rep, and the one place that knows which exist.

A scope is written ``company``, ``team:NAME`` or ``rep:ID`` (one scope) or ``team``,
``rep``, ``all`` (every scope of a type). This module owns

- parsing (:class:`Scope`, :func:`parse_scopes`, :func:`one_scope`),
- attribution of reps to teams (:func:`rep_teams`, :func:`team_of`): a rep missing from
  the ``reps`` table, and a row with no rep, belong to the team ``unassigned``,
- validation (:func:`check_known`, :func:`check_scope`): a named team or rep must exist;
  ``unassigned`` always exists (as a team and as a rep) because unattributed rows land
  there; every message reads ``Unknown team 'X' (did you mean Y?); teams are: ...``,
- which scopes a pack covers (:func:`pack_scopes`) and which of them have nothing to show
  (:func:`has_activity`, :func:`quiet_line`).

>>> Scope.parse("team:EMEA"), str(Scope.parse("rep:R1"))
(Scope(kind='team', name='EMEA', team=None), 'rep:R1')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_helpers.core import KitError, did_you_mean
from kpi_helpers.data import UNASSIGNED_TEAM, Dataset

__all__ = [
    "COMPANY",
    "SCOPE_TYPES",
    "UNASSIGNED_TEAM",
    "Scope",
    "check_known",
    "check_scope",
    "has_activity",
    "has_rep_rows",
    "known_names",
    "one_scope",
    "pack_scopes",
    "parse_scopes",
    "quiet_line",
    "rep_teams",
    "selects",
    "team_of",
    "wanted_rows",
]

COMPANY = "company"
SCOPE_TYPES = ("company", "team", "rep")
ONE_SCOPE = "company, team:NAME or rep:ID"
LISTED = 40  # names an unknown-name message lists
# the columns that give a row its rep (DATA_CONTRACT.md): a rep id found in one of them
# is a rep of the data even when the reps table misses it (its rows count for unassigned)
REP_COLUMNS = (
    ("opportunities", "rep_id"),
    ("leads", "rep_id"),
    ("activities", "rep_id"),
    ("orders", "rep_id"),
    ("accounts", "owner_rep_id"),
    ("targets", "rep_id"),
)
# the KPIs whose value shows that a scope has something to report: a deal created, won,
# closed or open, an order, a lead, a customer, an activity (win rate: any deal closed)
ACTIVITY_KPIS = (
    "new_opportunities",
    "deals_won",
    "win_rate",
    "pipeline_value",
    "orders_count",
    "new_leads",
    "active_customers",
    "calls_made",
    "emails_sent",
    "meetings_held",
)


@dataclass(frozen=True)
class Scope:
    """What to compute for: a scope type, optionally one named team or rep.

    ``team`` (rep scopes only, not parsed from text) keeps the reps of one team: the rep
    leaderboard of a team page.
    """

    kind: str  # company, team, rep or all
    name: str | None = None
    team: str | None = None

    @classmethod
    def parse(cls, text: str | Scope) -> Scope:
        """``company``, ``team``, ``rep``, ``all``, ``team:NAME`` or ``rep:ID``."""
        if isinstance(text, Scope):
            return text
        kind, _, name = str(text).partition(":")
        if kind not in (*SCOPE_TYPES, "all") or (name and kind not in ("team", "rep")):
            raise KitError(
                f"Unknown scope {text!r}; use company, team, rep, all, team:NAME or rep:ID."
            )
        return cls(kind, name or None)

    @classmethod
    def of_row(cls, scope_type: str, scope: str) -> Scope:
        """The scope of a tidy row: ``("team", "EMEA")`` -> team:EMEA, the company row ->
        company."""
        return cls(scope_type, None if scope_type == "company" else scope)

    def __str__(self) -> str:
        """The text that parses back: ``company``, ``team``, ``team:EMEA``, ``rep:R1``."""
        return self.kind if self.name is None else f"{self.kind}:{self.name}"

    @property
    def single(self) -> bool:
        """One scope (the company, one team or one rep), not a scope type or ``all``."""
        return self.kind == "company" or self.name is not None

    @property
    def types(self) -> list[str]:
        return list(SCOPE_TYPES) if self.kind == "all" else [self.kind]

    def rows(self) -> frozenset[tuple[str, str]] | None:
        """The attributed rows this scope reads: None = all; else ("_team"|"_rep", value)."""
        if self.name is not None:
            return frozenset({("_team" if self.kind == "team" else "_rep", self.name)})
        if self.team is not None:
            return frozenset({("_team", self.team)})
        return None


def parse_scopes(scope: str | Scope | Iterable[str | Scope]) -> list[Scope]:
    """One scope spec or a list of them (``["company", "team", "rep:r001"]``)."""
    items = [scope] if isinstance(scope, (str, Scope)) else list(scope)
    if not items:
        raise KitError("No scope given: use company, team, rep, all, team:NAME or rep:ID.")
    return [Scope.parse(s) for s in items]


def wanted_rows(scopes: list[Scope]) -> dict[str, frozenset[tuple[str, str]] | None]:
    """Scope type -> the rows it needs (None = every row), over all ``scopes``."""
    out: dict[str, frozenset[tuple[str, str]] | None] = {}
    for sc in scopes:
        for st in sc.types:
            rows = sc.rows()
            if st in out and (out[st] is None or rows is None):
                out[st] = None
            else:
                out[st] = (out.get(st) or frozenset()) | rows if rows is not None else None
    return {st: out[st] for st in SCOPE_TYPES if st in out}


def one_scope(text: str | Scope, what: str) -> Scope:
    """``text`` as one scope (company, team:NAME or rep:ID); ``what`` names the caller in
    the error, e.g. ``one_scope("team", "A forecast")`` raises "A forecast needs one scope
    at a time: company, team:NAME or rep:ID, not 'team'."

    >>> one_scope("rep:R1", "CLV")
    Scope(kind='rep', name='R1', team=None)
    """
    sc = Scope.parse(text)
    if not sc.single:
        raise KitError(f"{what} needs one scope at a time: {ONE_SCOPE}, not {str(text)!r}.")
    return sc


def selects(scope: Scope, scope_type: str, name: str, teams: Mapping[str, str]) -> bool:
    """Whether ``scope`` asks for the row (scope_type, name); ``teams`` is rep -> team."""
    if scope_type not in scope.types:
        return False
    if scope.name is not None:
        return name == scope.name
    if scope.team is not None:  # reps of one team
        return team_of(name, teams) == scope.team
    return True


def rep_teams(ds: Dataset) -> dict[str, str]:
    """rep_id -> team from ``reps`` (the first team when a rep is listed twice), built once
    per dataset (``ds.cache``; read it, never change it)."""
    if not ds.has("reps", "rep_id", "team"):
        return {}
    if "rep_teams" not in ds.cache:
        r = ds.frame("reps")[["rep_id", "team"]].dropna(subset=["rep_id"])
        ds.cache["rep_teams"] = r.groupby("rep_id")["team"].min().dropna().to_dict()
    return ds.cache["rep_teams"]


def team_of(rep: str | None, teams: Mapping[str, str]) -> str:
    """The team a rep's rows count for: its team in ``reps``, else ``unassigned``.

    >>> team_of("R1", {"R1": "EMEA"}), team_of("R9", {"R1": "EMEA"}), team_of(None, {})
    ('EMEA', 'unassigned', 'unassigned')
    """
    return teams.get(rep, UNASSIGNED_TEAM) if rep is not None else UNASSIGNED_TEAM


def known_names(kind: str, teams: Mapping[str, str], seen: Iterable[str] = ()) -> list[str]:
    """The teams (or reps) a scope may name, sorted: those of the ``reps`` table (``teams``
    is rep -> team), those ``seen`` in the data's rows, and ``unassigned``."""
    listed = set(teams.values()) if kind == "team" else set(teams)
    return sorted(listed | set(seen) | {UNASSIGNED_TEAM})


def check_known(
    scope: Scope | str,
    teams: Mapping[str, str],
    seen: Iterable[str] = (),
    where: str = "",
) -> None:
    """Raise one KitError when ``scope`` names a team or rep that does not exist (see
    :func:`known_names`); ``where`` prefixes the message (``kpi.toml: [[alerts]] #2``).

    >>> check_known("team:EMAE", {"R1": "EMEA"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    kpi_helpers.core.errors.KitError: Unknown team 'EMAE' (did you mean EMEA?); teams are: ...
    """
    sc = Scope.parse(scope)
    if sc.name is None or sc.kind not in ("team", "rep"):
        return
    known = known_names(sc.kind, teams, seen)
    if sc.name in known:
        return
    listing = ", ".join(known[:LISTED]) + (" ..." if len(known) > LISTED else "")
    prefix = f"{where}: " if where else ""
    raise KitError(
        f"{prefix}Unknown {sc.kind} {sc.name!r}{did_you_mean(sc.name, known)}; "
        f"{sc.kind}s are: {listing}."
    )


def has_rep_rows(ds: Dataset, rep: str) -> bool:
    """Whether a row of ``ds`` carries the rep id ``rep`` (in one of ``REP_COLUMNS``), e.g.
    ``has_rep_rows(ds, "R9")`` is True when a call of R9 is in ``activities`` although
    ``reps`` has no R9."""
    for table, column in REP_COLUMNS:
        if ds.has(table, column):
            t = ds.table(table)
            if int(t.filter(t[column] == rep).count().execute()) > 0:
                return True
    return False


def check_scope(
    ds: Dataset,
    scope: Scope | str,
    where: str = "",
    teams: Mapping[str, str] | None = None,
) -> Scope:
    """:func:`check_known` against a dataset, for callers without computed rows; returns the
    scope. Known are the teams and reps of the ``reps`` table (``teams``: rep -> team, read
    from ``ds`` when None), ``unassigned``, and a rep id that rows of ``ds`` carry
    (:func:`has_rep_rows`, looked up only for a rep the reps table misses). A team needs no
    look-up: every row's team is a team of the reps table or ``unassigned``.

    Example: ``check_scope(ds, "team:EMAE")`` raises "Unknown team 'EMAE' (did you mean
    EMEA?); teams are: APAC, EMEA, unassigned."
    """
    sc = Scope.parse(scope)
    teams = rep_teams(ds) if teams is None else teams
    seen: tuple[str, ...] = ()
    if sc.kind == "rep" and sc.name is not None and sc.name not in known_names("rep", teams):
        seen = (sc.name,) if has_rep_rows(ds, sc.name) else ()
    check_known(sc, teams, seen, where)
    return sc


def pack_scopes(ds: Dataset) -> tuple[list[str], frozenset[str]]:
    """The scopes of ``kpi-kit pack --scopes all``: the company and every team of the
    ``reps`` table, then ``team:unassigned`` (where rows without a known rep land); and
    the scopes to keep only when they have data (:func:`has_activity`): unassigned when no
    rep of ``reps`` is in it. A team of ``reps`` with no data is left out of the pages and
    named (:func:`quiet_line`); an unassigned team without rows is simply not there.

    Example: reps in APAC and EMEA gives ``(["company", "team:APAC", "team:EMEA",
    "team:unassigned"], frozenset({"team:unassigned"}))``.
    """
    listed = sorted(set(ds.frame("reps")["team"].dropna())) if ds.has("reps", "team") else []
    teams = [f"team:{t}" for t in listed]
    extra = [] if UNASSIGNED_TEAM in listed else [f"team:{UNASSIGNED_TEAM}"]
    return [COMPANY, *teams, *extra], frozenset(extra)


def has_activity(rows: pd.DataFrame) -> bool:
    """Whether one scope's tidy KPI rows (``kpis.compute``: any months) show a deal, an
    order, a lead, a customer or an activity: a non-zero value of one of
    :data:`ACTIVITY_KPIS`, or a win rate (a deal closed). A scope without any gets no pages.

    >>> rows = pd.DataFrame({"kpi": ["deals_won", "win_rate"], "status": ["ok", "undefined"],
    ...                      "value": [0.0, None]})
    >>> has_activity(rows), has_activity(rows.assign(status="ok", value=[0.0, 0.0]))
    (False, True)
    """
    return bool(_showing(rows).any())


def active_keys(rows: pd.DataFrame, key: str = "key") -> list[str]:
    """The values of ``key`` (a pack scope, ``rep:R1``) whose tidy KPI rows show activity
    as :func:`has_activity` reads it, sorted: one pass over every scope's rows (a pack's
    3,258 reps took 18 s one group at a time).

    >>> rows = pd.DataFrame({"key": ["rep:B", "rep:A", "rep:C"], "kpi": ["deals_won"] * 3,
    ...                      "status": ["ok", "ok", "undefined"], "value": [2.0, 0.0, None]})
    >>> active_keys(rows)
    ['rep:B']
    """
    return sorted(rows.loc[_showing(rows), key].unique())


def _showing(rows: pd.DataFrame) -> np.ndarray:
    """Per row of ``rows``: whether it shows activity, an ok value of one of
    :data:`ACTIVITY_KPIS` that is non-zero (any win rate counts). Positional, so the
    rows' index plays no part."""
    ok = rows["kpi"].isin(ACTIVITY_KPIS) & (rows["status"] == "ok")
    shows = (rows["value"].fillna(0) != 0) | (rows["kpi"] == "win_rate")
    return (ok & shows).to_numpy(dtype=bool)


def quiet_reason(n: int = 13, units: str = "months") -> str:
    """Why a scope gets no pages: no data in the ``n`` months (or quarters, years:
    ``units``) of its pack (:func:`has_activity`).

    >>> quiet_reason(8, "quarters")
    'no deals, orders, leads or customers in the 8 quarters'
    """
    return f"no deals, orders, leads or customers in the {n} {units}"


def quiet_line(scope_label: str, through: str, n: int = 13, units: str = "months") -> str:
    """The pack index's line for a scope left out because it has no data in the ``n``
    months (or quarters, years: ``units``) of its pack through ``through``
    (:func:`has_activity`).

    >>> quiet_line("Team unassigned", "2017-12")
    'Team unassigned: no deals, orders, leads or customers in the 13 months to 2017-12; no pages'
    >>> quiet_line("Team unassigned", "FY2027-Q2", 8, "quarters")[15:]
    ': no deals, orders, leads or customers in the 8 quarters to FY2027-Q2; no pages'
    """
    return f"{scope_label}: {quiet_reason(n, units)} to {through}; no pages"
