"""A small dataset whose KPIs for March 2026 ("m") are worked out by hand in test_kpis.py.

m = 2026-03: [2026-03-01, 2026-04-01). m-1 = 2026-02. Teams: North (R1, R2), South (R3, R4).
R2 left on 2026-02-15 (not active in m); R3 joined on 2026-03-10; R4 joined 2025-09-01.
R9 is a rep id missing from `reps`: its rows fall into the team `unassigned`.
Deals open at the end of m: O1 (R1, 2000, expected 2026-03-20: overdue), O2 (R4, 800,
expected 2026-04-15) and O5 (R4, 400, open since 2025-10-01, expected 2026-01-31: overdue).
"""

from __future__ import annotations

import pandas as pd


def _df(columns: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[c.strip() for c in columns.split(",")])


def tables() -> dict[str, pd.DataFrame]:
    return {
        "reps": _df(
            "rep_id, rep_name, team, hired_at, left_at",
            [
                ("R1", "Ana <b>", "North", "2025-01-01", None),
                ("R2", "Ben", "North", "2025-01-01", "2026-02-15"),
                ("R3", "Cy", "South", "2026-03-10", None),
                ("R4", "Di", "South", "2025-09-01", None),
            ],
        ),
        "accounts": _df(
            "account_id, account_name, owner_rep_id, segment",
            [
                ("A1", "Acme & Co", "R1", "SMB"),
                ("A2", "Bolt", "R2", "SMB"),
                ("A3", "Core", "R3", "Enterprise"),
                ("A4", "Dyn", "R4", "Enterprise"),
                ("A5", "Echo", "R4", "SMB"),
                ("A6", "Flux", "R1", "SMB"),
            ],
        ),
        "orders": _df(
            "order_id, ordered_at, account_id, revenue, quantity, cost, product, rep_id",
            [
                ("Y0", "2025-03-10 09:00", "A1", 100.0, 1, 40.0, "R", "R1"),
                ("Y1", "2025-12-05 09:00", "A1", 200.0, 2, 80.0, "Q", "R1"),
                ("Y2", "2026-01-07 09:00", "A2", 300.0, 3, 100.0, "R", "R2"),
                ("Y3", "2026-02-11 09:00", "A1", 400.0, 4, 150.0, "P", "R1"),
                ("X1", "2026-03-03 10:00", "A1", 50.0, 2, 20.0, "P", "R1"),
                ("X1", "2026-03-03 10:00", "A1", 30.0, 1, 10.0, "Q", "R1"),
                ("X2", "2026-03-12 10:00", "A3", 120.0, 3, 60.0, "P", None),  # -> owner R3
                ("X3", "2026-03-20 10:00", "A1", -20.0, -1, -8.0, "P", "R1"),  # a return
            ],
        ),
        "opportunities": _df(
            "opportunity_id, created_at, stage, amount, closed_at, rep_id, account_id, lead_id,"
            " quoted_at, probability, product, deal_type, contact_method, associated_cost,"
            " expected_close_at",
            [
                (
                    "W1",
                    "2026-01-01 00:00",
                    "closed_won",
                    1000.0,
                    "2026-03-11 00:00",
                    "R1",
                    "A4",
                    "Ld1",
                    "2026-03-01",
                    None,
                    "P",
                    "new",
                    "call",
                    100.0,
                    "2026-03-05",
                ),
                (
                    "W2",
                    "2026-03-01 12:00",
                    "closed_won",
                    500.0,
                    "2026-03-02 00:00",
                    "R4",
                    "A5",
                    None,
                    None,
                    None,
                    "Q",
                    "upsell",
                    "email",
                    None,
                    None,
                ),
                (
                    "L1",
                    "2026-02-01 00:00",
                    "closed_lost",
                    300.0,
                    "2026-03-31 23:00",
                    "R1",
                    "A1",
                    None,
                    "2026-03-05",
                    None,
                    "P",
                    "new",
                    "call",
                    None,
                    None,
                ),
                (
                    "O1",
                    "2026-02-10 00:00",
                    "proposal",
                    2000.0,
                    None,
                    "R1",
                    "A2",
                    None,
                    None,
                    0.4,
                    "P",
                    "new",
                    "meeting",
                    None,
                    "2026-03-20",
                ),
                (
                    "O2",
                    "2026-03-15 00:00",
                    "closed_won",
                    800.0,
                    "2026-04-01 00:00",
                    "R4",
                    "A5",
                    None,
                    None,
                    None,
                    "P",
                    "cross_sell",
                    "email",
                    None,
                    "2026-04-15",
                ),
                (
                    "O3",
                    "2026-04-01 00:00",
                    "prospecting",
                    50.0,
                    None,
                    "R1",
                    "A1",
                    None,
                    None,
                    None,
                    "P",
                    "new",
                    "call",
                    None,
                    None,
                ),
                (
                    "O4",
                    "2026-01-15 00:00",
                    "closed_lost",
                    100.0,
                    "2026-02-20 00:00",
                    "R1",
                    "A2",
                    None,
                    None,
                    None,
                    "P",
                    None,
                    "call",
                    None,
                    None,
                ),
                (
                    "O5",  # open since 2025-10-01: 182 days old at the end of m
                    "2025-10-01 00:00",
                    "negotiation",
                    400.0,
                    None,
                    "R4",
                    "A4",
                    None,
                    None,
                    None,
                    "Q",
                    "upsell",
                    "call",
                    None,
                    "2026-01-31",
                ),
            ],
        ),
        "leads": _df(
            "lead_id, created_at, source, rep_id, first_response_at, engaged_at, qualified_at,"
            " converted_at",
            [
                (
                    "Ld1",
                    "2026-03-02 10:00",
                    "web",
                    "R1",
                    "2026-03-02 11:30",
                    "2026-03-03",
                    "2026-03-05",
                    "2026-03-06",
                ),
                ("Ld2", "2026-03-10 08:00", "web", "R1", "2026-03-10 12:00", None, None, None),
                ("Ld3", "2026-03-20 09:00", "event", "R3", None, None, None, None),
                ("Ld4", "2026-03-31 23:00", "web", "R4", "2026-04-01 01:00", None, None, None),
                (
                    "Ld5",
                    "2026-02-25 09:00",
                    "referral",
                    "R1",
                    "2026-02-25 10:00",
                    "2026-02-26",
                    "2026-03-01",
                    None,
                ),
            ],
        ),
        "activities": _df(
            "activity_id, occurred_at, type, rep_id, outcome, account_id",
            [
                ("C1", "2026-03-02", "call", "R1", "successful", "A1"),
                ("C2", "2026-03-03", "call", "R1", "no_answer", None),
                ("C3", "2026-03-04", "call", "R4", "successful", "A5"),
                ("E1", "2026-03-05", "email", "R1", None, "A2"),
                ("M1", "2026-03-06", "meeting", "R3", None, "A3"),
                ("C4", "2026-04-01", "call", "R1", "successful", "A1"),  # next month
                ("V1", "2026-03-07", "Visit", "R1", None, "A1"),  # counted as other
                ("C5", "2026-03-08", "call", "R9", None, None),  # unknown rep
            ],
        ),
        "subscriptions": _df(
            "subscription_id, account_id, started_at, ended_at, mrr",
            [
                ("S1", "A2", "2025-12-01", None, 100.0),
                ("S2", "A6", "2025-06-01", "2026-03-15", 50.0),
                ("S3", "A1", "2026-01-01", "2026-03-01", 80.0),  # ends on the 1st of m
                ("S4", "A1", "2026-03-01", None, 120.0),  # the price change: a new row
                ("S5", "A2", "2026-02-01", "2026-03-20", 30.0),
                ("S6", "A3", "2026-03-05", None, 60.0),
                ("S7", "A4", "2025-05-01", "2025-08-01", 10.0),
                ("S8", "A4", "2026-03-20", None, 70.0),
            ],
        ),
        "nps_responses": _df(
            "response_id, responded_at, score, account_id",
            [
                ("N1", "2026-03-02", 10, "A1"),
                ("N2", "2026-03-03", 9, "A2"),
                ("N3", "2026-03-04", 9, "A3"),
                ("N4", "2026-03-05", 7, "A4"),
                ("N5", "2026-03-06", 3, "A5"),
                ("N6", "2026-02-06", 0, "A5"),
            ],
        ),
        "costs": _df(
            "month, category, amount, channel, team",
            [
                ("2026-03", "marketing", 100.0, "ads", "North"),
                ("2026-03", "sales", 200.0, "field", "North"),
                ("2026-03", "marketing", 50.0, "ads", "South"),
                ("2026-03", "marketing", 90.0, "brand", None),  # shared by new leads
            ],
        ),
        "targets": _df(
            "month, kpi, target, team, rep_id",
            [
                ("2026-03", "monthly_sales_bookings", 2000.0, None, None),
                ("2026-03", "monthly_sales_bookings", 1000.0, "North", None),
                ("2026-03", "monthly_sales_bookings", 1000.0, "North", "R1"),
                ("2026-03", "sales_revenue", 200.0, None, None),
                ("2026-03", "churn_rate", 40.0, None, None),
            ],
        ),
        "financials": _df(
            "month, net_income, nopat, invested_capital, cost_of_capital,"
            " average_inventory_cost, employees",
            [
                ("2026-03", 18.0, 24.0, 1200.0, 0.12, 49.0, 9.0),
            ],
        ),
    }
