"""How a file writes its numbers: the decimal mark and the thousands separator.

The contract writes ``1234.56``. Excel and CRM exports in much of Europe write
``1.234,56`` (and separate the fields with ``;``). A CSV file's style is detected
when its numbers say it unambiguously, over every number column of the table:

- a value only a decimal comma reads (``12,5``, ``1.234,56``, ``0,75``) is a vote
  for the European style, a value only a decimal point reads (``12.5``, ``0.125``)
  one for the contract's;
- ``1.234`` (1.234, or 1234 with a thousands dot) and ``1,234`` (1.234, or 1234 with
  a thousands comma) read two ways and vote for neither;
- votes for the decimal comma only make it the file's way; any vote for the decimal
  point keeps the contract's (a stray ``12,50`` among ``1234.56`` stays a value that
  validation reports, with the setting as its fix);
- no vote but values that read two ways is one error naming the column, examples and
  the mapping setting that decides (``decimal = ","`` and ``thousands = "."``, or
  ``decimal = "."``, in the table's mapping section).

Example::

    >>> style = NumberStyle(",", ".")
    >>> to_contract_text(pd.Series(["1.234,56", "12", "n/a"]), style).tolist()
    ['1234.56', '12', 'n/a']
    >>> forms = count_forms_frame(pd.DataFrame({"amount": ["1.234,5", "80"]}), ["amount"])
    >>> detect_style(forms, "orders.csv", "orders")
    NumberStyle(decimal=',', thousands='.')
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import pandas as pd

from kpi_helpers.core import KitError

from .contract import FLOAT, INT, Table

DECIMALS = (".", ",")
THOUSANDS = ("", ".", ",", " ", "'")

# The forms of a value that decide (or leave open) how a file writes its numbers:
# "point", read only with a decimal point (the contract's: 12.5, 0.125, 1234.56), is
# what the contract's cast reads with a dot in it; the others are these patterns.
_FORMS = {
    # 1.234: 1.234 with a decimal point, 1234 with a thousands dot
    "two_ways_dot": r"[-+]?[1-9]\d{0,2}\.\d{3}",
    # 1,234: 1.234 with a decimal comma, 1234 with a thousands comma
    "two_ways_comma": r"[-+]?[1-9]\d{0,2},\d{3}",
    "point": None,
    # read only with a decimal comma: 12,5, 0,75, 1.234,56, 1.234.567
    "comma": r"[-+]?(\d*,\d+|[1-9]\d{0,2}(\.\d{3})+(,\d+)?)",
}


@dataclass(frozen=True)
class NumberStyle:
    """A decimal mark and a thousands separator (``""``: none)."""

    decimal: str = "."
    thousands: str = ""

    @property
    def is_contract(self) -> bool:
        return self.decimal == "." and self.thousands == ""

    @property
    def pattern(self) -> str:
        """The regular expression a whole number written this way matches.

        >>> bool(re.fullmatch(NumberStyle(",", ".").pattern, "-1.234.567,8"))
        True
        """
        d, t = re.escape(self.decimal), re.escape(self.thousands)
        grouped = rf"[1-9]\d{{0,2}}({t}\d{{3}})+|" if self.thousands else ""
        return rf"[-+]?({grouped}\d+)({d}\d+)?"

    def setting(self) -> str:
        """The mapping lines that select this style."""
        return f'decimal = "{self.decimal}", thousands = "{self.thousands}"'


CONTRACT = NumberStyle()
EUROPEAN = NumberStyle(",", ".")


def number_style(decimal: object, thousands: object, where: str) -> NumberStyle | None:
    """The style a mapping section sets (None when it sets none); a bad value is an error
    naming ``where``. ``thousands`` defaults to ``"."`` with a decimal comma, to none with
    a decimal point.

    >>> number_style(",", None, "[tables.orders]")
    NumberStyle(decimal=',', thousands='.')
    """
    if decimal is None and thousands is None:
        return None
    if decimal is None:
        decimal = "."
    if decimal not in DECIMALS:
        raise KitError(f'{where}: decimal must be "." or ",", not {decimal!r}.')
    if thousands is None:
        thousands = "." if decimal == "," else ""
    if thousands not in THOUSANDS or thousands == decimal:
        allowed = ", ".join(f'"{t}"' for t in THOUSANDS if t != decimal)
        raise KitError(
            f"{where}: thousands must be one of {allowed} (and not the decimal mark), "
            f"not {thousands!r}."
        )
    return NumberStyle(decimal, thousands)


def to_contract_text(values: pd.Series, style: NumberStyle) -> pd.Series:
    """``values`` with each text written in ``style`` rewritten the contract's way;
    anything else (empty, other text, numbers) as it was, for validation to report."""
    if style.is_contract:
        return values

    def rewrite(v: object) -> object:
        if not isinstance(v, str) or not re.fullmatch(style.pattern, v.strip()):
            return v
        text = v.strip()
        if style.thousands:
            text = text.replace(style.thousands, "")
        return text.replace(style.decimal, ".")

    return values.map(rewrite)


def contract_text_column(col: ibis.Value, style: NumberStyle) -> ibis.Value:
    """The same as :func:`to_contract_text`, on a text column of an Ibis table."""
    text = col.strip()
    fixed = text.replace(style.thousands, "") if style.thousands else text
    fixed = fixed.replace(style.decimal, ".")
    return text.re_search(f"^({style.pattern})$").ifelse(fixed, col)


def parse_numbers(values: pd.Series, style: NumberStyle) -> pd.Series:
    """``values`` as floats (NaN where not a number), text read in ``style``.

    >>> parse_numbers(pd.Series(["1.234,5", "7", "x"]), EUROPEAN).tolist()
    [1234.5, 7.0, nan]
    """
    if pd.api.types.is_numeric_dtype(values):
        return values
    text = to_contract_text(values.astype(object), style)
    text = text.map(lambda v: v.strip() if isinstance(v, str) else v)
    return pd.to_numeric(text, errors="coerce")


# ----------------------------------------------------------------------------- detection

Forms = dict[str, tuple[int, str | None]]  # form -> (how many values, the smallest one)


def _form(text: ibis.StringValue) -> ibis.StringValue:
    """The deciding form of each value of ``text`` (NULL for none). Cheap tests (a comma,
    a dot, the contract's cast) pick the few values a regular expression then checks."""

    def full(form: str) -> ibis.BooleanValue:
        return text.re_search(f"^({_FORMS[form]})$")

    comma, dot = text.contains(","), text.contains(".")
    short = text.length() <= 8  # 1.234, -123,456
    contract = text.try_cast("float64").notnull()
    two_dot = dot & ~comma & contract & short & text.like("%_.___") & full("two_ways_dot")
    two_comma = comma & ~dot & short & text.like("%_,___") & full("two_ways_comma")
    return ibis.cases(
        (two_dot, "two_ways_dot"),
        (two_comma, "two_ways_comma"),
        (dot & ~comma & contract, "point"),
        ((comma | (dot & ~contract)) & full("comma"), "comma"),
        else_=ibis.null("string"),
    )


def count_forms_table(t: ibis.Table, columns: list[str]) -> dict[str, Forms]:
    """Per text column of ``t``: how many values have each deciding form (see the
    module), with the smallest as an example; one query."""
    if not columns:
        return {}
    parts = []
    for name in columns:
        text = t[name].strip()
        parts.append(t.select(column=ibis.literal(name), form=_form(text), value=text))
    values = ibis.union(*parts, distinct=False)
    # grouped with the values of no form (form NULL, skipped below): a filter on the form
    # would compute it twice, several times slower
    found = values.group_by(["column", "form"]).aggregate(n=values.count(), e=values.value.min())
    out: dict[str, Forms] = {name: dict.fromkeys(_FORMS, (0, None)) for name in columns}
    for row in found.execute().itertuples():
        if isinstance(row.form, str):
            out[row.column][row.form] = (int(row.n), str(row.e))
    return out


def count_forms_frame(frame: pd.DataFrame, columns: list[str]) -> dict[str, Forms]:
    """:func:`count_forms_table` for ``columns`` of a pandas frame (on an in-memory table:
    the same rule, not a copy of it)."""
    if not columns:
        return {}
    text = pd.DataFrame({f"c{i}": frame[c].astype("string") for i, c in enumerate(columns)})
    forms = count_forms_table(ibis.memtable(text), list(text.columns))
    return {c: forms[f"c{i}"] for i, c in enumerate(columns)}


def detect_style(forms: dict[str, Forms], file: str, table: str) -> NumberStyle:
    """The style the values of ``forms`` (per column) decide; an error naming the file,
    the columns, examples and the mapping setting when they do not."""
    if any(f["point"][0] for f in forms.values()):
        return CONTRACT
    if any(f["comma"][0] for f in forms.values()):
        return EUROPEAN
    setting = (
        f'say which in the mapping: [tables.{table}] from = "{file}", then '
        'decimal = "," (and thousands = ".") for 1.234,56, or decimal = "." for 1234.56 '
        "(a section without columns keeps the file's columns)"
    )
    for col, f in forms.items():
        for form, (n, example) in f.items():
            if n and form.startswith("two_ways"):
                dot = form == "two_ways_dot"
                small = example.replace(",", ".")
                big = example.replace("." if dot else ",", "")
                readings = (
                    f"{small} with a decimal point, {big} with a thousands dot"
                    if dot
                    else f"{small} with a decimal comma, {big} with a thousands comma"
                )
                raise KitError(
                    f"{file}: {col} has {n} number(s) such as {example!r} that read two "
                    f"ways ({readings}), and no other number in the file tells which; "
                    f"{setting}."
                )
    return CONTRACT


def number_columns(spec: Table, names: Iterable[object]) -> list[str]:
    """The columns of ``names`` that the contract types as numbers."""
    kinds = {c.name: c.kind for c in spec.columns}
    return [n for n in names if kinds.get(n) in (FLOAT, INT)]


def with_contract_numbers(t: ibis.Table, spec: Table, file: str) -> ibis.Table:
    """``t`` (the text columns of CSV ``file``, table ``spec``) with its numbers
    rewritten the contract's way when the file writes them with a decimal comma; an
    error when the file does not say which way it writes them (see the module)."""
    columns = [c for c in number_columns(spec, t.columns) if t[c].type().is_string()]
    style = detect_style(count_forms_table(t, columns), file, spec.name)
    if style.is_contract:
        return t
    return t.mutate(**{c: contract_text_column(t[c], style).name(c) for c in columns})
