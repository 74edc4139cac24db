"""Every mapping feature, on small exports written in the test."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.errors import KitError
from kpi_helpers.mapping import load_mapping
from kpi_helpers.sources import open_dataset

DEALS = pd.DataFrame(
    {
        "Deal": ["D1", "D2", "D3", "D4"],
        "Opened": ["03/01/26", "15/01/26", "31/01/26", "02/02/26"],
        "Closed": ["10/02/26", "", "01/02/26", "not a date"],
        "Status": ["Won", "Negotiation", "Lost", "Won"],
        "Value": ["1000", "250.5", "400", "80"],
        "Discount": ["100", "0", "50", "0"],
        "Owner": ["u1", "u2", "u1", "u3"],
        "Country": ["US", "US", "CA", "US"],
    }
)
USERS = pd.DataFrame(
    {
        "Owner": ["u1", "u2", "u3"],
        "Name": ["Ana", "Ben", "Cy"],
        "Squad": ["North", "South", "South"],
    }
)


def _open(tmp_path, toml: str, tables=None):
    write_tables(tmp_path, tables or {"deals": DEALS, "users": USERS})
    (tmp_path / "m.toml").write_text(toml)
    return open_dataset(tmp_path, tmp_path / "m.toml")


BASE = """
[tables.opportunities]
from = "deals.csv"
[tables.opportunities.columns]
opportunity_id = "Deal"
created_at = "Opened"
closed_at = "Closed"
stage = "Status"
amount = "Value"
rep_id = "Owner"
"""


def _opps(ds) -> pd.DataFrame:
    return ds.frame("opportunities").set_index("opportunity_id")


def test_columns_are_renamed_and_only_mapped_columns_kept(tmp_path):
    o = _opps(_open(tmp_path, BASE))
    assert set(o.columns) == {"created_at", "closed_at", "stage", "amount", "rep_id"}
    assert o.loc["D2", "amount"] == 250.5
    assert o.loc["D3", "rep_id"] == "u1"


def test_values_are_translated(tmp_path):
    toml = BASE + '[tables.opportunities.values.stage]\nWon = "closed_won"\nLost = "closed_lost"\n'
    o = _opps(_open(tmp_path, toml))
    assert o["stage"].tolist() == ["closed_won", "Negotiation", "closed_lost", "closed_won"]


def test_date_formats_parse_day_first_and_keep_bad_values_for_validation(tmp_path):
    toml = BASE + (
        '[tables.opportunities.dates]\ncreated_at = "%d/%m/%y"\nclosed_at = "%d/%m/%y"\n'
    )
    ds = _open(tmp_path, toml)
    o = _opps(ds)
    assert o.loc["D1", "created_at"] == pd.Timestamp("2026-01-03")
    assert o.loc["D3", "closed_at"] == pd.Timestamp("2026-02-01")
    assert pd.isna(o.loc["D2", "closed_at"])
    raw = ds.raw["opportunities"].to_pandas().set_index("opportunity_id")
    assert raw.loc["D4", "closed_at"] == "not a date"  # kept, so validation can name it


def test_constants_fill_a_column(tmp_path):
    o = _opps(_open(tmp_path, BASE + '[tables.opportunities.constants]\ndeal_type = "new"\n'))
    assert set(o["deal_type"]) == {"new"}


def test_derived_columns_compute_from_source_columns(tmp_path):
    toml = BASE.replace('amount = "Value"\n', "") + (
        '[tables.opportunities.derive]\namount = "Value - `Discount`"\n'
        'associated_cost = "Value * 0.1"\n'
    )
    o = _opps(_open(tmp_path, toml))
    assert o["amount"].tolist() == [900.0, 250.5, 350.0, 80.0]
    assert o.loc["D1", "associated_cost"] == pytest.approx(100.0)


def test_row_filter(tmp_path):
    toml = BASE.replace(
        "[tables.opportunities]\n",
        "[tables.opportunities]\nwhere = \"Country == 'US' and Value >= 100\"\n",
    )
    o = _opps(_open(tmp_path, toml))
    assert sorted(o.index) == ["D1", "D2"]


def test_unique_by_makes_a_dimension_table(tmp_path):
    toml = (
        BASE
        + """
[tables.reps]
from = "deals.csv"
unique_by = "rep_id"
[tables.reps.columns]
rep_id = "Owner"
[tables.reps.constants]
team = "Sales"
"""
    )
    reps = _open(tmp_path, toml).frame("reps")
    assert reps["rep_id"].tolist() == ["u1", "u2", "u3"]


def test_lookup_brings_columns_from_another_file(tmp_path):
    toml = """
[tables.reps]
from = "deals.csv"
unique_by = "rep_id"
lookup = { from = "users.csv", on = "Owner", columns = ["Name", "Squad"] }
[tables.reps.columns]
rep_id = "Owner"
rep_name = "Name"
team = "Squad"
"""
    reps = _open(tmp_path, toml).frame("reps").set_index("rep_id")
    assert reps.loc["u3", "rep_name"] == "Cy"
    assert reps["team"].to_dict() == {"u1": "North", "u2": "South", "u3": "South"}


def test_unmapped_canonical_files_pass_through(tmp_path):
    reps = pd.DataFrame({"rep_id": ["u1"], "team": ["North"]})
    ds = _open(tmp_path, BASE, {"deals": DEALS, "reps": reps})
    assert set(ds.tables) == {"opportunities", "reps"}


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[tables.deals]\nfrom = 'x.csv'\n", "unknown table"),
        ("[tables.reps]\nfrom = 'deals.csv'\ncolour = 'red'\n", "unknown key(s) colour"),
        (
            "[tables.reps]\nfrom = 'x.csv'\n[tables.reps.columns]\nname = 'Owner'\n",
            "'name' is not a column of reps",
        ),
        ("[tables.reps]\n[tables.reps.columns]\nrep_id = 'Owner'\n", "add from ="),
        ("tables = 3", "has no [tables.<name>] sections"),
        ("[tables.reps\n", "is not valid TOML"),
    ],
)
def test_mapping_file_errors_name_the_key(tmp_path, toml, message):
    (tmp_path / "m.toml").write_text(toml)
    with pytest.raises(
        KitError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        load_mapping(tmp_path / "m.toml")


def test_expression_cannot_run_code(tmp_path):
    toml = BASE + "[tables.opportunities.derive]\nassociated_cost = \"__import__('os')\"\n"
    ds = _open(tmp_path, toml)
    assert "uses something mapping expressions do not allow" in ds.load_errors["opportunities"]


def test_missing_source_file_is_reported_per_table(tmp_path):
    ds = _open(tmp_path, BASE.replace("deals.csv", "deals-2026.csv"))
    assert "reads 'deals-2026.csv', which is not in" in ds.load_errors["opportunities"]
