"""Fiscal quarters and years (KPI_CATALOG.md, "Periods"), worked out by hand."""

import pytest

from kpi_helpers.core import Calendar, KitError, Month

M = Month.parse


@pytest.mark.parametrize(
    "start, month, quarter, q_first, q_last, year, y_first",
    [
        # calendar years: quarters 2026-Q1..Q4, years named 2026
        (1, "2026-01", "2026-Q1", "2026-01", "2026-03", "2026", "2026-01"),
        (1, "2025-12", "2025-Q4", "2025-10", "2025-12", "2025", "2025-01"),
        # FY2027 runs 2026-02..2027-01 (named after the year it ends in)
        (2, "2026-02", "FY2027-Q1", "2026-02", "2026-04", "FY2027", "2026-02"),
        (2, "2027-01", "FY2027-Q4", "2026-11", "2027-01", "FY2027", "2026-02"),
        (2, "2026-01", "FY2026-Q4", "2025-11", "2026-01", "FY2026", "2025-02"),
        # April: FY2027 runs 2026-04..2027-03
        (4, "2026-03", "FY2026-Q4", "2026-01", "2026-03", "FY2026", "2025-04"),
        (4, "2026-04", "FY2027-Q1", "2026-04", "2026-06", "FY2027", "2026-04"),
        (4, "2026-12", "FY2027-Q3", "2026-10", "2026-12", "FY2027", "2026-04"),
        # July: FY2027 runs 2026-07..2027-06
        (7, "2026-06", "FY2026-Q4", "2026-04", "2026-06", "FY2026", "2025-07"),
        (7, "2026-07", "FY2027-Q1", "2026-07", "2026-09", "FY2027", "2026-07"),
        (7, "2027-01", "FY2027-Q3", "2027-01", "2027-03", "FY2027", "2026-07"),
        # October: FY2027 runs 2026-10..2027-09
        (10, "2026-09", "FY2026-Q4", "2026-07", "2026-09", "FY2026", "2025-10"),
        (10, "2026-12", "FY2027-Q1", "2026-10", "2026-12", "FY2027", "2026-10"),
        (10, "2027-01", "FY2027-Q2", "2027-01", "2027-03", "FY2027", "2026-10"),
        # November: Q1 straddles the calendar year
        (11, "2026-01", "FY2026-Q1", "2025-11", "2026-01", "FY2026", "2025-11"),
    ],
)
def test_fiscal_labels_and_bounds(start, month, quarter, q_first, q_last, year, y_first):
    cal = Calendar(start)
    q = cal.period("quarter", M(month))
    y = cal.period("year", M(month))
    assert (q.label, q.start, q.end) == (quarter, q_first, q_last)
    assert (y.label, y.start, str(y.last)) == (year, y_first, str(M(y_first) + 11))
    assert cal.parse(quarter) == q and cal.parse(year) == y


def test_to_date_and_comparison_spans():
    cal = Calendar(11)
    qtd = cal.to_date("quarter", M("2025-12"))  # FY2026-Q1: 2025-11..2026-01, 2 of 3 months
    assert (qtd.label, qtd.to_date, qtd.status) == ("FY2026-Q1", True, "to date (2 of 3 months)")
    assert [str(m) for m in qtd.months()] == ["2025-11", "2025-12"]
    prev, year = qtd.previous(cal), qtd.year_before(cal)
    assert (prev.label, prev.start, str(prev.through)) == ("FY2025-Q4", "2025-08", "2025-09")
    assert (year.label, year.start, str(year.through)) == ("FY2025-Q1", "2024-11", "2024-12")
    ytd = cal.to_date("year", M("2026-01"))
    assert (ytd.label, ytd.months_with_data) == ("FY2026", 3)
    assert ytd.status == "to date (3 of 12 months)"
    assert not cal.to_date("quarter", M("2026-01")).to_date  # the quarter's last month


def test_a_label_of_the_other_calendar_or_no_period_is_a_clear_error():
    with pytest.raises(KitError, match="named like FY2027-Q4 and FY2027"):
        Calendar(2).parse("2026-Q1")
    with pytest.raises(KitError, match="named like 2026-Q4 and 2026"):
        Calendar(1).parse("FY2026")
    with pytest.raises(KitError, match="is not a period"):
        Calendar(1).parse("Q3")
    with pytest.raises(KitError, match="from 1 .* to 12"):
        Calendar(13)
