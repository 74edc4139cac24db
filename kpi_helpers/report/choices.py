"""What a page picks to show: the summary's headline KPIs, the largest movers, a table's
columns. Plain pandas over the tidy KPI rows, so the pack's index and the e-mail pick
the same as the pages."""

from __future__ import annotations

import pandas as pd

from kpi_helpers.catalog import FAMILIES

from .pages import HEADLINES


def summary_headlines(rows: pd.DataFrame, month: str) -> list[str]:
    """The summary's headline KPIs for one scope (``rows``: its tidy KPI rows, 13
    months): the summary's list, topped up from the families' headlines so a CRM-only
    export still gets a full row, keeping only KPIs with a signal: available this month
    and not 0 (or n/a) in every month. New customers that are 0 all year (every deal
    typed "new business" on accounts with repeat wins) make way for the next KPI.
    The summary page, its e-mail and the pack's index all show these.

    >>> rows = pd.DataFrame({"kpi": ["sales_revenue", "monthly_sales_bookings", "win_rate"],
    ...     "month": "2026-03", "status": ["not_available", "ok", "ok"],
    ...     "value": [None, 0.0, 40.0]})
    >>> summary_headlines(rows, "2026-03")
    ['win_rate']
    """
    ok = rows[rows["status"] == "ok"]
    signal = set(ok.loc[ok["value"].fillna(0) != 0, "kpi"])
    now = rows[rows["month"] == month]
    available = set(now.loc[now["status"] != "not_available", "kpi"]) & signal
    wanted = HEADLINES["summary"]
    order = [*wanted, *(k for f in FAMILIES for k in HEADLINES[f])]
    return [k for k in dict.fromkeys(order) if k in available][: len(wanted)]


USUAL_QUANTILE = 0.8  # a move beyond this quantile of the past year's is unusual
USUAL_MIN_CHANGES = 6  # fewer earlier month-to-month changes: no usual range to judge by


def beyond_usual(rows: pd.DataFrame, kpi: str, month: str) -> bool:
    """Whether ``kpi`` moved more than usual into ``month``: the size of its change from
    the month before is above the 80th percentile of the sizes of its month-to-month
    changes in the 12 months before (``rows``: one scope's tidy KPI rows, ``kpi``,
    ``month``, ``value``). False with fewer than 6 such earlier changes. The pack's
    index shows the top driver beside such a headline.

    >>> rows = pd.DataFrame({"kpi": "win_rate", "month": [f"2026-{m:02d}" for m in
    ...     range(1, 9)], "value": [40.0, 41, 40, 41, 40, 41, 40, 30]})
    >>> beyond_usual(rows, "win_rate", "2026-08"), beyond_usual(rows, "win_rate", "2026-07")
    (True, False)
    """
    mine = rows[(rows["kpi"] == kpi) & (rows["month"] <= month)]
    values = pd.to_numeric(mine.sort_values("month").set_index("month")["value"])
    values = values.iloc[-13:]
    if len(values) < 2 or values.index[-1] != month:
        return False
    changes = values.diff().abs().iloc[1:]
    now, before = changes.iloc[-1], changes.iloc[:-1].dropna()
    if pd.isna(now) or len(before) < USUAL_MIN_CHANGES:
        return False
    return bool(now > before.quantile(USUAL_QUANTILE))


def mover_weights(current: pd.DataFrame) -> pd.Series:
    """How much each KPI moved this month, by id: ``|mom_change|`` in %, a point (pp)
    weighing as 2 %, for the ok KPIs with a better-direction and such a change.
    "Largest movers" on a page and the e-mail's "biggest move" rank by it.

    >>> cur = pd.DataFrame({"status": ["ok", "ok"], "mom_change": [-3.0, 2.0],
    ...     "better": ["up", "up"], "change_unit": ["%", "pp"]}, index=["a", "b"])
    >>> mover_weights(cur).to_dict()
    {'a': 3.0, 'b': 4.0}
    """
    cur = current[
        (current["status"] == "ok")
        & current["mom_change"].notna()
        & (current["better"] != "neutral")
        & current["change_unit"].isin(["%", "pp"])
    ]
    # astype: mapping an empty text column gives text, and text x float raised a
    # TypeError on a scope where nothing moved (a team without sales)
    weight = cur["change_unit"].map({"%": 1.0, "pp": 2.0}).astype("float64")
    return cur["mom_change"].astype("float64").abs() * weight


def shown_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The columns of a table a page shows: people, teams and accounts by name, so an id
    beside its name (``rep_id`` beside ``rep_name``) is left out, and so is a column
    without a value in any row (attainment without targets). The CSV keeps them all.

    >>> df = pd.DataFrame({"rep_id": ["0051x"], "rep_name": ["Ana"], "attainment": [None]})
    >>> list(shown_columns(df).columns)
    ['rep_name']
    """
    filled = [c for c in df.columns if not df[c].map(missing_value).all()]
    names = {str(c) for c in filled}
    return df[
        [c for c in filled if not (str(c).endswith("_id") and f"{str(c)[:-3]}_name" in names)]
    ]


def missing_value(value) -> bool:
    """No value: None, NaN, NaT, NA or blank text."""
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell: a value
        return False
