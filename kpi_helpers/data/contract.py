"""The data contract: canonical tables, their columns and types (DATA_CONTRACT.md).

Everything downstream reads these definitions: the sources cast columns to the
types declared here, validation checks rows against them, the sample-data
generator writes them, and a missing table is reported through ``FAMILY_TABLES``
as the KPI families it disables.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds. "month" is a "YYYY-MM" string; "timestamp" and "date" are both
# stored as timestamps (a date is midnight), so one comparison rule serves both.
STR, TIMESTAMP, DATE, FLOAT, INT, MONTH = "str", "timestamp", "date", "float", "int", "month"

# Timestamp text that carries its zone: a time followed by Z, UTC or an offset
# (2026-03-31T23:30:00.000+0000, 2026-04-01 01:00:00+02:00, 2026-04-01T02:00:00Z). Such a
# value is an instant, converted to the dataset's timezone; text without one is taken as
# already in it. A plain date (2026-04-01) never matches: its -01 is the day.
ZONED_TEXT = (
    r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)? *"  # a time: 23:30, 23:30:00.000
    r"(?:[zZ]|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)$"  # its zone: Z, UTC, +02, +0200, -05:00
)

CLOSED_STAGES = ("closed_won", "closed_lost")
DEAL_TYPES = ("new", "upsell", "cross_sell", "renewal")
ACTIVITY_TYPES = ("call", "email", "meeting")
COST_CATEGORIES = ("marketing", "sales")
UNASSIGNED_TEAM = "unassigned"
# every column that records a past event, per table (DATA_CONTRACT.md, "Data through"):
# never a planned date (expected_close_at), targets or costs. The data covers the months
# from their first value through the latest one not after today (``coverage``).
PAST_EVENTS = {
    "opportunities": ("created_at", "closed_at"),
    "leads": ("created_at",),
    "activities": ("occurred_at",),
    "orders": ("ordered_at",),
    "subscriptions": ("started_at", "ended_at"),
    "nps_responses": ("responded_at",),
}
# the first events a KPI's data starts with (DATA_CONTRACT.md, "Where a KPI's data
# starts"): name -> (table, column, words); a closed deal has a closed stage
FIRST_EVENTS = {
    "deal": ("opportunities", "created_at", "the first deal"),
    "closed_deal": ("opportunities", "closed_at", "the first closed deal"),
    "order_line": ("orders", "ordered_at", "the first order line"),
    "lead": ("leads", "created_at", "the first lead"),
    "activity": ("activities", "occurred_at", "the first activity"),
    "subscription": ("subscriptions", "started_at", "the first subscription"),
    "nps_answer": ("nps_responses", "responded_at", "the first NPS answer"),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    id_column: str | None = None  # unique per row, when the table has one

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _t(name: str, id_column: str | None, spec: str) -> Table:
    """Build a table from ``"col:kind*, col:kind"`` (``*`` = required)."""
    cols = []
    for part in spec.split(","):
        col, kind = part.strip().split(":")
        required = kind.endswith("*")
        cols.append(Column(col, kind.rstrip("*"), required))
    return Table(name, tuple(cols), id_column)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "reps",
            "rep_id",
            "rep_id:str*, rep_name:str, team:str*, region:str, hired_at:date, left_at:date",
        ),
        _t(
            "accounts",
            "account_id",
            "account_id:str*, account_name:str, owner_rep_id:str, segment:str, industry:str,"
            " region:str, created_at:timestamp",
        ),
        _t(
            "leads",
            "lead_id",
            "lead_id:str*, created_at:timestamp*, source:str, rep_id:str,"
            " first_response_at:timestamp, engaged_at:timestamp, qualified_at:timestamp,"
            " converted_at:timestamp, account_id:str",
        ),
        _t(
            "opportunities",
            "opportunity_id",
            "opportunity_id:str*, created_at:timestamp*, stage:str*, amount:float*,"
            " closed_at:timestamp, rep_id:str, account_id:str, lead_id:str,"
            " quoted_at:timestamp, expected_close_at:date, probability:float, product:str,"
            " deal_type:str, contact_method:str, associated_cost:float",
        ),
        _t(
            "activities",
            "activity_id",
            "activity_id:str*, occurred_at:timestamp*, type:str*, rep_id:str, outcome:str,"
            " lead_id:str, opportunity_id:str, account_id:str",
        ),
        _t(
            "orders",
            None,  # several lines share an order_id
            "order_id:str*, ordered_at:timestamp*, account_id:str*, revenue:float*,"
            " quantity:float, cost:float, product:str, rep_id:str, campaign:str",
        ),
        _t(
            "subscriptions",
            "subscription_id",
            "subscription_id:str*, account_id:str*, started_at:date*, ended_at:date,"
            " mrr:float*, product:str",
        ),
        _t(
            "costs",
            None,
            "month:month*, category:str*, amount:float*, channel:str, team:str",
        ),
        _t(
            "targets",
            None,
            "month:month*, kpi:str*, target:float*, team:str, rep_id:str",
        ),
        _t(
            "nps_responses",
            "response_id",
            "response_id:str*, responded_at:timestamp*, score:int*, account_id:str",
        ),
        _t(
            "financials",
            "month",
            "month:month*, net_income:float, nopat:float, invested_capital:float,"
            " cost_of_capital:float, average_inventory_cost:float, employees:float",
        ),
        _t(
            "opportunity_stage_history",
            None,  # one row per deal and stage it entered
            "opportunity_id:str*, stage:str*, entered_at:timestamp*, amount:float,"
            " expected_close_at:date, forecast_category:str",
        ),
    )
}
# Tables the contract marks "Optional:": a dataset without them is complete (no
# missing-table warning); the KPIs that need them say so, and the others fall back.
OPTIONAL_TABLES = ("opportunity_stage_history",)
STAGE_HISTORY = "opportunity_stage_history"

# Foreign keys: (table, column) -> (parent table, parent column). targets.team and
# targets.rep_id are checked with the other rules of targets (validate, data.targets).
FOREIGN_KEYS: dict[tuple[str, str], tuple[str, str]] = {
    ("accounts", "owner_rep_id"): ("reps", "rep_id"),
    ("leads", "rep_id"): ("reps", "rep_id"),
    ("leads", "account_id"): ("accounts", "account_id"),
    ("opportunities", "rep_id"): ("reps", "rep_id"),
    ("opportunities", "account_id"): ("accounts", "account_id"),
    ("opportunities", "lead_id"): ("leads", "lead_id"),
    ("activities", "rep_id"): ("reps", "rep_id"),
    ("activities", "lead_id"): ("leads", "lead_id"),
    ("activities", "opportunity_id"): ("opportunities", "opportunity_id"),
    ("activities", "account_id"): ("accounts", "account_id"),
    ("orders", "account_id"): ("accounts", "account_id"),
    ("orders", "rep_id"): ("reps", "rep_id"),
    ("subscriptions", "account_id"): ("accounts", "account_id"),
    ("nps_responses", "account_id"): ("accounts", "account_id"),
    ("opportunity_stage_history", "opportunity_id"): ("opportunities", "opportunity_id"),
}

# Which tables each KPI family reads; a missing table disables (part of) these.
FAMILY_TABLES: dict[str, tuple[str, ...]] = {
    "revenue": ("orders", "opportunities"),
    "pipeline": ("opportunities", "leads", "targets", "opportunity_stage_history"),
    "activity": ("activities", "leads", "opportunities"),
    "customers": (
        "orders",
        "opportunities",
        "subscriptions",
        "nps_responses",
        "activities",
        "accounts",
    ),
    "profitability": ("costs", "orders", "financials", "leads", "accounts"),
    "team": ("reps", "targets", "opportunities", "financials"),
    "subscription": ("subscriptions",),
}

# Columns that must never be negative (returns make negative revenue legitimate).
NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "opportunities": ("amount", "associated_cost"),
    "opportunity_stage_history": ("amount",),
    "subscriptions": ("mrr",),
    "costs": ("amount",),
    "targets": ("target",),
    "financials": ("employees", "average_inventory_cost"),
}


def families_using(table: str) -> list[str]:
    """KPI families that read ``table``, in catalog order.

    >>> families_using("subscriptions")
    ['customers', 'subscription']
    >>> families_using("accounts")
    ['customers', 'profitability']
    """
    return [fam for fam, tables in FAMILY_TABLES.items() if table in tables]
