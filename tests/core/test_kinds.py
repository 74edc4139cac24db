"""Every KPI declares how it carries over to a quarter or a year (KPI_CATALOG.md, "Periods")."""

from kpi_helpers.catalog import REGISTRY, Kind, get


def test_every_kpi_has_a_period_kind():
    no_kind = [k.id for k in REGISTRY.values() if get(k.id).kind not in Kind.ALL]
    assert no_kind == []


def test_kinds_follow_the_catalog():
    # one KPI of each kind the spec names, and a few it settles by hand
    expected = {
        "sales_revenue": Kind.FLOW,
        "win_rate": Kind.RATIO,
        "lead_response_time": Kind.DURATION,
        "sales_cycle_length": Kind.DURATION,
        "pipeline_value": Kind.STATE,
        "monthly_recurring_revenue": Kind.STATE,
        "churn_rate": Kind.SPAN,
        "net_revenue_retention": Kind.SPAN,
        "monthly_sales_growth": Kind.GROWTH,
        "customer_lifetime_value": Kind.AS_OF,
        "revenue_forecast": Kind.AS_OF,
        "lead_to_sale_conversion_rate": Kind.RATIO,  # an alias takes its target's kind
    }
    assert {i: get(i).kind for i in expected} == expected
