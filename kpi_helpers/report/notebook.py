"""What the notebooks call: one ``Report`` per notebook run, and the page's HTML blocks.

A page draws its numbers from a pack's snapshot (``snapshot`` set: read with pandas,
never opening the source or importing Ibis) or computes them live (``snapshot`` empty:
an analyst in JupyterLab). HTML comes from ``templates/page_blocks.html.j2`` with
autoescape on, so every value from the data is escaped. A notebook cell is one call::

    report = Report("pipeline", month=month, scope=scope, source=source, snapshot=snapshot)
    report.title()
    report.cards()
    report.trends()

In a pack, every card block, table and chart is followed by a "CSV" link to the data
behind it, under the pack's ``data/`` folder (relative, so a zipped pack works offline).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

from kpi_helpers.catalog import (
    FAMILIES,
    REGISTRY,
    Kind,
    format_change,
    format_kpi,
    format_value,
    get,
    scope_label,
)
from kpi_helpers.core import Config, KitError, Month, load_config

from .charts import span_title, trend_chart
from .choices import missing_value, shown_columns, summary_headlines
from .html import HTML, blocks, reason_parts
from .outlook import OutlookSections
from .pages import (
    FLAG_PAGES,
    FLAGS,
    HEADLINES,
    PACING,
    PREVIOUS_WORDS,
    SCOPE_KPIS,
    change_tone,
    intro,
    month_label,
    page_title,
    period_label,
    period_phrase,
    trend_tone,
)
from .sections import SummarySections
from .snapshot import PACING_CSV, Snapshot


@dataclass
class Report(SummarySections, OutlookSections):
    """The KPIs of one family (or the summary) for one month and scope, 13 months deep;
    with ``period="quarter"`` (a QBR) for the quarter holding ``month``, 8 quarters deep,
    compared with the quarter before (QoQ) and the same quarter a year before (YoY);
    ``period="year"``: the fiscal year, 4 years deep."""

    family: str
    month: str = "latest"
    scope: str = "company"
    source: str = "../data/sample"
    mapping: str = ""
    config: str = ""
    snapshot: str | Snapshot = ""  # a pack's data/ folder, or a Snapshot already open
    period: str = "month"
    cfg: Config = field(init=False)
    df: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        if self.family not in (*FAMILIES, "summary"):
            raise KitError(
                f"Unknown family {self.family!r}; use summary or one of {', '.join(FAMILIES)}."
            )
        self.cfg = load_config(self.config or None)
        # the summary shows every family; the outlook draws the series it forecasts
        wide = self.family in ("summary", "outlook")
        families = list(FAMILIES) if wide else [self.family]
        # a headline of another family (bookings on the team page) comes along
        lent = [k for k in HEADLINES.get(self.family, []) if get(k).family not in families]
        if self.snapshot:
            snap = self.snapshot
            self.data = snap if isinstance(snap, Snapshot) else Snapshot(snap)
            if self.data.period != self.period:
                raise KitError(
                    f"The snapshot holds the {self.data.period} {self.data.label}, not a "
                    f"{self.period}: pass period={self.data.period!r}."
                )
            if self.month not in ("", "latest", self.data.month, self.data.label):
                raise KitError(f"The snapshot holds {self.data.label}, not {self.month}.")
            df = self.data.kpis(self.scope)
            family_of = {k: REGISTRY[k].family for k in df["kpi"].unique()}
            keep = df["kpi"].map(family_of).isin(families) | df["kpi"].isin(lent)
            df = df[keep].reset_index(drop=True)
        else:
            # imported here, not at the top: a page drawn from a snapshot must not load the
            # engine (Ibis, DuckDB) at all
            from .live import LiveData

            self.data = LiveData(self.source, self.mapping, self.cfg, self.month, self.period)
            more = list(dict.fromkeys(get(k).family for k in lent))
            df = self.data.kpis(self.scope, families + more)
        self.month = self.data.month
        self.df = df
        self.current = df[df["month"] == self.month].set_index("kpi")
        self.unavailable = "no data"
        self.when = month_label(self.month)  # what the page is about: October 2026, 2026-Q4
        if self.period != "month" and len(self.current):
            r = self.current.iloc[0]
            self.when = period_label(r["period"], r["period_start"], r["period_end"], self.month)

    def at(self, month: str) -> Report:
        """This report as of an earlier month of its 13 (the explorer's ``Month``): its
        cards, changes and trends end there (no card where the scope has no row then);
        its tables stay the report's month's.

        Example: ``report.at("2026-09").card("win_rate")``."""
        if month == self.month:
            return self
        if month > self.month:
            raise KitError(f"{self.month}'s report holds no later month {month}.")
        other = copy.copy(self)
        other.month = month
        other.df = self.df[self.df["month"] <= month].reset_index(drop=True)
        other.current = self.df[self.df["month"] == month].set_index("kpi")
        return other

    @property
    def ds(self) -> Any:
        """The live dataset (``kpi_helpers.data.sources.Dataset``); None when drawn from a
        snapshot."""
        return getattr(self.data, "ds", None)

    def link(self, table: str | None) -> str | None:
        """The relative link from a pack page to the CSV behind ``table`` (a table KPI,
        or ``SCOPE_KPIS`` for the scope's KPIs); None outside a pack or for
        data that is not in the snapshot as shown."""
        if table is None or not isinstance(self.data, Snapshot):
            return None
        if table == SCOPE_KPIS:
            rel = self.data.kpis_csv(self.scope)
        elif table == PACING:
            rel = PACING_CSV
        else:
            try:
                rel = self.data.table_csv(table, self.scope)
            except KitError:  # not a table of the snapshot
                return None
        return f"../{self.data.path.name}/{rel}" if rel else None

    # ---------------------------------------------------------------- text blocks
    def phrase(self, text: str) -> str:
        """``text`` in the words of this page's period (:func:`pages.period_phrase`), e.g.
        ``report.phrase("Bookings by rep {this}")`` is "Bookings by rep this quarter" on a
        QBR page."""
        through = "" if self.period == "month" else month_label(self.month)
        return period_phrase(text, self.period, through)

    def intro(self, section: str) -> None:
        """Display the sentence under a section's heading, in the words of this page's
        period (:data:`pages.INTROS`), e.g. ``report.intro("trends")``: "Each headline KPI
        month by month (up to 13 months); ..." on a monthly page, "quarter by quarter (up
        to 8 quarters)" on a QBR's."""
        through = "" if self.period == "month" else month_label(self.month)
        text = intro(section, self.period, through, self.family)
        display(HTML(blocks().intro(reason_parts(text))))

    def title(self, text: str | None = None) -> HTML:
        """The page's title (the family's, or ``text``), with scope and month."""
        return HTML(
            blocks().title(text or page_title(self.family), scope_label(self.scope), self.when)
        )

    def fmt(self, kpi: str, value: float) -> str:
        return format_kpi(get(kpi), value, self.cfg.currency)

    def headlines(self) -> list[str]:
        """The page's headline KPIs; the summary's are :func:`summary_headlines`."""
        if self.family != "summary":
            return HEADLINES[self.family]
        return summary_headlines(self.df, self.month)

    def cards(self, ids: list[str] | None = None) -> HTML:
        """Headline KPI cards: value, MoM, YoY, target and RAG (n/a with the reason when a
        value is undefined). KPIs the data cannot give at all get no card: one line under
        the cards names them and what they need."""
        items, missing = [], {}
        for kpi in ids or self.headlines():
            k = get(kpi)
            if k.id not in self.current.index:
                continue
            row = self.current.loc[k.id]
            if row["status"] == "not_available":
                missing.setdefault(str(row["reason"]).replace("`", ""), []).append(k.name)
                continue
            items.append(self.card(k.id))
        line = "; ".join(f"{' and '.join(names)} ({why})" for why, names in missing.items())
        line = f"Not available from this data: {line}." if line else None
        flags = self.flags() if self.family in FLAG_PAGES else []
        return HTML(blocks().cards(items, line, self.link(SCOPE_KPIS), flags))

    def flags(self) -> list[str]:
        """The headline flags of this month (``pages.FLAGS``): one sentence per KPI above
        its limit, e.g. "94.0 % of the open pipeline is stale: older than twice the median
        cycle of the deals won in the last 12 months (at least 30 days)"."""
        out = []
        for kpi, (_, text) in FLAGS.items():
            if self._flagged(kpi):
                out.append(f"{self.fmt(kpi, self.current.loc[kpi, 'value'])} {text}")
        return out

    def _flagged(self, kpi: str) -> bool:
        if kpi not in FLAGS or kpi not in self.current.index:
            return False
        row = self.current.loc[kpi]
        return row["status"] == "ok" and float(row["value"]) > FLAGS[kpi][0]

    def card(self, kpi: str) -> dict | None:
        """One headline card's facts, as the pages and the e-mail show them: ``name``,
        ``ok``, ``rag`` ("none" without a target); when ok ``value``, ``mom`` and ``yoy``
        (dicts with ``value``, ``label``, ``tone``, ``arrow``), ``target`` and
        ``attainment`` (text or None); else ``reason`` (:func:`reason_parts`). None when
        the data cannot give the KPI at all (no row, or not available)."""
        k = get(kpi)
        if k.id not in self.current.index:
            return None
        row = self.current.loc[k.id]
        if row["status"] == "not_available":
            return None
        card = dict(name=k.name, ok=row["status"] == "ok", rag=_rag(row) or "none")
        if card["rag"] == "none" and self._flagged(k.id):
            card["rag"] = "red"
        if card["ok"]:
            made = dict(value=None, label=self.phrase("made at the end of {through}"))
            mom = self._change(row, "mom_change", f"vs {PREVIOUS_WORDS[self.period]}", 1)
            yoy = self._change(row, "yoy_change", "vs last year", YEAR_STEPS[self.period])
            card.update(
                value=self.fmt(k.id, row["value"]),
                mom=made if k.is_model else mom,
                yoy=None if k.is_model or self.period == "year" else yoy,  # a year: = mom
                target=None if pd.isna(row["target"]) else self.fmt(k.id, row["target"]),
                attainment=(None if pd.isna(row["attainment"]) else f"{row['attainment']:.0f} %"),
                to_date=self.to_date_lines(k.id) if k.kind == Kind.FLOW else [],
            )
        else:
            card["reason"] = reason_parts(row["reason"])
        return card

    def to_date(self) -> pd.DataFrame:
        """QTD and YTD of the scope's flow KPIs (``metrics.to_date_figures``), from the
        snapshot in a pack, else computed from the page's monthly rows."""
        if getattr(self, "_to_date", None) is None:
            if isinstance(self.data, Snapshot):
                self._to_date = self.data.to_date(self.scope)
            else:
                self._to_date = self.data.to_date(self.df.assign(key=self.scope))
        return self._to_date

    def to_date_lines(self, kpi: str) -> list[dict]:
        """A flow card's QTD and YTD, as the pages and the e-mail show them: ``span``
        ("QTD"), ``label`` ("2026-Q4 to date (2 of 3 months)"), ``value``, ``year_before``,
        ``change`` (a dict as ``mom``), ``target`` and ``attainment`` (text or "")."""
        rows = self.to_date()
        out = []
        for r in rows[rows["kpi"] == kpi].itertuples():
            if pd.isna(r.value):
                continue
            change = dict(value=None, label="vs a year before")
            if pd.notna(r.change):
                change = dict(
                    value=format_change(r.change, "%", self.cfg.currency),
                    label="vs a year before",
                    tone=change_tone(r.change, get(kpi).better),
                    arrow="▲" if r.change > 0 else "▼" if r.change < 0 else "■",
                )
            out.append(
                dict(
                    span=r.span,
                    label=r.label,
                    value=self.fmt(kpi, r.value),
                    year_before="" if pd.isna(r.year_before) else self.fmt(kpi, r.year_before),
                    change=change,
                    target="" if pd.isna(r.target) else self.fmt(kpi, r.target),
                    attainment="" if pd.isna(r.attainment) else f"{r.attainment:.0f} %",
                )
            )
        return out

    def _change(self, row: pd.Series, col: str, label: str, back: int) -> dict:
        v = row[col]
        if pd.isna(v):
            if self._before_data(row.name, back):
                unit = "a year" if back == YEAR_STEPS[self.period] else f"a {self.period}"
                label = f"no data {unit} earlier"
            return dict(value=None, label=label)
        tone = trend_tone(row["trend"])
        if col == "yoy_change":
            tone = change_tone(v, row["better"])
        arrow = "▲" if v > 0 else "▼" if v < 0 else "■"
        text = format_change(v, row["change_unit"], self.cfg.currency)
        return dict(value=text, label=label, tone=tone, arrow=arrow)

    def _before_data(self, kpi: str, back: int) -> bool:
        """Whether ``kpi`` has no value ``back`` months (periods) before this one because
        the data starts later (the KPI is available now, so that period's cause is the
        date)."""
        if self.period == "month":
            then = str(Month.parse(self.month) - back)
            rows = self.df[(self.df["kpi"] == kpi) & (self.df["month"] == then)]
        else:  # one row per period, in order: the one ``back`` rows before the last
            rows = self.df[self.df["kpi"] == kpi].sort_values("period_start")
            rows = rows.iloc[[-1 - back]] if len(rows) > back else rows.iloc[:0]
        return bool(len(rows)) and (rows["status"] == "not_available").all()

    def trends(self, ids: list[str] | None = None) -> None:
        """A 13-month trend chart per headline KPI, with the link to the scope's KPIs; a KPI
        without a value in any month gets one line saying why, not an empty chart."""
        axis = "month" if self.period == "month" else "period"
        for kpi in ids or self.headlines():
            k = get(kpi)
            rows = self.df[self.df["kpi"] == k.id].set_index(axis)
            window = len(rows)
            rows = rows[rows["status"] != "not_available"]  # the months that exist
            if rows.empty:
                continue
            if rows["value"].isna().all():
                why = str(rows["reason"].iloc[-1]).replace("`", "")
                text = f"{k.name} has no value in these {len(rows)} months: {why}."
                display(HTML(blocks().na(text)))
                continue
            if self.period == "month":
                title = span_title(k.name, list(rows.index), window)
            elif len(rows) < window:  # "Bookings, since 2025-Q3" / "last 8 quarters"
                title = f"{k.name}, since {rows.index[0]}"
            else:
                title = f"{k.name}, last {len(rows)} {self.period}s"
            fig = trend_chart(
                rows["value"],
                title,
                k.unit,
                self.cfg.currency,
                rows["target"],
            )
            self.show(fig, data=SCOPE_KPIS)

    def kpi_table(self) -> HTML:
        """Every KPI of the family this month that the data can give: value, changes,
        target, status (a column that is empty on every row is left out). The KPIs the
        data cannot give get no row: one line under the table names them and what they
        need, e.g. "Not available from this data: Sales revenue, Orders (needs table
        `orders`)"."""
        rows, missing = [], {}
        current = self.current
        if self.family != "summary":  # the outlook also holds the series it forecasts
            current = current[[REGISTRY[k].family == self.family for k in current.index]]
        for kpi, r in current.iterrows():
            if r["status"] == "not_available":
                missing.setdefault(str(r["reason"]), []).append(REGISTRY[kpi].name)
                continue
            ok = r["status"] == "ok"
            rows.append(
                dict(
                    name=REGISTRY[kpi].name,
                    ok=ok,
                    value=self.fmt(kpi, r["value"]) if ok else "",
                    reason=[] if ok else reason_parts(r["reason"]),
                    mom=format_change(r["mom_change"], r["change_unit"], self.cfg.currency),
                    yoy=format_change(r["yoy_change"], r["change_unit"], self.cfg.currency),
                    target="" if pd.isna(r["target"]) else self.fmt(kpi, r["target"]),
                    rag=_rag(r),
                )
            )
        shown = [c for c in ("mom", "yoy", "target", "rag") if any(r[c] for r in rows)]
        if self.period == "year":  # the year before is the previous year: one column
            shown = [c for c in shown if c != "yoy"]
        groups = [(names, reason_parts(why)) for why, names in missing.items()]
        previous = PREVIOUS_WORDS[self.period]
        return HTML(blocks().kpi_table(rows, shown, groups, self.link(SCOPE_KPIS), previous))

    def definitions(self) -> HTML:
        """The definition of every KPI of the family, from the registry."""
        fams = FAMILIES if self.family == "summary" else [self.family]
        summary = self.headlines() if self.family == "summary" else []
        items = [
            dict(
                name=k.name,
                id=k.id,
                text=f"alias of {k.alias_of}" if k.alias_of else k.definition,
                note=k.note,
            )
            for k in REGISTRY.values()
            if k.family in fams and (self.family != "summary" or k.id in summary)
        ]
        return HTML(blocks().definitions(items))

    # ---------------------------------------------------------------- tables
    def table(self, kpi: str) -> pd.DataFrame | None:
        """A table KPI for this month and scope; None (n/a) when its inputs are missing."""
        return self._table(kpi)

    def _table(self, name: str) -> pd.DataFrame | None:
        try:
            df = self.data.table(name, self.scope)
        except KitError as exc:  # a missing input: shown as n/a with the reason
            self.unavailable = str(exc)
            return None
        self._shown = getattr(self, "_shown", {})
        self._shown[name] = df
        return df

    def nothing_to_show(self, df: pd.DataFrame | None, why: str) -> None:
        """Say in one sentence why a section shows nothing: the reason its table is n/a
        (``df`` None), else ``why`` (the table has nothing to draw), e.g.
        ``report.nothing_to_show(cohorts, "No customer bought for the first time in the
        12 months.")``."""
        display(self.show_table(None) if df is None else HTML(blocks().na(why)))

    def say(self, text: str) -> None:
        """Show one sentence in the muted style of an empty section, e.g. why a section has
        nothing to show: ``report.say("The data has no stage history.")``."""
        display(HTML(blocks().na(text)))

    def _name_of(self, df: pd.DataFrame | None, data: str | None) -> str | None:
        """Which snapshot table ``df`` is: ``data`` when given, else the table this report
        returned as that very object."""
        if data is not None or df is None:
            return data
        return next((n for n, d in getattr(self, "_shown", {}).items() if d is df), None)

    def display(self, block: Any) -> None:
        """Display ``block`` (an HTML block, a figure) in the notebook: what the sections
        of ``report.sections`` and ``report.outlook`` call, e.g.
        ``report.display(report.movers())``."""
        display(block)

    def show(self, fig: Figure, data: str | None = None) -> None:
        """Display a chart, then (in a pack) the link to its data: the table ``data`` of
        the snapshot, or ``SCOPE_KPIS`` for the scope's KPIs; no link when None."""
        show(fig)
        href = self.link(data)
        if href:
            display(HTML(blocks().data_link(href)))

    def show_table(
        self,
        df: pd.DataFrame | None,
        money: tuple[str, ...] = (),
        percent: tuple[str, ...] = (),
        limit: int = 15,
        data: str | None = None,
    ) -> HTML:
        """A table with formatted numbers (escaped), or n/a with the reason; in a pack, with
        the link to its data (``data`` names the table when ``df`` was filtered). Columns
        empty on every row, and ids beside their names, stay in the CSV only
        (:func:`shown_columns`)."""
        if df is None:
            return HTML(blocks().na_reason(reason_parts(self.unavailable)))
        if df.empty:
            return HTML(blocks().na(self.phrase("No rows {this}.")))
        shown = shown_columns(df).head(limit)
        cells = []
        for col in shown.columns:
            values = shown[col]
            if col in money:
                cells.append([format_value(v, "currency", self.cfg.currency) for v in values])
            elif col in percent:
                cells.append([format_value(v, "percent") for v in values])
            elif pd.api.types.is_float_dtype(values):
                # counts stay whole numbers ("4 deals", not "4.00") even in a float column
                whole = bool((values.dropna() % 1 == 0).all())
                spec = ",.0f" if whole else ",.2f"
                cells.append([("" if pd.isna(v) else format(v, spec)) for v in values])
            else:
                cells.append(["" if missing_value(v) else str(v) for v in values])
        columns = [str(c).replace("_", " ") for c in shown.columns]
        more = f"{len(df) - limit:,} more rows in the CSV." if len(df) > limit else ""
        href = self.link(self._name_of(df, data))
        return HTML(blocks().table(columns, list(zip(*cells, strict=True)), more, href))


YEAR_STEPS = {"month": 12, "quarter": 4, "year": 1}  # periods back to the same one a year before


def _rag(row: pd.Series) -> str:
    return row["rag"] if isinstance(row["rag"], str) else ""


def show(fig) -> None:
    """Display a matplotlib figure as an embedded PNG, then close it."""
    display(fig)
    plt.close(fig)
