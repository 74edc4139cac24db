"""Check a dataset against the data contract.

Every finding names the table, the column, the problem, how many rows have it,
up to five example IDs and the fix. Severity:

- ``error``: KPIs computed from this data would be wrong (exit code 2);
- ``warning``: worth fixing, KPIs stay right or are reported as not available (exit 1). Example::

    findings = validate(open_dataset("data/sample"))
    print(format_report(findings, "data/sample"))
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

import ibis
import pandas as pd

from .contract import (
    CLOSED_STAGES,
    COST_CATEGORIES,
    DATE,
    DEAL_TYPES,
    FOREIGN_KEYS,
    MONTH,
    NON_NEGATIVE,
    STR,
    TABLES,
    TIMESTAMP,
    families_using,
)
from .sources import Dataset, _cast

ERROR, WARNING = "error", "warning"
FINDING_COLUMNS = ["severity", "table", "column", "check", "problem", "rows", "examples", "fix"]
_MONTH_RE = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# Dates that may legitimately lie ahead of today.
_MAY_BE_FUTURE = {
    ("opportunities", "expected_close_at"),
    ("subscriptions", "ended_at"),
    ("reps", "left_at"),
}


@dataclass
class Finding:
    severity: str
    table: str
    column: str
    check: str
    problem: str
    rows: int
    examples: list[str]
    fix: str


def _key(table: str, t: ibis.Table) -> str | None:
    """The column whose values identify a row in examples."""
    spec = TABLES[table]
    for candidate in (spec.id_column, *spec.required):
        if candidate and candidate in t.columns:
            return candidate
    return None


class _Checker:
    def __init__(self, ds: Dataset, as_of: datetime):
        self.ds = ds
        self.as_of = as_of
        self.findings: list[Finding] = []

    def add(self, severity, table, column, check, problem, fix, rows=0, examples=()):
        self.findings.append(
            Finding(
                severity, table, column, check, problem, int(rows), [str(e) for e in examples], fix
            )
        )

    def rows(
        self,
        table: str,
        t: ibis.Table,
        bad: ibis.Table,
        severity: str,
        column: str,
        check: str,
        problem: str,
        fix: str,
    ) -> None:
        """Record a finding when ``bad`` (rows of ``t``) is not empty."""
        n = int(bad.count().execute())
        if not n:
            return
        key = _key(table, t)
        examples = []
        if key is not None:
            values = bad.select(key).limit(5).execute()[key]
            examples = [v for v in values.tolist() if v is not None and not pd.isna(v)]
        self.add(severity, table, column, check, problem, fix, n, examples)

    # --- whole tables

    def tables(self) -> None:
        for name in TABLES:
            if name in self.ds.load_errors:
                self.add(
                    ERROR,
                    name,
                    "",
                    "unreadable",
                    self.ds.load_errors[name],
                    "Fix the file (or the mapping) so the table can be read.",
                )
            elif name not in self.ds.tables:
                fams = ", ".join(families_using(name)) or "none"
                self.add(
                    WARNING,
                    name,
                    "",
                    "missing_table",
                    f"table {name} is missing: KPIs of the families {fams} that need it "
                    "are not available",
                    f"Add {name}.csv/.parquet (or a sheet/table {name}) or map it.",
                )

    def columns(self, name: str) -> list[str]:
        t = self.ds.raw[name]
        missing = [c for c in TABLES[name].required if c not in t.columns]
        for col in missing:
            self.add(
                ERROR,
                name,
                col,
                "missing_column",
                f"required column {col} is missing (columns are: {', '.join(t.columns)})",
                f"Add the column or map a source column to {col} in the mapping file.",
            )
        return missing

    # --- values

    def parse(self, name: str) -> None:
        raw = self.ds.raw[name]
        for col in TABLES[name].columns:
            if col.name not in raw.columns or col.kind == STR:
                continue
            value = raw[col.name]
            if col.kind == MONTH:
                text = value.cast("string") if not value.type().is_string() else value
                if value.type().is_string():
                    bad = raw.filter(text.notnull() & ~text.re_search(_MONTH_RE))
                    self.rows(
                        name,
                        raw,
                        bad,
                        ERROR,
                        col.name,
                        "bad_month",
                        f"{col.name} is not a month written YYYY-MM",
                        "Write months as YYYY-MM, e.g. 2026-10 (or map them with a date format).",
                    )
                continue
            if not value.type().is_string():
                continue
            what = "dates" if col.kind in (TIMESTAMP, DATE) else "numbers"
            fix = (
                "Write dates as YYYY-MM-DD[ HH:MM:SS] or give their format in the mapping "
                f'(dates.{col.name} = "%d/%m/%Y").'
                if what == "dates"
                else "Write numbers with a dot as decimal separator and no currency sign or "
                "thousands separator."
            )
            check = "bad_date" if what == "dates" else "bad_number"
            problem = f"{col.name} has values that are not {what}"
            blank = value.isnull() | (value.strip() == "")
            if self.ds.backend == "duckdb":
                cast = _cast(value, col.kind, lenient=True)
                self.rows(
                    name,
                    raw,
                    raw.filter(~blank & cast.isnull()),
                    ERROR,
                    col.name,
                    check,
                    problem,
                    fix,
                )
            else:
                self._parse_in_pandas(name, raw, col.name, col.kind, check, problem, fix)

    def _parse_in_pandas(self, name, raw, column, kind, check, problem, fix) -> None:
        key = _key(name, raw)
        cols = [column] + ([key] if key and key != column else [])
        frame = raw.select(cols).filter(raw[column].notnull()).execute()
        text = frame[column].astype("string").str.strip()
        frame = frame[text != ""]
        text = text[text != ""]
        parsed = (
            pd.to_datetime(text, errors="coerce", format="mixed")
            if kind in (TIMESTAMP, DATE)
            else pd.to_numeric(text, errors="coerce")
        )
        bad = frame[parsed.isna()]
        if len(bad):
            examples = bad[key].head(5).tolist() if key else []
            self.add(ERROR, name, column, check, problem, fix, len(bad), examples)

    def duplicates(self, name: str) -> None:
        t = self.ds.tables[name]
        id_col = TABLES[name].id_column
        if not id_col or id_col not in t.columns:
            return
        present = t.filter(t[id_col].notnull())
        counts = present.group_by(id_col).agg(n=present.count())
        dupes = counts.filter(counts.n > 1)
        n = int(dupes.count().execute())
        if n:
            rows = int(dupes.n.sum().execute())
            ex = dupes.select(id_col).order_by(id_col).limit(5).execute()[id_col].tolist()
            self.add(
                ERROR,
                name,
                id_col,
                "duplicate_id",
                f"{n} {id_col} value(s) appear on more than one row",
                f"Keep one row per {id_col} (de-duplicate the export, or use unique_by "
                "in the mapping).",
                rows,
                ex,
            )

    def opportunities(self) -> None:
        t = self.ds.tables["opportunities"]
        closed = t.stage.isin(CLOSED_STAGES)
        if "closed_at" in t.columns:
            self.rows(
                "opportunities",
                t,
                t.filter(closed & t.closed_at.isnull()),
                ERROR,
                "closed_at",
                "closed_without_date",
                "closed deals without closed_at",
                "Give every closed_won/closed_lost deal the date it closed.",
            )
            self.rows(
                "opportunities",
                t,
                t.filter(t.closed_at < t.created_at),
                ERROR,
                "closed_at",
                "closed_before_created",
                "closed_at is before created_at",
                "Correct the dates: a deal cannot close before it is created.",
            )
            self.rows(
                "opportunities",
                t,
                t.filter(~closed & t.stage.notnull() & t.closed_at.notnull()),
                WARNING,
                "closed_at",
                "open_with_close_date",
                "open deals (stage not closed_won/closed_lost) have a closed_at",
                "Translate the CRM's closed stages to closed_won/closed_lost in the "
                "mapping, or clear closed_at of open deals.",
            )
        else:
            self.rows(
                "opportunities",
                t,
                t.filter(closed),
                ERROR,
                "closed_at",
                "closed_without_date",
                "closed deals but no closed_at column",
                "Map the CRM's close date to closed_at.",
            )
        stage = t.stage.lower()
        looks_closed = stage.re_search("won|lost|closed") & ~closed
        self.rows(
            "opportunities",
            t,
            t.filter(looks_closed | t.stage.isnull() | (t.stage.strip() == "")),
            ERROR,
            "stage",
            "bad_stage",
            "stages outside the contract: closed deals must use exactly closed_won or "
            "closed_lost (and no stage may be empty)",
            "Translate the CRM's stage names in the mapping: [tables.opportunities."
            'values.stage] Won = "closed_won", Lost = "closed_lost".',
        )
        self._allowed("opportunities", "deal_type", DEAL_TYPES)

    def _allowed(
        self, name: str, column: str, allowed: tuple[str, ...], severity: str = WARNING
    ) -> None:
        t = self.ds.tables[name]
        if column not in t.columns:
            return
        self.rows(
            name,
            t,
            t.filter(t[column].notnull() & ~t[column].isin(allowed)),
            severity,
            column,
            "unknown_value",
            f"{column} has values outside {', '.join(allowed)}",
            f"Translate them to one of {', '.join(allowed)} in the mapping's values.",
        )

    def ranges(self, name: str) -> None:
        t = self.ds.tables[name]
        for col in NON_NEGATIVE.get(name, ()):
            if col in t.columns:
                self.rows(
                    name,
                    t,
                    t.filter(t[col] < 0),
                    ERROR,
                    col,
                    "negative",
                    f"{col} is negative",
                    f"{col} cannot be negative: correct the rows.",
                )
        if name == "nps_responses" and "score" in t.columns:
            self.rows(
                name,
                t,
                t.filter((t.score < 0) | (t.score > 10)),
                ERROR,
                "score",
                "score_out_of_range",
                "NPS scores outside 0..10",
                "NPS answers are whole numbers from 0 to 10: correct or drop the rows.",
            )
            self.rows(
                name,
                t,
                t.filter(t.score.notnull() & (t.score != t.score.round())),
                ERROR,
                "score",
                "score_not_whole",
                "NPS scores that are not whole",
                "NPS answers are whole numbers from 0 to 10.",
            )
        if name == "costs":
            self._allowed("costs", "category", COST_CATEGORIES, ERROR)

    def future(self, name: str) -> None:
        t = self.ds.tables[name]
        limit = ibis.timestamp(self.as_of.replace(microsecond=0))
        for col in TABLES[name].columns:
            if (
                col.kind in (TIMESTAMP, DATE)
                and col.name in t.columns
                and (name, col.name) not in _MAY_BE_FUTURE
            ):
                self.rows(
                    name,
                    t,
                    t.filter(t[col.name] > limit),
                    WARNING,
                    col.name,
                    "future",
                    f"{col.name} is in the future (after {self.as_of:%Y-%m-%d %H:%M})",
                    "Check the export's dates and timezone.",
                )

    def foreign_keys(self, loaded: set[str]) -> None:
        for (child, col), (parent, pcol) in FOREIGN_KEYS.items():
            if child not in loaded or parent not in loaded:
                continue
            t, p = self.ds.tables[child], self.ds.tables[parent]
            if col not in t.columns or pcol not in p.columns:
                continue
            keys = p.select(pcol).distinct()
            orphans = t.filter(t[col].notnull()).anti_join(keys, t[col] == keys[pcol])
            extra = " (their rows fall into the team 'unassigned')" if pcol == "rep_id" else ""
            self.rows(
                child,
                t,
                orphans,
                WARNING,
                col,
                "orphan_key",
                f"{col} values not found in {parent}.{pcol}{extra}",
                f"Add the missing rows to {parent}, or correct {child}.{col}.",
            )


def validate(ds: Dataset, as_of: datetime | None = None) -> pd.DataFrame:
    """All findings for ``ds`` as a DataFrame with columns ``FINDING_COLUMNS``,
    errors first. ``as_of`` (default: now) is the limit for future timestamps."""
    check = _Checker(ds, as_of or datetime.now())
    check.tables()
    usable: set[str] = set()
    for name in TABLES:
        if name not in ds.tables:
            continue
        if check.columns(name):
            continue
        usable.add(name)
        check.parse(name)
        check.duplicates(name)
        check.ranges(name)
        check.future(name)
        if name == "opportunities":
            check.opportunities()
    check.foreign_keys(usable)
    frame = pd.DataFrame([asdict(f) for f in check.findings], columns=FINDING_COLUMNS)
    order = {ERROR: 0, WARNING: 1}
    frame["_o"] = frame["severity"].map(order)
    return frame.sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def exit_code(findings: pd.DataFrame) -> int:
    """0 when clean, 1 with warnings only, 2 with errors."""
    if (findings["severity"] == ERROR).any():
        return 2
    return 1 if len(findings) else 0


def format_report(findings: pd.DataFrame, description: str) -> str:
    """A plain-text report, one block per finding."""
    errors = int((findings["severity"] == ERROR).sum())
    warnings = int((findings["severity"] == WARNING).sum())
    head = f"Validation of {description}: {errors} error(s), {warnings} warning(s)"
    if findings.empty:
        return head + "\nThe data meets the contract."
    lines = [head, ""]
    for f in findings.itertuples():
        where = f"{f.table}.{f.column}" if f.column else f.table
        count = f"{f.rows} row(s)" if f.rows else ""
        lines.append(
            f"{f.severity.upper():8}{where}: {f.problem}" + (f" [{count}]" if count else "")
        )
        if len(f.examples):
            lines.append(f"        e.g. {', '.join(map(_clean, f.examples))}")
        lines.append(f"        fix: {f.fix}")
    return "\n".join(lines)


def _clean(value: str) -> str:
    """Examples come from the data: keep them on one short, printable line."""
    value = re.sub(r"[\x00-\x1f\x7f]", "?", str(value))
    return value if len(value) <= 40 else value[:37] + "..."
