"""The KPI catalog: what each KPI is (id, name, family, definition, unit, better
direction, inputs, formula) and how its values read. Below the data layer, so pages,
alerts and e-mails read it without loading a data engine.

>>> get("win_rate").name, format_kpi(get("win_rate"), 42.857)
('Win rate', '42.9 %')
"""

from .format import (
    CURRENCY_SYMBOLS,
    SCALES,
    SUFFIXES,
    format_change,
    format_kpi,
    format_value,
    scope_label,
    tick_decimals,
)
from .registry import (
    CATALOG,
    COUNT,
    CURRENCY,
    DAYS,
    DOWN,
    FAMILIES,
    HOURS,
    KPI,
    NEUTRAL,
    PERCENT,
    RATIO,
    REGISTRY,
    SCORE,
    TABLE,
    UP,
    Kind,
    catalog_frame,
    did_you_mean_kpi,
    get,
    kpi_suggestions,
    select,
)

__all__ = [
    "CATALOG",
    "COUNT",
    "CURRENCY",
    "CURRENCY_SYMBOLS",
    "DAYS",
    "DOWN",
    "FAMILIES",
    "HOURS",
    "KPI",
    "Kind",
    "NEUTRAL",
    "PERCENT",
    "RATIO",
    "REGISTRY",
    "SCALES",
    "SCORE",
    "SUFFIXES",
    "TABLE",
    "UP",
    "catalog_frame",
    "did_you_mean_kpi",
    "format_change",
    "format_kpi",
    "format_value",
    "get",
    "kpi_suggestions",
    "scope_label",
    "select",
    "tick_decimals",
]
