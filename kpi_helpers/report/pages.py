"""What the pack's pages and its index share: page order, titles, headline KPIs, labels.

Kept apart from ``notebook`` (which draws pages) and ``pack`` (which builds them) so
both, and the snapshot, read one list. Nothing here touches data.

>>> page_title("pipeline"), month_label("2026-10")
('Pipeline and conversion', 'October 2026')
"""

from __future__ import annotations

import re

from kpi_helpers.catalog import FAMILIES
from kpi_helpers.core import KitError, Month, resource_dir

TEMPLATES = resource_dir("templates")
PACK_FAMILIES = ("summary", *FAMILIES)
# a quarter's or year's label, the name of its pack's folder: 2026-Q4, FY2027-Q1, FY2027
PERIOD_FOLDER = r"(FY)?[0-9]{4}(-Q[1-4])?"
TREND_MONTHS = 13  # every page shows the month and the 12 before it
# how many periods a page's trends show, per period kind (a QBR: the last 8 quarters)
TREND_PERIODS = {"month": TREND_MONTHS, "quarter": 8, "year": 4}
# the words of a page about its period, per period kind: "this quarter", "since last
# quarter", "up to 8 quarters" (see :func:`period_phrase`)
PERIOD_WORDS = {
    kind: dict(
        unit=kind,
        units=f"{kind}s",
        this=f"this {kind}",
        last=f"last {kind}",
        next=f"next {kind}",
        by=f"{kind} by {kind}",
        n=str(n),
        # what a card compares with: the period before and the same one a year before
        vs=f"last {kind}, last year" if kind != "year" else "last year",
    )
    for kind, n in TREND_PERIODS.items()
}
# what a card's first comparison is against, per period kind (the second is a year before)
PREVIOUS_WORDS = {kind: words["last"] for kind, words in PERIOD_WORDS.items()}
# the sentence under a section's heading, per section, in the words of PERIOD_WORDS (and
# {through}: "this month" on a monthly page, else the period's last month with data);
# the notebooks show them with ``report.intro(section)``
INTROS = {
    "lead:summary": "The {unit} in one page: the headline KPI of every family, what moved, "
    "and how trustworthy the data is.",
    "lead:revenue": "What was sold {this}, how it grew, and which products carried it.",
    "lead:outlook": "Where the {unit} is heading: forecasts with their uncertainty, the "
    "next month's pipeline, and what customers are likely to be worth.",
    "alerts": "The alert rules of kpi.toml that fired {this} for this scope.",
    "headlines": "The headline KPIs {this}, against {vs} and target.",
    "headlines:outlook": "The model KPIs for {next} and the coming year, made at the end "
    "of {through}.",
    "movers": "The KPIs that changed most since {last}, in plain words.",
    # the quarter's pacing (``report.outlook.pacing_section`` picks one)
    "pacing": "Where the quarter is heading: quarter to date plus the forecast of its "
    "remaining months, with an 80 % interval, against the quarter's target.",
    "pacing_complete": "The quarter's actual against its target: every month of the quarter "
    "is done, so nothing is forecast.",
    "why_moved": "Which segments (team, rep, product, region, lead source...) explain each "
    "headline's change since {last}; the parts add up to the change exactly. "
    "Contributions tell the arithmetic of a change, not its cause.",
    "trends": "Each headline KPI {by} (up to {n} {units}); the orange dot is {this}, the "
    "dashed line the target.",
    "trends:summary": "Revenue, bookings and recurring revenue {by} (up to {n} {units}).",
    "all_kpis": "Every KPI of the family the data gives {this}; the line under the table "
    "names the others and what they need.",
    "all_kpis:summary": "Every KPI the data gives {this}; the line under the table names "
    "the others and what they need.",
    "all_kpis:outlook": "Every KPI of the outlook the data gives {this}; the line under the "
    "table names the others and why.",
    "response_hours": "Hours from a lead's arrival to the first response, for leads "
    "created {this}.",
    "contact_methods": "Which contact method originated the deals won {this}.",
    "lead_sources": "Leads created {this} per source, and how many converted.",
    "funnel": "Leads created {this} and how far they got, step by step.",
    "pipeline_health": "Deals open at the end of the {unit}, per stage and per age band.",
    "stage_history": "How deals moved between stages: conversion from each stage to the "
    "next, days spent in each stage, and how the pipeline moved {this}. Shown when the "
    "data has a stage history (`opportunity_stage_history`).",
    "products": "Revenue, units, share and growth per product {this}.",
    "mrr_movements": "From {last}'s MRR to {this}'s, movement by movement.",
    "leaderboard": "Every rep {this}, ranked by bookings.",
    "clv": "BG/NBD and Gamma-Gamma fitted on the purchases through {through}: the expected "
    "revenue of each account over the next 12 months, discounted monthly.",
}
SCOPE_KPIS = "kpis"  # what a link names for the scope's KPI CSV (no table has this name)
PACING = "pacing"  # what a link names for the snapshot's pacing (no table has this name)

HEADLINES = {
    "revenue": ["sales_revenue", "monthly_sales_bookings", "monthly_sales_growth", "new_customers"],
    "pipeline": [
        "deals_won",  # a flow: its card has the QTD and YTD lines
        "pipeline_value",
        "win_rate",
        "pipeline_coverage",
        "sales_cycle_length",
        "stale_pipeline_share",
        "overdue_pipeline_share",
    ],
    "activity": ["calls_made", "new_leads", "lead_response_time", "account_contact_rate"],
    "customers": [
        "active_customers",
        "churn_rate",
        "net_promoter_score",
        "customer_lifetime_value",
    ],
    "profitability": ["customer_acquisition_cost", "gross_margin", "ltv_to_cac", "cost_per_lead"],
    "team": [
        "monthly_sales_bookings",
        "sales_target_attainment",
        "gap_to_target",
        "sales_per_rep",
    ],
    "subscription": [
        "monthly_recurring_revenue",
        "net_new_mrr",
        "net_revenue_retention",
        "revenue_churn_rate",
    ],
    "outlook": ["revenue_forecast", "bookings_forecast", "predictive_clv"],
    "summary": [
        "sales_revenue",
        "monthly_sales_bookings",
        "monthly_sales_growth",
        "win_rate",
        "pipeline_coverage",
        "customer_acquisition_cost",
        "churn_rate",
        "net_promoter_score",
        "monthly_recurring_revenue",
        "sales_target_attainment",
    ],
}
# Headline flags: a KPI above its limit this month is said in one flagged line under the
# cards of the pages in FLAG_PAGES (and its card turns red when it has no target)
FLAGS = {
    "stale_pipeline_share": (
        25.0,
        "of the open pipeline is stale: older than twice the median cycle of the deals won "
        "in the last 12 months (at least 30 days)",
    ),
    "overdue_pipeline_share": (
        25.0,
        "of the open pipeline is overdue: past its expected close date",
    ),
}
FLAG_PAGES = ("summary", "pipeline")
TITLES = {
    "summary": "Executive summary",
    "revenue": "Revenue and growth",
    "pipeline": "Pipeline and conversion",
    "activity": "Activity and responsiveness",
    "customers": "Retention and customer value",
    "profitability": "Cost and profitability",
    "team": "People and targets",
    "subscription": "Recurring revenue",
    "outlook": "Outlook",
}


def page_title(page: str) -> str:
    """The kit's title of a page, or a custom page's name made readable.

    >>> page_title("pipeline"), page_title("regional_bookings")
    ('Pipeline and conversion', 'Regional bookings')
    """
    return TITLES.get(page) or page.replace("_", " ").replace("-", " ").strip().capitalize()


def month_label(month: str) -> str:
    """``2026-10`` -> ``October 2026``; a quarter's or year's label stays as it is.

    >>> month_label("2026-10"), month_label("FY2027-Q1")
    ('October 2026', 'FY2027-Q1')
    """
    if re.fullmatch(PERIOD_FOLDER, str(month)):
        return str(month)
    return Month.parse(month).label


def period_label(label: str, start: str, end: str, through: str) -> str:
    """A period's name on a page: its label, and "to date (k of n months)" when its data
    ends before its last month (``start``, ``end``, ``through``: YYYY-MM).

    >>> period_label("2026-Q4", "2026-10", "2026-12", "2026-11")
    '2026-Q4 to date (2 of 3 months)'
    >>> period_label("FY2027-Q1", "2026-02", "2026-04", "2026-04")
    'FY2027-Q1'
    """
    first, last, done = (Month.parse(m) for m in (start, end, through))
    if done >= last:
        return label
    return (
        f"{label} to date ({done.index - first.index + 1} of {last.index - first.index + 1} months)"
    )


def period_phrase(text: str, period: str = "month", through: str = "") -> str:
    """``text`` in the words of a page about a ``period`` (month, quarter, year): its
    ``{this}``, ``{last}``, ``{next}``, ``{unit}``, ``{units}``, ``{by}``, ``{vs}`` and
    ``{n}`` (the trend's depth) from :data:`PERIOD_WORDS`; ``{through}`` is "this month"
    on a monthly page, else ``through`` (the period's last month with data, e.g. "June
    2026").

    >>> period_phrase("Deals won {this}, against {last}", "quarter")
    'Deals won this quarter, against last quarter'
    >>> period_phrase("{by} (up to {n} {units}); made at the end of {through}", "year", "June 2026")
    'year by year (up to 4 years); made at the end of June 2026'
    """
    if period not in PERIOD_WORDS:
        raise KitError(f"period {period!r}: use one of {', '.join(PERIOD_WORDS)}.")
    words = PERIOD_WORDS[period]
    return text.format(**words, through=words["this"] if period == "month" else through)


def intro(section: str, period: str = "month", through: str = "", family: str = "") -> str:
    """The sentence under a section's heading (:data:`INTROS`) on a ``family``'s page
    about a ``period``: the family's own (``section:family``) when it has one.

    >>> intro("trends", "quarter")[:56]
    'Each headline KPI quarter by quarter (up to 8 quarters);'
    >>> intro("all_kpis", "year", family="summary")[:34]
    'Every KPI the data gives this year'
    """
    text = INTROS.get(f"{section}:{family}", INTROS.get(section))
    if text is None:
        raise KitError(f"No section intro {section!r}; the intros are {', '.join(INTROS)}.")
    return period_phrase(text, period, through)


def change_tone(change: float, better: str) -> str:
    """The tone of a change of a KPI whose ``better`` is "up", "down" or "neutral":
    "good" when it moves the better way, "bad" the other way, "" (neutral grey) for a
    neutral KPI, no change or no value. The one rule of a change's colour (cards, to-date
    lines, the waterfall's steps).

    >>> [change_tone(c, b) for c, b in ((3.0, "up"), (-3.0, "up"), (-3.0, "down"), (3.0, "down"))]
    ['good', 'bad', 'good', 'bad']
    >>> change_tone(3.0, "neutral"), change_tone(0.0, "up"), change_tone(float("nan"), "up")
    ('', '', '')
    """
    if better not in ("up", "down") or not change or change != change:
        return ""
    return "good" if (change > 0) == (better == "up") else "bad"


TREND_TONES = {"improving": "good", "worsening": "bad"}


def trend_tone(trend: str) -> str:
    """The tone of a KPI's ``trend`` ("improving", "worsening", "flat", ""): "good",
    "bad" or "" (neutral grey), the colour of a trend arrow on cards, tables and the index.

    >>> trend_tone("improving"), trend_tone("worsening"), trend_tone("flat")
    ('good', 'bad', '')
    """
    return TREND_TONES.get(trend, "")


def alerts_of_scope(fired: list[dict], scope: str) -> tuple[list[dict], int]:
    """The alerts a scope's summary shows, and how many it only counts: the company
    shows its own and counts the teams' and reps'; a team shows its own and its reps'; a
    rep its own. The summary page and the e-mail both use this.

    >>> fired = [{"scope": "company"}, {"scope": "team:EMEA"}, {"scope": "rep:R1", "team": "EMEA"}]
    >>> [len(x) if isinstance(x, list) else x for x in alerts_of_scope(fired, "company")]
    [1, 2]
    >>> [a["scope"] for a in alerts_of_scope(fired, "team:EMEA")[0]]
    ['team:EMEA', 'rep:R1']
    """
    kind, _, name = scope.partition(":")
    own = [
        a
        for a in fired
        if a["scope"] == scope or (kind == "team" and a.get("team") and a.get("team") == name)
    ]
    return own, (len(fired) - len(own) if scope == "company" else 0)
