"""The kit's configuration file, ``kpi.toml``: dataset settings and report choices.

Every key is optional; missing keys take the defaults below. Example::

    source = "data/sample"
    mapping = ""                   # a mapping file, when the source needs one
    currency = "EUR"
    customer_lookback_days = 365
    clv_discount_rate = 0.01       # monthly, for predictive_clv (kpi-kit clv)
    [stage_probability]
    prospecting = 0.1
    negotiation = 0.7
    [rag]
    green = 100                    # attainment (%) at or above: green
    amber = 90                     # at or above: amber; below: red
    [pack]
    notebooks = "my_pages"         # custom pages that join every pack
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KitError

DEFAULT_STAGE_PROBABILITY = {
    "prospecting": 0.1,
    "qualification": 0.2,
    "proposal": 0.5,
    "negotiation": 0.7,
}


# settings that live in a [table] of the file, not at its top level
TABLE_SETTINGS = {"rag_green", "rag_amber", "pack_notebooks"}


@dataclass
class Config:
    company: str = ""  # shown in the pack header
    source: str = "data/sample"
    mapping: str = ""
    currency: str = "USD"
    customer_lookback_days: int = 365
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


def load_config(path: str | Path | None) -> Config:
    """Read ``kpi.toml``; ``None`` or an absent default file gives the defaults."""
    cfg = Config()
    if path is None:
        return cfg
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(f"Configuration file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise KitError(f"Configuration file {path} is not valid TOML: {exc}.") from None
    rag = data.pop("rag", {})
    pack = data.pop("pack", {})
    for key in pack:
        if key != "notebooks":
            raise KitError(f"{path.name}: unknown setting [pack] {key!r}.")
    if "notebooks" in pack:
        cfg.pack_notebooks = str(pack["notebooks"])  # like source: from where kpi-kit runs
    probs = data.pop("stage_probability", {})
    for key, value in data.items():
        if not hasattr(cfg, key) or key in TABLE_SETTINGS:
            raise KitError(f"{path.name}: unknown setting {key!r}.")
        setattr(cfg, key, value)
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
