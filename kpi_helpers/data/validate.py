"""Check a dataset against the data contract.

Every finding names the table, the column, the problem, how many rows have it,
up to five example IDs and the fix. Severity:

- ``error``: KPIs computed from this data would be wrong (exit code 2);
- ``warning``: worth fixing, KPIs stay right or are reported as not available (exit 1).

Findings come in the order a user should fix them: the kinds of check in
``CHECK_ORDER`` (a file that cannot be read before the columns it lacks, before values
that do not parse, ... before what only looks suspicious), then errors before warnings,
then the tables in contract order. Example::

    findings = validate(open_dataset("data/sample"))
    print(format_report(findings, "data/sample"))

The checks of one table are counted together, in one aggregate query; only those that
found rows query again, for their examples (the kinds of item: data.checks; the checks
of the opportunities: data.deal_checks). Foreign keys are one anti join per parent
column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from functools import partial

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpi_helpers.core import now_in

from .casting import typed
from .checks import (
    Duplicates,
    Item,
    RowCheck,
    Separate,
    Then,
    columns_of,
    serial_dates,
    unknown_values,
    unparsed,
)
from .contract import (
    COST_CATEGORIES,
    DATE,
    FOREIGN_KEYS,
    MONTH,
    NON_NEGATIVE,
    OPTIONAL_TABLES,
    STAGE_HISTORY,
    STR,
    TABLES,
    TIMESTAMP,
    families_using,
)
from .deal_checks import deal_checks
from .findings import ERROR, FINDING_COLUMNS, WARNING, Finding, sort_findings
from .history_checks import history_checks
from .sources import Dataset
from .targets import target_findings

_MONTH_RE = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
# Dates that may legitimately lie ahead of today.
_MAY_BE_FUTURE = {
    ("opportunities", "expected_close_at"),
    ("opportunity_stage_history", "expected_close_at"),
    ("subscriptions", "ended_at"),
    ("reps", "left_at"),
}


def _key(table: str, t: ibis.Table) -> str | None:
    """The column whose values identify a row in examples."""
    spec = TABLES[table]
    for candidate in (spec.id_column, *spec.required):
        if candidate and candidate in t.columns:
            return candidate
    return None


_RAW = "__raw__"  # prefix of the raw columns that sit next to the typed ones in a count


class _Checker:
    """Collects findings. The row checks of a table are gathered first, then counted
    together in one aggregate query; only checks that found rows query for examples."""

    def __init__(self, ds: Dataset, as_of: datetime):
        self.ds = ds
        self.as_of = as_of
        self.findings: list[Finding] = []

    def add(
        self,
        severity: str,
        table: str,
        column: str,
        check: str,
        problem: str,
        fix: str,
        rows: int = 0,
        examples: Iterable[object] = (),
    ) -> None:
        self.findings.append(
            Finding(
                severity, table, column, check, problem, int(rows), [str(e) for e in examples], fix
            )
        )

    def examples(self, table: str, t: ibis.Table, bad: ibis.Table) -> list[object]:
        """Up to five IDs of the rows ``bad`` (a subset of ``t``)."""
        key = _key(table, t)
        if key is None:
            return []
        values = bad.select(key).limit(5).execute()[key]
        return [v for v in values.tolist() if v is not None and not pd.isna(v)]

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
                    f"Export {name} again (or correct its mapping section), or move the file "
                    "out of the source to go without its KPIs; until then every command "
                    "stops here.",
                )
            elif name not in self.ds.tables and name not in OPTIONAL_TABLES:
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
            for note in self.ds.load_notes.get(name, ()):
                self.add(WARNING, name, "", note.check, note.problem, note.fix, 0, note.examples)

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

    # --- values of one table

    def table(self, name: str) -> None:
        """Every value check of table ``name``, in report order."""
        items = [*self.parse(name), *self.duplicates(name), *self.ranges(name)]
        items += self.future(name)
        if name == "opportunities":
            items += deal_checks(self.ds.tables[name], self.as_of, self)
        if name == STAGE_HISTORY:
            items += history_checks(self.ds, self)
        self.run(name, items)

    def run(self, name: str, items: list[Item]) -> None:
        """Count every check of ``items`` in one aggregate query over table ``name``,
        then add the findings (with examples) in the order of ``items``."""
        t, raw = self.ds.tables[name], self.ds.raw[name]
        parsed = [i.column for i in items if isinstance(i, RowCheck) and i.raw]
        # Raw checks only exist where TRY_CAST does (DuckDB), and there the typed table
        # is ``typed(raw)``: one scan of the raw table serves both kinds of check.
        rel = t
        if parsed:
            rel = raw.mutate(**{_RAW + c: raw[c] for c in parsed})
            rel = typed(rel, TABLES[name], True, self.ds.timezone)
        typed_cols = columns_of(rel)
        counts: dict[str, ir.Scalar] = {}
        for i, item in enumerate(items):
            if isinstance(item, RowCheck):
                cols = {item.column: rel[_RAW + item.column]} if item.raw else typed_cols
                counts[f"bad{i}"] = rel.count(where=item.bad(cols))
            elif isinstance(item, Duplicates):
                counts[f"ids{i}"] = rel[item.column].count()
                counts[f"distinct{i}"] = rel[item.column].nunique()
            elif isinstance(item, Then):
                figures = item.figures(typed_cols)
                counts.update({f"then{i}_{key}": value for key, value in figures.items()})
        found = rel.aggregate(**counts).execute().iloc[0].to_dict() if counts else {}
        for i, item in enumerate(items):
            if isinstance(item, RowCheck):
                if found[f"bad{i}"]:
                    self.report(name, item, int(found[f"bad{i}"]))
            elif isinstance(item, Duplicates):
                if found[f"ids{i}"] != found[f"distinct{i}"]:
                    self.duplicate_details(name, item.column)
            elif isinstance(item, Then):
                prefix = f"then{i}_"
                item.then(
                    {k.removeprefix(prefix): v for k, v in found.items() if k.startswith(prefix)}
                )
            else:
                item.run()

    def report(self, name: str, check: RowCheck, rows: int) -> None:
        """Add the finding of ``check``, which found ``rows`` bad rows."""
        t = self.ds.raw[name] if check.raw else self.ds.tables[name]
        examples = self.examples(name, t, t.filter(check.bad(columns_of(t))))
        fields = (check.severity, name, check.column, check.check, check.problem, check.fix)
        self.add(*fields, rows, examples)

    def parse(self, name: str) -> list[Item]:
        raw = self.ds.raw[name]
        items: list[Item] = []
        for col in TABLES[name].columns:
            if col.name not in raw.columns or col.kind == STR:
                continue
            dtype = raw[col.name].type()
            if col.kind in (TIMESTAMP, DATE) and (dtype.is_numeric() or dtype.is_string()):
                if self.ds.backend == "duckdb":  # where the raw checks run (see run)
                    items.append(serial_dates(name, col.name, dtype.is_numeric()))
            if not dtype.is_string():
                continue
            if col.kind == MONTH:
                # Months stay text in the typed table: the same values as the raw ones.
                items.append(
                    RowCheck(
                        ERROR,
                        col.name,
                        "bad_month",
                        f"{col.name} is not a month written YYYY-MM",
                        "Write months as YYYY-MM, e.g. 2026-10 (or map them with a date format).",
                        lambda c, m=col.name: c[m].notnull() & ~c[m].re_search(_MONTH_RE),
                    )
                )
                continue
            what = "dates" if col.kind in (TIMESTAMP, DATE) else "numbers"
            fix = (
                "Write dates as YYYY-MM-DD[ HH:MM:SS] or give their format in the mapping "
                f'(dates.{col.name} = "%d/%m/%Y").'
                if what == "dates"
                else "Write numbers as 1234.56 (no currency sign), or say how the file writes "
                'them in its mapping section (decimal = ",", thousands = ".").'
            )
            check = "bad_date" if what == "dates" else "bad_number"
            problem = f"{col.name} has values that are not {what}"
            if self.ds.backend == "duckdb":
                bad = unparsed(col.name, col.kind)
                items.append(RowCheck(ERROR, col.name, check, problem, fix, bad, raw=True))
            else:
                args = (name, raw, col.name, col.kind, check, problem, fix)
                items.append(Separate(partial(self._parse_in_pandas, *args)))
        return items

    def _parse_in_pandas(
        self,
        name: str,
        raw: ibis.Table,
        column: str,
        kind: str,
        check: str,
        problem: str,
        fix: str,
    ) -> None:
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

    def duplicates(self, name: str) -> list[Item]:
        id_col = TABLES[name].id_column
        if not id_col or id_col not in self.ds.tables[name].columns:
            return []
        return [Duplicates(id_col)]

    def duplicate_details(self, name: str, id_col: str) -> None:
        t = self.ds.tables[name]
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

    def ranges(self, name: str) -> list[Item]:
        t = self.ds.tables[name]
        items: list[Item] = [
            RowCheck(
                ERROR,
                col,
                "negative",
                f"{col} is negative",
                f"{col} cannot be negative: correct the rows.",
                lambda c, col=col: c[col] < 0,
            )
            for col in NON_NEGATIVE.get(name, ())
            if col in t.columns
        ]
        if name == "nps_responses" and "score" in t.columns:
            items += [
                RowCheck(
                    ERROR,
                    "score",
                    "score_out_of_range",
                    "NPS scores outside 0..10",
                    "NPS answers are whole numbers from 0 to 10: correct or drop the rows.",
                    lambda c: (c["score"] < 0) | (c["score"] > 10),
                ),
                RowCheck(
                    ERROR,
                    "score",
                    "score_not_whole",
                    "NPS scores that are not whole",
                    "NPS answers are whole numbers from 0 to 10.",
                    lambda c: c["score"].notnull() & (c["score"] != c["score"].round()),
                ),
            ]
        if name == "costs":
            items += unknown_values(t, "category", COST_CATEGORIES, ERROR)
        return items

    def future(self, name: str) -> list[Item]:
        t = self.ds.tables[name]
        limit = ibis.timestamp(self.as_of.replace(microsecond=0))
        zone = self.ds.timezone
        return [
            RowCheck(
                WARNING,
                col.name,
                "future",
                f"{col.name} is in the future (after {self.as_of:%Y-%m-%d %H:%M} in {zone})",
                f"Check the export's dates. A time written without a zone is read as {zone} "
                "time (kpi.toml's timezone): if the export writes another zone's (often "
                "UTC's), export the times with their zone (2026-04-01T02:00:00Z).",
                lambda c, col=col.name: c[col] > limit,
            )
            for col in TABLES[name].columns
            if col.kind in (TIMESTAMP, DATE)
            and col.name in t.columns
            and (name, col.name) not in _MAY_BE_FUTURE
        ]

    # --- across tables

    def foreign_keys(self, loaded: set[str]) -> None:
        """Orphan keys. The keys that point at one parent column are checked together,
        in one anti join of all their values against the parent's; only keys with
        orphans query again, for their examples."""
        by_parent: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
        for i, ((child, col), (parent, pcol)) in enumerate(FOREIGN_KEYS.items()):
            usable = child in loaded and parent in loaded
            if usable and self.ds.has(child, col) and self.ds.has(parent, pcol):
                by_parent.setdefault((parent, pcol), []).append((i, child, col))
        orphans: dict[int, int] = {}
        for (parent, pcol), fks in by_parent.items():
            values = ibis.union(
                *(
                    self.ds.tables[child].select(
                        fk=ibis.literal(i, type="int32"), value=self.ds.tables[child][col]
                    )
                    for i, child, col in fks
                ),
                distinct=False,
            )
            values = values.filter(values.value.notnull())
            # An anti join keeps a row when no parent matches: parents need no DISTINCT.
            known = self.ds.tables[parent].select(pcol)
            missing = values.anti_join(known, values.value == known[pcol])
            counts = missing.group_by("fk").agg(n=missing.count()).execute()
            orphans.update(zip(counts["fk"].tolist(), counts["n"].tolist(), strict=True))
        for i, ((child, col), (parent, pcol)) in enumerate(FOREIGN_KEYS.items()):
            if not orphans.get(i):
                continue
            t, keys = self.ds.tables[child], self.ds.tables[parent].select(pcol)
            bad = t.filter(t[col].notnull()).anti_join(keys, t[col] == keys[pcol])
            extra = ""
            if pcol == "rep_id":  # DATA_CONTRACT: "An account's rep and team"
                extra = (
                    " (each account goes to the rep of its latest won deal, else latest deal, "
                    "else the team 'unassigned')"
                    if col == "owner_rep_id"
                    else " (their rows fall into the team 'unassigned')"
                )
            self.add(
                WARNING,
                child,
                col,
                "orphan_key",
                f"{col} values not found in {parent}.{pcol}{extra}",
                f"Add the missing rows to {parent}, or correct {child}.{col}.",
                orphans[i],
                self.examples(child, t, bad),
            )

    def targets(self, loaded: set[str]) -> None:
        """The rules of targets (data.targets); a small table, read whole, and reps only
        when a target names a team or rep."""
        if "targets" in loaded:
            reps = partial(self.ds.frame, "reps") if "reps" in loaded else None
            self.findings += target_findings(self.ds.frame("targets"), reps)


def validate(ds: Dataset, as_of: datetime | None = None) -> pd.DataFrame:
    """All findings for ``ds`` as a DataFrame with columns ``FINDING_COLUMNS``, in the
    order a user should fix them (``sort_findings``). ``as_of`` (default: now, in the
    dataset's timezone) is the limit for future timestamps."""
    check = _Checker(ds, as_of or now_in(ds.timezone))
    check.tables()
    usable: set[str] = set()
    for name in TABLES:
        if name not in ds.tables:
            continue
        if check.columns(name):
            continue
        usable.add(name)
        check.table(name)
    check.foreign_keys(usable)
    check.targets(usable)
    return sort_findings(pd.DataFrame([asdict(f) for f in check.findings], columns=FINDING_COLUMNS))


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
    """Examples come from the data: keep them on one short, printable line (long enough
    for a target's month, KPI and team)."""
    value = re.sub(r"[\x00-\x1f\x7f]", "?", str(value))
    return value if len(value) <= 60 else value[:57] + "..."
