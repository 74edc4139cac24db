"""The KPI catalog as data (KPI_CATALOG.md), one entry per KPI.

Scalar KPIs are declared as formulas over base measures (``kpi_helpers.metrics.measures``)::

    KPI("win_rate", "Win rate", "pipeline", "won in m / (won in m + lost in m) x 100",
        PERCENT, UP, pct(m("won"), m("won") + m("lost")))

A formula divides safely: a zero denominator gives NaN, reported as *undefined*.
``shift(k)`` reads the same measure k months earlier; ``rolling_*`` read windows
ending with m. Table KPIs name a function in ``kpi_helpers.metrics.tables``; aliases point
at the KPI they equal.

>>> get("lead_to_sale_conversion_rate").id
'sales_conversion_rate'
>>> sorted(get("win_rate").measures)
['lost', 'won']
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpi_helpers.core import Config, KitError

CURRENCY, COUNT, PERCENT, DAYS, HOURS, RATIO, SCORE, TABLE = (
    "currency",
    "count",
    "percent",
    "days",
    "hours",
    "ratio",
    "score",
    "table",
)
UP, DOWN, NEUTRAL = "up", "down", "neutral"
FAMILIES = (
    "revenue",
    "pipeline",
    "activity",
    "customers",
    "profitability",
    "team",
    "subscription",
    "outlook",
)


class Kind:
    """How a KPI of month m carries over to a quarter or a year (KPI_CATALOG.md,
    "Periods"); every KPI declares one (an alias takes its target's).

    >>> get("win_rate").kind, get("pipeline_value").kind
    ('ratio', 'state')
    """

    FLOW = "flow"  # a sum or count of events in p
    RATIO = "ratio"  # numerator and denominator each over p, then divided (never a mean)
    DURATION = "duration"  # a median or mean of durations over the events in p
    STATE = "state"  # at the end of p's last month
    SPAN = "span"  # a rate between the start and the end of p (churn, retention, NRR)
    GROWTH = "growth"  # against the previous period of its kind, or the year before
    AS_OF = "as_of"  # models, 12-month windows and tables: as of the end of p's last month
    ALL = (FLOW, RATIO, DURATION, STATE, SPAN, GROWTH, AS_OF)


# the flows with a quarter's pace (KPI_CATALOG.md, "Pacing"; kpi_helpers.models.pacing)
PACED = ("sales_revenue", "monthly_sales_bookings")

LEVEL = [0, 1]  # group a measure frame by (scope_type, scope)
# the settings of the formula being computed (F.__call__ sets it, setting() reads it)
_CONFIG: ContextVar[Config | None] = ContextVar("kpi_formula_config", default=None)


class F:
    """A formula over the measure frame (index: scope_type, scope, mi; complete grid).

    ``lags`` maps each measure the formula reads to how many months before m it reads
    it at most (``shift(12)``: 12; ``rolling_sum(12)``: 11), so the engine computes no
    more history than the formula needs.
    """

    def __init__(
        self,
        fn: Callable[[pd.DataFrame], pd.Series],
        lags: dict[str, int],
        op: str = "",
        args: tuple = (),
    ):
        self.fn, self.lags = fn, dict(lags)
        # the formula's shape, read by the drivers of a change (kpi_helpers.drivers):
        # "m" (args: the measure's name), "c" (a constant), "+", "-", "*", "/" (args: the
        # two F operands); "" for anything else (shifts, windows, settings)
        self.op, self.args = op, args

    @property
    def measures(self) -> frozenset[str]:
        return frozenset(self.lags)

    def __call__(self, frame: pd.DataFrame, config: Config | None = None) -> pd.Series:
        """The values on ``frame``; ``config``: the settings :func:`setting` reads (the
        engine passes its own; None keeps the caller's, else the defaults)."""
        if config is None:
            return self.fn(frame).astype("float64")
        token = _CONFIG.set(config)
        try:
            return self.fn(frame).astype("float64")
        finally:
            _CONFIG.reset(token)

    @staticmethod
    def lift(x) -> F:
        if isinstance(x, F):
            return x
        return F(lambda f, v=float(x): pd.Series(v, index=f.index), {}, "c", (float(x),))

    def _op(self, other, op, sign: str = "") -> F:
        o = F.lift(other)
        return F(lambda f: op(self(f), o(f)), _deepest(self.lags, o.lags), sign, (self, o))

    def __add__(self, o):
        return self._op(o, lambda a, b: a + b, "+")

    def __radd__(self, o):
        return F.lift(o) + self

    def __sub__(self, o):
        return self._op(o, lambda a, b: a - b, "-")

    def __rsub__(self, o):
        return F.lift(o) - self

    def __mul__(self, o):
        return self._op(o, lambda a, b: a * b, "*")

    def __rmul__(self, o):
        return F.lift(o) * self

    def __truediv__(self, o):
        return self._op(o, lambda a, b: a / b.where(b != 0), "/")

    def __rtruediv__(self, o):
        return F.lift(o) / self

    def __pow__(self, k: float):
        return F(lambda f: self(f) ** k, self.lags)

    def shift(self, k: int) -> F:
        """The value k months earlier (NaN before the first month computed)."""
        return F(lambda f: self(f).groupby(level=LEVEL).shift(k), self._back(k))

    def rolling_sum(self, n: int) -> F:
        """Sum over the n months ending with m."""
        return F(lambda f: _rolling(self(f), n, n, "sum"), self._back(n - 1))

    def rolling_mean(self, n: int, min_defined: int = 1) -> F:
        """Mean over the n months ending with m of the defined values (NaN ignored); NaN
        when fewer than ``min_defined`` of them are defined."""
        return F(lambda f: _rolling(self(f), n, min_defined, "mean"), self._back(n - 1))

    def _back(self, k: int) -> dict[str, int]:
        return {name: lag + k for name, lag in self.lags.items()}


def _deepest(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in a.keys() | b.keys()}


def _rolling(s: pd.Series, n: int, min_periods: int, how: str) -> pd.Series:
    """A window over the n months ending with m, within each scope (the grid is complete)."""
    r = s.groupby(level=LEVEL, sort=False).rolling(n, min_periods=min_periods)
    out = r.sum() if how == "sum" else r.mean()
    return out.droplevel([0, 1]).reindex(s.index)


def m(name: str) -> F:
    """The base measure ``name``."""
    return F(lambda f: f[name], {name: 0}, "m", (name,))


def pct(numerator: F, denominator: F) -> F:
    return numerator / denominator * 100.0


def setting(name: str) -> F:
    """A number from ``kpi.toml`` (a :class:`Config` field), the same for every scope and
    month: the config the formula is called with (``formula(frame, config)``), else the
    defaults.

    >>> f, cap = pd.DataFrame({"x": [1.0]}), setting("clv_max_years")
    >>> cap(f).tolist(), cap(f, Config(clv_max_years=2)).tolist()
    ([5.0], [2.0])
    """

    def value(f: pd.DataFrame) -> pd.Series:
        cfg = _CONFIG.get() or Config()
        return pd.Series(float(getattr(cfg, name)), index=f.index)

    return F(value, {})


def capped_inverse(x: F, cap: F) -> F:
    """min(1 / x, cap), where x = 0 gives the cap (1/0 is endless) and NaN stays NaN.

    >>> f = pd.DataFrame({"x": [0.5, 0.1, 0.0, np.nan]})
    >>> capped_inverse(m("x"), F.lift(5))(f).tolist()
    [2.0, 5.0, 5.0, nan]
    """

    def value(f: pd.DataFrame) -> pd.Series:
        v = x(f)
        inverse = pd.Series(np.inf, index=v.index).where(v == 0, 1.0 / v.where(v != 0))
        return np.minimum(inverse.where(v.notna()), cap(f))

    return F(value, _deepest(x.lags, cap.lags))


@dataclass(frozen=True)
class KPI:
    id: str
    name: str
    family: str
    definition: str
    unit: str
    better: str
    formula: F | None = None
    table: str | None = None  # function name in kpi_helpers.metrics.tables
    alias_of: str | None = None
    note: str = ""  # a choice we made where the catalog is silent or ambiguous
    table_needs: tuple[str, ...] = field(default=())
    # can be negative or cross zero: changes are said in the KPI's own unit, not in %
    signed: bool = False
    # what a positive and a negative value mean, when a value reads better in words
    says: tuple[str, str] | None = None
    # (condition, reason): where the condition (a formula) is not 0, the data has the
    # KPI's columns but not the values it needs: *not available* with the reason
    no_input: tuple[F, str] | None = None
    # how the KPI carries over to a quarter or a year (one of Kind.ALL; "" for an alias)
    kind: str = ""

    @property
    def measures(self) -> frozenset[str]:
        return frozenset(self.lags)

    @property
    def lags(self) -> dict[str, int]:
        """Measure -> how many months before m the formula (and its ``no_input``
        condition) reads it at most."""
        lags = self.formula.lags if self.formula is not None else {}
        return _deepest(lags, self.no_input[0].lags) if self.no_input else lags

    @property
    def reads_earlier(self) -> bool:
        """Whether the formula reads a month before m (churn's customers at the start,
        a growth rate's month before): its value is not a function of m's measures
        alone."""
        return max(self.lags.values(), default=0) > 0

    @property
    def is_table(self) -> bool:
        return self.unit == TABLE

    @property
    def never_negative(self) -> bool:
        """No value can fall below 0: an amount, count, duration, share or ratio that
        the catalog does not mark ``signed``; growth and scores (NPS) can be negative.
        Forecasts of such a KPI and their intervals are clipped at 0.

        >>> get("new_leads").never_negative, get("net_new_mrr").never_negative
        (True, False)
        """
        units = (CURRENCY, COUNT, PERCENT, DAYS, HOURS, RATIO)
        return not self.signed and self.kind != Kind.GROWTH and self.unit in units

    @property
    def is_model(self) -> bool:
        """A value from a fitted model (``kpi_helpers.models.outlook``), not a formula over
        measures: made for the month asked for, for the company and each team."""
        return self.formula is None and self.table is None and self.alias_of is None


def none_of(part: F, whole: F) -> F:
    """1 where ``whole`` is above 0 and ``part`` is 0, else 0: e.g. deals are open, but none
    of them has an expected close date.

    A month without any ``part`` (no row gave a value: NaN) counts as 0 of them.

    >>> f = pd.DataFrame({"open": [2.0, 2.0, 0.0, 3.0], "dated": [0.0, 1.0, 0.0, None]})
    >>> none_of(m("dated"), m("open"))(f).tolist()
    [1.0, 0.0, 0.0, 1.0]
    """
    return F(
        lambda f: (whole(f).fillna(0) > 0) & (part(f).fillna(0) == 0),
        _deepest(part.lags, whole.lags),
    )


def _k(*args, **kwargs) -> KPI:
    return KPI(*args, **kwargs)


rev, orders = m("revenue"), m("orders")
won, lost = m("won"), m("lost")
won_amount = m("won_amount")
avg_deal = won_amount / won
win_rate_f = pct(won, won + lost)
cycle = m("cycle_days_sum") / won
active = m("active_customers")
active_start = active.shift(1)
churn_rate_f = pct(m("customers_lost"), active_start)
cac_f = m("costs_total") / m("new_customers")
gross_margin_f = pct(rev - m("cogs"), rev)
# CLV: 12-month gross profit per customer x lifespan (KPI_CATALOG.md); the lifespan
# needs a defined churn rate in each of the 12 months
annual_churn = 1 - (1 - churn_rate_f.rolling_mean(12, min_defined=12) / 100.0) ** 12
lifespan_years = capped_inverse(annual_churn, setting("clv_max_years"))
clv_f = m("gross_profit").rolling_sum(12) / m("customers_ordered_12m") * lifespan_years
mrr, mrr_start = m("mrr"), m("mrr").shift(1)
mv = {k: m(f"mrr_{k}") for k in ("new", "expansion", "reactivation", "contraction", "churned")}
lost_mrr = mv["contraction"] + mv["churned"]
target_bookings = m("target_monthly_sales_bookings")

CATALOG: list[KPI] = [
    # ---------------------------------------------------------------- revenue
    _k(
        "sales_revenue",
        "Sales revenue",
        "revenue",
        "sum of orders.revenue in m",
        CURRENCY,
        UP,
        rev,
        kind=Kind.FLOW,
    ),
    _k(
        "orders_count",
        "Sales volume (orders)",
        "revenue",
        "distinct order_id in m",
        COUNT,
        UP,
        orders,
        kind=Kind.FLOW,
    ),
    _k(
        "units_sold",
        "Sales volume (units)",
        "revenue",
        "sum of orders.quantity in m",
        COUNT,
        UP,
        m("units"),
        kind=Kind.FLOW,
    ),
    _k(
        "monthly_sales_growth",
        "Monthly sales growth",
        "revenue",
        "(revenue m - revenue m-1) / revenue m-1 x 100",
        PERCENT,
        UP,
        pct(rev - rev.shift(1), rev.shift(1)),
        kind=Kind.GROWTH,
    ),
    _k(
        "sales_growth_yoy",
        "Sales growth year over year",
        "revenue",
        "(revenue m - revenue m-12) / revenue m-12 x 100",
        PERCENT,
        UP,
        pct(rev - rev.shift(12), rev.shift(12)),
        kind=Kind.GROWTH,
    ),
    _k(
        "monthly_sales_bookings",
        "Monthly sales bookings",
        "revenue",
        "sum of amount - associated_cost of deals won in m",
        CURRENCY,
        UP,
        m("bookings"),
        note="associated_cost counts as 0 when empty or absent.",
        kind=Kind.FLOW,
    ),
    _k(
        "average_order_value",
        "Average order value",
        "revenue",
        "revenue in m / orders_count in m",
        CURRENCY,
        UP,
        rev / orders,
        kind=Kind.RATIO,
    ),
    _k(
        "average_purchase_value",
        "Average purchase value",
        "revenue",
        "alias of average_order_value",
        CURRENCY,
        UP,
        alias_of="average_order_value",
    ),
    _k(
        "new_customers",
        "New customers",
        "revenue",
        "accounts whose first order line with revenue > 0 or first won deal, whichever is "
        "earlier, falls in m",
        COUNT,
        UP,
        m("new_customers"),
        note="Attributed to the account's team (DATA_CONTRACT: its owner's, else the "
        "team of the rep of its latest won deal, else of its latest deal).",
        kind=Kind.FLOW,
    ),
    _k(
        "product_performance",
        "Product performance",
        "revenue",
        "per product: revenue, units, share of revenue, MoM growth, in m",
        TABLE,
        NEUTRAL,
        table="product_performance",
        table_needs=("orders.product",),
        kind=Kind.AS_OF,
    ),
    _k(
        "incremental_sales",
        "Incremental sales",
        "revenue",
        "revenue in m minus the mean revenue of m-3..m-1 (per campaign: see product tables)",
        CURRENCY,
        UP,
        rev - (rev.shift(1) + rev.shift(2) + rev.shift(3)) / 3.0,
        signed=True,
        kind=Kind.FLOW,
    ),
    # ---------------------------------------------------------------- pipeline
    _k(
        "new_opportunities",
        "New opportunities",
        "pipeline",
        "deals created in m",
        COUNT,
        UP,
        m("new_opportunities"),
        kind=Kind.FLOW,
    ),
    _k(
        "deals_won",
        "Deals closed (won)",
        "pipeline",
        "deals won in m",
        COUNT,
        UP,
        won,
        kind=Kind.FLOW,
    ),
    _k(
        "pipeline_value",
        "Pipeline value",
        "pipeline",
        "sum of amount of deals open at the end of m",
        CURRENCY,
        UP,
        m("pipeline_value"),
        kind=Kind.STATE,
    ),
    _k(
        "pipeline_health",
        "Sales pipeline health",
        "pipeline",
        "per open stage at the end of m: number of deals, value, median age in days",
        TABLE,
        NEUTRAL,
        table="pipeline_health",
        table_needs=("opportunities.closed_at",),
        kind=Kind.AS_OF,
    ),
    _k(
        "stage_conversion",
        "Stage conversion",
        "pipeline",
        "per open stage, over the deals that entered it in the 12 months ending with m: the "
        "share that reached the next stage (entered a later stage, or were won) and the "
        "share won, by the end of m",
        TABLE,
        NEUTRAL,
        table="stage_conversion",
        table_needs=("opportunity_stage_history.entered_at",),
        note="Needs the stage history (opportunity_stage_history); the stage order is "
        "kpi.toml's [stage_probability].",
        kind=Kind.AS_OF,
    ),
    _k(
        "days_in_stage",
        "Days in stage",
        "pipeline",
        "per open stage, for the deals that left it in m (entered another stage or closed): "
        "the median and the 90th percentile of the days spent in it",
        TABLE,
        NEUTRAL,
        table="days_in_stage",
        table_needs=("opportunity_stage_history.entered_at",),
        kind=Kind.AS_OF,
    ),
    _k(
        "pipeline_movement",
        "Pipeline movement",
        "pipeline",
        "a waterfall of pipeline value from the start to the end of m, by stage: new deals, "
        "moved in and out of each stage, won, lost, amount changes; slipped (expected close "
        "moved past m) beside it; the parts add up to the change exactly",
        TABLE,
        NEUTRAL,
        table="pipeline_movement",
        table_needs=("opportunity_stage_history.entered_at",),
        note="A deal's value and stage at an instant come from the stage history when it "
        "records them, else from the deal.",
        kind=Kind.AS_OF,
    ),
    _k(
        "sales_opportunities",
        "Sales opportunities (weighted pipeline)",
        "pipeline",
        "sum of amount x probability of deals open at the end of m",
        CURRENCY,
        UP,
        m("weighted_pipeline"),
        note="An empty probability takes the stage's default from kpi.toml "
        "(prospecting 0.1, qualification 0.2, proposal 0.5, negotiation 0.7, other 0.3).",
        kind=Kind.STATE,
    ),
    _k(
        "pipeline_coverage",
        "Sales pipeline coverage",
        "pipeline",
        "pipeline value open at the start of m / target for monthly_sales_bookings in m",
        RATIO,
        UP,
        m("pipeline_value").shift(1) / target_bookings,
        note="Undefined when the scope has no monthly_sales_bookings target for m.",
        kind=Kind.STATE,
    ),
    _k(
        "win_rate",
        "Win rate",
        "pipeline",
        "won in m / (won in m + lost in m) x 100",
        PERCENT,
        UP,
        win_rate_f,
        kind=Kind.RATIO,
    ),
    _k(
        "quote_to_close",
        "Quote-to-close ratio",
        "pipeline",
        "among deals closed in m with a quoted_at: won / all x 100",
        PERCENT,
        UP,
        pct(m("quoted_won"), m("quoted_closed")),
        kind=Kind.RATIO,
    ),
    _k(
        "sales_conversion_rate",
        "Sales (lead-to-sale) conversion rate",
        "pipeline",
        "deals won in m / leads created in m x 100 (a period ratio; it can exceed 100)",
        PERCENT,
        UP,
        pct(won, m("leads_created")),
        kind=Kind.RATIO,
    ),
    _k(
        "lead_to_sale_conversion_rate",
        "Lead-to-sale conversion rate",
        "pipeline",
        "alias of sales_conversion_rate",
        PERCENT,
        UP,
        alias_of="sales_conversion_rate",
    ),
    _k(
        "client_acquisition_rate",
        "Client acquisition rate",
        "pipeline",
        "new_customers in m / leads created in m x 100",
        PERCENT,
        UP,
        pct(m("new_customers"), m("leads_created")),
        kind=Kind.RATIO,
    ),
    _k(
        "average_deal_size",
        "Average deal size",
        "pipeline",
        "sum of amount of deals won in m / number won in m",
        CURRENCY,
        UP,
        avg_deal,
        kind=Kind.RATIO,
    ),
    _k(
        "average_new_deal_size",
        "Average new deal size",
        "pipeline",
        "the same over won deals with deal_type new",
        CURRENCY,
        UP,
        m("won_new_amount") / m("won_new"),
        note="An empty deal_type counts as new.",
        kind=Kind.RATIO,
    ),
    _k(
        "sales_cycle_length",
        "Sales cycle length",
        "pipeline",
        "mean of (closed_at - created_at) in days over deals won in m",
        DAYS,
        DOWN,
        cycle,
        kind=Kind.DURATION,
    ),
    _k(
        "sales_velocity",
        "Sales velocity",
        "pipeline",
        "deals open at the start of m x average_deal_size x win_rate / 100 / "
        "sales_cycle_length, each of m (expected value closed per day)",
        CURRENCY,
        UP,
        m("open_deals").shift(1) * avg_deal * win_rate_f / 100.0 / cycle,
        kind=Kind.RATIO,
    ),
    _k(
        "stale_pipeline_share",
        "Stale pipeline",
        "pipeline",
        "value of deals open at the end of m whose age (end of m - created_at) exceeds twice "
        "the median cycle length of the deals won in the 12 months ending with m (at least 30 "
        "days) / pipeline_value x 100",
        PERCENT,
        DOWN,
        pct(m("stale_value"), m("pipeline_value")),
        note="Each scope goes by the cycle of its own won deals; 30 days when it won none "
        "in those 12 months.",
        kind=Kind.STATE,
    ),
    _k(
        "overdue_pipeline_share",
        "Overdue pipeline",
        "pipeline",
        "value of deals open at the end of m whose expected_close_at is before the end of m / "
        "pipeline_value x 100; not available when no open deal has an expected close date",
        PERCENT,
        DOWN,
        pct(m("overdue_value"), m("pipeline_value")),
        no_input=(
            none_of(m("open_dated"), m("open_deals")),
            "no deal open at the end of the month has an expected close date (`expected_close_at`)",
        ),
        kind=Kind.STATE,
    ),
    _k(
        "sales_qualified_leads",
        "Sales-qualified leads",
        "pipeline",
        "leads with qualified_at in m",
        COUNT,
        UP,
        m("sqls"),
        kind=Kind.FLOW,
    ),
    _k(
        "funnel",
        "Sales funnel",
        "pipeline",
        "for leads created in m: created, contacted, engaged, qualified, converted, won, with "
        "the step-to-step conversion",
        TABLE,
        NEUTRAL,
        table="funnel",
        table_needs=("leads",),
        kind=Kind.AS_OF,
    ),
    _k(
        "pipeline_by_age",
        "Pipeline by age",
        "pipeline",
        "deals open at the end of m by age band (< 30, 30-59, 60-89, 90-179, 180+ days since "
        "created_at): number of deals and value",
        TABLE,
        NEUTRAL,
        table="pipeline_by_age",
        table_needs=("opportunities.closed_at",),
        kind=Kind.AS_OF,
    ),
    # ---------------------------------------------------------------- activity
    _k(
        "calls_made",
        "Calls made",
        "activity",
        "activities of type call in m",
        COUNT,
        UP,
        m("calls"),
        kind=Kind.FLOW,
    ),
    _k(
        "emails_sent",
        "Emails sent",
        "activity",
        "activities of type email in m",
        COUNT,
        UP,
        m("emails"),
        kind=Kind.FLOW,
    ),
    _k(
        "meetings_held",
        "Meetings held",
        "activity",
        "activities of type meeting in m",
        COUNT,
        UP,
        m("meetings"),
        kind=Kind.FLOW,
    ),
    _k(
        "new_leads",
        "Lead delivery (new leads)",
        "activity",
        "leads created in m",
        COUNT,
        UP,
        m("leads_created"),
        kind=Kind.FLOW,
    ),
    _k(
        "lead_response_time",
        "Lead (first) response time",
        "activity",
        "median hours from created_at to first_response_at over leads created in m that were "
        "contacted",
        HOURS,
        DOWN,
        m("response_hours_median"),
        kind=Kind.DURATION,
    ),
    _k(
        "response_hours",
        "Lead response times",
        "activity",
        "per lead created in m that was contacted: hours from created_at to first_response_at "
        "(the distribution behind lead_response_time)",
        TABLE,
        NEUTRAL,
        table="response_hours",
        table_needs=("leads.first_response_at",),
        kind=Kind.AS_OF,
    ),
    _k(
        "leads_by_source",
        "Leads by source",
        "activity",
        "per lead source, for leads created in m: leads, converted (converted_at set), and "
        "converted / leads x 100",
        TABLE,
        NEUTRAL,
        table="leads_by_source",
        table_needs=("leads.source",),
        kind=Kind.AS_OF,
    ),
    _k(
        "account_contact_rate",
        "Account contact rate",
        "activity",
        "leads created in m with a first_response_at / leads created in m x 100",
        PERCENT,
        UP,
        pct(m("leads_contacted"), m("leads_created")),
        kind=Kind.RATIO,
    ),
    _k(
        "account_engagement_rate",
        "Account engagement rate",
        "activity",
        "leads created in m with engaged_at / those with first_response_at x 100",
        PERCENT,
        UP,
        pct(m("leads_engaged"), m("leads_contacted")),
        note="The numerator counts engaged leads that were also contacted.",
        kind=Kind.RATIO,
    ),
    _k(
        "sales_by_contact_method",
        "Sales by contact method",
        "activity",
        "per contact_method: won amount in m / all won amount in m x 100",
        TABLE,
        NEUTRAL,
        table="sales_by_contact_method",
        table_needs=("opportunities.contact_method", "opportunities.closed_at"),
        kind=Kind.AS_OF,
    ),
    _k(
        "revenue_per_successful_call",
        "Revenue per successful call",
        "activity",
        "won amount in m / calls with outcome successful in m",
        CURRENCY,
        UP,
        won_amount / m("successful_calls"),
        kind=Kind.RATIO,
    ),
    # ---------------------------------------------------------------- customers
    _k(
        "active_customers",
        "Active customers",
        "customers",
        "active customers at the end of m",
        COUNT,
        UP,
        active,
        note="Active: an account that has subscribed (a subscription started before the end "
        "of m) while a subscription runs at the end of m; any other account with an order "
        "line with revenue > 0 or a won deal in the lookback (customer_lookback_days, default "
        "365) before the end of m. Attributed to the account's team (its owner's, else that "
        "of the rep of its latest won deal, else of its latest deal).",
        kind=Kind.STATE,
    ),
    _k(
        "retention_rate",
        "Retention rate",
        "customers",
        "(customers at end of m - new customers in m) / customers at start of m x 100",
        PERCENT,
        UP,
        pct(active - m("new_customers"), active_start),
        kind=Kind.SPAN,
    ),
    _k(
        "churn_rate",
        "Churn rate",
        "customers",
        "customers active at the start of m and not at its end / customers at start of m x 100",
        PERCENT,
        DOWN,
        churn_rate_f,
        kind=Kind.SPAN,
    ),
    _k(
        "customer_loss",
        "Customer loss",
        "customers",
        "number of customers active at the start of m and not at its end",
        COUNT,
        DOWN,
        m("customers_lost"),
        kind=Kind.SPAN,
    ),
    _k(
        "customer_lifetime_value",
        "Customer lifetime value (CLV)",
        "customers",
        "average 12-month gross profit per customer x customer lifespan, over the 12 months "
        "ending with m: 12-month gross profit per customer = (revenue - cost) / customers with "
        "revenue > 0 in those months (revenue alone when the dataset has no orders.cost); "
        "lifespan (years) = min(1 / annual churn, clv_max_years from kpi.toml, default 5), "
        "annual churn = 1 - (1 - mean monthly churn_rate/100)^12; undefined until the 12 "
        "months hold 12 defined churn rates",
        CURRENCY,
        UP,
        clv_f,
        note="Customers with revenue: accounts with an order line with revenue > 0 in the 12 "
        "months; an empty cost counts as 0. No churn in the 12 months gives the "
        "clv_max_years lifespan.",
        kind=Kind.AS_OF,
    ),
    _k(
        "net_promoter_score",
        "Net Promoter Score",
        "customers",
        "% responses in m scoring 9-10 minus % scoring 0-6",
        SCORE,
        UP,
        pct(m("nps_promoters") - m("nps_detractors"), m("nps_responses")),
        kind=Kind.RATIO,
    ),
    _k(
        "customer_satisfaction",
        "Customer satisfaction",
        "customers",
        "alias of net_promoter_score",
        SCORE,
        UP,
        alias_of="net_promoter_score",
    ),
    _k(
        "upsell_rate",
        "Upsell rate",
        "customers",
        "accounts with a won upsell deal in m / active customers at the start of m x 100",
        PERCENT,
        UP,
        pct(m("upsell_accounts"), active_start),
        kind=Kind.RATIO,
    ),
    _k(
        "cross_sell_rate",
        "Cross-sell rate",
        "customers",
        "accounts with a won cross_sell deal in m / active customers at the start of m x 100",
        PERCENT,
        UP,
        pct(m("cross_sell_accounts"), active_start),
        kind=Kind.RATIO,
    ),
    _k(
        "expansion_revenue",
        "Expansion revenue",
        "customers",
        "won amount of upsell and cross_sell deals in m",
        CURRENCY,
        UP,
        m("expansion_amount"),
        kind=Kind.FLOW,
    ),
    _k(
        "average_revenue_per_account",
        "Average revenue per account (ARPA)",
        "customers",
        "revenue in m / accounts with an order line with revenue > 0 in m",
        CURRENCY,
        UP,
        rev / m("revenue_accounts"),
        kind=Kind.RATIO,
    ),
    _k(
        "customer_engagement_score",
        "Customer engagement",
        "customers",
        "activities in m linked (by account_id) to an active customer / active customers at "
        "the end of m",
        RATIO,
        UP,
        m("customer_activities") / active,
        note="Activities count for their rep's team, customers for their account's team.",
        kind=Kind.RATIO,
    ),
    _k(
        "cohort_retention",
        "Cohort retention",
        "customers",
        "for each of the 12 monthly cohorts ending with m (accounts whose first purchase fell "
        "in that month), the share still active k = 0..11 months later, where active in a "
        "month means an order line with revenue > 0 in that month or a subscription running "
        "at its end",
        TABLE,
        UP,
        table="cohort_retention",
        table_needs=("orders|opportunities.account_id,closed_at", "orders|subscriptions"),
        note="First purchase: the first order line with revenue > 0 or first won deal, so a "
        "cohort is the new customers of its month (by account team) and k0 can be below "
        "100 % when a won deal's first order comes later. Columns cohort, customers, k0..k11 "
        "(%); months after m are empty.",
        kind=Kind.AS_OF,
    ),
    _k(
        "product_penetration_rate",
        "Product penetration rate",
        "customers",
        "per product: active customers that bought it in the 12 months ending with m / active "
        "customers x 100",
        TABLE,
        NEUTRAL,
        table="product_penetration_rate",
        table_needs=("orders.product",),
        kind=Kind.AS_OF,
    ),
    _k(
        "product_affinity",
        "Winning combinations",
        "customers",
        "product pairs bought by the same account in the 12 months ending with m, with support "
        "and lift",
        TABLE,
        NEUTRAL,
        table="product_affinity",
        table_needs=("orders.product",),
        kind=Kind.AS_OF,
    ),
    # ---------------------------------------------------------------- profitability
    _k(
        "customer_acquisition_cost",
        "Customer acquisition cost (CAC)",
        "profitability",
        "costs (marketing + sales) in m / new_customers in m",
        CURRENCY,
        DOWN,
        cac_f,
        note="Costs with an empty team are shared by the teams in proportion to their new "
        "leads in m. Not available per rep.",
        kind=Kind.RATIO,
    ),
    _k(
        "cost_per_lead",
        "Cost per lead",
        "profitability",
        "marketing costs in m / leads created in m",
        CURRENCY,
        DOWN,
        m("costs_marketing") / m("leads_created"),
        kind=Kind.RATIO,
    ),
    _k(
        "cost_per_conversion",
        "Cost per conversion",
        "profitability",
        "marketing costs in m / new_customers in m",
        CURRENCY,
        DOWN,
        m("costs_marketing") / m("new_customers"),
        kind=Kind.RATIO,
    ),
    _k(
        "cost_of_goods_sold",
        "Cost of goods sold (COGS)",
        "profitability",
        "sum of orders.cost in m",
        CURRENCY,
        NEUTRAL,
        m("cogs"),
        kind=Kind.FLOW,
    ),
    _k(
        "gross_margin",
        "Gross margin",
        "profitability",
        "(revenue - COGS) / revenue x 100 in m",
        PERCENT,
        UP,
        gross_margin_f,
        kind=Kind.RATIO,
    ),
    _k(
        "average_profit_margin",
        "Average profit margin",
        "profitability",
        "financials.net_income / revenue x 100 in m",
        PERCENT,
        UP,
        pct(m("fin_net_income"), rev),
        note="Company scope only: financials are company-wide.",
        kind=Kind.RATIO,
    ),
    _k(
        "gmroi",
        "Gross margin return on investment",
        "profitability",
        "(revenue - COGS) / average_inventory_cost x 100 in m",
        PERCENT,
        UP,
        pct(rev - m("cogs"), m("fin_average_inventory_cost")),
        note="Company scope only.",
        kind=Kind.RATIO,
    ),
    _k(
        "economic_value_added",
        "Economic value added (EVA)",
        "profitability",
        "nopat - invested_capital x cost_of_capital / 12, in m",
        CURRENCY,
        UP,
        m("fin_nopat") - m("fin_invested_capital") * m("fin_cost_of_capital") / 12.0,
        note="Company scope only.",
        signed=True,
        kind=Kind.FLOW,
    ),
    _k(
        "customer_profitability",
        "Customer profitability",
        "profitability",
        "per account and per segment: revenue - COGS over the 12 months ending with m",
        TABLE,
        NEUTRAL,
        table="customer_profitability",
        table_needs=("orders.cost",),
        kind=Kind.AS_OF,
    ),
    _k(
        "ltv_to_cac",
        "LTV to CAC",
        "profitability",
        "customer_lifetime_value / customer_acquisition_cost",
        RATIO,
        UP,
        clv_f / cac_f,
        kind=Kind.RATIO,
    ),
    _k(
        "cac_payback_months",
        "CAC payback",
        "profitability",
        "customer_acquisition_cost / (revenue in m from new customers of m / new_customers in m "
        "x gross_margin/100)",
        RATIO,
        DOWN,
        cac_f / (m("new_customer_revenue") / m("new_customers") * gross_margin_f / 100.0),
        kind=Kind.RATIO,
    ),
    # ---------------------------------------------------------------- team
    _k(
        "sales_target_attainment",
        "Sales target attainment",
        "team",
        "monthly_sales_bookings / its target x 100 in m (every KPI with a target also has an "
        "attainment column)",
        PERCENT,
        UP,
        pct(m("bookings"), target_bookings),
        kind=Kind.RATIO,
    ),
    _k(
        "gap_to_target",
        "Gap to target",
        "team",
        "target - actual for monthly_sales_bookings in m (positive = still to close)",
        CURRENCY,
        DOWN,
        target_bookings - m("bookings"),
        signed=True,
        says=("behind target", "ahead of target"),
        kind=Kind.FLOW,
    ),
    _k(
        "sales_per_rep",
        "Sales per rep",
        "team",
        "monthly_sales_bookings in m / the selling reps of m",
        CURRENCY,
        UP,
        m("bookings") / m("selling_reps"),
        note="A selling rep owns a deal created or closed, or an order line, in m or the two "
        "months before and has not left before m (managers who own no deal do not count); "
        "a rep id missing from reps counts too.",
        kind=Kind.RATIO,
    ),
    _k(
        "average_sales_per_employee",
        "Average sales per employee",
        "team",
        "revenue in m / financials.employees",
        CURRENCY,
        UP,
        rev / m("fin_employees"),
        note="Company scope only.",
        kind=Kind.RATIO,
    ),
    _k(
        "rep_leaderboard",
        "Rep leaderboard",
        "team",
        "per rep: bookings, deals won, win rate, average deal size, cycle length, activities, "
        "new leads, attainment",
        TABLE,
        NEUTRAL,
        table="rep_leaderboard",
        table_needs=("opportunities.closed_at",),
        kind=Kind.AS_OF,
    ),
    # ---------------------------------------------------------------- subscription
    _k(
        "monthly_recurring_revenue",
        "Monthly recurring revenue (MRR)",
        "subscription",
        "sum of mrr of subscriptions running at the end of m",
        CURRENCY,
        UP,
        mrr,
        kind=Kind.STATE,
    ),
    _k(
        "annual_recurring_revenue",
        "ARR",
        "subscription",
        "MRR x 12",
        CURRENCY,
        UP,
        mrr * 12.0,
        kind=Kind.STATE,
    ),
    _k(
        "net_new_mrr",
        "Net new MRR",
        "subscription",
        "new + expansion + reactivation - contraction - churned, in m",
        CURRENCY,
        UP,
        mv["new"] + mv["expansion"] + mv["reactivation"] - lost_mrr,
        signed=True,
        kind=Kind.SPAN,
    ),
    _k(
        "mrr_movements",
        "MRR movements",
        "subscription",
        "per account, MRR at end of m vs end of m-1: new (0 before, never before), expansion, "
        "contraction, churned (to 0), reactivation (0 before, had MRR earlier)",
        TABLE,
        NEUTRAL,
        table="mrr_movements",
        table_needs=("subscriptions",),
        note="'Had MRR earlier' means a subscription started before the start of m.",
        kind=Kind.AS_OF,
    ),
    _k(
        "net_revenue_retention",
        "Net revenue retention",
        "subscription",
        "(MRR start + expansion - contraction - churned) / MRR start x 100",
        PERCENT,
        UP,
        pct(mrr_start + mv["expansion"] - lost_mrr, mrr_start),
        kind=Kind.SPAN,
    ),
    _k(
        "gross_revenue_retention",
        "Gross revenue retention",
        "subscription",
        "(MRR start - contraction - churned) / MRR start x 100",
        PERCENT,
        UP,
        pct(mrr_start - lost_mrr, mrr_start),
        kind=Kind.SPAN,
    ),
    _k(
        "revenue_churn_rate",
        "Revenue churn rate",
        "subscription",
        "(contraction + churned) / MRR start x 100",
        PERCENT,
        DOWN,
        pct(lost_mrr, mrr_start),
        kind=Kind.SPAN,
    ),
    _k(
        "saas_quick_ratio",
        "Quick ratio",
        "subscription",
        "(new + expansion + reactivation) / (contraction + churned)",
        RATIO,
        UP,
        (mv["new"] + mv["expansion"] + mv["reactivation"]) / lost_mrr,
        kind=Kind.SPAN,
    ),
    # ---------------------------------------------------------------- outlook (models)
    _k(
        "revenue_forecast",
        "Revenue forecast",
        "outlook",
        "sales_revenue forecast for m+1 from exponential smoothing (ETS: additive or damped "
        "trend, additive or multiplicative season, chosen by AICc; no season with fewer than "
        "24 months; seasonal naive or naive when no model fits) on the monthly series ending "
        "with m; the next 3 months with 80 % intervals are the table `forecasts`",
        CURRENCY,
        UP,
        table_needs=("orders",),
        note="Made for the month asked for, for the company and each team.",
        kind=Kind.AS_OF,
    ),
    _k(
        "bookings_forecast",
        "Pipeline-weighted forecast",
        "outlook",
        "amount of deals open at the end of m with expected close in m+1, each weighted by "
        "the historical win rate of its stage (of the deals that were open in that stage at a "
        "month end in the 12 months before m and have closed since, the share won); the "
        "CRM-probability-weighted figure and the target beside it in the table "
        "`pipeline_outlook`",
        CURRENCY,
        UP,
        table_needs=("opportunities.expected_close_at",),
        note="Per stage with the table opportunity_stage_history; without it, the data keeps "
        "only a deal's current stage and the win rate is pooled over stages.",
        kind=Kind.AS_OF,
    ),
    _k(
        "predictive_clv",
        "Predictive CLV",
        "outlook",
        "BG/NBD (purchases) with Gamma-Gamma (spend) fitted on the orders through the end of "
        "m; the mean expected 12-month revenue of accounts with P(alive) >= 0.5, discounted "
        "monthly at clv_discount_rate; per account in the table `clv_accounts`",
        CURRENCY,
        UP,
        table_needs=("orders.account_id",),
        note="Made for the month asked for, for the company and each team.",
        kind=Kind.AS_OF,
    ),
    _k(
        "forecasts",
        "Forecasts",
        "outlook",
        "for sales_revenue, monthly_sales_bookings, monthly_recurring_revenue and new_leads: "
        "the next 3 months after m with 80 % prediction intervals and the method chosen",
        TABLE,
        NEUTRAL,
        table="forecasts",
        table_needs=("orders|opportunities|subscriptions|leads",),
        kind=Kind.AS_OF,
    ),
    _k(
        "pipeline_outlook",
        "Next month's bookings",
        "outlook",
        "per stage of the deals open at the end of m with expected close in m+1: deals, "
        "amount, pipeline-weighted and CRM-weighted forecast, and the target of m+1",
        TABLE,
        NEUTRAL,
        table="pipeline_outlook",
        table_needs=("opportunities.expected_close_at",),
        kind=Kind.AS_OF,
    ),
    _k(
        "clv_accounts",
        "Predictive CLV per account",
        "outlook",
        "per account with a purchase through m: frequency, recency, age, spend, P(alive), "
        "expected purchases and spend, 12-month CLV (BG/NBD + Gamma-Gamma)",
        TABLE,
        NEUTRAL,
        table="clv_accounts",
        table_needs=("orders.account_id",),
        kind=Kind.AS_OF,
    ),
]

REGISTRY: dict[str, KPI] = {k.id: k for k in CATALOG}

# the words people use for a KPI, and the headline KPI they most likely mean: suggested
# first for an unknown id ("bookings" is monthly_sales_bookings, not bookings_forecast)
COMMON_WORDS = {
    "bookings": "monthly_sales_bookings",
    "booking": "monthly_sales_bookings",
    "revenue": "sales_revenue",
    "sales": "sales_revenue",
    "pipeline": "pipeline_value",
    "pipe": "pipeline_value",
    "churn": "churn_rate",
    "quota": "sales_target_attainment",
    "attainment": "sales_target_attainment",
    "target": "sales_target_attainment",
    "mrr": "monthly_recurring_revenue",
    "arr": "annual_recurring_revenue",
    "nps": "net_promoter_score",
    "cac": "customer_acquisition_cost",
    "ltv": "customer_lifetime_value",
    "clv": "customer_lifetime_value",
    "winrate": "win_rate",
    "wins": "deals_won",
    "leads": "new_leads",
    "customers": "active_customers",
    "margin": "gross_margin",
    "forecast": "revenue_forecast",
}


def kpi_suggestions(word: str, ids: list[str] | None = None) -> list[str]:
    """Up to three KPI ids (of ``ids``, by default every id) for a word that is not one:
    the headline KPI a common word means first, then the closest spellings, then ids
    holding the word.

    >>> kpi_suggestions("bookings")
    ['monthly_sales_bookings', 'bookings_forecast']
    >>> kpi_suggestions("win_rte")
    ['win_rate']
    """
    ids = list(REGISTRY) if ids is None else list(ids)
    key = word.strip().lower().replace(" ", "_").replace("-", "_")
    first = [COMMON_WORDS[key]] if COMMON_WORDS.get(key) in ids else []
    close = difflib.get_close_matches(key, ids, n=3)
    holding = sorted((i for i in ids if key and key in i), key=len)
    return list(dict.fromkeys(first + close + holding))[:3]


def did_you_mean_kpi(word: str, ids: list[str] | None = None) -> str:
    """ " (did you mean X or Y?)" for an unknown KPI id (:func:`kpi_suggestions`), or "".

    >>> did_you_mean_kpi("revenue")
    ' (did you mean sales_revenue or revenue_forecast or expansion_revenue?)'
    """
    found = kpi_suggestions(word, ids)
    return f" (did you mean {' or '.join(found)}?)" if found else ""


def get(kpi_id: str) -> KPI:
    """The KPI with ``kpi_id``, aliases resolved to their target."""
    kpi = REGISTRY.get(kpi_id)
    if kpi is None:
        raise KitError(
            f"Unknown KPI {kpi_id!r}{did_you_mean_kpi(str(kpi_id))}; `kpi-kit catalog` "
            "lists every id."
        )
    return REGISTRY[kpi.alias_of] if kpi.alias_of else kpi


def select(ids: list[str] | None = None, families: list[str] | None = None) -> list[KPI]:
    """KPIs by id and/or family (all when neither is given), aliases resolved, no repeats."""
    for fam in families or []:
        if fam not in FAMILIES:
            raise KitError(f"Unknown family {fam!r}; families are: {', '.join(FAMILIES)}.")
    chosen: list[KPI] = []
    if not ids and not families:
        chosen = [k for k in CATALOG if not k.alias_of]
    for fam in families or []:
        chosen += [k for k in CATALOG if k.family == fam and not k.alias_of]
    chosen += [get(i) for i in ids or []]
    seen: set[str] = set()
    return [k for k in chosen if not (k.id in seen or seen.add(k.id))]


def catalog_frame() -> pd.DataFrame:
    """The registry as a table (for ``kpi-kit catalog`` and the definition boxes)."""
    return pd.DataFrame(
        [
            {
                "id": k.id,
                "name": k.name,
                "family": k.family,
                "unit": k.unit,
                "better": k.better,
                "definition": k.definition + (f" Note: {k.note}" if k.note else ""),
                "alias_of": k.alias_of or "",
            }
            for k in CATALOG
        ]
    )
