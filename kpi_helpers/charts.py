"""Charts in one house style: readable fonts, a palette that survives grayscale printing
(colours differ in lightness as well as hue), units on the axes, titles that say what
the chart shows, one size for every figure.

Every function returns a matplotlib Figure; ``kpi_helpers.notebook.show`` displays and
closes it. Text from the data is never parsed as math (``text.parse_math`` is off), so
an account called "$5 & Co" prints as written.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# dark blue, orange, mid grey, light blue, near black, sand: distinct in grayscale too
PALETTE = ["#1f3b73", "#e07b00", "#7f8c99", "#9cc3e6", "#2b2b2b", "#d9c59a"]
GOOD, BAD, NEUTRAL_C = "#1f3b73", "#e07b00", "#7f8c99"
SIZE = (7.2, 3.2)
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.figsize": SIZE,
    "legend.frameon": False,
    "text.parse_math": False,
}
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def apply_style() -> None:
    """Use the house style for every figure drawn after this call."""
    plt.rcParams.update(STYLE)


def _short(x: float) -> str:
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{x:,.0f}" if abs(x) >= 10 or x == int(x) else f"{x:,.2f}"


def format_value(value: float, unit: str, currency: str = "USD") -> str:
    """A KPI value as people read it.

    >>> format_value(1234567.8, "currency", "EUR"), format_value(42.857, "percent")
    ('€1,234,568', '42.9 %')
    >>> format_value(float("nan"), "count")
    'n/a'
    """
    if value is None or pd.isna(value):
        return "n/a"
    if unit == "currency":
        symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
        sign = "-" if value < 0 else ""
        return (
            f"{sign}{symbol}{abs(value):,.0f}"
            if abs(value) >= 100
            else (f"{sign}{symbol}{abs(value):,.2f}")
        )
    if unit == "percent":
        return f"{value:,.1f} %"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "hours":
        return f"{value:,.1f} h"
    if unit == "ratio":
        return f"{value:,.2f}×"
    if unit == "score":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def axis_formatter(unit: str, currency: str = "USD") -> FuncFormatter:
    """Tick labels with the unit: $1.2M, 40 %, 3 days."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")

    def fmt(x, _pos):
        if unit == "currency":
            return ("-" if x < 0 else "") + symbol + _short(abs(x))
        if unit == "percent":
            return f"{x:,.0f} %"
        if unit == "days":
            return f"{x:,.0f} d"
        if unit == "hours":
            return f"{x:,.0f} h"
        if unit == "ratio":
            return f"{x:,.1f}×"
        return _short(x)

    return FuncFormatter(fmt)


def _fig(height: float = SIZE[1]) -> tuple[Figure, plt.Axes]:
    apply_style()
    fig, ax = plt.subplots(figsize=(SIZE[0], height), layout="constrained")
    return fig, ax


def trend_chart(
    series: pd.Series, title: str, unit: str, currency: str = "USD", target: pd.Series | None = None
) -> Figure:
    """A monthly line (index "YYYY-MM"), the last month marked, an optional target line."""
    fig, ax = _fig(2.6)
    x = np.arange(len(series))
    ax.plot(
        x,
        series.to_numpy(float),
        marker="o",
        markersize=3.5,
        linewidth=2,
        color=PALETTE[0],
        label="actual",
    )
    if len(series):
        ax.plot(x[-1], series.iloc[-1], marker="o", markersize=7, color=PALETTE[1])
    if target is not None and target.notna().any():
        ax.plot(
            x,
            target.to_numpy(float),
            linestyle="--",
            linewidth=1.4,
            color=PALETTE[2],
            label="target",
        )
        ax.legend(loc="upper left", fontsize=8.5)
    ax.set_xticks(
        x, [m[2:] if i % 2 == 0 else "" for i, m in enumerate(series.index)], fontsize=8.5
    )
    ax.yaxis.set_major_formatter(axis_formatter(unit, currency))
    if unit == "count":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    return fig


def bar_chart(
    labels: list[str],
    values: list[float],
    title: str,
    unit: str,
    currency: str = "USD",
    horizontal: bool = True,
) -> Figure:
    """Bars with value labels; horizontal for long category names."""
    fig, ax = _fig(max(2.2, 0.38 * len(labels) + 1.0) if horizontal else SIZE[1])
    labels = [str(v) for v in labels]
    if horizontal:
        y = np.arange(len(labels))[::-1]
        bars = ax.barh(y, values, color=PALETTE[0])
        ax.set_yticks(y, labels)
        ax.xaxis.set_major_formatter(axis_formatter(unit, currency))
        ax.grid(axis="x")
        ax.grid(axis="y", visible=False)
    else:
        bars = ax.bar(labels, values, color=PALETTE[0])
        ax.yaxis.set_major_formatter(axis_formatter(unit, currency))
    ax.bar_label(
        bars, labels=[format_value(v, unit, currency) for v in values], fontsize=8, padding=3
    )
    ax.set_title(title)
    return fig


def funnel_chart(steps: pd.DataFrame, title: str) -> Figure:
    """Funnel steps (columns step, leads, conversion_from_previous) as shrinking bars."""
    fig, ax = _fig(2.8)
    y = np.arange(len(steps))[::-1]
    bars = ax.barh(y, steps["leads"], color=[PALETTE[i % 2] for i in range(len(steps))])
    labels = [
        f"{int(n):,}" + ("" if pd.isna(c) else f"  ({c:.0f} % of previous)")
        for n, c in zip(steps["leads"], steps["conversion_from_previous"], strict=True)
    ]
    ax.bar_label(bars, labels=labels, fontsize=8, padding=3)
    ax.set_yticks(y, steps["step"])
    ax.set_xlabel("leads")
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_title(title)
    return fig


def waterfall_chart(
    start: float, steps: list[tuple[str, float]], end_label: str, title: str, currency: str = "USD"
) -> Figure:
    """A waterfall from ``start`` through signed ``steps`` to the end total."""
    fig, ax = _fig(3.0)
    labels, bottoms, heights, colors = ["start"], [0.0], [start], [NEUTRAL_C]
    level = start
    for name, delta in steps:
        labels.append(name)
        bottoms.append(level if delta >= 0 else level + delta)
        heights.append(abs(delta))
        colors.append(GOOD if delta >= 0 else BAD)
        level += delta
    labels.append(end_label)
    bottoms.append(0.0)
    heights.append(level)
    colors.append(NEUTRAL_C)
    bars = ax.bar(labels, heights, bottom=bottoms, color=colors, hatch=None)
    for bar, (_, delta) in zip(bars[1:-1], steps, strict=True):
        bar.set_hatch("" if delta >= 0 else "//")
    values = [start] + [d for _, d in steps] + [level]
    ax.bar_label(
        bars, labels=[format_value(v, "currency", currency) for v in values], fontsize=8, padding=2
    )
    ax.yaxis.set_major_formatter(axis_formatter("currency", currency))
    # zoom on the movements: the start and end bars are cut (their labels keep the totals)
    levels = [b + h for b, h in zip(bottoms, heights, strict=True)] + bottoms[1:-1]
    biggest = max([abs(d) for _, d in steps] + [1.0])
    low = max(0.0, min(levels) - 1.5 * biggest)
    ax.set_ylim(low, max(levels) + 0.3 * biggest)
    ax.set_title(title)
    return fig


def heatmap(matrix: pd.DataFrame, title: str, unit: str = "percent") -> Figure:
    """A cohort-style heatmap (rows: cohorts, columns: months since start), values shown."""
    fig, ax = _fig(max(2.4, 0.28 * len(matrix) + 1.2))
    data = matrix.to_numpy(float)
    ax.imshow(
        np.ma.masked_invalid(data),
        cmap="Blues",
        aspect="auto",
        vmin=0,
        vmax=np.nanmax(data) if np.isfinite(data).any() else 1,
    )
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], fontsize=8)
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index], fontsize=8)
    ax.grid(False)
    top = np.nanmax(data) if np.isfinite(data).any() else 1
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                f"{v:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v > 0.6 * top else "#2b2b2b",
            )
    ax.set_xlabel("months since first purchase")
    ax.set_title(title)
    return fig


def histogram(values: pd.Series, title: str, unit: str, bins: int = 20) -> Figure:
    """The distribution of ``values`` with its median marked."""
    fig, ax = _fig(2.6)
    v = values.dropna().to_numpy(float)
    if len(v):
        ax.hist(v, bins=bins, color=PALETTE[3], edgecolor=PALETTE[0])
        med = float(np.median(v))
        ax.axvline(med, color=PALETTE[1], linewidth=2, label=f"median {format_value(med, unit)}")
        ax.legend(fontsize=8.5)
    ax.xaxis.set_major_formatter(axis_formatter(unit))
    ax.set_ylabel("leads")
    ax.set_title(title)
    return fig
