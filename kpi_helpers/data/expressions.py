"""A small, safe expression language for mapping files.

Mapping files derive columns (``cost = "Sales - Profit"``) and filter rows
(``where = "`Country/Region` == 'United States'"``). Expressions are parsed with
:mod:`ast` and only arithmetic, comparisons, ``and``/``or``/``not``, ``in`` lists,
constants (``None`` is an empty value), column names, ``a if condition else b``
and these functions are allowed: ``isnull(x)``/``notnull(x)`` (empty text counts
as null), ``coalesce(x, y, ...)`` (per row, the first value that is not null or
empty) and ``matches(x, 'regex')`` (a case-insensitive regular-expression search
in the text of ``x``). Nothing in a mapping file can run arbitrary code. Column
names with spaces or punctuation are written in backticks.

Comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) compare numbers when both
sides are numbers: a number literal, or a column whose every non-empty value is a
number (written as the section's ``decimal``/``thousands`` say), so ``Amount > Cost``
reads ``9 > 10`` as false although the text ``'9'`` sorts after ``'10'``. Text compares
with text. A number compared with text (``Amount > 'big'``, or ``Amount > 1000`` where
Amount holds ``n/a``) is an error naming the expression and a value, never a silent false.
"""

from __future__ import annotations

import ast
import operator
import re

import pandas as pd

from kpi_helpers.core import KitError

from .numbers import CONTRACT, NumberStyle, parse_numbers

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_BACKTICK = re.compile(r"`([^`]*)`")
_FUNCTIONS = ("isnull", "notnull", "coalesce", "matches")


def _parse(expression: str, where: str) -> tuple[ast.Expression, dict[str, str]]:
    """The syntax tree of ``expression`` and the placeholders standing for backticked names."""
    names: dict[str, str] = {}

    def _placeholder(match: re.Match) -> str:
        key = f"__col{len(names)}"
        names[key] = match.group(1)
        return key

    source = _BACKTICK.sub(_placeholder, expression)
    try:
        return ast.parse(source, mode="eval"), names
    except SyntaxError as exc:
        raise KitError(f"{where}: cannot parse {expression!r} ({exc.msg}).") from None


def column_names(expression: str, where: str = "expression") -> set[str]:
    """The column names ``expression`` reads.

    >>> sorted(column_names("coalesce(Department, `Manager Name`, 'unassigned')"))
    ['Department', 'Manager Name']
    """
    tree, names = _parse(expression, where)
    functions = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {
        names.get(n.id, n.id)
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in functions
    }


def _empty(value: pd.Series) -> pd.Series:
    return (value.isna() | (value.astype("string").str.strip() == "")).fillna(True)


def _as_series(value, frame: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * len(frame), index=frame.index, dtype=object)


def _numeric(value, style: NumberStyle):
    if isinstance(value, pd.Series) and not pd.api.types.is_numeric_dtype(value):
        return parse_numbers(value, style)
    return value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _comparable(left, right, style: NumberStyle, where: str, expression: str) -> tuple:
    """``left`` and ``right`` ready to compare: both as numbers when each is a number (a
    literal, or a column of numbers), else both as they are (text); a number against
    text is an error naming the expression and a value of the text side."""
    kinds = []
    for side in (left, right):
        if side is None or isinstance(side, (bool, list)):
            kinds.append("any")
        elif _is_number(side):
            kinds.append("number")
        elif isinstance(side, str):
            kinds.append("text")
        elif pd.api.types.is_bool_dtype(side):
            kinds.append("any")
        elif pd.api.types.is_numeric_dtype(side):
            kinds.append("number")
        else:
            kept = ~_empty(side)
            numbers = parse_numbers(side[kept], style)
            kinds.append("number" if numbers.notna().all() else "text")
            if not kept.any():
                kinds[-1] = "any"
    if set(kinds) == {"number", "text"}:
        text = left if kinds[0] == "text" else right
        if isinstance(text, str):
            shown = f"the text {text!r}"
        else:
            kept = text[~_empty(text)]
            example = kept[parse_numbers(kept, style).isna()].iloc[0]
            name = f"column {text.name!r}" if isinstance(text.name, str) else "a value"
            shown = f"{name}, which holds text such as {example!r}"
        raise KitError(
            f"{where}: {expression!r} compares a number with {shown}; compare numbers "
            "with numbers (write 10, not '10'; clean or filter out the text values) or "
            "text with text."
        )
    if "number" in kinds:
        return _numeric(left, style), _numeric(right, style)
    return left, right


def evaluate(
    expression: str,
    frame: pd.DataFrame,
    where: str = "expression",
    style: NumberStyle = CONTRACT,
) -> pd.Series:
    """Evaluate ``expression`` over the columns of ``frame``; text is read as numbers
    written in ``style`` (the mapping section's ``decimal``/``thousands``).

    >>> df = pd.DataFrame({"Sales": ["10.5", "4"], "Profit": ["2.5", "-1"]})
    >>> evaluate("Sales - Profit", df).tolist()
    [8.0, 5.0]
    >>> evaluate("`Sales` > 5 and Profit > 0", df).tolist()
    [True, False]
    >>> evaluate("'big' if Sales > 5 else 'small'", df).tolist()
    ['big', 'small']
    >>> evaluate("Sales > Profit", pd.DataFrame({"Sales": ["9"], "Profit": ["10"]})).tolist()
    [False]
    """
    tree, names = _parse(expression, where)

    def column(name: str) -> pd.Series:
        name = names.get(name, name)
        if name not in frame.columns:
            raise KitError(
                f"{where}: {expression!r} names column {name!r}, which is not in the data; "
                f"columns are: {', '.join(map(str, frame.columns))}."
            )
        return frame[name]

    def ev(node: ast.AST):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, (int, float, str))
        ):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [ev(e) for e in node.elts]
        if isinstance(node, ast.Name):
            return column(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = _numeric(ev(node.left), style), _numeric(ev(node.right), style)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -_numeric(ev(node.operand), style)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~ev(node.operand)
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = ev(node.left), ev(node.comparators[0])
            op = type(node.ops[0])
            if op in (ast.In, ast.NotIn):
                hit = left.isin(right)
                return hit if op is ast.In else ~hit
            if op in _COMPARE:
                left, right = _comparable(left, right, style, where, expression)
                return _COMPARE[op](left, right)
        if isinstance(node, ast.IfExp):
            test = _as_series(ev(node.test), frame)
            test = test.astype("boolean").fillna(False).astype(bool)
            body, orelse = _as_series(ev(node.body), frame), _as_series(ev(node.orelse), frame)
            return body.astype(object).where(test, orelse.astype(object))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
        ):
            fn, args = node.func.id, [ev(a) for a in node.args]
            if fn in ("isnull", "notnull") and len(args) == 1:
                empty = _empty(_as_series(args[0], frame))
                return empty if fn == "isnull" else ~empty
            if fn == "coalesce" and args:
                out = _as_series(args[0], frame).astype(object)
                for arg in args[1:]:
                    out = out.where(~_empty(out), _as_series(arg, frame).astype(object))
                return out
            if fn == "matches" and len(args) == 2 and isinstance(args[1], str):
                try:
                    pattern = re.compile(args[1], re.IGNORECASE)
                except re.error as exc:
                    raise KitError(
                        f"{where}: {args[1]!r} is not a regular expression: {exc}."
                    ) from None
                text = _as_series(args[0], frame).astype("string").str.strip()
                found = [False if pd.isna(v) else bool(pattern.search(v)) for v in text]
                return pd.Series(found, index=frame.index, dtype=bool)
        raise KitError(
            f"{where}: {expression!r} uses something mapping expressions do not allow "
            "(allowed: + - * /, comparisons, and/or/not, in [...], a if condition else b, "
            "isnull(x), notnull(x), coalesce(x, y, ...), matches(x, 'regex'))."
        )

    result = ev(tree)
    if not isinstance(result, pd.Series):
        result = pd.Series([result] * len(frame), index=frame.index)
    return result
