"""Which months a dataset covers, and the month a command names.

>>> from kpi_helpers.core.months import Month
>>> str(Month.previous())  # doctest: +SKIP
'2026-11'
"""

from __future__ import annotations

import ibis
import pandas as pd

from kpi_helpers.core import Calendar, KitError, Month, Period, now_in, today_in

from .contract import CLOSED_STAGES, FIRST_EVENTS, PAST_EVENTS
from .sources import Dataset


def _event_bounds(ds: Dataset) -> dict[str, tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
    """Per past-event column (``table.column``), its first and last timestamp and the last
    one not after now: one query per table, kept on ``ds``; the same query keeps the first
    ``closed_at`` of a closed deal (:func:`first_event`, ``ds.cache["first_closed_at"]``)."""
    if "event_bounds" in ds.cache:
        return ds.cache["event_bounds"]
    now = ibis.timestamp(now_in(ds.timezone).replace(microsecond=0))  # the dataset's clock
    out = {}
    for table, columns in PAST_EVENTS.items():
        cols = [c for c in columns if ds.has(table, c)]
        if not cols:
            continue
        t = ds.table(table)
        aggs = {}
        for i, c in enumerate(cols):
            aggs |= {f"lo{i}": t[c].min(), f"hi{i}": t[c].max()}
            aggs[f"past{i}"] = t[c].max(where=t[c] <= now)
        closed = table == FIRST_EVENTS["closed_deal"][0] and ds.has(table, "closed_at", "stage")
        if closed:
            aggs["closed"] = t.closed_at.min(where=t.stage.isin(list(CLOSED_STAGES)))
        row = t.aggregate(**aggs).to_pandas().iloc[0]
        if closed:
            ds.cache["first_closed_at"] = row["closed"]
        for i, c in enumerate(cols):
            out[f"{table}.{c}"] = tuple(
                pd.Timestamp(row[k]) if pd.notna(row[k]) else None
                for k in (f"lo{i}", f"hi{i}", f"past{i}")
            )
    ds.cache["event_bounds"] = out
    return out


def data_through(ds: Dataset) -> dict[str, pd.Timestamp]:
    """Per table, the latest timestamp of its past-event columns not after now
    (DATA_CONTRACT.md, "Data through": created_at, closed_at, ordered_at, occurred_at,
    responded_at, started_at / ended_at; never an expected close date, targets or costs).

    A deal created on 2017-12-27 and closed on 2017-12-31 puts the opportunities through
    2017-12-31::

        data_through(ds)  # {'opportunities': Timestamp('2017-12-31 00:00:00')}
    """
    out: dict[str, pd.Timestamp] = {}
    for key, (_, _, past) in _event_bounds(ds).items():
        table = key.partition(".")[0]
        if past is not None and (table not in out or past > out[table]):
            out[table] = past
    return out


def ends_early(through: dict[str, pd.Timestamp]) -> str:
    """The tables of ``through`` (:func:`data_through`) that end more than a month before
    the latest of them, in words ("" when none): the pack header names them.

    >>> ends_early({"opportunities": pd.Timestamp("2017-12-31"),
    ...             "leads": pd.Timestamp("2017-06-30")})
    'leads end 2017-06-30'
    """
    if not through:
        return ""
    latest = max(through.values())
    early = [
        f"{table} end {day:%Y-%m-%d}"
        for table, day in sorted(through.items())
        if day < latest - pd.DateOffset(months=1)
    ]
    return ", ".join(early)


def data_months(ds: Dataset) -> tuple[Month, Month]:
    """The first month holding any past event (a lead, deal, activity, order line,
    subscription or NPS answer) and the month the data runs through (:func:`data_through`;
    the last event when every event lies after now). Kept on ``ds``.

    >>> [str(m) for m in data_months(ds)]  # doctest: +SKIP
    ['2016-10', '2017-12']
    """
    if "data_months" in ds.cache:
        return ds.cache["data_months"]
    bounds = _event_bounds(ds)
    lows = [lo for lo, _, _ in bounds.values() if lo is not None]
    if not lows:
        raise KitError(f"The dataset ({ds.description}) has no dated rows: nothing to compute.")
    through = list(data_through(ds).values()) or [hi for _, hi, _ in bounds.values() if hi]
    out = Month.of(min(lows)), Month.of(max(through))
    ds.cache["data_months"] = out
    return out


def first_event(ds: Dataset, event: str) -> Month | None:
    """The month of the dataset's first ``event`` (a name of ``FIRST_EVENTS``: ``deal``,
    ``closed_deal``, ``order_line``, ``lead``, ...), None when the data has none. Where a
    KPI's data starts is the latest of the first events of its inputs (DATA_CONTRACT.md).

    >>> str(first_event(ds, "closed_deal"))  # doctest: +SKIP
    '2017-03'
    """
    key = ("first_event", event)
    if key not in ds.cache:
        table, column, _ = FIRST_EVENTS[event]
        first = None
        if event == "closed_deal" and ds.has(table, column, "stage"):
            _event_bounds(ds)  # its query also finds the first closed deal
            first = ds.cache["first_closed_at"]
        elif event != "closed_deal":
            first = (_event_bounds(ds).get(f"{table}.{column}") or (None,))[0]
        ds.cache[key] = Month.of(pd.Timestamp(first)) if pd.notna(first) else None
    return ds.cache[key]


def start_reason(event: str | None, month: Month) -> str:
    """The reason of a month before a KPI's data starts at ``month`` with ``event``
    (None: the dataset's first month).

    >>> start_reason("closed_deal", Month.parse("2017-03"))
    'before the first closed deal, 2017-03'
    >>> start_reason(None, Month.parse("2016-10"))
    'before the data starts, 2016-10'
    """
    what = FIRST_EVENTS[event][2] if event else "the data starts"
    return f"before {what}, {month}"


def month_asked(ds: Dataset, text: str | Month) -> Month:
    """The month a command names: ``YYYY-MM``, ``latest`` (the data's last month) or
    ``previous`` (the last complete calendar month in the dataset's timezone, for
    monthly schedules).

    >>> str(month_asked(ds, "2026-10"))  # doctest: +SKIP
    '2026-10'
    """
    if isinstance(text, Month):
        return text
    if text in ("", "latest"):
        return data_months(ds)[1]
    if text == "previous":
        return Month.previous(today_in(ds.timezone))
    return Month.parse(text)


def period_with_data(ds: Dataset, month: Month, period: str, fiscal_year_start: int = 1) -> Period:
    """The ``period`` ("month", "quarter" or "year" of the fiscal calendar starting in
    ``fiscal_year_start``) holding ``month``, cut to the data's last month: its
    ``through`` is its last month with data, and it is to date when the data ends inside
    it. The one rule of "the period of a month" for tables, packs, pages, alerts and
    drivers.

    Example: on data through 2026-11, ``period_with_data(ds, Month.parse("2026-10"),
    "quarter").status`` is ``"to date (2 of 3 months)"`` and its ``through`` 2026-11.
    """
    return Calendar(fiscal_year_start).period(period, month).cut(data_months(ds)[1])


def check_month(ds: Dataset, month: Month) -> None:
    """A clear error when ``month`` (the month asked for) is outside the dataset's months.
    Earlier months of a series may lie before the data: they are not available."""
    lo, hi = data_months(ds)
    if not lo <= month <= hi:
        raise KitError(f"No data for {month}: the dataset covers {lo}..{hi}.")
