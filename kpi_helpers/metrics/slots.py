"""Months of the engine: the month index of a timestamp (:func:`month_of`), seconds
between two timestamps, the one rule of "open at the end of m" (:func:`open_at_end`),
and the time slots (months or periods) measures are grouped by (:class:`Slots`).

>>> Slots(3, 10).of(month_index(2026, 1)) == Slots(3, 10).of(month_index(2025, 11))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd

from kpi_helpers.core import Month, month_index  # noqa: F401 (Month: the doctests)

# a column of timestamps or month indices: an Ibis expression or a pandas Series
Column = ibis.Value | pd.Series


def month_of(ts: ibis.Value) -> ibis.Value:
    """The kit's month index of a timestamp expression (``core.month_index``)."""
    return month_index(ts.year().cast("int64"), ts.month().cast("int64"))


def seconds_between(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """``later - earlier`` in seconds (float), the same on every backend."""
    return later.epoch_seconds().cast("float64") - earlier.epoch_seconds().cast("float64")


def open_at_end(start: Column, stop: Column, end: object) -> Column:
    """Whether a row that starts at ``start`` and stops at ``stop`` (empty: not yet) is open
    at the end of a month m, ``end`` being the first instant after m (the start of m+1):
    ``start < end <= stop``, or ``start < end`` while ``stop`` is empty.

    The one rule of "open at the end of m": a deal (``created_at``, ``closed_at``), a
    running subscription (``started_at``, ``ended_at``). For Ibis expressions and pandas
    Series alike (like ``core.month_index``), in timestamps (``end`` =
    ``ibis.timestamp(m.end)`` or ``pd.Timestamp(m.end)``) or in month indices (``start``
    and ``stop`` from :func:`month_of`, ``end`` = m + 1). A deal closed at the very
    first instant of m+1 was open at the end of m:

    >>> c = pd.Series(pd.to_datetime(["2026-01-05", "2026-01-05", "2026-02-01", "2026-01-05"]))
    >>> x = pd.Series(pd.to_datetime(["2026-02-01", "2026-01-31", None, None]))
    >>> open_at_end(c, x, pd.Timestamp(Month.parse("2026-01").end)).tolist()
    [True, False, False, True]
    >>> open_at_end(pd.Series([3, 3, 4]), pd.Series([5, 4, None]), 3 + 1).tolist()  # m = 3
    [True, True, False]
    """
    return (start < end) & (stop.isnull() | (stop >= end))


@dataclass(frozen=True)
class Slots:
    """The time slots the measures that do not add up over months are grouped by: months
    (the default, ``MONTHS``), or periods of ``n`` months, a period's first month m having
    ``(m - offset) % n == 0``; with ``take`` < n only the leading ``take`` months of each
    period count (the bases of a to-date period) and the others fall in slot -1.

    The slot of month index ``mi`` is ``(mi - offset) // n`` (for Ibis expressions and
    ints alike); fiscal quarters from November (offset 10): 2025-11..2026-01 is one slot.

    >>> q = Slots(3, 10)
    >>> q.of(month_index(2025, 11)) == q.of(month_index(2026, 1)) != q.of(month_index(2026, 2))
    True
    >>> q.first_of(q.of(month_index(2026, 1))) == month_index(2025, 11)
    True
    """

    n: int = 1
    offset: int = 0
    take: int = 0  # 0: every month of the period

    @property
    def monthly(self) -> bool:
        return self.n == 1

    def of(self, mi):
        """The slot of a month index (an int or an Ibis integer expression)."""
        if self.monthly:
            return mi
        d = mi - self.offset
        slot = d // self.n
        if not self.take or self.take >= self.n:
            return slot
        if isinstance(d, int):
            return slot if d - slot * self.n < self.take else -1
        return ibis.ifelse(d - slot * self.n < self.take, slot, ibis.literal(-1, "int64"))

    def first_of(self, slot):
        """The first month index of a slot."""
        return slot if self.monthly else slot * self.n + self.offset

    def counted(self) -> int:
        """How many leading months of each period count."""
        return self.take if self.take and self.take < self.n else self.n


MONTHS = Slots()
