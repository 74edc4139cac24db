"""Measure sources of the top of the funnel: ``leads`` (created, contacted, engaged,
response hours, SQLs) and ``activities`` (calls, emails, meetings).
"""

from __future__ import annotations

import ibis
import pandas as pd

from .measures import Measures, month_of, outer_merge, seconds_between, source


@source(
    "leads",
    ("leads",),
    ("leads_created", "leads_contacted", "response_hours_median", "leads_engaged"),
    extra_needs={
        "leads_contacted": ("leads.first_response_at",),
        "response_hours_median": ("leads.first_response_at",),
        "leads_engaged": ("leads.first_response_at", "leads.engaged_at"),
    },
    keep_nan=("response_hours_median",),
    since=("lead",),
)
def _leads(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Leads created in m: all, contacted, their median response hours, engaged."""
    t = ms.by_rep(ms.in_range(ms.ds.table("leads"), "created_at"))
    t = t.mutate(_l_mi=month_of(t.created_at))
    responded = "first_response_at" in t.columns

    def sums(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {"leads_created": x.count()}
        if responded:
            out["leads_contacted"] = x.first_response_at.notnull().sum().cast("int64")
            if "engaged_at" in x.columns:
                engaged = x.engaged_at.notnull() & x.first_response_at.notnull()
                out["leads_engaged"] = engaged.sum().cast("int64")
        return out

    out = ms.roll_up(ms.base(t, "_l_mi", sums), st)
    if responded and ms.asked("response_hours_median"):
        # only contacted leads have hours; median() of a filtered column does not compile
        # on Spark, so the never-contacted leads are left out before
        c = t.filter(t.first_response_at.notnull())
        c = c.select(
            "_l_mi",
            "_rep",
            "_team",
            _hours=seconds_between(c.first_response_at, c.created_at) / 3600.0,
        )
        c, slot = ms.slotted(c, "_l_mi")  # a period's median is over its leads
        med = ms.per_type(c, slot, st, lambda x: {"response_hours_median": x._hours.median()})
        out = outer_merge(out, med)
    return out


@source("sql", ("leads.qualified_at",), ("sqls",), since=("lead",))
def _sqls(ms: Measures, st: list[str]) -> pd.DataFrame:
    t = ms.by_rep(ms.in_range(ms.ds.table("leads"), "qualified_at"))
    return ms.roll_up(ms.base(t, month_of(t.qualified_at), lambda x: {"sqls": x.count()}), st)


@source(
    "activities",
    ("activities",),
    ("calls", "emails", "meetings", "successful_calls"),
    extra_needs={"successful_calls": ("activities.outcome",)},
    since=("activity",),
)
def _activities(ms: Measures, st: list[str]) -> pd.DataFrame:
    """Calls, emails, meetings and successful calls in m (types compared lower-cased)."""
    t = ms.by_rep(ms.in_range(ms.ds.table("activities"), "occurred_at"))
    t = t.mutate(_type=t.type.lower().strip())

    def sums(x: ibis.Table) -> dict[str, ibis.Value]:
        out = {k + "s": (x._type == k).sum().cast("int64") for k in ("call", "email", "meeting")}
        if "outcome" in x.columns:
            ok = (x._type == "call") & (x.outcome.lower().strip() == "successful")
            out["successful_calls"] = ok.sum().cast("int64")
        return out

    return ms.roll_up(ms.base(t, month_of(t.occurred_at), sums), st)
