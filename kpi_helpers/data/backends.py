"""The connections a dataset runs on, and how each keeps a table it reads again.

- **DuckDB** (folders, workbooks, ``.duckdb`` files) runs with a ``memory_limit``
  (``KPI_KIT_MEMORY_LIMIT``, e.g. ``4GB``; default 60 % of the machine's memory) and a
  ``temp_directory`` of its own, so a query larger than memory spills to disk instead
  of failing; a pack moves it into its output folder (:func:`spill_to`).
- **Spark Connect** (``sc://HOST:PORT``, optionally ``/;database=NAME``): Ibis' PySpark
  backend on a remote Spark session (:func:`connect_spark`).
- **Keeping a table** (:func:`keep_table`): Ibis' ``.cache()`` where the backend caches (a
  temporary table in DuckDB and PostgreSQL, a cached DataFrame in Spark in-process). A
  Spark Connect session re-reads the SQL of a cached DataFrame at every use, and the
  ``WITH`` clauses Ibis writes get new ids each time, so Spark never finds the cached copy
  (``CACHE TABLE v AS ...`` is not found either): there the table is a local checkpoint
  (computed once, kept by the executors) behind a temporary view. Example::

      with keep_table(ds, ds.table("orders").filter(...)) as facts:
          facts.count().execute()
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import Protocol

import ibis
from ibis.expr.types import CachedTable

from kpi_helpers.core import KitError

from .readers import first_line


class Dataset(Protocol):
    """What this module uses of a ``sources.Dataset`` (which imports this module)."""

    con: ibis.BaseBackend
    cache: dict

    def check_open(self) -> None: ...


MEMORY_LIMIT_ENV = "KPI_KIT_MEMORY_LIMIT"
MEMORY_SHARE = 0.6  # of the machine's memory, when KPI_KIT_MEMORY_LIMIT is not set
SPARK_CONNECT = re.compile(r"^sc://", re.IGNORECASE)


def memory_limit() -> str:
    """DuckDB's ``memory_limit``: ``KPI_KIT_MEMORY_LIMIT`` (DuckDB units: ``512MB``,
    ``4GB``, ``2GiB``), else 60 % of the machine's memory in MiB.

    >>> os.environ["KPI_KIT_MEMORY_LIMIT"] = "4GB"; memory_limit()
    '4GB'
    >>> del os.environ["KPI_KIT_MEMORY_LIMIT"]; memory_limit().endswith("MiB")
    True
    """
    given = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if given:
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", given, re.I):
            raise KitError(
                f"{MEMORY_LIMIT_ENV}={given!r} is not an amount of memory: write a number and "
                "a unit, e.g. 4GB or 512MB (units KB, MB, GB, TB, KiB, MiB, GiB, TiB)."
            )
        return given
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{int(total * MEMORY_SHARE / 2**20)}MiB"


def duckdb_connect(path: str | Path | None = None, read_only: bool = False) -> ibis.BaseBackend:
    """A DuckDB connection (in memory, or the database file ``path``) with the kit's
    ``memory_limit`` and a spill folder of its own in the system's temporary folder
    (created by DuckDB when it first spills; closing the dataset removes it).

    >>> con = duckdb_connect()
    >>> con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]  # doctest: +ELLIPSIS
    '.../kpi-kit-spill-...'
    """
    spill = Path(tempfile.gettempdir()) / f"kpi-kit-spill-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    options = {"memory_limit": memory_limit(), "temp_directory": str(spill)}
    if path is None:
        return ibis.duckdb.connect(**options)
    return ibis.duckdb.connect(str(path), read_only=read_only, **options)


def spill_to(ds: Dataset, folder: str | Path) -> None:
    """Let the DuckDB of ``ds`` spill into ``folder`` (a pack's build folder) from now on
    (its own spill folder is removed); nothing for other backends."""
    if ds.con.name != "duckdb":
        return
    before = own_spill(ds.con)
    try:
        ds.con.raw_sql(f"SET temp_directory = '{Path(folder)}'")
    except Exception:  # noqa: BLE001 - DuckDB keeps a folder it already spilled into
        return
    if before is not None:
        shutil.rmtree(before, ignore_errors=True)


def own_spill(con: ibis.BaseBackend) -> Path | None:
    """The spill folder :func:`duckdb_connect` gave ``con``, to remove once it is
    disconnected; None for other backends and for a folder it was moved to
    (:func:`spill_to`: that belongs to its owner)."""
    if con.name != "duckdb":
        return None
    folder = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    return Path(folder) if folder and Path(folder).name.startswith("kpi-kit-spill-") else None


# ----------------------------------------------------------------------- Spark Connect


def split_database(url: str) -> tuple[str, str | None]:
    """A Spark Connect URL without its ``database`` parameter, and that database.

    >>> split_database("sc://spark:15002/;database=sales;token=abc")
    ('sc://spark:15002/;token=abc', 'sales')
    >>> split_database("sc://127.0.0.1:15002")
    ('sc://127.0.0.1:15002', None)
    """
    base, *params = url.split(";")
    database = None
    kept = []
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "database":
            database = value.strip() or None
        else:
            kept.append(param)
    return ";".join([base, *kept]), database


def connect_spark(url: str, database: str | None = None) -> ibis.BaseBackend:
    """Ibis' PySpark backend on a new Spark Connect session at ``url``
    (``sc://HOST:PORT``, Spark Connect's own ``;token=...`` parameters kept), reading the
    tables of ``database`` (``--database``, else the URL's ``;database=``, else the
    session's current one). Needs ``pyspark[connect]`` (requirements.txt pins it).

    >>> con = connect_spark("sc://127.0.0.1:15002/;database=sales")  # doctest: +SKIP
    """
    address, in_url = split_database(url)
    database = database or in_url
    shown = address.split(";")[0]
    try:
        from pyspark.sql import SparkSession

        session = SparkSession.builder.remote(address).create()
        con = ibis.pyspark.connect(session)
    except ImportError as exc:
        raise KitError(
            f"Spark Connect needs the pyspark[connect] packages (grpcio, grpcio-status, "
            f"googleapis-common-protos): {first_line(exc)}. Install requirements.txt."
        ) from None
    except Exception as exc:  # gRPC errors: refused, unknown host, bad token
        raise KitError(
            f"Could not connect to Spark Connect at {shown}: {first_line(exc)}. Check that "
            "the server is running and the URL (sc://HOST:PORT) is right."
        ) from None
    if database:
        try:
            con.raw_sql(f"USE `{database.replace('`', '``')}`")
        except Exception as exc:
            con.disconnect()
            raise KitError(
                f"Spark Connect at {shown} has no database {database!r}: "
                f"{first_line(exc)}. Name one of SHOW DATABASES in ;database= or --database."
            ) from None
    return con


def is_spark_connect(con: ibis.BaseBackend) -> bool:
    """Whether ``con`` is Ibis' PySpark backend on a Spark Connect session."""
    if con.name != "pyspark":
        return False
    return type(con.raw_sql("SELECT 1")).__module__.startswith("pyspark.sql.connect")


# ----------------------------------------------------------------------- keeping a table


class KeptTable(CachedTable):
    """A table :func:`keep_table` checkpointed on Spark Connect: ``release()`` (or the end of a
    ``with`` block, or closing the dataset) drops its view and lets Spark free it."""

    def release(self) -> None:
        finalizer = _KEPT.pop(self.op().name, None)
        if finalizer is not None:
            finalizer()


_KEPT: dict[str, weakref.finalize] = {}


def keep_table(ds: Dataset, table: ibis.Table) -> CachedTable:
    """``table`` computed once and kept in the dataset's backend for the queries that read
    it again, on every backend (see the module's docstring); release it with ``with`` or
    ``.release()``, or it goes when nothing refers to it or the dataset closes.

    >>> with keep_table(ds, ds.table("orders")) as orders:  # doctest: +SKIP
    ...     orders.count().execute()
    """
    ds.check_open()
    if ibis.options.verbose:  # kpi-kit compute --profile: a kept table is a query too
        ibis.options.verbose_log(f"(kept) {ds.con.compile(table)}")
    key = ("spark_connect",)
    if key not in ds.cache:
        ds.cache[key] = is_spark_connect(ds.con)
    if not ds.cache[key]:
        return table.cache()
    con = ds.con
    name = f"kpi_kept_{uuid.uuid4().hex}"
    frame = con.raw_sql(con.compile(table)).localCheckpoint(eager=True)
    frame.createTempView(name)
    view = con.table(name)

    def release(frame=frame) -> None:
        _KEPT.pop(name, None)
        try:
            con.raw_sql(f"DROP VIEW IF EXISTS `{name}`")
            frame.unpersist()
        except Exception:  # noqa: BLE001 - the session is gone: so is what it kept
            pass

    finalizer = weakref.finalize(view.op(), release)
    finalizer.atexit = False  # at exit the session is going away anyway
    _KEPT[name] = finalizer
    return KeptTable(view.op())
