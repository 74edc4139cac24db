"""kpi-kit's ``sc://`` source on a real Spark Connect server (started from pyspark's own
jars on 127.0.0.1, once per session: ``spark_connect`` in conftest): the whole catalog
for 3 months and every scope gives the same numbers as DuckDB.

A module of its own, so that the test runs beside the other backends' parity tests
(test_parity.py), not after them; in-process Spark there checks the quarters' queries
and the table KPIs, which run the same code.
"""

from __future__ import annotations

import os

import pytest
from conftest import assert_same_scalars

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset
from kpi_helpers.data.sample_data import generate

MONTH = "2025-03"  # 3 months: 2025-01..2025-03 of a sample ending 2025-06


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("connect") / "data"
    generate(out, seed=5, end_month="2025-06", months=24, fmt="parquet")
    return out


@pytest.fixture
def own_environment():
    """A Spark Connect session marks its process (``SPARK_CONNECT_MODE_ENABLED``, which
    stopping a remote session leaves set): after it, a local Spark session of another
    test on this worker would look for a Connect URL. The test's changes are undone."""
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


def test_spark_connect_parity(sample, spark_connect, own_environment):
    """The sample's tables saved in the server's database ``sales``; the catalog's
    scalars the same as on DuckDB (conftest.assert_same_scalars);
    the facts the engine keeps (data.keep_table) work there too."""
    from pyspark.sql import SparkSession

    duck = open_dataset(sample)
    expected = kpis.compute(duck, MONTH, months=3, scope="all")
    session = SparkSession.builder.remote(spark_connect).create()
    try:
        session.sql("CREATE DATABASE IF NOT EXISTS sales")
        for name in duck.tables:
            frame = session.read.parquet(str(sample / f"{name}.parquet"))
            frame.write.mode("overwrite").saveAsTable(f"sales.{name}")
    finally:
        session.stop()
    ds = open_dataset(f"{spark_connect}/;database=sales")
    try:
        assert ds.backend == "pyspark" and set(ds.tables) == set(duck.tables)
        actual = kpis.compute(ds, MONTH, months=3, scope="all")
    finally:
        ds.close()
    assert_same_scalars(expected, actual)
