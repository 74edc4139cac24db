"""The pack layer: a month's review pack. The snapshot (every number computed once),
the notebook runs (papermill, one kernel per worker), HTML and PDF rendering, the index,
and the keys that let an unchanged page be reused.
"""

from .build import BuildRequest, build_pack, find_pages
from .freeze import TABLE_NAMES, write_snapshot
from .index import read_build_log
from .notebooks import PARAMETERS as NOTEBOOK_PARAMETERS
from .notebooks import copy_notebooks
from .render import CHROMIUM_ARGS, find_chromium

__all__ = [
    "CHROMIUM_ARGS",
    "NOTEBOOK_PARAMETERS",
    "TABLE_NAMES",
    "BuildRequest",
    "build_pack",
    "copy_notebooks",
    "find_chromium",
    "find_pages",
    "read_build_log",
    "write_snapshot",
]
