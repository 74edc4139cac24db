"""How a KPI's value for a quarter or a fiscal year is computed (KPI_CATALOG.md, "Periods").

The engine builds a *period measure frame* (index scope_type, scope, period index) in which
each measure already carries over from its months (flows summed, states at the period's
last month, distinct counts and medians over the period's events, movements between the
start and the end of the period). Most KPIs then apply their monthly formula to that frame
(``shift(1)`` is the previous period): flows, ratios, durations, states, spans and
growth. This module holds the rest, in one place:

- the kind ``as_of`` (models, 12-month windows): the monthly value of p's last month;
- the KPIs that fit no kind (``PERIOD_RULES``), as the spec settles them.

A rule is ``rule(frame, months, per_year)``: ``frame`` the period measure frame, ``months``
the period's months (:class:`MonthsOfPeriods`: monthly values of a formula at p's first
or last month or summed over p, and how many months p has data for), ``per_year`` the
periods in a year (4 for quarters).

>>> sorted(PERIOD_RULES)[:3]
['cac_payback_months', 'economic_value_added', 'gap_to_target']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pandas as pd

from kpi_helpers.core import Config

from .registry import (
    KPI,
    F,
    Kind,
    cac_f,
    clv_f,
    gross_margin_f,
    m,
    pct,
    rev,
)

MONTHS_WITH_DATA = "months_with_data"  # period frame column: k of "to date (k of n months)"
# period frame column: the bookings targets of every month of p, also those after the
# data (gap_to_target and pipeline_coverage of a period to date); NaN unless each has one
TARGET_ALL_MONTHS = "target_all_months_monthly_sales_bookings"


class MonthsOfPeriods(Protocol):
    """The monthly side of a period frame (the engine provides it)."""

    def value(self, formula: F, at: str) -> pd.Series:
        """``formula`` on the monthly measures, at p's ``"first"`` or ``"last"`` month
        (with data), or its ``"sum"`` over p's months (NaN when a month has none); indexed
        like the period frame."""
        ...


Rule = Callable[[pd.DataFrame, MonthsOfPeriods, int], pd.Series]


def _growth_yoy(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # against the same period a year before: ``per_year`` periods back
    before = rev.shift(per_year)
    return pct(rev - before, before)(frame)


def _incremental(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # revenue in p - (months of p) x the mean monthly revenue of the 3 months before p
    mean_before = months.value((rev.shift(1) + rev.shift(2) + rev.shift(3)) / 3.0, "first")
    return rev(frame) - frame[MONTHS_WITH_DATA] * mean_before


def _eva(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # the sum of p's monthly values
    nopat, capital = m("fin_nopat"), m("fin_invested_capital")
    return months.value(nopat - capital * m("fin_cost_of_capital") / 12.0, "sum")


def _ltv_to_cac(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # the CLV of p's last month / CAC(p)
    return months.value(clv_f, "last") / cac_f(frame).where(cac_f(frame) != 0)


def _cac_payback(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # CAC(p) / (revenue in p of p's new customers / their number / months of p x margin)
    monthly = (
        m("new_customer_revenue") / m("new_customers") / m(MONTHS_WITH_DATA) * gross_margin_f / 100
    )
    return (cac_f / monthly)(frame)


def _gap(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # the bookings targets of all months of p - bookings so far (what is still to close)
    return (m(TARGET_ALL_MONTHS) - m("bookings"))(frame)


def _coverage(frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int) -> pd.Series:
    # pipeline open at the start of p / the bookings targets of all months of p
    return (m("pipeline_value").shift(1) / m(TARGET_ALL_MONTHS))(frame)


PERIOD_RULES: dict[str, Rule] = {
    "sales_growth_yoy": _growth_yoy,
    "incremental_sales": _incremental,
    "economic_value_added": _eva,
    "ltv_to_cac": _ltv_to_cac,
    "cac_payback_months": _cac_payback,
    "gap_to_target": _gap,
    "pipeline_coverage": _coverage,
}


def period_value(
    kpi: KPI, frame: pd.DataFrame, months: MonthsOfPeriods, per_year: int, config: Config
) -> pd.Series:
    """The values of scalar ``kpi`` for the periods of ``frame`` (the period measure
    frame): its rule in ``PERIOD_RULES``, else the monthly value of p's last month for the
    kind ``as_of``, else its monthly formula on the period frame.

    Example: win_rate of a quarter = deals won in the quarter / (won + lost in it) x 100,
    never the mean of its months' win rates."""
    rule = PERIOD_RULES.get(kpi.id)
    if rule is not None:
        return _with(config, lambda: rule(frame, months, per_year)).astype("float64")
    if kpi.kind == Kind.AS_OF:
        return months.value(kpi.formula, "last")
    return kpi.formula(frame, config)


def _with(config: Config, fn: Callable[[], pd.Series]) -> pd.Series:
    # a rule's formulas read settings (clv_max_years) from the config, like F.__call__
    probe = F(lambda f: fn(), {})
    return probe(pd.DataFrame(), config)
