"""The summary's sections of a page, a mixin of ``Report`` (``report.notebook``): the
alerts that fired, the largest movers, why the headlines moved (drivers and waterfalls),
a QBR's quarters side by side, and what validation found. Each method reads the page's
rows (``self.current``, ``self.df``), its data (``self.data``: a snapshot or live) and
draws through ``Report``'s ``display``/``show``/``link``, so a pack's page and a live
notebook show the same blocks.
"""

from __future__ import annotations

from kpi_helpers.catalog import REGISTRY, get

from .charts import waterfall_chart
from .choices import mover_weights
from .html import HTML, blocks
from .pages import SCOPE_KPIS, alerts_of_scope, month_label, period_label, trend_tone
from .snapshot import Snapshot

TABLE_WORDS = {"nps_responses": "NPS responses"}  # a table in a sentence, where not its name


class SummarySections:
    """The sections of the summary page (and the data-quality page) of :class:`Report`:
    ``alerts``, ``movers``, ``why_moved``, ``year_quarters`` and ``data_quality``.

    Example: ``Report("summary", snapshot="out/2026-10/data").movers(3)``."""

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
        return HTML(blocks().alerts(own, rules, others, elsewhere, self.phrase("{this}")))

    def movers(self, n: int = 5) -> HTML:
        """The month's largest movers in plain words."""
        top = mover_weights(self.current).sort_values(ascending=False).head(n).index
        lines = []
        for kpi in top:
            r = self.current.loc[kpi]
            change = abs(r["mom_change"])
            lines.append(
                dict(
                    tone=trend_tone(r["trend"]),
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
        A quarter or year page explains its change from the period before ("from 2026-Q3
        to 2026-Q4")."""
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
        self.display(HTML(blocks().why(items, plain, None, self.period)))
        for e in ranked[:charts]:
            fig = waterfall_chart(
                e["base_value"],
                [(str(label), float(x)) for label, x in e["bridge"]],
                month_label(e["month"]),
                f"{e['name']}: from {month_label(e['base_month'])} to {month_label(e['month'])}",
                self.cfg.currency,
                unit=e["unit"],
                start_label=month_label(e["base_month"]),
                better=REGISTRY[e["kpi"]].better,
            )
            self.show(fig)
        if href:
            self.display(
                HTML(blocks().data_link(href, "every part of every split of the headlines"))
            )

    def year_quarters(self, ids: list[str] | None = None) -> HTML | None:
        """A QBR's or a year pack's summary: the fiscal year's quarters side by side (the
        year's quarters with data, oldest first), one row per headline KPI; None on a
        monthly page. A quarter to date is labelled so: "2026-Q4 to date (2 of 3
        months)"."""
        ids = ids or self.headlines()
        if self.period == "year":  # the year's quarters: from the snapshot, else computed
            rows = self.data.year_quarters(self.scope, ids).sort_values("period_start")
        elif self.period == "quarter":  # among the page's 8 quarters
            rows = self.df.sort_values("period_start")
            now = self.current["period"].iloc[0] if len(self.current) else ""
            rows = rows[rows["period"].str.rpartition("-Q")[0] == str(now).rpartition("-Q")[0]]
        else:
            return None
        spans = rows.drop_duplicates("period")
        labels = [
            period_label(r.period, r.period_start, r.period_end, r.month)
            for r in spans.itertuples()
        ]
        table = []
        for kpi in ids:
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
        href = self.link(SCOPE_KPIS) if self.period == "quarter" else None  # the 8 quarters
        return HTML(blocks().table(columns, table, "", href))

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
