"""Incremental packs: what a re-run of a month can take from the pack already there.

A pack has two expensive steps, and each gets a key; a step whose key is the same as in
the month's previous build is taken over (hard links, no copy) instead of run again.

* **The data step** (the snapshot, ``data/``) is keyed by :func:`data_key`: the bytes of
  the source files, the mapping and config text, the month and scopes, today's date
  (validation flags dates after today) and :func:`kit_digest`. A database source has no
  file to hash; its data step always runs (an aggregate cannot see an edited text cell).
* **A page** (``<scope>/<page>.html|pdf`` and its executed notebook) is keyed by
  :func:`page_key`: the notebook's content hash, its parameters, its header (without the
  build time), the formats, :func:`snapshot_digest` of the snapshot it reads (a hash of
  every number in it, so a data change that leaves the numbers alone rebuilds nothing),
  :func:`kit_digest` and :func:`template_digest`.

Only pages that succeeded are reused; ``--force`` rebuilds everything. The keys live in
the month's ``build.json`` (see :func:`previous_pages`).

Example::

    key = page_key(notebook_sha="ab12…", parameters={"month": "2026-10"}, header={},
                   formats=("html",), snapshot="9f…", kit="c0…", templates="77…")
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from kpi_helpers.core import file_sha, kit_version, package_dir, parts_sha, tree_sha
from kpi_helpers.report import SNAPSHOT_FILE, TEMPLATES

KIT_DIR = package_dir()
# libraries whose version changes what a page looks like
RENDERING_LIBRARIES = ("pandas", "numpy", "matplotlib", "nbconvert", "papermill", "jinja2")
# snapshot.json fields that say when or from where, not what: left out of its digest
VOLATILE_META = ("created_at", "data_key")


def kit_digest() -> str:
    """The kit's version, a hash of its code and the versions of the libraries that
    draw and render the pages: a change in any of them rebuilds every page."""
    libraries = []
    for name in RENDERING_LIBRARIES:
        try:
            libraries.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            libraries.append(f"{name}=?")
    return parts_sha(kit_version(), tree_sha(KIT_DIR), *libraries)


def template_digest() -> str:
    """A hash of the kit's templates (the page template, its CSS, the blocks)."""
    return tree_sha(TEMPLATES)


def source_digest(source: str) -> str | None:
    """A hash of the source's bytes: every file of a source folder, or the workbook or
    DuckDB file; None for a database URL (nothing to hash, the data step runs)."""
    path = Path(source)
    if "://" in source or source.startswith("env:") or not path.exists():
        return None
    if path.is_file():  # with a DuckDB file's write-ahead log: changes not yet merged
        wal = path.with_name(path.name + ".wal")
        return parts_sha(path.name, file_sha(path), file_sha(wal) if wal.is_file() else "")
    return tree_sha(path)


def data_key(
    source: str, settings_text: str, month: str, folders: dict[str, str], today: date
) -> str | None:
    """The key of a pack's data step; None when the source cannot be hashed."""
    digest = source_digest(source)
    if digest is None:
        return None
    scopes = json.dumps(folders, sort_keys=True)
    return parts_sha("data", digest, settings_text, month, scopes, today.isoformat(), kit_digest())


def snapshot_digest(folder: Path) -> str:
    """A hash of what a snapshot says: every file in it, with ``snapshot.json`` minus the
    fields that only say when it was written."""
    meta = json.loads((folder / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    for field in VOLATILE_META:
        meta.pop(field, None)
    return parts_sha(json.dumps(meta, sort_keys=True), tree_sha(folder, skip=SNAPSHOT_FILE))


def page_key(
    notebook_sha: str,
    parameters: dict,
    header: dict,
    formats: tuple[str, ...],
    snapshot: str,
    kit: str,
    templates: str,
) -> str:
    """The key of one page: a change in any input rebuilds it.

    ``header`` must leave out the build time (it changes on every run)."""
    return parts_sha(
        "page",
        notebook_sha,
        json.dumps(parameters, sort_keys=True),
        json.dumps(header, sort_keys=True),
        ",".join(sorted(formats)),
        snapshot,
        kit,
        templates,
    )


def previous_pages(month_dir: Path) -> dict[tuple[str, str], dict]:
    """The pages of the month's previous build that may be reused: (scope, page) → its
    ``build.json`` entry (``key``, ``files`` relative to the month, ``built_at``), for
    pages that succeeded and whose files are all still there."""
    try:
        log = json.loads((month_dir / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for entry in log.get("pages", []):
        files = entry.get("files") or []
        if not entry.get("ok") or not entry.get("key") or not files:
            continue
        if all((month_dir / f).is_file() for f in files):
            found[(entry["scope"], entry["page"])] = entry
    return found


def link_files(source_dir: Path, target_dir: Path, files: list[str]) -> None:
    """Put ``files`` (relative paths) of ``source_dir`` into ``target_dir``: hard links
    where the file system allows (the old folder is deleted afterwards, the files stay),
    else copies."""
    for rel in files:
        target = target_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source_dir / rel, target)
        except OSError:
            shutil.copy2(source_dir / rel, target)


def link_tree(source_dir: Path, target_dir: Path) -> None:
    """A folder's files into ``target_dir`` (created), as :func:`link_files` puts them."""
    files = [str(p.relative_to(source_dir)) for p in source_dir.rglob("*") if p.is_file()]
    target_dir.mkdir(parents=True, exist_ok=True)
    link_files(source_dir, target_dir, files)
