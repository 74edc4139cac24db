"""The outlook KPIs: values from fitted models rather than formulas over measures.

- ``revenue_forecast``: the ETS forecast of sales revenue for m+1 (:mod:`.forecast`);
- ``bookings_forecast``: the pipeline-weighted bookings of m+1 (:mod:`.pipeline_forecast`);
- ``predictive_clv``: the BG/NBD + Gamma-Gamma 12-month CLV (:mod:`.clv`).

A model is fitted for the month asked for (m), for the company and each team: a fit per
month and rep would cost minutes on a real CRM, and a forecast made in an earlier month
is what ``benchmarks/bench_forecast.py`` backtests. Other months and reps get rows that
say so (status ``not_available``). CLV is fitted once, for the company: the teams take
its per-account predictions (unless ``clv_fit = "scope"``), and the at-risk columns of
``clv_accounts`` compare it with a second company fit at m-3 (a cold one). Each fit is kept on the
dataset with the settings it read, so the outlook tables (``forecasts``,
``pipeline_outlook``, ``clv_accounts``) reuse it, and a config that changes one of those
settings gets a new fit.

Example::

    model_rows(ds, [get("revenue_forecast")], skeleton, Month.parse("2026-10"), cfg)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from kpi_helpers.catalog import KPI, get
from kpi_helpers.core import Config, KitError, Month, NotAvailable, SettingsRead
from kpi_helpers.data import Dataset, data_months
from kpi_helpers.metrics import Scope, describe_missing, missing_inputs, table_context

from .clv import TREND_MONTHS, ClvResult, at_risk, fit_clv
from .forecast import COLUMNS, forecast_many, histories
from .pipeline_forecast import pipeline_forecast

MODEL_SCOPES = ("company", "team")
FORECAST_KPIS = (
    "sales_revenue",
    "monthly_sales_bookings",
    "monthly_recurring_revenue",
    "new_leads",
)
HORIZON = 3
ONLY_M = "a model's value, made for the month asked for only (kpi-kit forecast / clv for others)"
NOT_REPS = "made for the company and each team, not per rep"


def _kept(ds: Dataset, key: tuple, cfg: Config, fit: Callable[[Config], object]) -> object:
    """``fit(cfg)`` once per dataset and values of the settings it read (a KitError is
    kept too, and raised again): the fit runs on a :class:`SettingsRead` view of ``cfg``,
    and a kept fit serves a later config only when every setting it read has the same
    value there, so a fit is keyed by exactly what it read, not by a list kept by hand."""
    kept = ds.cache.setdefault(("model", *key), [])  # [(the settings read, the fit)]
    found = [(read, out) for read, out in kept if read.same_as(cfg)]
    if found:
        read, out = found[0]
        for name in read.read:  # an enclosing fit's view notes what this one read
            getattr(cfg, name)
    else:
        read = SettingsRead(cfg)
        try:
            out = fit(read)
        except KitError as exc:
            out = exc
        kept.append((read, out))
    if isinstance(out, KitError):
        raise out
    return out


def forecast_histories(
    ds: Dataset, month: Month, scope: str, cfg: Config
) -> dict[str, pd.Series | KitError]:
    """The series of each of ``FORECAST_KPIS`` for one scope through ``month``, ready to
    forecast, or the KitError that says why not (kept on the dataset)."""

    def fit(cfg: Config) -> dict[str, pd.Series | KitError]:
        return histories(ds, list(FORECAST_KPIS), scope, data_months(ds)[0], month, cfg)

    return _kept(ds, ("forecast_histories", month.index, scope), cfg, fit)


def _tasks(found: dict[str, pd.Series | KitError]) -> list[tuple[pd.Series, int, bool]]:
    return [
        (s, HORIZON, get(kpi).never_negative)
        for kpi, s in found.items()
        if not isinstance(s, KitError)
    ]


def prefit_forecasts(ds: Dataset, month: Month, scopes: list[str], cfg: Config) -> None:
    """Fit the forecasts of every scope of ``scopes`` at once, so that the fits run in
    parallel (``forecast.fit_jobs``) and :func:`forecasts` finds them in the cache."""
    tasks = []
    for scope in scopes:
        try:
            tasks += _tasks(forecast_histories(ds, month, scope, cfg))
        except KitError:
            continue  # forecasts() says why
    forecast_many(tasks)


def forecasts(ds: Dataset, month: Month, scope: str, cfg: Config) -> pd.DataFrame:
    """The next ``HORIZON`` months of each of ``FORECAST_KPIS`` the data gives, for one
    scope: columns ``kpi`` + :data:`.forecast.COLUMNS`; forecasts and bounds of a KPI
    that cannot be negative are clipped at 0. KitError when none can be made."""

    def fit(cfg: Config) -> pd.DataFrame:
        found = forecast_histories(ds, month, scope, cfg)
        why = {k: s for k, s in found.items() if isinstance(s, KitError)}
        series = {k: s for k, s in found.items() if not isinstance(s, KitError)}
        parts = []
        for kpi, f in zip(series, forecast_many(_tasks(series)), strict=True):
            if isinstance(f, KitError):
                why[kpi] = f
            else:
                parts.append(f.assign(kpi=kpi))
        if not parts:
            first_why = next(iter(why.values()), None)
            error = NotAvailable if isinstance(first_why, NotAvailable) else KitError
            raise error(f"forecasts are not available: {first_why or 'no series'}")
        out = pd.concat(parts, ignore_index=True)[["kpi", *COLUMNS]]
        out.attrs["why"] = {k: str(e) for k, e in why.items()}  # the series left out
        return out

    return _kept(ds, ("forecasts", month.index, scope), cfg, fit)


def clv(ds: Dataset, month: Month, scope: str, cfg: Config) -> ClvResult:
    """The CLV fit of one scope and month (kept on the dataset); a team takes the kept
    company fit's predictions unless ``clv_fit = "scope"`` (:func:`.clv.fit_clv`)."""

    def fit(c: Config) -> ClvResult:
        return fit_clv(ds, str(month), scope, c, company=lambda: clv(ds, month, "company", c))

    return _kept(ds, ("clv", month.index, scope), cfg, fit)


def clv_then(ds: Dataset, month: Month, scope: str, cfg: Config) -> ClvResult:
    """The at-risk trend's earlier side: the CLV fit at m-3 on the data through m-3 for
    one scope (kept), the same fit as ``kpi-kit clv --month`` m-3 gives. Its optimisers
    start cold: started from the fit at m, the parameters ended up to 8e-6 (relative)
    from the cold fit's (the same likelihood to 1e-13: a flat optimum), and P(alive) 4e-6
    (sample, medium and large, 2026-12)."""
    then = month - TREND_MONTHS

    def fit(c: Config) -> ClvResult:
        earlier = lambda: clv_then(ds, month, "company", c)  # noqa: E731
        return fit_clv(ds, str(then), scope, c, company=earlier)

    return _kept(ds, ("clv_then", month.index, scope), cfg, fit)


def pipeline(ds: Dataset, month: Month, scope: str, cfg: Config) -> dict:
    """The pipeline-weighted forecast of m+1 for one scope (kept on the dataset)."""
    return _kept(
        ds,
        ("pipeline", month.index, scope),
        cfg,
        lambda c: pipeline_forecast(ds, str(month), scope, c),
    )


def _revenue_forecast(ds: Dataset, month: Month, scope: str, cfg: Config) -> float:
    f = forecasts(ds, month, scope, cfg)
    rows = f[f["kpi"] == "sales_revenue"]
    if rows.empty:
        why = f.attrs.get("why", {}).get("sales_revenue", "")
        raise NotAvailable(f"no sales revenue series to forecast{': ' if why else ''}{why}")
    return float(rows["forecast"].iloc[0])


def _bookings_forecast(ds: Dataset, month: Month, scope: str, cfg: Config) -> float:
    p = pipeline(ds, month, scope, cfg)
    if p["status"] == "not_available":  # nothing to weigh: never 0
        raise NotAvailable(p["reason"])
    return float("nan") if p["value"] is None else float(p["value"])


def _predictive_clv(ds: Dataset, month: Month, scope: str, cfg: Config) -> float:
    value = clv(ds, month, scope, cfg).predictive_clv
    return float("nan") if value is None else float(value)


# the model behind each outlook KPI: its value for one scope at m (NaN: undefined)
MODELS: dict[str, Callable[[Dataset, Month, str, Config], float]] = {
    "revenue_forecast": _revenue_forecast,  # the forecast of sales_revenue for m+1
    "bookings_forecast": _bookings_forecast,  # the pipeline-weighted amount due in m+1
    "predictive_clv": _predictive_clv,  # mean discounted 12-month CLV, P(alive) >= 0.5
}


def model_rows(
    ds: Dataset, chosen: list[KPI], skeleton: pd.DataFrame, month: Month, cfg: Config
) -> pd.DataFrame:
    """Rows (month, scope_type, scope, kpi, value, status, reason) of the model KPIs
    ``chosen`` for every (month, scope_type, scope) of ``skeleton``; values for month m
    (``month``) and the company and team scopes, the other rows say why they have none."""
    rows = []
    cells = skeleton[["month", "scope_type", "scope"]].drop_duplicates()
    if any(k.id == "revenue_forecast" for k in chosen):  # the fits of all scopes at once
        now = cells[(cells["month"] == str(month)) & cells["scope_type"].isin(MODEL_SCOPES)]
        scopes = [str(Scope.of_row(st, sc)) for _, st, sc in now.itertuples(index=False)]
        if not missing_inputs(ds, get("revenue_forecast").table_needs):
            prefit_forecasts(ds, month, scopes, cfg)
    for kpi in chosen:
        missing = missing_inputs(ds, kpi.table_needs)
        for m, st, sc in cells.itertuples(index=False):
            value, status, reason = np.nan, "not_available", ""
            if missing:
                reason = describe_missing(missing)
            elif m != str(month):
                reason = ONLY_M
            elif st not in MODEL_SCOPES:
                reason = NOT_REPS
            else:
                try:
                    value = MODELS[kpi.id](ds, month, str(Scope.of_row(st, sc)), cfg)
                    status = "ok" if np.isfinite(value) else "undefined"
                    reason = "" if status == "ok" else "the model gives no value for m"
                except NotAvailable as exc:  # no input: never 0
                    status, reason = "not_available", str(exc).rstrip(".")
                except KitError as exc:
                    status, reason = "undefined", str(exc).rstrip(".")
            rows.append((m, st, sc, kpi.id, value, status, reason or None))
    columns = ["month", "scope_type", "scope", "kpi", "value", "status", "reason"]
    return pd.DataFrame(rows, columns=columns)


def forecasts_table(ds: Dataset, month: Month, scope: Scope, cfg: Config) -> pd.DataFrame:
    """The table KPI ``forecasts``: kpi, month, forecast, lower, upper, method (``scope``
    is one scope: ``tables`` checks it)."""
    return forecasts(ds, month, str(scope), cfg).copy()


def pipeline_table(ds: Dataset, month: Month, scope: Scope, cfg: Config) -> pd.DataFrame:
    """The table KPI ``pipeline_outlook``: per stage of the deals due in m+1, then a total
    row with the target of m+1. NotAvailable (the page says why) when no open deal has an
    expected close date."""
    p = pipeline(ds, month, str(scope), cfg)
    if p["status"] == "not_available":
        raise NotAvailable(p["reason"])
    rows = [
        dict(
            stage=stage,
            deals=v["deals"],
            amount=v["amount"],
            weighted=v["weighted"],
            crm_weighted=v["crm_weighted"],
        )  # fmt: skip
        for stage, v in p["by_stage"].items()
    ]
    rows.append(
        dict(
            stage="total",
            deals=p["deals"],
            amount=p["open_amount"],
            weighted=p["value"],
            crm_weighted=p["crm_weighted"],
        )  # fmt: skip
    )
    out = pd.DataFrame(rows, columns=["stage", "deals", "amount", "weighted", "crm_weighted"])
    out["target"] = [np.nan] * (len(out) - 1) + [p["target"] if p["target"] is not None else np.nan]
    # each stage's own rate (per stage with a stage history); the total row: the pooled one
    rates = [v["win_rate"] for v in p["by_stage"].values()] + [p["win_rate"]]
    out["win_rate"] = [r * 100.0 if r is not None else np.nan for r in rates]
    out["win_rate_basis"] = p["win_rate_basis"]
    return out.astype({"weighted": "float64", "target": "float64", "win_rate": "float64"})


def clv_table(ds: Dataset, month: Month, scope: Scope, cfg: Config) -> pd.DataFrame:
    """The table KPI ``clv_accounts``: the per-account CLV table, highest CLV first, with
    the account's name when ``accounts`` has one, and the at-risk columns
    (:func:`.clv.at_risk`: P(alive) now against the fit at m-3)."""
    res = clv(ds, month, str(scope), cfg)
    try:
        then = clv_then(ds, month, str(scope), cfg).accounts
    except KitError:  # no fit at m-3 (too early, no repeat buyers yet): no trend
        then = None
    acc = at_risk(res.accounts, then, month - TREND_MONTHS)
    if ds.has("accounts", "account_id", "account_name"):
        acc = acc.merge(_account_names(ds, month), on="account_id", how="left")
        acc.insert(1, "account_name", acc.pop("account_name"))
    return acc.sort_values(["clv_12m", "account_id"], ascending=[False, True], ignore_index=True)


def _account_names(ds: Dataset, month: Month) -> pd.DataFrame:
    """account_id, account_name of the accounts with an order line through the end of
    ``month``: two columns of those rows only, read once per dataset and month (every
    scope's ``clv_accounts`` names its accounts from it)."""
    key = ("clv_account_names", month.index)
    if key not in ds.cache:
        a, o = ds.table("accounts"), ds.table("orders")
        o = o.filter(o.ordered_at < month.end)
        a = a.semi_join(o, a.account_id == o.account_id)
        a = a.select(account_id=a.account_id.cast("string"), account_name=a.account_name)
        ds.cache[key] = a.to_pandas().drop_duplicates("account_id")
    return ds.cache[key]


MODEL_TABLES = {
    "forecasts": forecasts_table,  # the next 3 months of the headline series, 80 % intervals
    "pipeline_outlook": pipeline_table,  # deals due in m+1 per stage, weighted, the target
    "clv_accounts": clv_table,  # the BG/NBD + Gamma-Gamma CLV of every account, at risk
}


def model_table(ds: Dataset, kpi_id: str, month: str, scope: str, cfg: Config) -> pd.DataFrame:
    """The model table KPI ``kpi_id`` (``forecasts``, ``pipeline_outlook``,
    ``clv_accounts``) for ``month`` and one ``scope``."""
    kpi = get(kpi_id)
    m, sc = table_context(ds, kpi, month, scope)
    return MODEL_TABLES[kpi.table](ds, m, sc, cfg)
