"""The kit's configuration file, ``kpi.toml``: dataset settings and report choices.

Every key is optional; missing keys take the defaults below. Example::

    source = "data/sample"
    mapping = ""                   # a mapping file, when the source needs one
    currency = "EUR"
    customer_lookback_days = 365
    clv_max_years = 5              # the longest customer lifespan CLV assumes
    clv_discount_rate = 0.01       # monthly, for predictive_clv (kpi-kit clv)
    clv_fit = "company"            # "scope": each team's predictive_clv fits its own orders
    timezone = "Europe/Berlin"     # an IANA name: months begin and end at its midnight
    output = "reports"             # the packs' folder (kpi-kit pack --out, send --reports)
    fiscal_year_start = 1          # 2: FY2027 runs 2026-02..2027-01
    [stage_probability]
    prospecting = 0.1
    negotiation = 0.7
    [rag]
    green = 100                    # attainment (%) at or above: green
    amber = 90                     # at or above: amber; below: red
    [pack]
    notebooks = "my_pages"         # custom pages that join every pack
    [drivers]
    dimensions = ["Vertical__c"]   # extra columns "why it moved" splits by (kpi-kit explain)

    [[alerts]]                     # threshold alerts: one table per rule (kpi_helpers.alerts.rules)
    name = "Win rate too low"      # optional label
    kpi = "win_rate"               # a scalar KPI id, see kpi-kit catalog
    scope = "team:*"               # company (default), team:NAME, team:*, rep:ID, rep:*
    below = 20                     # in the unit the tidy table stores: 20 = 20 %

    [[alerts]]
    kpi = "sales_revenue"
    change_below = -10             # fell more than 10 % month over month
    [[alerts]]
    kpi = "*"                      # every KPI: only with turns_red or outside_range
    scope = "team:*"
    turns_red = true

Alert conditions, exactly one per rule, on month m's value (status ok only):

- ``below`` / ``above``: value < x / value > x, in the KPI's unit as stored: percent
  KPIs in percent points (win_rate 36.5 is 36.5 %), currency in the currency, days...
- ``change_below`` / ``change_above``: the month-over-month change (the tidy column
  ``mom_change``) < x / > x, in its ``change_unit``: points ("pp") for percent and
  score KPIs (win rate 30 % after 36.5 %: -6.5), the KPI's own unit for signed KPIs
  (gap_to_target, net_new_mrr, economic_value_added...: $ -12,000 is -12000), else the
  relative change in % ((value - previous) / |previous| x 100: revenue $90k after $100k
  is -10, so ``change_below = -5`` fires and ``change_below = -10`` does not).
- ``turns_red = true``: the KPI's RAG is red in m and was not red in m-1 (only KPIs
  with a target in the targets table have a RAG).
- ``outside_range = true``: the value is above the maximum or below the minimum of the
  12 months before; at least 6 of them need a value, else the rule is not checked
  (``kpi-kit alerts`` and ``data/alerts.json`` say so) and never fires.
- ``pace_below = true`` (``sales_revenue`` or ``monthly_sales_bookings``, company or
  teams): the quarter's pace (QTD actual + the forecast of its remaining months) is
  under the quarter's target and so is the top of its 80 % interval.

Every key is checked (:class:`Config`): a key the kit does not know is an error with a
"did you mean", and a value of the wrong type or out of range names the key, the value
and what it should be, e.g. ``kpi.toml: customer_lookback_days must be a whole number of
days from 1 to 3650, not "365".`` All the problems of a file come in one message.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import KitError, did_you_mean
from .toml import read_toml

DEFAULT_STAGE_PROBABILITY = {
    "prospecting": 0.1,
    "qualification": 0.2,
    "proposal": 0.5,
    "negotiation": 0.7,
}


# ------------------------------------------------------------------ kinds of value


@dataclass(frozen=True)
class Kind:
    """What a setting's value must be: ``expected`` says it in words (for the message),
    ``parse`` gives the value as :class:`Config` keeps it, or None when it is not one,
    ``hint`` a " (did you mean ...?)" for a near miss.

    >>> PROBABILITY.parse(1), PROBABILITY.parse(1.5), PROBABILITY.expected
    (1.0, None, 'a probability from 0 to 1')
    """

    expected: str
    parse: Callable[[Any], Any]
    hint: Callable[[Any], str] = lambda value: ""


def _finite(value: object) -> bool:
    """A TOML number (int or float, not a boolean) that is finite."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and math.isfinite(value)


def whole(lo: int, hi: int, words: str) -> Kind:
    """A whole number from ``lo`` to ``hi``; ``words`` may name them as {lo} and {hi}.

    >>> days = whole(1, 3650, "a whole number of days from {lo} to {hi}")
    >>> days.parse(365), days.parse(365.0), days.parse("365"), days.expected
    (365, None, None, 'a whole number of days from 1 to 3650')
    """

    def parse(v: object) -> int | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return v if ok else None

    return Kind(words.format(lo=lo, hi=hi), parse)


def number(lo: float, hi: float, words: str, above: bool = False, below: bool = False) -> Kind:
    """A finite number from ``lo`` to ``hi`` (``above``: > lo, ``below``: < hi), kept as
    a float; ``words`` may name the bounds as {lo} and {hi}.

    >>> rate = number(0, 1, "a rate from {lo} to below {hi}", below=True)
    >>> rate.parse(0), rate.parse(1), rate.parse(True)
    (0.0, None, None)
    """

    def parse(v: object) -> float | None:
        if not _finite(v):
            return None
        ok = (v > lo if above else v >= lo) and (v < hi if below else v <= hi)
        return float(v) if ok else None

    return Kind(words.format(lo=lo, hi=hi), parse)


DEFAULT_TIMEZONE = "UTC"  # kpi.toml's timezone when it names none


@functools.cache
def _zone_names() -> frozenset[str]:
    # the tz database's names; "localtime" (the computer's own zone, a link some systems
    # list) and "Factory" are files of the zone folder, not zones
    return frozenset(available_timezones()) - {"localtime", "Factory"}


def _zone(value: object) -> str | None:
    """An IANA time zone name that ``zoneinfo`` knows (``"Europe/Berlin"``), else None;
    never ``"localtime"`` or another file of the zone folder that is not a zone name (the
    computer's own zone must never matter, and the backends do not know them)."""
    if not isinstance(value, str) or value not in _zone_names():
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        return None
    return value


TEXT = Kind("text in quotes", lambda v: v if isinstance(v, str) else None)
PATH = Kind(
    "a path in quotes, from the folder kpi-kit runs in",
    lambda v: v if isinstance(v, str) and v.strip() else None,
)
CURRENCY = Kind(
    'a three-letter currency code in quotes, such as "USD" or "EUR"',
    lambda v: v if isinstance(v, str) and re.fullmatch("[A-Z]{3}", v) else None,
    lambda v: f" (did you mean {v.upper()}?)" if isinstance(v, str) and v.isalpha() else "",
)
ZONE = Kind(
    'an IANA time zone name in quotes, such as "Europe/Berlin" or "UTC"',
    _zone,
    lambda v: did_you_mean(v, _zone_names()) if isinstance(v, str) else "",
)
NAMES = Kind(
    'a list of names in quotes, e.g. ["LeadSource", "Vertical__c"]',
    lambda v: (
        tuple(v) if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v) else None
    ),
)
CLV_FIT = Kind(
    '"company" (one fit serves every team) or "scope" (each team fits alone)',
    lambda v: v if v in ("company", "scope") else None,
)
PROBABILITY = number(0, 1, "a probability from {lo} to {hi}")
PERCENT = number(0, 1000, "an attainment in % from {lo} to {hi}")


def setting(
    default: Any,
    kind: Kind,
    about: str,
    key: str = "",
    each: bool = False,
    only: tuple[tuple, str] | None = None,
) -> Any:
    """A :class:`Config` field that ``kpi.toml`` sets: its default, the :class:`Kind` of
    its value, what it means, and where the file writes it (``key``: ``"rag.green"`` is
    green in ``[rag]``; default: the field's name at the top level). ``each``: the key
    is a table of free names (stages), every value of the kind. ``only``: the values
    supported so far and why (a value of the kind outside them is "not supported yet").

    >>> f = setting(90.0, PERCENT, "at or above: amber", "rag.amber")
    >>> f.default, f.metadata["kind"].expected
    (90.0, 'an attainment in % from 0 to 1000')
    """
    meta = dict(kind=kind, about=about, key=key, each=each, only=only)
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


# ------------------------------------------------------------------ the settings


@dataclass
class Config:
    """Every setting of ``kpi.toml`` (see :mod:`kpi_helpers.core.config` for the file),
    each declared once below with its default, the kind of value it takes and what it
    means. Made from a file (:func:`load_config`) or in Python, it is checked the same
    way: every problem is one :class:`KitError` naming the key, the value and what is
    expected.

    >>> Config(currency="EUR").currency
    'EUR'
    >>> Config(customer_lookback_days="365")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kpi_helpers.core.config.SettingsProblems: kpi.toml: customer_lookback_days must be ... "365".
    """

    company: str = setting("", TEXT, "the company's name, shown in the pack header and mails")
    source: str = setting("data/sample", PATH, "the dataset: folder, .xlsx, .duckdb, URL, env:VAR")
    mapping: str = setting("", TEXT, "a mapping file, when the source needs one")
    currency: str = setting("USD", CURRENCY, "the currency of every amount")
    customer_lookback_days: int = setting(
        365,
        whole(1, 3650, "a whole number of days from {lo} to {hi}"),
        "how long an order or won deal keeps an account without subscriptions active",
    )
    clv_max_years: float = setting(
        5.0,
        number(0, 100, "a number of years above {lo} and at most {hi} (default 5)", above=True),
        "the longest customer lifespan customer_lifetime_value assumes",
    )
    fiscal_year_start: int = setting(
        1,
        whole(1, 12, "a month number from {lo} to {hi}"),
        "the month the fiscal year starts in (quarters and years follow it)",
    )
    timezone: str = setting(DEFAULT_TIMEZONE, ZONE, "the zone in which months begin and end")
    stage_probability: dict[str, float] = setting(
        DEFAULT_STAGE_PROBABILITY,
        PROBABILITY,
        "the win probability of each open stage (joins the defaults)",
        each=True,
    )
    default_probability: float = setting(
        0.3, PROBABILITY, "the probability of an open stage missing from [stage_probability]"
    )
    rag_green: float = setting(100.0, PERCENT, "attainment at or above: green", "rag.green")
    rag_amber: float = setting(90.0, PERCENT, "at or above: amber; below: red", "rag.amber")
    output: str = setting(
        "reports", PATH, "the packs' folder: kpi-kit pack writes there, send reads there"
    )
    pack_notebooks: str = setting("", TEXT, "a folder of custom pages", "pack.notebooks")
    clv_discount_rate: float = setting(
        0.01,
        number(0, 1, "a monthly rate from {lo} to below {hi} (0.01 for 1 % a month)", below=True),
        "the monthly discount rate of predictive_clv",
    )
    drivers_dimensions: tuple = setting(
        (),
        NAMES,
        "extra columns the drivers of a change split by (kpi-kit explain)",
        "drivers.dimensions",
    )
    clv_fit: str = setting(
        "company",
        CLV_FIT,
        "predictive_clv of a team or rep: the company fit's predictions for its accounts "
        '("company") or a fit on its own orders ("scope")',
    )
    # [[alerts]] as written; kpi_helpers.alerts.rules_of(cfg) parses and checks them
    alert_tables: list = field(default_factory=list)
    file: str = "kpi.toml"  # the file's name, for messages

    def __post_init__(self) -> None:
        problems = [p for s in SETTINGS for p in _check(self, s)]
        if not problems and self.rag_amber > self.rag_green:
            problems.append(
                f"[rag] amber ({self.rag_amber:g}) must not be above green ({self.rag_green:g})"
            )
        if problems:
            raise SettingsProblems(self.file, problems)


SETTINGS = tuple(f for f in fields(Config) if f.metadata)  # the keys of kpi.toml


class SettingsProblems(KitError):
    """Every problem of one ``kpi.toml``, in one message (one line when there is one)."""

    def __init__(self, file: str, problems: list[str]):
        self.file, self.problems = file, problems
        if len(problems) == 1:
            text = f"{file}: {problems[0]}."
        else:
            text = f"{file} has {len(problems)} problems:\n" + "\n".join(
                f"  - {p}." for p in problems
            )
        super().__init__(text)

    def __reduce__(self) -> tuple:  # crosses to and from worker processes like a KitError
        return SettingsProblems, (self.file, self.problems)


def _where(s) -> str:
    """A setting as the file writes it: ``currency``, ``[rag] green``."""
    table, _, name = s.metadata["key"].rpartition(".")
    return f"[{table}] {name}" if table else s.name


def _toml_key(name: str) -> str:
    """``name`` as a TOML key: bare when it can be, else quoted."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


def _shown(value: object) -> str:
    """A value as kpi.toml writes it: ``"365"`` for text, ``365``, ``true``, ``[1, 2]``."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check(cfg: Config, s) -> list[str]:
    """The problems of one setting of ``cfg``; a good value is kept as its kind gives it
    (``clv_max_years = 5`` becomes 5.0)."""
    kind, where, value = s.metadata["kind"], _where(s), getattr(cfg, s.name)
    if s.metadata["each"]:
        if not isinstance(value, dict):
            return [f"[{where}] must be a table of name = {kind.expected}, not {_shown(value)}"]
        entries = {k: kind.parse(v) for k, v in value.items()}
        bad = [k for k, v in entries.items() if v is None]
        setattr(cfg, s.name, entries)
        return [
            f"[{where}] {_toml_key(str(k))} must be {kind.expected}, not {_shown(value[k])}"
            for k in bad
        ]
    parsed = kind.parse(value)
    if parsed is None:
        return [f"{where} must be {kind.expected}, not {_shown(value)}{kind.hint(value)}"]
    setattr(cfg, s.name, parsed)
    only = s.metadata["only"]
    if only and parsed not in only[0]:
        allowed = " or ".join(_shown(v) for v in only[0])
        return [
            f"{where} = {_shown(value)} is not supported yet ({only[1]}): remove it or "
            f"set {where} = {allowed}"
        ]
    return []


# ------------------------------------------------------------------ the file

# where each setting is written: ("currency",) or ("rag", "green")
PLACES = {tuple((s.metadata["key"] or s.name).split(".")): s for s in SETTINGS}
TABLES = {p[0] for p in PLACES if len(p) == 2}  # [rag], [pack]: tables of settings
ALERTS = "alerts"  # [[alerts]]: kept as written, checked by kpi_helpers.alerts.rules_of


def load_config(path: str | Path | None) -> Config:
    """Read and check ``kpi.toml``; ``None`` gives the defaults. Every problem of the file
    (an unknown key, a wrong type, a value out of range) is in one :class:`KitError`.

    >>> load_config(None).customer_lookback_days
    365
    """
    if path is None:
        return Config()
    path = Path(path)
    values, problems = _values(read_toml(path, "Configuration file"))
    try:
        cfg = Config(**values, file=path.name)
    except SettingsProblems as exc:
        problems += exc.problems
    if problems:
        raise SettingsProblems(path.name, problems)
    return cfg


def _values(data: dict) -> tuple[dict, list[str]]:
    """The file's values by :class:`Config` field, and the keys it does not know."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        if key == ALERTS:
            values["alert_tables"] = value
        elif key in TABLES:
            names = [p[1] for p in PLACES if len(p) == 2 and p[0] == key]
            if not isinstance(value, dict):
                problems.append(
                    f"[{key}] must be a table ({', '.join(names)}), not {_shown(value)}"
                )
                continue
            for name, v in value.items():
                if (key, name) in PLACES:
                    values[PLACES[key, name].name] = v
                else:
                    problems.append(_unknown(name, names, f"[{key}] "))
        elif (key,) in PLACES:
            s = PLACES[key,]
            if s.metadata["each"] and isinstance(value, dict):  # the file's names join the defaults
                value = {**s.default_factory(), **value}
            values[s.name] = value
        else:
            problems.append(_unknown(key, KNOWN, ""))
    return values, problems


# every key as the file writes it, in the order of Config: what an unknown key is matched with
KNOWN = [_where(s) for s in SETTINGS] + [ALERTS]


def _unknown(key: str, known: list[str], table: str) -> str:
    """The message of an unknown key: the close matches, else every key there is."""
    hint = did_you_mean(key, known)
    where = f" of {table.strip()}" if table else ""
    listed = "" if hint else f"; the settings{where} are {', '.join(known)}"
    return f"unknown setting {table}{key!r}{hint}{listed}"


# ------------------------------------------------------------------ what a result read


class SettingsRead:
    """A view of a :class:`Config` that notes every setting read through it, with the
    value read: what a result computed through it depends on. A model fit kept on the
    dataset is reused for a config only when that config has the same values
    (:meth:`same_as`), so no list of "the settings a fit reads" is kept by hand.

    >>> seen = SettingsRead(Config(clv_discount_rate=0.02))
    >>> seen.clv_discount_rate, seen.read
    (0.02, {'clv_discount_rate': 0.02})
    >>> seen.same_as(Config(clv_discount_rate=0.05))
    False
    >>> seen.same_as(Config(currency="EUR", clv_discount_rate=0.02))
    True
    """

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.read: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("cfg", "read"):  # copy/pickle probes
            raise AttributeError(name)
        value = getattr(self.cfg, name)
        if name in NAMES:
            self.read.setdefault(name, copy.deepcopy(value))
        return value

    def same_as(self, cfg: Config) -> bool:
        """Whether ``cfg`` has every value read through this view: a result computed
        through it holds for ``cfg`` too."""
        return all(getattr(cfg, name) == value for name, value in self.read.items())


NAMES = frozenset(s.name for s in SETTINGS)

__all__ = [
    "DEFAULT_STAGE_PROBABILITY",
    "SETTINGS",
    "Config",
    "Kind",
    "SettingsProblems",
    "SettingsRead",
    "load_config",
]
