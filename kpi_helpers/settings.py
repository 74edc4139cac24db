"""The kit's settings as one value, ``Config``: every key of ``kpi.toml`` with its
default. Reading the file is :func:`kpi_helpers.config.load_config`; this module imports
nothing of the kit, so every module may use ``Config``.

>>> Config().currency, Config().rag_amber
('USD', 90.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .alerts import AlertRule

DEFAULT_STAGE_PROBABILITY = {
    "prospecting": 0.1,
    "qualification": 0.2,
    "proposal": 0.5,
    "negotiation": 0.7,
}


@dataclass
class Config:
    """Every setting of ``kpi.toml`` (see :mod:`kpi_helpers.config` for the file)."""

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
    alerts: list[AlertRule] = field(default_factory=list)  # [[alerts]]: threshold rules
