"""Periods: a calendar month, a fiscal quarter or a fiscal year (KPI_CATALOG.md, "Periods").

``fiscal_year_start`` (kpi.toml, 1-12) is the first month of the fiscal year; a fiscal
year is named after the calendar year in which it ends. With the default (1) quarters
are calendar quarters named ``2026-Q3`` and years ``2026``; otherwise ``FY2027-Q1`` and
``FY2027``. A period is the half-open interval [start of ``first``, start of the month
after ``last``); one that runs past the data's last month is *to date*: ``through`` is
its last month with data.

>>> cal = Calendar(2)
>>> q = cal.period("quarter", Month.parse("2026-03"))
>>> q.label, str(q.first), str(q.last)
('FY2027-Q1', '2026-02', '2026-04')
>>> str(cal.period("year", Month.parse("2026-01")))
'FY2026'
>>> cal.to_date("quarter", Month.parse("2026-03")).status
'to date (2 of 3 months)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .errors import KitError
from .months import Month, month_index

PERIOD_KINDS = ("month", "quarter", "year")
MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(FY)?([0-9]{4})-Q([1-4])$")
_YEAR = re.compile(r"^(FY)?([0-9]{4})$")


@dataclass(frozen=True, order=True)
class Period:
    """One period: its ``kind`` (month, quarter, year), its ``first`` and ``last`` month,
    its ``label`` (``2026-10``, ``2026-Q4``, ``FY2027-Q1``, ``FY2027``) and ``through``,
    its last month with data (``last`` unless the period is to date).

    >>> p = Calendar().period("quarter", Month.parse("2026-11"))
    >>> p.label, p.n_months, p.to_date
    ('2026-Q4', 3, False)
    """

    first: Month
    last: Month
    kind: str
    label: str
    through: Month

    @property
    def n_months(self) -> int:
        """The months the period spans (3 for a quarter, to date or not)."""
        return self.last.index - self.first.index + 1

    @property
    def months_with_data(self) -> int:
        """The months from ``first`` to ``through``: k of "to date (k of n months)"."""
        return self.through.index - self.first.index + 1

    @property
    def to_date(self) -> bool:
        """True when the period runs past its last month with data."""
        return self.through < self.last

    @property
    def status(self) -> str:
        """``"to date (2 of 3 months)"`` for a period to date, else ``""``."""
        if not self.to_date:
            return ""
        return f"to date ({self.months_with_data} of {self.n_months} months)"

    def months(self) -> list[Month]:
        """The months with data: ``first`` .. ``through``."""
        return [Month(i) for i in range(self.first.index, self.through.index + 1)]

    def all_months(self) -> list[Month]:
        """Every month of the period: ``first`` .. ``last``."""
        return [Month(i) for i in range(self.first.index, self.last.index + 1)]

    def cut(self, through: Month) -> Period:
        """The period with data through ``through`` (clamped to ``first``..``last``).

        >>> q = Calendar().period("quarter", Month.parse("2026-10"))
        >>> q.cut(Month.parse("2026-11")).status
        'to date (2 of 3 months)'
        """
        last = min(max(through, self.first), self.last)
        return replace(self, through=last)

    def shifted(self, n_periods: int, calendar: Calendar) -> Period:
        """The period ``n_periods`` of the same kind later (earlier when negative), with
        the same number of leading months with data (QTD against the same months).

        >>> cal = Calendar()
        >>> q = cal.period("quarter", Month.parse("2026-11")).cut(Month.parse("2026-11"))
        >>> p = q.shifted(-1, cal)
        >>> p.label, str(p.through)
        ('2026-Q3', '2026-08')
        """
        step = MONTHS_IN[self.kind] * n_periods
        other = calendar.period(self.kind, self.first + step)
        return replace(other, through=other.first + (self.months_with_data - 1))

    def previous(self, calendar: Calendar) -> Period:
        """The previous period of the same kind (same leading months when to date)."""
        return self.shifted(-1, calendar)

    def year_before(self, calendar: Calendar) -> Period:
        """The same period a year before (same leading months when to date)."""
        return self.shifted(-(12 // MONTHS_IN[self.kind]), calendar)

    @property
    def start(self) -> str:
        """``first`` as ``YYYY-MM`` (the tidy output's ``period_start``)."""
        return str(self.first)

    @property
    def end(self) -> str:
        """``last`` as ``YYYY-MM`` (the tidy output's ``period_end``)."""
        return str(self.last)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Calendar:
    """The fiscal calendar of ``fiscal_year_start`` (1-12): which quarter and year a
    month is in, their labels, and parsing of those labels.

    >>> cal = Calendar(11)
    >>> q = cal.period("quarter", Month.parse("2026-01"))
    >>> q.label, str(q.first), str(q.last)
    ('FY2026-Q1', '2025-11', '2026-01')
    """

    fiscal_year_start: int = 1

    def __post_init__(self) -> None:
        if not 1 <= int(self.fiscal_year_start) <= 12:
            raise KitError(
                f"fiscal_year_start = {self.fiscal_year_start!r}: write a month number "
                "from 1 (January) to 12 (December) in kpi.toml."
            )

    @property
    def fiscal(self) -> bool:
        """True when years do not follow the calendar (labels carry ``FY``)."""
        return self.fiscal_year_start != 1

    def year_first(self, month: Month) -> Month:
        """The first month of ``month``'s fiscal year."""
        return month - (month.month - self.fiscal_year_start) % 12

    def fiscal_year(self, month: Month) -> int:
        """The fiscal year ``month`` is in: the calendar year in which that year ends."""
        return (self.year_first(month) + 11).year

    def period(self, kind: str, month: Month) -> Period:
        """The period of ``kind`` (month, quarter, year) holding ``month``, complete.

        >>> str(Calendar(4).period("year", Month.parse("2027-03")))
        'FY2027'
        """
        if kind not in PERIOD_KINDS:
            raise KitError(f"--period {kind!r}: choose one of {', '.join(PERIOD_KINDS)}.")
        if kind == "month":
            return Period(month, month, kind, str(month), month)
        year_first = self.year_first(month)
        fy = self.fiscal_year(month)
        prefix = "FY" if self.fiscal else ""
        if kind == "year":
            return Period(year_first, year_first + 11, kind, f"{prefix}{fy}", year_first + 11)
        q = (month.index - year_first.index) // 3
        first = year_first + 3 * q
        return Period(first, first + 2, kind, f"{prefix}{fy}-Q{q + 1}", first + 2)

    def periods_ending(self, kind: str, month: Month, n: int) -> list[Period]:
        """The ``n`` periods of ``kind`` ending with the one holding ``month``, oldest
        first (complete periods; cut the last one to the data yourself).

        >>> [p.label for p in Calendar().periods_ending("quarter", Month.parse("2026-02"), 2)]
        ['2025-Q4', '2026-Q1']
        """
        last = self.period(kind, month)
        step = MONTHS_IN[kind]
        return [self.period(kind, last.first - step * i) for i in range(n - 1, -1, -1)]

    def to_date(self, kind: str, month: Month) -> Period:
        """The to-date span of ``month``'s quarter or year up to and including ``month``
        (QTD, YTD).

        >>> Calendar().to_date("quarter", Month.parse("2026-11")).status
        'to date (2 of 3 months)'
        """
        return self.period(kind, month).cut(month)

    def parse(self, text: str) -> Period:
        """A period from its label: ``2026-10``, ``2026-Q4``, ``FY2027-Q1``, ``FY2027`` or
        ``2026``; a clear error for anything else or a label of the other calendar.

        >>> Calendar(2).parse("FY2027-Q1").start
        '2026-02'
        """
        s = str(text).strip()
        if m := _MONTH.match(s):
            return self.period("month", Month(month_index(int(m[1]), int(m[2]))))
        q, y = _QUARTER.match(s), _YEAR.match(s)
        found = q or y
        if found is None:
            raise KitError(
                f"{text!r} is not a period: write a month (2026-10), a quarter "
                f"({self._example('quarter')}) or a year ({self._example('year')})."
            )
        if bool(found[1]) != self.fiscal:
            raise KitError(
                f"{text!r}: with fiscal_year_start = {self.fiscal_year_start} periods are "
                f"named like {self._example('quarter')} and {self._example('year')}."
            )
        year = int(found[2])
        # the last month of fiscal year ``year`` is the month before its start, in ``year``
        year_last = Month(month_index(year, self.fiscal_year_start)) - 1
        if self.fiscal_year_start == 1:
            year_last = Month(month_index(year, 12))
        year_first = year_last - 11
        if q:
            return self.period("quarter", year_first + 3 * (int(q[3]) - 1))
        return self.period("year", year_first)

    def _example(self, kind: str) -> str:
        return self.period(kind, Month(month_index(2026, 12))).label
