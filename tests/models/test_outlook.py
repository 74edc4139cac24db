"""The outlook KPIs in ``compute``: each value is its model's own output for the month
asked for (company and teams), other months and reps say why they have none, and the
outlook tables hold the same fits."""

from __future__ import annotations

import math

import pytest
from conftest import SAMPLE_END

from kpi_helpers import kpis
from kpi_helpers.data import open_dataset
from kpi_helpers.models import fit_clv, forecast_kpi, pipeline_forecast
from kpi_helpers.models import outlook as predictive

TEAM = "Partners & Alliances"


@pytest.fixture(scope="module")
def ds(sample_dir):
    return open_dataset(sample_dir)


@pytest.fixture(scope="module")
def outlook(ds):
    df = kpis.compute(ds, SAMPLE_END, months=2, scope=["company", f"team:{TEAM}", "rep"],
                      families=["outlook"])  # fmt: skip
    return df.set_index(["month", "scope_type", "scope", "kpi"])


def test_values_are_the_models_own(outlook, sample_dir):
    fresh = open_dataset(sample_dir)  # nothing kept from the compute above
    m = SAMPLE_END
    for scope, key in (("company", ("company", "company")), (f"team:{TEAM}", ("team", TEAM))):
        revenue = forecast_kpi(fresh, "sales_revenue", m, scope, horizon=1)["forecast"].iloc[0]
        row = outlook.loc[(m, *key, "revenue_forecast")]
        assert row["status"] == "ok"
        assert row["value"] == pytest.approx(revenue)
        pipe = pipeline_forecast(fresh, m, scope)["value"]
        assert outlook.loc[(m, *key, "bookings_forecast"), "value"] == pytest.approx(pipe)
        clv = fit_clv(fresh, m, scope).predictive_clv
        assert outlook.loc[(m, *key, "predictive_clv"), "value"] == pytest.approx(clv)


def test_other_months_and_reps_say_why_they_have_none(outlook):
    months = sorted(outlook.index.get_level_values("month").unique())
    assert len(months) == 2
    earlier = outlook.loc[(months[0], "company", "company", "revenue_forecast")]
    assert earlier["status"] == "not_available" and earlier["reason"] == predictive.ONLY_M
    assert math.isnan(earlier["value"])
    reps = outlook.xs("rep", level="scope_type")
    assert len(reps) and (reps["status"] == "not_available").all()
    assert set(reps.xs(SAMPLE_END, level="month")["reason"]) == {predictive.NOT_REPS}


def test_outlook_tables_hold_the_same_fits(ds, outlook):
    f = kpis.table(ds, "forecasts", SAMPLE_END)
    assert set(f["kpi"]) == set(predictive.FORECAST_KPIS)
    assert (f.groupby("kpi").size() == predictive.HORIZON).all()
    revenue = f[f["kpi"] == "sales_revenue"].iloc[0]
    assert revenue["forecast"] == pytest.approx(
        outlook.loc[(SAMPLE_END, "company", "company", "revenue_forecast"), "value"]
    )
    assert revenue["lower"] < revenue["forecast"] < revenue["upper"]
    p = kpis.table(ds, "pipeline_outlook", SAMPLE_END).set_index("stage")
    assert p.loc["total", "weighted"] == pytest.approx(
        outlook.loc[(SAMPLE_END, "company", "company", "bookings_forecast"), "value"]
    )
    assert p.drop(index="total")["amount"].sum() == pytest.approx(p.loc["total", "amount"])
    acc = kpis.table(ds, "clv_accounts", SAMPLE_END)
    assert list(acc["clv_12m"]) == sorted(acc["clv_12m"], reverse=True)
    assert {"account_name", "p_alive", "clv_12m"} <= set(acc.columns)
