"""Threshold alerts: rules from kpi.toml, evaluation on hand-written tidy rows, the
``kpi-kit alerts`` command on the sample data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import SAMPLE_END, one_team_drops, write_tables

from kpi_helpers.alerts import AlertRule, check, evaluate, needed_scopes, parse_rules, rules_of
from kpi_helpers.cli import main
from kpi_helpers.core import Config, KitError, Month, load_config

M = "2026-05"


def month(back: int) -> str:
    return str(Month.parse(M) - back)


def row(key: str, kpi: str, value: float | None, back: int = 0, **extra) -> dict:
    """One tidy row (the columns the rules read) of ``kpi`` for ``key``, ``back`` months
    before M; status ok unless given."""
    kind, _, name = key.partition(":")
    base = dict(
        month=month(back),
        scope_type=kind,
        scope=name or "company",
        kpi=kpi,
        value=value,
        status="ok",
        mom_change=float("nan"),
        change_unit="%",
        attainment=float("nan"),
        rag="",
        key=key,
    )
    return base | extra


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def rule(kpi: str, kind: str, threshold: float | None = None, scope: str = "company"):
    return AlertRule(kpi, kind, threshold, scope)


# ------------------------------------------------------------------ below / above


def test_below_fires_under_the_threshold_in_percent_points():
    rows = frame(
        row("team:A", "win_rate", 18.0),  # 18 % < 20 %: fires
        row("team:B", "win_rate", 20.0),  # equal: does not
        row("team:C", "win_rate", 36.5),
    )
    alerts = evaluate([rule("win_rate", "below", 20, "team:*")], rows, M)
    assert [(a.scope, a.value, a.value_text, a.rule) for a in alerts] == [
        ("team:A", 18.0, "18.0 %", "below 20.0 %")
    ]
    a = alerts[0]
    assert (a.kpi, a.name, a.scope_label, a.month, a.kind, a.threshold) == (
        "win_rate",
        "Win rate",
        "Team A",
        M,
        "below",
        20.0,
    )


def test_above_fires_over_the_threshold_and_only_on_ok_rows():
    rows = frame(
        row("company", "sales_revenue", 1_500_000.0),
        row("team:A", "sales_revenue", 900_000.0),
        row("team:B", "sales_revenue", 2_000_000.0, status="undefined"),  # not counted
        row("team:C", "sales_revenue", 2_000_000.0, back=1),  # last month: not counted
    )
    alerts = evaluate([rule("sales_revenue", "above", 1_000_000, "team:*")], rows, M)
    assert alerts == []
    alerts = evaluate([rule("sales_revenue", "above", 1_000_000)], rows, M)
    assert [(a.scope, a.value_text, a.rule) for a in alerts] == [
        ("company", "$1,500,000", "above $1,000,000")
    ]


# ------------------------------------------------------------------ month over month


def test_change_below_is_the_relative_change_in_percent():
    # revenue $90k after $100k: mom_change -10 (%)
    rows = frame(row("company", "sales_revenue", 90_000.0, mom_change=-10.0, change_unit="%"))
    fired = evaluate([rule("sales_revenue", "change_below", -5)], rows, M)
    assert [a.rule for a in fired] == ["fell more than 5 % month over month (-10.0 %)"]
    assert evaluate([rule("sales_revenue", "change_below", -10)], rows, M) == []  # strict
    assert evaluate([rule("sales_revenue", "change_below", -12)], rows, M) == []


def test_change_above_is_in_points_for_percent_kpis():
    # win rate 43 % after 36.5 %: +6.5 pp
    rows = frame(
        row("company", "win_rate", 43.0, mom_change=6.5, change_unit="pp"),
        row("team:A", "win_rate", 30.0, mom_change=float("nan"), change_unit="pp"),  # no m-1
    )
    fired = evaluate([rule("win_rate", "change_above", 5, "company")], rows, M)
    assert [a.rule for a in fired] == ["rose more than 5 pp month over month (+6.5 pp)"]
    assert evaluate([rule("win_rate", "change_above", 7)], rows, M) == []
    assert evaluate([rule("win_rate", "change_above", -100, "team:*")], rows, M) == []


# ------------------------------------------------------------------ turns red


def test_turns_red_fires_only_when_last_month_was_not_red():
    rows = frame(
        row("team:A", "sales_revenue", 84.0, attainment=84.0, rag="red"),
        row("team:A", "sales_revenue", 95.0, back=1, attainment=95.0, rag="amber"),
        row("team:B", "sales_revenue", 70.0, attainment=70.0, rag="red"),
        row("team:B", "sales_revenue", 80.0, back=1, attainment=80.0, rag="red"),  # still red
        row("team:C", "sales_revenue", 120.0, attainment=120.0, rag="green"),
        row("team:C", "sales_revenue", 80.0, back=1, attainment=80.0, rag="red"),
    )
    alerts = evaluate([rule("*", "turns_red", scope="team:*")], rows, M)
    assert [(a.scope, a.rule) for a in alerts] == [
        ("team:A", "turned red (attainment 84.0 %, amber from 90 %)")
    ]


def test_turns_red_of_a_lower_is_better_kpi_says_the_share_of_target():
    # churn 5 % against a 4 % target: 125 % of target; amber ends at 100/90 = 111 %
    rows = frame(row("company", "churn_rate", 5.0, attainment=125.0, rag="red"))
    cfg = Config(rag_amber=90.0)
    (alert,) = evaluate([rule("churn_rate", "turns_red")], rows, M, cfg)
    assert alert.rule == "turned red (125.0 % of target, amber up to 111.1 %)"


def test_turns_red_without_an_attainment_says_the_target():
    """Churn against a target of 0 %: red, with no attainment to quote (0 divides)."""
    rows = frame(
        row("company", "churn_rate", 2.0, attainment=float("nan"), rag="red", target=0.0),
        row("company", "churn_rate", 0.0, back=1, attainment=float("nan"), rag="green"),
    )
    (alert,) = evaluate([rule("churn_rate", "turns_red")], rows, M)
    assert alert.rule == "turned red (target 0.0 %)"


def test_an_attainment_just_below_the_bound_never_reads_as_the_bound():
    """89.97 % is red under amber = 90 %: it reads 89.9 %, not a rounded 90 %."""
    rows = frame(
        row("company", "sales_revenue", 1.0, attainment=89.97, rag="red"),
        row("company", "sales_revenue", 1.0, back=1, attainment=95.0, rag="amber"),
    )
    (alert,) = evaluate([rule("sales_revenue", "turns_red")], rows, M, Config(rag_amber=90.0))
    assert alert.rule == "turned red (attainment 89.9 %, amber from 90 %)"


# ------------------------------------------------------------------ outside the range


def history(key: str, values: list[float | None]) -> list[dict]:
    """Rows for m-1, m-2, ... with ``values`` (None: an undefined month)."""
    return [
        row(key, "sales_revenue", v, back=i, status="ok" if v is not None else "undefined")
        for i, v in enumerate(values, start=1)
    ]


def test_outside_range_fires_above_the_max_of_the_12_months_before():
    earlier = [1_200_000.0 + 50_000 * i for i in range(12)]  # $1.2M .. $1.75M
    rows = frame(
        row("company", "sales_revenue", 1_900_000.0),
        *history("company", earlier),
        row("team:A", "sales_revenue", 1_500_000.0),  # inside its range: no alert
        *history("team:A", earlier),
        row("company", "sales_revenue", 5.0, back=13),  # 13 months back: not in the range
    )
    found = check([rule("sales_revenue", "outside_range", scope="company")], rows, M)
    assert [(a.scope, a.rule) for a in found.alerts] == [
        ("company", "left its 12-month range $1,200,000–$1,750,000")
    ]
    assert found.notes == []
    assert evaluate([rule("sales_revenue", "outside_range", scope="team:*")], rows, M) == []


def test_outside_range_below_the_min_with_exactly_six_earlier_values():
    earlier = [10.0, 12.0, 11.0, 13.0, 12.0, 14.0] + [None] * 6
    rows = frame(row("company", "sales_revenue", 9.0), *history("company", earlier))
    (alert,) = evaluate([rule("sales_revenue", "outside_range")], rows, M)
    assert alert.rule == "left its 6-month range $10–$14"


def test_outside_range_never_fires_on_a_short_history_and_says_so():
    earlier = [10.0, 12.0, 11.0, 13.0, 12.0] + [None] * 7  # 5 ok values: too few
    rows = frame(row("team:A", "sales_revenue", 1_000.0), *history("team:A", earlier))
    found = check([rule("sales_revenue", "outside_range", scope="team:A")], rows, M)
    assert found.alerts == []
    (note,) = found.notes
    assert "[[alerts]] #1" in note and "Team A" in note and "fewer than 6" in note


# ------------------------------------------------------------------ scopes and order


def scoped_rows() -> pd.DataFrame:
    keys = ["company", "team:B", "team:A", "rep:R2", "rep:R1", "rep:R3"]
    return frame(*(row(k, "new_leads", 10.0) for k in keys))


def test_scope_forms_and_the_order_of_alerts():
    rules = [
        rule("new_leads", "above", 5, "rep:*"),
        rule("new_leads", "above", 5, "company"),
        rule("new_leads", "above", 5, "team:*"),
        rule("new_leads", "above", 5, "team:B"),
        rule("new_leads", "above", 5, "rep:R3"),
    ]
    teams = {"R1": "A", "R2": "B"}  # R3 has no team in reps: unassigned
    alerts = evaluate(rules, scoped_rows(), M, teams_of_reps=teams)
    assert [a.scope for a in alerts] == [
        "rep:R1",
        "rep:R2",
        "rep:R3",
        "company",
        "team:A",
        "team:B",
        "team:B",
        "rep:R3",
    ]
    assert [a.team for a in alerts[:3]] == ["A", "B", "unassigned"]
    assert alerts[3].team == "" and alerts[0].scope_label == "Rep R1"


def test_an_unknown_team_is_named_with_the_teams_that_exist():
    with pytest.raises(KitError) as err:
        evaluate([rule("new_leads", "above", 5, "team:Atlantis")], scoped_rows(), M)
    # the words of every unknown scope (metrics.check_known), after the rule's name
    assert str(err.value).startswith("[[alerts]] #1: scope 'team:Atlantis': Unknown team")
    assert "teams are: A, B, unassigned." in str(err.value)


def test_a_known_rep_without_rows_fires_nothing():
    """R5 is in reps (it left more than a year ago, so the rows have none of it): the rule
    is valid and fires nothing; a rep in no table at all is an error."""
    teams = {"R1": "A", "R2": "B", "R5": "A"}
    rules = [rule("new_leads", "above", 5, "rep:R5")]
    assert check(rules, scoped_rows(), M, teams_of_reps=teams).alerts == []
    with pytest.raises(KitError, match="Unknown rep 'R6'"):
        check([rule("new_leads", "above", 5, "rep:R6")], scoped_rows(), M, teams_of_reps=teams)


def test_needed_scopes_are_what_compute_takes():
    rules = parse_rules(
        [
            {"kpi": "win_rate", "below": 1, "scope": "rep:*"},
            {"kpi": "win_rate", "below": 1, "scope": "rep:R1"},
            {"kpi": "win_rate", "below": 1, "scope": "team:EMEA"},
            {"kpi": "win_rate", "below": 1},
        ]
    )
    assert needed_scopes(rules) == ["rep", "team:EMEA", "company"]


# ------------------------------------------------------------------ rules in kpi.toml


def test_a_kpi_toml_with_only_alerts_is_valid(tmp_path):
    path = tmp_path / "kpi.toml"
    path.write_text(
        '[[alerts]]\nname = "Low win rate"\nkpi = "win_rate"\nscope = "team:*"\nbelow = 20\n\n'
        '[[alerts]]\nkpi = "*"\nturns_red = true\n\n'
        '[[alerts]]\nkpi = "average_purchase_value"\nchange_below = -10\n'  # an alias resolves
    )
    cfg = load_config(path)
    assert cfg.currency == "USD" and cfg.rag_amber == 90.0  # everything else defaults
    assert rules_of(cfg) == [
        AlertRule("win_rate", "below", 20.0, "team:*", "Low win rate", 1),
        AlertRule("*", "turns_red", None, "company", "", 2),
        AlertRule("average_order_value", "change_below", -10.0, "company", "", 3),
    ]
    assert rules_of(cfg)[0].text() == "Low win rate: Win rate, every team: below 20.0 %"
    assert rules_of(load_config(None)) == []


GOOD = '[[alerts]]\nkpi = "win_rate"\nbelow = 20\n\n[[alerts]]\n'


@pytest.mark.parametrize(
    "second, message",
    [
        ('kpi = "win_rte"\nbelow = 20', "kpi 'win_rte' is not a KPI (did you mean win_rate?)"),
        ('kpi = "funnel"\nabove = 1', "kpi 'funnel' is a table, not one number"),
        (
            'kpi = "win_rate"\nbelow = 20\nabove = 50',
            "exactly one condition (found below and above)",
        ),
        ('kpi = "win_rate"\nscope = "team:*"', "exactly one condition (found none)"),
        ('kpi = "win_rate"\nbelow = "20"', "below must be a number in the KPI's unit"),
        ('kpi = "win_rate"\nturns_red = "yes"', "write turns_red = true"),
        (
            'kpi = "*"\nbelow = 20',
            'kpi = "*" (every KPI) works only with turns_red or outside_range',
        ),
        ('kpi = "win_rate"\nbelow = 20\nscope = "region:EU"', "scope 'region:EU' is not a scope"),
        ('kpi = "win_rate"\nbelow = 20\nscope = "team"', "(every team: team:*)"),
        ('kpi = "win_rate"\nbellow = 20', "unknown key 'bellow' (did you mean below"),
        ("below = 20", "kpi is missing"),
    ],
)
def test_bad_rules_are_one_clear_error_naming_the_rule(tmp_path, second, message):
    path = tmp_path / "kpi.toml"
    path.write_text(GOOD + second + "\n")
    with pytest.raises(KitError) as err:
        rules_of(load_config(path))
    assert str(err.value).startswith("kpi.toml: [[alerts]] #2"), str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize("text", ['[alerts]\nkpi = "win_rate"\nbelow = 20\n', "[alerts]\n"])
def test_alerts_written_as_one_table_is_explained(tmp_path, text):
    path = tmp_path / "kpi.toml"
    path.write_text(text)  # an empty [alerts] too: not silently no rules
    with pytest.raises(KitError, match=r"written \[\[alerts\]\] \(two brackets\)"):
        rules_of(load_config(path))


# ------------------------------------------------------------------ kpi-kit alerts


def run_alerts(sample_dir, tmp_path, rules: str, *more: str) -> int:
    config = tmp_path / "kpi.toml"
    config.write_text(rules)
    args = ["alerts", "--source", str(sample_dir), "--month", SAMPLE_END, "--config", str(config)]
    return main([*args, *more])


def test_cli_exits_0_when_nothing_fires(sample_dir, tmp_path, capsys):
    code = run_alerts(sample_dir, tmp_path, '[[alerts]]\nkpi = "new_leads"\nbelow = -1\n')
    out = capsys.readouterr().out
    assert code == 0
    assert out == f"No alerts for {SAMPLE_END} (1 rule(s) checked).\n"


def test_cli_exits_3_when_alerts_fire_text(sample_dir, tmp_path, capsys):
    rules = '[[alerts]]\nkpi = "new_leads"\nscope = "team:*"\nabove = 0\n'
    code = run_alerts(sample_dir, tmp_path, rules)
    lines = capsys.readouterr().out.splitlines()
    assert code == 3
    why = [line for line in lines if line.startswith("  ")]  # why each moved, under it
    assert why and all(w.startswith("  Lead delivery (new leads) ") for w in why)
    lines = [line for line in lines if line not in why]
    assert len(lines) == 6  # the sample's five teams, then the count
    assert lines[-1] == f"5 alert(s) for {SAMPLE_END} (1 rule(s) checked)."
    assert lines[0].startswith("Lead delivery (new leads) · Team APAC: ")
    assert lines[4].startswith("Lead delivery (new leads) · Team Partners & Alliances: ")
    assert all(line.endswith(" — above 0") for line in lines[:5])


def test_cli_json_is_a_list_of_alerts(sample_dir, tmp_path, capsys):
    rules = '[[alerts]]\nkpi = "new_leads"\nabove = 0\n'
    code = run_alerts(sample_dir, tmp_path, rules, "--format", "json")
    (alert,) = json.loads(capsys.readouterr().out)
    assert code == 3
    assert {k: alert[k] for k in ("kpi", "scope", "scope_label", "month", "kind", "rule")} == {
        "kpi": "new_leads",
        "scope": "company",
        "scope_label": "Company",
        "month": SAMPLE_END,
        "kind": "above",
        "rule": "above 0",
    }
    assert alert["value"] > 0 and alert["value_text"] == f"{alert['value']:,.0f}"


def test_cli_without_rules_or_with_an_unknown_team_exits_2(sample_dir, tmp_path, capsys):
    assert run_alerts(sample_dir, tmp_path, 'currency = "EUR"\n') == 2
    assert "No alert rules" in capsys.readouterr().err
    rules = '[[alerts]]\nkpi = "new_leads"\nscope = "team:Atlantis"\nabove = 0\n'
    assert run_alerts(sample_dir, tmp_path, rules) == 2
    err = capsys.readouterr().err
    assert "[[alerts]] #1: scope 'team:Atlantis': Unknown team 'Atlantis'" in err
    assert "Partners & Alliances" in err


# ------------------------------------------------------------------ why it moved


def test_an_alert_carries_its_top_driver(tmp_path, capsys):
    from kpi_helpers.alerts import check_dataset
    from kpi_helpers.data import open_dataset

    src = str(one_team_drops(tmp_path / "data"))
    rules = [rule("monthly_sales_bookings", "change_below", -10.0)]
    (alert,) = check_dataset(open_dataset(src), rules, M).alerts
    assert alert.drivers == ["Team B explains 100 % (-$2,000)"]
    assert alert.why == "Monthly sales bookings fell 25.0 %: Team B explains 100 % (-$2,000)"
    # kpi-kit alerts: the alert's line, then why it moved; JSON: both fields
    config = tmp_path / "kpi.toml"
    config.write_text('[[alerts]]\nkpi = "monthly_sales_bookings"\nchange_below = -10\n')
    args = ["alerts", "--source", src, "--month", M, "--config", str(config)]
    assert main(args) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Monthly sales bookings · Company: $6,000 — ")
    assert lines[1] == f"  {alert.why}"
    assert main([*args, "--format", "json"]) == 3
    (got,) = json.loads(capsys.readouterr().out)
    assert got["drivers"] == alert.drivers and got["why"] == alert.why


def test_a_quarters_alert_carries_its_top_driver(tmp_path):
    from kpi_helpers.alerts import check_dataset
    from kpi_helpers.data import open_dataset

    # each month of 2026-H1 rep a1 (team A) wins a $1,000 deal; b1 (team B) wins one in
    # January to April only: 2026-Q1 $6,000 -> 2026-Q2 $4,000 (-33.3 %), all team B's
    deals = [
        (f"O{m}{rep}", f"2026-0{m}-01", "closed_won", 1000.0, f"2026-0{m}-15", rep)
        for m in range(1, 7)
        for rep in ("a1", "b1")
        if rep == "a1" or m <= 4
    ]
    cols = ["opportunity_id", "created_at", "stage", "amount", "closed_at", "rep_id"]
    src = write_tables(
        tmp_path,
        {"reps": "rep_id,team\na1,A\nb1,B\n", "opportunities": pd.DataFrame(deals, columns=cols)},
    )
    rules = [rule("monthly_sales_bookings", "change_below", -10.0)]
    (alert,) = check_dataset(open_dataset(src), rules, "2026-06", period="quarter").alerts
    assert alert.drivers == ["Team B explains 100 % (-$2,000)"]
    assert alert.why == "Monthly sales bookings fell 33.3 %: Team B explains 100 % (-$2,000)"


def test_a_rep_rule_explains_all_its_reps_in_one_batch(tmp_path, monkeypatch):
    from kpi_helpers.alerts import check_dataset
    from kpi_helpers.data import open_dataset
    from kpi_helpers.metrics import Engine

    # $1,000 deals: April a1 wins P1 and P2, b1 and b2 too; May a1 the same, b1 and b2
    # P1 only: each of b1 and b2 falls 50 %, all of it P2's
    deals = [
        (f"O{m}{rep}{p}", f"2026-0{m}-01", "closed_won", 1000.0, f"2026-0{m}-15", rep, p)
        for m in (4, 5)
        for rep in ("a1", "b1", "b2")
        for p in ("P1", "P2")
        if not (m == 5 and rep != "a1" and p == "P2")
    ]
    cols = ["opportunity_id", "created_at", "stage", "amount", "closed_at", "rep_id", "product"]
    reps = "rep_id,rep_name,team\na1,Ann,A\nb1,Bea,B\nb2,Bo,B\n"
    src = write_tables(tmp_path, {"reps": reps, "opportunities": pd.DataFrame(deals, columns=cols)})
    split_by = []
    real = Engine.__init__

    def counted(self, ds, config=None, segment=None):
        if segment is not None:
            split_by.append(segment)
        real(self, ds, config, segment)

    monkeypatch.setattr(Engine, "__init__", counted)
    rules = [rule("monthly_sales_bookings", "change_below", -10.0, scope="rep:*")]
    found = check_dataset(open_dataset(src), rules, M).alerts
    assert [(a.scope, a.drivers) for a in found] == [
        ("rep:b1", ["P2 (product) explains 100 % (-$1,000)"]),
        ("rep:b2", ["P2 (product) explains 100 % (-$1,000)"]),
    ]
    # one split of every rep's rows (by rep, then product), not one per rep
    assert len(split_by) == 1 and split_by[0].only is None
