"""Predictive customer lifetime value (``predictive_clv``): BG/NBD purchase counts with
Gamma-Gamma spend, fitted on the orders through the end of a month.

Per KPI_CATALOG.md: a purchase is an account-day with net revenue > 0 (the day's order
lines summed); frequency x = purchases - 1; recency t_x = days from the first to the last
purchase / 7; T = days from the first purchase to the last day of m / 7; spend = the mean
revenue of the repeat purchases. The KPI value is the mean expected 12-month revenue of
the accounts with P(alive) >= 0.5, discounted monthly at ``clv_discount_rate`` (kpi.toml,
default 1 %).

12-month CLV of an account = sum over k = 1..12 of expected spend x (E[Y(t_k)] -
E[Y(t_{k-1})]) / (1 + d)^k, with t_k the weeks from the last day of m to the last day of
month m+k and E[Y(t)] the BG/NBD conditional expectation. Example (``fit_clv`` from
``kpi_helpers.models``)::

    res = fit_clv(open_dataset("data/sample"), "2026-05", scope="team:EMEA")
    res.predictive_clv, res.notes, res.accounts.head()
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from kpi_helpers.core import Config, KitError, Month, NotAvailable, write_text
from kpi_helpers.data import Dataset, check_month, month_asked
from kpi_helpers.metrics import Measures, Scope, check_scope, one_scope

from .clv_models import (
    conditional_expected_purchases,
    conditional_expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
)

HORIZON_MONTHS = 12
ALIVE = 0.5  # accounts with P(alive) at or above this count in the KPI value
FEW_CUSTOMERS = 50  # below this, the fit is rough: said in the notes
TREND_MONTHS = 3  # at risk: P(alive) now against the fit at m-3 on the data through m-3
RISK_FALL = 0.10  # at risk: P(alive) fell by this much or more since m-3
TOP_SPEND = 0.8  # at risk: accounts with past spend at or above this quantile (top fifth)
FIT_ALONE = 'clv_fit = "scope" in kpi.toml (kpi-kit clv --fit scope) fits each scope alone'
ACCOUNT_COLUMNS = [
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


@dataclass
class ClvResult:
    """A ``predictive_clv`` fit for one scope and month.

    ``predictive_clv`` is None (undefined, "n/a") when no account has P(alive) >= 0.5 or
    the spend model has no finite mean; ``notes`` say why, and name boundary optima.
    ``accounts`` has ``ACCOUNT_COLUMNS``, one row per account with a purchase.
    ``fitted_on``: the scope whose orders the models were fitted on: the scope itself, or
    ``company`` when a team's or rep's accounts take the company fit's predictions (the
    parameters and likelihoods are then the company's).
    """

    month: str
    scope: str
    customers: int
    repeat_customers: int
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    mean_log_likelihood: float  # BG/NBD, per customer
    gamma_gamma_mean_log_likelihood: float  # per repeat customer
    converged: bool
    discount_rate: float
    predictive_clv: float | None
    alive_customers: int
    notes: list[str] = field(default_factory=list)
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    fitted_on: str = ""
    fit_notes: list[str] = field(default_factory=list, repr=False)  # the models' own notes

    def summary(self) -> dict:
        """Everything but the account table, as plain JSON-ready values (NaN -> None)."""

        def plain(v: float) -> float | None:
            return float(v) if v is not None and np.isfinite(v) else None

        return {
            "month": self.month,
            "scope": self.scope,
            "fitted_on": self.fitted_on or self.scope,
            "customers": self.customers,
            "repeat_customers": self.repeat_customers,
            "bgnbd": {k: plain(v) for k, v in self.bgnbd.items()},
            "gamma_gamma": {k: plain(v) for k, v in self.gamma_gamma.items()},
            "mean_log_likelihood": plain(self.mean_log_likelihood),
            "gamma_gamma_mean_log_likelihood": plain(self.gamma_gamma_mean_log_likelihood),
            "converged": self.converged,
            "discount_rate": self.discount_rate,
            "alive_customers": self.alive_customers,
            "predictive_clv": plain(self.predictive_clv),
            "notes": self.notes,
        }


def purchases(ds: Dataset, month: Month, scope: str | Scope = "company") -> pd.DataFrame:
    """Account-days with net revenue > 0 through the end of ``month``, in ``scope``:
    columns account_id, day (midnight timestamps), revenue (the day's lines summed).

    Order lines belong to their ``rep_id``, else their account's rep, and to that rep's team
    (as every other KPI of the kit), so a team's purchases are its own lines. Example: lines
    of 10 and 5 on one day are one purchase of 15; a sale of 40 and its return of -40 on
    one day are none::

        purchases(ds, Month.parse("2026-03"), "team:North")
    """
    sc = check_scope(ds, one_scope(scope, "CLV"))
    _orders(ds)  # one KitError naming the columns predictive_clv needs
    if sc.kind == "company":
        return _company_purchases(ds, month)
    if sc.kind == "team":
        # every team's account-days in one query, kept for the other teams of a pack
        key = ("clv_team_purchases", month.index)
        if key not in ds.cache:
            ds.cache[key] = _account_days(ds, month, Scope("team"), "_team")
        df = ds.cache[key]
        df = df[(df["_team"] == sc.name).to_numpy()].drop(columns="_team")
    else:
        df = _account_days(ds, month, sc)
    return _as_purchases(df)


def _as_purchases(df: pd.DataFrame) -> pd.DataFrame:
    """The query's account-days typed (naive midnight days, object ids, float revenue) and
    sorted by account and day, as :func:`purchases` gives them."""
    df["day"] = pd.to_datetime(df["day"]).dt.tz_localize(None).astype("datetime64[ns]")
    df["account_id"] = df["account_id"].astype(object)
    df["revenue"] = df["revenue"].astype(float)
    return df.sort_values(["account_id", "day"], kind="stable").reset_index(drop=True)


def _company_purchases(ds: Dataset, month: Month) -> pd.DataFrame:
    """:func:`purchases` of the company. The rows read for a month are kept on the dataset
    until an earlier month is asked for (the at-risk fit at m-3 after the fit at m): that
    month takes their account-days before its end (whole days: the same rows and sums)
    instead of querying again, and they are let go (on large: 4.3 M rows, 330 MB)."""
    name = "clv_company_purchases"
    kept = [k for k in ds.cache if isinstance(k, tuple) and k[:1] == (name,)]
    later = [k for k in kept if k[1] > month.index]
    if (name, month.index) in kept:
        return ds.cache[(name, month.index)].copy(deep=False)  # copy on write: theirs
    if later:
        df = ds.cache.pop(min(later))
        return df[(df["day"] < pd.Timestamp(month.end)).to_numpy()].reset_index(drop=True)
    df = _as_purchases(_account_days(ds, month, Scope("company")))
    ds.cache[(name, month.index)] = df
    return df.copy(deep=False)


def _account_days(ds: Dataset, month: Month, sc: Scope, by: str | None = None) -> pd.DataFrame:
    """The query of :func:`purchases`: (account_id, day, revenue) with revenue > 0 of
    ``sc``'s order lines through ``month``, per ``by`` too (``_team``, ``_rep``) if given."""
    t = _orders(ds)
    t = t.filter(t.ordered_at < month.end, t.account_id.notnull(), t.revenue.notnull())
    if sc.kind != "company":
        ms = Measures(ds, Config(), month, month, wanted={sc.kind: sc.rows()})
        t = ms.keep(ms.by_order(t))
    keys = {"account_id": t.account_id.cast("string"), "day": t.ordered_at.truncate("D")}
    g = t.group_by(**keys, **({by: t[by]} if by else {}))
    g = g.aggregate(revenue=t.revenue.sum())
    return g.filter(g.revenue > 0).to_pandas()


def _orders(ds: Dataset) -> ibis.Table:
    """The orders table, or one KitError saying which columns predictive_clv needs."""
    if not ds.has("orders", "account_id", "ordered_at", "revenue"):
        ds.table("orders")  # says why when the table is missing or unreadable
        raise KitError(
            "predictive_clv needs orders with account_id, ordered_at and revenue; "
            "map those columns (see DATA_CONTRACT.md)."
        )
    return ds.table("orders")


def rfm(days: pd.DataFrame, month: Month) -> pd.DataFrame:
    """Per account from its purchases (``purchases``): frequency = purchases - 1, recency =
    days first..last purchase / 7, T = days from the first purchase to the last day of
    ``month`` / 7, monetary = mean revenue of the repeat purchases (0 without any).

    >>> d = pd.DataFrame({"account_id": ["a", "a", "a", "b"],
    ...     "day": pd.to_datetime(["2026-01-03", "2026-01-10", "2026-01-17", "2026-01-31"]),
    ...     "revenue": [5.0, 10.0, 20.0, 7.0]})
    >>> rfm(d, Month.parse("2026-01"))
      account_id  frequency  recency    T  monetary
    0          a          2      2.0  4.0      15.0
    1          b          0      0.0  0.0       0.0
    """
    last_day = pd.Timestamp(month.end) - pd.Timedelta(days=1)
    g = days.groupby("account_id", sort=True)
    first, last = g["day"].min(), g["day"].max()
    n, total, first_rev = g.size(), g["revenue"].sum(), g["revenue"].first()
    out = pd.DataFrame(
        {
            "frequency": (n - 1).astype("int64"),
            "recency": (last - first).dt.days / 7,
            "T": (last_day - first).dt.days / 7,
        }
    )
    out["monetary"] = np.where(n > 1, (total - first_rev) / (n - 1).clip(lower=1), 0.0)
    return out.rename_axis("account_id").reset_index()


def horizons(month: Month, months: int = HORIZON_MONTHS) -> np.ndarray:
    """Weeks from the last day of ``month`` to the last day of each of the next months.

    >>> horizons(Month.parse("2026-01"), 2).round(4).tolist()
    [4.0, 8.4286]
    """
    end = pd.Timestamp(month.end)
    return np.array([(pd.Timestamp((month + k).end) - end).days / 7 for k in range(1, months + 1)])


def account_values(
    summary: pd.DataFrame,
    bgnbd: dict[str, float],
    gamma_gamma: dict[str, float],
    weeks: np.ndarray,
    discount_rate: float,
) -> pd.DataFrame:
    """``summary`` (from :func:`rfm`) with p_alive, expected_purchases_12m (over the last
    horizon in ``weeks``), expected_spend and clv_12m = sum_k expected_spend x
    (E[Y(weeks_k)] - E[Y(weeks_{k-1})]) / (1 + discount_rate)^k. Example::

        account_values(rfm(days, m), fit_bg.params, fit_gg.params, horizons(m), 0.01)
    """
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    params = (bgnbd["r"], bgnbd["alpha"], bgnbd["a"], bgnbd["b"])
    cum = np.column_stack([conditional_expected_purchases(*params, w, x, t_x, T) for w in weeks])
    per_month = np.diff(cum, axis=1, prepend=0.0)
    factors = (1 + discount_rate) ** -np.arange(1, len(weeks) + 1, dtype=float)
    spend = conditional_expected_spend(
        gamma_gamma["p"], gamma_gamma["q"], gamma_gamma["gamma"], x, summary["monetary"]
    )
    out = summary.copy()
    out["p_alive"] = p_alive(*params, x, t_x, T)
    out["expected_purchases_12m"] = cum[:, -1]
    out["expected_spend"] = spend
    out["clv_12m"] = spend * (per_month @ factors)
    return out[ACCOUNT_COLUMNS]


def fit_clv(
    ds: Dataset,
    month: str,
    scope: str | Scope = "company",
    config: Config | None = None,
    start: ClvResult | None = None,
    company: Callable[[], ClvResult] | None = None,
) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on ``ds``'s orders through the end of ``month``
    (YYYY-MM or "latest") for ``scope`` (company, team:NAME or rep:ID); see the module.

    predictive_clv = mean over accounts with P(alive) >= 0.5 of
    sum_{k=1..12} E[spend] x E[purchases in month m+k] / (1 + clv_discount_rate)^k.

    A team or rep takes the company's fit (kpi.toml ``clv_fit = "company"``, the
    default): the models are fitted once, on the company's orders, and the scope gets the
    per-account predictions of its accounts (:func:`scope_accounts`), its value their mean
    as above. ``clv_fit = "scope"`` fits the scope's own order lines instead.
    ``company``: a function that gives the company's fit for ``month`` (a caller that
    keeps fits passes its kept one; default: fitted here). ``start``: an earlier fit whose
    parameters start the optimisers (a warm start: the optimum is the same, found in
    fewer steps). Example::

        res = fit_clv(open_dataset("data/sample"), "2026-06", "team:EMEA", load_config(None))
        res.predictive_clv, res.notes, res.accounts.sort_values("clv_12m").tail()
    """
    cfg = config or Config()
    m = month_asked(ds, month)
    sc = one_scope(scope, "CLV")
    check_month(ds, m)
    if sc.kind != "company" and cfg.clv_fit == "company":
        ids = scope_accounts(ds, m, sc)  # checks that the team or rep exists
        whole = company() if company is not None else fit_clv(ds, str(m), "company", cfg, start)
        return _predicted_for(whole, ids, sc)
    days = purchases(ds, m, sc)  # checks that the team or rep exists
    if days.empty:
        raise NotAvailable(f"No purchases for {_scope_words(sc)} through {m}: nothing to fit.")
    summary = rfm(days, m)
    repeat = summary["frequency"] > 0
    if not repeat.any():
        raise KitError(
            f"No account of {_scope_words(sc)} bought on two different days through {m}: "
            "the models need repeat purchases; pick a later month or a wider scope."
        )
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    bg = fit_bgnbd(x, t_x, T, start.bgnbd if start is not None else None)
    gg = fit_gamma_gamma(
        x,
        summary["monetary"].to_numpy(dtype=float),
        start.gamma_gamma if start is not None else None,
    )
    notes = bg.notes + gg.notes
    if len(summary) < FEW_CUSTOMERS:
        notes.append(f"Only {len(summary)} customers: the fit is rough.")
    if not (bg.converged and gg.converged):
        which = [n for n, f in (("BG/NBD", bg), ("Gamma-Gamma", gg)) if not f.converged]
        notes.append(f"The {' and '.join(which)} optimiser did not report convergence.")
    rep = summary[repeat]
    if repeat.sum() >= 3 and rep["frequency"].nunique() > 1 and rep["monetary"].nunique() > 1:
        corr = float(np.corrcoef(rep["frequency"], rep["monetary"])[0, 1])
        if abs(corr) > 0.3:
            notes.append(
                f"Spend and purchase frequency are correlated ({corr:+.2f}); Gamma-Gamma "
                "assumes they are independent, so expected spend is less reliable."
            )
    with np.errstate(all="ignore"):
        accounts = account_values(summary, bg.params, gg.params, horizons(m), cfg.clv_discount_rate)
    value, alive, said = _value(accounts, gg.params)
    return ClvResult(
        month=str(m),
        scope=str(sc),
        customers=len(summary),
        repeat_customers=int(repeat.sum()),
        bgnbd=bg.params,
        gamma_gamma=gg.params,
        mean_log_likelihood=bg.mean_log_likelihood,
        gamma_gamma_mean_log_likelihood=gg.mean_log_likelihood,
        converged=bg.converged and gg.converged,
        discount_rate=cfg.clv_discount_rate,
        predictive_clv=value,
        alive_customers=alive,
        notes=notes + said,
        accounts=accounts,
        fitted_on=str(sc),
        fit_notes=notes,
    )


def _value(accounts: pd.DataFrame, gamma_gamma: dict[str, float]) -> tuple[float | None, int, list]:
    """predictive_clv of ``accounts`` (the mean clv_12m of those with P(alive) >= 0.5; None
    when undefined), how many are alive, and the notes that say why it is undefined."""
    alive = accounts[accounts["p_alive"] >= ALIVE]
    value: float | None = float(alive["clv_12m"].mean()) if len(alive) else None
    notes = []
    if not len(alive):
        notes.append("No account has P(alive) >= 0.5: predictive_clv is undefined.")
    elif not np.isfinite(alive["clv_12m"]).all():
        value = None
        bad = int((~np.isfinite(alive["clv_12m"])).sum())
        notes.append(
            f"Gamma-Gamma q = {gamma_gamma['q']:.3g} <= 1 gives no finite mean spend for "
            "accounts without repeat purchases: predictive_clv is undefined."
            if gamma_gamma["q"] <= 1
            else f"The 12-month value of {bad} alive accounts could not be computed "
            "(numeric overflow): predictive_clv is undefined."
        )
    return value, len(alive), notes


def scope_accounts(ds: Dataset, month: Month, scope: str | Scope) -> set[str]:
    """The accounts with an order line through the end of ``month`` that belong to
    ``scope`` (team:NAME or rep:ID) by DATA_CONTRACT.md's "An account's rep and team" (its
    owner, else the rep of its latest won deal, else of its latest deal; the team is that
    rep's), as every customer KPI counts them: the accounts whose company-fit predictions
    a team's or rep's predictive_clv averages. Example::

        scope_accounts(ds, Month.parse("2026-03"), "team:North")  # {"A1", "A7", ...}
    """
    sc = check_scope(ds, one_scope(scope, "CLV"))
    t = _orders(ds)
    t = t.filter(t.ordered_at < month.end, t.account_id.notnull())
    a = t.select("account_id").distinct()
    if sc.kind == "team":  # every team's accounts in one query, kept for the other teams
        key = ("clv_team_accounts", month.index)
        if key not in ds.cache:
            ms = Measures(ds, Config(), month, month, wanted={"team": None})
            a = ms.by_owner(a)
            ds.cache[key] = a.select(id=a.account_id.cast("string"), team=a._team).to_pandas()
        teams = ds.cache[key]
        return set(teams.loc[(teams["team"] == sc.name).to_numpy(), "id"].tolist())
    if sc.kind != "company":
        ms = Measures(ds, Config(), month, month, wanted={sc.kind: sc.rows()})
        a = ms.keep(ms.by_owner(a))
    return set(a.select(id=a.account_id.cast("string")).to_pandas()["id"])


def _predicted_for(whole: ClvResult, ids: set[str], sc: Scope) -> ClvResult:
    """The company fit ``whole`` for the accounts ``ids`` of ``sc``: their rows, and the
    KPI value, counts and notes over them (the parameters stay the company's)."""
    # a hash lookup: pandas' isin of a string column builds a scalar per ID (2 s on large)
    mine = pd.Index(sorted(ids), dtype=object).get_indexer(whole.accounts["account_id"]) >= 0
    acc = whole.accounts[mine].reset_index(drop=True)
    if acc.empty:
        raise NotAvailable(
            f"No account of {_scope_words(sc)} has a purchase through {whole.month}: "
            "nothing to predict."
        )
    value, alive, said = _value(acc, whole.gamma_gamma)
    how = (
        f"The company's fit ({whole.customers:,} customers) predicts the {len(acc):,} "
        f"accounts of {_scope_words(sc)}; {FIT_ALONE}."
    )
    return ClvResult(
        month=whole.month,
        scope=str(sc),
        customers=len(acc),
        repeat_customers=int((acc["frequency"] > 0).sum()),
        bgnbd=whole.bgnbd,
        gamma_gamma=whole.gamma_gamma,
        mean_log_likelihood=whole.mean_log_likelihood,
        gamma_gamma_mean_log_likelihood=whole.gamma_gamma_mean_log_likelihood,
        converged=whole.converged,
        discount_rate=whole.discount_rate,
        predictive_clv=value,
        alive_customers=alive,
        notes=[how, *whole.fit_notes, *said],
        accounts=acc,
        fitted_on=whole.fitted_on,
        fit_notes=whole.fit_notes,
    )


def at_risk(accounts: pd.DataFrame, then: pd.DataFrame | None, since: Month) -> pd.DataFrame:
    """``accounts`` (``ACCOUNT_COLUMNS``, the fit at m) with the at-risk columns:

    - ``past_spend``: (frequency + 1) x monetary;
    - ``p_alive_then``: P(alive) at the end of ``since`` (m-3) from ``then``, the fit on
      the data through m-3 (NaN for an account without a purchase by then, and for all
      when there is no such fit);
    - ``since``: that month;
    - ``fell_below_half``: P(alive) was >= 0.5 then and is < 0.5 now;
    - ``top_fifth``: past spend at or above the 0.8 quantile of the accounts given;
    - ``at_risk``: in the top fifth and P(alive) fell by ``RISK_FALL`` (10 points) or more.

    >>> now = pd.DataFrame({"account_id": ["a", "b"], "frequency": [3, 0],
    ...     "monetary": [50.0, 0.0], "p_alive": [0.3, 1.0]})
    >>> was = pd.DataFrame({"account_id": ["a"], "p_alive": [0.8]})
    >>> at_risk(now, was, Month.parse("2026-07"))[["past_spend", "p_alive_then",
    ...     "fell_below_half", "at_risk"]].values.tolist()
    [[200.0, 0.8, True, True], [0.0, nan, False, False]]
    """
    out = accounts.copy()
    out["past_spend"] = (out["frequency"] + 1) * out["monetary"].fillna(0.0)
    if then is None:
        out["p_alive_then"] = np.nan
    else:
        was = then.drop_duplicates("account_id").set_index("account_id")["p_alive"]
        out["p_alive_then"] = out["account_id"].map(was).astype(float)
    out["since"] = str(since)
    out["fell_below_half"] = (out["p_alive_then"] >= ALIVE) & (out["p_alive"] < ALIVE)
    out["top_fifth"] = out["past_spend"] >= out["past_spend"].quantile(TOP_SPEND)
    fell = out["p_alive_then"] - out["p_alive"] >= RISK_FALL - 1e-12
    out["at_risk"] = out["top_fifth"] & fell
    return out


def _scope_words(sc: Scope) -> str:
    """``sc`` in words: the company, team North, rep R1."""
    return "the company" if sc.kind == "company" else f"{sc.kind} {sc.name}"


def write_result(result: ClvResult, fmt: str, out: str | Path | None) -> str | None:
    """The summary as JSON or the account table as CSV, to ``out`` (written to a temporary
    file renamed into place) or returned as text when ``out`` is None. Example::

        write_result(fit_clv(ds, "2026-06"), "csv", "reports/clv.csv")
    """
    if fmt == "json":
        text = json.dumps(result.summary(), indent=1, allow_nan=False) + "\n"
    else:
        text = result.accounts.to_csv(index=False)
    if out is None:
        return text
    write_text(out, text, newline="")
    return None


def format_summary(result: ClvResult, currency: str = "USD") -> str:
    """A few lines for the terminal: the KPI value, the parameters and the notes."""
    value = "n/a" if result.predictive_clv is None else f"{result.predictive_clv:,.2f} {currency}"
    bg = ", ".join(f"{k} = {v:.4g}" for k, v in result.bgnbd.items())
    gg = ", ".join(f"{k} = {v:.4g}" for k, v in result.gamma_gamma.items())
    lines = [
        f"Predictive CLV ({result.scope}, {result.month}): {value} per account alive "
        f"(P(alive) >= 0.5: {result.alive_customers:,} of {result.customers:,}; "
        f"{result.repeat_customers:,} repeat buyers)",
        f"  BG/NBD: {bg}; mean log-likelihood {result.mean_log_likelihood:.4f}",
        f"  Gamma-Gamma: {gg}",
        f"  converged: {'yes' if result.converged else 'no'}",
    ]
    return "\n".join(lines + [f"  note: {n}" for n in result.notes])
