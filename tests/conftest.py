"""Shared fixtures: small hand-written datasets, the sample dataset, a real PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from kpi_helpers.catalog import CATALOG
from kpi_helpers.data.sample_data import generate

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
SAMPLE_END = "2026-06"

# The slowest modules first (``pytest --durations=0``, summed per module), so that the two
# xdist workers of ``make test`` (``--dist loadscope --no-loadscope-reorder``: a module
# runs on one worker, modules are handed out in this order) finish together instead of
# one worker starting a long module last.
SLOWEST_FIRST = [
    "tests/pack/test_pack.py",
    "tests/metrics/test_parity.py",
    "tests/pack/test_incremental.py",
    "tests/metrics/test_spark_connect.py",
    "tests/pack/test_pack_workers.py",
    "tests/cli/test_schedule.py",
    "tests/test_wheel.py",
    "tests/mail/test_send.py",
    "tests/cli/test_compute_cli.py",
    "tests/pack/test_qbr.py",
    "tests/metrics/test_kpis.py",
    "tests/pack/test_crm_first_look.py",
    "tests/metrics/test_scopes.py",
    "tests/data/test_timezones.py",
    "tests/drivers/test_drivers.py",
]


def pytest_collection_modifyitems(config, items) -> None:
    """Run the modules of SLOWEST_FIRST first, in its order; the rest keep theirs."""
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def assert_same_scalars(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    """Two backends' tidy KPI rows (``kpis.compute``) agree: the same rows and statuses,
    the values to 1e-9; fitted models (the outlook family) amplify the last bits of a sum
    that a backend adds in another order: their optimum agrees to 1e-6."""
    outlook = {k.id for k in CATALOG if k.family == "outlook"}
    key = ["month", "scope_type", "scope", "kpi"]
    e = expected.sort_values(key).reset_index(drop=True)
    a = actual.sort_values(key).reset_index(drop=True)
    assert len(e) > 3 * 60 and e[key].equals(a[key])
    assert (e.status == a.status).all(), e[e.status != a.status]
    model = e["kpi"].isin(outlook).to_numpy()
    for col in ("value", "previous_month", "same_month_last_year", "target"):
        for rows, tol in ((~model, 1e-9), (model, 1e-6)):
            np.testing.assert_allclose(
                a[col].to_numpy(float)[rows],
                e[col].to_numpy(float)[rows],
                rtol=tol,
                atol=tol,
                equal_nan=True,
                err_msg=col,
            )


def write_tables(folder: Path, tables: dict[str, pd.DataFrame | str], fmt: str = "csv") -> Path:
    """Write each table as ``<name>.<fmt>``; a str value is written verbatim as CSV text."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if isinstance(table, str):
            (folder / f"{name}.csv").write_text(table, encoding="utf-8")
        elif fmt == "parquet":
            table.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            table.to_csv(folder / f"{name}.csv", index=False)
    return folder


def load_postgres(url: str, folder: Path) -> None:
    """Copy every table of the dataset in ``folder`` into the PostgreSQL database at
    ``url`` (each replaced), as a test of the same numbers on PostgreSQL needs."""
    import ibis

    from kpi_helpers.data import open_dataset

    with open_dataset(folder) as duck:
        con = ibis.connect(url)
        for name in duck.tables:
            con.create_table(name, duck.frame(name), overwrite=True)
        con.disconnect()


def one_team_drops(folder: Path, team_a: str = "A", team_b: str = "B", a_may: int = 4) -> Path:
    """A tiny dataset where one team's bookings drop (why it moved, alerts). Won deals of
    $1,000: in April rep a1 (team ``team_a``) wins 4, reps b1 and b2 (team ``team_b``) 2
    each; in May a1 wins ``a_may``, b1 and b2 1 each. With ``a_may`` 4: bookings $8,000
    -> $6,000 (-25 %), all of it team B's (-$2,000: 100 %); by rep it takes two reps."""
    deals = []
    for month, a, b in (("2026-04", 4, 2), ("2026-05", a_may, 1)):
        for rep, n in (("a1", a), ("b1", b), ("b2", b)):
            for i in range(n):
                oid = f"O{month}{rep}{i}"
                deals.append((oid, f"{month}-01", "closed_won", 1000.0, f"{month}-15", rep))
    cols = ["opportunity_id", "created_at", "stage", "amount", "closed_at", "rep_id"]
    reps = pd.DataFrame({"rep_id": ["a1", "b1", "b2"], "team": [team_a, team_b, team_b]})
    return write_tables(folder, {"reps": reps, "opportunities": pd.DataFrame(deals, columns=cols)})


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The small sample dataset (CSV), generated once per test session."""
    out = tmp_path_factory.mktemp("sample") / "data"
    generate(out, seed=11, scale="small", end_month=SAMPLE_END)
    return out


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1, started for this test session.

    Debian's ``postgresql`` package provides the server (``.ci/run`` installs it).
    As root the server runs as the ``postgres`` user, since PostgreSQL refuses root.
    """
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not found: `apt-get install postgresql` (.ci/run does this)"
        )
    base = Path(tempfile.mkdtemp(prefix="kpi-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    password = "kit-secret-pw"
    (base / "pw").write_text(password + "\n")
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
        shutil.chown(base / "pw", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = dict(check=True, capture_output=True, text=True)
    subprocess.run(
        as_user
        + [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "kit",
            "--pwfile",
            str(base / "pw"),
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        **run,
    )
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        as_user
        + [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ],
        **run,
    )
    try:
        subprocess.run(
            as_user
            + [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kit", "sales"],
            env={**os.environ, "PGPASSWORD": password},
            **run,
        )
        yield f"postgresql://kit:{password}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        time.sleep(0.2)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's server, for one test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/sales", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


# ------------------------------------------------------------------ a real SMTP server

SMTP_PASSWORD = "pw-Zq81-never-shown"  # the only password the test server accepts


class Inbox:
    """An aiosmtpd handler keeping what arrives; ``refuse`` addresses get a 550."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode(), handled=False)

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(c, policy=email.policy.default) for *_, c in self.received]


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 (AUTH offered without TLS, for the login test)."""
    inbox = Inbox()
    port = free_port()
    server = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    server.start()
    inbox.where = f"127.0.0.1:{port}"
    yield inbox
    server.stop()


# The tests' JVMs are short-lived and run many small, different queries: the client
# compiler alone (C1) and the serial collector cost about a quarter less CPU there than
# the defaults (measured on the in-process parity's quarters and tables: 185 -> 135 s)
TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def has_java() -> bool:
    """Spark needs a Java runtime (.ci/run installs one)."""
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="session")
def spark():
    """One local Spark session per test process (a JVM takes ~20 s to start), shared by
    the tests that use it. Each test sets the session's zone it needs."""
    if not has_java():
        pytest.skip("Spark needs a Java runtime (.ci/run installs one)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("kpi-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .config("spark.driver.extraJavaOptions", TEST_JVM_OPTIONS)
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory):
    """A real Spark Connect server on 127.0.0.1 (from the jars pyspark ships, via
    spark-submit), one per test session: yields its ``sc://`` URL. Tables saved there land
    in this session's warehouse folder."""
    if not has_java():
        pytest.skip("Spark Connect needs a Java runtime (.ci/run installs one)")
    pytest.importorskip("grpc", reason="Spark Connect needs pyspark[connect] (requirements.txt)")
    import pyspark

    home = Path(pyspark.__file__).parent
    base = tmp_path_factory.mktemp("spark-connect")
    port = free_port()
    cmd = [str(home / "bin" / "spark-submit"), "--master", "local[2]"]
    cmd += ["--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
    for conf in (
        "spark.connect.grpc.binding.address=127.0.0.1",
        f"spark.connect.grpc.binding.port={port}",
        "spark.ui.enabled=false",
        "spark.sql.shuffle.partitions=4",
        "spark.driver.memory=2g",
        f"spark.driver.extraJavaOptions={TEST_JVM_OPTIONS}",
        f"spark.sql.warehouse.dir={base / 'warehouse'}",
    ):
        cmd += ["--conf", conf]
    log = (base / "server.log").open("w")
    server = subprocess.Popen(
        [*cmd, "spark-internal"],
        cwd=base,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SPARK_HOME": str(home)},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while "Spark Connect server started" not in (base / "server.log").read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"Spark Connect did not start: {(base / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
        log.close()
