"""kpi-kit compute --profile: the seconds per measure source and per query, slowest
first, on stderr; the tidy table on stdout is the same as without it."""

from __future__ import annotations

import re
import time

from conftest import write_tables
from kpi_fixture import tables

from kpi_helpers.cli import main
from kpi_helpers.metrics.profile import Profile, profiling, timed


def test_compute_profile_lists_each_source_and_its_queries_slowest_first(tmp_path, capsys):
    folder = write_tables(tmp_path / "data", tables())
    args = ["compute", "--source", str(folder), "--month", "2026-03", "--scope", "all"]
    args += ["--kpi", "win_rate,sales_revenue,active_customers,monthly_recurring_revenue"]
    assert main(args) == 0
    plain = capsys.readouterr()
    assert main([*args, "--profile"]) == 0
    out, err = capsys.readouterr()
    assert out == plain.out and plain.err == ""
    sources = re.findall(r"^ +(\d+\.\d)  (\w+)$", err.split("query (source: SQL)")[0], re.M)
    names = {n for _, n in sources}
    assert {"closed_deals", "orders", "customers", "mrr"} <= names
    assert [float(s) for s, _ in sources] == sorted((float(s) for s, _ in sources), reverse=True)
    queries = re.findall(r"^ +(\d+\.\d)  (\w+): (SELECT|WITH) ", err, re.M)
    assert len(queries) >= 4 and {src for _, src, _ in queries} <= names
    total = float(re.search(r"profile: (\d+\.\d) s in all", err).group(1))
    assert total >= sum(float(s) for s, _ in sources) - 0.1


def test_a_source_is_charged_its_own_time_not_the_sources_it_reads():
    """customers reads orders: 0.2 s of orders inside 0.3 s of customers -> 0.1 s each
    on its own, the queries each to the source it ran in."""
    with profiling() as prof:
        with timed("customers"):
            prof.log("SELECT 1")
            time.sleep(0.1)
            with timed("orders"):
                prof.log("SELECT 2")
                time.sleep(0.2)
    assert isinstance(prof, Profile)
    assert abs(prof.sources["customers"] - 0.1) < 0.05
    assert abs(prof.sources["orders"] - 0.2) < 0.05
    (q1, s1, sql1), (q2, s2, sql2) = prof.queries
    assert (s1, sql1, s2, sql2) == ("customers", "SELECT 1", "orders", "SELECT 2")
    assert abs(q1 - 0.1) < 0.05 and abs(q2 - 0.2) < 0.05


def test_a_kept_table_is_listed_as_a_query_of_its_source(tmp_path):
    """MRR and NPS attribute their rows to the account's rep: with both asked, the
    accounts' reps are kept in the backend (``data.keep_table``), and that query is listed
    as ``(kept) ...`` under the source that made it (mrr, the first to run), not hidden in
    the next query's time."""
    from kpi_helpers import kpis
    from kpi_helpers.data import open_dataset

    ds = open_dataset(write_tables(tmp_path / "data", tables()))
    with profiling() as prof:
        kpis.compute(
            ds,
            "2026-03",
            months=1,
            scope="company",
            kpis=["monthly_recurring_revenue", "net_promoter_score"],
        )
    kept = [(src, sql) for _, src, sql in prof.queries if sql.startswith("(kept) ")]
    assert kept and all(src == "mrr" for src, _ in kept)
    assert all(" FROM " in sql for _, sql in kept)
