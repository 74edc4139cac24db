"""``kpi-kit explore``: JupyterLab on the explorer notebook, set to one pack.

The kit's ``explore.ipynb`` is copied into the pack's folder (once: a copy there is
kept, edits and all), and JupyterLab opens it there with :data:`PACK_ENV` naming the
pack, which the notebook's first cell reads. Light on purpose (the core only): the
command line imports this module when it starts.

Example: ``lab_command(Path("reports/2026-11"), port=8890, token="t", browser=False)``
gives the command, its environment and the notebook.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from kpi_helpers.core import KitError, resource_dir, write_text

PACK_ENV = "KPI_KIT_PACK"  # the pack folder the explorer notebook opens
EXPLORE_NOTEBOOK = "explore.ipynb"
PACK_SNAPSHOT = "data/snapshot.json"  # report.SNAPSHOT_FILE in a pack's data/ folder
PACK_FOLDER = re.compile(r"\d{4}-\d{2}")


def latest_pack(start: str | Path | None = None) -> Path:
    """The newest pack (``reports/YYYY-MM`` with a snapshot) in ``start`` (default: the
    working folder) or the ``reports/`` folder of it or of a folder above it, e.g. from
    ``notebooks/`` the project's ``reports/2026-11``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for reports in (folder, folder / "reports"):
            packs = sorted(
                p
                for p in reports.glob("*")
                if PACK_FOLDER.fullmatch(p.name) and (p / PACK_SNAPSHOT).is_file()
            )
            if packs:
                return packs[-1]
    raise KitError(
        f"No pack under reports/ of {here} or a folder above it: build one with "
        "`kpi-kit pack`, set `pack` to a pack's folder, or set `source` to compute live."
    )


def place_notebook(pack: Path) -> Path:
    """The explorer notebook in ``pack`` (copied from the kit when it is not there)."""
    target = pack / EXPLORE_NOTEBOOK
    if not target.exists():
        kit = resource_dir("notebooks") / EXPLORE_NOTEBOOK
        if not kit.is_file():
            raise KitError(f"The kit's {EXPLORE_NOTEBOOK} is missing from {kit.parent}: "
                           "reinstall kpi-helpers.")  # fmt: skip
        write_text(target, kit.read_text(encoding="utf-8"))
    return target


def lab_command(
    pack: str | Path,
    port: int | None = None,
    token: str | None = None,
    browser: bool = True,
) -> tuple[list[str], dict[str, str], Path]:
    """The command that starts JupyterLab on ``pack``'s explorer (on 127.0.0.1; ``port``
    and ``token`` when given), its environment and the notebook's path."""
    folder = Path(pack).resolve()
    if not folder.is_dir():
        raise KitError(f"{pack}: no such pack folder; build it with `kpi-kit pack`.")
    if not (folder / PACK_SNAPSHOT).is_file():
        raise KitError(
            f"{pack} is not a pack: it has no {PACK_SNAPSHOT}. Name a pack's folder, "
            "e.g. reports/2026-11, or build one with `kpi-kit pack`."
        )
    notebook = place_notebook(folder)
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={folder}",
        "--ServerApp.ip=127.0.0.1",
    ]
    if port:
        argv.append(f"--ServerApp.port={port}")
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if not browser:
        argv.append("--no-browser")
    if getattr(os, "geteuid", lambda: 1)() == 0:  # a container's root: bound to 127.0.0.1
        argv.append("--allow-root")
    argv.append(str(notebook))
    env = {**os.environ, PACK_ENV: str(folder)}
    return argv, env, notebook


def run(args: argparse.Namespace) -> int:
    """``kpi-kit explore [PACK]``: JupyterLab until Ctrl+C; its exit code."""
    pack = args.pack or latest_pack()
    argv, env, notebook = lab_command(pack, port=args.port, browser=not args.no_browser)
    print(f"Opening {notebook} in JupyterLab on {pack}; Ctrl+C stops it.", flush=True)
    return subprocess.run(argv, env=env, check=False).returncode


def add_command(sub: argparse._SubParsersAction) -> None:
    """The ``explore`` command's parser, among the command line's (``sub``)."""
    p = sub.add_parser(
        "explore",
        help="open a pack's numbers in the JupyterLab explorer",
        description="Starts JupyterLab (on 127.0.0.1) on explore.ipynb, copied into the "
        "pack's folder when not there, set to that pack: pick a scope, month and KPI, "
        "drill down from company to team to rep.",
    )
    where = "a pack folder, e.g. reports/2026-11 (default: the latest under reports/)"
    p.add_argument("pack", nargs="?", metavar="PACK", help=where)
    p.add_argument("--port", type=int, help="JupyterLab's port (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(run=run)
