"""What the explorer shows, as data: the scopes, months and KPIs to pick from, a card,
a trend and a breakdown, all read from a pack's snapshot through :class:`Report`, the
pages' own reader, so a number in the explorer is the pack's by construction.

Nothing here draws a widget (:mod:`kpi_helpers.explore.widgets` does), so every answer
can be checked in a test::

    numbers = Numbers(Snapshot("reports/2026-11/data"))
    numbers.card_html("team:EMEA", "2026-11", "sales_revenue")   # the pages' card
    numbers.breakdown("company", "2026-11", "win_rate", "previous")  # one row per team
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

from kpi_helpers.catalog import FAMILIES, REGISTRY, format_change, format_kpi, get
from kpi_helpers.core import Config, KitError, load_config
from kpi_helpers.report import Report, Snapshot, compact, month_label, page_title
from kpi_helpers.report.html import blocks

TREND_SPAN = 24  # the trend shows up to this many months (a snapshot holds 13)
CACHED_REPORTS = 64  # the scopes whose Report stays open (each holds 13 months of KPIs)
# what "Compare with" sets against the value: the column of the tidy rows, the change
# column and its words
COMPARE = {
    "previous": ("previous_month", "mom_change", "previous month"),
    "year before": ("same_month_last_year", "yoy_change", "a year before"),
    "target": ("target", "attainment", "target"),
}


# the drivers' base (Snapshot.drivers) behind each "Compare with" the pack explains
DRIVER_BASE = {"previous": "previous", "year before": "year"}


@dataclass(frozen=True)
class Choice:
    """One scope to pick: its ``scope`` (``company``, ``team:X``, ``rep:ID``), its
    ``label`` in the ``Scope`` dropdown and its ``short`` name in the breadcrumb."""

    scope: str
    label: str
    short: str


class Numbers:
    """The explorer's reads of one snapshot (see the module's docstring)."""

    def __init__(self, snapshot: Snapshot, config: Config | None = None):
        self.snap = snapshot
        self.cfg = config or load_config(None)
        self.month = snapshot.month
        reps = snapshot.reps
        teams = [s for s in snapshot.scopes if s.startswith("team:")]
        self.choices: dict[str, Choice] = {"company": Choice("company", "Company", "Company")}
        for t in teams:
            self.choices[t] = Choice(t, f"Team {t[5:]}", t[5:])
        for r, info in sorted(reps.items(), key=lambda x: (x[1]["name"].lower(), x[0])):
            label = f"{info['name']} ({info['team']})"
            self.choices[r] = Choice(r, label, info["name"])
        self.team_of = {r: f"team:{info['team']}" for r, info in reps.items()}
        every = snapshot.kpis()
        self.months = sorted(every["month"].unique())
        self._reports: OrderedDict[str, Report] = OrderedDict()
        self._at: OrderedDict[tuple[str, str], Report] = OrderedDict()  # scope, month
        self._series: OrderedDict[str, tuple[dict, dict]] = OrderedDict()  # per scope
        # once: the rows of each (kpi, month) in the pack scopes' and the reps' frames
        self._frames = [compact(every), compact(snapshot.rep_kpis())]
        self._rows = [f.groupby(["kpi", "month"], sort=False).indices for f in self._frames]
        if reps:  # the reps' rows made quick to take now, not on the first click on a rep
            snapshot.kpis(next(iter(reps)))
        shown = set(every["kpi"])
        self.kpis = [
            k.id
            for fam in FAMILIES
            for k in REGISTRY.values()
            if k.family == fam and k.id in shown and not k.is_table and not k.alias_of
        ]

    # ---------------------------------------------------------------- what to pick
    def kpi_options(self) -> list[tuple[str, str]]:
        """The ``KPI`` dropdown: (label, id), grouped by family ("Revenue and growth ›
        Sales revenue"), in the catalog's order."""
        return [(f"{page_title(get(k).family)} › {get(k).name}", k) for k in self.kpis]

    def month_options(self) -> list[tuple[str, str]]:
        """The ``Month`` dropdown: every month of the snapshot, newest first ("November
        2026", "2026-11"). Quarters join here once the engine has periods."""
        return [(month_label(m), m) for m in reversed(self.months)]

    def children(self, scope: str) -> list[str]:
        """The scopes one level down: the teams of the company, the reps of a team."""
        if scope == "company":
            return [s for s in self.choices if s.startswith("team:")]
        if scope.startswith("team:"):
            return [r for r, t in self.team_of.items() if t == scope]
        return []

    def path(self, scope: str) -> list[Choice]:
        """The breadcrumb: Company › EMEA › Jane Doe (a team not in the pack: its name
        only, as a choice of its own)."""
        if scope == "company":
            return [self.choices["company"]]
        if scope.startswith("team:"):
            return [self.choices["company"], self.choices[scope]]
        team = self.team_of[scope]
        mid = self.choices.get(team, Choice(team, f"Team {team[5:]}", team[5:]))
        return [self.choices["company"], mid, self.choices[scope]]

    # ---------------------------------------------------------------- one scope
    def report(self, scope: str) -> Report:
        """The scope's :class:`Report` (every family, the snapshot's month), kept open."""
        if scope in self._reports:
            self._reports.move_to_end(scope)
            return self._reports[scope]
        if scope not in self.choices:
            raise KitError(f"Scope {scope!r} is not in this snapshot.")
        rep = Report("summary", scope=scope, snapshot=self.snap)
        rep.cfg = self.cfg
        self._reports[scope] = rep
        if len(self._reports) > CACHED_REPORTS:
            self._reports.popitem(last=False)
        return rep

    def at(self, scope: str, month: str) -> Report:
        """The scope's report as of ``month`` (``Report.at``), kept open."""
        key = (scope, month)
        if key not in self._at:
            self._at[key] = self.report(scope).at(month)
            if len(self._at) > 4 * CACHED_REPORTS:
                self._at.popitem(last=False)
        return self._at[key]

    def card_html(self, scope: str, month: str, kpi: str) -> str:
        """The KPI's card exactly as the pages draw it (``Report.card`` through the pages'
        ``cards`` block: value, changes, target, RAG), or the pages' line saying why the
        data cannot give it."""
        rep = self.at(scope, month)
        card = rep.card(kpi)
        line = None
        if card is None and kpi in rep.current.index:  # the pages' line
            why = str(rep.current.loc[kpi, "reason"]).replace("`", "")
            line = f"Not available from this data: {get(kpi).name} ({why})."
        elif card is None:  # a rep before they joined or after they left
            line = f"{self.choices[scope].label} has no figures in {month_label(month)}."
        return str(blocks().cards([card] if card else [], line, None, ()))

    def why_html(self, scope: str, month: str, kpi: str, compare: str) -> str:
        """ "Why it moved" for the pick, as the pack's pages print it (the drivers the
        snapshot stores: the pack's month, its company and teams, against the previous
        month or the year before); "" where the pack has none (a rep, another month,
        "target", a KPI without an exact split).

        Example: ``numbers.why_html("company", numbers.month, "win_rate", "previous")``."""
        base = DRIVER_BASE.get(compare)
        if base is None or month != self.snap.month:
            return ""
        found = self.snap.drivers(scope, base, [kpi]).get(kpi)
        if not found or not found["drivers"]:
            return ""
        item = dict(name=found["name"], text=found["text"].removeprefix(found["name"]))
        return str(blocks().why([item], [], None))

    def value_text(self, scope: str, month: str, kpi: str) -> str | None:
        """The card's value as the pages print it; None when the card has none."""
        card = self.at(scope, month).card(kpi)
        return card.get("value") if card else None

    def title_html(self, scope: str, month: str, kpi: str) -> str:
        """The card's title: the KPI, then the scope and month (the pages' title block)."""
        return str(blocks().title(get(kpi).name, self.choices[scope].label, month_label(month)))

    def trend(self, scope: str, month: str, kpi: str) -> pd.DataFrame:
        """Up to :data:`TREND_SPAN` months up to ``month``: ``month``, ``value``,
        ``target`` (the months the KPI exists: not-available months are left out)."""
        if scope not in self._series:  # once per scope: its months, KPI by KPI
            df = self.report(scope).df
            df = df[df["status"] != "not_available"].sort_values(["kpi", "month"])
            cols = {c: df[c].to_numpy() for c in ("month", "value", "target")}
            self._series[scope] = (cols, df.groupby("kpi", sort=False).indices)
            if len(self._series) > CACHED_REPORTS:
                self._series.popitem(last=False)
        cols, at = self._series[scope]
        pos = at.get(kpi, [])
        pos = [i for i in pos if cols["month"][i] <= month][-TREND_SPAN:]
        return pd.DataFrame({c: v[pos] for c, v in cols.items()})

    def forecast(self, scope: str, month: str, kpi: str) -> pd.DataFrame | None:
        """The snapshot's forecast of ``kpi`` after ``month`` (month, forecast, lower,
        upper, method), when the snapshot has one: made at the end of its own month."""
        if month != self.month or not scope.startswith(("company", "team:")):
            return None
        try:
            f = self.snap.table("forecasts", scope)
        except KitError:  # no forecast for this scope
            return None
        rows = f[f["kpi"] == kpi]
        return rows.reset_index(drop=True) if len(rows) else None

    # ---------------------------------------------------------------- one level down
    def breakdown(self, scope: str, month: str, kpi: str, compare: str) -> pd.DataFrame:
        """The KPI for each scope one level down (:meth:`children`), sorted by value
        (largest first, no value last): ``scope``, ``name``, ``value``, ``compared``
        (the ``compare`` value), ``change``, ``rag``, and their texts ``value_text``,
        ``compared_text``, ``change_text``. Empty for a rep."""
        kids = self.children(scope)
        cols = ["scope", "name", "value", "compared", "change", "rag"]
        if not kids:
            return pd.DataFrame(columns=cols + ["value_text", "compared_text", "change_text"])
        frame_no = 1 if scope.startswith("team:") else 0
        frame = self._frames[frame_no]
        rows = frame.take(self._rows[frame_no].get((kpi, month), []))
        rows = rows[rows["key"].isin(kids)]
        col, change, _ = COMPARE[compare]
        ok = rows["status"] == "ok"
        out = pd.DataFrame(
            {
                "scope": rows["key"].to_numpy(),
                "name": [self.choices[k].short for k in rows["key"]],
                "value": rows["value"].where(ok).to_numpy(float),
                "compared": rows[col].to_numpy(float),
                "change": rows[change].to_numpy(float),
                "rag": rows["rag"].astype(object).fillna("").to_numpy(),
            }
        )
        out = out.sort_values(["value", "name"], ascending=[False, True], na_position="last")
        k = get(kpi)
        unit = "%" if compare == "target" else None
        fmt = lambda v: "" if pd.isna(v) else format_kpi(k, v, self.cfg.currency)  # noqa: E731
        out["value_text"] = [fmt(v) if pd.notna(v) else "n/a" for v in out["value"]]
        out["compared_text"] = [fmt(v) for v in out["compared"]]
        units = rows.set_index("key")["change_unit"]
        out["change_text"] = [
            ("" if pd.isna(c) else f"{c:.0f} %")
            if unit
            else format_change(c, units.get(s, "%"), self.cfg.currency)
            for s, c in zip(out["scope"], out["change"], strict=True)
        ]
        return out.reset_index(drop=True)

    def table(
        self, scope: str, month: str, kpi: str, compare: str, b: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """What is shown, as a table for the CSV: the breakdown (one row per team or rep;
        ``b`` when already made), or for a rep its trend (one row per month)."""
        b = self.breakdown(scope, month, kpi, compare) if b is None else b
        what = COMPARE[compare][2]
        if len(b):
            return pd.DataFrame(
                {
                    "scope": b["scope"],
                    "name": b["name"],
                    get(kpi).name: b["value"],
                    what: b["compared"],
                    "change" if compare != "target" else "attainment %": b["change"],
                    "rag": b["rag"],
                }
            )
        t = self.trend(scope, month, kpi)
        return pd.DataFrame({"month": t["month"], get(kpi).name: t["value"], "target": t["target"]})
