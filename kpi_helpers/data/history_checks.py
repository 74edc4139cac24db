"""The checks of ``opportunity_stage_history`` against its deals (data.validate runs them
with the table's other checks; that every row's deal is in ``opportunities`` is a foreign
key, checked with the others).

Per deal, the rows must put the stages in one order (no two stages entered at the same
instant), lie between the deal's ``created_at`` and its ``closed_at``, and end with the
stage the deal is in now. Each is a warning: the stage-based KPIs still read the history
(a row before the deal was created counts from its creation, a row after it closed is
ignored), but what they say about those deals may be off.

Example::

    items = history_checks(ds, checker)  # then checker.run(STAGE_HISTORY, items)
"""

from __future__ import annotations

import ibis

from .checks import Findings, Item, Separate
from .contract import STAGE_HISTORY
from .findings import WARNING
from .sources import Dataset

DEAL_COLUMNS = ("opportunity_id", "created_at", "stage")


def history_checks(ds: Dataset, out: Findings) -> list[Item]:
    """The checks of the stage history of ``ds`` against its deals, each with its own query
    (they join the deals); none when the deals lack ``opportunity_id``, ``created_at`` or
    ``stage``. Findings go to ``out``, examples are deal IDs."""
    if not ds.has("opportunities", *DEAL_COLUMNS):
        return []
    h = ds.tables[STAGE_HISTORY]
    o = ds.tables["opportunities"]
    closed = o.closed_at if "closed_at" in o.columns else ibis.null("timestamp")
    deals = o.select(_id=o.opportunity_id, _created=o.created_at, _closed=closed, _now=o.stage)
    rows = h.join(deals, h.opportunity_id == deals._id)
    last = ibis.window(group_by="opportunity_id", order_by=[ibis.desc("entered_at")])
    latest = rows.mutate(_rank=ibis.rank().over(last)).filter(lambda t: t._rank == 0)
    ties = h.group_by(["opportunity_id", "entered_at"]).aggregate(_stages=h.stage.nunique())

    def check(bad: ibis.Table, column: str, check: str, problem: str, fix: str) -> Item:
        def run() -> None:
            ids = bad.select("opportunity_id").distinct()
            n = int(ids.count().execute())
            if n:
                examples = ids.order_by("opportunity_id").limit(5).execute()["opportunity_id"]
                out.add(WARNING, STAGE_HISTORY, column, check, problem, fix, n, examples)

        return Separate(run)

    return [
        check(
            ties.filter(ties._stages > 1),
            "entered_at",
            "history_unordered",
            "deals entered two stages at the same instant: the order of their stages is "
            "unknown (the rows count are deals)",
            "Export entered_at with its time (to the second), or keep one row per deal and "
            "instant.",
        ),
        check(
            rows.filter(rows.entered_at < rows._created),
            "entered_at",
            "history_before_created",
            "stages entered before the deal's created_at (counted from its creation; the "
            "rows counted are deals)",
            "Check the deals' created_at and the history's entered_at: both from the same "
            "export, in the same time zone.",
        ),
        check(
            rows.filter(rows._closed.notnull() & (rows.entered_at > rows._closed)),
            "entered_at",
            "history_after_close",
            "stages entered after the deal's closed_at (ignored: a closed deal's stage is "
            "its close; the rows counted are deals)",
            "Export the history and the deals at the same time, or drop the rows entered "
            "after the deal closed.",
        ),
        check(
            latest.filter(latest.stage != latest._now),
            "stage",
            "history_last_stage",
            "deals whose latest stage in the history is not their stage in opportunities: "
            "the history misses their last move (the rows counted are deals)",
            "Export the history and the deals at the same time, with the same stage mapping "
            "(the same [values.stage] translation for both tables).",
        ),
    ]
