"""The words of "why it moved": a driver's line and the paragraph ("explains", never
"because": contributions tell the arithmetic of a change, not its cause).

>>> from kpi_helpers.catalog import get
>>> amount_text(get("win_rate"), -4.12), amount_text(get("deals_won"), 3.0)
('-4.1 pp', '+3')
"""

from __future__ import annotations

import math

from kpi_helpers.catalog import KPI, PERCENT, format_value

from .bridge import NOT_ALLOCATED, REST, Part


def moved(out, k: KPI) -> bool:
    """Whether ``out`` (an Explanation) changed more than rounding."""
    return abs(out.change) > 1e-9 * max(1.0, abs(out.value), abs(out.base_value))


def moved_words(out, k: KPI, currency: str = "USD") -> str:
    """How ``out`` (an Explanation) moved, in words: "rose 49.1 %", "fell 1.5 pp" (points
    for percent KPIs; the amount from a base of 0).

    >>> from kpi_helpers.catalog import get
    >>> from kpi_helpers.drivers.explain import Explanation
    >>> e = Explanation("deals_won", "company", "2026-05", "previous", "2026-04", 41.0,
    ...                 50.0, "additive")
    >>> moved_words(e, get("deals_won")), moved_words(e, get("win_rate"))
    ('fell 18.0 %', 'fell 9.0 pp')
    """
    change = out.value - out.base_value
    verb = "rose" if change > 0 else "fell"
    if k.unit == PERCENT:
        return f"{verb} {abs(change):,.1f} pp"
    if out.base_value:
        return f"{verb} {abs(change) / abs(out.base_value) * 100:,.1f} %"
    return f"{verb} {format_value(abs(change), k.unit, currency)}"


def amount_text(k: KPI, x: float, currency: str = "USD") -> str:
    """A contribution in the KPI's unit, signed: points for percent KPIs."""
    if k.unit == PERCENT:
        return f"{x:+,.1f} pp"
    text = format_value(x, k.unit, currency)
    return text if text.startswith("-") else "+" + text


def segment_name(dimension: str, segment: str, names: dict[str, str] | None = None) -> str:
    """A segment as the text names it: "Team EMEA", "Core Platform (product)"; a rep by
    the data's name (``names``: rep id -> name), else its id.

    >>> segment_name("team", "EMEA"), segment_name("product × region", "A × EU")
    ('Team EMEA', 'A × EU (product × region)')
    >>> segment_name("rep", "R7", {"R7": "Ana Lima"})
    'Rep Ana Lima'
    """
    if segment in (REST, NOT_ALLOCATED):
        return segment.strip("()").capitalize() if segment == REST else "The target not allocated"
    if dimension == "team":
        return f"Team {segment}"
    if dimension == "rep":
        return f"Rep {(names or {}).get(segment, segment)}"
    return f"{segment} ({dimension})"


def driver_line(
    k: KPI,
    dimension: str,
    p: Part,
    currency: str = "USD",
    change: str = "",
    names: dict[str, str] | None = None,
) -> str:
    """One driver in words: "EMEA explains 71 % (-$14,000)"; for a ratio with its rate and
    mix effects. A part larger than the whole change, or against it, is said with its
    amount, since a share above 100 % or below 0 reads badly: "EMEA: +$52,508, more than
    the whole rise", "US: -$3,659, against the rise" (``change``: "rise" or "fall").

    >>> from kpi_helpers.catalog import get
    >>> driver_line(get("deals_won"), "team", Part("EMEA", -14.0, 20.0, 34.0, share=0.71))
    'Team EMEA explains 71 % (-14)'
    >>> driver_line(get("deals_won"), "team", Part("US", 3.0, 9.0, 6.0, share=-0.3), "USD", "fall")
    'Team US: +3, against the fall'
    """
    amount = amount_text(k, p.contribution, currency)
    effects = ""
    if p.rate_effect is not None and p.rate_effect and p.mix_effect:
        effects = (
            f"its own rate {amount_text(k, p.rate_effect, currency)}, "
            f"mix {amount_text(k, p.mix_effect, currency)}"
        )
    name = segment_name(dimension, p.segment, names)
    beyond = ""
    if math.isfinite(p.share) and change and p.share > 1.005:
        beyond = f"more than the whole {change}"
    elif math.isfinite(p.share) and change and p.share < -0.005:
        beyond = f"against the {change}"
    if beyond:
        return f"{name}: {amount}, {beyond}" + (f" ({effects})" if effects else "")
    share = f"{p.share * 100:.0f} %" if math.isfinite(p.share) else "part"
    return f"{name} explains {share} ({amount}" + (f": {effects})" if effects else ")")


def paragraph(out, k: KPI, currency: str = "USD") -> str:
    """The paragraph: what changed, then the drivers ("explains", never "because")."""
    what = "its target" if out.base == "target" else out.base_month
    v = format_value(out.value, k.unit, currency)
    bv = format_value(out.base_value, k.unit, currency)
    if out.reason:
        return f"{k.name}: no drivers against {what}: {out.reason}."
    change = out.change
    if not moved(out, k) or v == bv and out.kind != "none" and not out.drivers:
        head = f"{k.name} is unchanged ({v}) against {what}"
        parts = [
            (d, p)
            for d, ps in out.dimensions.items()
            for p in ps
            if "×" not in d and math.isfinite(p.contribution)
        ]
        parts = sorted(parts, key=lambda dp: -abs(dp[1].contribution or 0))[:2]
        if len(parts) == 2 and parts[0][1].contribution and parts[1][1].contribution:
            (d1, p1), (d2, p2) = parts
            return (
                f"{head}: {segment_name(d1, p1.segment, out.names)} "
                f"({amount_text(k, p1.contribution, currency)}) and "
                f"{segment_name(d2, p2.segment, out.names)} "
                f"({amount_text(k, p2.contribution, currency)}) "
                "offset each other."
            )
        return head + "."
    vs = "against its target" if out.base == "target" else f"from {out.base_month} to {out.month}"
    head = f"{k.name} {moved_words(out, k, currency)} ({bv} -> {v}) {vs}"
    if out.kind == "none":
        return (
            f"{head}. A {'median, model or growth rate' if k.formula else 'model'} has no "
            "exact split into parts: each segment's value on both sides is shown instead."
        )
    if not out.drivers:
        return head + "."
    word = "rise" if change > 0 else "fall"
    lines = [driver_line(k, d, p, currency, word, out.names) for d, p in out.drivers]
    text = f"{head}: " + "; ".join(lines)
    if out.drivers and abs(out.rest) > 1e-9 * max(1.0, abs(change)):
        rest = amount_text(k, out.rest, currency)
        text += f"; everything else {rest}" + (", against it" if out.rest * change < 0 else "")
    offset = any(p.share > 1.005 or p.share < -0.005 for _, p in out.drivers)
    return text + (" (the parts offset each other)." if offset else ".")


def rendered(e, k: KPI, fmt: str, currency: str = "USD") -> str:
    """An Explanation as ``kpi-kit explain`` prints it: ``text`` (the paragraph, then a
    table of the chosen drivers and the skipped dimensions), ``json`` or ``csv``."""
    if fmt == "json":
        import json

        return json.dumps(e.as_dict(), indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return e.frame().to_csv(index=False)
    lines = [e.text, ""]
    if e.drivers:
        lines.append(f"{'driver':<40} {'contribution':>14} {'share':>7}")
        for d, p in e.drivers:
            share = f"{p.share * 100:.0f} %" if math.isfinite(p.share) else ""
            name = segment_name(d, p.segment, e.names)[:40]
            lines.append(f"{name:<40} {amount_text(k, p.contribution, currency):>14} {share:>7}")
        lines.append(f"{'everything else':<40} {amount_text(k, e.rest, currency):>14}")
    for d, why in e.skipped.items():
        lines.append(f"not split by {d}: {why}")
    return "\n".join(lines).rstrip() + "\n"


def why_line(e, k: KPI, currency: str = "USD", top: int = 2) -> str:
    """What moved and its ``top`` drivers, in one line, as an alert carries it:
    "Deals closed (won) fell 41.2 %: Team EMEA explains 71 % (-10)"; "" without drivers.

    >>> from kpi_helpers.catalog import get
    >>> from kpi_helpers.drivers.explain import Explanation
    >>> e = Explanation("deals_won", "company", "2026-05", "previous", "2026-04", 20.0,
    ...                 34.0, "additive", drivers=[("team", Part("EMEA", -10.0, 5.0, 15.0,
    ...                 share=10 / 14))], rest=-4.0)
    >>> why_line(e, get("deals_won"))
    'Deals closed (won) fell 41.2 %: Team EMEA explains 71 % (-10)'
    """
    if not e.drivers or not moved(e, k):
        return ""
    word = "rise" if e.change > 0 else "fall"
    lines = [driver_line(k, d, p, currency, word, e.names) for d, p in e.drivers[:top]]
    return f"{k.name} {moved_words(e, k, currency)}: " + "; ".join(lines)


def entry(e, k: KPI, currency: str = "USD") -> dict:
    """An Explanation as a pack's snapshot keeps it (``drivers.json``): what a page, the
    index, an alert and the e-mail show, already in words, so they never recompute nor
    import this package. ``bridge``: the waterfall's steps from the base value through
    each driver and "everything else" to the month's value, each ``(label, amount)``.

    >>> from kpi_helpers.catalog import get
    >>> from kpi_helpers.drivers.explain import Explanation
    >>> e = Explanation("deals_won", "company", "2026-05", "previous", "2026-04", 20.0,
    ...                 34.0, "additive", drivers=[("team", Part("EMEA", -10.0, 5.0, 15.0,
    ...                 share=10 / 14))], rest=-4.0, text="Deals won fell ...")
    >>> x = entry(e, get("deals_won"))
    >>> x["bridge"], x["top"]
    ([['Team EMEA', -10.0], ['Everything else', -4.0]], ['Team EMEA explains 71 % (-10)'])
    """
    word = "rise" if e.change > 0 else "fall"
    drivers = [
        {
            "dimension": d,
            "segment": p.segment,
            "label": segment_name(d, p.segment, e.names),
            "contribution": p.contribution,
            "share": p.share if math.isfinite(p.share) else None,
            "amount": amount_text(k, p.contribution, currency),
            "line": driver_line(k, d, p, currency, word, e.names),
        }
        for d, p in e.drivers
    ]
    bridge = [[x["label"], x["contribution"]] for x in drivers]
    if drivers and abs(e.rest) > 1e-9 * max(1.0, abs(e.change)):
        bridge.append(["Everything else", e.rest])
    finite = all(math.isfinite(x) for x in (e.value, e.base_value))
    return {
        "kpi": e.kpi,
        "name": k.name,
        "unit": k.unit,
        "scope": e.scope,
        "base": e.base,
        "month": e.month,
        "base_month": e.base_month,
        "value": e.value if finite else None,
        "base_value": e.base_value if finite else None,
        "change": e.change if finite else None,
        "kind": e.kind,
        "text": e.text,
        "drivers": drivers,
        "top": [x["line"] for x in drivers[:2]],
        "why": why_line(e, k, currency) if drivers and finite else "",
        "bridge": bridge,
        "reason": e.reason,
    }
