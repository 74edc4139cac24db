"""A pack's numbers, read back from ``reports/<month>/data/``: the pages' only source.

``kpi-kit pack`` computes every KPI, table KPI and validation finding once
(:mod:`kpi_helpers.pack.freeze`) and writes them here; every page and the index then read
this folder, so a number is the same on every page by construction and a page can be
rebuilt after the source is gone. This module reads with pandas and pyarrow only: a
notebook that renders from a snapshot never imports Ibis or opens the source.

Layout::

    data/snapshot.json            month (a quarter's or year's last month with data),
                                  period (month, quarter, year) and label (2026-Q4),
                                  scopes and their folders, source (no secrets),
                                  data-through date, the time zone the months end in
                                  (timezone), row counts, fingerprint, kit version,
                                  and per scope the table files or why a table is n/a
    data/kpis.parquet             every KPI, every scope of the pack, 13 months (tidy);
                                  a quarter pack: the last 8 quarters (the engine's
                                  period values, columns period, period_start, ...)
    data/reps.parquet             every KPI of every rep with data, 13 months (the
                                  explorer's reps; snapshot.json's ``reps`` names them)
    data/validation.parquet|csv   the validation findings
    data/alerts.json              the alerts that fired for the month (kpi_helpers.alerts.checks)
    data/drivers.json             why the headlines moved (kpi_helpers.drivers.entry), per
                                  scope, against the previous month and the year before
    data/<scope>/drivers.csv      every part of every partition behind them
    data/to_date.parquet|csv      QTD and YTD of the flow KPIs, every scope (metrics.to_date)
    data/pacing.json|csv          the quarter's pace of revenue and bookings, company and
                                  teams (models.pacing)
    data/quarters.parquet         a year pack's quarters: every KPI of every scope over
                                  the fiscal year's quarters (the summary's side by side)
    data/<scope>/kpis.csv         the scope's KPIs, 13 months: the data behind its cards
    data/<scope>/<table>.parquet|csv   each table KPI of the scope

Example::

    snap = Snapshot("reports/2026-10/data")
    snap.kpis("team:EMEA")              # tidy KPI rows of one scope
    snap.table("funnel", "company")     # a table KPI, or KitError with the reason
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from kpi_helpers.core import DEFAULT_TIMEZONE, KitError

SNAPSHOT_FILE = "snapshot.json"
KPIS_FILE = "kpis.parquet"
VALIDATION_FILE = "validation.parquet"
SCOPE_KPIS_CSV = "kpis.csv"
ALERTS_FILE = "alerts.json"
DRIVERS_FILE = "drivers.json"
SCOPE_DRIVERS_CSV = "drivers.csv"
REPS_FILE = "reps.parquet"
TO_DATE_FILE = "to_date.parquet"
PACING_FILE = "pacing.json"
PACING_CSV = "pacing.csv"  # the same rows, linked from the pages
QUARTERS_FILE = "quarters.parquet"  # a year pack's quarters
SNAPSHOT_FORMAT = 1


def compact(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its text columns as categories: taking a few rows of a large snapshot
    is then a quick numpy take, not Arrow's (a hundred times slower on millions of rows).
    ``.astype(df.dtypes.to_dict())`` gives the rows back exactly as read.

    >>> compact(pd.DataFrame({"kpi": ["a", "b"], "value": [1.0, 2.0]})).dtypes.tolist()
    [CategoricalDtype(categories=['a', 'b'], ordered=False, categories_dtype=str), dtype('float64')]
    """
    text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c].dtype)]
    return df.astype({c: "category" for c in text})


class Snapshot:
    """Read access to a snapshot folder (see the module's docstring for the layout)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        meta = self.path / SNAPSHOT_FILE
        try:
            self.meta = json.loads(meta.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KitError(
                f"{self.path} is not a KPI snapshot ({SNAPSHOT_FILE} is missing): point "
                "snapshot at a pack's data/ folder, or leave it empty to compute live."
            ) from None
        except json.JSONDecodeError as exc:
            raise KitError(f"{meta} is damaged ({exc}); rebuild the pack.") from None
        if self.meta.get("format") != SNAPSHOT_FORMAT:
            raise KitError(f"{meta} was written by another kit version; rebuild the pack.")
        self.month: str = self.meta["month"]
        self._kpis: pd.DataFrame | None = None
        self._reps: pd.DataFrame | None = None
        self._rows: dict[str, tuple[pd.DataFrame, dict]] = {}  # per file: see kpis

    @property
    def timezone(self) -> str:
        """The IANA zone in which the snapshot's months begin and end (kpi.toml's
        ``timezone``); UTC for a snapshot written before the setting existed."""
        return self.meta.get("timezone", DEFAULT_TIMEZONE)  # snapshots older than the setting

    @property
    def period(self) -> str:
        """The pack's period kind: ``month``, ``quarter`` (a QBR) or ``year``."""
        return self.meta.get("period", "month")  # snapshots older than periods: a month

    @property
    def label(self) -> str:
        """The pack's period as its folder is named: ``2026-10``, ``2026-Q4``, ``FY2027``;
        ``month`` is its last month with data."""
        return self.meta.get("label", self.month)

    @property
    def scopes(self) -> list[str]:
        """The scopes of the pack, in its order (those without pages too)."""
        return list(self.meta["scopes"])

    @property
    def quiet_scopes(self) -> list[str]:
        """The scopes without a deal, order, lead, customer or activity in the 13 months:
        they have KPI rows (all 0 or n/a) but no pages."""
        return list(self.meta.get("quiet_scopes", []))

    @property
    def paged_scopes(self) -> list[str]:
        """The scopes that have pages (and a ``pack.pdf``), in the pack's order."""
        quiet = set(self.quiet_scopes)
        return [s for s in self.scopes if s not in quiet]

    def folder(self, scope: str) -> str:
        """The scope's folder name (the same under ``data/`` and beside it)."""
        try:
            return self.meta["scopes"][scope]
        except KeyError:
            raise KitError(
                f"Scope {scope!r} is not in this snapshot; it has {', '.join(self.scopes)}."
            ) from None

    @property
    def reps(self) -> dict[str, dict]:
        """The reps with data in the 13 months, in ``reps.parquet``: ``rep:ID`` ->
        ``{"name": ..., "team": ...}``; ``{}`` for a snapshot written before it existed."""
        return dict(self.meta.get("reps", {}))

    def kpis(self, scope: str | None = None) -> pd.DataFrame:
        """The tidy KPI rows (``kpis.compute`` columns plus ``key``, the pack scope) of one
        scope (a pack scope, or a rep of :attr:`reps`), or of every pack scope when
        ``scope`` is None."""
        if self._kpis is None:
            self._kpis = self._read(KPIS_FILE)
        if scope is None:
            return self._kpis
        frame, name = self._kpis, KPIS_FILE
        if scope in self.meta.get("reps", {}):
            frame, name = self.rep_kpis(), REPS_FILE
        else:
            self.folder(scope)  # an unknown scope is an error, not an empty page
        if name not in self._rows:  # once per file: then a scope's rows are one quick take
            self._rows[name] = (compact(frame), frame.groupby("key", sort=False).indices)
        fast, rows = self._rows[name]
        out = fast.take(rows.get(scope, [])).astype(frame.dtypes.to_dict())
        return out.drop(columns="key").reset_index(drop=True)

    def rep_kpis(self) -> pd.DataFrame:
        """Every rep's tidy KPI rows (with ``key``, ``rep:ID``); empty without reps."""
        if self._reps is None:
            if not self.meta.get("reps"):
                self._reps = self.kpis().iloc[:0]
            else:
                self._reps = self._read(REPS_FILE)
        return self._reps

    def table(self, name: str, scope: str) -> pd.DataFrame:
        """A table KPI of one scope; KitError with the reason when it is n/a."""
        entry = self._entry(name, scope)
        if entry.get("reason"):
            raise KitError(entry["reason"])
        df = self._read(entry["parquet"])
        df.columns = pd.Index(entry["columns"], name=entry["columns_name"])
        return df

    def table_csv(self, name: str, scope: str) -> str | None:
        """The table's CSV, relative to the snapshot folder; None when the table is n/a."""
        return self._entry(name, scope).get("csv")

    def kpis_csv(self, scope: str) -> str:
        """The scope's KPI CSV, relative to the snapshot folder."""
        return f"{self.folder(scope)}/{SCOPE_KPIS_CSV}"

    def to_date(self, scope: str | None = None) -> pd.DataFrame:
        """QTD and YTD of the flow KPIs (``metrics.to_date.TO_DATE_COLUMNS``) of one scope,
        or of all; empty for a snapshot written before they existed."""
        if not (self.path / TO_DATE_FILE).exists():
            return pd.DataFrame(columns=["key", "kpi", "span"])
        df = self._read(TO_DATE_FILE)
        return df if scope is None else df[df["key"] == scope].reset_index(drop=True)

    def year_quarters(self, scope: str, kpis: list[str] | None = None) -> pd.DataFrame:
        """A year pack's quarters of one scope (tidy rows, the fiscal year's quarters up
        to its last month with data; ``kpis`` only, when given); empty in a month or
        quarter pack."""
        if not (self.path / QUARTERS_FILE).exists():
            return self.kpis(scope).iloc[:0]
        df = self._read(QUARTERS_FILE)
        keep = (df["key"] == scope) & (df["kpi"].isin(kpis) if kpis is not None else True)
        return df[keep].drop(columns="key").reset_index(drop=True)

    def pacing(self, scopes: list[str]) -> list[dict]:
        """The quarter's pace of each of ``scopes`` (``models.pacing.pacing``'s dicts)."""
        path = self.path / PACING_FILE
        if not path.exists():
            return []
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise KitError(f"{path} is damaged ({exc}); rebuild the pack.") from None
        return [r for r in rows if r["key"] in scopes]

    def findings(self) -> pd.DataFrame:
        """The validation findings (``kpi_helpers.data.validate.validate``'s frame)."""
        return self._read(VALIDATION_FILE)

    def alerts(self) -> list[dict]:
        """The alerts that fired for the month, in the order they are shown; ``[]`` when
        the pack had no alert rules. Each is a dict with ``kpi`` (id), ``name``, ``scope``,
        ``scope_label``, ``month``, ``value`` (a number, or None), ``value_text``,
        ``rule`` (the rule in words, e.g. "below 20.0 %") and ``kind`` (``below``,
        ``above``, ``change_below``, ``change_above``, ``turns_red``, ``outside_range``,
        ``pace_below``); also ``threshold`` (None for the last three), ``team`` (a rep
        alert's team, else "") and ``rule_name`` (the rule's ``name``, else "")."""
        return list(self._alerts_file().get("alerts", []))

    def alert_rules(self) -> list[str]:
        """The alert rules the pack checked, in words ("Win rate, every team: below
        20.0 %"); ``[]`` when kpi.toml had none."""
        return list(self._alerts_file().get("rules", []))

    def drivers(
        self, scope: str, base: str = "previous", kpis: list[str] | None = None
    ) -> dict[str, dict]:
        """Why each headline of ``scope`` moved against ``base`` (previous or year), by KPI
        id: dicts with ``name``, ``text`` (the paragraph), ``drivers`` (each ``label``,
        ``amount``, ``share``, ``line``), ``top`` (the first two lines), ``bridge`` (the
        waterfall's steps), ``value``, ``base_value``, ``change``, ``unit``; ``{}`` for
        a snapshot written without drivers. ``kpis``: those only (None: all it holds).

        Example: ``snap.drivers("company")["win_rate"]["text"]``."""
        path = self.path / DRIVERS_FILE
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["scopes"].get(scope, [])
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise KitError(f"{path} is damaged ({exc}); rebuild the pack.") from None
        return {
            e["kpi"]: e
            for e in entries
            if e.get("base") == base and (kpis is None or e["kpi"] in kpis)
        }

    def drivers_csv(self, scope: str) -> str | None:
        """The scope's drivers CSV, relative to the snapshot folder; None without one."""
        rel = f"{self.folder(scope)}/{SCOPE_DRIVERS_CSV}"
        return rel if (self.path / rel).exists() else None

    def _alerts_file(self) -> dict:
        path = self.path / ALERTS_FILE
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data["alerts"], list):
                raise TypeError("no list of alerts")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise KitError(f"{path} is damaged ({exc}); rebuild the pack.") from None
        return data

    def _read(self, rel: str) -> pd.DataFrame:
        try:
            return pd.read_parquet(self.path / rel)
        except FileNotFoundError:
            raise KitError(f"The snapshot {self.path} lacks {rel}; rebuild the pack.") from None

    def _entry(self, name: str, scope: str) -> dict:
        self.folder(scope)
        tables = self.meta["tables"].get(scope, {})
        if name not in tables:
            raise KitError(
                f"No table {name!r} in the snapshot; it has {', '.join(sorted(tables))}."
            )
        return tables[name]
