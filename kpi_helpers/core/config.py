"""The kit's configuration file, ``kpi.toml``: dataset settings and report choices.

Every key is optional; missing keys take the defaults below. Example::

    source = "data/sample"
    mapping = ""                   # a mapping file, when the source needs one
    currency = "EUR"
    customer_lookback_days = 365
    clv_max_years = 5              # the longest customer lifespan CLV assumes
    clv_discount_rate = 0.01       # monthly, for predictive_clv (kpi-kit clv)
    [stage_probability]
    prospecting = 0.1
    negotiation = 0.7
    [rag]
    green = 100                    # attainment (%) at or above: green
    amber = 90                     # at or above: amber; below: red
    [pack]
    notebooks = "my_pages"         # custom pages that join every pack

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KitError
from .toml import read_toml

DEFAULT_STAGE_PROBABILITY = {
    "prospecting": 0.1,
    "qualification": 0.2,
    "proposal": 0.5,
    "negotiation": 0.7,
}


@dataclass
class Config:
    """Every setting of ``kpi.toml`` (see :mod:`kpi_helpers.core.config` for the file)."""

    company: str = ""  # shown in the pack header
    source: str = "data/sample"
    mapping: str = ""
    currency: str = "USD"
    customer_lookback_days: int = 365
    clv_max_years: float = 5.0  # cap of the customer lifespan in customer_lifetime_value
    fiscal_year_start: int = 1
    stage_probability: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_STAGE_PROBABILITY)
    )
    default_probability: float = 0.3  # open stages missing from stage_probability
    rag_green: float = 100.0
    rag_amber: float = 90.0
    output: str = "reports"
    pack_notebooks: str = ""  # [pack] notebooks: a folder of custom pages
    clv_discount_rate: float = 0.01  # monthly discount rate of predictive_clv
    # [[alerts]] as written; kpi_helpers.alerts.rules_of(cfg) parses and checks them
    alert_tables: list = field(default_factory=list)
    file: str = "kpi.toml"  # the file's name, for messages


__all__ = ["DEFAULT_STAGE_PROBABILITY", "Config", "load_config"]

# settings that live in a [table] of the file, not at its top level
TABLE_SETTINGS = {"rag_green", "rag_amber", "pack_notebooks"}


def load_config(path: str | Path | None) -> Config:
    """Read ``kpi.toml``; ``None`` or an absent default file gives the defaults."""
    cfg = Config()
    if path is None:
        return cfg
    path = Path(path)
    cfg.file = path.name
    data = read_toml(path, "Configuration file")
    rag = data.pop("rag", {})
    pack = data.pop("pack", {})
    for key in pack:
        if key != "notebooks":
            raise KitError(f"{path.name}: unknown setting [pack] {key!r}.")
    if "notebooks" in pack:
        cfg.pack_notebooks = str(pack["notebooks"])  # like source: from where kpi-kit runs
    probs = data.pop("stage_probability", {})
    if "alerts" in data:
        cfg.alert_tables = data.pop("alerts")  # checked by kpi_helpers.alerts.rules_of
    for key, value in data.items():
        if not hasattr(cfg, key) or key in TABLE_SETTINGS:
            raise KitError(f"{path.name}: unknown setting {key!r}.")
        setattr(cfg, key, value)
    cfg.clv_max_years = _positive_years(cfg.clv_max_years, path.name)
    cfg.stage_probability.update({str(k): float(v) for k, v in probs.items()})
    cfg.rag_green = float(rag.get("green", cfg.rag_green))
    cfg.rag_amber = float(rag.get("amber", cfg.rag_amber))
    if not cfg.rag_amber <= cfg.rag_green:
        raise KitError(f"{path.name}: [rag] amber must not be above green.")
    d = cfg.clv_discount_rate
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d < 1:
        raise KitError(
            f"{path.name}: clv_discount_rate must be a monthly rate from 0 to below 1 "
            f"(0.01 for 1 % a month), not {d!r}."
        )
    cfg.clv_discount_rate = float(d)
    return cfg


def _positive_years(value: object, file: str) -> float:
    """``clv_max_years`` as a float: a finite number of years above 0 (``5``, ``2.5``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise KitError(
            f"{file}: clv_max_years must be a number of years above 0 (default 5), not {value!r}."
        )
    return float(value)
