"""The outlook of a CRM export (tests/late_start_fixture.py, worked out by hand there): no
model KPI shows 0 for "no input", the pipeline-weighted forecast says how many open deals
lack an expected close date, and forecasts start with the KPI's data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import write_tables
from late_start_fixture import tables

from kpi_helpers import kpis
from kpi_helpers.catalog import CATALOG
from kpi_helpers.cli import main
from kpi_helpers.core import Config, NotAvailable
from kpi_helpers.data import open_dataset
from kpi_helpers.models import forecast_kpi, forecast_series, model_table, pipeline_forecast

M = "2017-05"
NO_DATES = (
    "no deal open at the end of 2017-05 has an expected close date: "
    "all 2 open deals lack `expected_close_at`"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("crm"), tables())


@pytest.fixture(scope="module")
def crm(folder):
    return open_dataset(folder)


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """D4 (700, open) expected to close on 2017-06-15."""
    t = tables(expected={"D4": "2017-06-15"})
    return open_dataset(write_tables(tmp_path_factory.mktemp("dated"), t))


def test_no_expected_close_date_is_not_available_never_zero(crm):
    p = pipeline_forecast(crm, M)
    assert (p["status"], p["value"], p["reason"]) == ("not_available", None, NO_DATES)
    south = pipeline_forecast(crm, M, "team:South")  # D5 alone
    assert south["reason"] == (
        "no deal open at the end of 2017-05 has an expected close date: "
        "its 1 open deal lacks `expected_close_at`"
    )
    # R2's deals (D2, D6) both closed by the end of May: nothing open to weigh
    assert pipeline_forecast(crm, M, "rep:R2")["reason"] == "no deal is open at the end of 2017-05"


def test_the_stored_status_and_kpi_kit_forecast_agree(crm, folder, capsys):
    df = kpis.compute(crm, M, months=1, kpis=["bookings_forecast"], scope="all")
    company = df[df["scope_type"] == "company"].iloc[0]
    assert (company["status"], company["reason"]) == ("not_available", NO_DATES)
    assert math.isnan(company["value"])
    north = df[(df["scope_type"] == "team") & (df["scope"] == "North")].iloc[0]
    assert north["status"] == "not_available" and "its 1 open deal lacks" in north["reason"]
    code = main(["forecast", "--source", str(folder), "--month", M, "--kpi", "bookings_forecast"])
    err = capsys.readouterr().err
    assert code == 2 and NO_DATES in err and len(err.strip().splitlines()) == 1


def test_the_outlook_table_says_why_instead_of_zeros(crm):
    with pytest.raises(NotAvailable, match="all 2 open deals lack"):
        model_table(crm, "pipeline_outlook", M, "company", Config())


def test_with_an_expected_close_date_the_forecast_has_its_value(dated, tmp_path, capsys):
    """Due in June: D4 700. Win rate: of the deals open at a month end in 2016-05..2017-04
    and closed by the end of May, D1, D3 and D6 won, D2 lost: 3/4. 700 x 0.75 = 525."""
    p = pipeline_forecast(dated, M)
    assert (p["status"], p["deals"], p["win_rate"]) == ("ok", 1, 0.75)
    assert p["value"] == pytest.approx(525.0)
    row = kpis.compute(dated, M, months=1, kpis=["bookings_forecast"]).iloc[0]
    assert (row["status"], row["value"]) == ("ok", pytest.approx(525.0))
    f = forecast_kpi(dated, "bookings_forecast", M)
    assert f[["month", "forecast"]].values.tolist() == [["2017-06", pytest.approx(525.0)]]
    assert f["method"].iloc[0] == "pipeline-weighted (win rate 75%, pooled over stages)"


def test_no_model_kpi_shows_zero_for_no_input(crm):
    """This export has no orders: revenue_forecast and predictive_clv are not available;
    bookings_forecast has no expected close dates. None is 0, for any scope."""
    ids = [k.id for k in CATALOG if k.is_model]
    df = kpis.compute(crm, M, months=1, kpis=ids, scope="all")
    df = df[df["scope_type"] != "rep"]
    assert set(df["kpi"]) == {"revenue_forecast", "bookings_forecast", "predictive_clv"}
    assert (df["status"] == "not_available").all(), df
    assert df["value"].isna().all() and df["reason"].str.len().gt(0).all()


def test_forecasts_start_with_the_kpis_data(crm):
    """Bookings start with the first closed deal (2017-03): the forecast is fitted on
    1,000, 2,000, 400, not on five months of $0 before them."""
    f = forecast_kpi(crm, "monthly_sales_bookings", M, horizon=2)
    expected = forecast_series(
        pd.Series([1000.0, 2000.0, 400.0], index=["2017-03", "2017-04", "2017-05"]),
        2,
        never_negative=True,  # bookings cannot be negative: the bounds are clipped at 0
    )
    pd.testing.assert_frame_equal(f, expected)
    # naive: the last value, with an interval from the two one-step changes only
    assert f["forecast"].tolist() == [400.0, 400.0] and np.isfinite(f["lower"]).all()


def test_other_model_kpis_are_no_series_to_forecast(folder, capsys):
    code = main(["forecast", "--source", str(folder), "--month", M, "--kpi", "revenue_forecast"])
    err = capsys.readouterr().err
    assert code == 2 and "use --kpi sales_revenue" in err
