"""``kpi-kit init``: recognise a CRM export and write its mapping and configuration.

A *preset* (``kpi_helpers/data/presets/<name>.toml``, shipped with the package) is a mapping
file written for one kind of export, with a ``[preset]`` section and a few freedoms a
plain mapping does not have:

- ``from`` is a file-name pattern (``hubspot-crm-exports-*deals*.csv``) matched without
  regard to case; of several matches the newest (last by name) that has the columns
  is used. ``from = "@opportunities"`` reads the file chosen for that table.
- a ``columns`` or ``derive`` value may be a list of alternatives: the first whose
  source columns the export has is kept;
- a ``dates`` value may be a list of formats: the first that reads every date column of
  the file is kept (else, per column, the first that reads all of that column);
- ``unpivot`` (columns into rows) is kept when a header matches one of its patterns;
  ``looks_for`` (preset only) says in words what the table needs when none does;
- what the export lacks is left out: a lookup whose file or columns are missing, a
  column none of whose alternatives fits, a table whose file is absent or lacks a
  required column (reported as not mapped, with the reason).

The result is a plain mapping file, ``mapping.toml``, that the user can read and edit,
and a ``kpi.toml`` naming the source and the mapping. Example::

    result = recognise(Path("exports/salesforce"))
    result.preset, sorted(result.files)
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

import pandas as pd

from kpi_helpers.core import KitError, atomic_path

from .contract import TABLES
from .coverage import data_months
from .dates import date_format_fits
from .expressions import column_names
from .mapping import TableMapping, apply_mapping
from .readers import frame_from_file
from .sources import open_dataset
from .validate import ERROR, format_report, validate

# tried in this order; the generic report (any .csv with the report's labels) comes last
PRESETS = ("salesforce", "hubspot", "salesforce_report")
_SECTIONS = ("unpivot", "columns", "derive", "constants", "values", "dates")


@dataclass
class Recognised:
    """An export matched to a preset: the mapping to write and what it reads."""

    preset: str  # file name of the preset, e.g. "salesforce"
    name: str  # what the preset calls the export
    folder: Path
    tables: dict[str, dict | list[dict]]  # the mapping's [tables.*] sections
    files: dict[str, list[str]]  # canonical table -> files it reads
    skipped: dict[str, str]  # canonical table -> why it is not mapped
    kpi: dict = field(default_factory=dict)  # extra kpi.toml settings


def load_preset(name: str) -> dict:
    """The preset ``name`` as a dict (read from the package data).

    >>> load_preset("salesforce")["preset"]["name"]
    'Salesforce Data Loader export'
    """
    text = (resources.files("kpi_helpers.data") / "presets" / f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


class _Export:
    """The files of an export folder, each read once."""

    def __init__(self, folder: Path, prefer: str | None = None):
        self.folder = folder
        self.prefer = prefer
        self.names = sorted(p.name for p in folder.iterdir() if p.is_file())
        self._frames: dict[str, pd.DataFrame] = {}
        self._headers: dict[str, list[str]] = {}

    def matching(self, pattern: str) -> list[str]:
        """Files matching ``pattern`` in any case, newest (last by name) first; a file the
        user named comes before the others."""
        hits = [n for n in self.names if fnmatch.fnmatchcase(n.lower(), pattern.lower())]
        hits.sort(reverse=True)
        if self.prefer in hits:
            hits.remove(self.prefer)
            hits.insert(0, self.prefer)
        return hits

    def headers(self, name: str) -> list[str]:
        """The header row of CSV file ``name``; none when it cannot be read as CSV (the file
        is then simply not recognised; the message lists the files)."""
        if name not in self._headers:
            try:
                head = pd.read_csv(self.folder / name, nrows=0, encoding="utf-8-sig")
                self._headers[name] = [str(c) for c in head.columns]
            except ValueError:  # not text, not CSV, or empty (pandas errors are ValueErrors)
                self._headers[name] = []
        return self._headers[name]

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = frame_from_file(self.folder / name)
        return self._frames[name]

    def read(self, name: str, tm: TableMapping | None = None) -> pd.DataFrame:
        return self.frame(name)


def _alternatives(value) -> list:
    return list(value) if isinstance(value, list) else [value]


def _resolve_on(
    table: str, spec: dict, file: str, export: _Export
) -> tuple[dict | None, str, bool]:
    """The preset section ``spec`` made concrete for ``file``, or None, the reason, and
    whether the file came close (had most of the required columns)."""
    headers = export.headers(file)
    fold = str.lower if spec.get("ignore_case") else str
    have = {fold(h) for h in headers}

    def present(names: set[str]) -> bool:
        return all(fold(n) in have for n in names)

    out: dict = {"from": file}
    for key in ("encoding", "delimiter", "ignore_case"):
        if key in spec:
            out[key] = spec[key]
    lookups = []
    for lk in _alternatives(spec.get("lookup", [])):
        on = lk["on"]
        left, right = (on, on) if isinstance(on, str) else (on["left"], on["right"])
        found = export.matching(lk["from"])
        if not found or not present({left}):
            continue
        other = {fold(c) for c in export.headers(found[0])}
        wanted = [right, *lk.get("columns", [])]
        if not all(fold(c) in other for c in wanted):
            continue
        lookups.append({**lk, "from": found[0]})
        have |= {fold(lk.get("prefix", "") + c) for c in wanted}
    if lookups:
        out["lookup"] = lookups
    booleans = [b for b in spec.get("booleans", []) if present({b})]
    if booleans:
        out["booleans"] = booleans
    if "unpivot" in spec:
        flags = re.IGNORECASE if spec.get("ignore_case") else 0
        patterns = spec["unpivot"]["headers"]
        if not any(re.search(p, h, flags) for p in patterns for h in headers):
            wanted = spec.get("looks_for") or "column matching " + " or ".join(patterns)
            return None, f"{file} has no {wanted}", False
        unpivoted = dict(spec["unpivot"])
        if "match" in unpivoted and not present({unpivoted["match"]}):
            del unpivoted["match"]
        out["unpivot"] = unpivoted
        have |= {fold(unpivoted["name"]), fold(unpivoted["value"])}
    if spec.get("where") and present(column_names(spec["where"])):
        out["where"] = spec["where"]
    kept: dict[str, dict] = {"columns": {}, "derive": {}}
    looked_for: dict[str, list[str]] = {}
    for section in ("columns", "derive"):
        for canonical, value in spec.get(section, {}).items():
            for alt in _alternatives(value):
                names = {alt} if section == "columns" else column_names(alt)
                if present(names):
                    kept[section][canonical] = alt
                    break
                if section == "columns":
                    looked_for.setdefault(canonical, []).append(alt)
                else:  # an expression: name the columns of its simplest alternative
                    looked_for[canonical] = [" and ".join(sorted(names))]
    mapped = set(kept["columns"]) | set(kept["derive"]) | set(spec.get("constants", {}))
    required = TABLES[table].required
    missing = [c for c in required if c not in mapped]
    if missing:
        wants = "; ".join(
            f"{c} (looked for {' or '.join(looked_for.get(c, ['nothing']))})" for c in missing
        )
        return None, f"{file} has no column for {wants}", 2 * len(missing) <= len(required)
    if spec.get("unique_by") in mapped:
        out["unique_by"] = spec["unique_by"]
    for section in ("columns", "derive"):
        if kept[section]:
            out[section] = kept[section]
    if spec.get("constants"):
        out["constants"] = dict(spec["constants"])
    values = {c: v for c, v in spec.get("values", {}).items() if c in mapped}
    if values:
        out["values"] = values
    dates = {c: v for c, v in spec.get("dates", {}).items() if c in mapped}
    if dates:
        out["dates"] = _choose_date_formats(table, out, dates, export)
    return out, "", False


def _choose_date_formats(table: str, section: dict, dates: dict, export: _Export) -> dict:
    """For each date column the first candidate format that reads every value."""
    chosen = {c: _alternatives(v)[0] for c, v in dates.items()}
    if all(len(_alternatives(v)) == 1 for v in dates.values()):
        return chosen
    tm = TableMapping(
        table,
        section["from"],
        lookup=section.get("lookup", []),
        booleans=section.get("booleans", []),
        ignore_case=section.get("ignore_case", False),
        where=section.get("where"),
        columns=section.get("columns", {}),
        derive=section.get("derive", {}),
        constants=section.get("constants", {}),
        unpivot=section.get("unpivot"),
    )
    try:
        frame = apply_mapping(tm, export.read)
    except KitError:
        return chosen  # validation will report the problem when the dataset is opened
    # one export writes all its dates alike: a format that reads every date column wins
    # (so 01/09/2016 is read like 20/10/2016 beside it), else each column's own first fit
    lists = [_alternatives(c) for c in dates.values()]
    common = [f for f in lists[0] if all(f in other for other in lists[1:])]
    for fmt in common:
        if all(date_format_fits(frame[column], fmt) for column in dates):
            return dict.fromkeys(dates, fmt)
    for column, candidates in dates.items():
        for fmt in _alternatives(candidates):
            if date_format_fits(frame[column], fmt):
                chosen[column] = fmt
                break
    return chosen


def _resolve_table(
    table: str, spec: dict, export: _Export, chosen: dict[str, list[str]]
) -> tuple[dict | None, str, bool]:
    pattern = spec["from"]
    if pattern.startswith("@"):
        files = chosen.get(pattern[1:], [])[:1]
        if not files:
            return None, f"it reads the file of {pattern[1:]}, which is not mapped", False
    else:
        files = export.matching(pattern)
        if not files:
            return None, f"no file matching {pattern}", False
    misses = []
    for file in files:
        section, reason, near = _resolve_on(table, spec, file, export)
        if section is not None:
            return section, "", False
        misses.append((reason, near))
    return None, misses[0][0], any(near for _, near in misses)


def resolve(preset: str, export: _Export) -> tuple[Recognised | None, list[str]]:
    """``preset`` made concrete for the files of ``export``; or None and the near misses:
    why files that came close to one of its key tables (``recognise_by``) did not fit."""
    data = load_preset(preset)
    info = data["preset"]
    tables: dict[str, dict | list[dict]] = {}
    files: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    near_misses: list[str] = []
    for table, spec in data["tables"].items():
        parts, reasons = [], []
        for part in _alternatives(spec):
            section, reason, near = _resolve_table(table, part, export, files)
            if section is not None:
                parts.append(section)
                continue
            reasons.append(reason)
            if near and table in info["recognise_by"]:
                near_misses.append(reason)
        if not parts:
            skipped[table] = "; ".join(reasons)
            continue
        tables[table] = parts if isinstance(spec, list) else parts[0]
        files[table] = [p["from"] for p in parts] + [
            lk["from"] for p in parts for lk in p.get("lookup", [])
        ]
    if not any(t in tables for t in info["recognise_by"]):
        return None, near_misses
    kpi = info.get("kpi", {})
    return Recognised(preset, info["name"], export.folder, tables, files, skipped, kpi), []


def recognise(source: Path) -> Recognised:
    """The first preset that recognises the export at ``source`` (a folder, or one file of
    it); a :class:`KitError` listing what was looked for when none does."""
    source = Path(source)
    if not source.exists():
        raise KitError(f"Export {source} does not exist: give the folder of the CRM export.")
    folder, prefer = (source, None) if source.is_dir() else (source.parent, source.name)
    export = _Export(folder, prefer)
    why = []
    for preset in PRESETS:
        info = load_preset(preset)["preset"]
        try:
            found, near = resolve(preset, export)
        except KitError as exc:  # an unreadable file: say which, and go on
            found, near = None, [str(exc)]
        if found is not None:
            return found
        why.append(f"  - {info['name']}: {info['looks_for']}")
        why += [f"    ({reason})" for reason in near]
    raise KitError(
        f"Did not recognise the export in {folder} (files: {', '.join(export.names) or 'none'}). "
        "Looked for:\n" + "\n".join(why) + "\nFor another export, write a mapping file by hand "
        "(README: 'Bring your own data') and run kpi-kit validate --mapping."
    )


# ----------------------------------------------------------------------------- writing


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _section_toml(header: str, table: str, section: dict) -> list[str]:
    lines = [header]
    for key, value in section.items():
        if key not in _SECTIONS:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key in _SECTIONS:
        if key == "values":
            for column, translation in section.get("values", {}).items():
                lines += ["", f"[tables.{table}.values.{column}]"]
                lines += [f"{_key(k)} = {_value(v)}" for k, v in translation.items()]
        elif section.get(key):
            lines += ["", f"[tables.{table}.{key}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in section[key].items()]
    return lines + [""]


def mapping_toml(found: Recognised) -> str:
    """The mapping file for ``found``, with a header saying where it came from."""
    lines = [
        f"# Mapping for the {found.name} in {found.folder},",
        f"# written by kpi-kit init on {date.today().isoformat()} from the preset "
        f"kpi_helpers/data/presets/{found.preset}.toml.",
        "# Edit freely (kpi_helpers/data/mapping.py documents every key); kpi-kit init --force",
        "# writes it again.",
    ]
    for table, reason in found.skipped.items():
        lines.append(f"# Not mapped: {table} ({reason}).")
    lines.append("")
    for table, section in found.tables.items():
        parts = section if isinstance(section, list) else [section]
        header = f"[[tables.{table}]]" if isinstance(section, list) else f"[tables.{table}]"
        for part in parts:
            lines += _section_toml(header, table, part)
    text = "\n".join(lines)
    tomllib.loads(text)  # what we write must read back
    return text


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def kpi_toml(found: Recognised, mapping_path: Path) -> str:
    """The configuration file: source and mapping (paths from where kpi-kit runs) and the
    preset's settings."""
    lines = [
        f"# Written by kpi-kit init on {date.today().isoformat()} for the {found.name}.",
        "# Paths are relative to the folder kpi-kit runs from. The keys are documented",
        "# in kpi_helpers/core/config.py.",
        f"source = {_value(_shown(found.folder))}",
        f"mapping = {_value(_shown(mapping_path))}",
        "# the IANA zone in which months begin and end, e.g. Europe/Berlin; the export's",
        "# timestamps with a zone (Salesforce writes UTC) are converted to it",
        'timezone = "UTC"',
        "",
    ]
    for name, table in found.kpi.items():
        lines.append(f"[{_key(name)}]")
        lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
        lines.append("")
    text = "\n".join(lines)
    tomllib.loads(text)
    return text


def _write_atomically(files: dict[Path, str]) -> None:
    """Write every file to a temporary name beside it, then rename each into place: a
    failed write leaves every file as it was."""
    with ExitStack() as stack:
        temps = {path: stack.enter_context(atomic_path(path)) for path in files}
        for path, text in files.items():
            temps[path].write_text(text, encoding="utf-8")


def init(source: str | Path, out: str | Path | None = None, force: bool = False) -> int:
    """Recognise the export at ``source``, write ``mapping.toml`` and ``kpi.toml`` into
    ``out`` (default: the export's folder), validate, and print the next commands.
    Returns 0, or 2 when validation found errors. Example::

        init("exports/salesforce", out="my-kpis")
    """
    found = recognise(Path(source))
    folder = Path(out) if out else found.folder
    if folder.exists() and not folder.is_dir():
        raise KitError(f"--out {folder} is a file; give a folder.")
    mapping_path, config_path = folder / "mapping.toml", folder / "kpi.toml"
    existing = [p for p in (mapping_path, config_path) if p.exists()]
    if existing and not force:
        raise KitError(
            f"{' and '.join(map(str, existing))} already exist(s); kpi-kit init does not "
            "overwrite them. Pass --force to replace them, or --out another folder."
        )
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(
        {mapping_path: mapping_toml(found), config_path: kpi_toml(found, mapping_path)}
    )
    print(f"Recognised the {found.name} in {found.folder}.")
    width = max(map(len, [*found.files, *found.skipped]))
    for table, names in found.files.items():
        print(f"  {table:<{width}}  <- {', '.join(dict.fromkeys(names))}")
    for table, reason in found.skipped.items():
        print(f"  {table:<{width}}  not mapped: {reason}")
    print(f"Wrote {_shown(mapping_path)} and {_shown(config_path)}.")
    print()
    with open_dataset(found.folder, mapping_path, keep_unreadable=True) as ds:
        findings = validate(ds)
        print(format_report(findings, ds.description))
        print()
        try:
            month = str(data_months(ds)[1])
        except KitError:  # no dated rows: the user picks the month
            month = "YYYY-MM"
    errors = bool((findings["severity"] == ERROR).any())
    if errors:
        print("Fix the errors above (in the export, or in the mapping) first; then:")
    else:
        print("Next:")
    config = shlex.quote(_shown(config_path))
    print(f"  kpi-kit compute --config {config} --month {month}")
    # any history length packs: months before the data are shown as such
    print(f"  kpi-kit pack --config {config} --month {month}")
    return 2 if errors else 0
