"""Cast a source's columns to the types of the data contract, its timestamps to the
dataset's time zone: what :func:`kpi_helpers.data.sources.open_dataset` does to every
table it reads, on DuckDB, PostgreSQL and Spark alike. Example::

    typed(con.table("orders"), TABLES["orders"], lenient=True, timezone="Europe/Berlin")

Timestamps come out naive, as the wall-clock time in the dataset's zone: a zone-aware
one (an instant) is converted to it, on the backend and whatever its session's zone;
a naive one, a date or text without a zone is taken as already in it.
"""

from __future__ import annotations

from collections.abc import Collection

import ibis
import ibis.expr.datatypes as dt

from kpi_helpers.core import DEFAULT_TIMEZONE, KitError

from .contract import DATE, FLOAT, INT, MONTH, STR, TIMESTAMP, ZONED_TEXT, Table

__all__ = ["cast_to_contract", "typed", "wall_time"]


@ibis.udf.scalar.builtin(name="timezone")
def _timezone(zone: str, instant: dt.Timestamp(timezone="UTC")) -> dt.Timestamp():
    """DuckDB's and PostgreSQL's ``timezone(zone, timestamptz)``: the wall-clock time in
    ``zone``, whatever the session's TimeZone."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _from_utc_timestamp(instant: dt.Timestamp(), zone: str) -> dt.Timestamp():
    """Spark's ``from_utc_timestamp(ts, zone)``: the instant moved so that it reads, in
    the session's zone (UTC: :func:`kpi_helpers.data.sources.from_backend` sets it), as
    the wall-clock time in ``zone``."""


def wall_time(instant: ibis.Value, timezone: str) -> ibis.Value:
    """A zone-aware timestamp (an instant) as the wall-clock time in ``timezone``, without
    the zone: the one conversion of the kit's timestamps, on DuckDB, PostgreSQL and Spark.

    >>> t = ibis.memtable({"at": ["2026-04-01T02:00:00Z"]})
    >>> at = t["at"].cast(dt.Timestamp(timezone="UTC"))
    >>> t.select(local=wall_time(at, "America/New_York")).to_pandas()["local"].tolist()
    [Timestamp('2026-03-31 22:00:00')]
    """
    backend = ibis.get_backend(instant).name
    if backend in ("duckdb", "postgres"):
        return _timezone(timezone, instant)
    if backend == "pyspark":
        return _from_utc_timestamp(instant, timezone)
    if timezone == DEFAULT_TIMEZONE:
        return instant.cast(dt.Timestamp())  # Ibis runs its sessions in UTC
    raise KitError(
        f"timezone = {timezone!r} is supported on DuckDB, PostgreSQL and Spark, not on "
        f"{backend}; convert the timestamps in the database, or leave timezone at UTC."
    )


def cast_to_contract(
    col: ibis.Value,
    kind: str,
    lenient: bool,
    timezone: str = DEFAULT_TIMEZONE,
    instant: bool | None = None,
) -> ibis.Value:
    """Cast ``col`` to the contract type ``kind``; unparseable text becomes NULL when
    ``lenient`` (DuckDB's TRY_CAST), so validation can count it against the raw value.

    Timestamps end up naive, in ``timezone`` (the dataset's): a zone-aware one (an
    instant: a zone in its type, or ``instant`` for Spark's TIMESTAMP, which Ibis types
    as naive) and text with a zone (``ZONED_TEXT``) become the wall-clock time there
    (:func:`wall_time`); naive timestamps, dates and text without a zone are kept as
    written. E.g. ``cast_to_contract(t.closed_at, "timestamp", True, "Europe/Berlin")``.
    """
    dtype = col.type()
    if instant is None:
        instant = dtype.is_timestamp() and dtype.timezone is not None

    def to(target: str | dt.DataType) -> ibis.Value:
        return col.try_cast(target) if lenient else col.cast(target)

    if kind == STR:
        return col if dtype.is_string() else col.cast("string")
    if kind in (TIMESTAMP, DATE):
        if dtype.is_timestamp():
            return wall_time(col, timezone) if instant else col
        if dtype.is_date():
            return col.cast("timestamp")
        if dtype.is_string():
            zoned = wall_time(to(dt.Timestamp(timezone="UTC")), timezone)
            return col.re_search(ZONED_TEXT).ifelse(zoned, to(dt.Timestamp()))
        return to("timestamp")
    if kind in (FLOAT, INT):
        if dtype.is_floating():
            return col if dtype == dt.float64 else col.cast("float64")
        if dtype.is_numeric() or dtype.is_boolean():
            return col.cast("float64")
        return to("float64")
    if kind == MONTH:
        if dtype.is_timestamp() and instant:
            return wall_time(col, timezone).strftime("%Y-%m")
        if dtype.is_timestamp() or dtype.is_date():
            return col.strftime("%Y-%m")
        return col if dtype.is_string() else col.cast("string")
    raise ValueError(kind)


def typed(
    table: ibis.Table,
    spec: Table,
    lenient: bool = True,
    timezone: str = DEFAULT_TIMEZONE,
    instants: Collection[str] = (),
) -> ibis.Table:
    """``table`` with every contract column cast to its contract type, timestamps in
    ``timezone`` (see :func:`cast_to_contract`; ``instants`` names Spark TIMESTAMP
    columns); other columns kept. E.g. ``typed(raw, TABLES["orders"], True, "UTC")``."""
    changes = {}
    for name in table.columns:
        column = spec.column(name)
        if column is not None:
            cast = cast_to_contract(
                table[name], column.kind, lenient, timezone, True if name in instants else None
            )
            if cast is not table[name]:
                changes[name] = cast.name(name)
    return table.mutate(**changes) if changes else table
