"""Every mapping feature, on small exports written in the test."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.core import KitError
from kpi_helpers.data import load_mapping, open_dataset

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


def _open(tmp_path, toml: str, tables=None, keep_unreadable: bool = False):
    write_tables(tmp_path, tables or {"deals": DEALS, "users": USERS})
    (tmp_path / "m.toml").write_text(toml)
    return open_dataset(tmp_path, tmp_path / "m.toml", keep_unreadable=keep_unreadable)


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
    ds = _open(tmp_path, toml, keep_unreadable=True)
    assert "uses something mapping expressions do not allow" in ds.load_errors["opportunities"]


def test_missing_source_file_is_reported_per_table(tmp_path):
    ds = _open(tmp_path, BASE.replace("deals.csv", "deals-2026.csv"), keep_unreadable=True)
    assert "reads 'deals-2026.csv', which is not in" in ds.load_errors["opportunities"]


# ------------------------------------------------ booleans, self-lookups, case, ISO dates

CRM = pd.DataFrame(
    {
        "ID": ["o1", "o2", "o3"],
        "STAGE": ["Won it", "Lost it", "Talking"],
        "IsClosed": ["TRUE", "yes", "0"],
        "IsWon": ["1", "False", ""],
        "Created": ["2026-01-31T23:30:00.000-02:00", "2026-01-10T08:00:00.000Z", "2026-01-12"],
    }
)
PEOPLE = pd.DataFrame(
    {"Id": ["u1", "u2", "u3"], "Name": ["Ana", "Ben", "Cy"], "Boss": ["u3", "", "u9"]}
)


def test_booleans_conditions_and_case_insensitive_headers(tmp_path):
    toml = """
[tables.opportunities]
from = "crm.csv"
ignore_case = true
booleans = ["IsClosed", "IsWon"]
[tables.opportunities.columns]
opportunity_id = "Id"
created_at = "Created"
[tables.opportunities.derive]
stage = "'closed_won' if IsClosed and IsWon else ('closed_lost' if IsClosed else Stage)"
amount = "1"
"""
    o = _opps(_open(tmp_path, toml, {"crm": CRM}))
    assert o["stage"].to_dict() == {"o1": "closed_won", "o2": "closed_lost", "o3": "Talking"}


def test_a_value_that_is_not_a_boolean_is_one_clear_error(tmp_path):
    crm = CRM.assign(IsWon=["1", "maybe", "0"])
    toml = (
        '[tables.opportunities]\nfrom = "crm.csv"\nbooleans = ["IsWon"]\n'
        '[tables.opportunities.columns]\nopportunity_id = "ID"\n'
    )
    ds = _open(tmp_path, toml, {"crm": crm}, keep_unreadable=True)
    error = ds.load_errors["opportunities"]
    assert "column 'IsWon' has 1 row(s) that are not true/false, 1/0 or yes/no" in error
    assert "'maybe'" in error


def test_iso_timestamps_with_a_zone_become_utc_without_it(tmp_path):
    toml = (
        '[tables.opportunities]\nfrom = "crm.csv"\n[tables.opportunities.columns]\n'
        'opportunity_id = "ID"\ncreated_at = "Created"\n'
        '[tables.opportunities.dates]\ncreated_at = "iso"\n'
    )
    o = _opps(_open(tmp_path, toml, {"crm": CRM}))
    assert o["created_at"].to_dict() == {
        "o1": pd.Timestamp("2026-02-01 01:30"),  # 23:30 at UTC-2: the next day in UTC
        "o2": pd.Timestamp("2026-01-10 08:00"),
        "o3": pd.Timestamp("2026-01-12"),  # a date without a zone stays as written
    }


def test_self_lookup_with_prefix_and_coalesce(tmp_path):
    toml = """
[tables.reps]
from = "people.csv"
lookup = { from = "people.csv", on = { left = "Boss", right = "Id" }, columns = ["Name"], prefix = "Boss " }
[tables.reps.columns]
rep_id = "Id"
rep_name = "Name"
[tables.reps.derive]
team = "coalesce(`Boss Name`, 'unassigned')"
"""  # noqa: E501
    reps = _open(tmp_path, toml, {"people": PEOPLE}).frame("reps").set_index("rep_id")
    assert reps["team"].to_dict() == {"u1": "Cy", "u2": "unassigned", "u3": "unassigned"}
    assert reps["rep_name"].to_dict() == {"u1": "Ana", "u2": "Ben", "u3": "Cy"}


def test_several_files_stack_into_one_table(tmp_path):
    calls = pd.DataFrame({"Id": ["c1"], "When": ["2026-01-02"]})
    meetings = pd.DataFrame({"Ref": ["m1", "m2"], "Start": ["2026-01-03", "2026-01-04"]})
    toml = """
[[tables.activities]]
from = "calls.csv"
[tables.activities.columns]
activity_id = "Id"
occurred_at = "When"
[tables.activities.constants]
type = "call"

[[tables.activities]]
from = "meetings.csv"
[tables.activities.columns]
activity_id = "Ref"
occurred_at = "Start"
[tables.activities.derive]
type = "'meeting' if matches(Ref, '^M') else None"
"""
    ds = _open(tmp_path, toml, {"calls": calls, "meetings": meetings})
    a = ds.frame("activities")
    assert a["activity_id"].tolist() == ["c1", "m1", "m2"]
    assert a["type"].tolist() == ["call", "meeting", "meeting"]


# ------------------------------------------------ unpivot: columns into rows

# Two deals, a column per stage holding when each entered it (in another order than the
# dates), "New" and the older "Old" spelling of the same stage, one empty cell.
STAGE_DATES = pd.DataFrame(
    {
        "Deal": ["D1", "D2"],
        "Status": ["Closed Won", "Demo Booked"],
        "New entered WON": ["2026-03-09", ""],
        "New entered demobooked": ["2026-01-05", ""],  # D2's is empty: the old one counts
        "Old entered demobooked": ["2025-12-31", "2026-02-02"],
        "New entered proposal_sent": ["2026-02-10", None],  # no deal in it now: names
        "Entered late": ["2026-04-01", ""],  # matches no pattern: not a stage
    }
)
UNPIVOT = """
[tables.opportunity_stage_history]
from = "deals.csv"
ignore_case = true
[tables.opportunity_stage_history.unpivot]
headers = ['^new entered (.+)$', '^old entered (.+)$']
name = "Step"
value = "At"
match = "Status"
names = ["Proposal sent", "Won"]
[tables.opportunity_stage_history.columns]
opportunity_id = "Deal"
stage = "Step"
entered_at = "At"
[tables.opportunity_stage_history.dates]
entered_at = "%Y-%m-%d"
"""


def test_unpivot_turns_a_column_per_stage_into_a_row_per_deal_and_stage(tmp_path):
    """D1: demobooked (the New column wins over Old's 2025-12-31) -> Demo Booked (the
    Status it equals, ignoring case and spaces), proposal_sent -> Proposal sent (names), WON ->
    Won (names: no Status is plain Won); by date. D2: only the Old column has a date."""
    ds = _open(tmp_path, UNPIVOT, {"deals": STAGE_DATES})
    h = ds.frame("opportunity_stage_history")
    got = [(r.opportunity_id, r.stage, str(r.entered_at.date())) for r in h.itertuples()]
    assert got == [
        ("D1", "Demo Booked", "2026-01-05"),
        ("D1", "Proposal sent", "2026-02-10"),
        ("D1", "Won", "2026-03-09"),
        ("D2", "Demo Booked", "2026-02-02"),
    ]


@pytest.mark.parametrize(
    "unpivot, message",
    [
        ("headers = ['^x$']\nname = 'Step'\nvalue = 'At'", "'^x$' has no group (...)"),
        ("headers = ['(']\nname = 'Step'\nvalue = 'At'", "'(' is no regular expression"),
        ("headers = ['^(.+)$']\nvalue = 'At'", "needs headers, name and value"),
        ("headers = '^(.+)$'\nname = 'Step'\nvalue = 'At'", "headers: must be a list"),
    ],
)
def test_a_wrong_unpivot_names_its_key(tmp_path, unpivot, message):
    toml = f"[tables.opportunity_stage_history]\nfrom = 'x.csv'\n[tables.opportunity_stage_history.unpivot]\n{unpivot}\n"  # noqa: E501
    (tmp_path / "m.toml").write_text(toml)
    with pytest.raises(KitError, match=r"\[tables.opportunity_stage_history\].unpivot") as e:
        load_mapping(tmp_path / "m.toml")
    assert message in str(e.value)


def test_unpivot_without_a_matching_header_says_which_file_and_headers(tmp_path):
    ds = _open(
        tmp_path,
        UNPIVOT.replace("^new entered", "^gone"),
        {"deals": STAGE_DATES[["Deal", "Status"]]},
        keep_unreadable=True,
    )  # noqa: E501
    message = ds.load_errors["opportunity_stage_history"]
    assert "unpivot: no header matches '^gone (.+)$' or '^old entered (.+)$'" in message
    assert "the headers are: Deal, Status" in message and "deals.csv" in message
