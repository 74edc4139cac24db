"""Months as the kit uses them: ``"YYYY-MM"`` text outside, an integer index inside.

The index ``year * 12 + month - 1`` makes "the month before" a subtraction, and is
computed the same way on every backend from a timestamp's year and month.

>>> Month.parse("2026-01").index - Month.parse("2025-12").index
1
>>> str(Month.parse("2026-01") - 12)
'2025-01'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from .errors import KitError

_PATTERN = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def month_index(year, month):
    """``year * 12 + month - 1``: the one formula of the month index, for ints, pandas
    Series, numpy arrays and Ibis integer expressions alike.

    >>> month_index(2026, 1) - month_index(2025, 12)
    1
    """
    return year * 12 + month - 1


@dataclass(frozen=True, order=True)
class Month:
    index: int  # year * 12 + month - 1

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``"YYYY-MM"``; anything else is a clear error."""
        match = _PATTERN.match(str(text).strip())
        if not match:
            raise KitError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-10.")
        return cls(month_index(int(match.group(1)), int(match.group(2))))

    @classmethod
    def previous(cls, today: date | None = None) -> Month:
        """The last complete month: the one before ``today``'s (the clock's by default).

        >>> str(Month.previous(date(2026, 1, 2)))
        '2025-12'
        """
        return cls.of(today or date.today()) - 1

    @classmethod
    def of(cls, when: date | datetime) -> Month:
        """The month holding a date or timestamp.

        >>> str(Month.of(date(2026, 3, 31)))
        '2026-03'
        """
        return cls(month_index(when.year, when.month))

    @property
    def year(self) -> int:
        return self.index // 12

    @property
    def month(self) -> int:
        return self.index % 12 + 1

    @property
    def start(self) -> datetime:
        """The first instant of the month."""
        return datetime(self.year, self.month, 1)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (the month is [start, end))."""
        return (self + 1).start

    def __add__(self, n: int) -> Month:
        return Month(self.index + n)

    def __sub__(self, n: int) -> Month:
        return Month(self.index - n)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """How a page names the month: ``October 2026``."""
        return self.start.strftime("%B %Y")


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive."""
    return [Month(i) for i in range(first.index, last.index + 1)]
