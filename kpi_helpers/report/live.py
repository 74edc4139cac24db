"""The pages' numbers computed from the source: what a notebook uses when it has no
snapshot (an analyst in JupyterLab), and what :mod:`kpi_helpers.pack.freeze` writes into one.

It offers the same reads as :class:`kpi_helpers.report.snapshot.Snapshot` (``month``, ``kpis``,
``table``, ``findings``, ``alerts``, ``alert_rules``), so a page does not care where its
numbers come from.

Example::

    live = LiveData("data/sample", month="latest")
    live.kpis("team:EMEA", families=["pipeline"])   # 13 months of the family's KPIs
    live.table("funnel", "company")
"""

from __future__ import annotations

from functools import cached_property

import pandas as pd

from kpi_helpers import kpis as kpi_api
from kpi_helpers.alerts import AlertRule, check_dataset, rules_of
from kpi_helpers.catalog import get
from kpi_helpers.core import PERIOD_KINDS, Calendar, Config, KitError, Month
from kpi_helpers.data import Dataset, month_asked, open_dataset, period_with_data, validate
from kpi_helpers.drivers import entry, explain_many
from kpi_helpers.metrics import TIDY_COLUMNS, Scope, parse_scopes, read_measures, to_date_figures
from kpi_helpers.models.pacing import pacing

from .pages import HEADLINES, TREND_PERIODS


class LiveData:
    """One dataset, one month (or the quarter or fiscal year holding it, ``period``):
    KPIs, tables and findings computed on request. For a period, ``month`` is its last
    month with data and ``label`` its name ("2026-Q4"); the KPI rows are the last
    ``TREND_PERIODS[period]`` periods, each computed over its months."""

    def __init__(
        self,
        source: str | Dataset,
        mapping: str = "",
        config: Config | None = None,
        month: str = "latest",
        period: str = "month",
    ):
        if period not in PERIOD_KINDS:
            raise KitError(f"period {period!r}: use one of {', '.join(PERIOD_KINDS)}.")
        self.cfg = config or Config()
        if isinstance(source, Dataset):
            source.check_timezone(self.cfg.timezone)
            self.ds = source
        else:
            self.ds = open_dataset(source, mapping or None, self.cfg.timezone)
        asked = month_asked(self.ds, month)
        self.period, self.label = period, str(asked)
        if period != "month":  # the period holding the month, through its last month with data
            span = period_with_data(self.ds, asked, period, self.cfg.fiscal_year_start)
            asked, self.label = span.through, span.label
        self.month = str(asked)

    @property
    def timezone(self) -> str:
        """The IANA zone in which the months begin and end (the dataset's)."""
        return self.ds.timezone

    def kpis(self, scope: str | list[str], families: list[str] | None = None) -> pd.DataFrame:
        """The tidy KPI rows of one scope (or a list of them) for the month and the 12
        before it (a period: the period and the 7 quarters, or 3 years, before it)."""
        return kpi_api.compute(
            self.ds,
            self.month,
            months=TREND_PERIODS[self.period],
            scope=scope,
            families=families,
            config=self.cfg,
            period=self.period,
        )

    def kpis_of_scopes(self, scopes: list[str]) -> pd.DataFrame:
        """Every KPI of several pack scopes (``company``, ``team:X``, ``rep:ID``) in one
        computation, with ``key`` naming the pack scope of each row."""
        return _keyed(self.kpis(scopes))

    def read_measures(self, scopes: list[str]) -> None:
        """Read the measures of every formula KPI for ``scopes`` (``company``, ``team``,
        ``rep``, ``team:X``...) over the months :meth:`kpis` covers, in one pass per
        measure source, and keep them on the dataset (the engine's cache): later
        computations of any of those scopes (KPIs, the rep leaderboard, the drivers)
        read them from there. Example: ``live.read_measures(["company", "team", "rep"])``
        before computing the pack's scopes, its reps and its drivers."""
        read_measures(
            self.ds,
            self.month,
            TREND_PERIODS[self.period],
            parse_scopes(scopes),
            config=self.cfg,
            period=self.period,
        )

    def year_quarters_of(self, scopes: list[str], kpis: list[str] | None = None) -> pd.DataFrame:
        """A year pack's quarters: the KPIs (``kpis``, else all) of ``scopes`` (with
        ``key``) over the fiscal year's quarters up to its last month with data, oldest
        first (the last one to date when the year is); no rows for a month or quarter."""
        if self.period != "year":
            return pd.DataFrame(columns=[*TIDY_COLUMNS, "key"])
        through = Month.parse(self.month)
        year = Calendar(self.cfg.fiscal_year_start).period("year", through)
        n = (through.index - year.first.index) // 3 + 1
        rows = kpi_api.compute(
            self.ds, self.month, n, scopes, kpis=kpis, config=self.cfg, period="quarter"
        )
        return _keyed(rows)

    def year_quarters(self, scope: str, kpis: list[str] | None = None) -> pd.DataFrame:
        """The tidy rows of one scope over the fiscal year's quarters (a year pack's
        summary shows them side by side); see :meth:`year_quarters_of`."""
        return self.year_quarters_of([scope], kpis).drop(columns="key")

    def to_date(self, rows: pd.DataFrame | None = None) -> pd.DataFrame:
        """QTD and YTD of the flow KPIs (``metrics.to_date_figures``) over ``rows`` (tidy
        rows with ``key``; by default the company's), with kpi.toml's fiscal year."""
        if self.period != "month":  # a period pack's page is the quarter or year itself
            return pd.DataFrame(columns=["key", "kpi", "span"])
        if rows is None:
            rows = self.kpis_of_scopes(["company"])
        return to_date_figures(rows, self.month, self.cfg.fiscal_year_start)

    def pacing(self, scopes: list[str]) -> list[dict]:
        """The quarter's pace of each scope (``models.pacing.pacing``; none for reps)."""
        return [p for s in scopes for p in pacing(self.ds, self.month, s, self.cfg)]

    def table(self, name: str, scope: str) -> pd.DataFrame:
        """A table KPI (by id) of the month, or of the quarter or year (its tables of
        events cover the period's months); KitError when n/a."""
        scope = scope if ":" in scope else "company"
        return kpi_api.table(self.ds, name, self.month, scope, self.cfg, self.period)

    def drivers(
        self, scope: str, base: str = "previous", kpis: list[str] | None = None
    ) -> dict[str, dict]:
        """Why ``kpis`` moved for ``scope`` against ``base``, by KPI id, as a snapshot
        holds them (:meth:`Snapshot.drivers`), computed in one batch."""
        ids = kpis or HEADLINES["summary"]
        found = explain_many(
            self.ds, ids, [scope], self.month, (base,), self.cfg, period=self.period
        )
        return {k: entry(e, get(k), self.cfg.currency) for (k, _, _), e in found.items()}

    def findings(self) -> pd.DataFrame:
        """The validation findings of the dataset."""
        return validate(self.ds)

    @cached_property
    def rules(self) -> list[AlertRule]:
        """The ``[[alerts]]`` rules of the config, parsed once."""
        return rules_of(self.cfg)

    def alert_rules(self) -> list[str]:
        """The ``[[alerts]]`` rules of the config, in words (as a snapshot lists them)."""
        return [r.text(self.cfg.currency) for r in self.rules]

    def alerts(self) -> list[dict]:
        """The alerts of the config's rules that fire for the month (as a snapshot holds
        them); ``[]`` without rules."""
        if not self.rules:
            return []
        found = check_dataset(self.ds, self.rules, self.month, self.cfg, period=self.period)
        return [a.as_dict() for a in found.alerts]


def _keyed(rows: pd.DataFrame) -> pd.DataFrame:
    """Tidy KPI rows with ``key``, the pack scope of each row (``team:EMEA``)."""
    rows["key"] = [
        str(Scope.of_row(t, s)) for t, s in zip(rows["scope_type"], rows["scope"], strict=True)
    ]
    return rows
