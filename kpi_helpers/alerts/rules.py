"""Threshold alerts: rules in ``kpi.toml``, checked against the month's tidy KPI rows.

Each ``[[alerts]]`` table of ``kpi.toml`` is one rule (see :mod:`kpi_helpers.core.config` for
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
- ``pace_below = true`` (sales_revenue or monthly_sales_bookings, company or teams):
  the quarter's pace (``models.pacing``: QTD actual + the forecast of its remaining
  months) is under the quarter's target, and so is the top of its 80 % interval.

Example::

    rules = parse_rules([{"kpi": "win_rate", "scope": "team:*", "below": 20}], "kpi.toml")
    rows = rows_for_rules(ds, rules, "2026-05", cfg)     # the rows the rules need
    for alert in evaluate(rules, rows, "2026-05", cfg):
        print(alert.scope_label, alert.value_text, alert.rule)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kpi_helpers.catalog import (
    CATALOG,
    KPI,
    PACED,
    PERCENT,
    REGISTRY,
    SCORE,
    did_you_mean_kpi,
    format_value,
    get,
    scope_label,
)
from kpi_helpers.core import Config, KitError, did_you_mean

THRESHOLDS = ("below", "above", "change_below", "change_above")
FLAGS = ("turns_red", "outside_range", "pace_below")
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
        words = condition_words(self, currency)
        line = f"{what}, {_scope_words(self.scope)}: {words}"
        return f"{self.name}: {line}" if self.name else line


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


def rules_of(cfg: Config) -> list[AlertRule]:
    """The ``[[alerts]]`` rules of a loaded ``kpi.toml`` (``cfg.alert_tables``), parsed
    and checked (:func:`parse_rules`); ``[]`` when it has none.

    >>> rules_of(Config(alert_tables=[{"kpi": "win_rate", "below": 20}]))[0].kind
    'below'
    """
    return [] if cfg.alert_tables == [] else parse_rules(cfg.alert_tables, cfg.file)


def _parse_rule(table: object, number: int, file: str) -> AlertRule:
    where = f"{file}: [[alerts]] #{number}"
    if not isinstance(table, dict):
        raise KitError(f"{where} must be a table of keys (kpi, scope, a condition).")
    unknown = [k for k in table if k not in RULE_KEYS]
    if unknown:
        raise KitError(
            f"{where}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], RULE_KEYS)}; "
            f"a rule has kpi, scope, name and one of {', '.join(CONDITIONS)}."
        )
    conditions = [k for k in CONDITIONS if k in table]
    if len(conditions) != 1:
        found = f"{' and '.join(conditions)}" if conditions else "none"
        raise KitError(
            f"{where}: give exactly one condition (found {found}): below, above, "
            "change_below, change_above (a number) or turns_red, outside_range, pace_below "
            "(= true)."
        )
    kind = conditions[0]
    kpi_id = _parse_kpi(table.get("kpi"), kind, where)
    if kind == "pace_below" and kpi_id not in PACED:
        raise KitError(
            f"{where}: pace_below is checked on {' and '.join(PACED)} (the KPIs with a "
            f"quarter's pace), not on {kpi_id!r}."
        )
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
        if kind not in ("turns_red", "outside_range"):
            raise KitError(
                f'{where}: kpi = "*" (every KPI) works only with turns_red or outside_range; '
                f"{kind} needs one KPI, since a threshold is in that KPI's unit."
            )
        return EVERY
    text = str(value)
    if text not in REGISTRY:
        raise KitError(
            f"{where}: kpi {text!r} is not a KPI{did_you_mean_kpi(text)}; "
            "`kpi-kit catalog` lists every id."
        )
    kpi = get(text)
    if kpi.is_table:
        scalars = [k.id for k in CATALOG if not k.is_table]
        raise KitError(
            f"{where}: kpi {text!r} is a table, not one number; alerts need a scalar "
            f"KPI{did_you_mean_kpi(text, scalars)}."
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


# ------------------------------------------------------------------ evaluation


# ------------------------------------------------------------------ words


def change_unit_of(kpi: KPI) -> str:
    """What ``mom_change`` of ``kpi`` is in: "pp", "%" or the KPI's unit (signed KPIs),
    as :mod:`kpi_helpers.metrics.compare` computes it.

    >>> change_unit_of(get("win_rate")), change_unit_of(get("sales_revenue"))
    ('pp', '%')
    """
    if kpi.signed:
        return kpi.unit
    return "pp" if kpi.unit in (PERCENT, SCORE) else "%"


def condition_words(rule: AlertRule, currency: str) -> str:
    if rule.kind == "turns_red":
        return "turns red"
    if rule.kind == "outside_range":
        return f"leaves its {RANGE_MONTHS}-month range"
    if rule.kind == "pace_below":
        return "on pace to miss the quarter's target"
    kpi = get(rule.kpi)
    if rule.kind in ("below", "above"):
        return f"{rule.kind} {format_value(rule.threshold, kpi.unit, currency)}"
    return change_words(rule.kind, rule.threshold, change_unit_of(kpi), currency)


def _scope_words(scope: str) -> str:
    if scope in ("team:*", "rep:*"):
        return f"every {scope.partition(':')[0]}"
    return "company" if scope == "company" else scope_label(scope)


# ------------------------------------------------------------------ output


def _amount(x: float, unit: str, currency: str) -> str:
    """A threshold of a change: "10 %", "2.5 pp", "$5,000"."""
    if unit in ("pp", "%"):
        return f"{x:,.10g} {unit}"
    return format_value(x, unit, currency)


def change_words(kind: str, t: float, unit: str, currency: str) -> str:
    size = _amount(abs(t), unit, currency)
    if kind == "change_below":
        if t < 0:
            return f"fell more than {size} month over month"
        return "fell month over month" if t == 0 else f"changed less than +{size} month over month"
    if t > 0:
        return f"rose more than {size} month over month"
    return "rose month over month" if t == 0 else f"changed more than -{size} month over month"
