"""Charts in one house style: readable fonts, a palette that survives grayscale printing
(colours differ in lightness as well as hue), units on the axes, titles that say what
the chart shows, one size for every figure.

Every function returns a matplotlib Figure; ``kpi_helpers.report.notebook.show`` displays and
closes it. Text from the data is never parsed as math (``text.parse_math`` is off), so
an account called "$5 & Co" prints as written.
"""

from __future__ import annotations

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from kpi_helpers.catalog import (  # noqa: F401 (charts.format_* for pages)
    CURRENCY_SYMBOLS,
    SCALES,
    SUFFIXES,
    format_change,
    format_kpi,
    format_value,
    tick_decimals,
)
from kpi_helpers.core import Month

from .pages import change_tone

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


def apply_style() -> None:
    """Use the house style for every figure drawn after this call."""
    plt.rcParams.update(STYLE)


class AxisFormatter(Formatter):
    """Tick labels with the unit ($1.2M, 1.5 %, 3 d) whose precision follows the ticks
    shown: ticks 0.5 % apart print one decimal, 20 % apart none, so labels never repeat."""

    def __init__(self, unit: str, currency: str = "USD"):
        self.unit, self.currency = unit, currency
        self.div, self.letter, self.decimals = 1.0, "", 0

    def format_ticks(self, values) -> list[str]:
        top = max((abs(v) for v in values if np.isfinite(v)), default=0.0)
        self.div, self.letter = 1.0, ""
        if self.unit not in SUFFIXES:  # currency and counts: thousands, millions, billions
            for div, letter in SCALES:
                if top >= div:
                    self.div, self.letter = div, letter
                    break
        self.decimals = tick_decimals([v / self.div for v in values])
        return [self(v) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        number = f"{abs(x) / self.div:,.{self.decimals}f}{self.letter}"
        sign = "-" if x < 0 and float(number.rstrip("kMB").replace(",", "")) != 0 else ""
        if self.unit == "currency":
            return sign + CURRENCY_SYMBOLS.get(self.currency, self.currency + " ") + number
        return sign + number + SUFFIXES.get(self.unit, "")


def axis_formatter(unit: str, currency: str = "USD") -> AxisFormatter:
    """Tick labels with the unit: $1.2M, 40 %, 3 d (see :class:`AxisFormatter`)."""
    return AxisFormatter(unit, currency)


def _fig(height: float = SIZE[1]) -> tuple[Figure, plt.Axes]:
    apply_style()
    fig, ax = plt.subplots(figsize=(SIZE[0], height), layout="constrained")
    return fig, ax


def _actual_line(ax: plt.Axes, x, values: pd.Series) -> None:
    """The monthly actuals: the house line with dots."""
    ax.plot(
        x,
        values.to_numpy(float),
        marker="o",
        markersize=3.5,
        linewidth=2,
        color=PALETTE[0],
        label="actual",
    )


def span_title(name: str, months: list[str], window: int) -> str:
    """A trend chart's title: the KPI and the months it shows ("YYYY-MM", in order) out of
    the page's ``window``: "since March 2017" when the KPI's data starts inside the window
    (the months before it have no value), else "last 13 months".

    >>> span_title("Bookings", ["2017-03", "2017-04"], 13)
    'Bookings, since March 2017'
    >>> span_title("Bookings", ["2017-03", "2017-04"], 2)
    'Bookings, last 2 months'
    """
    if months and len(months) < window:
        return f"{name}, since {Month.parse(months[0]).label}"
    return f"{name}, last {len(months)} months"


def trend_chart(
    series: pd.Series, title: str, unit: str, currency: str = "USD", target: pd.Series | None = None
) -> Figure:
    """A monthly line (index "YYYY-MM"), the last month marked, an optional target line."""
    fig, ax = _fig(2.6)
    x = np.arange(len(series))
    _actual_line(ax, x, series)
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
    ax.set_xticks(x, tick_labels([str(m) for m in series.index]), fontsize=8.5)
    ax.yaxis.set_major_formatter(axis_formatter(unit, currency))
    if unit == "count":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    finite = series.to_numpy(float)[np.isfinite(series.to_numpy(float))]
    if len(finite) and finite.min() >= 0:
        # a KPI that is never negative gets no negative ticks; a flat line is drawn from 0
        # (not centred in a band of +-0.05 that reads "-0.04 %" for a churn of 0)
        top = (finite.max() * 1.5 or 1.0) if finite.max() == finite.min() else None
        ax.set_ylim(bottom=0, top=top)
    ax.set_title(title)
    return fig


def tick_labels(labels: list[str]) -> list[str]:
    """A trend's x labels: 13 months every other one, shortened ("26-10"); quarters and
    years each one, their century dropped ("26-Q4", "FY27-Q1", "FY27").

    >>> tick_labels(["2026-09", "2026-10", "2026-11"])
    ['26-09', '', '26-11']
    >>> tick_labels(["FY2027-Q1", "FY2027-Q2"]), tick_labels(["2026-Q4", "FY2027"])
    (['FY27-Q1', 'FY27-Q2'], ['26-Q4', 'FY27'])
    """
    short = [re.sub(r"^(FY)?[0-9]{2}([0-9]{2})", r"\1\2", m) for m in labels]
    if all(re.fullmatch(r"[0-9]{2}-[0-9]{2}", m) for m in short):  # months
        return [m if i % 2 == 0 else "" for i, m in enumerate(short)]
    return short


def bar_chart(
    labels: list[str],
    values: list[float],
    title: str,
    unit: str,
    currency: str = "USD",
    horizontal: bool = True,
) -> Figure:
    """Bars with value labels; horizontal for long category names. A negative bar's label
    sits beyond its tip, inside the axes (the movement chart of the pipeline page).

    Example: ``bar_chart(["start", "won", "end"], [1000, -800, 200], "Movement", "currency")``.
    """
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
    if min(values, default=0) < 0:  # room beyond a negative bar's tip for its label, clear
        ax.margins(**{"x" if horizontal else "y": 0.2})  # of the category names
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


def step_colour(delta: float, better: str) -> str:
    """The colour of a change of ``delta`` for a KPI whose ``better`` is up, down or
    neutral (``pages.change_tone``: no change is neutral grey).

    >>> step_colour(-3.0, "down") == GOOD, step_colour(-3.0, "up") == BAD
    (True, True)
    >>> step_colour(0.0, "up") == step_colour(5.0, "neutral") == NEUTRAL_C
    True
    """
    return {"good": GOOD, "bad": BAD}.get(change_tone(delta, better), NEUTRAL_C)


def waterfall_chart(
    start: float,
    steps: list[tuple[str, float]],
    end_label: str,
    title: str,
    currency: str = "USD",
    unit: str = "currency",
    start_label: str = "start",
    better: str = "up",
) -> Figure:
    """A waterfall from ``start`` through signed ``steps`` to the end total, in ``unit``
    (a KPI's unit: currency, count, percent...). "Why it moved" draws the bridge from
    last month's value through each driver and "everything else" to this month's:
    ``waterfall_chart(46.0, [("Team EMEA", -4.3), ("Everything else", -1.7)],
    "May 2026", "Win rate", unit="percent", start_label="April 2026")``. A step is
    green when it moves the KPI the way it reads ``better`` (its catalog direction: a
    fall of a lower-is-better KPI is green), red the other way, grey for a neutral KPI;
    a fall is hatched."""
    fig, ax = _fig(3.0)
    labels, bottoms, heights, colors = [start_label], [0.0], [start], [NEUTRAL_C]
    level = start
    for name, delta in steps:
        labels.append(name)
        bottoms.append(level if delta >= 0 else level + delta)
        heights.append(abs(delta))
        colors.append(step_colour(delta, better))
        level += delta
    labels.append(end_label)
    bottoms.append(0.0)
    heights.append(level)
    colors.append(NEUTRAL_C)
    bars = ax.bar(labels, heights, bottom=bottoms, color=colors, hatch=None)
    for bar, (_, delta) in zip(bars[1:-1], steps, strict=True):
        bar.set_hatch("" if delta >= 0 else "//")
    texts = [format_value(start, unit, currency)]
    for _, d in steps:
        t = f"{d:.1f} pp" if unit == "percent" else format_value(d, unit, currency)
        texts.append(t if t.startswith("-") else "+" + t)
    texts.append(format_value(level, unit, currency))
    ax.bar_label(bars, labels=texts, fontsize=8, padding=2)
    ax.yaxis.set_major_formatter(axis_formatter(unit, currency))
    # zoom on the movements: the start and end bars are cut (their labels keep the totals)
    levels = [b + h for b, h in zip(bottoms, heights, strict=True)] + bottoms[1:-1]
    biggest = max([abs(d) for _, d in steps] + [abs(start) * 1e-6, 1e-9])
    low = min(levels) - 1.5 * biggest
    if min(start, level) >= 0:
        low = max(0.0, low)
    ax.set_ylim(low, max(levels) + 0.3 * biggest)
    if len(labels) > 5:
        ax.tick_params(axis="x", labelsize=8)
        plt.setp(ax.get_xticklabels(), rotation=15, ha="right")
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


def histogram(
    values: pd.Series,
    title: str,
    unit: str,
    bins: int = 20,
    ylabel: str = "leads",
    currency: str = "USD",
) -> Figure:
    """The distribution of ``values`` with its median marked."""
    fig, ax = _fig(2.6)
    v = values.dropna().to_numpy(float)
    if len(v):
        ax.hist(v, bins=bins, color=PALETTE[3], edgecolor=PALETTE[0])
        med = float(np.median(v))
        label = f"median {format_value(med, unit, currency)}"
        ax.axvline(med, color=PALETTE[1], linewidth=2, label=label)
        ax.legend(fontsize=8.5)
    ax.xaxis.set_major_formatter(axis_formatter(unit, currency))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


def forecast_chart(
    actual: pd.Series,
    forecast: pd.DataFrame,
    title: str,
    unit: str,
    currency: str = "USD",
) -> Figure:
    """The months so far (index "YYYY-MM") and the next ones (``forecast``: month,
    forecast, lower, upper, method) with their 80 % interval shaded; the method named."""
    fig, ax = _fig(2.6)
    months = list(actual.index) + [m for m in forecast["month"] if m not in actual.index]
    x = {m: i for i, m in enumerate(months)}
    _actual_line(ax, [x[m] for m in actual.index], actual)
    fx = [x[m] for m in forecast["month"]]
    if len(actual):  # join the forecast to the last actual month
        fx0 = [x[actual.index[-1]], *fx]
        fy = [float(actual.iloc[-1]), *forecast["forecast"].astype(float)]
    else:
        fx0, fy = fx, list(forecast["forecast"].astype(float))
    ax.plot(fx0, fy, linestyle="--", marker="o", markersize=3.5, color=PALETTE[1],
            label=f"forecast ({forecast['method'].iloc[0]})")  # fmt: skip
    lower, upper = forecast["lower"].astype(float), forecast["upper"].astype(float)
    if lower.notna().any():
        ax.fill_between(fx, lower, upper, color=PALETTE[1], alpha=0.18, label="80 % interval")
    ax.set_xticks(range(len(months)), [m[2:] if i % 2 == 0 else "" for i, m in enumerate(months)],
                  fontsize=8.5)  # fmt: skip
    ax.yaxis.set_major_formatter(axis_formatter(unit, currency))
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title)
    return fig


def pace_chart(
    pace: pd.DataFrame, title: str, unit: str, currency: str = "USD", complete: bool = False
) -> Figure:
    """A bullet chart of the quarter's pace, one row per scope (``pace``: columns
    ``label``, ``actual``, ``pace``, ``lower``, ``upper``, ``target``): the QTD actual as
    a bar, the pace as a dot on its 80 % interval, the quarter's target as a tick. A
    ``complete`` quarter has no pace: its actual as a bar, and the target.

    >>> df = pd.DataFrame({"label": ["EMEA"], "actual": [3.0], "pace": [5.0],
    ...     "lower": [4.5], "upper": [5.6], "target": [5.2]})
    >>> len(pace_chart(df, "Bookings: on pace?", "currency").axes)
    1
    """
    fig, ax = _fig(max(2.4, 0.5 * len(pace) + 1.6))
    y = np.arange(len(pace))[::-1]
    done = "quarter's actual" if complete else "quarter to date"
    ax.barh(y, pace["actual"], height=0.5, color=PALETTE[3], label=done)
    if not complete:  # a complete quarter has nothing left to forecast
        ax.hlines(y, pace["lower"], pace["upper"], color=PALETTE[0], linewidth=2.2,
                  label="pace, 80 % interval")  # fmt: skip
        ax.plot(pace["pace"], y, "o", color=PALETTE[0], markersize=6)
    has = pace["target"].notna()
    if has.any():
        ax.plot(pace["target"][has], y[has.to_numpy()], "|", color=BAD, markersize=22,
                markeredgewidth=2.5, label="quarter target")  # fmt: skip
    ax.set_yticks(y, [str(v) for v in pace["label"]])
    ax.xaxis.set_major_formatter(axis_formatter(unit, currency))
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_ylim(-0.7, len(pace) - 0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8,
              markerscale=0.5)  # fmt: skip
    ax.set_title(title)
    return fig
