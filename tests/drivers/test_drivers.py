"""Why it moved (KPI_CATALOG.md): the bridge arithmetic on hand-worked numbers, explain()
on small hand-made datasets (injected causes, invariance) and on the sample (the parts
add up to the change)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_END, write_tables

from kpi_helpers.core import KitError
from kpi_helpers.data import open_dataset
from kpi_helpers.data.sample_data import generate
from kpi_helpers.drivers import REST, additive, explain, explain_many, pick, ratio
from kpi_helpers.report.pages import HEADLINES

# ------------------------------------------------------------------ the arithmetic


def test_ratio_rate_and_mix_of_opposite_signs():
    # win rate: EMEA 6/10 -> 6/10 won (rate same), US 2/10 -> 4/20 (rate same 20 %), but
    # more of the closed deals are US's (low rate): mix pulls down; EMEA's rate then rises
    # to 8/10: rate up. Before: 8/20 = 40 %; after: (8 + 4) / 30 = 40 % ... made unequal:
    # after EMEA 8/10, US 4/20: 12/30 = 40 %. Rate effect EMEA: (0.8-0.6) x (1/3+1/2)/2
    # = 0.0833 -> +8.33 pp; mix EMEA: (1/3-1/2) x (0.8+0.6)/2 = -0.1167 -> -11.67 pp;
    # mix US: (2/3-1/2) x 0.2 = +3.33 pp; total 0.
    parts = ratio(
        {"EMEA": (8, 6), "US": (4, 2)}, {"EMEA": (10, 10), "US": (20, 10)}, (12, 30, 8, 20), 100
    )
    emea, us = parts
    assert emea.rate_effect == pytest.approx(100 / 12)
    assert emea.mix_effect == pytest.approx(-35 / 3)
    assert emea.rate_effect > 0 > emea.mix_effect
    assert us.rate_effect == pytest.approx(0.0)
    assert us.mix_effect == pytest.approx(10 / 3)
    assert sum(p.contribution for p in parts) == pytest.approx(0.0, abs=1e-12)


def test_segments_on_one_side_only():
    # additive: "new" only this month, "old" only last month
    parts = additive({"new": (30.0, 0.0), "old": (0.0, 10.0), "same": (5.0, 5.0)})
    assert [(p.segment, p.contribution) for p in parts] == [
        ("new", 30.0),
        ("old", -10.0),
        ("same", 0.0),
    ]
    assert [p.share for p in parts] == [1.5, -0.5, 0.0]
    # ratio: a segment on one side has no rate effect, its whole part is mix
    # before: a 1/4; after: a 1/4, b 3/4 -> 25 % -> 50 %
    parts = ratio({"a": (1, 1), "b": (3, 0)}, {"a": (4, 4), "b": (4, 0)}, (4, 8, 1, 4), 100)
    a, b = parts
    assert (b.rate_effect, b.mix_effect) == (0.0, pytest.approx(37.5))
    assert math.isnan(b.base_value) and b.value == 75.0
    # a: rate 0, mix (0.5 - 1) x 0.25 = -12.5 pp
    assert a.contribution == pytest.approx(-12.5)
    assert a.contribution + b.contribution == pytest.approx(25.0)


def test_rest_keeps_the_parts_exact():
    # the scope holds 7 and 3; segment a 5 and 0: the rest 2 and 3 is a part of -1
    parts = additive({"a": (5.0, 0.0)}, total=(7.0, 3.0))
    rest = parts[-1]
    assert (rest.segment, rest.value, rest.base_value, rest.contribution) == (REST, 2.0, 3.0, -1.0)
    assert sum(p.contribution for p in parts) == 4.0


def test_pick_fewest_drivers_and_single_dimension_on_ties():
    a = additive({"x": (0.0, 10.0), "y": (10.0, 10.0)})
    b = additive({"p": (0.0, 10.0), "q": (10.0, 10.0)})
    name, drivers, rest = pick({"first": a, "first × second": b}, -10.0)
    assert (name, [d.segment for d in drivers], rest) == ("first", ["x"], 0.0)
    # three equal parts: 2 of 3 leave 33 % (> 20 %): all three, nothing left
    c = additive({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    assert len(pick({"d": c}, -3.0)[1]) == 3


# ------------------------------------------------------------------ hand-made data

TEAMS = {"A": ["a1", "a2"], "B": ["b1"], "C": ["c1"]}
PRODUCTS = {"P1": 1000.0, "P2": 2000.0, "P3": 500.0}
SOURCES = ["web", "event", "referral"]


def _world(folder: Path, cause: str | None = None, scale: float = 1.0) -> Path:
    """Deals won in 2026-02 and an exact repeat in 2026-03, then one ``cause`` in March:
    "team" (team B loses half its won deals), "price" (P2 sells 30 % cheaper) or
    "source" (no deal from the lead source "event")."""
    reps = [(r, t) for t, rs in TEAMS.items() for r in rs]
    leads, deals = [], []
    n = 0
    for month in ("2026-02", "2026-03"):
        for rep, team in reps:
            for product, price in PRODUCTS.items():
                for src in SOURCES:
                    copies = 2
                    if month == "2026-03" and cause == "team" and team == "B":
                        copies = 1
                    if month == "2026-03" and cause == "source" and src == "event":
                        copies = 0
                    amount = price * (
                        0.7 if month == "2026-03" and cause == "price" and product == "P2" else 1.0
                    )
                    for _ in range(copies):
                        n += 1
                        leads.append((f"L{n}", f"{month}-01", src, rep))
                        deals.append(
                            (
                                f"O{n}",
                                f"{month}-02",
                                "closed_won",
                                amount * scale,
                                f"{month}-10",
                                rep,
                                f"L{n}",
                                product,
                                "new",
                            )
                        )
    return write_tables(
        folder,
        {
            "reps": pd.DataFrame(reps, columns=["rep_id", "team"]),
            "leads": pd.DataFrame(leads, columns=["lead_id", "created_at", "source", "rep_id"]),
            "opportunities": pd.DataFrame(
                deals,
                columns=[
                    "opportunity_id",
                    "created_at",
                    "stage",
                    "amount",
                    "closed_at",
                    "rep_id",
                    "lead_id",
                    "product",
                    "deal_type",
                ],
            ),
        },
    )


@pytest.mark.parametrize(
    ("cause", "dimension", "segment"),
    [("team", "team", "B"), ("price", "product", "P2"), ("source", "lead_source", "event")],
)
def test_injected_cause_ranks_first(tmp_path, cause, dimension, segment):
    ds = open_dataset(_world(tmp_path, cause))
    e = explain(ds, "monthly_sales_bookings", "company", "2026-03")
    assert e.change < 0
    top_dim, top = e.drivers[0]
    assert (top_dim, top.segment) == (dimension, segment)
    assert top.share >= 0.8
    assert "explains" in e.text and "because" not in e.text


def test_additive_over_two_dimensions_by_hand(tmp_path):
    # team B loses half its deals: 9 deals x (1000 + 2000 + 500) / 3 products... by hand:
    # B (one rep) won 2 x 3 sources of each product = 6 x 3,500 = 21,000 in Feb, 10,500 in
    # March; the other teams the same in both months
    ds = open_dataset(_world(tmp_path, "team"))
    e = explain(ds, "monthly_sales_bookings", "company", "2026-03", dimensions=["team", "product"])
    assert (e.value, e.base_value) == (4 * 21_000 - 10_500, 4 * 21_000)
    team = {p.segment: p.contribution for p in e.dimensions["team"]}
    assert team == {"A": 0.0, "B": -10_500.0, "C": 0.0}
    product = {p.segment: p.contribution for p in e.dimensions["product"]}
    assert product == {"P1": -3_000.0, "P2": -6_000.0, "P3": -1_500.0}
    for parts in e.dimensions.values():
        assert sum(p.contribution for p in parts) == pytest.approx(e.change, rel=1e-9)
    assert e.text.startswith("Monthly sales bookings fell 12.5 % ($84,000 -> $73,500)")
    assert "Team B explains 100 % (-$10,500)" in e.text


def test_invariant_to_dimension_order_and_scale(tmp_path):
    ds = open_dataset(_world(tmp_path / "one", "price"))
    dims = ["team", "product", "lead_source", "deal_type"]
    e1 = explain(ds, "monthly_sales_bookings", "company", "2026-03", dimensions=dims)
    e2 = explain(ds, "monthly_sales_bookings", "company", "2026-03", dimensions=dims[::-1])
    big = open_dataset(_world(tmp_path / "big", "price", scale=1000.0))
    e3 = explain(big, "monthly_sales_bookings", "company", "2026-03", dimensions=dims)

    def drivers(e, k=1.0):
        return [
            (d, p.segment, round(p.contribution * k, 6), round(p.share, 12)) for d, p in e.drivers
        ]

    assert drivers(e1) == drivers(e2) == drivers(e3, 1 / 1000)
    assert drivers(e1)[0][:2] == ("product", "P2")


def test_a_base_of_zero(tmp_path):
    # every deal of February is lost: bookings and win rate from 0
    world = _world(tmp_path / "w")
    deals = pd.read_csv(world / "opportunities.csv")
    deals.loc[deals["closed_at"].str.startswith("2026-02"), "stage"] = "closed_lost"
    write_tables(world, {"opportunities": deals})
    ds = open_dataset(world)
    e = explain(ds, "monthly_sales_bookings", "company", "2026-03", dimensions=["team"])
    assert (e.base_value, e.value) == (0.0, 84_000.0)
    assert e.text.startswith("Monthly sales bookings rose $84,000 ($0 -> $84,000)")
    # team A (3 reps... 2 reps) won 2 x 2 x 3 x 3,500 / 3... by hand: a rep wins 6 deals of
    # each product: 21,000; A has 2 reps: 42,000 = 50 %
    assert {p.segment: p.share for p in e.dimensions["team"]} == {"A": 0.5, "B": 0.25, "C": 0.25}
    w = explain(ds, "win_rate", "company", "2026-03", dimensions=["team"])
    assert (w.base_value, w.value) == (0.0, 100.0)
    # the same share of the closed deals on both sides: all rate, no mix
    assert [(p.segment, p.rate_effect, p.mix_effect) for p in w.dimensions["team"]] == [
        ("A", 50.0, 0.0),
        ("B", 25.0, 0.0),
        ("C", 25.0, 0.0),
    ]


def test_a_median_has_no_bridge_and_says_so(tmp_path):
    folder = write_tables(
        tmp_path,
        {
            "reps": "rep_id,team\nr1,A\nr2,B\n",
            "leads": "lead_id,created_at,rep_id,first_response_at\n"
            "L1,2026-02-01 00:00,r1,2026-02-01 02:00\nL2,2026-02-01 00:00,r2,2026-02-01 04:00\n"
            "L3,2026-03-01 00:00,r1,2026-03-01 06:00\nL4,2026-03-01 00:00,r2,2026-03-01 08:00\n",
        },
    )
    e = explain(open_dataset(folder), "lead_response_time", "company", "2026-03")
    assert e.kind == "none" and e.drivers == []
    assert "no exact split" in e.text
    team = {p.segment: (p.value, p.base_value) for p in e.dimensions["team"]}
    assert team == {"A": (6.0, 2.0), "B": (8.0, 4.0)}


def test_unknown_dimension_is_one_message(tmp_path):
    ds = open_dataset(_world(tmp_path))
    with pytest.raises(KitError, match="Unknown dimension colour"):
        explain(ds, "monthly_sales_bookings", "company", "2026-03", dimensions=["colour"])


# ------------------------------------------------------------------ the sample


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A small sample of 14 months: the month, the one before and the year before."""
    out = tmp_path_factory.mktemp("drivers") / "data"
    generate(out, seed=11, scale="small", months=14, end_month=SAMPLE_END)
    return open_dataset(out)


@pytest.fixture(scope="module")
def batch(sample):
    """The drivers of every summary headline for the company and one team, against the
    previous month and the year before, in one batched computation (as the pack)."""
    return explain_many(
        sample, HEADLINES["summary"], ["company", "team:EMEA"], bases=("previous", "year")
    )


def test_parts_add_up_on_the_sample(batch):
    # every headline of the summary, scope and base: each partition (dimension or cross)
    # adds up to the change
    assert {k for k, _, _ in batch} == set(HEADLINES["summary"])
    split = 0
    for (kpi, scope, base), e in batch.items():
        if e.kind == "none" or e.reason:
            continue
        assert e.dimensions or e.skipped, (kpi, scope, base)
        for name, parts in e.dimensions.items():
            total = sum(p.contribution for p in parts)
            assert total == pytest.approx(e.change, rel=1e-9, abs=1e-9), (kpi, scope, base, name)
            split += 1
        if e.drivers:
            chosen = sum(p.contribution for _, p in e.drivers) + e.rest
            assert chosen == pytest.approx(e.change, rel=1e-9, abs=1e-9)
    assert split > 100  # the sample's headlines split over many partitions


def test_the_batch_gives_what_explain_gives(sample, batch):
    for kpi, scope in (("monthly_sales_bookings", "team:EMEA"), ("win_rate", "company")):
        one = explain(sample, kpi, scope, "latest", base="year")
        many = batch[(kpi, scope, "year")]
        assert many.text == one.text
        assert set(many.dimensions) == set(one.dimensions)
        for name, parts in one.dimensions.items():
            got = {p.segment: p.contribution for p in many.dimensions[name]}
            assert got == pytest.approx({p.segment: p.contribution for p in parts}, rel=1e-9)


def test_parts_add_up_against_the_target(sample):
    # the sample has team targets for bookings (none for the win rate)
    e = explain(sample, "monthly_sales_bookings", "company", "latest", base="target")
    assert e.dimensions and not e.reason
    total = sum(p.contribution for p in e.dimensions["team"])
    assert total == pytest.approx(e.change, rel=1e-9)


# ------------------------------------------------------------------ kpi-kit explain


def test_explain_command_json_and_errors(tmp_path, capsys):
    from kpi_helpers.cli import main

    src = _world(tmp_path / "w", "team")
    out = tmp_path / "why.json"
    args = ["explain", "--source", str(src), "--month", "2026-03"]
    assert (
        main([*args, "--kpi", "monthly_sales_bookings", "--format", "json", "--out", str(out)]) == 0
    )
    import json

    got = json.loads(out.read_text(encoding="utf-8"))
    assert {
        "kpi",
        "scope",
        "month",
        "base",
        "value",
        "base_value",
        "change",
        "kind",
        "drivers",
        "dimensions",
        "unexplained_share",
        "text",
    } <= set(got)
    assert (got["kind"], got["change"]) == ("additive", -10_500.0)
    top = got["drivers"][0]
    assert (top["dimension"], top["segment"], top["contribution"], top["share"]) == (
        "team",
        "B",
        -10_500.0,
        1.0,
    )
    assert set(top) >= {"rate_effect", "mix_effect", "value", "base_value"}
    assert main([*args, "--kpi", "monthly_sales_bookings", "--dimensions", "colour"]) == 2
    assert "Unknown dimension colour" in capsys.readouterr().err


# ------------------------------------------------------------------ quarters and years


def _fiscal_world(folder: Path) -> Path:
    """Fiscal years from November (kpi.toml fiscal_year_start = 11): FY2026-Q1 is
    2025-11..2026-01, FY2025-Q4 2025-08..2025-10. Each month from 2025-08 rep a1 (team A)
    wins one P1 deal of $1,000 and rep b1 (team B) one P2 deal of $2,000; in FY2026-Q1
    team B wins in November only, and a1 wins a second deal in January 2026."""
    deals = []
    months = ["2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01"]
    for month in months:
        won = [("a1", "P1", 1000.0)]
        if month not in ("2025-12", "2026-01"):
            won.append(("b1", "P2", 2000.0))
        if month == "2026-01":
            won.append(("a1", "P1", 1000.0))
        for rep, product, amount in won:
            n = len(deals) + 1
            deals.append(
                (f"O{n}", f"{month}-02", "closed_won", amount, f"{month}-10", rep, product)
            )
    (folder / "kpi.toml").parent.mkdir(parents=True, exist_ok=True)
    (folder / "kpi.toml").write_text("fiscal_year_start = 11\n", encoding="utf-8")
    cols = ["opportunity_id", "created_at", "stage", "amount", "closed_at", "rep_id", "product"]
    return write_tables(
        folder / "data",
        {
            "reps": "rep_id,team\na1,A\nb1,B\n",
            "opportunities": pd.DataFrame(deals, columns=cols),
        },
    )


def test_a_fiscal_quarter_by_hand(tmp_path):
    from kpi_helpers.core import Config

    ds = open_dataset(_fiscal_world(tmp_path))
    cfg = Config(fiscal_year_start=11)
    e = explain(ds, "monthly_sales_bookings", "company", "2026-01", config=cfg, period="quarter")
    # FY2025-Q4: A 3 x 1,000 + B 3 x 2,000 = 9,000; FY2026-Q1: A 4,000 + B 2,000 = 6,000
    assert (e.month, e.base_month) == ("FY2026-Q1", "FY2025-Q4")
    assert (e.base_value, e.value) == (9_000.0, 6_000.0)
    team = {p.segment: p.contribution for p in e.dimensions["team"]}
    assert team == {"A": 1_000.0, "B": -4_000.0}
    product = {p.segment: p.contribution for p in e.dimensions["product"]}
    assert product == {"P1": 1_000.0, "P2": -4_000.0}
    for parts in e.dimensions.values():
        assert sum(p.contribution for p in parts) == pytest.approx(e.change, rel=1e-9)
    assert e.drivers[0][0] == "team" and e.drivers[0][1].segment == "B"
    assert e.text.startswith(
        "Monthly sales bookings fell 33.3 % ($9,000 -> $6,000) from FY2025-Q4 to FY2026-Q1"
    )
    # the same quarter a year before is before the data: no drivers, said so
    y = explain(
        ds, "monthly_sales_bookings", "company", "2026-01", "year", config=cfg, period="quarter"
    )
    assert y.base_month == "FY2025-Q1" and not y.drivers
    assert y.text.startswith("Monthly sales bookings: no drivers against FY2025-Q1")
    # a ratio over the quarter: win rate is 100 % on both sides, its parts add up to 0
    w = explain(ds, "win_rate", "company", "2026-01", config=cfg, period="quarter")
    assert (w.base_value, w.value) == (100.0, 100.0)


def test_explain_command_for_a_quarter(tmp_path):
    import json

    from kpi_helpers.cli import main

    src = _fiscal_world(tmp_path)
    out = tmp_path / "why.json"
    args = ["explain", "--source", str(src), "--config", str(tmp_path / "kpi.toml")]
    args += ["--month", "2025-12", "--kpi", "monthly_sales_bookings", "--period", "quarter"]
    assert main([*args, "--format", "json", "--out", str(out)]) == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    # any month of the quarter gives the quarter (through the data's last month)
    assert (got["month"], got["base_month"]) == ("FY2026-Q1", "FY2025-Q4")
    assert (got["value"], got["base_value"], got["change"]) == (6_000.0, 9_000.0, -3_000.0)
    top = got["drivers"][0]
    assert (top["dimension"], top["segment"], top["contribution"]) == ("team", "B", -4_000.0)
    assert "from FY2025-Q4 to FY2026-Q1" in got["text"]


def test_a_quarter_to_date_against_the_same_months(tmp_path):
    from kpi_helpers.core import Config

    src = _fiscal_world(tmp_path)
    deals = pd.read_csv(src / "opportunities.csv")
    write_tables(src, {"opportunities": deals[~deals["closed_at"].str.startswith("2026-01")]})
    cfg = Config(fiscal_year_start=11)
    e = explain(
        open_dataset(src),
        "monthly_sales_bookings",
        "company",
        "2025-12",
        config=cfg,
        period="quarter",
    )
    # FY2026-Q1 to date (2025-11..2025-12): A 2,000 + B 2,000; against the same two months
    # of FY2025-Q4 (2025-08..2025-09): A 2,000 + B 4,000
    assert (e.month, e.base_month) == ("FY2026-Q1", "FY2025-Q4")
    assert (e.value, e.base_value) == (4_000.0, 6_000.0)
    assert {p.segment: p.contribution for p in e.dimensions["team"]} == {"A": 0.0, "B": -2_000.0}


def test_a_rep_is_named_by_the_datas_name(tmp_path):
    from conftest import one_team_drops

    src = one_team_drops(tmp_path)
    reps = "rep_id,rep_name,team\na1,Ann,A\nb1,<b>Bea</b>,B\nb2,Bo & Co,B\n"
    write_tables(src, {"reps": reps})
    e = explain(open_dataset(src), "monthly_sales_bookings", "team:B", "2026-05")
    # b1 and b2 each lose $1,000 of team B's $2,000 fall: 50 % each
    assert "Rep <b>Bea</b> explains 50 % (-$1,000)" in e.text
    assert "Rep Bo & Co explains 50 % (-$1,000)" in e.text
    assert [p.segment for p in e.dimensions["rep"]] == ["b1", "b2"]  # the ids stay the keys
    got = explain_many(open_dataset(src), ["monthly_sales_bookings"], ["team:B"], "2026-05")
    assert got[("monthly_sales_bookings", "team:B", "previous")].text == e.text
