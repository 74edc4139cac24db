"""The same KPI definitions give the same numbers on DuckDB, PostgreSQL and Spark.

The small sample dataset is loaded into a real PostgreSQL server (started by the test
setup on 127.0.0.1) and into Spark in local mode. On PostgreSQL the whole catalog is
computed for three months and every scope, two fiscal quarters and the table KPIs, and
compared with DuckDB (relative tolerance 1e-9, same statuses). On in-process Spark the
quarters and the tables: the three months run on a Spark Connect server through the
same compiler (test_spark_connect.py, a module of its own so that it runs beside this
one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_same_scalars, write_tables
from late_start_fixture import tables as late_start_tables

from kpi_helpers import kpis
from kpi_helpers.catalog import CATALOG
from kpi_helpers.core import Config, KitError
from kpi_helpers.data import data_through, first_event, from_backend, open_dataset
from kpi_helpers.data.sample_data import generate

MONTH = "2025-03"  # the sample below ends 2025-06; 3 months: 2025-01..2025-03
TABLE_SCOPES = ["company", "team:EMEA"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("parity") / "data"
    generate(out, seed=5, end_month="2025-06", months=24, fmt="parquet")
    return out


@pytest.fixture(scope="module")
def reference(sample):
    ds = open_dataset(sample)
    return ds, _everything(ds)


QUARTERS = Config(fiscal_year_start=11)  # FY2025-Q3 = 2025-05..07: to date (2 of 3 months)


def _everything(
    ds, months: bool = True
) -> tuple[pd.DataFrame, dict[tuple[str, str], pd.DataFrame]]:
    """The catalog's scalars (3 months, every scope, unless ``months`` is false), two
    fiscal quarters and the table KPIs."""
    # one fiscal quarter to date and the one before, company and teams: periods group the
    # measures that do not add up over months in their queries (distinct counts, medians,
    # span losses, MRR movements), the same on every backend
    quarters = kpis.compute(
        ds, "2025-06", 2, ["company", "team"], config=QUARTERS, period="quarter"
    )
    scalars = quarters.assign(month="Q " + quarters["period"])
    if months:
        scalars = pd.concat([kpis.compute(ds, MONTH, months=3, scope="all"), scalars])
    tables = {
        (k.id, sc): _table(ds, k.id, sc) for k in CATALOG if k.is_table for sc in TABLE_SCOPES
    }
    return scalars, tables


def _table(ds, kpi: str, scope: str) -> pd.DataFrame | str:
    """The table, or why it is not available (the same reason on every backend)."""
    try:
        return kpis.table(ds, kpi, MONTH, scope=scope)
    except KitError as exc:
        return str(exc)


OUTLOOK = {k.id for k in CATALOG if k.family == "outlook"}


def _assert_same(expected, actual) -> None:
    exp_scalars, exp_tables = expected
    act_scalars, act_tables = actual
    if act_scalars["month"].str.startswith("Q ").all():  # the quarters only (Spark)
        exp_scalars = exp_scalars[exp_scalars["month"].str.startswith("Q ")]
    assert (exp_scalars["month"].str.startswith("Q FY2025-Q")).sum() > 2 * 60
    assert_same_scalars(exp_scalars, act_scalars)
    for name, et in exp_tables.items():
        tol = 1e-6 if name[0] in OUTLOOK else 1e-9
        at = act_tables[name]
        if isinstance(et, str):  # not available: the same reason
            assert at == et, name
            continue
        sort = [c for c in et.columns if et[c].dtype == object or str(et[c].dtype) == "str"]
        et = et.sort_values(sort or list(et.columns[:1])).reset_index(drop=True)
        at = at.sort_values(sort or list(at.columns[:1])).reset_index(drop=True)
        assert list(et.columns) == list(at.columns), name
        for col in et.columns:
            if pd.api.types.is_numeric_dtype(et[col]):
                np.testing.assert_allclose(
                    at[col].to_numpy(float),
                    et[col].to_numpy(float),
                    rtol=tol,
                    atol=tol,
                    equal_nan=True,
                    err_msg=f"{name} {col}",
                )
            else:
                assert (
                    at[col].fillna("").astype(str).tolist()
                    == et[col].fillna("").astype(str).tolist()
                ), (name, col)


def test_postgresql_parity(reference, postgres_url):
    import ibis

    duck, expected = reference
    con = ibis.connect(postgres_url)
    for name in duck.tables:
        con.create_table(name, duck.frame(name), overwrite=True)
    ds = open_dataset(postgres_url)
    assert ds.backend == "postgres"
    _assert_same(expected, _everything(ds))


def test_where_data_starts_is_the_same_on_postgresql(postgres_url, tmp_path):
    """Each KPI's start, its reasons and the data-through date of a CRM export whose
    first deal closes months after the first is created (tests/late_start_fixture.py)."""
    import ibis

    duck = open_dataset(write_tables(tmp_path, late_start_tables()))
    con = ibis.connect(postgres_url)
    for name in duck.tables:
        con.create_table(name, duck.frame(name), overwrite=True)
    pg = open_dataset(postgres_url)
    assert pg.backend == "postgres"
    for event in ("deal", "closed_deal", "lead", "order_line"):
        assert first_event(pg, event) == first_event(duck, event), event
    assert data_through(pg) == data_through(duck)
    e, a = (kpis.compute(ds, "2017-05", months=8, scope="all") for ds in (duck, pg))
    assert len(e) > 8 * 40 and (e["status"] == "not_available").sum() > 8 * 10
    pd.testing.assert_frame_equal(a, e, check_exact=False, rtol=1e-9)


def test_spark_parity(reference, sample, spark):
    import ibis

    duck, expected = reference
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    try:
        con = ibis.pyspark.connect(spark)
        for name in duck.tables:
            con.read_parquet(str(sample / f"{name}.parquet"), table_name=name)
        ds = from_backend(con, "Spark local")
        assert ds.backend == "pyspark"
        # the months' scalars on Spark are test_spark_connect's (the same compiler on a
        # Spark Connect server): here the quarters' queries and the table KPIs
        _assert_same(expected, _everything(ds, months=False))
    finally:
        for name in duck.tables:
            spark.catalog.dropTempView(name)
