"""Backtest of the KPI forecasts (kpi_helpers.models.forecast) from rolling origins.

For each dataset with 24 months or more, each KPI and each scope, the series is computed
once through the month before the data's last; from each of the last 12 origins o
(the data's last month - 14 .. - 3) the kit forecasts o+1..o+3 from the history through
o, and the forecasts are compared with the actual values:

- MAPE = mean |actual - forecast| / |actual| x 100 (actuals of 0 left out);
- MASE = mean |actual - forecast| / the in-sample MAE of the seasonal naive forecast
  on the history through o (|y(t) - y(t-12)|), as in Hyndman & Koehler (2006);
- the same two for the seasonal naive forecast itself (the value a year before), the
  benchmark any model should beat;
- coverage = share of actuals inside the 80 % interval (80 % is right), for the
  calibrated interval the kit gives (split conformal from the backtest of the history
  through o: the months after o, scored here, are never used to calibrate it) and, in
  the same run, for the model's own interval (what the kit gave before calibration);
- the time of one forecast (the fits; the KPI series is computed once per scope), and of
  one ``forecast_kpi`` at the last month (series and fits) per scope type.

Datasets: the sample data (generated into a temporary folder, seed 7, small, ending
2026-10) and each of ../shared/datasets that has a mapping and 24 months or more
(Superstore 2019-2022; Olist and CDNOW are shorter and are listed as skipped).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_forecast.py [--reps 5]
        [--datasets sample,superstore] [--kpis new_leads,...] [--scopes company,team,rep]

(the options run a subset, quicker while trying a change; the quoted figures are the
whole run.)
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_helpers import kpis
from kpi_helpers.catalog import get
from kpi_helpers.core import KitError, Month
from kpi_helpers.data import Dataset, open_dataset
from kpi_helpers.data.sample_data import generate
from kpi_helpers.models import forecast_kpi, forecast_series, prepare_history

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
ORIGINS = 12
HORIZON = 3
SAMPLE_KPIS = ["sales_revenue", "monthly_sales_bookings", "monthly_recurring_revenue", "new_leads"]
ORDER_KPIS = ["sales_revenue", "orders_count", "units_sold"]


def scopes_of(ds: Dataset, n_reps: int) -> list[str]:
    """company, every team, and the ``n_reps`` reps employed longest up to the end."""
    reps = ds.frame("reps") if ds.has("reps", "rep_id", "team") else pd.DataFrame()
    teams = sorted(reps.get("team", pd.Series()).dropna().unique())
    out = ["company"] + [f"team:{t}" for t in teams]
    if n_reps and "hired_at" in reps:
        still = reps[reps["left_at"].isna()] if "left_at" in reps else reps
        longest = still.sort_values("hired_at")["rep_id"].head(n_reps)
        out += [f"rep:{r}" for r in longest]
    return out


def backtest(
    name: str, ds: Dataset, kpi_ids: list[str], n_reps: int, types: list[str] | None = None
) -> list[dict]:
    """One row per KPI x scope type: errors of the kit and of seasonal naive, coverage.
    ``types``: the scope types to run (company, team, rep; None: all)."""
    first, last = kpis.data_months(ds)
    months = last.index - first.index + 1
    rows = []
    for kpi in kpi_ids:
        for scope in scopes_of(ds, n_reps):
            if types and scope.partition(":")[0] not in types:
                continue
            try:
                series = kpis.series(ds, kpi, scope=scope, end=str(last))
            except KitError as exc:
                print(f"  {name} {kpi} {scope}: {exc}")
                continue
            for o in range(last.index - HORIZON - ORIGINS + 1, last.index - HORIZON + 1):
                origin = Month(o)
                past = series[series.index <= str(origin)]
                try:
                    history = prepare_history(past, first, origin, scope)
                except KitError:
                    continue  # a rep not active at this origin
                started = time.perf_counter()
                f = forecast_series(history, HORIZON, never_negative=get(kpi).never_negative)
                model_lower, model_upper = f.attrs["model_bounds"]
                took = time.perf_counter() - started
                y = history.to_numpy()
                season = np.abs(y[12:] - y[:-12]) if len(y) > 12 else np.array([])
                scale = season.mean() if len(season) else np.nan
                for h, row in enumerate(f.itertuples(), start=1):
                    actual = series.get(row.month, np.nan)
                    if not np.isfinite(actual):
                        continue
                    snaive = y[len(y) - 12 + h - 1] if len(y) >= 12 else np.nan
                    rows.append(
                        {
                            "dataset": name,
                            "months": months,
                            "kpi": kpi,
                            "scope": scope.partition(":")[0],
                            "series": f"{kpi}/{scope}",
                            "h": h,
                            "method": row.method,
                            "seconds": took if h == 1 else np.nan,
                            "ape": abs(actual - row.forecast) / abs(actual) if actual else np.nan,
                            "ape_sn": abs(actual - snaive) / abs(actual) if actual else np.nan,
                            "se": abs(actual - row.forecast) / scale if scale else np.nan,
                            "se_sn": abs(actual - snaive) / scale if scale else np.nan,
                            "inside": row.lower <= actual <= row.upper,
                            "inside_model": model_lower[h - 1] <= actual <= model_upper[h - 1],
                            "conformal": row.interval.startswith("conformal"),
                        }
                    )
    return rows


def timing(ds: Dataset, kpi: str, n_reps: int) -> dict[str, float]:
    """Mean seconds of one forecast_kpi (series + fits) at the last month per scope type."""
    last = str(kpis.data_months(ds)[1])
    out: dict[str, list[float]] = {}
    for scope in scopes_of(ds, n_reps):
        ds.cache.clear()  # the series is computed, not read from an earlier call
        started = time.perf_counter()
        try:
            forecast_kpi(ds, kpi, last, scope=scope)
        except KitError:
            continue
        out.setdefault(scope.partition(":")[0], []).append(time.perf_counter() - started)
    return {k: float(np.mean(v)) for k, v in out.items()}


def summary(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)

    def agg(g: pd.DataFrame) -> pd.Series:
        top = g.loc[g["h"] == 1, "method"].value_counts().head(2)  # origins per method
        return pd.Series(
            {
                "series": g["series"].nunique(),
                "points": len(g),
                "MAPE": 100 * g["ape"].mean(),
                "MAPE snaive": 100 * g["ape_sn"].mean(),
                "MASE": g["se"].mean(),
                "MASE snaive": g["se_sn"].mean(),
                "in 80% model": 100 * g["inside_model"].mean(),
                "in 80%": 100 * g["inside"].mean(),
                "conformal %": 100 * g["conformal"].mean(),
                "ms/fit": 1000 * g["seconds"].mean(),
                "methods": ", ".join(f"{m} {n}" for m, n in top.items()),
            }
        )

    keys = ["dataset", "kpi", "scope"]
    return df.groupby(keys, sort=False)[df.columns.difference(keys)].apply(agg).reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="reps per dataset (default 5)")
    parser.add_argument("--datasets", help="comma-separated subset: sample, superstore, olist")
    parser.add_argument("--kpis", help="comma-separated subset of the KPIs")
    parser.add_argument("--scopes", help="comma-separated scope types: company, team, rep")
    args = parser.parse_args()
    chosen = set(args.datasets.split(",")) if args.datasets else None
    only = args.kpis.split(",") if args.kpis else None
    types = args.scopes.split(",") if args.scopes else None

    def pick(kpi_ids: list[str]) -> list[str]:
        return [k for k in kpi_ids if only is None or k in only]

    warnings.simplefilter("ignore")  # the fits' own warnings are captured by the kit
    rows: list[dict] = []
    times: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if chosen is None or "sample" in chosen:
            generate(Path(tmp) / "sample", seed=7, scale="small", end_month="2026-10")
            ds = open_dataset(Path(tmp) / "sample")
            rows += backtest("sample", ds, pick(SAMPLE_KPIS), args.reps, types)
            times["sample"] = timing(ds, "sales_revenue", args.reps)
    shared = {
        "superstore": (SHARED / "superstore", ROOT / "examples/superstore/mapping.toml"),
        "olist": (SHARED / "olist_funnel", ROOT / "examples/olist/mapping.toml"),
    }
    for name, (folder, mapping) in shared.items():
        if chosen is not None and name not in chosen:
            continue
        if not folder.is_dir():
            print(f"{name}: {folder} absent, skipped")
            continue
        ds = open_dataset(folder, mapping)
        first, last = kpis.data_months(ds)
        n = last.index - first.index + 1
        if n < 24:
            print(f"{name}: {first}..{last}, {n} months (< 24), skipped")
            continue
        wanted = [k for k in pick(ORDER_KPIS) if ds.has("orders")]
        rows += backtest(name, ds, wanted, 0, types)
        times[name] = timing(ds, "sales_revenue", 0)
    if (SHARED / "cdnow").is_dir():
        print("cdnow: 1997-01..1998-06, 18 months (< 24), and no mapping in examples/: skipped")
    table = summary(rows)
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        print(table.round(1).to_string(index=False))
    print("\nOne forecast_kpi at the last month (series + fits), mean seconds per scope type:")
    for name, t in times.items():
        print(f"  {name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
    all_rows = pd.DataFrame(rows)
    chosen = all_rows.loc[all_rows["h"] == 1, "method"].value_counts()
    print("\nMethods chosen (origins): " + ", ".join(f"{m} {n}" for m, n in chosen.items()))
    print(
        f"All: {len(all_rows)} points, MASE {all_rows['se'].mean():.2f} "
        f"(seasonal naive {all_rows['se_sn'].mean():.2f}), "
        f"MAPE {100 * all_rows['ape'].mean():.1f} %"
    )
    print(
        "Inside the 80 % interval, held-out origins: "
        f"before (model intervals) {100 * all_rows['inside_model'].mean():.1f} %, "
        f"after (calibrated) {100 * all_rows['inside'].mean():.1f} % "
        f"({100 * all_rows['conformal'].mean():.0f} % of the points conformal, the rest the "
        "model's: fewer than 8 backtest windows)"
    )
    for h, g in all_rows.groupby("h"):
        print(
            f"  h = {h}: before {100 * g['inside_model'].mean():.1f} %, "
            f"after {100 * g['inside'].mean():.1f} %"
        )
    for conformal, g in all_rows.groupby("conformal"):
        what = "conformal" if conformal else "the model's"
        print(f"  {what} intervals: {len(g)} points, {100 * g['inside'].mean():.1f} % inside")


if __name__ == "__main__":
    main()
