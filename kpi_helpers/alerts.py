"""Threshold alerts: rules in ``kpi.toml``, checked against the month's tidy KPI rows.

Each ``[[alerts]]`` table of ``kpi.toml`` is one rule (see :mod:`kpi_helpers.config` for
the keys and examples). A rule names a KPI (or ``"*"``), a scope and exactly one
condition, checked on the row of month m with status ``ok``:

- ``below = x`` / ``above = x``: value < x / value > x, in the KPI's unit as the tidy
  frame stores it (percent KPIs in percent points: ``below = 20`` on win_rate fires
  for 19.5, i.e. 19.5 %).
- ``change_below = x`` / ``change_above = x``: ``mom_change`` < x / > x, in the KPI's
  ``change_unit``: points (pp) for percent and score KPIs, the KPI's own unit for
  signed KPIs (gap to target, net new MRR, EVA), else the relative change in %,
  (value - previous) / |previous| x 100. Example: sales revenue $90k after $100k has
  mom_change -10, so ``change_below = -5`` fires and ``change_below = -10`` does not.
- ``turns_red = true``: the RAG of m is red and that of m-1 is not (only KPIs with a
  target have a RAG).
- ``outside_range = true``: the value is above the maximum or below the minimum of the
  ``ok`` values of m-12..m-1; with fewer than ``MIN_HISTORY`` (6) such values the rule is
  not checked for that scope and a note says so (it never fires on a short history).

Example::

    rules = parse_rules([{"kpi": "win_rate", "scope": "team:*", "below": 20}], "kpi.toml")
    rows = rows_for_rules(ds, rules, "2026-05", cfg)     # the rows the rules need
    for alert in evaluate(rules, rows, "2026-05", cfg):
        print(alert.scope_label, alert.value_text, alert.rule)
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from . import charts
from .contract import UNASSIGNED_TEAM
from .errors import KitError
from .months import Month
from .pages import TREND_MONTHS, scope_label
from .registry import CATALOG, KPI, PERCENT, REGISTRY, SCORE, get
from .settings import Config

THRESHOLDS = ("below", "above", "change_below", "change_above")
FLAGS = ("turns_red", "outside_range")
CONDITIONS = THRESHOLDS + FLAGS
RULE_KEYS = ("kpi", "scope", "name", *CONDITIONS)
MIN_HISTORY = 6  # ok values of the 12 months before m that outside_range needs
RANGE_MONTHS = 12
EVERY = "*"


@dataclass(frozen=True)
class AlertRule:
    """One ``[[alerts]]`` table: KPI id (alias resolved) or ``*``, scope, condition.

    ``kind`` is one of ``CONDITIONS``; ``threshold`` is None for ``turns_red`` and
    ``outside_range``; ``number`` is the table's place in the file (1 = the first)."""

    kpi: str
    kind: str
    threshold: float | None = None
    scope: str = "company"
    name: str = ""
    number: int = 1

    @property
    def label(self) -> str:
        """How messages name the rule: ``[[alerts]] #2``."""
        return f"[[alerts]] #{self.number}"

    def text(self, currency: str = "USD") -> str:
        """The rule in words, e.g. "Win rate, every team: below 20.0 %".

        >>> AlertRule("win_rate", "below", 20.0, "team:*").text()
        'Win rate, every team: below 20.0 %'
        >>> AlertRule("*", "turns_red", name="Targets").text()
        'Targets: every KPI, company: turns red'
        """
        what = "every KPI" if self.kpi == EVERY else get(self.kpi).name
        words = _condition_words(self, currency)
        line = f"{what}, {_scope_words(self.scope)}: {words}"
        return f"{self.name}: {line}" if self.name else line


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

    def as_dict(self) -> dict[str, Any]:
        """The alert as ``data/alerts.json`` and ``kpi-kit alerts --format json`` hold it."""
        return asdict(self)


@dataclass
class AlertCheck:
    """What :func:`check` found: the alerts in order, and notes on what could not be
    checked (a history too short for ``outside_range``)."""

    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ rules from kpi.toml


def parse_rules(tables: object, file: str = "kpi.toml") -> list[AlertRule]:
    """The ``[[alerts]]`` tables of ``file`` as rules; one KitError naming the rule, the
    key and the fix for the first bad one.

    >>> parse_rules([{"kpi": "win_rate", "below": 20}])[0]
    AlertRule(kpi='win_rate', kind='below', threshold=20.0, scope='company', name='', number=1)
    """
    if not isinstance(tables, list):
        raise KitError(
            f"{file}: alerts must be a list of tables, written [[alerts]] (two brackets)."
        )
    return [_parse_rule(t, i, file) for i, t in enumerate(tables, start=1)]


def _parse_rule(table: object, number: int, file: str) -> AlertRule:
    where = f"{file}: [[alerts]] #{number}"
    if not isinstance(table, dict):
        raise KitError(f"{where} must be a table of keys (kpi, scope, a condition).")
    unknown = [k for k in table if k not in RULE_KEYS]
    if unknown:
        raise KitError(
            f"{where}: unknown key {unknown[0]!r}{_did_you_mean(unknown[0], RULE_KEYS)}; "
            f"a rule has kpi, scope, name and one of {', '.join(CONDITIONS)}."
        )
    conditions = [k for k in CONDITIONS if k in table]
    if len(conditions) != 1:
        found = f"{' and '.join(conditions)}" if conditions else "none"
        raise KitError(
            f"{where}: give exactly one condition (found {found}): below, above, "
            "change_below, change_above (a number) or turns_red, outside_range (= true)."
        )
    kind = conditions[0]
    kpi_id = _parse_kpi(table.get("kpi"), kind, where)
    threshold = None
    value = table[kind]
    if kind in FLAGS:
        if value is not True:
            raise KitError(f"{where}: write {kind} = true (not {value!r}), or leave it out.")
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise KitError(
                f"{where}: {kind} must be a number in the KPI's unit (e.g. {kind} = 20), "
                f"not {value!r}."
            )
        if not math.isfinite(value):
            raise KitError(f"{where}: {kind} must be a finite number, not {value!r}.")
        threshold = float(value)
    name = table.get("name", "")
    if not isinstance(name, str):
        raise KitError(f"{where}: name must be text (a label for the rule), not {name!r}.")
    scope = _parse_scope(table.get("scope", "company"), where)
    return AlertRule(kpi_id, kind, threshold, scope, name.strip(), number)


def _parse_kpi(value: object, kind: str, where: str) -> str:
    if value is None:
        raise KitError(f'{where}: kpi is missing: name a KPI id (kpi = "win_rate").')
    if value == EVERY:
        if kind not in FLAGS:
            raise KitError(
                f'{where}: kpi = "*" (every KPI) works only with turns_red or outside_range; '
                f"{kind} needs one KPI, since a threshold is in that KPI's unit."
            )
        return EVERY
    text = str(value)
    if text not in REGISTRY:
        raise KitError(
            f"{where}: kpi {text!r} is not a KPI{_did_you_mean(text, REGISTRY)}; "
            "`kpi-kit catalog` lists every id."
        )
    kpi = get(text)
    if kpi.is_table:
        scalars = [k.id for k in CATALOG if not k.is_table]
        raise KitError(
            f"{where}: kpi {text!r} is a table, not one number; alerts need a scalar "
            f"KPI{_did_you_mean(text, scalars)}."
        )
    return kpi.id


def _parse_scope(value: object, where: str) -> str:
    text = str(value).strip()
    kind, colon, name = text.partition(":")
    if text == "company" or (kind in ("team", "rep") and colon and name.strip()):
        return f"{kind}:{name.strip()}" if colon else text
    hint = f" (every {kind}: {kind}:*)" if text in ("team", "rep") else ""
    raise KitError(
        f"{where}: scope {value!r} is not a scope{hint}; use company, team:NAME, team:*, "
        "rep:ID or rep:*."
    )


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


# ------------------------------------------------------------------ the rows rules need


def scalar_ids() -> list[str]:
    """The KPIs ``kpi = "*"`` checks: every scalar formula KPI (model KPIs have neither a
    history nor a target, so neither flag could fire on them)."""
    return [k.id for k in CATALOG if not (k.is_table or k.is_model or k.alias_of)]


def needed_scopes(rules: list[AlertRule]) -> list[str]:
    """The ``kpis.compute`` scopes the rules read, e.g. ``team:*`` -> ``team``,
    ``rep:R1`` -> ``rep:R1``; a named scope is dropped when its whole type is needed.

    >>> needed_scopes([AlertRule("win_rate", "below", 1.0, "rep:*"),
    ...                AlertRule("win_rate", "below", 1.0, "rep:R1")])
    ['rep']
    """
    wanted = dict.fromkeys(r.scope.replace(":*", "") for r in rules)
    return [s for s in wanted if s.partition(":")[0] not in wanted or ":" not in s]


def needed_kpis(rules: list[AlertRule]) -> list[str]:
    """The KPI ids the rules read (every scalar formula KPI when one rule has ``*``)."""
    if any(r.kpi == EVERY for r in rules):
        return scalar_ids() + [r.kpi for r in rules if r.kpi not in scalar_ids() + [EVERY]]
    return list(dict.fromkeys(r.kpi for r in rules))


def rows_for_rules(
    ds: Any,
    rules: list[AlertRule],
    month: str,
    config: Config | None = None,
    have: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The tidy KPI rows (``kpis.compute`` columns plus ``key``, the scope as text) that
    ``rules`` read: month m and the 12 before it, only the scopes and KPIs they name.

    ``have`` (rows already computed, with ``key``, e.g. a snapshot's) is used as is:
    only scopes it lacks are computed from ``ds`` (a ``Dataset``). Named teams and reps
    are checked first, so an unknown one is an error naming the rule.
    """
    from . import kpis as kpi_api  # the engine (Ibis) only when computing
    from .engine import Scope
    from .measures import rep_teams

    _check_names(rules, rep_teams(ds))
    present = set(have["key"]) if have is not None and len(have) else set()
    specs = [s for s in needed_scopes(rules) if s not in present]
    frames = [have] if present else []
    if specs:
        ids = needed_kpis(rules)
        got = kpi_api.compute(ds, month, months=TREND_MONTHS, scope=specs, kpis=ids, config=config)
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
) -> AlertCheck:
    """:func:`check` of ``rules`` for ``month`` on the rows :func:`rows_for_rules`
    computes from ``ds`` (reusing ``have``): what ``kpi-kit alerts``, a pack's snapshot and
    a live summary page all run."""
    from .measures import rep_teams  # the engine (Ibis) only when computing

    rows = rows_for_rules(ds, rules, month, config, have)
    return check(rules, rows, month, config, rep_teams(ds))


def _check_names(rules: list[AlertRule], teams_of_reps: dict[str, str]) -> None:
    teams = sorted(set(teams_of_reps.values()) | {UNASSIGNED_TEAM})
    for rule in rules:
        kind, _, name = rule.scope.partition(":")
        if kind == "team" and name != EVERY and name not in teams:
            raise KitError(
                f"{rule.label}: scope {rule.scope!r}: the data has no team {name!r}"
                f"{_did_you_mean(name, teams)}; teams are: {', '.join(teams)}."
            )
        if kind == "rep" and name != EVERY and teams_of_reps and name not in teams_of_reps:
            raise KitError(
                f"{rule.label}: scope {rule.scope!r}: the data has no rep {name!r}"
                f"{_did_you_mean(name, teams_of_reps)}; reps are ids from the reps table."
            )


# ------------------------------------------------------------------ evaluation


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
) -> AlertCheck:
    """:func:`evaluate`, with notes on the scopes a rule could not check.

    ``teams_of_reps`` (rep id -> team) fills each rep alert's ``team``. A named team or
    rep without any row is a KitError naming the teams (or reps) the rows have."""
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
        scope_keys = _scope_keys(rule, keys)
        place = {k: i for i, k in enumerate(scope_keys)}
        rows = now[now["key"].isin(place)]
        if rule.kpi != EVERY:
            rows = rows[rows["kpi"] == rule.kpi]
        else:
            rows = rows[rows["kpi"].isin(scalar_ids())]
        fired, notes = _fires(rule, rows, before, history, cfg)
        found.notes += notes
        fired = fired.assign(
            _s=fired["key"].map(place), _k=fired["kpi"].map(kpi_rank).fillna(-1)
        ).sort_values(["_s", "_k"], kind="stable")
        for r in fired.to_dict("records"):
            found.alerts.append(_alert(rule, r, str(m), cfg, teams_of_reps or {}))
    return found


def _ordered_keys(keys) -> list[str]:
    """Company first, then teams, then reps, each by name."""
    kinds = {"company": 0, "team": 1, "rep": 2}
    return sorted(map(str, keys), key=lambda k: (kinds.get(k.partition(":")[0], 3), k))


def _scope_keys(rule: AlertRule, keys: list[str]) -> list[str]:
    kind, _, name = rule.scope.partition(":")
    if kind == "company":
        return ["company"]
    same = [k for k in keys if k.startswith(kind + ":")]
    if name == EVERY:
        return same
    if rule.scope not in keys:
        known = ", ".join(k.partition(":")[2] for k in same) or "none"
        raise KitError(
            f"{rule.label}: scope {rule.scope!r}: the data has no {kind} {name!r}; "
            f"{kind}s are: {known}."
        )
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
        value_text=charts.format_kpi(kpi, value, cfg.currency),
        rule=_fired_words(rule, kpi, row, cfg),
        kind=rule.kind,
        threshold=rule.threshold,
        team=teams.get(name, UNASSIGNED_TEAM) if kind == "rep" else "",
        rule_name=rule.name,
    )


# ------------------------------------------------------------------ words


def change_unit_of(kpi: KPI) -> str:
    """What ``mom_change`` of ``kpi`` is in: "pp", "%" or the KPI's unit (signed KPIs),
    as :mod:`kpi_helpers.compare` computes it.

    >>> change_unit_of(get("win_rate")), change_unit_of(get("sales_revenue"))
    ('pp', '%')
    """
    if kpi.signed:
        return kpi.unit
    return "pp" if kpi.unit in (PERCENT, SCORE) else "%"


def _amount(x: float, unit: str, currency: str) -> str:
    """A threshold of a change: "10 %", "2.5 pp", "$5,000"."""
    if unit in ("pp", "%"):
        return f"{x:,.10g} {unit}"
    return charts.format_value(x, unit, currency)


def _change_words(kind: str, t: float, unit: str, currency: str) -> str:
    size = _amount(abs(t), unit, currency)
    if kind == "change_below":
        if t < 0:
            return f"fell more than {size} month over month"
        return "fell month over month" if t == 0 else f"changed less than +{size} month over month"
    if t > 0:
        return f"rose more than {size} month over month"
    return "rose month over month" if t == 0 else f"changed more than -{size} month over month"


def _condition_words(rule: AlertRule, currency: str) -> str:
    if rule.kind == "turns_red":
        return "turns red"
    if rule.kind == "outside_range":
        return f"leaves its {RANGE_MONTHS}-month range"
    kpi = get(rule.kpi)
    if rule.kind in ("below", "above"):
        return f"{rule.kind} {charts.format_value(rule.threshold, kpi.unit, currency)}"
    return _change_words(rule.kind, rule.threshold, change_unit_of(kpi), currency)


def _fired_words(rule: AlertRule, kpi: KPI, row: dict, cfg: Config) -> str:
    """The rule as it fired, e.g. "turned red (attainment 84 %, amber from 90 %)"."""
    if rule.kind in ("below", "above"):
        return _condition_words(rule, cfg.currency)
    if rule.kind in ("change_below", "change_above"):
        words = _change_words(rule.kind, rule.threshold, row["change_unit"], cfg.currency)
        return (
            f"{words} ({charts.format_change(row['mom_change'], row['change_unit'], cfg.currency)})"
        )
    if rule.kind == "turns_red":
        # one decimal, rounded away from the bound it crossed: 89.97 % reads 89.9 %, not 90
        att = row["attainment"]
        if att is None or not math.isfinite(att):  # a target of 0 on a lower-is-better KPI
            target = row.get("target")
            known = target is not None and math.isfinite(target)
            shown = charts.format_value(target, kpi.unit, cfg.currency) if known else ""
            return f"turned red (target {shown})" if known else "turned red"
        if kpi.better == "down":  # red above target x 100 / amber (the score is inverted)
            shown = math.ceil(att * 10) / 10
            return (
                f"turned red ({shown:.1f} % of target, amber up to {10000 / cfg.rag_amber:.1f} %)"
            )
        shown = math.floor(att * 10) / 10
        return f"turned red (attainment {shown:.1f} %, amber from {cfg.rag_amber:g} %)"
    # full precision, like the value: a rounded bound could look like the value itself
    low, high = (charts.format_value(row[b], kpi.unit, cfg.currency) for b in ("low", "high"))
    return f"left its {int(row['known'])}-month range {low}–{high}"


def _scope_words(scope: str) -> str:
    if scope in ("team:*", "rep:*"):
        return f"every {scope.partition(':')[0]}"
    return "company" if scope == "company" else scope_label(scope)


# ------------------------------------------------------------------ output


def format_text(found: AlertCheck, month: str, rules: int) -> str:
    """``kpi-kit alerts`` text: one line per alert, the notes, then the count."""
    lines = [f"{a.name} · {a.scope_label}: {a.value_text} — {a.rule}" for a in found.alerts]
    lines += [f"note: {n}" for n in found.notes]
    n = len(found.alerts)
    count = f"{n} alert(s)" if n else "No alerts"
    lines.append(f"{count} for {month} ({rules} rule(s) checked).")
    return "\n".join(lines)
