"""The pack header's "data through" (DATA_CONTRACT.md, "Data through"): the latest past
event of the data, not its last created deal, and the tables that end more than a month
earlier. Values worked out by hand in tests/late_start_fixture.py."""

from __future__ import annotations

from conftest import write_tables
from late_start_fixture import tables

from kpi_helpers.data import open_dataset
from kpi_helpers.pack.freeze import data_line, data_profile


def test_the_header_says_through_the_last_close_and_names_tables_that_end_early(tmp_path):
    ds = open_dataset(write_tables(tmp_path, tables()))
    profile = data_profile(ds)
    # the last deal was created on 2017-03-05; D6 closed on 2017-05-31: counted, so shown
    assert profile["data_through"] == "2017-05-31"
    assert profile["data_through_note"] == "leads end 2017-01-15"
    meta = {"source": "folder crm", "row_counts": profile["row_counts"], **profile}
    assert data_line(meta) == (
        "folder crm · data through 2017-05-31 (leads end 2017-01-15) · months in UTC time · "
        "6 deals, 2 leads"
    )
