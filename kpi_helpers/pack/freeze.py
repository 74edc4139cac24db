"""Write a pack's snapshot: every number its pages show, computed once.

:func:`write_snapshot` computes, for every scope of the pack, the whole catalog for the
month and the 12 before it, every table KPI, and the validation
findings, then writes them in the layout :mod:`kpi_helpers.report.snapshot` reads, with a
fingerprint of the data. Nothing in the snapshot holds a secret: the source is
described as :func:`kpi_helpers.data.sources.redact` prints it.

Example::

    live = LiveData("data/sample", month="2026-10")
    write_snapshot(live, ["company", "team:EMEA"], {"company": "company",
                   "team:EMEA": "team-emea"}, Path("reports/2026-10/data"))
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from pathlib import Path

import pandas as pd

from kpi_helpers.alerts import AlertCheck, AlertRule, check_dataset
from kpi_helpers.catalog import REGISTRY
from kpi_helpers.core import DEFAULT_TIMEZONE, KitError, kit_version
from kpi_helpers.data import TABLES, UNASSIGNED_TEAM, Dataset, data_through, ends_early
from kpi_helpers.drivers import entry, explain_many
from kpi_helpers.metrics import REP_COLUMNS, active_keys, quiet_reason, rep_teams
from kpi_helpers.report import (
    ALERTS_FILE,
    DRIVERS_FILE,
    HEADLINES,
    KPIS_FILE,
    PACING_CSV,
    PACING_FILE,
    PERIOD_WORDS,
    QUARTERS_FILE,
    REPS_FILE,
    SCOPE_DRIVERS_CSV,
    SCOPE_KPIS_CSV,
    SNAPSHOT_FILE,
    SNAPSHOT_FORMAT,
    TO_DATE_FILE,
    TREND_PERIODS,
    VALIDATION_FILE,
    summary_headlines,
)
from kpi_helpers.report.live import LiveData  # the engine's side of report, kept out of its face

TABLE_NAMES = [k.id for k in REGISTRY.values() if k.is_table and not k.alias_of]
DRIVER_BASES = ("previous", "year")  # why the headlines moved: against these bases


def data_profile(ds: Dataset) -> dict:
    """Row counts, the date the data runs through (``data.data_through``: the latest past
    event not after today; ``data_through_note`` names the tables that end more than a
    month earlier) and a fingerprint of its contents.

    One aggregate query per table: the row count, every column's non-null count, minimum
    and maximum, and every numeric column's sum in cents (integers, so the same on every
    run and backend). The fingerprint is the SHA-256 of all of them: any added, removed or
    edited row that moves a count, a range or a total to the cent changes it.
    """
    counts, stats = {}, {}
    for name in TABLES:
        if not ds.has(name):
            continue
        t = ds.table(name)
        aggs = {"_rows": t.count()}
        for i, col in enumerate(t.columns):
            c = t[col]
            aggs[f"n{i}"] = c.count()
            if c.type().is_numeric() and not c.type().is_boolean():
                x = c.cast("float64")
                finite = x.notnull() & ~x.isnan() & ~x.isinf()
                # whole cents summed as doubles: exact, so the same in any order, up to
                # 2**53 cents; NaN and infinities are counted apart instead of summed
                aggs[f"s{i}"] = (x * 100).round().sum(where=finite)
                aggs[f"f{i}"] = finite.sum()
            if c.type().is_temporal() or c.type().is_numeric() or c.type().is_string():
                aggs[f"lo{i}"], aggs[f"hi{i}"] = c.min(), c.max()
        row = t.aggregate(**aggs).to_pandas().iloc[0]
        counts[name] = int(row["_rows"])
        stats[name] = {k: str(v) for k, v in row.items()}
    through = data_through(ds)
    last = max(through.values(), default=None)
    digest = hashlib.sha256(json.dumps(stats, sort_keys=True).encode()).hexdigest()
    return dict(
        row_counts=counts,
        data_through=last.strftime("%Y-%m-%d") if last is not None else None,
        data_through_note=ends_early(through),
        fingerprint=digest,
    )


def _write_table(df: pd.DataFrame, folder: Path, name: str) -> dict:
    """Parquet (read back by pages) and CSV (linked from pages) of one table. Parquet
    wants text column names: the labels (say the months 0..11 of a cohort table) and the
    columns' name are kept in the entry and put back by :meth:`Snapshot.table`."""
    labels = [c.item() if hasattr(c, "item") else c for c in df.columns]
    if any(not isinstance(c, (str, int, float, bool)) for c in labels):
        labels = [str(c) for c in labels]
    stored = df.copy()
    stored.columns = [f"c{i}" for i in range(len(labels))]
    stored.to_parquet(folder / f"{name}.parquet")
    shown = df.copy()
    shown.columns = [str(c) for c in labels]
    shown.to_csv(folder / f"{name}.csv", index=not isinstance(df.index, pd.RangeIndex))
    return {
        "parquet": f"{folder.name}/{name}.parquet",
        "csv": f"{folder.name}/{name}.csv",
        "columns": labels,
        "columns_name": df.columns.name,
    }


def names_reps(live: LiveData) -> bool:
    """Whether a table of the data names reps (one of ``metrics.REP_COLUMNS``): only
    then are the reps computed and ``reps.parquet`` written."""
    return any(live.ds.has(table, column) for table, column in REP_COLUMNS)


def scope_and_rep_rows(live: LiveData, scopes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every KPI of the pack scopes ``scopes`` (with ``key``) and, when a table of the
    data names reps, of every rep, in ONE computation, after the measures of the
    company, every team and every rep were read in one pass (:meth:`LiveData.read_measures`):
    the rep leaderboard and the drivers (which split by every team and rep) then read
    them from the engine's cache, not in a pass of their own per scope type. Returns
    (the scopes' rows, the reps' rows; empty without reps).

    Example: ``rows, reps = scope_and_rep_rows(live, ["company", "team:EMEA"])``."""
    named = names_reps(live)
    asked = list(dict.fromkeys([*scopes, "rep"] if named else scopes))
    if named:  # every team and rep: the drivers split by them
        live.read_measures(list(dict.fromkeys(["company", "team", "rep", *scopes])))
    rows = live.kpis_of_scopes(asked)
    reps = rows[rows["scope_type"] == "rep"].reset_index(drop=True)
    return rows[rows["key"].isin(scopes)].reset_index(drop=True), reps


def write_reps(live: LiveData, out: Path, rows: pd.DataFrame) -> dict[str, dict]:
    """Every rep's KPI rows (``rows``: 13 months, from :func:`scope_and_rep_rows`) into
    ``out/reps.parquet``, for the explorer: only the reps with data in the months
    (``metrics.active_keys``). Returns ``rep:ID`` -> ``{"name", "team"}`` (the ``reps``
    table's name, else the id; its team, else unassigned), which ``snapshot.json`` keeps
    as ``reps``; ``{}`` (and no file) when no table of the data names a rep."""
    if not names_reps(live):
        return {}
    active = active_keys(rows)
    rows = rows[rows["key"].isin(active)].reset_index(drop=True)
    rows.to_parquet(out / REPS_FILE, index=False)
    teams = rep_teams(live.ds)
    names = {}
    if live.ds.has("reps", "rep_id", "rep_name"):
        r = live.ds.frame("reps")[["rep_id", "rep_name"]].dropna()
        names = dict(zip(r["rep_id"].astype(str), r["rep_name"].astype(str), strict=True))
    return {
        key: dict(name=names.get(key[4:], key[4:]), team=teams.get(key[4:]) or UNASSIGNED_TEAM)
        for key in active
    }


def write_snapshot(
    live: LiveData,
    scopes: list[str],
    folders: dict[str, str],
    out: Path,
    settings_text: str = "",
    data_key: str | None = None,
    alert_rules: list[AlertRule] | None = None,
    optional: frozenset[str] = frozenset(),
) -> dict:
    """Compute and write the snapshot of ``scopes`` into ``out`` (created); return its
    ``snapshot.json`` contents. A team or rep without a deal, order, lead, customer or
    activity in the 13 months (``metrics.active_keys``) is listed in ``quiet_scopes``:
    it gets no pages; one in ``optional`` (``team:unassigned`` of ``--scopes all``)
    is left out of the snapshot instead. ``folders`` maps each scope to its folder name;
    ``settings_text`` (the mapping and config files' text) joins the fingerprint, since
    the same data under other settings gives other numbers. ``data_key`` is recorded so
    that a re-run with the same key can take this snapshot over
    (:func:`kpi_helpers.pack.keys.data_key`). ``alert_rules`` (kpi.toml's
    ``[[alerts]]``) are checked into ``alerts.json`` (see :func:`write_alerts`)."""
    out.mkdir(parents=True, exist_ok=True)
    kpis, rep_rows = scope_and_rep_rows(live, scopes)
    active = set(active_keys(kpis))
    quiet = [s for s in scopes if s != "company" and s not in active]
    scopes = [s for s in scopes if not (s in optional and s in quiet)]
    kpis = kpis[kpis["key"].isin(scopes)].reset_index(drop=True)
    kpis.to_parquet(out / KPIS_FILE, index=False)
    tables: dict[str, dict] = {}
    n, units = TREND_PERIODS[live.period], PERIOD_WORDS[live.period]["units"]  # the span
    quiet_why = f"this scope has {quiet_reason(n, units)}"
    for scope in scopes:
        folder = out / folders[scope]
        folder.mkdir(exist_ok=True)
        kpis[kpis["key"] == scope].drop(columns="key").to_csv(folder / SCOPE_KPIS_CSV, index=False)
        tables[scope] = {}
        for name in TABLE_NAMES:
            if scope in quiet:  # no pages: its tables are not computed
                tables[scope][name] = {"reason": quiet_why}
                continue
            try:
                df = live.table(name, scope)
            except KitError as exc:  # a missing input: the page says n/a with this reason
                tables[scope][name] = {"reason": str(exc)}
                continue
            tables[scope][name] = _write_table(df, folder, name)
    reps = write_reps(live, out, rep_rows)
    write_drivers(live, [s for s in scopes if s not in quiet], folders, kpis, out)
    to_date = live.to_date(kpis)  # QTD and YTD of the flows, read by pages and mail
    to_date.to_parquet(out / TO_DATE_FILE, index=False)
    to_date.to_csv(out / "to_date.csv", index=False)
    if live.period == "year":  # the summary's year's quarters, side by side
        live.year_quarters_of(scopes).to_parquet(out / QUARTERS_FILE, index=False)
    pace = live.pacing([s for s in scopes if s not in quiet])
    text = json.dumps(pace, indent=1, ensure_ascii=False)
    (out / PACING_FILE).write_text(text, encoding="utf-8")
    pd.DataFrame(pace).to_csv(out / PACING_CSV, index=False)
    write_alerts(live, list(alert_rules or []), kpis, out, pace)
    findings = live.findings()
    findings.to_parquet(out / VALIDATION_FILE, index=False)
    findings.to_csv(out / "validation.csv", index=False)
    profile = data_profile(live.ds)
    fingerprint = hashlib.sha256(
        (profile["fingerprint"] + settings_text + live.label).encode()
    ).hexdigest()
    meta = dict(
        format=SNAPSHOT_FORMAT,
        kit_version=kit_version(),
        created_at=datetime.now().isoformat(timespec="seconds"),
        month=live.month,
        period=live.period,
        label=live.label,
        source=live.ds.description,
        data_through=profile["data_through"],
        timezone=live.ds.timezone,  # the zone in which the months begin and end
        data_through_note=profile["data_through_note"],
        row_counts=profile["row_counts"],
        fingerprint=fingerprint,
        data_key=data_key,
        scopes={s: folders[s] for s in scopes},
        quiet_scopes=[s for s in quiet if s in scopes],
        reps=reps,
        tables=tables,
    )
    (out / SNAPSHOT_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def write_drivers(
    live: LiveData, scopes: list[str], folders: dict[str, str], kpis: pd.DataFrame, out: Path
) -> dict:
    """Why every headline moved (the summary's and each family page's), for every paged
    scope, against :data:`DRIVER_BASES`: ``out/drivers.json`` (``drivers.entry`` per
    KPI, scope and base; :meth:`Snapshot.drivers` reads it) and per scope
    ``<scope>/drivers.csv`` (every part of every partition). Computed in one batch
    (``drivers.explain_many``): one measure frame and one split query per source, the
    tidy rows read from ``kpis``. Returns the JSON's contents::

        {"month": "2026-10", "bases": ["previous", "year"],
         "scopes": {"company": [{"kpi": "win_rate", "base": "previous", "text": ...}]}}
    """
    now = kpis[kpis["month"] == live.month]
    wanted = [k for f, ks in HEADLINES.items() if f != "summary" for k in ks]
    for scope in scopes:
        wanted += summary_headlines(kpis[kpis["key"] == scope], live.month)
    wanted = list(dict.fromkeys(wanted))
    found = (
        explain_many(
            live.ds,
            wanted,
            scopes,
            live.month,
            DRIVER_BASES,
            live.cfg,
            rows=now,
            period=live.period,
        )
        if scopes
        else {}
    )
    payload: dict = dict(month=live.month, bases=list(DRIVER_BASES), scopes={})
    for scope in scopes:
        mine = [(key, e) for key, e in found.items() if key[1] == scope]
        payload["scopes"][scope] = [entry(e, REGISTRY[e.kpi], live.cfg.currency) for _, e in mine]
        frames = [e.frame().assign(kpi=e.kpi, base=e.base) for _, e in mine]
        frames = [f for f in frames if len(f)]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if len(table):
            first = ["kpi", "base"]
            table = table[first + [c for c in table.columns if c not in first]]
        folder = out / folders[scope]
        folder.mkdir(exist_ok=True)
        table.to_csv(folder / SCOPE_DRIVERS_CSV, index=False)
    text = json.dumps(_no_nan(payload), indent=1, ensure_ascii=False, allow_nan=False)
    (out / DRIVERS_FILE).write_text(text, encoding="utf-8")
    return payload


def _no_nan(x: object) -> object:
    """``x`` with every NaN or infinity as None (JSON has neither)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_no_nan(v) for v in x]
    return x


def write_alerts(
    live: LiveData,
    rules: list[AlertRule],
    kpis: pd.DataFrame,
    out: Path,
    pace: list[dict] | None = None,
) -> dict:
    """Check ``rules`` for the month and write ``out/alerts.json``; return its contents.

    The rules read the snapshot's rows (``kpis``: company and the pack's teams); scopes
    it lacks (every team for ``team:*``, reps) are computed from the dataset, only for
    the KPIs the rules name. Written with no rules too, so a page can say none are set::

        {"month": "2026-10",
         "rules": ["Win rate, every team: below 20.0 %"],
         "alerts": [{"kpi": "win_rate", "name": "Win rate", "scope": "team:EMEA",
                     "scope_label": "Team EMEA", "month": "2026-10", "value": 18.2,
                     "value_text": "18.2 %", "rule": "below 20.0 %", "kind": "below",
                     "threshold": 20.0, "team": "", "rule_name": ""}],
         "notes": []}

    ``team`` is a rep alert's team ("" otherwise), ``notes`` say which scopes a rule
    could not check (``outside_range`` on fewer than 6 earlier values). ``pace`` (the
    snapshot's pacing) is what ``pace_below`` reads for the scopes it holds.
    """
    found = AlertCheck()
    if rules:
        found = check_dataset(
            live.ds, rules, live.month, live.cfg, have=kpis, pace=pace, period=live.period
        )
    payload = dict(
        month=live.month,
        rules=[r.text(live.cfg.currency) for r in rules],
        alerts=[a.as_dict() for a in found.alerts],
        notes=found.notes,
    )
    text = json.dumps(payload, indent=1, ensure_ascii=False)
    (out / ALERTS_FILE).write_text(text, encoding="utf-8")
    return payload


def data_line(meta: dict) -> str:
    """The header's data line: source, data-through date (and the tables that end more
    than a month earlier), the zone the months end in, row counts.

    >>> data_line({"source": "folder crm", "data_through": "2017-12-31",
    ...            "data_through_note": "leads end 2017-06-30", "timezone": "UTC",
    ...            "row_counts": {"opportunities": 8300}})
    'folder crm · data through 2017-12-31 (leads end 2017-06-30) · months in UTC time · 8,300 deals'
    """
    counts = meta["row_counts"]
    shown = [
        f"{counts[t]:,} {label}"
        for t, label in (
            ("opportunities", "deals"),
            ("leads", "leads"),
            ("orders", "order lines"),
            ("subscriptions", "subscriptions"),
        )
        if t in counts
    ]
    note = meta.get("data_through_note")
    through = str(meta["data_through"] or "no past event") + (f" ({note})" if note else "")
    zone = meta.get("timezone", DEFAULT_TIMEZONE)
    return f"{meta['source']} · data through {through} · months in {zone} time · " + ", ".join(
        shown
    )
