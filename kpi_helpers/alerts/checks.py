"""Checking alert rules: the tidy KPI rows the rules read (computed, or a snapshot's), which
rules fire for which scope in month m, and the alerts and notes in words.

    found = check_dataset(ds, rules_of(cfg), "2026-05", cfg)
    print(format_text(found, "2026-05", len(rules_of(cfg))))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from kpi_helpers import kpis as kpi_api
from kpi_helpers.catalog import KPI, format_change, format_kpi, format_value, get, scope_label
from kpi_helpers.core import Config, KitError, Month
from kpi_helpers.drivers import driver_line, explain_many, why_line
from kpi_helpers.metrics import Scope, check_known, check_scope, rep_teams, team_of
from kpi_helpers.models.pacing import PACE_SCOPES, pacing

from .rules import (
    EVERY,
    MIN_HISTORY,
    RANGE_MONTHS,
    AlertRule,
    change_words,
    condition_words,
    needed_kpis,
    needed_scopes,
    scalar_ids,
)


@dataclass
class Alert:
    """A rule that fired for one scope and KPI in one month (see ``as_dict``)."""

    kpi: str
    name: str  # the KPI's name
    scope: str  # company, team:NAME or rep:ID
    scope_label: str  # Team EMEA
    month: str
    value: float | None
    value_text: str  # $1.2M, 19.5 %
    rule: str  # in words: "below 20.0 %"
    kind: str
    threshold: float | None
    team: str = ""  # a rep's team (for the team's page); "" for company and team alerts
    rule_name: str = ""  # the rule's own ``name``, if it has one
    # why it moved since last month: the top one or two drivers ("Team EMEA explains 71 %
    # (-14)") and the line that says both ("Deals closed (won) fell 18.0 %: Team EMEA
    # explains 71 % (-14)"); empty when the KPI has no exact split or nothing moved
    drivers: list[str] = field(default_factory=list)
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The alert as ``data/alerts.json`` and ``kpi-kit alerts --format json`` hold it."""
        return asdict(self)


@dataclass
class AlertCheck:
    """What :func:`check` found: the alerts in order, and notes on what could not be
    checked (a history too short for ``outside_range``)."""

    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rows_for_rules(
    ds: Any,
    rules: list[AlertRule],
    month: str,
    config: Config | None = None,
    have: pd.DataFrame | None = None,
    period: str = "month",
) -> pd.DataFrame:
    """The tidy KPI rows (``kpis.compute`` columns plus ``key``, the scope as text) that
    ``rules`` read: month m and the 12 before it, only the scopes and KPIs they name
    (``period`` "quarter" or "year": the period holding m and the 12 before it).

    ``have`` (rows already computed, with ``key``, e.g. a snapshot's) is used as is:
    only scopes it lacks are computed from ``ds`` (a ``Dataset``). Named teams and reps
    are checked first, so an unknown one is an error naming the rule.
    """
    _check_names(ds, rules)
    present = set(have["key"]) if have is not None and len(have) else set()
    specs = [s for s in needed_scopes(rules) if s not in present]
    frames = [have] if present else []
    if specs:
        ids = needed_kpis(rules)
        months = RANGE_MONTHS + 1  # m and the 12 months before it
        got = kpi_api.compute(
            ds, month, months=months, scope=specs, kpis=ids, config=config, period=period
        )
        got["key"] = [
            str(Scope.of_row(t, s)) for t, s in zip(got["scope_type"], got["scope"], strict=True)
        ]
        frames.append(got[~got["key"].isin(present)])
    if not frames:
        return pd.DataFrame(columns=[*kpi_api.TIDY_COLUMNS, "key"])
    return pd.concat(frames, ignore_index=True)


def check_dataset(
    ds: Any,
    rules: list[AlertRule],
    month: str,
    config: Config | None = None,
    have: pd.DataFrame | None = None,
    pace: list[dict] | None = None,
    period: str = "month",
) -> AlertCheck:
    """:func:`check` of ``rules`` for ``month`` on the rows :func:`rows_for_rules`
    computes from ``ds`` (reusing ``have``): what ``kpi-kit alerts``, a pack's snapshot and
    a live summary page all run. ``pace_below`` reads ``pace`` (a snapshot's pacing) and
    makes the pace of the company and teams it lacks (``models.pacing.pacing``).
    ``period`` "quarter" (or "year"): the rules read the rows of the period holding
    ``month`` (its last month with data) against the periods before it
    (:func:`period_steps`): ``below 100`` on ``sales_target_attainment`` is the
    quarter's attainment of the quarter's target."""
    rows = rows_for_rules(ds, rules, month, config, have, period)
    if period != "month":
        rows = period_steps(rows, month)
    if any(r.kind == "pace_below" for r in rules):
        pace = list(pace or [])
        known = {p["key"] for p in pace}
        keys = [k for k in _ordered_keys(rows["key"].unique()) if k not in known]
        for key in keys:
            if key.partition(":")[0] in PACE_SCOPES:
                pace += pacing(ds, month, key, config)
    found = check(rules, rows, month, config, rep_teams(ds), pace)
    add_drivers(found, ds, month, config, rows, period)
    return found


def period_steps(rows: pd.DataFrame, month: str) -> pd.DataFrame:
    """Period rows (``kpis.compute(..., period="quarter")``) set one step apart so that
    the monthly rules read them: the latest period's rows get ``month`` (its last month
    with data), the period before it ``month`` - 1, and so on. A change "month over
    month" is then quarter over quarter, a 12-month range the 12 periods before.

    >>> rows = pd.DataFrame({"period_start": ["2026-07", "2026-10"],
    ...                      "month": ["2026-09", "2026-11"], "value": [1.0, 2.0]})
    >>> period_steps(rows, "2026-11")["month"].tolist()
    ['2026-10', '2026-11']
    """
    if rows.empty:
        return rows
    starts = sorted(rows["period_start"].unique())
    last = Month.parse(str(month))
    step = {s: str(last - (len(starts) - 1 - i)) for i, s in enumerate(starts)}
    return rows.assign(month=rows["period_start"].map(step))


def add_drivers(
    found: AlertCheck,
    ds: Any,
    month: str,
    config: Config | None = None,
    rows: pd.DataFrame | None = None,
    period: str = "month",
) -> AlertCheck:
    """Fill each alert's ``drivers`` and ``why``: its top one or two drivers against the
    month before (``period`` "quarter" or "year": the period before) in one
    ``drivers.explain_many`` batch for every alert (all the reps of a ``rep:*`` rule
    too); ``rows``: the tidy KPI rows already computed. An alert whose KPI has no exact
    split, or a KPI the batch cannot explain, keeps none. Returns ``found``.

    Example: an alert "Deals closed (won) · Team EMEA: 20 — below 25" gets ``why``
    "Deals closed (won) fell 41.2 %: Rep Ana explains 71 % (-10)".
    """
    cfg = config or Config()
    wanted = [a for a in found.alerts if get(a.kpi).formula is not None]
    if not wanted:
        return found
    kpis = list(dict.fromkeys(a.kpi for a in wanted))
    scopes = list(dict.fromkeys(a.scope for a in wanted))
    now = None
    if rows is not None and len(rows):
        now = rows[(rows["month"] == str(month)) & rows["key"].isin(scopes)]
    try:
        got = explain_many(
            ds, kpis, scopes, str(month), ("previous",), cfg, rows=now, period=period
        )
    except KitError:  # the alerts stand without their drivers
        return found
    for a in wanted:
        e = got.get((a.kpi, a.scope, "previous"))
        if e is not None and e.drivers:
            k = get(a.kpi)
            word = "rise" if e.change > 0 else "fall"
            top = e.drivers[:2]
            a.drivers = [driver_line(k, d, p, cfg.currency, word, e.names) for d, p in top]
            a.why = why_line(e, k, cfg.currency)
    return found


def _check_names(ds: Any, rules: list[AlertRule]) -> None:
    """Each team or rep a rule names exists in ``ds`` (``metrics.check_scope``); the error
    names the rule: "[[alerts]] #2: scope 'team:EMAE': Unknown team 'EMAE' (did you mean
    EMEA?); teams are: ..."; ``team:*`` and ``rep:*`` name none."""
    teams = rep_teams(ds)
    for rule in rules:
        if rule.scope.partition(":")[2] not in ("", EVERY):
            check_scope(ds, rule.scope, where=f"{rule.label}: scope {rule.scope!r}", teams=teams)


def evaluate(
    rules: list[AlertRule],
    kpi_rows: pd.DataFrame,
    month: str,
    config: Config | None = None,
    teams_of_reps: dict[str, str] | None = None,
) -> list[Alert]:
    """The alerts ``rules`` raise for ``month`` on ``kpi_rows`` (``kpis.compute`` columns
    plus ``key``; m and m-1..m-12), ordered by rule, then scope (company, teams, reps by
    name), then KPI. See :func:`check` for the notes beside them.

    Example: a rule ``win_rate below 20`` and a row win_rate 18.0 (ok) in m gives one
    alert with value 18.0, value_text "18.0 %" and rule "below 20.0 %".
    """
    return check(rules, kpi_rows, month, config, teams_of_reps).alerts


def check(
    rules: list[AlertRule],
    kpi_rows: pd.DataFrame,
    month: str,
    config: Config | None = None,
    teams_of_reps: dict[str, str] | None = None,
    pace: list[dict] | None = None,
) -> AlertCheck:
    """:func:`evaluate`, with notes on the scopes a rule could not check.

    ``teams_of_reps`` (rep id -> team) fills each rep alert's ``team``. A named team or
    rep without any row is a KitError naming the teams (or reps) the rows have.
    ``pace`` (``models.pacing.pacing``'s dicts) is what ``pace_below`` checks: it fires
    where ``below`` is true (pace and the top of its 80 % interval under the target)."""
    cfg = config or Config()
    m = Month.parse(str(month))
    keys = _ordered_keys(kpi_rows["key"].unique()) if len(kpi_rows) else []
    ok = kpi_rows[kpi_rows["status"] == "ok"]
    now = ok[ok["month"] == str(m)]
    before = kpi_rows[kpi_rows["month"] == str(m - 1)]
    history = ok[ok["month"].isin([str(m - i) for i in range(1, RANGE_MONTHS + 1)])]
    kpi_rank = {k: i for i, k in enumerate(scalar_ids())}
    found = AlertCheck()
    for rule in rules:
        scope_keys = _scope_keys(rule, keys, teams_of_reps or {})
        place = {k: i for i, k in enumerate(scope_keys)}
        rows = now[now["key"].isin(place)]
        if rule.kpi != EVERY:
            rows = rows[rows["kpi"] == rule.kpi]
        else:
            rows = rows[rows["kpi"].isin(scalar_ids())]
        if rule.kind == "pace_below":
            found.alerts += _pace_alerts(rule, pace or [], place, str(m), cfg)
            continue
        fired, notes = _fires(rule, rows, before, history, cfg)
        found.notes += notes
        fired = fired.assign(
            _s=fired["key"].map(place), _k=fired["kpi"].map(kpi_rank).fillna(-1)
        ).sort_values(["_s", "_k"], kind="stable")
        for r in fired.to_dict("records"):
            found.alerts.append(_alert(rule, r, str(m), cfg, teams_of_reps or {}))
    return found


def _pace_alerts(
    rule: AlertRule, pace: list[dict], place: dict[str, int], month: str, cfg: Config
) -> list[Alert]:
    """The ``pace_below`` alerts of ``rule``: a paced KPI of a scope in ``place`` whose pace
    and interval top are under the quarter's target, e.g. "on pace for $1.4M this quarter
    (80 %: $1.2M–$1.6M) against a $2.2M target (2026-Q3)"."""
    hits = [p for p in pace if p["key"] in place and p["below"] and (rule.kpi in (EVERY, p["kpi"]))]
    out = []
    for p in sorted(hits, key=lambda p: place[p["key"]]):
        kpi = get(p["kpi"])

        def money(v: float, unit: str = kpi.unit) -> str:
            return format_value(v, unit, cfg.currency)

        words = (
            f"on pace for {money(p['pace'])} this quarter (80 %: {money(p['lower'])}–"
            f"{money(p['upper'])}) against a {money(p['target'])} target ({p['quarter']})"
        )
        out.append(
            Alert(
                kpi=kpi.id,
                name=kpi.name,
                scope=p["key"],
                scope_label=scope_label(p["key"]),
                month=month,
                value=float(p["pace"]),
                value_text=money(p["pace"]),
                rule=words,
                kind=rule.kind,
                threshold=None,
                rule_name=rule.name,
            )
        )
    return out


def _ordered_keys(keys) -> list[str]:
    """Company first, then teams, then reps, each by name."""
    kinds = {"company": 0, "team": 1, "rep": 2}
    return sorted(map(str, keys), key=lambda k: (kinds.get(k.partition(":")[0], 3), k))


def _scope_keys(rule: AlertRule, keys: list[str], teams_of_reps: dict[str, str]) -> list[str]:
    kind, _, name = rule.scope.partition(":")
    if kind == "company":
        return ["company"]
    same = [k for k in keys if k.startswith(kind + ":")]
    if name == EVERY:
        return same
    if rule.scope not in keys:  # no rows: a known scope (nothing fires) or an error
        seen = [k.partition(":")[2] for k in same]
        where = f"{rule.label}: scope {rule.scope!r}"
        check_known(rule.scope, teams_of_reps, seen, where=where)
    return [rule.scope]


def _fires(
    rule: AlertRule,
    rows: pd.DataFrame,
    before: pd.DataFrame,
    history: pd.DataFrame,
    cfg: Config,
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of m on which ``rule`` fires (with what its words need), and notes."""
    t = rule.threshold
    if rule.kind == "below":
        return rows[rows["value"] < t], []
    if rule.kind == "above":
        return rows[rows["value"] > t], []
    if rule.kind == "change_below":
        return rows[rows["mom_change"] < t], []
    if rule.kind == "change_above":
        return rows[rows["mom_change"] > t], []
    if rule.kind == "turns_red":
        red = rows[rows["rag"] == "red"]
        was_red = before[before["rag"] == "red"][["key", "kpi"]].assign(_was=True)
        red = red.merge(was_red, on=["key", "kpi"], how="left")
        return red[red["_was"].isna()].drop(columns="_was"), []
    span = history.groupby(["key", "kpi"])["value"].agg(low="min", high="max", known="count")
    rows = rows.merge(span, left_on=["key", "kpi"], right_index=True, how="left")
    rows["known"] = rows["known"].fillna(0).astype(int)
    short = rows[rows["known"] < MIN_HISTORY]
    notes = []
    if len(short):
        scopes = list(dict.fromkeys(short["key"]))
        shown = ", ".join(scope_label(s) for s in scopes[:5]) + (" ..." if len(scopes) > 5 else "")
        kpis = list(dict.fromkeys(short["kpi"]))
        what = get(kpis[0]).name if len(kpis) == 1 else f"{len(kpis)} KPIs"
        notes.append(
            f"{rule.label} ({rule.text(cfg.currency)}) not checked for {what} in {shown}: "
            f"fewer than {MIN_HISTORY} of the {RANGE_MONTHS} earlier months have a value."
        )
    checked = rows[rows["known"] >= MIN_HISTORY]
    return checked[
        (checked["value"] > checked["high"]) | (checked["value"] < checked["low"])
    ], notes


def _alert(rule: AlertRule, row: dict, month: str, cfg: Config, teams: dict) -> Alert:
    kpi = get(row["kpi"])
    value = None if pd.isna(row["value"]) else float(row["value"])
    scope = str(row["key"])
    kind, _, name = scope.partition(":")
    return Alert(
        kpi=kpi.id,
        name=kpi.name,
        scope=scope,
        scope_label=scope_label(scope),
        month=month,
        value=value,
        value_text=format_kpi(kpi, value, cfg.currency),
        rule=_fired_words(rule, kpi, row, cfg),
        kind=rule.kind,
        threshold=rule.threshold,
        team=team_of(name, teams) if kind == "rep" else "",
        rule_name=rule.name,
    )


def _fired_words(rule: AlertRule, kpi: KPI, row: dict, cfg: Config) -> str:
    """The rule as it fired, e.g. "turned red (attainment 84 %, amber from 90 %)"."""
    if rule.kind in ("below", "above"):
        return condition_words(rule, cfg.currency)
    if rule.kind in ("change_below", "change_above"):
        words = change_words(rule.kind, rule.threshold, row["change_unit"], cfg.currency)
        return f"{words} ({format_change(row['mom_change'], row['change_unit'], cfg.currency)})"
    if rule.kind == "turns_red":
        # one decimal, rounded away from the bound it crossed: 89.97 % reads 89.9 %, not 90
        att = row["attainment"]
        if att is None or not math.isfinite(att):  # a target of 0 on a lower-is-better KPI
            target = row.get("target")
            known = target is not None and math.isfinite(target)
            shown = format_value(target, kpi.unit, cfg.currency) if known else ""
            return f"turned red (target {shown})" if known else "turned red"
        if kpi.better == "down":  # red above target x 100 / amber (the score is inverted)
            shown = math.ceil(att * 10) / 10
            return (
                f"turned red ({shown:.1f} % of target, amber up to {10000 / cfg.rag_amber:.1f} %)"
            )
        shown = math.floor(att * 10) / 10
        return f"turned red (attainment {shown:.1f} %, amber from {cfg.rag_amber:g} %)"
    # full precision, like the value: a rounded bound could look like the value itself
    low, high = (format_value(row[b], kpi.unit, cfg.currency) for b in ("low", "high"))
    return f"left its {int(row['known'])}-month range {low}–{high}"


def format_text(found: AlertCheck, month: str, rules: int) -> str:
    """``kpi-kit alerts`` text: one line per alert, the notes, then the count."""
    lines = [
        f"{a.name} · {a.scope_label}: {a.value_text} — {a.rule}" + (f"\n  {a.why}" if a.why else "")
        for a in found.alerts
    ]
    lines += [f"note: {n}" for n in found.notes]
    n = len(found.alerts)
    count = f"{n} alert(s)" if n else "No alerts"
    lines.append(f"{count} for {month} ({rules} rule(s) checked).")
    return "\n".join(lines)
