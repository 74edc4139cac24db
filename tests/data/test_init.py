"""kpi-kit init on small Salesforce and HubSpot exports written here by hand.

The headers are the documented ones: Salesforce API field names (Data Loader) and report
labels, HubSpot property labels. Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import shlex
import tomllib

import pandas as pd
import pytest
from crm_exports import HUBSPOT_HISTORY, SALESFORCE_HISTORY, hubspot_export, salesforce_export

from kpi_helpers.cli import main
from kpi_helpers.data import open_dataset

# --------------------------------------------------------------------------- Salesforce

# October 2016: won 006O1 (1000) and 006O2 (500); lost 006O3 (Closed Lost) and 006O4
# (a custom closed stage with IsClosed=true, IsWon=false). Win rate 2 / 4 = 50 %,
# bookings 1000 + 500 = 1500. 006O5 is open; 006O6 is won in November.
OPPORTUNITY = """\
Id,AccountId,Name,StageName,Amount,Probability,CloseDate,Type,IsClosed,IsWon,OwnerId,CreatedDate
006O1,001A1,Acme new,Closed Won,1000,100,2016-10-20,New Customer,true,true,005U1,2016-09-01T10:00:00.000Z
006O2,001A1,Acme more seats,Closed Won,500,100,2016-10-05,Existing Customer - Upgrade,TRUE,True,005U2,2016-08-15T00:00:00.000Z
006O3,001A2,Globex,Closed Lost,300,0,2016-10-25,New Customer,true,false,005U1,2016-09-10T08:00:00.000Z
006O4,001A2,Globex smaller,Dead - No Budget,200,0,2016-10-28,Existing Customer - Downgrade,true,false,005U2,2016-09-12T08:00:00.000Z
006O5,001A2,Globex renewal,Prospecting,800,40,2016-12-15,Renewal,false,false,005U1,2016-10-02T12:00:00.000Z
006O6,001A1,Acme swap,Closed Won,700,100,2016-11-03,Existing Customer - Replacement,true,true,005U3,2016-10-31T22:00:00.000-05:00
"""  # noqa: E501
ACCOUNT = """\
Id,Name,OwnerId,Industry,BillingCountry,CreatedDate
001A1,Acme,005U1,Manufacturing,US,2016-01-05T00:00:00.000Z
001A2,Globex,005U2,Energy,DE,2016-02-07T00:00:00.000Z
"""
# headers in another case than the API names: matched without regard to case
USER = """\
ID,NAME,DEPARTMENT,managerid
005U1,Ana,Enterprise,
005U2,Ben,,005U4
005U3,Cy,,
005U4,Dora,Management,
"""
LEAD = """\
Id,CreatedDate,LeadSource,OwnerId,Status,IsConverted,ConvertedDate,ConvertedOpportunityId,ConvertedAccountId
00QL1,2016-08-10T09:00:00.000Z,Web,005U1,Closed - Converted,true,2016-09-01,006O1,001A1
00QL2,2016-09-20T14:00:00.000Z,Partner Referral,005U2,Open - Not Contacted,false,,,
"""
TASK = """\
Id,OwnerId,WhatId,WhoId,AccountId,Subject,ActivityDate,TaskSubtype,Type,CallDisposition,CreatedDate
00TT1,005U1,006O1,,001A1,Call CFO,2016-10-03,Call,,Connected - spoke to CFO,2016-10-03T09:00:00.000Z
00TT2,005U2,001A2,00QL2,001A2,Intro mail,2016-10-04,Email,Email,,2016-10-04T09:00:00.000Z
00TT3,005U1,006O3,,001A2,Call back,2016-10-05,Task,Call,Left voicemail,2016-10-05T09:00:00.000Z
00TT4,005U1,,,,Prepare deck,2016-10-06,Task,,,2016-10-06T09:00:00.000Z
"""
EVENT = """\
Id,OwnerId,WhatId,WhoId,AccountId,Subject,StartDateTime,ActivityDate,Type
00UE1,005U1,006O5,,001A2,Demo,2016-10-06T15:00:00.000Z,2016-10-06,
00UE2,005U3,,00QL2,,Phone screen,2016-10-07T08:00:00.000Z,2016-10-07,Call
"""


def _write(folder, files: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _salesforce(tmp_path):
    return _write(
        tmp_path / "sf",
        {
            "Opportunity.csv": OPPORTUNITY,
            "Account.csv": ACCOUNT,
            "User.csv": USER,
            "Lead.csv": LEAD,
            "Task.csv": TASK,
            "Event.csv": EVENT,
        },
    )


def _init(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["init", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _next_command(out: str, verb: str) -> list[str]:
    line = next(x for x in out.splitlines() if x.strip().startswith(f"kpi-kit {verb} "))
    return shlex.split(line)[1:]


def _compute(capsys, argv: list[str], tmp_path, kpis: str) -> dict[str, float]:
    target = tmp_path / "kpis.csv"
    code = main([*argv, "--kpi", kpis, "--out", str(target)])
    assert code == 0, capsys.readouterr().err
    df = pd.read_csv(target)
    df = df[df.scope_type == "company"]
    return dict(zip(df.kpi, df.value, strict=True))


def test_salesforce_init_writes_mapping_and_config_and_the_next_command_works(tmp_path, capsys):
    export = _salesforce(tmp_path)
    code, out, err = _init(capsys, "--source", export, "--out", tmp_path / "kit")
    assert code == 0, err
    assert "Recognised the Salesforce Data Loader export" in out
    assert "Validation of folder" in out  # validate ran and printed its report
    config = tomllib.loads((tmp_path / "kit" / "kpi.toml").read_text())
    assert config["mapping"].endswith("mapping.toml")
    mapping = tomllib.loads((tmp_path / "kit" / "mapping.toml").read_text())
    assert set(mapping["tables"]) == {"opportunities", "accounts", "reps", "leads", "activities"}
    assert [p["from"] for p in mapping["tables"]["activities"]] == ["Task.csv", "Event.csv"]

    argv = _next_command(out, "compute")
    assert argv[argv.index("--month") + 1] == "2016-11"  # the last month with data
    argv[argv.index("--month") + 1] = "2016-10"
    values = _compute(capsys, argv, tmp_path, "win_rate,monthly_sales_bookings,calls_made")
    assert values["win_rate"] == pytest.approx(50.0)
    assert values["monthly_sales_bookings"] == pytest.approx(1500.0)
    # 00TT1 (subtype Call), 00TT3 (a task of type Call), 00UE2 (an event of type Call)
    assert values["calls_made"] == 3
    # four months of data are enough for a pack (months before the data are shown so)
    assert _next_command(out, "pack")[-1] == "2016-11"


def test_salesforce_tables_follow_the_documented_rules(tmp_path, capsys):
    export = _salesforce(tmp_path)
    assert _init(capsys, "--source", export)[0] == 0  # default: beside the export
    ds = open_dataset(export, export / "mapping.toml")
    o = ds.frame("opportunities").set_index("opportunity_id")
    assert o["stage"].to_dict() == {
        "006O1": "closed_won",
        "006O2": "closed_won",
        "006O3": "closed_lost",
        "006O4": "closed_lost",  # IsClosed=true, IsWon=false, whatever the stage is called
        "006O5": "Prospecting",  # open stage names are kept
        "006O6": "closed_won",
    }
    assert o.loc["006O5", "probability"] == pytest.approx(0.4)
    assert o["deal_type"].to_dict() == {
        "006O1": "new",
        "006O2": "upsell",
        "006O3": "new",
        "006O4": "renewal",
        "006O5": "renewal",
        "006O6": "renewal",
    }
    # CloseDate is the close of a closed deal and the expected close of an open one
    assert pd.isna(o.loc["006O5", "closed_at"])
    assert o.loc["006O5", "expected_close_at"] == pd.Timestamp("2016-12-15")
    assert o.loc["006O1", "closed_at"] == pd.Timestamp("2016-10-20")
    # 22:00 at UTC-5 is 03:00 UTC the next day, stored without the zone
    assert o.loc["006O6", "created_at"] == pd.Timestamp("2016-11-01 03:00")
    assert o.loc["006O1", "lead_id"] == "00QL1"  # the lead converted into it
    assert pd.isna(o.loc["006O2", "lead_id"])

    reps = ds.frame("reps").set_index("rep_id")
    assert reps["team"].to_dict() == {
        "005U1": "Enterprise",  # Department
        "005U2": "Dora",  # no Department: the manager's name (User looked up in User)
        "005U3": "unassigned",  # neither
        "005U4": "Management",
    }
    assert reps.loc["005U2", "rep_name"] == "Ben"

    leads = ds.frame("leads").set_index("lead_id")
    assert leads.loc["00QL1", "converted_at"] == pd.Timestamp("2016-09-01")
    assert pd.isna(leads.loc["00QL2", "converted_at"])
    assert leads["source"].tolist() == ["Web", "Partner Referral"]

    a = ds.frame("activities").set_index("activity_id")
    assert a["type"].to_dict() == {
        "00TT1": "call",
        "00TT2": "email",
        "00TT3": "call",
        "00TT4": "Task",  # a plain task: kept, counted as other
        "00UE1": "meeting",  # an event without a type is a meeting
        "00UE2": "call",
    }
    assert a.loc["00TT1", "outcome"] == "successful"
    assert a.loc["00TT3", "outcome"] == "Left voicemail"
    assert a.loc["00TT1", "opportunity_id"] == "006O1"
    assert pd.isna(a.loc["00TT2", "opportunity_id"])  # WhatId is an account
    assert a.loc["00TT2", "lead_id"] == "00QL2"
    assert a.loc["00UE1", "occurred_at"] == pd.Timestamp("2016-10-06 15:00")


def test_lowercase_file_names_and_missing_files_are_fine(tmp_path, capsys):
    export = _write(tmp_path / "sf", {"opportunity.csv": OPPORTUNITY, "user.csv": USER})
    code, out, err = _init(capsys, "--source", export)
    assert code == 0, err
    assert "leads" in out and "not mapped: no file matching Lead.csv" in out
    mapping = tomllib.loads((export / "mapping.toml").read_text())
    assert mapping["tables"]["opportunities"]["from"] == "opportunity.csv"
    assert "lead_id" not in mapping["tables"]["opportunities"]["columns"]  # no Lead.csv


# --------------------------------------------------------------------------- HubSpot

# March 2017: won D1 (Closed won, 1200) and D3 (custom stage "Contract won", 600), lost
# D2 ("closed lost", lower case): win rate 2 / 3, bookings 1800. D4 is open, D5 lost in
# April. Dates are written month first.
DEALS = """\
Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Pipeline,Associated Company,Deal Type
D1,Acme,Closed won,1200,3/1/2017 00:00,1/15/2017 10:30,Ana Lima,Sales Pipeline,Acme,New Business
D2,Globex,closed lost,400,3/10/2017 00:00,2/1/2017 09:00,Ben Ode,Sales Pipeline,Globex,New Business
D3,Acme add-on,Contract won,600,3/20/2017 00:00,2/10/2017 00:00,Cy Park,Sales Pipeline,Acme,Existing Business
D4,Initech,Contract sent,900,4/30/2017 00:00,3/5/2017 00:00,Ana Lima,Sales Pipeline,Initech,New Business
D5,Umbrella,Deal lost,250,4/2/2017 00:00,3/6/2017 00:00,Ben Ode,Sales Pipeline,Umbrella,New Business
"""  # noqa: E501
OLD_DEALS = """\
Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Pipeline,Associated Company
D1,Acme,Contract sent,1200,3/1/2017 00:00,1/15/2017 10:30,Ana Lima,Sales Pipeline,Acme
"""
COMPANIES = """\
Record ID,Company name,Company owner,Create Date,Industry
C1,Acme,Ana Lima,1/2/2017 08:00,Retail
C2,Globex,Ben Ode,1/3/2017 08:00,Energy
"""
CONTACTS = """\
Record ID,First Name,Create Date,Contact owner,Original Source,Became a Sales Qualified Lead Date,Became an Opportunity Date,Associated Company
101,Al,1/5/2017 09:00,Ana Lima,Organic Search,1/20/2017 10:00,2/1/2017 11:00,Acme
102,Cy,2/7/2017 12:00,Ben Ode,Paid Search,,,Globex
"""  # noqa: E501
CALLS = """\
Record ID,Call Title,Activity date,Activity assigned to,Call outcome,Call direction
201,Intro,3/2/2017 10:15,Ana Lima,Connected,Outbound
202,Follow-up,3/3/2017 16:00,Ben Ode,No answer,Outbound
"""
OWNERS = """\
owner,team
Ana Lima,East
Ben Ode,West
"""


def _hubspot(tmp_path, owners: bool = True):
    files = {
        "hubspot-crm-exports-all-deals-2017-03-31.csv": DEALS,
        "hubspot-crm-exports-all-deals-2017-02-28.csv": OLD_DEALS,  # older: not used
        "hubspot-crm-exports-all-companies-2017-03-31.csv": COMPANIES,
        "hubspot-crm-exports-all-contacts-2017-03-31.csv": CONTACTS,
        "hubspot-crm-exports-all-calls-2017-03-31.csv": CALLS,
    }
    if owners:
        files["owners.csv"] = OWNERS
    return _write(tmp_path / "hs", files)


def test_hubspot_init_and_kpis(tmp_path, capsys):
    export = _hubspot(tmp_path)
    code, out, err = _init(capsys, "--source", export, "--out", tmp_path / "kit")
    assert code == 0, err
    assert "Recognised the HubSpot CRM export" in out
    argv = _next_command(out, "compute")
    argv[argv.index("--month") + 1] = "2017-03"
    values = _compute(capsys, argv, tmp_path, "win_rate,monthly_sales_bookings,calls_made")
    assert values["calls_made"] == 2
    assert values["win_rate"] == pytest.approx(200 / 3)
    assert values["monthly_sales_bookings"] == pytest.approx(1800.0)

    ds = open_dataset(export, tmp_path / "kit" / "mapping.toml")
    o = ds.frame("opportunities").set_index("opportunity_id")
    assert o["stage"].to_dict() == {
        "D1": "closed_won",
        "D2": "closed_lost",
        "D3": "closed_won",
        "D4": "Contract sent",
        "D5": "closed_lost",
    }
    assert o.loc["D1", "closed_at"] == pd.Timestamp("2017-03-01")
    assert o.loc["D1", "created_at"] == pd.Timestamp("2017-01-15 10:30")
    assert pd.isna(o.loc["D4", "closed_at"])
    assert o.loc["D4", "expected_close_at"] == pd.Timestamp("2017-04-30")
    assert o.loc["D3", "deal_type"] == "upsell"
    assert o.loc["D1", "rep_id"] == "Ana Lima"
    reps = ds.frame("reps").set_index("rep_id")
    assert reps["team"].to_dict() == {
        "Ana Lima": "East",
        "Ben Ode": "West",
        "Cy Park": "unassigned",
    }
    assert ds.frame("accounts")["account_id"].tolist() == ["Acme", "Globex"]
    config = tomllib.loads((tmp_path / "kit" / "kpi.toml").read_text())
    assert config["stage_probability"]["Contract sent"] == 0.9
    leads = ds.frame("leads").set_index("lead_id")
    assert leads.loc["101", "converted_at"] == pd.Timestamp("2017-02-01 11:00")
    assert leads.loc["101", "qualified_at"] == pd.Timestamp("2017-01-20 10:00")
    assert pd.isna(leads.loc["102", "converted_at"])
    assert leads.loc["102", "source"] == "Paid Search"
    calls = ds.frame("activities").set_index("activity_id")
    assert calls["outcome"].to_dict() == {"201": "successful", "202": "No answer"}
    assert set(calls["type"]) == {"call"}
    assert calls.loc["202", "occurred_at"] == pd.Timestamp("2017-03-03 16:00")


def test_hubspot_without_owners_file_puts_everyone_in_unassigned(tmp_path, capsys):
    export = _hubspot(tmp_path, owners=False)
    assert _init(capsys, "--source", export)[0] == 0
    ds = open_dataset(export, export / "mapping.toml")
    assert set(ds.frame("reps")["team"]) == {"unassigned"}


def test_hubspot_export_file_given_directly(tmp_path, capsys):
    export = _hubspot(tmp_path)
    old = export / "hubspot-crm-exports-all-deals-2017-02-28.csv"
    code, out, err = _init(capsys, "--source", old, "--out", tmp_path / "kit")
    assert code == 0, err
    mapping = tomllib.loads((tmp_path / "kit" / "mapping.toml").read_text())
    assert mapping["tables"]["opportunities"]["from"] == old.name  # the one named


# --------------------------------------------------------------------------- Salesforce report

# A "Details Only" CSV export of an opportunity report, with the footer Salesforce adds.
REPORT = """\
"Opportunity Name","Account Name","Stage","Amount","Probability (%)","Close Date","Created Date","Opportunity Owner","Type","Owner Role"
"Acme new","Acme","Closed Won","1000","100","10/20/2016","9/1/2016","Ana","New Customer","East AE"
"Globex","Globex","Closed Lost","300","0","10/25/2016","9/10/2016","Ben","New Customer",""
"Globex renewal","Globex","Prospecting","800","10","12/15/2016","10/2/2016","Ana","Renewal","East AE"

"Copyright (c) 2000-2016 salesforce.com, inc. All rights reserved."
"Confidential Information - Do Not Distribute"
"Generated By:  Ana  10/31/2016 9:12 AM"
"""  # noqa: E501


def test_salesforce_report_labels(tmp_path, capsys):
    export = _write(tmp_path / "report", {"Pipeline report.csv": REPORT})
    code, out, err = _init(capsys, "--source", export)
    assert code == 0, err
    assert "Salesforce opportunity report" in out
    ds = open_dataset(export, export / "mapping.toml")
    o = ds.frame("opportunities").set_index("opportunity_id")
    assert o["stage"].to_dict() == {
        "Acme new": "closed_won",
        "Globex": "closed_lost",
        "Globex renewal": "Prospecting",
    }  # the footer lines are not deals
    assert o.loc["Globex renewal", "probability"] == pytest.approx(0.1)
    assert o.loc["Acme new", "closed_at"] == pd.Timestamp("2016-10-20")
    reps = ds.frame("reps").set_index("rep_id")
    assert reps["team"].to_dict() == {"Ana": "East AE", "Ben": "unassigned"}


# --------------------------------------------------------------------------- refusals


def test_unrecognised_export_says_what_it_looked_for(tmp_path, capsys):
    export = _write(tmp_path / "x", {"notes.csv": "a,b\n1,2\n"})
    code, out, err = _init(capsys, "--source", export)
    assert code == 2
    assert "Did not recognise the export" in err and "notes.csv" in err
    for looked_for in ("Opportunity.csv", "hubspot-crm-exports-*deals*.csv", "Opportunity Name"):
        assert looked_for in err
    assert "Traceback" not in err
    assert not (export / "mapping.toml").exists()


def test_an_export_missing_a_required_column_says_which(tmp_path, capsys):
    broken = OPPORTUNITY.replace("CreatedDate", "Created")
    export = _write(tmp_path / "sf", {"Opportunity.csv": broken})
    code, out, err = _init(capsys, "--source", export)
    assert code == 2
    assert "Opportunity.csv has no column for created_at (looked for CreatedDate)" in err


def test_existing_files_are_not_overwritten_without_force(tmp_path, capsys):
    export = _salesforce(tmp_path)
    (export / "mapping.toml").write_text("# my own mapping\n")
    code, out, err = _init(capsys, "--source", export)
    assert code == 2
    assert "already exist" in err and "--force" in err
    assert (export / "mapping.toml").read_text() == "# my own mapping\n"
    assert not (export / "kpi.toml").exists()  # nothing half-written
    code, out, err = _init(capsys, "--source", export, "--force")
    assert code == 0, err
    assert "[tables.opportunities]" in (export / "mapping.toml").read_text()
    assert not [p for p in export.iterdir() if p.name.startswith(".")]  # no temporary files


def test_help_lists_init(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "recognise a Salesforce or HubSpot export" in capsys.readouterr().out


def test_validation_errors_are_printed_and_give_exit_code_2(tmp_path, capsys):
    broken = OPPORTUNITY.replace("2016-09-10T08:00:00.000Z", "last Tuesday")
    export = _write(tmp_path / "sf", {"Opportunity.csv": broken})
    code, out, err = _init(capsys, "--source", export)
    assert code == 2
    assert "ERROR   opportunities.created_at" in out and "006O3" in out
    assert "Fix the errors above" in out
    assert (export / "mapping.toml").exists()  # written: the user fixes the data or it


def test_report_dates_written_day_first_are_recognised(tmp_path, capsys):
    # 20/10/2016 cannot be month first, so init keeps the day-first format for the file
    report = (
        "Opportunity ID,Stage,Amount,Close Date,Created Date\n"
        "R1,Closed Won,100,20/10/2016,01/09/2016\n"
        "R2,Prospecting,50,05/12/2016,02/10/2016\n"
    )
    export = _write(tmp_path / "report", {"export.csv": report})
    assert _init(capsys, "--source", export)[0] == 0
    mapping = tomllib.loads((export / "mapping.toml").read_text())
    assert mapping["tables"]["opportunities"]["dates"]["closed_at"] == "%d/%m/%Y"
    o = open_dataset(export, export / "mapping.toml").frame("opportunities")
    o = o.set_index("opportunity_id")
    assert o.loc["R1", "created_at"] == pd.Timestamp("2016-09-01")  # 1 September
    assert o.loc["R2", "expected_close_at"] == pd.Timestamp("2016-12-05")


def test_the_pack_command_is_printed_when_the_export_covers_13_months(tmp_path, capsys):
    rows = [
        f"006M{i},Closed Won,100,{2016 + (i + 1) // 12}-{(i + 1) % 12 + 1:02d}-01,"
        f"true,true,005U1,{2016 + i // 12}-{i % 12 + 1:02d}-15T00:00:00.000Z"
        for i in range(13)  # created 2016-01-15 .. 2017-01-15, each won a month later
    ]
    head = "Id,StageName,Amount,CloseDate,IsClosed,IsWon,OwnerId,CreatedDate\n"
    export = _write(tmp_path / "sf", {"Opportunity.csv": head + "\n".join(rows) + "\n"})
    code, out, err = _init(capsys, "--source", export)
    assert code == 0, err
    argv = _next_command(out, "pack")
    # the data runs through the last close (006M12, 2017-02-01), not the last created deal
    assert argv[argv.index("--month") + 1] == "2017-02"
    values = _compute(capsys, _next_command(out, "compute"), tmp_path, "deals_won")
    assert values["deals_won"] == 1  # 006M12


def test_salesforce_opportunity_history_becomes_the_stage_history(tmp_path, capsys):
    export = salesforce_export(tmp_path / "sf", history=True)
    code, out, err = _init(capsys, "--source", export, "--out", tmp_path / "kit")
    assert code == 0, err
    assert "opportunity_stage_history" in out and "OpportunityHistory.csv" in out
    mapping = tomllib.loads((tmp_path / "kit" / "mapping.toml").read_text())
    section = mapping["tables"]["opportunity_stage_history"]
    assert section["columns"]["entered_at"] == "CreatedDate"
    ds = open_dataset(export, tmp_path / "kit" / "mapping.toml")
    h = ds.frame("opportunity_stage_history").sort_values(["opportunity_id", "entered_at"])
    got = [
        (r.opportunity_id, r.stage, str(r.entered_at), r.amount, r.forecast_category)
        for r in h.itertuples()
    ]
    assert got == SALESFORCE_HISTORY
    # every deal of the history is a deal, each ends in the deal's stage: init's validation
    # (printed) names no finding of the table
    assert "Validation of folder" in out and "opportunity_stage_history." not in out


DEALS_FILE = "hubspot-crm-exports-all-deals-2018-01-02.csv"


def _hubspot_history(tmp_path, capsys, style: str):
    """init on the HubSpot export with "Date entered" columns in ``style``: the export, the
    kit folder, and the stage history rows init's mapping gives; its printed validation
    names no finding of the history."""
    export = hubspot_export(tmp_path / "hs", history=style)
    kit = tmp_path / "kit"
    code, out, err = _init(capsys, "--source", export, "--out", kit)
    assert code == 0, err
    line = next(x for x in out.splitlines() if "opportunity_stage_history" in x)
    assert line.split() == ["opportunity_stage_history", "<-", DEALS_FILE]
    assert "Validation of folder" in out and "opportunity_stage_history." not in out
    h = open_dataset(export, kit / "mapping.toml").frame("opportunity_stage_history")
    return export, kit, [(r.opportunity_id, r.stage, str(r.entered_at)) for r in h.itertuples()]


def test_hubspot_date_entered_labels_become_the_stage_history(tmp_path, capsys):
    """The deals export's "Date entered <stage>" columns as HubSpot's UI writes them, one
    row per deal and stage with a date (tests/crm_exports.py: W10 skipped two stages, empty
    dates are no entry, the columns come last stage first). m = 2017-12: due in 2018-01
    are P04 (2000, Appointment scheduled) and P05 (1000, Qualified to buy, no history). Per
    stage, of the deals open at a month end of 2016-12..2017-11 and closed by the end of
    m: Appointment scheduled 0 / 1 (L04 lost), Decision maker bought-in 1 / 1 (W10);
    Qualified to buy takes the pooled rate 11 / 15 (11 won, 4 lost). Forecast = 2000 x 0 +
    1000 x 11 / 15 = 733.33."""
    export, kit, rows = _hubspot_history(tmp_path, capsys, "labels")
    assert rows == HUBSPOT_HISTORY
    code = main(["validate", "--source", str(export), "--mapping", str(kit / "mapping.toml")])
    out = capsys.readouterr().out
    assert code == 1 and "Validation of folder" in out  # warnings about the deals only
    assert "opportunity_stage_history" not in out
    argv = ["forecast", "--config", str(kit / "kpi.toml"), "--month", "2017-12"]
    code = main([*argv, "--kpi", "bookings_forecast", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["method"] == "pipeline-weighted (per-stage win rates)"
    assert row["forecast"] == pytest.approx(1000 * 11 / 15)


def test_hubspot_date_entered_internal_names_become_the_same_history(tmp_path, capsys):
    """hs_v2_date_entered_<id> and the older hs_date_entered_<id> both (ISO timestamps):
    the v2 value wins, the older one fills in (L04's closedlost), ids match the deals'
    stage labels: the same rows as the labels give."""
    assert _hubspot_history(tmp_path, capsys, "ids")[2] == HUBSPOT_HISTORY
