"""Reading the kit's TOML files (kpi.toml, mapping files, recipients files) with one
readable message for a missing or malformed file.

>>> read_toml("no-such.toml", "Mapping file")
Traceback (most recent call last):
...
kpi_helpers.core.errors.KitError: Mapping file no-such.toml does not exist.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import KitError


def read_toml(path: str | Path, kind: str) -> dict:
    """The parsed file; ``kind`` names it in the message ("Mapping file", ...)."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(f"{kind} {path} does not exist.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KitError(f"{kind} {path} is not valid TOML: {exc}.") from None
