"""Predictive CLV (``kpi-kit clv``): the BG/NBD and Gamma-Gamma models against direct
numeric integration, the published CDNOW fits, the kit's purchase definition and scopes,
boundary optima and the command line.

The CDNOW tests read ../shared/datasets/cdnow/ and are skipped when it is absent.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATASETS, write_tables
from scipy import integrate, special, stats

from kpi_helpers.cli import main
from kpi_helpers.core import Config, KitError, Month, load_config
from kpi_helpers.data import open_dataset
from kpi_helpers.models import clv_models as M
from kpi_helpers.models import fit_clv, horizons, purchases, rfm

CDNOW = SHARED_DATASETS / "cdnow" / "CDNOW_sample.txt"
needs_cdnow = pytest.mark.skipif(not CDNOW.is_file(), reason="no shared datasets")

PARAMS = {"r": 1.5, "alpha": 3.0, "a": 1.5, "b": 4.0}  # smooth densities for integration
CASES = [(0, 0.0, 10.0), (1, 4.0, 10.0), (3, 9.0, 12.0), (5, 2.0, 20.0)]  # (x, t_x, T)


# --------------------------------------------------------------------------- numeric truth


def _integral(f, n: int = 160) -> float:
    """Integral of f(lam, p) g(lam) h(p) over lam > 0, 0 < p < 1, with g the Gamma(r, alpha)
    and h the Beta(a, b) density: Gauss quadrature whose weights are those densities
    (generalised Laguerre in u = alpha lam, Jacobi in s = 2p - 1), so only f is sampled."""
    r, alpha, a, b = PARAMS.values()
    u, wu = special.roots_genlaguerre(n, r - 1)
    s, ws = special.roots_jacobi(n, b - 1, a - 1)
    lam, p = np.meshgrid(u / alpha, (1 + s) / 2, indexing="ij")
    w = np.outer(wu, ws) / special.gamma(r) / (2 ** (a + b - 1) * special.beta(a, b))
    return float(np.sum(w * f(lam, p)))


def _alive(x: int, t_x: float, T: float):
    """Likelihood of (x, t_x, T) and being alive at T, given lambda and p (FHL 2005 eq. 3)."""
    return lambda lam, p: (1 - p) ** x * lam**x * np.exp(-lam * T)


def _likelihood(x: int, t_x: float, T: float):
    def f(lam, p):
        gone = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0 * p
        return _alive(x, t_x, T)(lam, p) + gone

    return f


@pytest.mark.parametrize("x, t_x, T", CASES)
def test_bgnbd_likelihood_and_p_alive_match_numeric_integrals(x, t_x, T):
    r, alpha, a, b = PARAMS.values()
    want = _integral(_likelihood(x, t_x, T))
    got = M.bgnbd_log_likelihood(r, alpha, a, b, np.array([x]), np.array([t_x]), np.array([T]))
    assert got[0] == pytest.approx(np.log(want), rel=1e-7)
    alive = _integral(_alive(x, t_x, T)) / want
    got = M.p_alive(r, alpha, a, b, np.array([x]), np.array([t_x]), np.array([T]))
    assert got[0] == pytest.approx(alive, rel=1e-7)


def test_p_alive_is_one_without_repeat_purchases():
    got = M.p_alive(0.2, 4.0, 0.8, 2.4, np.zeros(3), np.zeros(3), np.array([0.0, 5.0, 50.0]))
    assert got.tolist() == [1.0, 1.0, 1.0]


def test_one_time_buyer_likelihood_by_hand():
    # x = 0: B(a, b)/B(a, b) * (alpha/(alpha+T))^r
    got = M.bgnbd_log_likelihood(0.5, 2.0, 0.7, 3.0, np.array([0]), np.array([0]), np.array([6.0]))
    assert got[0] == pytest.approx(0.5 * np.log(2 / 8), rel=1e-12)


def test_expected_purchases_match_numeric_integral():
    # E[X(t) | lambda, p] = (1 - exp(-lambda p t)) / p (FHL 2005 eq. 7), averaged
    for t in (1.0, 10.0, 52.0):
        want = _integral(lambda lam, p, t=t: (1 - np.exp(-lam * p * t)) / p)
        assert M.expected_purchases(*PARAMS.values(), t) == pytest.approx(want, rel=1e-7)


@pytest.mark.parametrize("x, t_x, T", CASES)
def test_conditional_expectation_matches_numeric_integral(x, t_x, T):
    # alive at T, the future is the same process: E[Y(t)] = sum over the posterior of
    # P(alive) (1 - exp(-lambda p t)) / p
    t = 26.0
    alive = _alive(x, t_x, T)
    want = _integral(lambda lam, p: alive(lam, p) * (1 - np.exp(-lam * p * t)) / p)
    want /= _integral(_likelihood(x, t_x, T))
    got = M.conditional_expected_purchases(
        *PARAMS.values(), t, np.array([x]), np.array([t_x]), np.array([T])
    )
    assert got[0] == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("x, t_x, T", [(0, 0.0, 0.1), (79, 142.6, 142.9), (300, 51.0, 52.0)])
@pytest.mark.parametrize("params", [(3.85, 12.6, 0.875, 36.9), (0.243, 4.414, 0.793, 2.426)])
def test_conditional_expectation_for_heavy_buyers(params, x, t_x, T):
    # heavy buyers stress 2F1: integrate over p only, lambda's posterior mean in closed form
    # (alive: lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x)), E[(1 - exp(-lambda p t))/p]
    r, alpha, a, b = params
    t = 52.0

    def f(p):
        survive = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t)))
        return p ** (a - 2) * (1 - p) ** (b + x - 1) * (1 - survive)

    mean, _ = integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-10, limit=500)
    arrays = np.array([x]), np.array([t_x]), np.array([T])
    want = mean / special.beta(a, b + x) * M.p_alive(*params, *arrays)[0]
    got = M.conditional_expected_purchases(*params, t, *arrays)[0]
    assert got == pytest.approx(want, rel=1e-8)


def test_gamma_gamma_against_numeric_integrals():
    p, q, gamma = 6.0, 3.5, 15.0
    for x, m in ((1, 20.0), (4, 35.5), (12, 9.0)):
        # mean of x Gamma(p, nu) spends ~ Gamma(px, rate nu x); nu ~ Gamma(q, rate gamma)
        prior = stats.gamma(q, scale=1 / gamma).pdf

        def lik(nu, x=x, m=m, prior=prior):
            return stats.gamma(p * x, scale=1 / (nu * x)).pdf(m) * prior(nu)

        want, _ = integrate.quad(lik, 0, np.inf, epsabs=0, epsrel=1e-11, limit=200)
        got = M.gamma_gamma_log_likelihood(p, q, gamma, np.array([x]), np.array([m]))
        assert got[0] == pytest.approx(np.log(want), rel=1e-8)
        mean, _ = integrate.quad(
            lambda nu, x=x, m=m: p / nu * lik(nu, x, m), 0, np.inf, epsrel=1e-11, limit=200
        )
        got = M.conditional_expected_spend(p, q, gamma, np.array([x]), np.array([m]))
        assert got[0] == pytest.approx(mean / want, rel=1e-7)
    # no repeat purchase: the population mean gamma p / (q - 1)
    got = M.conditional_expected_spend(p, q, gamma, np.array([0]), np.array([0.0]))
    assert got[0] == pytest.approx(gamma * p / (q - 1))


def test_gradients_match_finite_differences():
    x, t_x, T = (np.array(v, dtype=float) for v in ([0, 1, 3, 40], [0, 4, 9, 50], [10, 10, 12, 52]))
    m = np.array([0.5, 20.0, 35.5, 9.0])
    for fn, grad, at, data in (
        (M.bgnbd_log_likelihood, M.bgnbd_gradient, [0.7, 3.0, 0.9, 2.5], (x, t_x, T)),
        (M.gamma_gamma_log_likelihood, M.gamma_gamma_gradient, [6.0, 3.5, 15.0], (x + 1, m)),
    ):
        got = grad(*at, *data)
        for i in range(len(at)):
            step = 1e-6 * at[i]
            up, down = list(at), list(at)
            up[i] += step
            down[i] -= step
            want = (fn(*up, *data) - fn(*down, *data)) / (2 * step)
            assert got[:, i] == pytest.approx(want, rel=1e-6, abs=1e-8), (fn.__name__, i)


def test_fits_recover_simulated_parameters():
    truth_bg = {"r": 0.6, "alpha": 5.0, "a": 0.9, "b": 3.0}
    truth_gg = {"p": 5.0, "q": 4.0, "gamma": 20.0}
    T = np.random.default_rng(2).uniform(26, 78, 6000)
    sim = M.simulate(6000, truth_bg, truth_gg, T, seed=4)
    g = sim.groupby("customer")
    x, t_x = (g.size() - 1).to_numpy(), g["week"].max().to_numpy()
    bg = M.fit_bgnbd(x, t_x, T)
    assert bg.converged and not bg.notes
    for k, v in truth_bg.items():
        assert bg.params[k] == pytest.approx(v, rel=0.2), k
    m = sim[sim.week > 0].groupby("customer")["spend"].mean().reindex(range(6000), fill_value=0)
    gg = M.fit_gamma_gamma(x, m.to_numpy())
    assert gg.converged and gg.customers == int((x > 0).sum())
    for k, v in truth_gg.items():
        assert gg.params[k] == pytest.approx(v, rel=0.3), k


SEASONAL = (  # 900 one-time buyers seen for 40 weeks, 100 regulars buying to the end
    np.r_[np.zeros(900), np.full(100, 10.0)],
    np.r_[np.zeros(900), np.full(100, 40.0)],
    np.r_[np.full(900, 40.0), np.full(100, 41.0)],
)


def test_boundary_optimum_is_said_in_words():
    fit = M.fit_bgnbd(*SEASONAL)
    assert len(fit.notes) == 1
    note = fit.notes[0]
    assert "boundary optimum" in note and "nobody drops out" in note
    assert fit.params["a"] < 1e-3 and all(np.isfinite(list(fit.params.values())))
    # the best parameters are still returned and usable
    alive = M.p_alive(*fit.params.values(), *SEASONAL)
    assert alive.min() > 0.99


# --------------------------------------------------------------------------- CDNOW


def _cdnow() -> pd.DataFrame:
    d = pd.read_csv(CDNOW, sep=r"\s+", header=None, names=["id", "id2", "date", "cds", "value"])
    d["date"] = pd.to_datetime(d["date"].astype(str), format="%Y%m%d")
    return d


CAL = Month.parse("1997-09")  # calibration 1997-01-01..1997-09-30: 39 weeks
PUBLISHED_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@needs_cdnow
def test_cdnow_published_fits():
    """Fader, Hardie & Lee's CDNOW fits: a transaction is a customer-day (the file's lines
    of one day together; 223 lines share a day with another), every day counts, including
    the 8 first purchases of $0 (free CDs)."""
    d = _cdnow()
    cal = d[d.date < CAL.end]
    days = cal.groupby(["id", "date"], as_index=False)["value"].sum()
    days.columns = ["account_id", "day", "revenue"]
    s = rfm(days, CAL)
    assert len(s) == 2357
    x, t_x, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    bg = M.fit_bgnbd(x, t_x, T)
    gg = M.fit_gamma_gamma(x, s["monetary"].to_numpy())
    assert bg.converged and gg.converged and not bg.notes + gg.notes
    for k, v in PUBLISHED_BG.items():
        assert bg.params[k] == pytest.approx(v, rel=0.005), k
    assert gg.customers == 946
    for k, v in PUBLISHED_GG.items():
        assert gg.params[k] == pytest.approx(v, rel=0.005), k
    assert bg.mean_log_likelihood * 2357 == pytest.approx(-9582.4, abs=0.1)  # published LL

    # the 39-week holdout (1997-10-01..1998-06-30): predicted vs actual repeat purchases
    hold = d[d.date >= CAL.end].drop_duplicates(["id", "date"])
    actual = len(hold)
    predicted = M.conditional_expected_purchases(*bg.params.values(), 39.0, x, t_x, T).sum()
    error = (predicted - actual) / actual
    print(
        f"\nCDNOW holdout, 39 weeks: predicted {predicted:,.0f} repeat purchases, "
        f"actual {actual:,}: {error:+.1%}"
    )
    # -12.1 %: the published parameters themselves give it (reproduced above to 0.1 %),
    # so it is the model's, not the kit's; the shortfall is in the customers with 1 or 2
    # calibration repeat purchases (predicted 230 and 223, actual 306 and 298). Counting
    # the holdout per customer-week instead (1,788) would give -7.5 %.
    assert abs(error) < 0.15


@needs_cdnow
def test_cdnow_through_the_kit(tmp_path):
    """The same file as ``orders`` through ``fit_clv``: per the catalog only account-days
    with revenue > 0 are purchases, so the 8 customers whose one day was $0 drop out."""
    d = _cdnow()
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(d))],
            "ordered_at": d["date"].dt.strftime("%Y-%m-%d"),
            "account_id": d["id"].astype(str),
            "revenue": d["value"],
            "quantity": d["cds"],
        }
    )
    res = fit_clv(open_dataset(write_tables(tmp_path / "cdnow", {"orders": orders})), "1997-09")
    assert (res.customers, res.repeat_customers) == (2349, 946)
    assert res.converged and res.notes == []
    for k, v in PUBLISHED_BG.items():
        assert res.bgnbd[k] == pytest.approx(v, rel=0.005), k
    for k, v in PUBLISHED_GG.items():
        assert res.gamma_gamma[k] == pytest.approx(v, rel=0.005), k
    alive = res.accounts[res.accounts.p_alive >= 0.5]
    assert res.predictive_clv == pytest.approx(alive["clv_12m"].mean())
    print(f"\nCDNOW predictive_clv at 1997-09: ${res.predictive_clv:,.2f} ({len(alive)} alive)")


# --------------------------------------------------------------------------- the kit


def _hand_tables() -> dict[str, pd.DataFrame]:
    """m = 2026-03. A1 (owner R1): Jan 5 two lines 10 + 5, Jan 19 a return (-20), Feb 2
    30 with no rep (owner R1), Mar 2 a sale and its return (net 0). A2 (owner R2): Jan 12
    50, Apr 1 70 (after m). A3 (owner R2): Feb 16 20 sold by R1, Mar 16 25 with no rep."""
    orders = [
        ("o1", "2026-01-05 09:00", "A1", 10.0, "R1"),
        ("o1", "2026-01-05 09:00", "A1", 5.0, "R1"),
        ("o2", "2026-01-19 10:00", "A1", -20.0, "R1"),
        ("o3", "2026-02-02 11:00", "A1", 30.0, None),
        ("o4", "2026-03-02 12:00", "A1", 40.0, "R1"),
        ("o5", "2026-03-02 16:00", "A1", -40.0, "R1"),
        ("o6", "2026-01-12 08:00", "A2", 50.0, "R2"),
        ("o7", "2026-04-01 08:00", "A2", 70.0, "R2"),
        ("o8", "2026-02-16 13:00", "A3", 20.0, "R1"),
        ("o9", "2026-03-16 14:00", "A3", 25.0, None),
    ]
    return {
        "orders": pd.DataFrame(
            orders, columns=["order_id", "ordered_at", "account_id", "revenue", "rep_id"]
        ),
        "reps": pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]}),
        "accounts": pd.DataFrame(
            {"account_id": ["A1", "A2", "A3"], "owner_rep_id": ["R1", "R2", "R2"]}
        ),
    }


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    return open_dataset(write_tables(tmp_path_factory.mktemp("clv") / "hand", _hand_tables()))


def _rfm(ds, scope: str) -> dict[str, tuple]:
    m = Month.parse("2026-03")
    s = rfm(purchases(ds, m, scope), m)
    return {
        r.account_id: (r.frequency, round(r.recency * 7), round(r.T * 7), r.monetary)
        for r in s.itertuples()
    }


def test_purchases_are_account_days_with_positive_net_revenue(hand):
    # (x, recency in days, T in days, mean repeat spend); the last day of m is Mar 31
    assert _rfm(hand, "company") == {
        "A1": (1, 28, 85, 30.0),
        "A2": (0, 0, 78, 0.0),
        "A3": (1, 28, 43, 25.0),
    }
    days = purchases(hand, Month.parse("2026-03"))
    assert days.loc[days.account_id == "A1", "revenue"].tolist() == [15.0, 30.0]


def test_scope_filters_order_lines_by_rep_then_owner(hand):
    # North: R1's lines and A1's line without a rep (owner R1); A3's Feb 16 line (R1)
    assert _rfm(hand, "team:North") == {"A1": (1, 28, 85, 30.0), "A3": (0, 0, 43, 0.0)}
    # South: A2; A3's Mar 16 line without a rep (owner R2)
    assert _rfm(hand, "team:South") == {"A2": (0, 0, 78, 0.0), "A3": (0, 0, 15, 0.0)}
    assert _rfm(hand, "rep:R2") == _rfm(hand, "team:South")


def test_scope_errors_are_readable(hand):
    with pytest.raises(KitError, match="teams are: North, South, unassigned"):
        fit_clv(hand, "2026-03", "team:West")
    with pytest.raises(KitError, match="one scope at a time"):
        fit_clv(hand, "2026-03", "team")
    with pytest.raises(KitError, match="need repeat purchases"):  # South's own fit
        fit_clv(hand, "2026-03", "team:South", Config(clv_fit="scope"))
    with pytest.raises(KitError, match="No data for 2027-01"):
        fit_clv(hand, "2027-01")


def test_horizons_are_calendar_months_in_weeks():
    # Jan 31 -> Feb 28 (28 days), -> Mar 31 (59 days), ..., -> Jan 31 2027 (365 days)
    h = horizons(Month.parse("2026-01"))
    assert (h * 7).round().astype(int).tolist()[:2] == [28, 59]
    assert h[-1] * 7 == pytest.approx(365)


def _simulated_orders(customers: int = 400, seed: int = 1) -> pd.DataFrame:
    """Customers whose first purchase falls in Jan..Mar 2025, simulated to 2025-12-31."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 90, customers), "D")
    weeks = (pd.Timestamp("2025-12-31") - first).days.to_numpy() / 7
    sim = M.simulate(
        customers,
        {"r": 1.0, "alpha": 6.0, "a": 0.8, "b": 3.0},
        {"p": 4.0, "q": 5.0, "gamma": 300.0},
        weeks,
        seed=seed,
    )
    day = first[sim["customer"]] + pd.to_timedelta(np.floor(sim["week"] * 7), "D")
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(sim))],
            "ordered_at": day.dt.strftime("%Y-%m-%d"),
            "account_id": [f"A{c:04d}" for c in sim["customer"]],
            "revenue": sim["spend"].round(2).clip(lower=0.01),
        }
    )


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = write_tables(tmp_path_factory.mktemp("clv") / "sim", {"orders": _simulated_orders()})
    return folder, open_dataset(folder)


def test_clv_is_discounted_expected_revenue(simulated, tmp_path):
    _, ds = simulated
    plain = fit_clv(ds, "2025-12", config=Config(clv_discount_rate=0.0))
    res = fit_clv(ds, "2025-12")  # default 1 % a month
    acc = res.accounts
    assert list(acc.columns) == [
        "account_id",
        "frequency",
        "recency",
        "T",
        "monetary",
        "p_alive",
        "expected_purchases_12m",
        "expected_spend",
        "clv_12m",
    ]
    assert res.customers == len(acc) == acc.account_id.nunique()
    assert res.repeat_customers == int((acc.frequency > 0).sum())
    undiscounted = acc.expected_spend * acc.expected_purchases_12m
    assert plain.accounts.clv_12m.to_numpy() == pytest.approx(undiscounted.to_numpy(), rel=1e-9)
    ratio = acc.clv_12m / undiscounted
    assert ratio.between(1.01**-12, 1.01**-1).all()
    alive = acc.p_alive >= 0.5
    assert res.alive_customers == int(alive.sum())
    assert res.predictive_clv == pytest.approx(acc.loc[alive, "clv_12m"].mean(), rel=1e-12)
    assert res.discount_rate == 0.01 and res.converged
    cfg = tmp_path / "kpi.toml"
    cfg.write_text("clv_discount_rate = 0.02\n")
    assert load_config(cfg).clv_discount_rate == 0.02
    cfg.write_text("clv_discount_rate = 1.5\n")
    with pytest.raises(KitError, match="clv_discount_rate must be a monthly rate"):
        load_config(cfg)


def _seasonal_orders() -> pd.DataFrame:
    """A seasonal shop: 270 customers buy once in the January sale; 30 regulars buy every
    two weeks all year, to the end of December."""
    rows = [
        (f"S{i:03d}", pd.Timestamp("2025-01-02") + pd.Timedelta(days=i % 10)) for i in range(270)
    ]
    for i in range(30):
        rows += [
            (f"R{i:02d}", pd.Timestamp("2025-01-03") + pd.Timedelta(weeks=2 * k)) for k in range(52)
        ]
    o = pd.DataFrame(rows, columns=["account_id", "day"])
    o = o[o.day <= "2025-12-31"]
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(o))],
            "ordered_at": o["day"].dt.strftime("%Y-%m-%d"),
            "account_id": o["account_id"],
            "revenue": 20.0 + (np.arange(len(o)) % 7) * 5.0,
        }
    )


# --------------------------------------------------------------------------- CLI


def test_cli_json_csv_and_out(simulated, tmp_path, capsys):
    folder, _ = simulated
    assert main(["clv", "--source", str(folder), "--month", "2025-12"]) == 0
    got = json.loads(capsys.readouterr().out)
    for key in ("customers", "repeat_customers", "mean_log_likelihood", "converged", "notes"):
        assert key in got
    assert set(got["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(got["gamma_gamma"]) == {"p", "q", "gamma"}
    assert got["predictive_clv"] > 0

    out = tmp_path / "out" / "clv.csv"
    args = ["clv", "--source", str(folder), "--month", "2025-12", "--format", "csv"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Predictive CLV (company, 2025-12)" in printed and f"Wrote {out}" in printed
    table = pd.read_csv(out)
    assert len(table) == got["customers"] and "clv_12m" in table.columns
    assert [p.name for p in out.parent.iterdir()] == ["clv.csv"]  # no temporary file left

    assert main(["clv", "--source", str(folder), "--month", "latest"]) == 0
    assert json.loads(capsys.readouterr().out)["month"] == "2025-12"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--month", "2025-13"], "'2025-13' is not a month: write it as YYYY-MM"),
        (["--month", "2030-01"], "No data for 2030-01"),
        (["--month", "2025-12", "--scope", "rep"], "one scope at a time"),
    ],
)
def test_cli_bad_input_is_one_message(simulated, capsys, extra, message):
    folder, _ = simulated
    assert main(["clv", "--source", str(folder), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kpi-kit clv: ") and message in err and "Traceback" not in err


def test_cli_says_boundary_optimum(tmp_path, capsys):
    folder = write_tables(tmp_path / "seasonal", {"orders": _seasonal_orders()})
    assert main(["clv", "--source", str(folder), "--month", "2025-12"]) == 0
    captured = capsys.readouterr()
    got = json.loads(captured.out)
    assert got["notes"] and "boundary optimum" in got["notes"][0]
    assert "nobody drops out" in captured.err
    assert got["bgnbd"]["a"] < 1e-3 and got["predictive_clv"] > 0
