"""The kit's version, as the installed distribution says it.

>>> kit_version() != ""
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "kpi-helpers"  # [project] name in pyproject.toml


def kit_version() -> str:
    """The installed ``kpi-helpers`` version (``0.1.0``), or ``0+source`` when the package
    runs from a source tree that was never installed."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+source"
