"""Predictive CLV fitted once per pack (issue 20) and at-risk accounts by trend (issue 19).

- A team's predictive_clv takes the company fit's per-account predictions over the
  team's accounts (DATA_CONTRACT.md "An account's rep and team"), unless
  ``clv_fit = "scope"`` asks for the team's own fit; the company is fitted once.
- At risk: P(alive) now against the fit at m-3 on the data through m-3 (a cold fit, the
  one ``fit_clv`` gives at m-3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers.cli import main
from kpi_helpers.core import Config, KitError, Month, load_config
from kpi_helpers.data import open_dataset
from kpi_helpers.metrics import Scope
from kpi_helpers.models import clv_models as M
from kpi_helpers.models import fit_clv, purchases
from kpi_helpers.models import outlook as predictive
from kpi_helpers.models.clv import scope_accounts
from kpi_helpers.report import Report

M_ = "2026-06"  # m; m-3 = 2026-03
WEEKS = pd.date_range("2025-07-07", "2026-06-29", freq="7D")  # Mondays, to the end of m


def _lines(account: str, days, base: float, rep: str | None = None, seed: int = 0) -> list:
    """One order line per day; revenue base + 0, 10, 20, 0, 10, ..., or with ``seed``
    base x a Gamma(10, 0.1) draw (spend varies within an account, as Gamma-Gamma needs)."""
    noise = np.random.default_rng(seed).gamma(10.0, 0.1, len(days)) if seed else None
    return [
        (
            f"{account}-{i}",
            d.strftime("%Y-%m-%d"),
            account,
            round(base * noise[i], 2) if seed else base + 10.0 * (i % 3),
            rep,
        )
        for i, d in enumerate(days)
    ]


def _trend_tables() -> dict[str, pd.DataFrame]:
    """m = 2026-06. Twelve steady accounts S01..S12 buy every Monday to the end of m; eight
    D1..D8 bought for eight weeks in 2025 and stopped (the model learns that customers
    leave); five O1..O5 bought once. A1, the biggest spender (1,000 a week), bought every
    Monday up to 2026-03-30 (the last Monday of m-3) and then stopped: its P(alive) is
    about 1 at the end of m-3 and about 0 thirteen silent weeks later, at the end of m.

    Reps: R1 (North) owns S01..S06, A1, D1..D4, O1..O2; R2 (South) the rest. Every line
    of S01 is sold by R2 (South): by its owner the account is North's."""
    lines = []
    for i in range(1, 13):
        rep = "R2" if i == 1 else None
        lines += _lines(f"S{i:02d}", WEEKS, 100.0 + 5 * i, rep, seed=i)
    for i in range(1, 9):
        lines += _lines(f"D{i}", WEEKS[:8], 80.0 + 5 * i, seed=20 + i)
    lines += [(f"O{i}-0", "2025-09-15", f"O{i}", 60.0, None) for i in range(1, 6)]
    lines += _lines("A1", WEEKS[WEEKS <= "2026-03-31"], 1000.0)
    orders = pd.DataFrame(
        lines, columns=["order_id", "ordered_at", "account_id", "revenue", "rep_id"]
    )
    north = {f"S{i:02d}" for i in range(1, 7)} | {"A1", "D1", "D2", "D3", "D4", "O1", "O2"}
    accounts = sorted(set(orders["account_id"]))
    owners = ["R1" if a in north else "R2" for a in accounts]
    return {
        "orders": orders,
        "reps": pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]}),
        "accounts": pd.DataFrame({"account_id": accounts, "owner_rep_id": owners}),
    }


NORTH = {"S01", "S02", "S03", "S04", "S05", "S06", "A1", "D1", "D2", "D3", "D4", "O1", "O2"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("clv_trend") / "data", _trend_tables())


@pytest.fixture(scope="module")
def ds(folder):
    return open_dataset(folder)


@pytest.fixture(scope="module")
def company(ds):
    return fit_clv(ds, M_)


# --------------------------------------------------------------------------- one fit per pack


def test_team_value_is_the_mean_of_the_company_fits_predictions(ds, company):
    north = fit_clv(ds, M_, "team:North", company=lambda: company)
    assert north.predictive_clv == fit_clv(ds, M_, "team:North").predictive_clv  # fits it
    assert north.fitted_on == "company" and north.bgnbd == company.bgnbd
    assert north.gamma_gamma == company.gamma_gamma
    # the team's accounts by their owner: S01 is North's although R2 (South) sold every line
    assert set(north.accounts["account_id"]) == NORTH
    mine = company.accounts[company.accounts["account_id"].isin(NORTH)]
    # each account's prediction is the company fit's own row
    pd.testing.assert_frame_equal(
        north.accounts.set_index("account_id").sort_index(),
        mine.set_index("account_id").sort_index(),
    )
    alive = mine[mine["p_alive"] >= 0.5]
    assert north.customers == 13 and north.alive_customers == len(alive)
    assert north.predictive_clv == pytest.approx(alive["clv_12m"].mean(), rel=1e-12)
    # the teams split the company's accounts: every account in exactly one of them
    south = fit_clv(ds, M_, "team:South", company=lambda: company)
    assert set(south.accounts["account_id"]) == set(company.accounts["account_id"]) - NORTH
    assert "company's fit (26 customers) predicts the 13 accounts of team North" in north.notes[0]


def test_a_team_level_fit_is_asked_for_in_kpi_toml(ds, company, tmp_path):
    cfg = tmp_path / "kpi.toml"
    cfg.write_text('clv_fit = "scope"\n')
    own = fit_clv(ds, M_, "team:North", load_config(cfg))
    # its own order lines: S01's lines are R2's, so South's, and North has no S01
    assert own.fitted_on == "team:North" and "S01" not in set(own.accounts["account_id"])
    assert own.bgnbd != company.bgnbd
    # the company is the same whichever way the teams are fitted
    assert fit_clv(ds, M_, config=load_config(cfg)).predictive_clv == pytest.approx(
        company.predictive_clv, rel=1e-12
    )
    cfg.write_text('clv_fit = "teams"\n')
    with pytest.raises(KitError, match="clv_fit must be"):
        load_config(cfg)


def test_the_pack_fits_the_company_once_for_every_team(folder, monkeypatch):
    calls = []
    real = predictive.fit_clv.__globals__["fit_bgnbd"]
    monkeypatch.setitem(
        predictive.fit_clv.__globals__,
        "fit_bgnbd",
        lambda *a, **k: calls.append(1) or real(*a, **k),
    )
    ds, m, cfg = open_dataset(folder), Month.parse(M_), Config()
    for scope in ("company", "team:North", "team:South"):
        predictive.clv(ds, m, scope, cfg)
    assert len(calls) == 1
    for scope in ("company", "team:North", "team:South"):  # + the at-m-3 fit, once
        predictive.clv_table(ds, m, Scope.parse(scope), cfg)
    assert len(calls) == 2


def test_cli_fit_option(folder, capsys):
    args = ["clv", "--source", str(folder), "--month", M_, "--scope", "team:North"]
    assert main([*args, "--fit", "scope"]) == 0
    assert '"fitted_on": "team:North"' in capsys.readouterr().out
    assert main(args) == 0
    assert '"fitted_on": "company"' in capsys.readouterr().out


# --------------------------------------------------------------------------- at risk


def test_at_risk_is_p_alive_falling_since_m_minus_3(ds):
    acc = predictive.clv_table(ds, Month.parse(M_), Scope.parse("company"), Config())
    acc = acc.set_index("account_id")
    then = fit_clv(ds, "2026-03").accounts.set_index("account_id")  # a cold fit at m-3
    # A1 bought every Monday to 2026-03-30: alive at the end of March, gone by June
    assert acc.loc["A1", "p_alive_then"] == pytest.approx(then.loc["A1", "p_alive"], rel=1e-4)
    # exactly the fit kpi-kit clv gives at m-3, for every account that had bought by then
    assert acc.loc[then.index, "p_alive_then"].tolist() == then["p_alive"].tolist()
    assert acc.loc["A1", "p_alive_then"] > 0.9 and acc.loc["A1", "p_alive"] < 0.1
    assert acc["since"].unique().tolist() == ["2026-03"]
    assert acc.index[acc["fell_below_half"]].tolist() == ["A1"]
    assert acc.index[acc["at_risk"]].tolist() == ["A1"]
    # past spend = (frequency + 1) x mean repeat spend: 39 Mondays 2025-07-07..2026-03-30
    # at 1000, 1010, 1020, 1000, ... (13 x 3,030 = 39,390); the 38 repeat purchases are
    # all but the first 1,000: 38,390 / 38 each
    a1 = acc.loc["A1"]
    assert a1["frequency"] == 38
    assert a1["past_spend"] == pytest.approx(39 * 38_390 / 38, rel=1e-12)
    # the top fifth (6 of 26 accounts by spend) holds A1 and the steady big spenders
    assert acc["top_fifth"].sum() == 6 and acc.loc["A1", "top_fifth"]
    # steady buyers stay alive; the 2025 leavers were already below 50 % in March
    assert (acc.loc[[f"S{i:02d}" for i in range(1, 13)], "p_alive"] > 0.9).all()
    assert (acc.loc[[f"D{i}" for i in range(1, 9)], "p_alive_then"] < 0.5).all()


def test_the_page_says_how_many_fell_below_half(folder):
    text = Report("outlook", M_, "team:North", source=str(folder)).at_risk().text
    assert "Since the end of March 2026, 1 account fell below 50 % P(alive), 1 of them" in text
    assert "<td>A1</td>" in text and "S02" not in text and "&lt;" not in text


def test_warm_start_gives_the_cold_fits_parameters():
    sim = M.simulate(
        600, {"r": 0.8, "alpha": 5.0, "a": 0.7, "b": 2.5}, {"p": 4.0, "q": 5.0, "gamma": 300.0},
        40.0, seed=3,
    )  # fmt: skip
    g = sim.groupby("customer")
    x = (g.size() - 1).to_numpy(float)
    t_x, T = g["week"].max().to_numpy(), np.full(len(x), 40.0)
    spend = g["spend"].apply(lambda s: s.iloc[1:].mean() if len(s) > 1 else 0.0).to_numpy()
    cold_bg, cold_gg = M.fit_bgnbd(x, t_x, T), M.fit_gamma_gamma(x, spend)
    # started from another month's optimum (as the fit at m-3 starts from the fit at m)
    far_bg = {"r": 2.0, "alpha": 20.0, "a": 0.3, "b": 6.0}
    warm_bg = M.fit_bgnbd(x, t_x, T, start=far_bg)
    warm_gg = M.fit_gamma_gamma(x, spend, start={"p": 9.0, "q": 2.5, "gamma": 50.0})
    for cold, warm in ((cold_bg, warm_bg), (cold_gg, warm_gg)):
        assert warm.converged
        for k, v in cold.params.items():
            assert warm.params[k] == pytest.approx(v, rel=1e-4), k
        assert warm.mean_log_likelihood == pytest.approx(cold.mean_log_likelihood, abs=1e-9)


# --------------------------------------------------------------------------- reads (issue 20)


@pytest.fixture
def queries(monkeypatch):
    """The queries run (``Table.to_pandas`` calls) while the test runs."""
    import ibis.expr.types.relations as rel

    ran = []
    real = rel.Table.to_pandas
    monkeypatch.setattr(
        rel.Table, "to_pandas", lambda t, *a, **k: ran.append(1) or real(t, *a, **k)
    )
    return ran


def test_the_fit_at_m_minus_3_reads_no_orders_again(folder, queries):
    ds, m = open_dataset(folder), Month.parse(M_)
    now = purchases(ds, m)
    read = len(queries)  # the orders, and the dataset's coverage once
    assert read >= 1 and now["day"].max() == pd.Timestamp("2026-06-29")
    now["revenue"] = 0.0  # a caller's change does not reach the rows kept
    then = purchases(ds, m - 3)  # the account-days through 2026-03 of the ones read for m
    assert len(queries) == read
    # the same rows and sums as a query through m-3: A1's last purchase is 2026-03-30
    fresh = purchases(open_dataset(folder), m - 3)
    pd.testing.assert_frame_equal(then, fresh, check_exact=True)
    assert then["day"].max() == pd.Timestamp("2026-03-30") and len(then) < len(now)
    assert (then["revenue"] > 0).all()


def test_every_teams_accounts_come_from_one_query(folder, queries):
    ds, m = open_dataset(folder), Month.parse(M_)
    north = scope_accounts(ds, m, "team:North")
    read = len(queries)
    south = scope_accounts(ds, m, "team:South")
    assert len(queries) == read  # South's accounts came with North's
    assert north == NORTH and south == set(_trend_tables()["accounts"]["account_id"]) - NORTH
