"""The sample-data generator: consistent across tables, reproducible, realistic, and its
--messy problems are all found by validate."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_END

from kpi_helpers.cli import main
from kpi_helpers.core import KitError
from kpi_helpers.data import FOREIGN_KEYS, TABLES, open_dataset, validate
from kpi_helpers.data.sample_data import MESSY_CHECKS, generate


@pytest.fixture(scope="module")
def frames(sample_dir) -> dict[str, pd.DataFrame]:
    ds = open_dataset(sample_dir)
    return {name: ds.frame(name) for name in ds.tables}


def test_every_table_of_the_contract_is_written_with_every_column(frames):
    assert set(frames) == set(TABLES)
    for name, spec in TABLES.items():
        assert list(frames[name].columns) == spec.names, name
        assert len(frames[name]) > 0


def test_every_foreign_key_resolves(frames):
    for (child, col), (parent, pcol) in FOREIGN_KEYS.items():
        values = frames[child][col].dropna()
        missing = set(values) - set(frames[parent][pcol])
        assert not missing, f"{child}.{col}: {sorted(missing)[:5]}"
    teams = set(frames["reps"]["team"])
    assert set(frames["costs"]["team"].dropna()) <= teams
    assert set(frames["targets"]["team"].dropna()) <= teams
    assert set(frames["targets"]["rep_id"].dropna()) <= set(frames["reps"]["rep_id"])


def test_sample_validates_clean(sample_dir):
    findings = validate(open_dataset(sample_dir))
    assert findings.empty, findings.to_string()


def test_the_stage_history_follows_each_deal(frames):
    o = frames["opportunities"].set_index("opportunity_id")
    h = frames["opportunity_stage_history"]
    assert set(h["opportunity_id"]) == set(o.index)  # every deal, and only deals
    by_deal = h.groupby("opportunity_id", sort=False)
    first, last = by_deal.first(), by_deal.last()
    assert (first["entered_at"] == o.loc[first.index, "created_at"]).all()
    assert (last["stage"] == o.loc[last.index, "stage"]).all()
    assert (last["amount"] == o.loc[last.index, "amount"]).all()
    closed = o["closed_at"].notna()
    assert (last.loc[closed[closed].index, "entered_at"] == o.loc[closed, "closed_at"]).all()
    # stages in the order of the path, each entered after the one before
    assert (by_deal["entered_at"].diff().dropna() > pd.Timedelta(0)).all()
    rank = {"prospecting": 0, "qualification": 1, "proposal": 2, "negotiation": 3}
    step = h["stage"].map(rank).fillna(4)
    assert (step.groupby(h["opportunity_id"]).diff().dropna() > 0).all()
    # lost deals drop out at every stage, won deals went through negotiation
    lost_at = h[h["opportunity_id"].isin(o.index[o["stage"] == "closed_lost"])]
    assert set(lost_at.groupby("opportunity_id")["stage"].nth(-2)) == set(rank)


def test_funnel_is_consistent(frames):
    leads, opps = frames["leads"], frames["opportunities"].set_index("opportunity_id")
    # every step happens after the previous one, and only for leads that took it
    for earlier, later in [
        ("created_at", "first_response_at"),
        ("first_response_at", "engaged_at"),
        ("engaged_at", "qualified_at"),
        ("qualified_at", "converted_at"),
    ]:
        both = leads[later].notna()
        assert leads.loc[both, earlier].notna().all()
        assert (leads.loc[both, later] >= leads.loc[both, earlier]).all()
    # converted leads become opportunities created at conversion
    from_leads = opps.dropna(subset=["lead_id"]).merge(
        leads, left_on="lead_id", right_on="lead_id", suffixes=("", "_lead")
    )
    assert (from_leads["created_at"] == from_leads["converted_at"]).all()
    assert len(from_leads) == leads["converted_at"].notna().sum()
    closed = opps["stage"].isin(["closed_won", "closed_lost"])
    assert opps.loc[closed, "closed_at"].notna().all()
    assert opps.loc[~closed, "closed_at"].isna().all()
    assert (opps.loc[closed, "closed_at"] >= opps.loc[closed, "created_at"]).all()


def test_won_deals_make_customers_with_orders(frames):
    opps, orders = frames["opportunities"], frames["orders"]
    won_accounts = set(opps.loc[opps.stage == "closed_won", "account_id"])
    buying = set(orders.loc[orders.revenue > 0, "account_id"])
    assert buying <= won_accounts
    assert len(buying) > 0.9 * len(won_accounts)
    subs = frames["subscriptions"]
    assert set(subs["account_id"]) <= won_accounts
    assert (subs["ended_at"].isna() | (subs["ended_at"] > subs["started_at"])).all()


def test_business_patterns_are_present(frames):
    opps, reps, orders = frames["opportunities"], frames["reps"], frames["orders"]
    assert set(opps["deal_type"]) == {"new", "upsell", "cross_sell", "renewal"}
    assert 4 <= reps["team"].nunique() <= 6
    assert reps["left_at"].notna().sum() > 0  # reps leave...
    assert (reps["hired_at"] > reps["hired_at"].min() + pd.Timedelta(days=400)).any()  # ...join
    # teams differ in strength: win rates spread by at least 5 points
    closed = opps[opps.stage.isin(["closed_won", "closed_lost"])].merge(reps, on="rep_id")
    rates = closed.groupby("team")["stage"].apply(lambda s: (s == "closed_won").mean())
    assert rates.max() - rates.min() > 0.05
    # growth: the last year sells more than the first; returns exist
    rev = orders.groupby(orders.ordered_at.dt.year)["revenue"].sum()
    assert rev.iloc[-1] > rev.iloc[0]
    assert (orders.revenue < 0).any()
    # churn and reactivation: subscriptions end, and some accounts start again later
    subs = frames["subscriptions"]
    assert subs["ended_at"].notna().sum() > 0
    assert subs.groupby("account_id")["started_at"].nunique().max() > 1
    # seasonality: new leads peak in Q4 above August across the years
    by_month = frames["leads"].created_at.dt.month.value_counts()
    assert by_month[11] > by_month[8]


def test_bookings_targets_give_plausible_attainment(sample_dir):
    """Team targets follow the team's level (they were once $100 after a quiet spell:
    attainments of 70,000 % and more). A team closes a handful of deals a month, so a single
    month can still land far from its target (0 % in a month without a win, a few hundred
    % in a month with two enterprise deals), but the bulk must look like a sales team's."""
    from kpi_helpers import kpis

    ds = open_dataset(sample_dir)
    # the 33 months after the first 3, in which the empty funnel of the start fills up
    df = kpis.compute(ds, SAMPLE_END, months=33, scope="team", kpis=["monthly_sales_bookings"])
    att = df["attainment"]
    assert att.notna().all()  # every team has a target every month
    assert att.max() < 1_000
    assert ((att >= 20) & (att <= 300)).mean() >= 0.75  # three team-months in four
    per_team = df.groupby("scope")["attainment"].median()
    assert per_team.between(50, 150).all(), per_team


def test_data_ends_with_the_requested_month(frames):
    end = pd.Period(SAMPLE_END, "M").end_time
    assert frames["orders"]["ordered_at"].max() <= end
    assert frames["activities"]["occurred_at"].max() <= end
    assert frames["costs"]["month"].max() == SAMPLE_END


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_identical_files(tmp_path, fmt):
    for name in ("a", "b"):
        generate(tmp_path / name, seed=3, end_month="2025-12", months=14, fmt=fmt)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    generate(tmp_path / "c", seed=4, end_month="2025-12", months=14, fmt=fmt)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_messy_problems_are_all_found(tmp_path):
    generate(tmp_path / "messy", seed=5, messy=True, end_month="2025-12", months=14)
    findings = validate(open_dataset(tmp_path / "messy"), as_of=datetime.now())
    found = set(zip(findings["table"], findings["column"], findings["check"], strict=True))
    assert set(MESSY_CHECKS) <= found
    manifest = json.loads((tmp_path / "messy" / "_sample.json").read_text())
    assert len(manifest["problems"]) == len(MESSY_CHECKS)


def test_cli_writes_atomically_and_replaces(tmp_path, capsys):
    out = tmp_path / "data"
    assert (
        main(
            [
                "sample-data",
                "--out",
                str(out),
                "--months",
                "13",
                "--end",
                "2025-12",
                "--format",
                "parquet",
            ]
        )
        == 0
    )
    assert (out / "orders.parquet").exists()
    assert "Wrote small sample data" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no temporary folder left


def test_cli_rejects_a_bad_month(capsys):
    with pytest.raises(SystemExit):
        main(["sample-data", "--out", "x", "--end", "2025-13"])
    assert "'2025-13' is not a month written YYYY-MM" in capsys.readouterr().err


# ------------------------------------------------------------------ nothing deleted by mistake

SMALL = ["--months", "13", "--end", "2025-12"]


def test_only_a_folder_it_wrote_is_replaced(tmp_path, capsys):
    """An empty folder is fine and a folder sample-data wrote is replaced; a folder with
    anything else in it (also a sample folder someone added a file to) is left alone
    with one message, unless --force. On main any folder was deleted without a word."""
    out = tmp_path / "data"
    out.mkdir()
    assert main(["sample-data", "--out", str(out), *SMALL]) == 0  # empty: fine
    assert main(["sample-data", "--out", str(out), "--seed", "8", *SMALL]) == 0  # its own
    assert json.loads((out / "_sample.json").read_text())["seed"] == 8
    (out / "kpi.toml").write_text('currency = "EUR"\n')  # the user's file
    before = _digest(out)
    capsys.readouterr()
    assert main(["sample-data", "--out", str(out), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"kpi-kit sample-data: --out {out} already holds files sample-data did not write "
        "(kpi.toml); writing there would delete them. Pick a new or empty folder, or pass "
        "--force to replace the folder and everything in it.\n"
    )
    assert _digest(out) == before  # nothing touched
    assert main(["sample-data", "--out", str(out), "--force", *SMALL]) == 0
    assert not (out / "kpi.toml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing left beside it


def test_a_folder_of_work_is_refused_naming_a_few_of_its_files(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("a.xlsx", "b.docx", "c.csv", "d.txt", "e.pdf"):
        (work / name).write_text(name)
    assert main(["sample-data", "--out", str(work), *SMALL]) == 2
    assert "(a.xlsx, b.docx, c.csv and 2 more)" in capsys.readouterr().err
    assert sorted(p.name for p in work.iterdir()) == ["a.xlsx", "b.docx", "c.csv", "d.txt", "e.pdf"]
    (tmp_path / "file.csv").write_text("x")
    assert main(["sample-data", "--out", str(tmp_path / "file.csv"), "--force", *SMALL]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "file.csv").read_text() == "x"


@pytest.mark.parametrize(
    ("out", "what"),
    [
        (".", "the current folder"),
        ("{cwd}", "the current folder"),
        ("..", "a folder holding the current folder"),
        ("{tmp}", "a folder holding the current folder"),
        ("~", "your home folder"),
        ("{home}", "your home folder"),
    ],
)
def test_the_current_and_home_folders_are_refused_even_with_force(
    tmp_path, monkeypatch, capsys, out, what
):
    home, cwd = tmp_path / "home", tmp_path / "home" / "projects" / "kpi"
    cwd.mkdir(parents=True)
    (cwd / "report.xlsx").write_text("a month of work")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    out = out.format(cwd=cwd, tmp=tmp_path, home=home)
    for force in ([], ["--force"]):
        assert main(["sample-data", "--out", out, *force, *SMALL]) == 2
        assert capsys.readouterr().err == (
            f"kpi-kit sample-data: --out {Path(out).expanduser()} is {what}; sample-data "
            "replaces the folder it writes, so it never writes there, not even with --force. "
            "Pick a new or empty folder, e.g. --out data/sample.\n"
        )
        assert (cwd / "report.xlsx").read_text() == "a month of work"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # nothing beside it


def test_the_root_folder_is_refused_before_any_work():
    with pytest.raises(KitError, match=r"--out / is the root folder; .* not even with --force"):
        generate("/", force=True)
