"""To-date figures of a month m: quarter-to-date (QTD) and year-to-date (YTD) of the
flow KPIs (KPI_CATALOG.md, "To-date figures of a month m").

For a flow (``Kind.FLOW``: revenue, bookings, deals won, new leads, ...) the value of a
period IS the sum of its monthly values, so the to-date figures come from the monthly
tidy rows the pack already holds: m's fiscal quarter (year) from its first month up to
and including m, the same months a year before (each monthly row carries
``same_month_last_year``), the change between them, the targets of those months summed
(none when one month lacks a target) and the attainment. This is the one place they
are computed; a later engine with period values can replace :func:`to_date_figures`.

Example::

    to_date_figures(snapshot_kpis, "2026-06", fiscal_year_start=1)
    #    key   kpi           span label             months value  year_before change ...
    # company sales_revenue  QTD  2026-Q2 to date   3      ...
"""

from __future__ import annotations

import math

import pandas as pd

from kpi_helpers.catalog import REGISTRY, Kind
from kpi_helpers.core import Calendar, Month

from .compare import relative_changes

SPANS = {"QTD": "quarter", "YTD": "year"}
# the columns summed over a span's months, and their names in the figures
SUMMED = {"value": "value", "same_month_last_year": "year_before", "target": "target"}
# a flow whose period value is not the sum of its months: the spec defines the gap of a
# to-date period as all of the period's targets minus the bookings so far
NOT_SUMMED = ("gap_to_target",)
TO_DATE_COLUMNS = [
    "key",
    "kpi",
    "span",
    "label",
    "first",
    "through",
    "months",
    "of_months",
    "value",
    "year_before",
    "change",
    "target",
    "attainment",
]


def to_date_kpis() -> list[str]:
    """The KPIs with to-date figures: the flows whose period value is the sum of their
    monthly values.

    >>> "sales_revenue" in to_date_kpis(), "win_rate" in to_date_kpis()
    (True, False)
    """
    return [
        k.id
        for k in REGISTRY.values()
        if k.kind == Kind.FLOW and not k.alias_of and k.id not in NOT_SUMMED
    ]


def to_date_figures(rows: pd.DataFrame, month: str, fiscal_year_start: int = 1) -> pd.DataFrame:
    """QTD and YTD of every flow KPI in ``rows`` (tidy KPI rows, with ``key`` naming the
    scope; the months of m's fiscal year up to m must be among them, as in a pack's 13).

    Per (key, kpi, span): ``value`` = the sum of the monthly values of the span's months
    (NaN when one of them has no value), ``year_before`` = the sum of their
    ``same_month_last_year`` (NaN when one is missing), ``change`` = the relative change
    in % (NaN when the year before is 0 or missing), ``target`` = the sum of the months'
    targets (NaN when one month has none), ``attainment`` = value / target x 100.
    ``label`` reads "FY2026-Q1 to date (2 of 3 months)" ("2026-Q2" when m ends it).

    >>> rows = pd.DataFrame({"key": "company", "kpi": "sales_revenue",
    ...     "month": ["2025-11", "2025-12"], "status": "ok", "value": [10.0, 20.0],
    ...     "same_month_last_year": [5.0, 10.0], "target": [15.0, 15.0]})
    >>> f = to_date_figures(rows, "2025-12", 11)
    >>> f.loc[0, "span"], f.loc[0, "label"]
    ('QTD', 'FY2026-Q1 to date (2 of 3 months)')
    >>> f.loc[0, ["value", "year_before", "change", "target", "attainment"]].astype(float).tolist()
    [30.0, 15.0, 100.0, 30.0, 100.0]
    """
    m = Month.parse(str(month))
    cal = Calendar(fiscal_year_start)
    flows = rows[rows["kpi"].isin(to_date_kpis())]
    frames = []
    for span, kind in SPANS.items():
        period = cal.to_date(kind, m)
        wanted = [str(x) for x in period.months()]
        part = flows[flows["month"].isin(wanted)].drop_duplicates(["key", "kpi", "month"])
        if part.empty:
            continue
        numbers = {c: pd.to_numeric(part[c], errors="coerce") for c in SUMMED}
        g = part.assign(_ok=part["status"] == "ok", **numbers).groupby(
            ["key", "kpi"], sort=False, observed=True
        )
        # a sum over every month of the span, NaN when a month has no row or no value
        out = pd.DataFrame(
            {name: g[col].sum(min_count=len(wanted)) for col, name in SUMMED.items()}
        )
        out["value"] = out["value"].where(g["_ok"].all())  # a month n/a: no figure
        value, before, target = out["value"], out["year_before"], out["target"]
        out["change"] = relative_changes(value, before)
        out["attainment"] = (value / target * 100.0).where(target.notna() & (target != 0))
        frames.append(
            out.reset_index().assign(
                span=span,
                label=f"{period.label} {period.status}".strip(),
                first=str(period.first),
                through=str(period.through),
                months=period.months_with_data,
                of_months=period.n_months,
            )
        )
    numbers = ["value", "year_before", "change", "target", "attainment"]
    if not frames:
        return pd.DataFrame(columns=TO_DATE_COLUMNS).astype(dict.fromkeys(numbers, "float64"))
    out = pd.concat(frames, ignore_index=True)[TO_DATE_COLUMNS]
    out = out.replace([math.inf, -math.inf], math.nan)
    return out.astype({"key": object, "kpi": object} | dict.fromkeys(numbers, "float64"))
