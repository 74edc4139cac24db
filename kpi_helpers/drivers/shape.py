"""The shape of a KPI's formula, as "why it moved" reads it: a sum of measures
(additive), scale x N / D with N and D sums of measures (a ratio), or neither.

>>> from kpi_helpers.catalog import get
>>> n, d, scale = ratio_of(get("win_rate").formula)
>>> linear(n), linear(d), scale
({'won': 1.0}, {'won': 1.0, 'lost': 1.0}, 100.0)
"""

from __future__ import annotations

from kpi_helpers.catalog import KPI, Kind
from kpi_helpers.metrics import Engine


def linear(f) -> dict[str, float] | None:
    """A formula as measure -> coefficient when it is a sum of measures (times constants),
    else None: ``m("won") + m("lost")`` gives ``{"won": 1.0, "lost": 1.0}``.

    >>> from kpi_helpers.catalog.registry import m
    >>> linear(m("revenue") - m("cogs")), linear(m("a") / m("b"))
    ({'revenue': 1.0, 'cogs': -1.0}, None)
    """
    if f.op == "m":
        return {f.args[0]: 1.0}
    if f.op in ("+", "-"):
        a, b = linear(f.args[0]), linear(f.args[1])
        if a is None or b is None:
            return None
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, 0.0) + (v if f.op == "+" else -v)
        return out
    if f.op == "*":
        for x, y in (f.args, f.args[::-1]):
            if x.op == "c" and (lin := linear(y)) is not None:
                return {k: v * x.args[0] for k, v in lin.items()}
    return None


def ratio_of(f) -> tuple[object, object, float] | None:
    """(numerator, denominator, scale) of a formula ``scale x N / D`` with N and D sums of
    measures, else None: ``pct(won, won + lost)`` gives (won, won + lost, 100)."""
    if f.op == "/" and linear(f.args[0]) is not None and linear(f.args[1]) is not None:
        return f.args[0], f.args[1], 1.0
    if f.op == "*":
        for x, y in (f.args, f.args[::-1]):
            if x.op == "c" and (r := ratio_of(y)) is not None:
                return r[0], r[1], r[2] * x.args[0]
    return None


def bridge_kind(kpi: KPI, engine: Engine) -> str:
    """``additive``, ``ratio`` or ``none`` (medians, models, growth, KPIs of KPIs, values
    with no-value measures such as targets: no exact bridge)."""
    f = kpi.formula
    if f is None or any(
        m in engine.source_of[m].keep_nan for m in kpi.measures if m in engine.source_of
    ):
        return "none"
    if kpi.kind in (Kind.FLOW, Kind.STATE) and linear(f) is not None:
        return "additive"
    if kpi.kind in (Kind.RATIO, Kind.DURATION) and ratio_of(f) is not None:
        return "ratio"
    return "none"
