"""``kpi-kit notebooks DIR``: the pack's page notebooks copied for an analyst to open in
JupyterLab, their ``parameters`` cell pointed at the analyst's data.

>>> is_database("env:CRM_URL"), is_database("../crm")
(True, False)
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from kpi_helpers.core import KitError, resource_dir, write_text
from kpi_helpers.data import redact
from kpi_helpers.report import PACK_FAMILIES

PARAMETERS = ("source", "mapping", "config")  # what the command may set in the copies
DEFAULT_SOURCE = "../data/sample"  # the kit notebooks' own default


def is_database(source: str) -> bool:
    """A database URL or ``env:VAR`` (which names one), not a path."""
    return "://" in source or source.startswith("env:")


def path_parameter(name: str, value: str, folder: str | Path) -> str:
    """``--source``/``--mapping``/``--config`` as the copied notebooks read it: a path
    relative to their folder (a kernel runs in the notebook's folder); a database URL or
    ``env:VAR`` as given, but never a URL with a password in it.

    >>> path_parameter("source", "/data/crm", "/data/notebooks")
    '../crm'
    """
    if name == "source" and is_database(value):
        if redact(value) != value:  # a password in the user part or in the query string
            raise KitError(
                "--source: the notebooks would keep this URL's password in plain text; put "
                "the URL in an environment variable and pass --source env:VAR."
            )
        return value
    path = Path(value).resolve()
    try:
        return Path(os.path.relpath(path, Path(folder).resolve())).as_posix()
    except ValueError:  # on another drive (Windows): only the absolute path reaches it
        return path.as_posix()


def set_parameters(text: str, values: dict[str, str]) -> str:
    """A notebook's JSON text with new defaults in its ``parameters`` cell (the comment
    after each value stays)."""
    import nbformat  # 2 s of jsonschema: loaded when a copy gets new parameters only

    nb = nbformat.reads(text, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not tagged:
        raise KitError("A kit notebook has no `parameters` cell: reinstall kpi-helpers.")
    lines = tagged[0].source.splitlines()
    for name, value in values.items():
        literal = json.dumps(value, ensure_ascii=False)  # a Python string literal too
        assigned = re.compile(rf"{name}\s*=\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
        for i, line in enumerate(lines):
            if m := assigned.match(line):
                lines[i] = f"{name} = {literal}{line[m.end() :]}"
                break
        else:
            lines.append(f"{name} = {literal}")
    tagged[0].source = "\n".join(lines)
    return nbformat.writes(nb) + "\n"


def kit_pages() -> list[Path]:
    """The kit's page notebooks (the summary and one per family), not an Untitled.ipynb
    left in a source tree's notebooks/."""
    kit = resource_dir("notebooks")
    pages = sorted(kit / f"{n}.ipynb" for n in PACK_FAMILIES if (kit / f"{n}.ipynb").is_file())
    if not pages:
        raise KitError(f"The kit's notebooks are missing from {kit}: reinstall kpi-helpers.")
    return pages


def copy_notebooks(folder: str | Path, params: dict[str, str], force: bool = False) -> str:
    """Copy the kit's page notebooks into ``folder``, with ``params`` (source, mapping,
    config, as given on the command line) set in their parameters cell; returns what to
    tell the analyst. Existing copies are replaced only with ``force``; each file is
    written atomically."""
    folder = Path(folder)
    pages = kit_pages()
    if folder.exists() and not folder.is_dir():
        raise KitError(f"{folder} is a file, not a folder: name a new or an existing folder.")
    targets = {page: folder / page.name for page in pages}
    there = [t.name for t in targets.values() if t.exists() or t.is_symlink()]
    if there and not force:
        raise KitError(
            f"{folder} already has {', '.join(there)}; nothing was copied. Pass --force to "
            "replace them (changes made to them are lost), or name another folder."
        )
    if dirs := [t.name for t in targets.values() if t.is_dir()]:
        raise KitError(f"{folder} has folders named like the notebooks: {', '.join(dirs)}.")
    values = {name: path_parameter(name, v, folder) for name, v in params.items() if v}
    try:
        for page, target in targets.items():
            text = page.read_text(encoding="utf-8")
            write_text(target, set_parameters(text, values) if values else text, newline="")
    except OSError as exc:
        at = f": {exc.filename}" if exc.filename else ""
        raise KitError(
            f"Could not write the notebooks into {folder}: {exc.strerror or exc}{at}."
        ) from None
    return _next_steps(folder, pages, values, there)


def _next_steps(folder: Path, pages: list[Path], values: dict[str, str], there: list) -> str:
    where = shlex.quote(str(folder))
    replaced = f" ({len(there)} replaced)" if there else ""
    lines = [f"Copied {len(pages)} notebooks to {folder}{replaced}: "]
    lines[0] += ", ".join(p.stem for p in pages)
    source = values.get("source", DEFAULT_SOURCE)
    said = f'Their first code cell, tagged `parameters`, sets month, scope and source = "{source}"'
    if is_database(source):
        lines.append(said + ".")
    else:
        data = Path(os.path.normpath(folder.resolve() / source))
        missing = "" if data.exists() else ", which does not exist yet"
        lines.append(f"{said},\na path read from the notebook's folder: {data}{missing}.")
        if missing and "source" not in values:
            lines.append(f"  Sample data there: kpi-kit sample-data --out {shlex.quote(str(data))}")
    if "source" not in values:
        lines.append(
            f"  Your own data:     kpi-kit notebooks {where} --force --source PATH "
            "[--mapping FILE] [--config kpi.toml]\n"
            "                     (PATH: a folder, .xlsx, .duckdb or env:VAR holding a "
            "database URL),\n"
            "                     or edit `source` in each notebook's parameters cell."
        )
    lines.append(f"Open them: {jupyter_lab()} {where}")
    lines.append(
        f"Edited copies can join the monthly pack: kpi-kit pack --notebooks {where} ... "
        "(one named like a kit page replaces it)."
    )
    return "\n".join(lines)


def jupyter_lab() -> str:
    """The command that starts JupyterLab on this Python, whose kernel imports this kit."""
    mine = Path(sys.executable).with_name("jupyter")
    if not mine.exists():
        return f"{shlex.quote(sys.executable)} -m jupyterlab"
    found = shutil.which("jupyter")
    return "jupyter lab" if found and Path(found) == mine else f"{shlex.quote(str(mine))} lab"
