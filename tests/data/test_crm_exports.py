"""``kpi-kit init`` loads the two CRM-export fixtures of issue 21 (tests/crm_exports.py),
the tables hold what the fixtures' docstring says, and validation reports the deals'
problems once each, with counts, examples and the fix."""

from __future__ import annotations

import pandas as pd
import pytest
from crm_exports import (
    ANA,
    BEN,
    CY,
    DEE,
    HUBSPOT_WARNINGS,
    MARIA,
    OLGA,
    OMAR,
    SALESFORCE_WARNINGS,
    deal_id,
    hs_deal_id,
    hubspot_export,
    salesforce_export,
)

from kpi_helpers.cli import main
from kpi_helpers.data import open_dataset, validate


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory):
    folder = salesforce_export(tmp_path_factory.mktemp("crm") / "salesforce")
    assert main(["init", "--source", str(folder)]) == 0
    with open_dataset(folder, folder / "mapping.toml") as ds:
        yield {name: ds.frame(name) for name in ds.tables}, validate(ds)


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    folder = hubspot_export(tmp_path_factory.mktemp("crm") / "hubspot")
    assert main(["init", "--source", str(folder)]) == 0
    with open_dataset(folder, folder / "mapping.toml") as ds:
        yield {name: ds.frame(name) for name in ds.tables}, validate(ds)


def deal_findings(findings: pd.DataFrame) -> set[tuple[str, str, int]]:
    rows = findings[findings["check"] != "missing_table"]
    return set(zip(rows["column"], rows["check"], rows["rows"], strict=True))


def test_salesforce_tables(salesforce):
    tables, _ = salesforce
    assert set(tables) == {"opportunities", "accounts", "reps"}
    teams = tables["reps"].set_index("rep_id")["team"].to_dict()
    assert teams == {
        MARIA: "unassigned",  # the managers: no department, no manager
        OMAR: "unassigned",
        ANA: "Maria Chen",
        BEN: "Maria Chen",
        CY: "Omar Haddad",
        DEE: "Omar Haddad",
        OLGA: "Sales Development",
    }
    o = tables["opportunities"].set_index("opportunity_id")
    assert len(o) == 21 and set(o["deal_type"]) == {"new"}
    assert (o["stage"] == "closed_won").sum() == 11 and (o["stage"] == "closed_lost").sum() == 4
    assert o["closed_at"].min() == pd.Timestamp("2017-03-02")  # the first close
    assert o["created_at"].min() == pd.Timestamp("2016-10-03")  # five months earlier
    assert o["created_at"].max() == pd.Timestamp("2017-12-27")
    assert o["closed_at"].max() == pd.Timestamp("2017-12-31")  # the data runs through it
    assert o.loc[deal_id("P01"), "expected_close_at"] == pd.Timestamp("2017-01-31")
    assert tables["accounts"]["owner_rep_id"].notna().sum() == 1  # only Initech's
    owners = set(o["rep_id"])
    assert owners == {ANA, BEN, CY, DEE}  # managers and the SDR own no deal


def test_hubspot_tables(hubspot):
    tables, _ = hubspot
    o = tables["opportunities"].set_index("opportunity_id")
    is_open = ~o["stage"].isin(["closed_won", "closed_lost"])
    assert is_open.sum() == 6
    assert o.loc[is_open, "expected_close_at"].isna().all()  # no open deal has a date
    assert o.loc[hs_deal_id("W11"), "closed_at"] == pd.Timestamp("2017-12-31")
    assert tables["accounts"]["owner_rep_id"].isna().all()  # no company has an owner
    assert tables["reps"].set_index("rep_id")["team"].to_dict() == {
        "Ana Lima": "East",
        "Ben Ode": "East",
        "Cy Park": "West",
        "Dee Ray": "West",
    }


def test_salesforce_validation_names_the_deals_problems(salesforce):
    _, findings = salesforce
    assert (findings["severity"] == "warning").all()
    assert (findings["check"] == "missing_table").sum() == 8  # a CRM export has no orders...
    assert deal_findings(findings) == SALESFORCE_WARNINGS
    by_check = findings.set_index("check")
    assert by_check.loc["open_without_account", "examples"] == [deal_id("P02"), deal_id("P05")]
    overdue = by_check.loc["open_past_expected_close"]
    assert overdue["examples"] == [deal_id(k) for k in ("P01", "P02", "P03", "P06")]
    assert "before 2017-12-31" in overdue["problem"]  # where the data ends, not today
    one_type = by_check.loc["one_deal_type"]
    assert one_type["problem"].startswith("every deal is typed 'new' although 3 accounts")
    # Acme won 5 deals, Globex 4, Initech 2: most repeat wins first
    assert one_type["examples"] == [
        "0015g00000AcmeCAAA",
        "0015g00000GlobxAAA",
        "0015g00000InitcAAA",
    ]


def test_hubspot_validation_names_the_deals_problems(hubspot):
    _, findings = hubspot
    assert deal_findings(findings) == HUBSPOT_WARNINGS
    undated = findings.set_index("check").loc["open_without_expected_close"]
    assert undated["examples"] == [hs_deal_id(f"P0{i}") for i in range(1, 6)]  # five shown
