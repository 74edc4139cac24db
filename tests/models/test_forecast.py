"""Forecasts (kpi_helpers.models.forecast), kpi-kit forecast and the pipeline-weighted forecast."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_END, write_tables

from kpi_helpers.cli import main
from kpi_helpers.core import Config, KitError
from kpi_helpers.data import open_dataset
from kpi_helpers.models import COLUMNS, forecast_kpi, forecast_series, pipeline_forecast


def monthly(values, start: str = "2023-01") -> pd.Series:
    index = [str(p) for p in pd.period_range(start, periods=len(values), freq="M")]
    return pd.Series(np.asarray(values, dtype="float64"), index=index)


def trend_and_season(n: int) -> np.ndarray:
    """1,000 + 20 t + 100 sin(2 pi t / 12): a linear trend and an additive season."""
    t = np.arange(n)
    return 1000.0 + 20.0 * t + 100.0 * np.sin(2 * np.pi * t / 12)


# ------------------------------------------------------------------ forecast_series


def test_trend_and_season_are_recovered():
    truth = trend_and_season(36 + 3)
    noise = np.random.default_rng(3).normal(0.0, 5.0, 36)
    f = forecast_series(monthly(truth[:36] + noise), horizon=3)
    assert list(f.columns) == COLUMNS
    assert f["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    # within 1 % of the true continuation (the noise is 0.5 % of the level)
    assert np.allclose(f["forecast"], truth[36:], rtol=0.01), f
    error, trend, season = f["method"].iloc[0].removeprefix("ETS(").rstrip(")").split(",")
    assert trend in ("A", "Ad") and season in ("A", "M"), f["method"].iloc[0]
    # the truth lies inside the 80 % interval
    assert ((f["lower"] <= truth[36:]) & (truth[36:] <= f["upper"])).all()


def test_intervals_contain_the_forecast_and_widen():
    truth = trend_and_season(40)
    noise = np.random.default_rng(5).normal(0.0, 20.0, 40)
    for series in (monthly(truth + noise), monthly([5.0, 7, 6, 9, 8])):
        f = forecast_series(series, horizon=6)
        assert ((f["lower"] <= f["forecast"]) & (f["forecast"] <= f["upper"])).all()
        width = (f["upper"] - f["lower"]).to_numpy()
        # a conformal interval never narrows further ahead; the model's widens
        widens = np.diff(width) > 0 if f["interval"].iloc[0] == "model" else np.diff(width) >= 0
        assert widens.all() and width[-1] > width[0], (f["method"].iloc[0], width)


def test_thirteen_months_fall_back_to_no_season():
    y = trend_and_season(13) + np.random.default_rng(1).normal(0.0, 10.0, 13)
    f = forecast_series(monthly(y), horizon=3)
    method = f["method"].iloc[0]
    assert method.endswith(",N)") or method == "naive", method
    assert not any(name.endswith((",A)", ",M)")) for name in f.attrs["candidates"])
    assert np.isfinite(f[["forecast", "lower", "upper"]].to_numpy()).all()


def test_five_months_give_naive():
    f = forecast_series(monthly([10.0, 12, 11, 13, 12]), horizon=3)
    assert (f["method"] == "naive").all()
    assert (f["forecast"] == 12.0).all()
    # sigma = RMS of the differences 2, -1, 2, -1 = sqrt(2.5); h = 1: 1.2816 sigma,
    # widened 1.4 times (6 backtest windows, pooled over h: too few for conformal)
    half = 1.4 * 1.2815516 * np.sqrt(2.5)
    assert f["upper"].iloc[0] - 12.0 == pytest.approx(half, rel=1e-6)


def test_one_month_gives_naive_without_interval():
    f = forecast_series(monthly([7.0]), horizon=2)
    assert (f["method"] == "naive").all() and (f["forecast"] == 7.0).all()
    assert f["lower"].isna().all() and f["upper"].isna().all()


def test_a_series_no_model_fits_gives_seasonal_naive():
    # a scope with nothing in 30 months: no ETS model for an all-zero series
    f = forecast_series(monthly(np.zeros(30)), horizon=2)
    assert (f["method"] == "seasonal naive").all()
    assert (f[["forecast", "lower", "upper"]].to_numpy() == 0).all()


def test_seasonal_naive_repeats_last_year():
    from kpi_helpers.models.ets import naive_forecast as _naive

    y = np.arange(24, dtype="float64")
    method, mean, lower, upper, _ = _naive(y, 14, seasonal=True)
    assert method == "seasonal naive"
    assert mean.tolist() == [12.0 + i for i in range(12)] + [12.0, 13.0]
    width = upper - lower
    assert np.allclose(width[:12], width[0]) and width[12] == pytest.approx(width[0] * np.sqrt(2))


@pytest.mark.parametrize(
    "series, horizon, message",
    [
        (monthly([1.0, 2.0]), 0, "horizon must be 1 to 24"),
        (monthly([1.0, np.nan, 3.0]), 3, "missing or infinite values"),
        (pd.Series([1.0, 2.0], index=["2026-01", "2026-03"]), 3, "consecutive months"),
        (pd.Series([1.0], index=["Jan"]), 3, "is not a month"),
        (monthly([]), 3, "empty"),
    ],
)
def test_bad_series_is_a_clear_error(series, horizon, message):
    with pytest.raises(KitError, match=message):
        forecast_series(series, horizon)


# ------------------------------------------------------------------ forecast_kpi (sample data)


@pytest.fixture(scope="module")
def sample(sample_dir):
    return open_dataset(sample_dir)


@pytest.mark.parametrize(
    "kpi", ["sales_revenue", "monthly_sales_bookings", "monthly_recurring_revenue", "new_leads"]
)
def test_forecast_kpi_every_scope(sample, kpi):
    reps = sample.frame("reps")
    rep = reps.loc[reps["left_at"].isna(), "rep_id"].iloc[0]
    for scope in ("company", "team:EMEA", f"rep:{rep}"):
        f = forecast_kpi(sample, kpi, SAMPLE_END, scope=scope, horizon=3)
        assert list(f.columns) == COLUMNS and len(f) == 3, (kpi, scope)
        assert np.isfinite(f[["forecast", "lower", "upper"]].to_numpy()).all(), (kpi, scope)
        assert f["method"].iloc[0].startswith(("ETS(", "seasonal naive", "naive"))


def test_forecast_kpi_errors(sample):
    with pytest.raises(KitError, match="table KPI"):
        forecast_kpi(sample, "pipeline_health", SAMPLE_END)
    with pytest.raises(KitError, match="one scope"):
        forecast_kpi(sample, "sales_revenue", SAMPLE_END, scope="team")
    with pytest.raises(KitError, match="No data for 2040-01"):
        forecast_kpi(sample, "sales_revenue", "2040-01")


# ------------------------------------------------------------------ kpi-kit forecast


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_cli_writes_each_format(sample_dir, tmp_path, fmt):
    out = tmp_path / f"forecast.{fmt}"
    args = ["forecast", "--source", str(sample_dir), "--month", SAMPLE_END]
    args += ["--kpi", "sales_revenue", "--scope", "team:EMEA", "--horizon", "4"]
    assert main([*args, "--format", fmt, "--out", str(out)]) == 0
    if fmt == "csv":
        df = pd.read_csv(out)
    elif fmt == "json":
        df = pd.DataFrame(json.loads(out.read_text()))
    else:
        df = pd.read_parquet(out)
    assert list(df.columns) == COLUMNS
    assert df["month"].tolist() == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--kpi", "magic"], "Unknown KPI 'magic'"),
        (["--kpi", "sales_revenue", "--scope", "team:Narnia"], "Unknown team 'Narnia'"),
        (["--kpi", "sales_revenue", "--scope", "all"], "one scope"),
        (["--kpi", "sales_revenue", "--horizon", "99"], "horizon must be 1 to 24"),
    ],
)
def test_cli_bad_input_is_one_line(sample_dir, capsys, extra, message):
    code = main(["forecast", "--source", str(sample_dir), "--month", SAMPLE_END, *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ------------------------------------------------------------------ pipeline forecast


def pipeline_tables() -> dict[str, pd.DataFrame]:
    """m = 2026-03 (S = 2026-04-01); the window's month ends are those of 2025-03..2026-02.

    Win-rate deals (open at one of those month ends, closed by S):
      H1 R1 won, H2 R1 lost, H5 R2 lost (closed in m), H7 R2 won, H8 R2 won.
      Not counted: H3 (created and closed in the same month: never open at a month end),
      H4 (closed 2025-03-15: last open at the end of 2025-02, before the window),
      H6 (closes after m: not known at the end of m).
      Company 3 won / 5 = 0.6; North (R1) 1/2 = 0.5; South (R2) 2/3.
    Due deals (open at the end of m, expected close in April 2026):
      D1 R1 proposal 1,000 (probability 0.4), D2 R2 negotiation 3,000 (empty: stage 0.7),
      D5 R9 (unknown rep: team unassigned) qualification 2,000 (empty: stage 0.2),
      H6 R1 600 (closed won since, probability 0.9 as recorded).
      Not due: D3 (expected in May), D4 (created after m), D6 (expected in m: overdue).
    """
    opps = pd.DataFrame(
        [
            ("H1", "2025-10-05", "closed_won", 100.0, "2026-01-20", "R1", None, None),
            ("H2", "2025-11-10", "closed_lost", 100.0, "2026-02-03", "R1", None, None),
            ("H3", "2026-01-02", "closed_won", 100.0, "2026-01-25", "R1", None, None),
            ("H4", "2024-12-01", "closed_won", 100.0, "2025-03-15", "R1", None, None),
            ("H5", "2025-12-01", "closed_lost", 100.0, "2026-03-20", "R2", None, None),
            ("H6", "2026-02-01", "closed_won", 600.0, "2026-04-10", "R1", "2026-04-15", 0.9),
            ("H7", "2025-06-01", "closed_won", 100.0, "2025-09-01", "R2", None, None),
            ("H8", "2025-07-01", "closed_won", 100.0, "2025-08-15", "R2", None, None),
            ("D1", "2026-02-10", "proposal", 1000.0, None, "R1", "2026-04-15", 0.4),
            ("D2", "2026-03-05", "negotiation", 3000.0, None, "R2", "2026-04-30", None),
            ("D3", "2026-01-10", "prospecting", 5000.0, None, "R1", "2026-05-02", None),
            ("D4", "2026-04-02", "proposal", 700.0, None, "R2", "2026-04-20", None),
            ("D5", "2026-03-31 23:00", "qualification", 2000.0, None, "R9", "2026-04-01", None),
            ("D6", "2026-01-15", "proposal", 800.0, None, "R1", "2026-03-31", None),
        ],
        columns=[
            "opportunity_id",
            "created_at",
            "stage",
            "amount",
            "closed_at",
            "rep_id",
            "expected_close_at",
            "probability",
        ],
    )
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "team": ["North", "South"]})
    targets = pd.DataFrame(
        {
            "month": ["2026-04", "2026-04", "2026-03"],
            "kpi": ["monthly_sales_bookings"] * 3,
            "target": [5000.0, 2000.0, 999.0],
            "team": [None, "North", None],
            "rep_id": [None, None, None],
        }
    )
    return {"opportunities": opps, "reps": reps, "targets": targets}


@pytest.fixture(scope="module")
def pipeline_ds(tmp_path_factory):
    folder = write_tables(tmp_path_factory.mktemp("pipeline") / "data", pipeline_tables())
    return open_dataset(folder)


def test_pipeline_forecast_company(pipeline_ds):
    r = pipeline_forecast(pipeline_ds, "2026-03")
    assert (r["month"], r["as_of"], r["status"]) == ("2026-04", "2026-03", "ok")
    assert (r["won"], r["lost"], r["deals"]) == (3, 2, 4)
    assert r["win_rate"] == pytest.approx(0.6)
    assert r["open_amount"] == pytest.approx(1000 + 3000 + 2000 + 600)
    assert r["value"] == pytest.approx(6600 * 0.6)  # 3,960
    # 1,000 x 0.4 + 3,000 x 0.7 + 2,000 x 0.2 + 600 x 0.9 = 3,440
    assert r["crm_weighted"] == pytest.approx(3440.0)
    assert r["target"] == 5000.0
    assert r["by_stage"]["negotiation"] == {
        "deals": 1,
        "amount": 3000.0,
        "win_rate": pytest.approx(0.6),
        "weighted": pytest.approx(1800.0),
        "crm_weighted": pytest.approx(2100.0),
    }


def test_pipeline_forecast_teams_and_reps(pipeline_ds):
    north = pipeline_forecast(pipeline_ds, "2026-03", "team:North")
    assert north["value"] == pytest.approx(1600 * 0.5)  # D1 + H6 at 1/2
    assert north["crm_weighted"] == pytest.approx(940.0) and north["target"] == 2000.0
    south = pipeline_forecast(pipeline_ds, "2026-03", "team:South")
    assert south["value"] == pytest.approx(3000 * 2 / 3)  # D2 at 2/3
    assert south["target"] is None
    lone = pipeline_forecast(pipeline_ds, "2026-03", "rep:R9")  # no closed deal to learn from
    assert lone["status"] == "undefined" and lone["value"] is None and lone["deals"] == 1
    assert "has closed by the end of 2026-03" in lone["reason"]
    assert pipeline_forecast(pipeline_ds, "2026-03", "team:unassigned")["deals"] == 1


def test_pipeline_forecast_config_probabilities(pipeline_ds):
    cfg = Config(stage_probability={"negotiation": 0.5}, default_probability=0.1)
    r = pipeline_forecast(pipeline_ds, "2026-03", config=cfg)
    # D2 3,000 x 0.5, D5 (qualification not in the config) 2,000 x 0.1
    assert r["crm_weighted"] == pytest.approx(400 + 1500 + 200 + 540)


def test_pipeline_forecast_errors(pipeline_ds):
    with pytest.raises(KitError, match="Unknown team 'Narnia'"):
        pipeline_forecast(pipeline_ds, "2026-03", "team:Narnia")
    with pytest.raises(KitError, match="one scope"):
        pipeline_forecast(pipeline_ds, "2026-03", "rep")
    with pytest.raises(KitError, match="No data for 2030-01"):
        pipeline_forecast(pipeline_ds, "2030-01")


def test_cli_text_says_how_the_interval_was_made(sample_dir, capsys):
    args = ["forecast", "--source", str(sample_dir), "--month", SAMPLE_END, "--jobs", "1"]
    args += ["--kpi", "sales_revenue", "--scope", "team:EMEA", "--horizon", "4"]
    assert main([*args, "--format", "text"]) == 0
    out = capsys.readouterr().out
    interval = next(line for line in out.splitlines() if line.startswith("interval: "))
    assert "conformal (" in interval or interval == "interval: model", interval
    assert "track record: the 80 % interval held " in out and "of the last 12 months" in out
