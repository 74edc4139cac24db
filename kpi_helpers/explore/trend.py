"""The explorer's trend as SVG: drawn in a few milliseconds on every interaction
(a matplotlib PNG takes ten times the explorer's budget). Months on x, the KPI's actual
line (the month shown marked), its target dashed, and where the snapshot has a forecast
the next months with their 80 % interval shaded. Text goes through the autoescaping
template (``explore.html.j2``'s ``trend``).

>>> s = pd.Series([1.0, 3.0], index=["2026-01", "2026-02"])
>>> c = trend_layout(s, pd.Series([2.0, 2.0], index=s.index), None, "Deals", str)
>>> c["dots"][-1][2], len(c["target"]), c["yticks"][0][1]
('2026-02: 3.0', 1, '0.0')
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

WIDTH, HEIGHT = 720, 230
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 26, 26


def _runs(xs: list[float], ys: list[float]) -> list[str]:
    """SVG polyline point lists, broken where a value is missing."""
    runs, cur = [], []
    for x, y in zip(xs, ys, strict=True):
        if np.isfinite(y):
            cur.append(f"{x:.1f},{y:.1f}")
        elif cur:
            runs.append(" ".join(cur))
            cur = []
    if cur:
        runs.append(" ".join(cur))
    return runs


def trend_layout(
    values: pd.Series,
    target: pd.Series,
    forecast: pd.DataFrame | None,
    title: str,
    fmt: Callable[[float], str],
) -> dict:
    """The coordinates and labels the ``trend`` macro draws: ``values`` and ``target``
    indexed by month ("YYYY-MM"), ``forecast`` (month, forecast, lower, upper) or None,
    ``fmt`` a value's text (the KPI's format)."""
    months = list(values.index)
    ahead = [] if forecast is None else [m for m in forecast["month"] if m not in months]
    every = months + ahead
    v = values.to_numpy(float)
    t = target.reindex(months).to_numpy(float)
    seen = [v, t]
    if forecast is not None:
        seen += [forecast[c].to_numpy(float) for c in ("forecast", "lower", "upper")]
    allv = np.concatenate(seen) if seen else np.array([])
    allv = allv[np.isfinite(allv)]
    lo, hi = (min(0.0, allv.min()), allv.max()) if len(allv) else (0.0, 1.0)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    hi += (hi - lo) * 0.08
    step = (WIDTH - LEFT - RIGHT) / max(len(every) - 1, 1)
    xs = {m: LEFT + i * step for i, m in enumerate(every)}
    y = lambda val: TOP + (HEIGHT - TOP - BOTTOM) * (hi - val) / (hi - lo)  # noqa: E731
    out = dict(width=WIDTH, height=HEIGHT, left=LEFT, right=RIGHT, title=title)
    out["yticks"] = [(y(val), fmt(val)) for val in np.linspace(lo, hi, 4)]
    last = len(every) - 1
    out["xticks"] = [(xs[m], m[2:]) for i, m in enumerate(every) if (last - i) % 2 == 0]
    mx = [xs[m] for m in months]
    out["lines"] = _runs(mx, [y(val) if np.isfinite(val) else np.nan for val in v])
    out["target"] = _runs(mx, [y(val) if np.isfinite(val) else np.nan for val in t])
    out["dots"] = [
        (xs[m], y(val), f"{m}: {fmt(val)}")
        for m, val in zip(months, v, strict=True)
        if np.isfinite(val)
    ]
    legend = ["actual", "target (dashed)"] if np.isfinite(t).any() else ["actual"]
    out["band"] = out["forecast"] = ""
    if forecast is not None and len(v) and np.isfinite(v[-1]):
        fx = [xs[months[-1]], *[xs[m] for m in forecast["month"]]]
        fy = [y(v[-1]), *[y(val) for val in forecast["forecast"].astype(float)]]
        out["forecast"] = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(fx, fy, strict=True))
        lo_, up_ = forecast["lower"].astype(float), forecast["upper"].astype(float)
        if lo_.notna().all() and up_.notna().all():
            top = [f"{xs[m]:.1f},{y(u):.1f}" for m, u in zip(forecast["month"], up_, strict=True)]
            bot = [f"{xs[m]:.1f},{y(b):.1f}" for m, b in zip(forecast["month"], lo_, strict=True)]
            out["band"] = " ".join(top + bot[::-1])
            legend.append(f"forecast ({forecast['method'].iloc[0]}), 80 % band")
    out["legend"] = " · ".join(legend)
    return out
