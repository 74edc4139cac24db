"""Where the kit's own files are: the page notebooks and the templates.

In a source tree they are the top-level folders ``notebooks/`` and ``templates/`` (the
design card's layout). A wheel carries copies of them inside the package, as
``kpi_helpers/resources/notebooks`` and ``kpi_helpers/resources/templates`` (``setup.py``
copies them at build time), so an installed kit finds them without the source tree.

>>> resource_dir("templates").name
'templates'
"""

from __future__ import annotations

from pathlib import Path

from .errors import KitError

PACKAGE = Path(__file__).resolve().parents[1]  # kpi_helpers/
RESOURCES = ("notebooks", "templates")


def resource_dir(name: str) -> Path:
    """The folder ``notebooks`` or ``templates``: the package's copy in an installed
    wheel, else the source tree's top-level folder."""
    if name not in RESOURCES:
        raise KitError(f"Unknown resource folder {name!r}; the kit ships {', '.join(RESOURCES)}.")
    for folder in (PACKAGE / "resources" / name, PACKAGE.parent / name):
        if folder.is_dir():
            return folder
    raise KitError(
        f"The kit's {name}/ folder is missing (looked in {PACKAGE / 'resources'} and "
        f"{PACKAGE.parent}): reinstall kpi-helpers."
    )


def package_dir() -> Path:
    """The ``kpi_helpers`` folder itself (its code, hashed into page keys)."""
    return PACKAGE
