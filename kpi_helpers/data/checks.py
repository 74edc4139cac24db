"""The items a table's checks are made of (data.validate counts them, one aggregate
query per table): a row check, duplicate IDs, a check in two steps, a check with its own
query; and the row conditions more than one check group uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import ibis
import ibis.expr.types as ir

from .casting import cast_to_contract
from .dates import EXCEL_SERIAL, excel_dates_fix
from .findings import ERROR, WARNING

Columns = Mapping[str, ibis.Value]  # a table's columns by name, as a check reads them
BadRows = Callable[[Columns], ir.BooleanValue]  # a check's condition: True on a bad row


@dataclass
class RowCheck:
    """A finding when any row is bad: ``bad`` is the condition on the table's columns.

    A ``raw`` check reads only ``column``, as it was read (the text that may not
    parse); the others read the typed table.
    """

    severity: str
    column: str
    check: str
    problem: str
    fix: str
    bad: BadRows
    raw: bool = False


@dataclass
class Duplicates:
    """Rows sharing a value of ``column``, the table's ID. Counted as non-null values
    against distinct values, so the grouped query for details runs only when they differ."""

    column: str


@dataclass
class Separate:
    """A check that runs its own query: parsing text where there is no TRY_CAST."""

    run: Callable[[], None]


@dataclass
class Then:
    """A check in two steps: ``figures`` (name -> an aggregate over the table's columns) are
    counted with the table's other checks, then ``then`` gets their values; it adds its
    findings, and queries again (for counts and examples) only when the figures call for it."""

    figures: Callable[[Columns], dict[str, ir.Scalar]]
    then: Callable[[dict[str, object]], None]


Item = RowCheck | Duplicates | Separate | Then  # what data.validate counts for a table


class Findings(Protocol):
    """Where the second step of a check adds its findings (data.validate's checker)."""

    def add(
        self,
        severity: str,
        table: str,
        column: str,
        check: str,
        problem: str,
        fix: str,
        rows: int = 0,
        examples: Iterable[object] = (),
    ) -> None:
        """Add one finding."""

    def report(self, name: str, check: RowCheck, rows: int) -> None:
        """Add the finding of ``check`` on table ``name``, which found ``rows`` bad rows."""


def columns_of(t: ibis.Table) -> dict[str, ibis.Value]:
    """The columns of ``t`` by name: what a check's condition reads."""
    return {c: t[c] for c in t.columns}


def unparsed(column: str, kind: str) -> BadRows:
    """Text that is not blank yet does not cast to ``kind`` (nor looks like an Excel serial
    date: :func:`serial_dates` reports those)."""

    def bad(c: Columns) -> ir.BooleanValue:
        value = c[column]
        blank = value.isnull() | (value.strip() == "") | value.re_search(EXCEL_SERIAL)
        return ~blank & cast_to_contract(value, kind, lenient=True).isnull()

    return bad


def serial_dates(table: str, column: str, number_column: bool) -> RowCheck:
    """Numbers where dates belong: every value of a number column, or text like 45567."""
    serial = (lambda c: c[column].notnull()) if number_column else None
    return RowCheck(
        ERROR,
        column,
        "excel_date",
        f"{column} holds numbers, not dates (Excel's serial date 45567 is 2024-10-02)",
        excel_dates_fix(table, column),
        serial or (lambda c: c[column].re_search(EXCEL_SERIAL)),
        raw=True,
    )


def _outside(column: str, allowed: tuple[str, ...]) -> BadRows:
    return lambda c: c[column].notnull() & ~c[column].isin(allowed)


def unknown_values(
    t: ibis.Table, column: str, allowed: tuple[str, ...], severity: str = WARNING
) -> list[Item]:
    """Values of ``column`` outside ``allowed`` (none when ``t`` has no such column)."""
    if column not in t.columns:
        return []
    return [
        RowCheck(
            severity,
            column,
            "unknown_value",
            f"{column} has values outside {', '.join(allowed)}",
            f"Translate them to one of {', '.join(allowed)} in the mapping's values.",
            _outside(column, allowed),
        )
    ]
