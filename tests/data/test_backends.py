"""The connections a dataset runs on: DuckDB's memory limit and spill folder, Spark
Connect URLs (their database, their secrets), keeping a table on every backend."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.cli import main
from kpi_helpers.core import KitError
from kpi_helpers.data import keep_table, open_dataset, redact, spill_to
from kpi_helpers.data.backends import memory_limit, split_database

REPS = pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]})


def _setting(ds, name: str) -> str:
    return ds.con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]


def test_duckdb_runs_with_a_memory_limit_and_a_spill_folder_removed_on_close(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_KIT_MEMORY_LIMIT", "300MB")
    ds = open_dataset(write_tables(tmp_path / "data", {"reps": REPS}))
    assert _setting(ds, "memory_limit") == "286.1 MiB"  # 300 MB = 300e6 bytes
    spill = Path(_setting(ds, "temp_directory"))
    assert spill.name.startswith("kpi-kit-spill-")
    spill.mkdir()  # as DuckDB does when it first spills
    (spill / "duckdb_temp_block-1.block").write_bytes(b"x")
    ds.close()
    assert not spill.exists()


def test_a_query_larger_than_the_memory_limit_spills_instead_of_failing(tmp_path, monkeypatch):
    """A DISTINCT over ~100 MB under a 40 MB limit: without a spill folder DuckDB runs
    out of memory; with the pack's (spill_to) it completes."""
    monkeypatch.setenv("KPI_KIT_MEMORY_LIMIT", "40MB")
    query = (
        "SELECT count(*) FROM (SELECT DISTINCT i, repeat('x', 60) || i::VARCHAR AS s "
        "FROM range(1500000) t(i))"
    )
    ds = open_dataset(write_tables(tmp_path / "data", {"reps": REPS}))
    ds.con.raw_sql("SET threads = 1; SET preserve_insertion_order = false")
    ds.con.raw_sql("SET temp_directory = ''")
    with pytest.raises(duckdb.OutOfMemoryException):
        ds.con.raw_sql(query).fetchone()
    spill_to(ds, tmp_path / "spill")
    assert _setting(ds, "temp_directory") == str(tmp_path / "spill")
    assert ds.con.raw_sql(query).fetchone()[0] == 1_500_000
    ds.close()


def test_a_memory_limit_without_a_unit_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_KIT_MEMORY_LIMIT", "60%")
    with pytest.raises(KitError, match=r"KPI_KIT_MEMORY_LIMIT='60%' .* e\.g\. 4GB"):
        memory_limit()
    monkeypatch.delenv("KPI_KIT_MEMORY_LIMIT")
    assert memory_limit().endswith("MiB") and int(memory_limit()[:-3]) > 100


def test_keep_table_on_duckdb_is_a_temporary_table_released_after_use(tmp_path):
    ds = open_dataset(write_tables(tmp_path / "data", {"reps": REPS}))
    before = set(ds.con.list_tables())
    with keep_table(ds, ds.table("reps").filter(lambda t: t.team == "North")) as kept:
        assert kept.count().execute() == 1
        assert len(set(ds.con.list_tables()) - before) == 1
    assert set(ds.con.list_tables()) == before
    ds.close()


def test_spark_connect_url_names_its_database_and_hides_its_token():
    assert split_database("sc://h:15002/;database=sales;user_id=kit") == (
        "sc://h:15002/;user_id=kit",
        "sales",
    )
    assert redact("sc://h:15002/;token=abc123;database=sales") == (
        "sc://h:15002/;token=***;database=sales"
    )


def test_database_for_a_source_that_is_not_spark_connect_is_one_clear_error(tmp_path, capsys):
    folder = write_tables(tmp_path / "data", {"reps": REPS})
    with pytest.raises(KitError, match="is not a Spark Connect URL"):
        open_dataset(folder, database="sales")
    code = main(["compute", "--source", str(folder), "--database", "sales", "--month", "2026-01"])
    err = capsys.readouterr().err
    assert code == 2 and "--database names a Spark Connect database" in err
    assert "Traceback" not in err
