"""Which months a dataset covers, and the month a command names.

>>> from kpi_helpers.core.months import Month
>>> str(Month.previous())  # doctest: +SKIP
'2026-11'
"""

from __future__ import annotations

import pandas as pd

from kpi_helpers.core import KitError, Month, today_in

from .contract import EVENT_COLUMNS
from .sources import Dataset


def data_months(ds: Dataset) -> tuple[Month, Month]:
    """The first and last month holding any lead, deal, activity or order (kept on ``ds``)."""
    if "data_months" in ds.cache:
        return ds.cache["data_months"]
    bounds = []
    for table, col in EVENT_COLUMNS.items():
        if ds.has(table, col):
            t = ds.table(table)
            row = t.aggregate(lo=t[col].min(), hi=t[col].max()).to_pandas().iloc[0]
            bounds += [v for v in (row["lo"], row["hi"]) if pd.notna(v)]
    if not bounds:
        raise KitError(f"The dataset ({ds.description}) has no dated rows: nothing to compute.")
    lo, hi = min(bounds), max(bounds)
    out = Month.of(lo), Month.of(hi)
    ds.cache["data_months"] = out
    return out


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


def check_month(ds: Dataset, month: Month) -> None:
    """A clear error when ``month`` (the month asked for) is outside the dataset's months.
    Earlier months of a series may lie before the data: they are not available."""
    lo, hi = data_months(ds)
    if not lo <= month <= hi:
        raise KitError(f"No data for {month}: the dataset covers {lo}..{hi}.")
