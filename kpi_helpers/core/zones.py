"""The time zone in which a dataset's months begin and end (``timezone`` in kpi.toml).

An IANA name (``"Europe/Berlin"``, ``"America/New_York"``; default ``"UTC"``). Zone-aware
timestamps are converted to it and kept as the wall-clock time there; naive timestamps
and plain dates are taken as already in it (see :mod:`kpi_helpers.data.casting`).

>>> check_timezone("Europe/Berlin")
'Europe/Berlin'
>>> isinstance(today_in("Pacific/Auckland"), date)
True
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from .config import DEFAULT_TIMEZONE, ZONE
from .errors import KitError

__all__ = ["DEFAULT_TIMEZONE", "check_timezone", "now_in", "today_in"]


def check_timezone(name: object, where: str = "timezone") -> str:
    """``name`` when it is an IANA time zone name, else one KitError naming ``where`` with
    the closest names: the rule of kpi.toml's ``timezone`` (``config.ZONE``), for a zone
    given in Python (``open_dataset(..., timezone=...)``).

    >>> check_timezone("Europe/Berln")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kpi_helpers.core.errors.KitError: timezone must be an IANA ... (did you mean Europe/Berlin...
    """
    zone = ZONE.parse(name)
    if zone is None:
        shown = f'"{name}"' if isinstance(name, str) else repr(name)
        raise KitError(f"{where} must be {ZONE.expected}, not {shown}{ZONE.hint(name)}.")
    return zone


def now_in(timezone: str) -> datetime:
    """The clock's time now as the wall-clock time in ``timezone``, without the zone (as
    the kit stores timestamps), whatever the computer's own zone.

    >>> now_in("UTC").tzinfo is None
    True
    """
    return datetime.now(zoneinfo.ZoneInfo(timezone)).replace(tzinfo=None)


def today_in(timezone: str) -> date:
    """Today's date in ``timezone`` (a month ends at midnight there, not on the computer's
    clock): ``today_in("Pacific/Auckland")`` is already tomorrow in the evening in Europe."""
    return now_in(timezone).date()
