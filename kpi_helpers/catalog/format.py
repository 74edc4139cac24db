"""How a KPI's value, change and scope read on a page, in an alert and in an e-mail.

No matplotlib here: alerts and the e-mail word values without drawing anything.

>>> format_value(1234567.8, "currency", "EUR"), format_change(-12.0, "%"), scope_label("team:EMEA")
('€1,234,568', '-12.0 %', 'Team EMEA')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import KPI

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))  # billions, millions, thousands


def _short(x: float) -> str:
    for div, suffix in SCALES:
        if abs(x) >= div:
            return f"{x / div:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.2f}"


def format_value(value: float, unit: str, currency: str = "USD") -> str:
    """A KPI value as people read it.

    >>> format_value(1234567.8, "currency", "EUR"), format_value(42.857, "percent")
    ('€1,234,568', '42.9 %')
    >>> [format_value(v, "currency") for v in (0.0, 43.17, 3.47, 2.0, -0.001)]
    ['$0', '$43', '$3.47', '$2', '$0']
    >>> format_value(float("nan"), "count")
    'n/a'
    """
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "currency":  # whole units, as people say amounts; cents only below 10
        symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
        amount = abs(value)
        cents = amount < 10 and round(amount, 2) != round(amount)
        sign = "-" if value < 0 and round(amount, 2 if cents else 0) else ""
        return f"{sign}{symbol}{amount:,.{2 if cents else 0}f}"
    if unit == "percent":
        return f"{value:,.1f} %"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "hours":
        return f"{value:,.1f} h"
    if unit == "ratio":
        return f"{value:,.2f}×"
    if unit == "score":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


SUFFIXES = {"percent": " %", "days": " d", "hours": " h", "ratio": "×"}


def tick_decimals(values: list[float], most: int = 6) -> int:
    """The fewest decimals that print every tick exactly (so no two labels repeat).

    >>> tick_decimals([0.0, 0.5, 1.0, 1.5]), tick_decimals([0, 20, 40]), tick_decimals([1.25])
    (1, 0, 2)
    """
    vals = [float(v) for v in values if np.isfinite(v)]
    scale = max((abs(v) for v in vals), default=1.0) or 1.0
    for d in range(most + 1):
        if all(abs(v - round(v, d)) <= 1e-9 * scale for v in vals):
            return d
    return most


def format_change(change: float, change_unit: str, currency: str = "USD") -> str:
    """A MoM/YoY change as people read it: points, a relative %, or, for KPIs that can be
    negative (``change_unit`` is then the KPI's unit), the amount itself.

    >>> format_change(2.345, "pp"), format_change(-12.0, "%"), format_change(12400, "currency")
    ('+2.3 pp', '-12.0 %', '+$12,400')
    >>> format_change(float("nan"), "%")
    ''
    """
    if change is None or pd.isna(change):
        return ""
    if change_unit in ("pp", "%"):
        return f"{change:+,.1f} {change_unit}"
    text = format_value(change, change_unit, currency)
    return text if text.startswith("-") else "+" + text


def format_kpi(kpi: KPI, value: float, currency: str = "USD") -> str:
    """A KPI's value, in words when the KPI says how (``KPI.says``: what a positive and a
    negative value mean), e.g. gap to target "$127k behind target" / "$40k ahead of target".

    >>> from kpi_helpers.catalog import get
    >>> format_kpi(get("gap_to_target"), 139_329.0), format_kpi(get("gap_to_target"), -1234567)
    ('$139k behind target', '$1.23M ahead of target')
    """
    if kpi.says is None or value is None or pd.isna(value) or value == 0:
        return format_value(value, kpi.unit, currency)
    amount = abs(value)
    if kpi.unit == "currency":  # three significant digits: $139k, $1.23M
        amount = float(f"{amount:.3g}")
        text = CURRENCY_SYMBOLS.get(currency, currency + " ") + _short(amount)
    else:
        text = format_value(amount, kpi.unit, currency)
    return f"{text} {kpi.says[0] if value > 0 else kpi.says[1]}"


def scope_label(scope: str) -> str:
    """``team:EMEA`` -> ``Team EMEA``; ``company`` -> ``Company``."""
    kind, _, name = scope.partition(":")
    return kind.capitalize() + (f" {name}" if name else "")


def track_record_text(held: float, origins: float, mape: float = float("nan")) -> str:
    """A forecast's track record in words (the forecasts' ``track_*`` columns); "" when
    there is none (no origin, or no series: the pipeline forecast).

    >>> track_record_text(10, 12, 6.24)
    'the 80 % interval held 10 of the last 12 months; MAPE 6.2 %'
    >>> track_record_text(float("nan"), float("nan"))
    ''
    """
    if not (pd.notna(origins) and origins > 0):
        return ""
    text = f"the 80 % interval held {int(held)} of the last {int(origins)} months"
    return text + (f"; MAPE {mape:.1f} %" if pd.notna(mape) else "")
