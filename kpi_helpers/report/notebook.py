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
    track_record_text,
)
from kpi_helpers.core import Config, KitError, Month, load_config

from .charts import (
    bar_chart,
    forecast_chart,
    histogram,
    pace_chart,
    span_title,
    trend_chart,
    waterfall_chart,
)
from .choices import missing_value, mover_weights, shown_columns, summary_headlines
from .html import HTML, blocks, reason_parts
from .pages import (
    FLAG_PAGES,
    FLAGS,
    HEADLINES,
    PREVIOUS_WORDS,
    alerts_of_scope,
    month_label,
    page_title,
    period_label,
)
from .snapshot import PACING_CSV, Snapshot

SCOPE_KPIS = "kpis"  # what a link names for the scope's KPI CSV (no table has this name)
PACING = "pacing"  # what a link names for the snapshot's pacing (no table has this name)
TABLE_WORDS = {"nps_responses": "NPS responses"}  # a table in a sentence, where not its name


@dataclass
class Report:
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
            made = dict(value=None, label="made at the end of this month")
            mom = self._change(row, "mom_change", f"vs {PREVIOUS_WORDS[self.period]}", 1)
            yoy = self._change(row, "yoy_change", "vs last year", YEAR_STEPS[self.period])
            card.update(
                value=self.fmt(k.id, row["value"]),
                mom=made if k.is_model else mom,
                yoy=None if k.is_model else yoy,
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
                good = (r.change > 0) == (get(kpi).better == "up")
                change = dict(
                    value=format_change(r.change, "%", self.cfg.currency),
                    label="vs a year before",
                    tone=""
                    if get(kpi).better == "neutral" or r.change == 0
                    else ("good" if good else "bad"),
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
        tone = {"improving": "good", "worsening": "bad"}.get(row["trend"], "")
        if col == "yoy_change":
            better = row["better"]
            tone = "" if better == "neutral" else ("good" if (v > 0) == (better == "up") else "bad")
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
            return HTML(blocks().na("No rows this month."))
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

    # ---------------------------------------------------------------- summary
    def alerts(self) -> HTML:
        """The alerts of kpi.toml's ``[[alerts]]`` rules that fired this month for this
        page: the company page shows the company's and counts the teams' and reps'; a
        team page shows the team's and its reps'; a rep page the rep's. From the
        snapshot in a pack, else checked live. No rules: one muted line saying how to
        add them."""
        fired, rules = self.data.alerts(), len(self.data.alert_rules())
        pack = isinstance(self.data, Snapshot)
        elsewhere = "listed on the pack's index page" if pack else "kpi-kit alerts lists them"
        own, others = alerts_of_scope(fired, self.scope)
        return HTML(blocks().alerts(own, rules, others, elsewhere))

    def movers(self, n: int = 5) -> HTML:
        """The month's largest movers in plain words."""
        top = mover_weights(self.current).sort_values(ascending=False).head(n).index
        lines = []
        for kpi in top:
            r = self.current.loc[kpi]
            change = abs(r["mom_change"])
            lines.append(
                dict(
                    tone={"improving": "good", "worsening": "bad"}.get(r["trend"], ""),
                    name=REGISTRY[kpi].name,
                    verb="rose" if r["mom_change"] > 0 else "fell",
                    change=f"{change:.1f} points"
                    if r["change_unit"] == "pp"
                    else f"{change:.1f} %",
                    value=self.fmt(kpi, r["value"]),
                    previous=self.fmt(kpi, r["previous_month"]),
                )
            )
        return HTML(blocks().movers(lines))

    def why_moved(self, ids: list[str] | None = None, charts: int = 3) -> None:
        """Why the headlines moved since last month ("Why it moved", KPI_CATALOG.md): the
        paragraph of each headline that has drivers, then a waterfall (bridge) from last
        month's value through the top drivers and "everything else" to this month's for
        the ``charts`` largest movers among them, and the link to the drivers' CSV. A
        pack reads them from its snapshot; live, they are computed for the headlines.
        A quarter or year page has none yet (drivers explain a month's change)."""
        if self.period != "month":
            return
        ids = ids or self.headlines()
        found = self.data.drivers(self.scope, "previous", ids)
        shown = [found[k] for k in ids if k in found]
        items = [
            dict(name=e["name"], text=e["text"].removeprefix(e["name"]))
            for e in shown
            if e["drivers"]
        ]
        plain = [e["name"] for e in shown if e["kind"] == "none" and not e["reason"]]
        weights = mover_weights(self.current)
        ranked = sorted(
            (e for e in shown if e["bridge"]),
            key=lambda e: -float(weights.get(e["kpi"], 0.0)),
        )
        csv = self.data.drivers_csv(self.scope) if isinstance(self.data, Snapshot) else None
        href = f"../{self.data.path.name}/{csv}" if csv else None
        display(HTML(blocks().why(items, plain, None)))
        for e in ranked[:charts]:
            fig = waterfall_chart(
                e["base_value"],
                [(str(label), float(x)) for label, x in e["bridge"]],
                month_label(e["month"]),
                f"{e['name']}: from {month_label(e['base_month'])} to {month_label(e['month'])}",
                self.cfg.currency,
                unit=e["unit"],
                start_label=month_label(e["base_month"]),
            )
            show(fig)
        if href:
            display(HTML(blocks().data_link(href, "every part of every split of the headlines")))

    def year_quarters(self, ids: list[str] | None = None) -> HTML | None:
        """A QBR's summary: the fiscal year's quarters side by side (the year's quarters
        with data, oldest first), one row per headline KPI; None on a monthly page.
        A quarter to date is labelled so: "2026-Q4 to date (2 of 3 months)"."""
        if self.period != "quarter":
            return None
        rows = self.df.sort_values("period_start")
        year = str(self.current["period"].iloc[0]).rpartition("-Q")[0] if len(self.current) else ""
        rows = rows[rows["period"].str.rpartition("-Q")[0] == year]
        spans = rows.drop_duplicates("period")
        labels = [
            period_label(r.period, r.period_start, r.period_end, r.month)
            for r in spans.itertuples()
        ]
        table = []
        for kpi in ids or self.headlines():
            k = get(kpi)
            got = rows[rows["kpi"] == k.id].set_index("period")
            if got.empty or (got["status"] == "not_available").all():
                continue
            cells = [
                self.fmt(k.id, got.loc[p, "value"])
                if p in got.index and got.loc[p, "status"] == "ok"
                else "n/a"
                for p in spans["period"]
            ]
            table.append([k.name, *cells])
        columns = ["KPI", *labels]
        return HTML(blocks().table(columns, table, "", self.link(SCOPE_KPIS)))

    # ---------------------------------------------------------------- outlook
    def forecast_charts(self) -> None:
        """Per forecast series: the months so far and the next 3 with the 80 % interval,
        the method named; then the table of forecasts."""
        f = self.table("forecasts")
        if f is None:
            display(self.show_table(None))
            return
        for kpi, rows in f.groupby("kpi", sort=False):
            k = get(kpi)
            done = self.df[(self.df["kpi"] == kpi) & (self.df["status"] == "ok")]
            actual = done.set_index("month")["value"]
            fig = forecast_chart(
                actual, rows, f"{k.name}: the next {len(rows)} months", k.unit, self.cfg.currency
            )
            self.show(fig, data="forecasts")
            display(HTML(blocks().caption(forecast_caption(rows))))
        shown = f.drop(columns=[c for c in f.columns if c.startswith("track_")])
        shown = shown.assign(kpi=f["kpi"].map(lambda x: get(x).name))
        units = f["kpi"].map(lambda x: get(x).unit)
        for col in ("forecast", "lower", "upper"):  # each row in its KPI's unit
            shown[col] = [
                format_value(v, u, self.cfg.currency) if pd.notna(v) else ""
                for v, u in zip(f[col], units, strict=True)
            ]
        display(self.show_table(shown, data="forecasts"))

    def forecast_line(self) -> HTML:
        """One line: "Sales revenue forecast for next month (November 2026): $X (80 %:
        $L–$U), ETS(A,N,N)." for the first summary headline the forecasts hold (sales
        revenue, else bookings: a CRM export has no revenue)."""
        f = self.table("forecasts")
        have = set(f["kpi"]) if f is not None else set()
        kpi = next((k for k in HEADLINES["summary"] if k in have), None)
        if kpi is None:
            why = self.unavailable if f is None else "the data has no sales revenue or bookings"
            return HTML(blocks().na_reason(reason_parts(f"no forecast: {why}")))
        k = get(kpi)
        r = f[f["kpi"] == kpi].iloc[0]
        fmt = lambda v: format_value(v, k.unit, self.cfg.currency)  # noqa: E731
        band = f" (80 %: {fmt(r['lower'])}–{fmt(r['upper'])})" if pd.notna(r["lower"]) else ""
        text = f"{k.name} forecast for next month ({month_label(r['month'])}): {fmt(r['forecast'])}"
        return HTML(blocks().note(f"{text}{band}, {r['method']}.", self.link("forecasts")))

    def pace(self, scopes: list[str] | None = None) -> list[dict]:
        """The quarter's pace (``models.pacing.pacing``) of ``scopes`` (this scope by
        default): from the snapshot in a pack, else computed."""
        return self.data.pacing(scopes or [self.scope])

    def pace_lines(self) -> list[str]:
        """The pacing sentences of this scope, one per paced KPI, e.g. "Sales revenue: on
        pace for $5.2M this quarter (80 %: $4.8M–$5.6M) against a $5.0M target (2026-Q4,
        2 of 3 months done; ETS(A,N,N))"; the summary page and the e-mail show them."""
        out = []
        for p in self.pace():
            k = get(p["kpi"])

            def fmt(v: float, unit: str = k.unit) -> str:
                return format_value(v, unit, self.cfg.currency)

            if p["months"] == p["of_months"]:
                band = " (the quarter's actual: no month left)"
            else:
                band = f" (80 %: {fmt(p['lower'])}–{fmt(p['upper'])})"
            goal = (
                f" against a {fmt(p['target'])} target"
                if p["target"] is not None
                else " (no target for every month of the quarter)"
            )
            done = f"{p['quarter']}, {p['months']} of {p['of_months']} months done"
            how = f"; {p['method']}" if p["method"] else ""
            out.append(
                f"{k.name}: on pace for {fmt(p['pace'])} this quarter{band}{goal} ({done}{how})."
            )
        return out

    def pacing(self) -> None:
        """Pacing for the quarter: the sentences of :meth:`pace_lines`, then per paced KPI
        with a target a bullet chart of the company and its teams (a team's page: the
        team) with the QTD actual, the pace's 80 % interval and the quarter's target."""
        lines = self.pace_lines()
        if not lines:
            why = "pacing needs a revenue or bookings forecast (company and teams)"
            display(HTML(blocks().na(f"No pace for the quarter: {why}.")))
            return
        display(HTML(blocks().notes(lines, self.link(PACING))))
        scopes = [self.scope]
        if self.scope == "company" and isinstance(self.data, Snapshot):
            scopes = [
                s for s in self.data.paged_scopes if s.partition(":")[0] in ("company", "team")
            ]
        pace = pd.DataFrame(self.pace(scopes))
        for kpi, rows in pace.groupby("kpi", sort=False):
            if rows["target"].isna().all():
                continue
            k = get(kpi)
            rows = rows.assign(label=rows["key"].map(scope_label))
            title = f"{k.name}: {rows['quarter'].iloc[0]} to date, pace and target"
            self.show(pace_chart(rows, title, k.unit, self.cfg.currency), data=PACING)

    def next_month(self) -> HTML:
        """Next month's bookings: pipeline-weighted vs CRM-weighted vs target."""
        p = self.table("pipeline_outlook")
        if p is None or p.empty:
            return self.show_table(p)
        total = p[p["stage"] == "total"].iloc[0]
        if not total["deals"]:  # nothing due: a sentence, not an empty chart
            due = month_label(str(Month.parse(self.month) + 1))
            return HTML(blocks().na(f"No open deal is expected to close in {due}."))
        labels = ["pipeline-weighted", "CRM-weighted", "target"]
        values = [total["weighted"], total["crm_weighted"], total["target"]]
        keep = [(a, b) for a, b in zip(labels, values, strict=True) if pd.notna(b)]
        fig = bar_chart(
            [a for a, _ in keep],
            [b for _, b in keep],
            "Bookings expected next month",
            "currency",
            self.cfg.currency,
        )
        self.show(fig, data="pipeline_outlook")
        return self.show_table(
            p,
            money=("amount", "weighted", "crm_weighted", "target"),
            percent=("win_rate",),
            data="pipeline_outlook",
        )

    def clv_distribution(self) -> None:
        """The distribution of the accounts' 12-month predictive CLV."""
        acc = self.table("clv_accounts")
        if acc is None:
            display(self.show_table(None))
            return
        fig = histogram(
            acc["clv_12m"],
            "Predictive 12-month CLV per account",
            "currency",
            ylabel="accounts",
            currency=self.cfg.currency,
        )
        self.show(fig, data="clv_accounts")

    def top_accounts(self, n: int = 10) -> HTML:
        """The accounts with the highest predictive CLV."""
        acc = self.table("clv_accounts")
        if acc is None:
            return self.show_table(None)
        return self.show_table(
            _clv_shown(acc.head(n)),
            money=("clv_12m", "expected_spend"),
            percent=("p_alive",),
            limit=n,
            data="clv_accounts",
        )

    def at_risk(self, n: int = 10) -> HTML:
        """High-value accounts slipping away: the sentence "Since the end of July 2026, 42
        accounts fell below 50 % P(alive), 5 of them in the top fifth by past spend.", then
        the accounts the table ``clv_accounts`` marks ``at_risk`` (top fifth by past spend,
        P(alive) fallen by 10 points or more against the fit at m-3), largest fall first."""
        acc = self.table("clv_accounts")
        if acc is None:
            return self.show_table(None)
        since = month_label(str(acc["since"].iloc[0])) if len(acc) else ""
        if acc.empty or acc["p_alive_then"].isna().all():
            return HTML(
                blocks().na(f"No P(alive) to compare with: no fit on the orders through {since}.")
            )
        fell = acc["fell_below_half"]
        top = fell & acc["top_fifth"]
        said = (
            f"Since the end of {since}, {int(fell.sum()):,} account"
            f"{'s' if fell.sum() != 1 else ''} fell below 50 % P(alive), "
            f"{int(top.sum()):,} of them in the top fifth by past spend."
        )
        risky = acc[acc["at_risk"]]
        risky = risky.assign(
            fall=risky["p_alive_then"] - risky["p_alive"],
            p_alive_then=risky["p_alive_then"] * 100.0,
        ).sort_values(["fall", "past_spend", "account_id"], ascending=[False, False, True])
        if risky.empty:
            table = blocks().na("No account in the top fifth by past spend is at risk.")
        else:
            table = self.show_table(
                _clv_shown(risky.head(n), "p_alive_then", "past_spend"),
                money=("clv_12m", "expected_spend", "past_spend"),
                percent=("p_alive", "p_alive_then"),
                limit=n,
                data="clv_accounts",
            ).text
        return HTML(str(blocks().note(said, None)) + str(table))  # both escaped already

    def data_quality(self) -> HTML:
        """What validation found, in two parts: the tables the data does not have, in one
        calm line with the number of KPIs they put out of reach ("This export has no
        orders, leads: 21 KPIs are out of reach (...)"); then every real problem
        (errors first), each with its count, an example and the fix."""
        f = self.data.findings()
        absent = f[f["check"] == "missing_table"]
        tables = list(dict.fromkeys(absent["table"]))
        line = None
        if tables:
            names = [TABLE_WORDS.get(t, t.replace("_", " ")) for t in tables]
            listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
            out = self._out_of_reach(tables)
            line = f"This export has no {listed}" + (
                f": {out} KPI{'s are' if out != 1 else ' is'} out of reach (what each needs "
                "is under All KPIs)."
                if out
                else "."
            )
        found = f[f["check"] != "missing_table"]
        found = found.assign(_rank=(found["severity"] != "error").astype(int))
        problems = [
            dict(
                severity=str(r.severity),
                where=f"{r.table}.{r.column}" if r.column else str(r.table),
                problem=str(r.problem).rstrip(". "),
                rows=f"{int(r.rows):,} row{'s' if int(r.rows) != 1 else ''}" if r.rows else "",
                example=", ".join(str(e) for e in list(r.examples)[:2]) if len(r.examples) else "",
                fix=str(r.fix),
            )
            for r in found.sort_values("_rank", kind="stable").itertuples()
        ]
        href = f"../{self.data.path.name}/validation.csv" if self.link(SCOPE_KPIS) else None
        return HTML(blocks().data_quality(line, problems, href))

    def _out_of_reach(self, tables: list[str]) -> int:
        """How many of the page's KPIs are n/a for want of one of ``tables``."""
        na = self.current[self.current["status"] == "not_available"]
        return int(sum(any(f"table `{t}`" in str(why) for t in tables) for why in na["reason"]))


YEAR_STEPS = {"month": 12, "quarter": 4, "year": 1}  # periods back to the same one a year before


def _rag(row: pd.Series) -> str:
    return row["rag"] if isinstance(row["rag"], str) else ""


_CLV_SHOWN = ["account_id", "account_name", "p_alive", "expected_purchases_12m", "expected_spend",
              "clv_12m"]  # fmt: skip


def _clv_shown(acc: pd.DataFrame, *more: str) -> pd.DataFrame:
    """The CLV columns a page shows, P(alive) in percent."""
    cols = [c for c in [*_CLV_SHOWN, *more] if c in acc.columns]
    return acc[cols].assign(p_alive=acc["p_alive"] * 100.0)


def forecast_caption(rows: pd.DataFrame) -> str:
    """How one series' forecast interval was made and its track record, from its rows of
    the ``forecasts`` table (a snapshot made before they existed: "").

    >>> rows = pd.DataFrame({"interval": ["conformal (14 windows)"], "track_held": [10],
    ...                      "track_origins": [12], "track_mape": [6.24]})
    >>> for part in forecast_caption(rows).split(". "):
    ...     print(part)
    80 % interval: conformal (14 windows)
    Track record: the 80 % interval held 10 of the last 12 months; MAPE 6.2 %.
    """
    if "interval" not in rows:
        return ""
    r = rows.iloc[0]
    text = f"80 % interval: {', '.join(dict.fromkeys(rows['interval'].astype(str)))}."
    track = track_record_text(r.get("track_held"), r.get("track_origins"), r.get("track_mape"))
    return text + (f" Track record: {track}." if track else "")


def show(fig) -> None:
    """Display a matplotlib figure as an embedded PNG, then close it."""
    display(fig)
    plt.close(fig)
