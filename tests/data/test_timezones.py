"""Months begin and end at midnight in the dataset's timezone, on every kind of source.

The same three deals closed at instants near a month end, written as each source kind
holds them: text with a zone (CSV, Excel, a mapping's "iso" and %z dates), Parquet and
DuckDB timestamps with a zone, PostgreSQL ``timestamptz`` (its session zone set to
Pacific/Auckland), Spark ``TIMESTAMP`` (its session zone set to Pacific/Auckland).
Worked out by hand; in April and May 2026 New York is at UTC-4:

    O1 closed 2026-04-01T02:00:00Z        UTC 04-01 02:00   New York 03-31 22:00
    O3 closed 2026-04-01T01:00:00+02:00   UTC 03-31 23:00   New York 03-31 19:00
    O4 closed 2026-04-30T22:30:00-05:00   UTC 05-01 03:30   New York 04-30 23:30

Every deal was created at 2026-03-31 23:30, written without a zone: taken as already in
the dataset's zone, so it stays 23:30 in both.
"""

from __future__ import annotations

import time

import duckdb
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers import kpis
from kpi_helpers.core import Config, KitError
from kpi_helpers.data import open_dataset, validate

NY = "America/New_York"
IDS = ["O1", "O3", "O4"]
CLOSED = ["2026-04-01T02:00:00Z", "2026-04-01T01:00:00+02:00", "2026-04-30T22:30:00-05:00"]
CREATED = "2026-03-31 23:30:00"
WALL = {
    "UTC": ["2026-04-01 02:00", "2026-03-31 23:00", "2026-05-01 03:30"],
    NY: ["2026-03-31 22:00", "2026-03-31 19:00", "2026-04-30 23:30"],
}
OPPS = pd.DataFrame(
    {
        "opportunity_id": IDS,
        "created_at": [CREATED] * 3,
        "stage": ["closed_won", "closed_lost", "closed_won"],
        "amount": [100.0, 4.0, 1000.0],
        "closed_at": CLOSED,
    }
)


def _csv(folder):
    return write_tables(folder, {"opportunities": OPPS}), None


def _parquet(folder):
    o = OPPS.copy()
    o["created_at"] = pd.to_datetime(o["created_at"])  # naive
    o["closed_at"] = pd.to_datetime(o["closed_at"], format="ISO8601", utc=True)  # instants
    return write_tables(folder, {"opportunities": o}, fmt="parquet"), None


def _excel(folder):
    folder.mkdir(parents=True)
    path = folder / "crm.xlsx"
    o = OPPS.copy()
    o["created_at"] = pd.to_datetime(o["created_at"])  # an Excel date cell: no zone
    o.to_excel(path, sheet_name="opportunities", index=False)
    return path, None


def _duckdb_file(folder):
    folder.mkdir(parents=True)
    path = folder / "crm.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE opportunities (opportunity_id VARCHAR, created_at TIMESTAMP, "
            "stage VARCHAR, amount DOUBLE, closed_at TIMESTAMPTZ)"
        )
        for row in OPPS.itertuples():
            con.execute(
                "INSERT INTO opportunities VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMPTZ))",
                [row.opportunity_id, row.created_at, row.stage, row.amount, row.closed_at],
            )
    return path, None


def _mapped(fmt: str, closed: list[str]):
    def make(folder):
        crm = pd.DataFrame(
            {
                "Id": IDS,
                "Created": [CREATED] * 3,
                "Stage": OPPS["stage"],
                "Amount": OPPS["amount"],
                "Closed": closed,
            }
        )
        write_tables(folder, {"crm": crm})
        (folder / "mapping.toml").write_text(
            '[tables.opportunities]\nfrom = "crm.csv"\n[tables.opportunities.columns]\n'
            'opportunity_id = "Id"\ncreated_at = "Created"\nstage = "Stage"\n'
            'amount = "Amount"\nclosed_at = "Closed"\n[tables.opportunities.dates]\n'
            f'created_at = "iso"\nclosed_at = "{fmt}"\n',
            encoding="utf-8",
        )
        return folder, folder / "mapping.toml"

    return make


SOURCES = {
    "csv": _csv,
    "parquet": _parquet,
    "excel": _excel,
    "duckdb-file": _duckdb_file,
    "mapping-iso": _mapped("iso", CLOSED),
    "mapping-%z": _mapped(
        "%d/%m/%Y %H:%M %z",
        ["01/04/2026 02:00 +0000", "01/04/2026 01:00 +0200", "30/04/2026 22:30 -0500"],
    ),
}


def _open(source, mapping, zone: str):
    # the default zone is asked for by leaving it out, as every caller did before
    return open_dataset(source, mapping) if zone == "UTC" else open_dataset(source, mapping, zone)


@pytest.mark.parametrize("zone", ["UTC", NY])
@pytest.mark.parametrize("kind", list(SOURCES))
def test_zone_aware_timestamps_become_the_wall_time_in_the_datasets_zone(tmp_path, kind, zone):
    source, mapping = SOURCES[kind](tmp_path / kind)
    with _open(source, mapping, zone) as ds:
        o = ds.frame("opportunities").set_index("opportunity_id").loc[IDS]
    assert o["closed_at"].tolist() == [pd.Timestamp(t) for t in WALL[zone]]
    assert o["created_at"].tolist() == [pd.Timestamp(CREATED)] * 3  # naive: as written


def _bookings(ds, config: Config | None = None) -> dict[str, float]:
    df = kpis.compute(ds, "2026-05", months=3, kpis=["monthly_sales_bookings"], config=config)
    return df.set_index("month")["value"].to_dict()


# won deals by the month of their close: O1 (100) and O4 (1000); O3 was lost
BOOKINGS = {
    "UTC": {"2026-03": 0.0, "2026-04": 100.0, "2026-05": 1000.0},
    NY: {"2026-03": 100.0, "2026-04": 1000.0, "2026-05": 0.0},
}


def _months_through_may(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The deals plus one created in May, so that the data covers 2026-03..2026-05."""
    o = tables["opportunities"]
    may = pd.DataFrame(
        {"opportunity_id": ["O5"], "created_at": ["2026-05-10 12:00:00"], "stage": ["proposal"]}
        | {"amount": [7.0], "closed_at": [None]}
    )
    return {"opportunities": pd.concat([o, may], ignore_index=True)}


@pytest.mark.parametrize("zone", ["UTC", NY])
def test_postgresql_gives_duckdbs_values_whatever_its_session_zone(tmp_path, postgres_url, zone):
    import psycopg

    folder = write_tables(tmp_path, _months_through_may({"opportunities": OPPS}))
    db = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute(f"ALTER DATABASE \"{db}\" SET timezone = 'Pacific/Auckland'")
    with psycopg.connect(postgres_url, autocommit=True) as con:
        assert con.execute("SHOW timezone").fetchone()[0] == "Pacific/Auckland"
        con.execute(
            "CREATE TABLE opportunities (opportunity_id text, created_at timestamp, "
            "stage text, amount double precision, closed_at timestamptz)"
        )
        for row in pd.read_csv(folder / "opportunities.csv").itertuples():
            closed = None if pd.isna(row.closed_at) else row.closed_at
            con.execute(
                "INSERT INTO opportunities VALUES (%s, %s, %s, %s, %s::timestamptz)",
                (row.opportunity_id, row.created_at, row.stage, row.amount, closed),
            )
    with _open(postgres_url, None, zone) as pg, _open(folder, None, zone) as duck:
        assert pg.backend == "postgres"
        o = pg.frame("opportunities").set_index("opportunity_id").loc[IDS]
        assert o["closed_at"].tolist() == [pd.Timestamp(t) for t in WALL[zone]]
        assert _bookings(pg) == _bookings(duck) == BOOKINGS[zone]


def test_spark_gives_duckdbs_values_whatever_its_session_zone(tmp_path, spark):
    import ibis

    from kpi_helpers.data import from_backend

    tables = _months_through_may({"opportunities": OPPS})
    o = tables["opportunities"]
    o["created_at"] = pd.to_datetime(o["created_at"])  # Spark TIMESTAMP_NTZ: a wall time
    o["closed_at"] = pd.to_datetime(o["closed_at"], format="ISO8601", utc=True)  # TIMESTAMP
    folder = write_tables(tmp_path, tables, fmt="parquet")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    try:
        con = ibis.pyspark.connect(spark)
        con.read_parquet(str(folder / "opportunities.parquet"), table_name="opportunities")
        spark.conf.set("spark.sql.session.timeZone", "Pacific/Auckland")  # set after Ibis's UTC
        with open_dataset(folder, None, NY) as duck:
            expected = _bookings(duck)
        ds = from_backend(con, "Spark local", timezone=NY)
        got = ds.frame("opportunities").set_index("opportunity_id").loc[IDS]
        assert got["closed_at"].tolist() == [pd.Timestamp(t) for t in WALL[NY]]
        assert got["created_at"].tolist() == [pd.Timestamp(CREATED)] * 3
        assert _bookings(ds) == expected == BOOKINGS[NY]
    finally:
        spark.catalog.dropTempView("opportunities")
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_an_unknown_zone_is_one_clear_error(tmp_path):
    source, _ = _csv(tmp_path)
    with pytest.raises(KitError) as err:
        open_dataset(source, timezone="America/New_Yrok")
    assert str(err.value).startswith("timezone must be an IANA time zone name in quotes")
    assert 'not "America/New_Yrok" (did you mean America/New_York' in str(err.value)


def test_settings_for_another_zone_never_meet_the_dataset_silently(tmp_path):
    source, _ = _csv(tmp_path)
    with open_dataset(source) as ds:  # opened for UTC months
        with pytest.raises(KitError, match=r"opened with months in UTC time, but the settings"):
            _bookings(ds, Config(timezone=NY))
        with pytest.raises(KitError, match=r"timezone='America/New_York'"):
            kpis.table(ds, "funnel", "2026-04", config=Config(timezone=NY))


@pytest.fixture
def host_in_auckland(monkeypatch):
    """The computer's own zone (TZ) is Pacific/Auckland for the test."""
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_future_is_the_datasets_now(tmp_path, host_in_auckland):
    """A deal closed 2 hours from now, New York time, is in the future there (though
    hours past on the computer's clock, and on UTC's); one 10 hours ago is not."""
    now_ny = pd.Timestamp.now(tz=NY).tz_localize(None)
    soon = (now_ny + pd.Timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    past = (now_ny - pd.Timedelta(hours=10)).strftime("%Y-%m-%d %H:%M:%S")
    o = OPPS.assign(closed_at=[soon, past, past], created_at=[past] * 3)
    with open_dataset(write_tables(tmp_path, {"opportunities": o}), None, NY) as ds:
        future = validate(ds).query("check == 'future' and column == 'closed_at'")
    assert future["rows"].tolist() == [1]
