"""Model fits are kept on the dataset, keyed by the settings each fit read: the same
dataset asked with another clv_discount_rate or other stage probabilities gets a new
fit, never the one made for the first config."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_tables

from kpi_helpers import kpis
from kpi_helpers.core import Config, Month
from kpi_helpers.data import open_dataset
from kpi_helpers.models import fit_clv
from kpi_helpers.models import outlook as predictive

M = "2026-03"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """Eight accounts buying through 2026-03 (A1-A6 several times, A7 and A8 once), and
    the opportunities of the pipeline forecast: D1 (proposal, 1,000) and D2 (demo, a
    stage no config names, 3,000) open and due in 2026-04; W won and L lost in 2026-03,
    both open at the end of 2026-02."""
    days = {
        "A1": ["2025-04-03", "2025-06-10", "2025-09-01", "2026-01-15", "2026-03-20"],
        "A2": ["2025-05-05", "2025-05-25", "2025-08-14", "2025-12-02"],
        "A3": ["2025-07-01", "2025-10-09", "2026-02-27"],
        "A4": ["2025-04-20", "2025-11-11"],
        "A5": ["2025-09-09", "2025-09-30", "2025-10-21", "2026-03-02"],
        "A6": ["2025-06-06", "2026-01-06"],
        "A7": ["2025-08-08"],
        "A8": ["2026-02-14"],
    }
    rows = [(acc, day) for acc, dates in days.items() for day in dates]
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "ordered_at": [d for _, d in rows],
            "account_id": [a for a, _ in rows],
            "revenue": [100.0 + 15 * i for i in range(len(rows))],
        }
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D2", "W", "L"],
            "created_at": ["2026-02-10", "2026-03-01", "2026-01-05", "2026-01-06"],
            "stage": ["proposal", "demo", "closed_won", "closed_lost"],
            "amount": [1000.0, 3000.0, 500.0, 700.0],
            "closed_at": [None, None, "2026-03-10", "2026-03-12"],
            "expected_close_at": ["2026-04-15", "2026-04-20", None, None],
        }
    )
    folder = tmp_path_factory.mktemp("cache") / "data"
    return write_tables(folder, {"orders": orders, "opportunities": opportunities})


@pytest.fixture(scope="module")
def ds(source):
    return open_dataset(source)


def test_changing_clv_discount_rate_refits_predictive_clv(ds, source):
    month = Month.parse(M)
    plain = predictive.clv(ds, month, "company", Config(clv_discount_rate=0.0))
    acc = plain.accounts
    # undiscounted: the 12-month value is expected spend x expected purchases
    want = acc.expected_spend * acc.expected_purchases_12m
    assert acc.clv_12m.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-9)

    steep = predictive.clv(ds, month, "company", Config(clv_discount_rate=0.5))
    assert steep.discount_rate == 0.5
    # every month k of the 12 is discounted by 1.5^-k: the value is 1.5^-12..1.5^-1 of it
    ratio = steep.accounts.clv_12m / want
    assert ratio.between(1.5**-12, 1.5**-1).all()
    assert steep.predictive_clv < plain.predictive_clv
    # and it is the fit a fresh dataset gives for that rate
    fresh = fit_clv(open_dataset(source), M, config=Config(clv_discount_rate=0.5))
    assert steep.predictive_clv == pytest.approx(fresh.predictive_clv, rel=1e-9)


def test_the_kpi_follows_the_config_on_the_same_dataset(ds):
    def value(cfg: Config) -> float:
        df = kpis.compute(ds, M, kpis=["predictive_clv"], config=cfg)
        return float(df.set_index("kpi").loc["predictive_clv", "value"])

    assert value(Config(clv_discount_rate=0.0)) > value(Config(clv_discount_rate=0.5))
    assert value(Config(clv_discount_rate=0.0)) == pytest.approx(
        predictive.clv(ds, Month.parse(M), "company", Config(clv_discount_rate=0.0)).predictive_clv
    )


def test_changing_stage_probabilities_refits_the_pipeline_outlook(ds):
    def crm_weighted(cfg: Config) -> float:
        table = kpis.table(ds, "pipeline_outlook", M, config=cfg).set_index("stage")
        return float(table.loc["total", "crm_weighted"])

    # D1 proposal 1,000 x 0.5 (the default stages) + D2 demo 3,000 x 0.3 (default_probability)
    assert crm_weighted(Config()) == pytest.approx(500 + 900)
    assert crm_weighted(Config(stage_probability={"proposal": 0.9})) == pytest.approx(900 + 900)
    assert crm_weighted(Config(default_probability=0.1)) == pytest.approx(500 + 300)
    # a setting the fit never reads reuses it: the same object comes back
    month = Month.parse(M)
    first = predictive.pipeline(ds, month, "company", Config())
    assert predictive.pipeline(ds, month, "company", Config(currency="EUR")) is first
