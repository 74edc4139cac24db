"""How each measure carries over from months to a quarter or a fiscal year (KPI_CATALOG.md,
"Periods"): the one table of those rules (``CARRY``) and the period measure frame.

- ``sum``: flows (counts and sums of events in m), summed over p's months; NaN when a
  month has none (before the data starts; a month without ``targets`` or ``financials``
  rows), so a quarter target needs every month's;
- ``last``: states at the end of m, taken at p's last month (with data);
- ``mean``: the mean over p's months (selling reps, employees, inventory cost);
- ``grouped``: measures that do not add up over months (distinct counts, medians,
  movements between two instants): their sources group them by period in their query
  (:class:`Slots`).

>>> carry_of("revenue"), carry_of("pipeline_value"), carry_of("orders")
('sum', 'last', 'grouped')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_helpers.catalog import MONTHS_WITH_DATA, F
from kpi_helpers.core import MONTHS_IN, Calendar, Config, Period

from .measures import Slots

SUM, LAST, MEAN, GROUPED = "sum", "last", "mean", "grouped"
CARRY: dict[str, str] = {
    # states at the end of m
    **dict.fromkeys(
        (
            "open_deals",
            "pipeline_value",
            "weighted_pipeline",
            "stale_value",
            "overdue_value",
            "open_dated",
            "active_customers",
            "mrr",
            "customers_ordered_12m",
        ),
        LAST,
    ),
    # the mean over p's months (KPI_CATALOG.md: sales_per_rep, per employee, gmroi)
    **dict.fromkeys(
        ("selling_reps", "fin_employees", "fin_average_inventory_cost", "fin_invested_capital"),
        MEAN,
    ),
    # grouped by period in their queries
    **dict.fromkeys(
        (
            "orders",
            "revenue_accounts",
            "upsell_accounts",
            "cross_sell_accounts",
            "response_hours_median",
            "new_customer_revenue",
            "customers_lost",
            "customer_activities",
            "mrr_new",
            "mrr_expansion",
            "mrr_reactivation",
            "mrr_contraction",
            "mrr_churned",
        ),
        GROUPED,
    ),
}


def carry_of(measure: str) -> str:
    """How ``measure`` carries over to a period: ``sum`` unless ``CARRY`` says otherwise.

    >>> carry_of("fin_employees")
    'mean'
    """
    return CARRY.get(measure, SUM)


def slots_for(period: Period, calendar: Calendar, take: int = 0) -> Slots:
    """The :class:`Slots` of ``period``'s kind in ``calendar`` (``take``: only the leading
    months of each period, for the bases of a period to date).

    >>> from kpi_helpers.core import Month
    >>> cal = Calendar(11)
    >>> s = slots_for(cal.period("quarter", Month.parse("2026-01")), cal)
    >>> (s.n, s.offset)  # quarters begin in months 2, 5, 8, 11 (index % 3 == 1)
    (3, 1)
    """
    n = MONTHS_IN[period.kind]
    return Slots(n, (calendar.fiscal_year_start - 1) % n if n > 1 else 0, take)


class PeriodFrame:
    """Monthly measures (a complete grid: rows x months, months starting with a period's
    first month) carried over to periods (:func:`carry_of`); ``counted[j]``: how many
    leading months of period j count (its months with data, or fewer for the bases of a
    period to date). Also the monthly side the catalog's period rules read
    (:meth:`value`, ``catalog.MonthsOfPeriods``)."""

    def __init__(
        self,
        monthly: pd.DataFrame,
        n: int,
        counted: np.ndarray,
        grid: pd.MultiIndex,
        config: Config,
    ):
        self.monthly, self.n, self.counted, self.grid, self.cfg = monthly, n, counted, grid, config
        self.n_rows = len(grid)
        self.n_periods = len(counted)
        # which months of each period count: periods x n
        self.mask = np.arange(n)[None, :] < counted[:, None]
        self.last = counted - 1

    def _cube(self, values: np.ndarray) -> np.ndarray:
        """rows x months -> rows x periods x n (NaN after the data)."""
        out = np.full((self.n_rows, self.n_periods * self.n), np.nan)
        out[:, : values.shape[1]] = values
        return out.reshape(self.n_rows, self.n_periods, self.n)

    def combine(self, values: np.ndarray, how: str) -> np.ndarray:
        """rows x months -> rows x periods: summed, mean, last or first month."""
        cube = self._cube(values)
        if how == LAST:
            return cube[:, np.arange(self.n_periods), self.last]
        if how == "first":
            return cube[:, :, 0]
        total = np.where(self.mask[None, :, :], cube, 0.0).sum(axis=2)
        return total / self.counted[None, :] if how == MEAN else total

    def series(self, values: np.ndarray) -> pd.Series:
        return pd.Series(values.ravel(), index=self.grid_index())

    def grid_index(self) -> pd.MultiIndex:
        if not hasattr(self, "_index"):
            self._index = pd.MultiIndex.from_tuples(
                [(st, sc, j) for st, sc in self.grid for j in range(self.n_periods)],
                names=["scope_type", "scope", "mi"],
            )
        return self._index

    def measure(self, name: str) -> np.ndarray:
        """rows x months of a monthly measure."""
        return self.monthly[name].to_numpy(dtype="float64").reshape(self.n_rows, -1)

    def value(self, formula: F, at: str) -> pd.Series:
        """``catalog.MonthsOfPeriods.value``: ``formula`` on the monthly measures at p's
        first or last month, or summed over p."""
        v = formula(self.monthly, self.cfg)
        v = v.reindex(self.monthly.index).to_numpy(dtype="float64").reshape(self.n_rows, -1)
        return self.series(self.combine(v, {"sum": SUM}.get(at, at)))

    def frame(self, grouped: pd.DataFrame | None, keep_nan: set[str]) -> pd.DataFrame:
        """The period measure frame (index scope_type, scope, mi = period j): monthly
        measures carried over, ``grouped`` ones (KEY columns, mi = period j) put in place
        (0 where a scope has none, unless in ``keep_nan``), and ``MONTHS_WITH_DATA``."""
        cols = {}
        for name in self.monthly.columns:
            if carry_of(name) != GROUPED:
                cols[name] = self.combine(self.measure(name), carry_of(name)).ravel()
        out = pd.DataFrame(cols, index=self.grid_index())
        if grouped is not None:
            g = grouped.set_index(["scope_type", "scope", "mi"])
            for name in g.columns:
                col = g[name].astype("float64").reindex(out.index)
                out[name] = col if name in keep_nan else col.fillna(0.0)
        for name in self.monthly.columns:
            if name not in out.columns:
                out[name] = np.nan
        out[MONTHS_WITH_DATA] = np.tile(self.counted.astype("float64"), self.n_rows)
        return out
