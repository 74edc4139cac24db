"""To-date figures (QTD, YTD) of the flow KPIs, worked out by hand on a few monthly rows
with fiscal_year_start = 11: FY2026 runs 2025-11..2026-10, its Q1 2025-11..2026-01
straddles the calendar year."""

from __future__ import annotations

import math

import pandas as pd

from kpi_helpers.metrics import to_date_figures, to_date_kpis

MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02"]


def rows(target_feb: float | None = 12.0) -> pd.DataFrame:
    """Revenue 10, 20, 30, 40; a year before 5, 10, 15, 20; targets 12 a month (February's
    left out when ``target_feb`` is None); win rate beside it (a ratio: no to-date)."""
    revenue = pd.DataFrame(
        {
            "key": "company",
            "kpi": "sales_revenue",
            "month": MONTHS,
            "status": "ok",
            "value": [10.0, 20.0, 30.0, 40.0],
            "same_month_last_year": [5.0, 10.0, 15.0, 20.0],
            "target": [12.0, 12.0, 12.0, target_feb],
        }
    )
    win = revenue.assign(kpi="win_rate", value=50.0, target=None)
    return pd.concat([revenue, win], ignore_index=True)


def one(df: pd.DataFrame, span: str) -> dict:
    got = df[(df["kpi"] == "sales_revenue") & (df["span"] == span)]
    assert len(got) == 1
    return got.iloc[0].to_dict()


def test_quarter_straddling_the_year_sums_its_months():
    df = to_date_figures(rows(), "2026-01", fiscal_year_start=11)
    assert set(df["kpi"]) == {"sales_revenue"}  # a ratio has no to-date sum
    qtd = one(df, "QTD")
    # 2025-11..2026-01: 10 + 20 + 30; a year before 5 + 10 + 15; targets 3 x 12
    assert (qtd["label"], qtd["first"], qtd["through"]) == ("FY2026-Q1", "2025-11", "2026-01")
    assert qtd["value"] == 60.0 and qtd["year_before"] == 30.0 and qtd["change"] == 100.0
    assert qtd["target"] == 36.0
    assert math.isclose(qtd["attainment"], 60 / 36 * 100)
    ytd = one(df, "YTD")  # the fiscal year began in 2025-11 too
    assert ytd["label"] == "FY2026 to date (3 of 12 months)" and ytd["value"] == 60.0


def test_second_quarter_and_year_to_date():
    df = to_date_figures(rows(), "2026-02", fiscal_year_start=11)
    qtd, ytd = one(df, "QTD"), one(df, "YTD")
    assert qtd["label"] == "FY2026-Q2 to date (1 of 3 months)"
    assert (qtd["value"], qtd["year_before"], qtd["target"]) == (40.0, 20.0, 12.0)
    # 10 + 20 + 30 + 40 = 100 against 5 + 10 + 15 + 20 = 50: +100 %; targets 4 x 12
    assert (ytd["value"], ytd["year_before"], ytd["change"]) == (100.0, 50.0, 100.0)
    assert ytd["target"] == 48.0 and ytd["attainment"] == 100 / 48 * 100


def test_a_month_without_target_gives_no_to_date_target():
    df = to_date_figures(rows(target_feb=None), "2026-02", fiscal_year_start=11)
    ytd = one(df, "YTD")
    assert ytd["value"] == 100.0  # the value still adds up
    assert math.isnan(ytd["target"]) and math.isnan(ytd["attainment"])
    # the quarter before February (FY2026-Q1) keeps its target
    assert one(to_date_figures(rows(None), "2026-01", 11), "QTD")["target"] == 36.0


def test_a_month_without_value_gives_no_to_date_value():
    r = rows()
    r.loc[(r["kpi"] == "sales_revenue") & (r["month"] == "2025-12"), "status"] = "not_available"
    r.loc[(r["kpi"] == "sales_revenue") & (r["month"] == "2025-11"), "same_month_last_year"] = None
    qtd = one(to_date_figures(r, "2026-01", 11), "QTD")
    assert math.isnan(qtd["value"]) and math.isnan(qtd["year_before"])
    assert math.isnan(qtd["change"]) and math.isnan(qtd["attainment"])


def test_calendar_quarters_by_default():
    qtd = one(to_date_figures(rows(), "2026-02"), "QTD")
    # 2026-Q1 = 2026-01..03, to date through February: 30 + 40
    assert qtd["label"] == "2026-Q1 to date (2 of 3 months)" and qtd["value"] == 70.0


def test_only_summed_flows_have_to_date_figures():
    ids = to_date_kpis()
    assert {"sales_revenue", "monthly_sales_bookings", "new_customers"} <= set(ids)
    assert "win_rate" not in ids and "gap_to_target" not in ids
