"""The explorer: ipywidgets over :class:`~kpi_helpers.explore.numbers.Numbers`.

Controls ``Scope`` (with ``Find a rep`` to narrow its reps as you type), ``Month``,
``KPI`` (grouped by family) and ``Compare with`` (previous, year before, target); then the
breadcrumb (Company › EMEA › Jane Doe: each part goes back up), the KPI's card as on the
pages, its trend (target dashed; the 80 % band where the snapshot has a forecast), the
breakdown one level down (a bar per team or rep: click it, or pick it in the list beside,
to drill in), and the data shown as a table with "Download CSV".

Every HTML widget's text comes from an autoescaping template (the pages' blocks, or
``templates/explore.html.j2``); button labels are plain text. Example::

    ex = Explorer(Numbers(Snapshot("reports/2026-11/data")))
    ex.scope.value = "team:EMEA"        # redraws, as a click in JupyterLab does
    ex.widget                          # display it
"""

from __future__ import annotations

import base64
import re
from functools import cache
from typing import Any

import ipywidgets as w
import jinja2
import pandas as pd
from IPython.display import display

from kpi_helpers.catalog import format_kpi, get
from kpi_helpers.report import TEMPLATES
from kpi_helpers.report.charts import span_title
from kpi_helpers.report.html import blocks

from .numbers import COMPARE, Numbers
from .trend import trend_layout

BARS = 25  # bars drawn at most (the list beside holds every team or rep)
BAR_PX = 200  # the longest bar
NAME_WIDTH = "180px"
ROWS = 15  # table rows shown (the CSV holds all)


@cache
def explore_blocks() -> Any:
    """The explorer's template macros (Jinja2, autoescape on)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True
    )
    return env.get_template("explore.html.j2").module


@cache
def pack_css() -> str:
    """The pack's stylesheet minus what would restyle JupyterLab itself (body, print)."""
    css = (TEMPLATES / "kpi_pack" / "pack.css").read_text(encoding="utf-8")
    css = css.split("@page")[0]
    return re.sub(r"(?m)^(body|\*|main, \.toc)[^{]*\{[^}]*\}\s*", "", css)


class Explorer:
    """One explorer over one snapshot (see the module's docstring)."""

    def __init__(self, numbers: Numbers, scope: str = "company", kpi: str | None = None):
        self.n = numbers
        self.busy = False
        opts = numbers.kpi_options()
        first = kpi or next((k for _, k in opts if k == "sales_revenue"), opts[0][1])
        self.find = w.Text(description="Find a rep", placeholder="type a name")
        self.scope = w.Dropdown(description="Scope", options=self._scope_options(""))
        self.month = w.Dropdown(description="Month", options=numbers.month_options())
        self.kpi = w.Dropdown(description="KPI", options=opts, value=first)
        self.compare = w.ToggleButtons(
            description="Compare with", options=list(COMPARE), value="previous"
        )
        for c in (self.scope, self.month, self.kpi, self.find):
            c.style.description_width = "90px"
        self.kpi.layout.width = "420px"
        self.crumbs = w.HBox(layout=w.Layout(align_items="center"))
        # made once, then only their texts change: a redraw creates no widget
        self._crumb_scopes = ["company"] * 3
        self._crumb_buttons = [w.Button(layout=w.Layout(width="auto")) for _ in range(3)]
        for i, b in enumerate(self._crumb_buttons):
            b.add_class("crumb")
            b.on_click(lambda _, i=i: self.go(self._crumb_scopes[i]))
        self._seps = [w.HTML(str(explore_blocks().sep())) for _ in range(2)]
        self.title = w.HTML()
        self.card = w.HTML()
        self.trend = w.HTML()
        self.heading = w.HTML()
        self._bar_scopes = [""] * BARS
        self.bars = w.VBox([self._bar_row(i) for i in range(BARS)])
        self.bars.layout.min_width = "560px"
        self.pick = w.Select(description="Drill into", rows=12, layout=w.Layout(width="260px"))
        # "why it moved": the drivers the pack stored for this change, under the breakdown
        self.why = w.HTML()
        self.table = w.HTML()
        self.download = w.HTML()
        style = w.HTML(str(explore_blocks().style(pack_css())))
        self.widget = w.VBox(
            [
                style,
                w.HBox([self.scope, self.find]),
                w.HBox([self.month, self.kpi]),
                self.compare,
                self.crumbs,
                self.title,
                self.card,
                self.trend,
                self.heading,
                w.HBox([self.bars, self.pick]),
                self.why,
                self.download,
                self.table,
            ]
        )
        self.widget.add_class("kpi-explorer")
        self.find.observe(self._on_find, "value")
        self.scope.observe(lambda _: self.redraw(), "value")
        for c in (self.month, self.kpi, self.compare):
            c.observe(lambda _: self.redraw(), "value")
        self.pick.observe(self._on_pick, "value")
        self.go(scope)

    def _ipython_display_(self) -> None:
        display(self.widget)

    # ---------------------------------------------------------------- controls
    def _scope_options(self, text: str) -> list[tuple[str, str]]:
        text = text.strip().lower()
        return [
            (c.label, s)
            for s, c in self.n.choices.items()
            if not s.startswith("rep:") or text in c.label.lower() or text in s.lower()
        ]

    def _on_find(self, _: Any) -> None:
        keep = self.scope.value
        self.busy = True
        try:
            self.scope.options = self._scope_options(self.find.value)
            self.scope.value = keep if keep in dict(map(reversed, self.scope.options)) else None
        finally:
            self.busy = False
        if self.scope.value != keep:
            self.scope.value = keep if self.scope.value is None else self.scope.value

    def _on_pick(self, change: dict) -> None:
        if change["new"] and not self.busy:
            self.go(change["new"])

    def go(self, scope: str) -> None:
        """Show ``scope`` (a drill-down or a breadcrumb click); one redraw."""
        if scope not in {v for _, v in self.scope.options}:
            self.busy = True
            self.find.value = ""
            self.scope.options = self._scope_options("")
            self.busy = False
        if self.scope.value == scope:
            self.redraw()
        else:
            self.scope.value = scope  # observed: redraws

    # ---------------------------------------------------------------- drawing
    def redraw(self) -> None:
        """Draw everything for the controls' current values."""
        if self.busy or self.scope.value is None:
            return
        scope, month, kpi, compare = (
            self.scope.value,
            self.month.value,
            self.kpi.value,
            self.compare.value,
        )
        n = self.n
        self._draw_crumbs(scope)
        self.title.value = n.title_html(scope, month, kpi)
        self.card.value = n.card_html(scope, month, kpi)
        self.trend.value = self._trend_svg(scope, month, kpi)
        b = n.breakdown(scope, month, kpi, compare)
        self._draw_breakdown(scope, kpi, compare, b)
        self.why.value = n.why_html(scope, month, kpi, compare)
        data = n.table(scope, month, kpi, compare, b)
        self.table.value = self._table_html(scope, kpi, compare, b)
        csv = base64.b64encode(data.to_csv(index=False).encode("utf-8")).decode("ascii")
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{kpi}-{scope}-{month}").strip("-") + ".csv"
        self.download.value = str(
            explore_blocks().download(f"data:text/csv;base64,{csv}", name, len(data))
        )

    def _bar_row(self, i: int) -> w.HBox:
        """Bar ``i`` of the breakdown: a button with the name (click: drill in), the bar."""
        name = w.Button(layout=w.Layout(width=NAME_WIDTH, min_width=NAME_WIDTH, flex="0 0 auto"))
        name.add_class("bar-name")
        name.on_click(lambda _: self.go(self._bar_scopes[i]))
        bar = w.HTML(layout=w.Layout(flex="1 1 auto"))
        return w.HBox([name, bar], layout=w.Layout(align_items="center", display="none"))

    def _draw_crumbs(self, scope: str) -> None:
        path = self.n.path(scope)
        parts: list[w.Widget] = []
        for i, c in enumerate(path):
            if i:
                parts.append(self._seps[i - 1])
            b = self._crumb_buttons[i]
            b.description, b.tooltip = c.short, c.label
            b.disabled = i == len(path) - 1 or c.scope not in self.n.choices
            self._crumb_scopes[i] = c.scope
            parts.append(b)
        self.crumbs.children = parts

    def _trend_svg(self, scope: str, month: str, kpi: str) -> str:
        k = get(kpi)
        t = self.n.trend(scope, month, kpi)
        if t.empty or t["value"].isna().all():
            return str(blocks().na(f"{k.name} has no value in these months."))
        values = t.set_index("month")["value"]
        target = t.set_index("month")["target"]
        title = span_title(k.name, list(t["month"]), len(t))
        fmt = lambda v: format_kpi(k, v, self.n.cfg.currency)  # noqa: E731
        layout = trend_layout(values, target, self.n.forecast(scope, month, kpi), title, fmt)
        return str(explore_blocks().trend(layout))

    def _draw_breakdown(self, scope: str, kpi: str, compare: str, b: pd.DataFrame) -> None:
        what = "team" if scope == "company" else "rep"
        if b.empty:
            self.heading.value = str(
                explore_blocks().heading("Breakdown", "A rep is the last level: no breakdown.")
            )
            for row in self.bars.children:
                row.layout.display = "none"
            self.busy = True
            self.pick.options = []
            self.busy = False
            return
        note = f"{get(kpi).name} per {what}, largest first; click a {what} to drill in."
        if len(b) > BARS:
            note += f" The {BARS} largest of {len(b)} are drawn; the list holds all."
        self.heading.value = str(explore_blocks().heading("Breakdown", note))
        top = b.head(BARS)
        vals = top["value"].abs()
        peak = float(vals.max()) if vals.notna().any() and vals.max() > 0 else 1.0
        word = COMPARE[compare][2]
        for i, row in enumerate(self.bars.children):
            if i >= len(top):
                row.layout.display = "none"
                continue
            r, v = top.iloc[i], vals.iloc[i]
            px = 0 if pd.isna(v) else max(2, int(BAR_PX * float(v) / peak))
            name, bar = row.children
            name.description, name.tooltip = r["name"], f"drill into {r['name']}"
            texts = r["value_text"], r["compared_text"], word
            bar.value = str(explore_blocks().bar(px, r["rag"] or "none", *texts))
            self._bar_scopes[i] = r["scope"]
            row.layout.display = "flex"
        self.busy = True
        self.pick.options = [(f"{r.name} · {r.value_text}", r.scope) for r in b.itertuples()]
        self.pick.value = None
        self.busy = False

    def _table_html(self, scope: str, kpi: str, compare: str, b: pd.DataFrame) -> str:
        """The data shown, as the pages' table block (escaped): the breakdown's rows as
        the bars print them, or a rep's months; the first :data:`ROWS` rows."""
        k = get(kpi)
        if len(b):
            change = "attainment" if compare == "target" else "change"
            columns = ["name", k.name, COMPARE[compare][2], change, "RAG"]
            cells = b[["name", "value_text", "compared_text", "change_text", "rag"]]
            rows = [tuple(str(x) for x in r) for r in cells.head(ROWS).itertuples(index=False)]
            total = len(b)
        else:
            t = self.n.trend(scope, self.month.value, kpi).iloc[::-1]
            fmt = lambda v: "" if pd.isna(v) else format_kpi(k, v, self.n.cfg.currency)  # noqa: E731
            columns = ["month", k.name, "target"]
            rows = [(m, fmt(v), fmt(g)) for m, v, g in t.head(ROWS).itertuples(index=False)]
            total = len(t)
        more = f"{total - ROWS:,} more rows in the CSV." if total > ROWS else ""
        return str(blocks().table(columns, rows, more, None))
