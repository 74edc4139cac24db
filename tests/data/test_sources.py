"""Each source kind returns the same typed canonical tables; broken sources give one
clear message, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.cli import main
from kpi_helpers.core import KitError
from kpi_helpers.data import open_dataset, redact

OPPS = pd.DataFrame(
    {
        "opportunity_id": ["O1", "O2", "O3"],
        "created_at": ["2026-01-03 09:00:00", "2026-01-20 14:30:00", "2026-02-01 00:00:00"],
        "stage": ["closed_won", "proposal", "closed_lost"],
        "amount": [1200.50, 800.0, 99.99],
        "closed_at": ["2026-02-10 10:00:00", None, "2026-02-15 00:00:00"],
        "rep_id": ["R1", "R2", "R1"],
        "note": ["extra columns are kept", "", "x"],
    }
)
REPS = pd.DataFrame(
    {
        "rep_id": ["R1", "R2"],
        "rep_name": ["Ana <b>", "Ben & co"],
        "team": ["North", "South"],
        "hired_at": ["2024-01-01", "2025-06-15"],
    }
)


def _check(ds) -> None:
    o = ds.frame("opportunities").sort_values("opportunity_id").reset_index(drop=True)
    assert o["opportunity_id"].tolist() == ["O1", "O2", "O3"]
    assert o["amount"].tolist() == [1200.50, 800.0, 99.99]
    assert o["closed_at"][0] == pd.Timestamp("2026-02-10 10:00:00")
    assert pd.isna(o["closed_at"][1])
    assert pd.api.types.is_datetime64_any_dtype(o["created_at"])
    assert "note" in o.columns
    r = ds.frame("reps").sort_values("rep_id")
    assert r["rep_name"].tolist() == ["Ana <b>", "Ben & co"]
    assert r["hired_at"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2025-06-15")]
    assert set(ds.tables) == {"opportunities", "reps"}


def _typed_frames() -> dict[str, pd.DataFrame]:
    o = OPPS.copy()
    for c in ("created_at", "closed_at"):
        o[c] = pd.to_datetime(o[c])
    r = REPS.copy()
    r["hired_at"] = pd.to_datetime(r["hired_at"]).dt.date
    return {"opportunities": o, "reps": r}


def test_csv_folder(tmp_path):
    _check(open_dataset(write_tables(tmp_path, {"opportunities": OPPS, "reps": REPS})))


def test_parquet_folder(tmp_path):
    _check(open_dataset(write_tables(tmp_path, _typed_frames(), fmt="parquet")))


def test_excel_workbook(tmp_path):
    path = tmp_path / "crm.xlsx"
    with pd.ExcelWriter(path) as xl:
        for name, frame in _typed_frames().items():
            frame.to_excel(xl, sheet_name=name, index=False)
        pd.DataFrame({"a": [1]}).to_excel(xl, sheet_name="Notes", index=False)
    _check(open_dataset(path))


def test_duckdb_file(tmp_path):
    path = tmp_path / "sales.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in _typed_frames().items():
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    _check(open_dataset(path))


def test_postgresql(postgres_url):
    import ibis

    con = ibis.connect(postgres_url)
    for name, frame in _typed_frames().items():
        con.create_table(name, frame, overwrite=True)
    ds = open_dataset(postgres_url)
    assert ds.backend == "postgres"
    _check(ds)
    assert "kit-secret-pw" not in ds.description


def test_postgresql_from_environment_variable(postgres_url, monkeypatch):
    import ibis

    ibis.connect(postgres_url).create_table(
        "reps", REPS.assign(hired_at=pd.to_datetime(REPS.hired_at)), overwrite=True
    )
    monkeypatch.setenv("SALES_DB", postgres_url)
    ds = open_dataset("env:SALES_DB")
    assert sorted(ds.frame("reps")["rep_id"]) == ["R1", "R2"]


def test_refused_connection_is_one_line_without_password(capsys):
    code = main(["validate", "--source", "postgresql://kit:hunter2@127.0.0.1:1/sales"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Could not connect to postgresql://kit:***@127.0.0.1:1/sales" in err
    assert "hunter2" not in err and "Traceback" not in err


def test_redact_leaves_urls_without_password():
    assert redact("postgresql://127.0.0.1/sales") == "postgresql://127.0.0.1/sales"


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "reps.csv is empty (0 bytes)"),
        (bytes(range(256)) * 4, "reps.csv is neither UTF-8 nor Windows-1252 text"),
        (b"id,name\nR1,Ana\n", "required column rep_id is missing"),
    ],
    ids=["empty", "binary", "wrong-columns"],
)
def test_broken_files_are_findings_not_tracebacks(tmp_path, capsys, content, expected):
    (tmp_path / "reps.csv").write_bytes(content)
    code = main(["validate", "--source", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 2
    assert expected in out.out
    assert "Traceback" not in out.out + out.err


def test_semicolon_csv_is_sniffed_without_mapping(tmp_path):
    (tmp_path / "reps.csv").write_text("rep_id;team\nR1;North\n")
    assert open_dataset(tmp_path).frame("reps")["team"].tolist() == ["North"]


def test_wrong_delimiter_in_mapping_names_the_columns_seen(tmp_path, capsys):
    (tmp_path / "people.csv").write_text("rep_id;team\nR1;North\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[tables.reps]\nfrom = "people.csv"\ndelimiter = ","\n'
        '[tables.reps.columns]\nrep_id = "rep_id"\nteam = "team"\n'
    )
    assert main(["validate", "--source", str(tmp_path), "--mapping", str(mapping)]) == 2
    out = capsys.readouterr().out
    assert "rep_id = 'rep_id', but people.csv has no such column; columns are: rep_id;team" in out


def test_missing_sheet_named_by_mapping(tmp_path, capsys):
    path = tmp_path / "crm.xlsx"
    REPS.to_excel(path, sheet_name="People", index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[tables.reps]\nfrom = "Sellers"\n[tables.reps.columns]\nrep_id = "rep_id"\nteam = "team"\n'
    )
    assert main(["validate", "--source", str(path), "--mapping", str(mapping)]) == 2
    out = capsys.readouterr().out
    assert "reads sheet 'Sellers', which crm.xlsx does not have; sheets there: People" in out


def test_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("hello")
    with pytest.raises(KitError, match="fake.xlsx is not a readable Excel workbook"):
        open_dataset(path)


@pytest.mark.parametrize(
    "source, message",
    [
        ("/nonexistent/folder", "does not exist"),
        ("notes.txt", "unsupported kind"),
    ],
)
def test_bad_source_paths(tmp_path, monkeypatch, source, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(KitError, match=message):
        open_dataset(source)


def test_folder_without_any_table(tmp_path):
    (tmp_path / "something.csv").write_text("a,b\n1,2\n")
    with pytest.raises(KitError, match="Found no canonical table"):
        open_dataset(tmp_path)


def test_cli_process_prints_no_traceback(tmp_path):
    (tmp_path / "orders.parquet").write_bytes(b"PAR1 not really parquet")
    proc = subprocess.run(
        [sys.executable, "-m", "kpi_helpers.cli", "validate", "--source", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "orders.parquet is not a readable Parquet file" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


# ------------------------------------------------------------------ closing


def _duckdb_file(path):
    con = duckdb.connect(str(path))
    for name, frame in _typed_frames().items():
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    return path


def test_a_closed_dataset_has_let_go_of_its_connection(tmp_path):
    from kpi_helpers import kpis
    from kpi_helpers.data import validate

    with open_dataset(write_tables(tmp_path, {"opportunities": OPPS, "reps": REPS})) as ds:
        con = ds.con
        _check(ds)
        kpis.compute(ds, "2026-02")
        assert "reps" in con.list_tables()
    assert ds.closed
    with pytest.raises(duckdb.ConnectionException):  # really closed: the backend says so
        con.list_tables()
    ds.close()  # twice is fine
    uses = [
        lambda: ds.table("reps"),
        lambda: ds.frame("reps"),
        lambda: ds.has("reps"),
        lambda: ds.tables["reps"],
        lambda: kpis.compute(ds, "2026-02"),
        lambda: validate(ds),
    ]
    for use in uses:
        with pytest.raises(KitError, match=r"The dataset \(folder .*\) is closed; open it again"):
            use()


def test_closing_a_duckdb_file_unlocks_it(tmp_path):
    path = _duckdb_file(tmp_path / "sales.duckdb")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[tables.reps]\nfrom = "reps"\n[tables.reps.columns]\nrep_id = "rep_id"\n')
    ds = open_dataset(path)
    with pytest.raises(duckdb.ConnectionException):  # open read-only: no writer meanwhile
        duckdb.connect(str(path))
    ds.close()
    duckdb.connect(str(path)).close()
    # mapped tables are copied into an embedded DuckDB: the file is let go at once
    with open_dataset(path, mapping) as mapped:
        duckdb.connect(str(path)).close()
        assert sorted(mapped.frame("reps")["rep_id"]) == ["R1", "R2"]


def test_a_backend_given_to_from_backend_stays_open_without_the_datasets_caches():
    import ibis

    from kpi_helpers import kpis
    from kpi_helpers.data import from_backend

    con = ibis.duckdb.connect()
    frames = _typed_frames()
    frames["opportunities"]["account_id"] = ["A1", "A2", "A1"]  # customers: cached facts
    for name, frame in frames.items():
        con.create_table(name, frame)
    ds = from_backend(con)
    kpis.compute(ds, "2026-02")  # keeps customer facts as Ibis-cached temporary tables

    def cached():
        return [t for t in con.list_tables() if t.startswith("ibis_cached")]

    assert cached()
    ds.close()
    assert cached() == []
    assert set(con.list_tables()) == {"opportunities", "reps"}  # the caller's, still open


def _sessions(url: str) -> int:
    """Connections to the database of ``url``, other than the one asking."""
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def _until(condition, seconds: float = 10) -> bool:
    """Whether ``condition()`` holds within ``seconds`` (a server ends a session a
    moment after its client closed it)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_closing_a_postgresql_dataset_ends_its_session(postgres_url, tmp_path):
    import ibis

    setup = ibis.connect(postgres_url)
    for name, frame in _typed_frames().items():
        setup.create_table(name, frame, overwrite=True)
    setup.disconnect()
    assert _until(lambda: _sessions(postgres_url) == 0)
    ds = open_dataset(postgres_url)
    _check(ds)
    assert _sessions(postgres_url) == 1
    ds.close()
    assert _until(lambda: _sessions(postgres_url) == 0)
    # through a mapping the tables are copied into DuckDB: no session stays open
    mapping = tmp_path / "m.toml"
    mapping.write_text('[tables.reps]\nfrom = "reps"\n[tables.reps.columns]\nrep_id = "rep_id"\n')
    with open_dataset(postgres_url, mapping) as mapped:
        assert _until(lambda: _sessions(postgres_url) == 0)
        assert sorted(mapped.frame("reps")["rep_id"]) == ["R1", "R2"]
