"""Dates in foreign exports: strptime formats, ISO 8601 with zones, Excel serial numbers."""

from __future__ import annotations

import pandas as pd

from .contract import ZONED_TEXT

# Excel counts days from 1899-12-30 (its 1900 leap-year bug makes that 1900-03-01 = 61)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_LAST = 2958465  # 9999-12-31
# text that looks like an Excel serial date of 1927 to 2173 (10000 to 99999 days)
EXCEL_SERIAL = r"^\s*[1-9][0-9]{4}(\.[0-9]+)?\s*$"


def excel_dates_fix(table: str, column: str) -> str:
    """The fix for serial numbers in a date column: the ``"excel"`` dates format.

    >>> excel_dates_fix("orders", "ordered_at")[51:93]
    '[tables.orders.dates] ordered_at = "excel"'
    """
    return (
        f"If these are Excel serial dates, map them as such: [tables.{table}.dates] "
        f'{column} = "excel" (a [tables.{table}] section naming only the file, without '
        "columns, keeps the file's columns as they are)."
    )


def _read_dates(values: pd.Series, fmt: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``values`` read with ``fmt`` (or ``"iso"``, or ``"excel"``): the text, the naive
    timestamps (a value with a zone at its UTC time, else as written; NaT where it does
    not read) and which values had a zone."""
    text = values.astype("string").str.strip()
    if fmt == "excel":
        days = pd.to_numeric(text, errors="coerce")
        days = days.where((days >= 1) & (days <= _EXCEL_LAST))
        parsed = (EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("s")
        return text, parsed, pd.Series(False, index=text.index)
    pattern = "ISO8601" if fmt == "iso" else fmt
    if "%z" in fmt:
        zoned = text.notna() & (text != "")
    elif fmt == "iso":
        zoned = text.str.contains(ZONED_TEXT, regex=True)
    else:
        zoned = pd.Series(False, index=text.index)
    zoned = zoned.fillna(False).astype(bool)
    parsed = pd.to_datetime(text.where(~zoned), format=pattern, errors="coerce", utc=True)
    if zoned.any():
        instants = pd.to_datetime(text.where(zoned), format=pattern, errors="coerce", utc=True)
        parsed = parsed.where(~zoned, instants)
    return text, parsed.dt.tz_localize(None), zoned


def parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Parse with ``fmt`` (or ``"iso"``, or ``"excel"``); values that do not match keep
    their text for validation. A value with a zone comes out as text at its UTC time with
    ``+00:00``, which the dataset converts to its timezone like any zone-aware timestamp
    (the rule lives there: :func:`kpi_helpers.data.casting.cast_to_contract`); the others
    as naive timestamps, taken as already in that zone.

    >>> parse_dates(pd.Series(["2016-10-20T23:30:00.000-02:00", "2016-10-20"]), "iso").tolist()
    ['2016-10-21 01:30:00.000000+00:00', '2016-10-20 00:00:00.000000']
    >>> parse_dates(pd.Series(["20/10/2016", ""]), "%d/%m/%Y").tolist()
    [Timestamp('2016-10-20 00:00:00'), NaT]
    >>> parse_dates(pd.Series(["45567", "45567.75"]), "excel").tolist()
    [Timestamp('2024-10-02 00:00:00'), Timestamp('2024-10-02 18:00:00')]
    """
    text, parsed, zoned = _read_dates(values, fmt)
    bad = parsed.isna() & text.notna() & (text != "")
    zoned &= ~bad
    if not bad.any() and not zoned.any():
        return parsed
    out = parsed.dt.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if zoned.any() else ""))
    out = out.astype("object")
    out[zoned] = out[zoned] + "+00:00"
    out[bad] = text[bad]
    return out


def date_format_fits(values: pd.Series, fmt: str) -> bool:
    """True when every non-empty value reads with ``fmt`` (a strptime format or ``"iso"``).

    >>> date_format_fits(pd.Series(["3/1/2017 00:00", ""]), "%m/%d/%Y %H:%M")
    True
    >>> date_format_fits(pd.Series(["13/1/2017 00:00"]), "%m/%d/%Y %H:%M")
    False
    """
    text, parsed, _ = _read_dates(values, fmt)
    return not (parsed.isna() & text.notna() & (text != "")).any()
