"""The pack layer: a month's review pack. The snapshot (every number computed once),
the notebook runs (papermill, one kernel per worker), HTML and PDF rendering, the index,
and the keys that let an unchanged page be reused.

The names below load on first use (``from kpi_helpers.pack import build_pack``), not
when the package is imported: a page worker (``pack.runner``, a spawned process) then
imports papermill and the renderer only, not the engine (about 2 s of CPU a worker).
"""

from importlib import import_module

# name -> the module of this package that defines it
FACE = {
    "BuildRequest": ".build",
    "build_pack": ".build",
    "find_pages": ".build",
    "TABLE_NAMES": ".freeze",
    "write_snapshot": ".freeze",
    "read_build_log": ".index",
    "NOTEBOOK_PARAMETERS": ".notebooks",
    "copy_notebooks": ".notebooks",
    "CHROMIUM_ARGS": ".render",
    "find_chromium": ".render",
}
OWN_NAMES = {"NOTEBOOK_PARAMETERS": "PARAMETERS"}  # the name in its module, if another

__all__ = sorted(FACE)


def __getattr__(name: str):
    if name in FACE:
        value = getattr(import_module(FACE[name], __name__), OWN_NAMES.get(name, name))
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kpi_helpers.pack' has no attribute {name!r}")
