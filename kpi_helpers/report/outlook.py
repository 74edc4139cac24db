"""The outlook's sections of a page, a mixin of ``Report`` (``report.notebook``): the
forecast charts and line, the quarter's pacing (sentences and bullet charts), next
month's bookings, and the accounts' predictive CLV (distribution, top accounts, at
risk). Each method reads a table of the page's data (``self.table``) and draws through
``Report``'s ``display``/``show``/``show_table``, with the link to the data behind it
in a pack.
"""

from __future__ import annotations

import pandas as pd

from kpi_helpers.catalog import format_value, get, scope_label, track_record_text
from kpi_helpers.core import Month

from .charts import bar_chart, forecast_chart, histogram, pace_chart
from .html import HTML, blocks, reason_parts
from .pages import HEADLINES, PACING, month_label
from .snapshot import Snapshot


class OutlookSections:
    """The sections of the outlook and customers pages of :class:`Report`:
    ``forecast_charts``, ``forecast_line``, ``pace``/``pace_lines``/``pacing``,
    ``next_month``, ``clv_distribution``, ``top_accounts`` and ``at_risk``.

    Example: ``Report("outlook", snapshot="out/2026-10/data").forecast_line()``."""

    def forecast_charts(self) -> None:
        """Per forecast series: the months so far and the next 3 with the 80 % interval,
        the method named (on a quarter's or year's page the next months alone: its rows
        are periods, not months); then the table of forecasts."""
        f = self.table("forecasts")
        if f is None:
            self.display(self.show_table(None))
            return
        for kpi, rows in f.groupby("kpi", sort=False):
            k = get(kpi)
            done = self.df[(self.df["kpi"] == kpi) & (self.df["status"] == "ok")]
            actual = done.set_index("month")["value"]
            if self.period != "month":  # a QBR's rows are quarters: not on a months' axis
                actual = actual.iloc[:0]
            fig = forecast_chart(
                actual, rows, f"{k.name}: the next {len(rows)} months", k.unit, self.cfg.currency
            )
            self.show(fig, data="forecasts")
            self.display(HTML(blocks().caption(forecast_caption(rows))))
        shown = f.drop(columns=[c for c in f.columns if c.startswith("track_")])
        shown = shown.assign(kpi=f["kpi"].map(lambda x: get(x).name))
        units = f["kpi"].map(lambda x: get(x).unit)
        for col in ("forecast", "lower", "upper"):  # each row in its KPI's unit
            shown[col] = [
                format_value(v, u, self.cfg.currency) if pd.notna(v) else ""
                for v, u in zip(f[col], units, strict=True)
            ]
        self.display(self.show_table(shown, data="forecasts"))

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
        when = f"next month ({month_label(r['month'])})"
        if self.period != "month":  # a QBR: the month after the period's last with data
            when = f"{month_label(r['month'])}, the month after {month_label(self.month)}"
        text = f"{k.name} forecast for {when}: {fmt(r['forecast'])}"
        return HTML(blocks().note(f"{text}{band}, {r['method']}.", self.link("forecasts")))

    def pace(self, scopes: list[str] | None = None) -> list[dict]:
        """The quarter's pace (``models.pacing.pacing``) of ``scopes`` (this scope by
        default): from the snapshot in a pack, else computed."""
        return self.data.pacing(scopes or [self.scope])

    def pace_lines(self, paces: list[dict] | None = None) -> list[str]:
        """The pacing sentences of this scope, one per paced KPI, e.g. "Sales revenue: on
        pace for $5.2M this quarter (80 %: $4.8M–$5.6M) against a $5.0M target (2026-Q4,
        2 of 3 months done; ETS(A,N,N))"; a complete quarter has no pace, only its
        actual: "Sales revenue: $5.1M in 2026-Q4 against a $5.0M target (the quarter's
        actual, 3 of 3 months)". The summary page and the e-mail show them; ``paces``:
        this scope's paces when already read (:meth:`pace`)."""
        out = []
        for p in self.pace() if paces is None else paces:
            k = get(p["kpi"])

            def fmt(v: float, unit: str = k.unit) -> str:
                return format_value(v, unit, self.cfg.currency)

            goal = (
                f" against a {fmt(p['target'])} target"
                if p["target"] is not None
                else " (no target for every month of the quarter)"
            )
            if pace_complete(p):
                done = f"the quarter's actual, {p['months']} of {p['of_months']} months"
                out.append(f"{k.name}: {fmt(p['actual'])} in {p['quarter']}{goal} ({done}).")
                continue
            band = f" (80 %: {fmt(p['lower'])}–{fmt(p['upper'])})"
            done = f"{p['quarter']}, {p['months']} of {p['of_months']} months done"
            how = f"; {p['method']}" if p["method"] else ""
            out.append(
                f"{k.name}: on pace for {fmt(p['pace'])} this quarter{band}{goal} ({done}{how})."
            )
        return out

    def pacing(self) -> None:
        """Pacing for the quarter: its intro (a pace, or a complete quarter's actual:
        :func:`pacing_section`), the sentences of :meth:`pace_lines`, then per paced KPI
        with a target a bullet chart of the company and its teams (a team's page: the
        team) with the QTD actual, the pace's 80 % interval and the quarter's target."""
        paces = self.pace()
        self.intro(pacing_section(paces))
        lines = self.pace_lines(paces)
        if not lines:
            why = "pacing needs a revenue or bookings forecast (company and teams)"
            self.display(HTML(blocks().na(f"No pace for the quarter: {why}.")))
            return
        self.display(HTML(blocks().notes(lines, self.link(PACING))))
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
            done = pace_complete(rows.iloc[0])
            title = pace_title(k.name, rows["quarter"].iloc[0], done)
            self.show(pace_chart(rows, title, k.unit, self.cfg.currency, done), data=PACING)

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
            self.display(self.show_table(None))
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
            clv_shown(acc.head(n)),
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
                clv_shown(risky.head(n), "p_alive_then", "past_spend"),
                money=("clv_12m", "expected_spend", "past_spend"),
                percent=("p_alive", "p_alive_then"),
                limit=n,
                data="clv_accounts",
            ).text
        return HTML(str(blocks().note(said, None)) + str(table))  # both escaped already


def pace_complete(pace: dict | pd.Series) -> bool:
    """Whether a pace (``models.pacing.pacing``'s dict) is of a complete quarter: every
    month done, nothing forecast, so its "pace" is the quarter's actual."""
    return int(pace["months"]) == int(pace["of_months"])


def pacing_section(paces: list[dict]) -> str:
    """The intro of the pacing section (``pages.INTROS``): "pacing_complete" when every
    pace is of a complete quarter (its actual against target), else "pacing" (a quarter
    to date, paced).

    >>> done, to_date = {"months": 3, "of_months": 3}, {"months": 2, "of_months": 3}
    >>> pacing_section([done]), pacing_section([to_date]), pacing_section([done, to_date])
    ('pacing_complete', 'pacing', 'pacing')
    >>> pacing_section([])
    'pacing'
    """
    return "pacing_complete" if paces and all(pace_complete(p) for p in paces) else "pacing"


def pace_title(name: str, quarter: str, complete: bool) -> str:
    """The pacing chart's title: the quarter to date with its pace, or a complete
    quarter's actual.

    >>> pace_title("Bookings", "2026-Q4", False)
    'Bookings: 2026-Q4 to date, pace and target'
    >>> pace_title("Bookings", "2026-Q3", True)
    'Bookings: 2026-Q3, actual and target'
    """
    return (
        f"{name}: {quarter}, actual and target"
        if complete
        else (f"{name}: {quarter} to date, pace and target")
    )


CLV_SHOWN = ["account_id", "account_name", "p_alive", "expected_purchases_12m", "expected_spend",
              "clv_12m"]  # fmt: skip


def clv_shown(acc: pd.DataFrame, *more: str) -> pd.DataFrame:
    """The CLV columns a page shows, P(alive) in percent."""
    cols = [c for c in [*CLV_SHOWN, *more] if c in acc.columns]
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
