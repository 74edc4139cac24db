"""The checks of the opportunities table (data.validate runs them with the table's other
checks): closed deals and their dates, stages and deal types, and what CRM exports get
wrong about deals (issue 21): open deals without an account or an expected close date,
overdue open deals, one deal type on every deal."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import ibis
import ibis.expr.types as ir
import pandas as pd

from .checks import Columns, Findings, Item, RowCheck, Then, columns_of, unknown_values
from .contract import CLOSED_STAGES, DEAL_TYPES
from .findings import ERROR, WARNING


def deal_checks(t: ibis.Table, as_of: datetime, out: Findings) -> list[Item]:
    """Every check of the opportunities table ``t`` beyond the checks of any table, in
    report order; the checks in two steps add their findings to ``out``. ``as_of`` limits
    where the deals' data ends."""
    return _closing(t) + _open_deals(t, as_of, out) + _one_deal_type(t, out)


def _open(c: Columns) -> ir.BooleanValue:
    """An open deal: its stage is neither closed_won nor closed_lost."""
    return c["stage"].notnull() & ~c["stage"].isin(CLOSED_STAGES)


def _closing(t: ibis.Table) -> list[Item]:
    """Closed deals and their dates, stages, deal types."""

    def closed(c: Columns) -> ir.BooleanValue:
        return c["stage"].isin(CLOSED_STAGES)

    items: list[Item] = []
    if "closed_at" in t.columns:
        items += [
            RowCheck(
                ERROR,
                "closed_at",
                "closed_without_date",
                "closed deals without closed_at",
                "Give every closed_won/closed_lost deal the date it closed.",
                lambda c: closed(c) & c["closed_at"].isnull(),
            ),
            RowCheck(
                ERROR,
                "closed_at",
                "closed_before_created",
                "closed_at is before created_at",
                "Correct the dates: a deal cannot close before it is created.",
                lambda c: c["closed_at"] < c["created_at"],
            ),
            RowCheck(
                WARNING,
                "closed_at",
                "open_with_close_date",
                "open deals (stage not closed_won/closed_lost) have a closed_at",
                "Translate the CRM's closed stages to closed_won/closed_lost in the "
                "mapping, or clear closed_at of open deals.",
                lambda c: ~closed(c) & c["stage"].notnull() & c["closed_at"].notnull(),
            ),
        ]
    else:
        items.append(
            RowCheck(
                ERROR,
                "closed_at",
                "closed_without_date",
                "closed deals but no closed_at column",
                "Map the CRM's close date to closed_at.",
                closed,
            )
        )

    def bad_stage(c: Columns) -> ir.BooleanValue:
        stage = c["stage"]
        looks_closed = stage.lower().re_search("won|lost|closed") & ~closed(c)
        return looks_closed | stage.isnull() | (stage.strip() == "")

    items.append(
        RowCheck(
            ERROR,
            "stage",
            "bad_stage",
            "stages outside the contract: closed deals must use exactly closed_won or "
            "closed_lost (and no stage may be empty)",
            "Translate the CRM's stage names in the mapping: [tables.opportunities."
            'values.stage] Won = "closed_won", Lost = "closed_lost".',
            bad_stage,
        )
    )
    return items + unknown_values(t, "deal_type", DEAL_TYPES)


# --- what CRM exports get wrong about deals (issue 21)


def _open_deals(t: ibis.Table, as_of: datetime, out: Findings) -> list[Item]:
    """Open deals the pipeline KPIs cannot place: without an account, without an
    expected close date (the pipeline-weighted forecast needs one), or past their
    expected close where the deals' data ends (overdue)."""
    items: list[Item] = []
    if "account_id" in t.columns:
        items.append(
            RowCheck(
                WARNING,
                "account_id",
                "open_without_account",
                "open deals without an account: once won, they add no customer, and the "
                "customer KPIs (new and active customers, upsell) miss them",
                "Link each deal to its account in the CRM (Salesforce AccountId, HubSpot "
                "Associated Company) and export again.",
                lambda c: _open(c) & c["account_id"].isnull(),
            )
        )
    if "expected_close_at" not in t.columns:
        return items
    items.append(
        RowCheck(
            WARNING,
            "expected_close_at",
            "open_without_expected_close",
            "open deals without an expected close date: the pipeline-weighted forecast "
            "and the overdue pipeline leave them out (with none dated, the forecast is "
            "not available)",
            "Give open deals their expected close date in the CRM (Salesforce CloseDate, "
            "HubSpot Close Date) and export again, or map the CRM's expected close to "
            "expected_close_at.",
            lambda c: _open(c) & c["expected_close_at"].isnull(),
        )
    )
    return items + [Then(partial(_overdue_figures, as_of=as_of), partial(_overdue, t, out=out))]


def _overdue_figures(c: Columns, as_of: datetime) -> dict[str, ir.Scalar]:
    """The earliest expected close of an open deal, and where the deals' data ends (the
    latest created_at or closed_at not after ``as_of``: DATA_CONTRACT "Data through")."""
    limit = ibis.timestamp(as_of.replace(microsecond=0))
    figures = {"due": c["expected_close_at"].min(where=_open(c))}
    for column in ("created_at", "closed_at"):
        if column in c:
            figures[column] = c[column].max(where=c[column] <= limit)
    return figures


def _overdue(t: ibis.Table, figures: dict[str, object], out: Findings) -> None:
    """Open deals expected to close before the last day of the deals' data: counted and
    shown only when the earliest expected close lies before that day."""
    ends = [pd.Timestamp(v) for k, v in figures.items() if k != "due" and pd.notna(v)]
    if not ends or pd.isna(figures["due"]):
        return
    day = max(ends).normalize()
    if pd.Timestamp(figures["due"]) >= day:
        return
    check = RowCheck(
        WARNING,
        "expected_close_at",
        "open_past_expected_close",
        f"open deals whose expected close date is before {day:%Y-%m-%d}, where the deals' "
        "data ends: overdue, yet still counted in the pipeline",
        "Update the expected close date of the deals still in play and close the others "
        "(closed_lost) in the CRM; until then the overdue pipeline "
        "(overdue_pipeline_share) counts them.",
        lambda c: _open(c) & (c["expected_close_at"] < ibis.timestamp(day.to_pydatetime())),
    )
    out.report("opportunities", check, int(t.count(where=check.bad(columns_of(t))).execute()))


def _one_deal_type(t: ibis.Table, out: Findings) -> list[Item]:
    """One deal type on every deal while accounts win again and again: the CRM's type
    was not exported or not mapped, and the KPIs of the other types read 0."""
    if "account_id" not in t.columns:
        return []
    typed = "deal_type" in t.columns
    default = DEAL_TYPES[0]  # the contract: an empty deal_type is new

    def figures(c: Columns) -> dict[str, ir.Scalar]:
        deals = c["stage"].isnull().count()  # never null: every row
        if not typed:
            return {"deals": deals}
        kind = c["deal_type"].fill_null(default)
        return {"deals": deals, "kinds": kind.nunique(), "kind": kind.min()}

    def then(f: dict[str, object]) -> None:
        if not f["deals"] or f.get("kinds", 1) != 1:
            return
        won = t.filter((t["stage"] == CLOSED_STAGES[0]) & t["account_id"].notnull())
        per_account = won.group_by("account_id").agg(n=won.count())
        repeat = per_account.filter(per_account.n >= 2)
        n = int(repeat.count().execute())
        if not n:
            return
        first = repeat.order_by([ibis.desc("n"), "account_id"]).limit(5)
        examples = first.execute()["account_id"].tolist()
        kind = str(f.get("kind", default))
        what = (
            f"every deal is typed '{kind}'"
            if typed
            else f"no deal_type column, so every deal counts as '{kind}',"
        )
        accounts = "1 account has" if n == 1 else f"{n} accounts have"
        effect = (
            "upsell, cross-sell and expansion read as 0 and every repeat win counts as new business"
            if kind == default
            else "the KPIs of the other deal types (new deal size, upsell, cross-sell, "
            "expansion) read as 0"
        )
        out.add(
            WARNING,
            "opportunities",
            "deal_type",
            "one_deal_type",
            f"{what} although {accounts} 2+ won deals: {effect} (the examples are accounts)",
            "Map the CRM's deal type to deal_type (Salesforce Type, HubSpot Deal Type) and "
            "translate its values to new, upsell, cross_sell or renewal under "
            "[tables.opportunities.values.deal_type]. If the CRM itself gives every deal "
            "one type, correct it there; until then read upsell, cross-sell and expansion "
            "as not measured, not as 0.",
            int(f["deals"]),
            examples,
        )

    return [Then(figures, then)]
