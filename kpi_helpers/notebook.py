"""What the notebooks call: one ``Report`` per notebook run, and HTML building blocks.

Every value from the data goes through :func:`html.escape` before it reaches HTML;
pandas tables are rendered with ``escape=True``. A notebook cell is one call::

    report = Report("pipeline", month=month, scope=scope, source=source)
    report.title()
    report.cards()
    report.trends()
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd

from . import charts, kpis
from .config import Config, load_config
from .errors import KitError
from .months import Month
from .registry import FAMILIES, REGISTRY, get
from .sources import Dataset, open_dataset
from .tables import compute_table, extra_table

HEADLINES = {
    "revenue": ["sales_revenue", "monthly_sales_bookings", "monthly_sales_growth", "new_customers"],
    "pipeline": ["pipeline_value", "win_rate", "pipeline_coverage", "sales_cycle_length"],
    "activity": ["calls_made", "new_leads", "lead_response_time", "account_contact_rate"],
    "customers": [
        "active_customers",
        "churn_rate",
        "net_promoter_score",
        "customer_lifetime_value",
    ],
    "profitability": ["customer_acquisition_cost", "gross_margin", "ltv_to_cac", "cost_per_lead"],
    "team": ["sales_target_attainment", "gap_to_target", "sales_per_rep"],
    "subscription": [
        "monthly_recurring_revenue",
        "net_new_mrr",
        "net_revenue_retention",
        "revenue_churn_rate",
    ],
    "summary": [
        "sales_revenue",
        "monthly_sales_bookings",
        "monthly_sales_growth",
        "win_rate",
        "pipeline_coverage",
        "customer_acquisition_cost",
        "churn_rate",
        "net_promoter_score",
        "monthly_recurring_revenue",
        "sales_target_attainment",
    ],
}
TITLES = {
    "summary": "Executive summary",
    "revenue": "Revenue and growth",
    "pipeline": "Pipeline and conversion",
    "activity": "Activity and responsiveness",
    "customers": "Retention and customer value",
    "profitability": "Cost and profitability",
    "team": "People and targets",
    "subscription": "Recurring revenue",
}
TREND_MONTHS = 13
e = html.escape


def reason_html(reason: str) -> str:
    """A not-available reason, escaped, with `table`/`column` names set as code.

    >>> reason_html("needs table `leads` <b>")
    'needs table <code>leads</code> &lt;b&gt;'
    """
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", e(str(reason)))


def scope_label(scope: str) -> str:
    """``team:EMEA`` -> ``Team EMEA``; ``company`` -> ``Company``."""
    kind, _, name = scope.partition(":")
    return kind.capitalize() + (f" {name}" if name else "")


def month_label(month: str) -> str:
    m = Month.parse(month)
    return m.start.strftime("%B %Y")


@dataclass
class Report:
    """The KPIs of one family (or the summary) for one month and scope, 13 months deep."""

    family: str
    month: str = "latest"
    scope: str = "company"
    source: str = "../data/sample"
    mapping: str = ""
    config: str = ""
    cfg: Config = field(init=False)
    ds: Dataset = field(init=False)
    df: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        if self.family not in (*FAMILIES, "summary"):
            raise ValueError(f"unknown family {self.family!r}")
        self.cfg = load_config(self.config or None)
        self.ds = open_dataset(self.source, self.mapping or None)
        if self.month in ("", "latest"):
            self.month = str(kpis.data_months(self.ds)[1])
        families = list(FAMILIES) if self.family == "summary" else [self.family]
        self.df = kpis.compute(
            self.ds,
            self.month,
            months=TREND_MONTHS,
            scope=self.scope,
            families=families,
            config=self.cfg,
        )
        self.current = self.df[self.df["month"] == self.month].set_index("kpi")

    # ---------------------------------------------------------------- text blocks
    def title(self) -> HTML:
        """The notebook's title: family, scope, month."""
        return HTML(
            f'<h1 class="pack-title">{e(TITLES[self.family])} '
            f'<span class="pack-scope">{e(scope_label(self.scope))} · '
            f"{e(month_label(self.month))}</span></h1>"
        )

    def fmt(self, kpi: str, value: float) -> str:
        return charts.format_value(value, get(kpi).unit, self.cfg.currency)

    def cards(self, ids: list[str] | None = None) -> HTML:
        """Headline KPI cards: value, MoM, YoY, target and RAG, or n/a with the reason."""
        out = []
        for kpi in ids or HEADLINES[self.family]:
            k = get(kpi)
            row = self.current.loc[k.id]
            if row["status"] != "ok":
                body = (
                    f'<div class="value na">n/a</div><div class="reason">'
                    f"{reason_html(row['reason'])}</div>"
                )
            else:
                body = (
                    f'<div class="value">{e(self.fmt(k.id, row["value"]))}</div>'
                    f"{self._change(row, 'mom_change', 'vs last month')}"
                    f"{self._change(row, 'yoy_change', 'vs last year')}"
                )
                if pd.notna(row["target"]):
                    body += (
                        f'<div class="target">target {e(self.fmt(k.id, row["target"]))}'
                        f" · {row['attainment']:.0f} %</div>"
                    )
            rag = row["rag"] if isinstance(row["rag"], str) and row["rag"] else "none"
            out.append(
                f'<div class="card rag-{rag}"><div class="name">{e(k.name)}</div>{body}</div>'
            )
        return HTML('<div class="cards">' + "".join(out) + "</div>")

    def _change(self, row: pd.Series, col: str, label: str) -> str:
        v = row[col]
        if pd.isna(v):
            return f'<div class="change">— {e(label)}</div>'
        unit = "pp" if row["change_unit"] == "pp" else "%"
        good = {"improving": "good", "worsening": "bad"}.get(row["trend"], "")
        arrow = "▲" if v > 0 else "▼" if v < 0 else "■"
        if col == "yoy_change":
            better = row["better"]
            good = "" if better == "neutral" else ("good" if (v > 0) == (better == "up") else "bad")
        return f'<div class="change {good}">{arrow} {v:+,.1f} {unit} {e(label)}</div>'

    def trends(self, ids: list[str] | None = None) -> None:
        """A 13-month trend chart per headline KPI."""
        for kpi in ids or HEADLINES[self.family]:
            k = get(kpi)
            rows = self.df[self.df["kpi"] == k.id].set_index("month")
            if (rows["status"] == "not_available").all():
                continue
            show(
                charts.trend_chart(
                    rows["value"],
                    f"{k.name}, last {TREND_MONTHS} months",
                    k.unit,
                    self.cfg.currency,
                    rows["target"],
                )
            )

    def kpi_table(self) -> HTML:
        """Every KPI of the family this month: value, changes, target, status."""
        rows = []
        for kpi, r in self.current.iterrows():
            k = REGISTRY[kpi]
            value = (
                e(self.fmt(kpi, r["value"]))
                if r["status"] == "ok"
                else f'<span class="na">n/a</span> <small>{reason_html(r["reason"])}</small>'
            )
            mom = "" if pd.isna(r["mom_change"]) else f"{r['mom_change']:+,.1f} {r['change_unit']}"
            yoy = "" if pd.isna(r["yoy_change"]) else f"{r['yoy_change']:+,.1f} {r['change_unit']}"
            target = "" if pd.isna(r["target"]) else e(self.fmt(kpi, r["target"]))
            rag = r["rag"] if isinstance(r["rag"], str) else ""
            rows.append(
                f'<tr><td>{e(k.name)}</td><td class="num">{value}</td>'
                f'<td class="num">{e(mom)}</td><td class="num">{e(yoy)}</td>'
                f'<td class="num">{target}</td><td class="rag-{rag or "none"}">'
                f"{e(rag)}</td></tr>"
            )
        return HTML(
            '<table class="kpis"><thead><tr><th>KPI</th><th>value</th><th>vs last '
            "month</th><th>vs last year</th><th>target</th><th>status</th></tr>"
            "</thead><tbody>" + "".join(rows) + "</tbody></table>"
        )

    def definitions(self) -> HTML:
        """The definition of every KPI of the family, from the registry."""
        fams = FAMILIES if self.family == "summary" else [self.family]
        items = []
        for k in REGISTRY.values():
            if k.family in fams and (self.family != "summary" or k.id in HEADLINES["summary"]):
                text = f"alias of {k.alias_of}" if k.alias_of else k.definition
                note = f" <em>{e(k.note)}</em>" if k.note else ""
                items.append(
                    f"<dt>{e(k.name)} <code>{e(k.id)}</code></dt><dd>{e(text)}.{note}</dd>"
                )
        return HTML('<div class="definitions"><dl>' + "".join(items) + "</dl></div>")

    # ---------------------------------------------------------------- tables
    def table(self, kpi: str) -> pd.DataFrame | None:
        """A table KPI for this month and scope; None (n/a) when its inputs are missing."""
        return self._table(compute_table, kpi)

    def extra(self, name: str) -> pd.DataFrame | None:
        """One of the packs' extra tables (``kpi_helpers.tables.EXTRAS``), or None (n/a)."""
        return self._table(extra_table, name)

    def _table(self, fn, name: str) -> pd.DataFrame | None:
        scope = self.scope if ":" in self.scope else "company"
        try:
            return fn(self.ds, name, self.month, scope, self.cfg)
        except KitError as exc:  # a missing input: shown as n/a with the reason
            self.unavailable = str(exc)
            return None

    def show_table(
        self,
        df: pd.DataFrame | None,
        money: tuple[str, ...] = (),
        percent: tuple[str, ...] = (),
        limit: int = 15,
    ) -> HTML:
        """A table with formatted numbers (escaped), or n/a with the reason."""
        if df is None:
            return HTML(f'<p class="na">n/a: {e(getattr(self, "unavailable", "no data"))}</p>')
        if df.empty:
            return HTML('<p class="na">No rows this month.</p>')
        shown = df.head(limit).copy()
        for col in shown.columns:
            if col in money:
                shown[col] = [
                    charts.format_value(v, "currency", self.cfg.currency) for v in shown[col]
                ]
            elif col in percent:
                shown[col] = [charts.format_value(v, "percent") for v in shown[col]]
            elif pd.api.types.is_float_dtype(shown[col]):
                shown[col] = [("" if pd.isna(v) else f"{v:,.2f}") for v in shown[col]]
        shown.columns = [str(c).replace("_", " ") for c in shown.columns]
        more = (
            f'<p class="more">{len(df) - limit:,} more rows in the executed notebook.</p>'
            if len(df) > limit
            else ""
        )
        return HTML(
            shown.to_html(index=False, escape=True, classes="data", border=0, na_rep="") + more
        )

    # ---------------------------------------------------------------- summary
    def movers(self, n: int = 5) -> HTML:
        """The month's largest movers in plain words."""
        cur = self.current[
            (self.current["status"] == "ok")
            & self.current["mom_change"].notna()
            & (self.current["better"] != "neutral")
        ]
        rel = cur[cur["change_unit"] == "%"]["mom_change"].abs()
        pp = cur[cur["change_unit"] == "pp"]["mom_change"].abs() * 2  # 1 pp ~ 2 % in weight
        top = pd.concat([rel, pp]).sort_values(ascending=False).head(n).index
        lines = []
        for kpi in top:
            r = cur.loc[kpi]
            verb = "rose" if r["mom_change"] > 0 else "fell"
            change = (
                f"{abs(r['mom_change']):.1f} points"
                if r["change_unit"] == "pp"
                else f"{abs(r['mom_change']):.1f} %"
            )
            tone = {"improving": "good", "worsening": "bad"}.get(r["trend"], "")
            lines.append(
                f'<li class="{tone}"><strong>{e(REGISTRY[kpi].name)}</strong> {verb} '
                f"{change} to {e(self.fmt(kpi, r['value']))} (from "
                f"{e(self.fmt(kpi, r['previous_month']))}).</li>"
            )
        if not lines:
            return HTML("<p>No KPI moved enough to report.</p>")
        return HTML('<ul class="movers">' + "".join(lines) + "</ul>")

    def data_quality(self) -> HTML:
        """One line from ``validate``: errors, warnings, and what they are."""
        from .validate import validate

        f = validate(self.ds)
        errors, warnings = (f["severity"] == "error").sum(), (f["severity"] == "warning").sum()
        tone = "bad" if errors else "warn" if warnings else "good"
        detail = "; ".join(
            f"{r.table}.{r.column}: {r.problem}".rstrip(".:") for r in f.head(3).itertuples()
        )
        text = f"Data quality: {errors} error(s), {warnings} warning(s)" + (
            f" — {detail}" if detail else " — the data meets the contract."
        )
        return HTML(f'<p class="data-quality {tone}">{e(text)}</p>')


class HTML:
    """HTML that Jupyter displays (and nbconvert embeds) as is: built only from escaped
    parts by the functions above."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def show(fig) -> None:
    """Display a matplotlib figure as an embedded PNG, then close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)
