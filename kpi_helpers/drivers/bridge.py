"""The arithmetic of "why it moved" (KPI_CATALOG.md, "Why it moved"): numbers in,
contributions out, nothing read from data.

A change D = K(m) - K(b) is split over the segments of one partition so that the parts
add up to D exactly:

- :func:`additive`: c_i = K_i(m) - K_i(b);
- :func:`ratio`: the midpoint rate/mix split of K = N / D_en;
- :func:`additive_target` / :func:`ratio_target`: against a target, with the part
  "target not allocated";
- :func:`pick`: the fewest drivers of one partition that explain at least 80 % of D.

>>> parts = additive({"EMEA": (60.0, 100.0), "US": (50.0, 40.0)})
>>> [(p.segment, p.contribution) for p in parts]
[('EMEA', -40.0), ('US', 10.0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

REST = "(rows of no segment)"  # what the scope holds beyond the sum of its segments
NOT_ALLOCATED = "target not allocated"
EXPLAINED = 0.8  # the drivers explain at least this share of the change
MAX_DRIVERS = 5


@dataclass
class Part:
    """One segment's part of a change: its contribution (for a ratio split into the rate
    and the mix effect), its value on both sides (``value``: month m, ``base_value``: the
    base) and its share of the change (contribution / change; NaN when the change is 0)."""

    segment: str
    contribution: float
    value: float
    base_value: float
    rate_effect: float | None = None
    mix_effect: float | None = None
    share: float = math.nan

    def as_dict(self) -> dict:
        """The part as plain values (JSON: NaN becomes None), in the order of its fields
        (read directly: ``dataclasses.asdict`` deep-copies, which a pack's every part
        of every partition would pay)."""
        return {k: _plain(getattr(self, k)) for k in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Part))


def _plain(v: object) -> object:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _shares(parts: list[Part]) -> list[Part]:
    change = sum(p.contribution for p in parts)
    for p in parts:
        p.share = p.contribution / change if change else math.nan
    return parts


def additive(
    segments: dict[str, tuple[float, float]], total: tuple[float, float] | None = None
) -> list[Part]:
    """Contributions of an additive KPI: ``segments`` maps each segment to its value in m
    and in the base (a segment on one side only is 0 on the other); ``total`` (the
    scope's K(m), K(b)) adds the part :data:`REST` when the segments do not add up to it.

    >>> [(p.segment, p.contribution, round(p.share, 2)) for p in additive(
    ...     {"a": (5.0, 0.0), "b": (0.0, 3.0)}, total=(7.0, 3.0))]
    [('a', 5.0, 1.25), ('b', -3.0, -0.75), ('(rows of no segment)', 2.0, 0.5)]
    """
    parts = [Part(s, now - before, now, before) for s, (now, before) in segments.items()]
    if total is not None:
        now = total[0] - sum(v[0] for v in segments.values())
        before = total[1] - sum(v[1] for v in segments.values())
        if _material(now - before, total) or _material(now, total) or _material(before, total):
            parts.append(Part(REST, now - before, now, before))
    return _shares(parts)


def _material(x: float, scale: tuple[float, ...]) -> bool:
    """Whether ``x`` is more than rounding next to the numbers of ``scale``."""
    return abs(x) > 1e-9 * max([1.0, *(abs(s) for s in scale)])


def ratio(
    numerator: dict[str, tuple[float, float]],
    denominator: dict[str, tuple[float, float]],
    total: tuple[float, float, float, float],
    scale: float = 1.0,
) -> list[Part]:
    """The midpoint rate/mix split of K = scale x N / D over segments i:

    rate_i = (r_i(m) - r_i(b)) x (w_i(m) + w_i(b)) / 2,
    mix_i = (w_i(m) - w_i(b)) x (r_i(m) + r_i(b)) / 2,

    with w_i = D_i / D and r_i = N_i / D_i; ``total`` is (N(m), D(m), N(b), D(b)) of the
    scope. A segment without a denominator on one side (absent, or a numerator from
    another table) has no rate effect: its whole contribution N_i(m)/D(m) - N_i(b)/D(b)
    is mix. Numerator rows of no segment (N - sum N_i) are the part :data:`REST`.

    Win rate 50 % -> 40 %: EMEA won 2 of 4 then 1 of 4, US 2 of 4 then 3 of 6:

    >>> parts = ratio({"EMEA": (1, 2), "US": (3, 2)}, {"EMEA": (4, 4), "US": (6, 4)},
    ...               (4, 10, 4, 8), scale=100)
    >>> [(p.segment, round(p.rate_effect, 2), round(p.mix_effect, 2)) for p in parts]
    [('EMEA', -11.25, -3.75), ('US', 0.0, 5.0)]
    >>> round(sum(p.contribution for p in parts), 9)
    -10.0
    """
    n_m, d_m, n_b, d_b = total
    parts = []
    for s in sorted(set(numerator) | set(denominator), key=list(numerator | denominator).index):
        nm, nb = numerator.get(s, (0.0, 0.0))
        dm, db = denominator.get(s, (0.0, 0.0))
        c = (nm / d_m - nb / d_b) * scale
        value = nm / dm * scale if dm else math.nan
        base_value = nb / db * scale if db else math.nan
        if dm and db:
            rm, rb, wm, wb = nm / dm, nb / db, dm / d_m, db / d_b
            rate = (rm - rb) * (wm + wb) / 2 * scale
            mix = (wm - wb) * (rm + rb) / 2 * scale
        else:
            rate, mix = 0.0, c
        parts.append(Part(s, rate + mix, value, base_value, rate, mix))
    rest_m = n_m - sum(v[0] for v in numerator.values())
    rest_b = n_b - sum(v[1] for v in numerator.values())
    if _material(rest_m, (n_m,)) or _material(rest_b, (n_b,)):
        c = (rest_m / d_m - rest_b / d_b) * scale
        parts.append(Part(REST, c, math.nan, math.nan, 0.0, c))
    return _shares(parts)


def additive_target(
    values: dict[str, float], targets: dict[str, float], target: float
) -> list[Part]:
    """An additive KPI against its target T: D = sum_i (K_i - T_i) + (sum_i T_i - T); a
    missing T_i is 0; the last term is the part :data:`NOT_ALLOCATED`.

    >>> [(p.segment, p.contribution) for p in additive_target(
    ...     {"EMEA": 80.0, "US": 50.0}, {"EMEA": 100.0}, 120.0)]
    [('EMEA', -20.0), ('US', 50.0), ('target not allocated', -20.0)]
    """
    parts = [Part(s, v - targets.get(s, 0.0), v, targets.get(s, 0.0)) for s, v in values.items()]
    gap = sum(targets.get(s, 0.0) for s in values) - target
    if _material(gap, (target,)):
        parts.append(Part(NOT_ALLOCATED, gap, math.nan, math.nan))
    return _shares(parts)


def ratio_target(
    numerator: dict[str, float],
    denominator: dict[str, float],
    targets: dict[str, float],
    target: float,
    scale: float = 1.0,
) -> list[Part]:
    """A ratio against its target T: D = sum_i w_i(m) (r_i - T_i) + (sum_i w_i(m) T_i - T);
    a missing T_i is the scope's target T. ``numerator`` / ``denominator``: N_i, D_i in m
    (their sums are the scope's N and D); T and T_i in the KPI's unit (x ``scale``).

    >>> [(p.segment, p.contribution) for p in ratio_target(
    ...     {"a": 1.0, "b": 3.0}, {"a": 5.0, "b": 5.0}, {"a": 30.0}, 50.0, scale=100)]
    [('a', -5.0), ('b', 5.0), ('target not allocated', -10.0)]
    """
    den = sum(denominator.values())
    parts, allocated = [], 0.0
    for s, d in denominator.items():
        w, t = d / den, targets.get(s, target)
        r = numerator.get(s, 0.0) / d * scale if d else math.nan
        parts.append(Part(s, w * (r - t) if d else 0.0, r, t))
        allocated += w * t
    if _material(allocated - target, (target,)):
        parts.append(Part(NOT_ALLOCATED, allocated - target, math.nan, math.nan))
    return _shares(parts)


def pick(partitions: dict[str, list[Part]], change: float) -> tuple[str, list[Part], float] | None:
    """The partition that needs the fewest drivers (the first listed on ties: single
    dimensions come before crosses), its drivers, and what the rest adds up to
    ("everything else"): the shortest list ranked by |contribution| with
    |change - their sum| <= 20 % of |change|, at most :data:`MAX_DRIVERS`; when no
    partition gets there, the one whose five largest explain the most. None when the
    change is 0 or nothing is split.

    >>> a = additive({"EMEA": (60.0, 100.0), "US": (50.0, 40.0)})
    >>> b = additive({"new": (70.0, 70.0), "renewal": (40.0, 70.0)})
    >>> name, drivers, rest = pick({"team": a, "deal_type": b}, -30.0)
    >>> name, [d.segment for d in drivers], rest
    ('deal_type', ['renewal'], 0.0)
    """
    if not change or not partitions:
        return None
    best: tuple[tuple, str, list[Part]] | None = None
    for name, parts in partitions.items():
        ranked = sorted(parts, key=lambda p: -abs(p.contribution))[:MAX_DRIVERS]
        sums = [sum(p.contribution for p in ranked[: i + 1]) for i in range(len(ranked))]
        enough = [abs(change - x) <= (1 - EXPLAINED) * abs(change) for x in sums]
        chosen = ranked[: enough.index(True) + 1] if True in enough else ranked
        n = len(chosen)
        left = abs(change - sum(p.contribution for p in chosen))
        done = left <= (1 - EXPLAINED) * abs(change) * (1 + 1e-12)
        rank = (not done, n if done else left)
        if best is None or rank < best[0]:
            best = (rank, name, chosen)
    assert best is not None
    _, name, chosen = best
    return name, chosen, change - sum(p.contribution for p in chosen)
