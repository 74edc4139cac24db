"""The bottom layer: what every other layer may use. No data engine, no charts.

Errors (:class:`KitError`), months (:class:`Month`), the settings of ``kpi.toml``
(:class:`Config`, :func:`load_config`), TOML reading, files (atomic writes, tree hashes,
the month lock) and the kit's version.
"""

from .config import DEFAULT_STAGE_PROBABILITY, Config, load_config
from .errors import KitError, NotAvailable, did_you_mean
from .files import (
    atomic_path,
    file_sha,
    month_lock,
    parts_sha,
    tree_sha,
    write_bytes,
    write_text,
)
from .months import Month, month_index, month_range
from .resources import package_dir, resource_dir
from .toml import read_toml
from .version import kit_version

__all__ = [
    "DEFAULT_STAGE_PROBABILITY",
    "Config",
    "KitError",
    "Month",
    "NotAvailable",
    "atomic_path",
    "did_you_mean",
    "file_sha",
    "kit_version",
    "load_config",
    "month_index",
    "month_lock",
    "month_range",
    "package_dir",
    "parts_sha",
    "read_toml",
    "resource_dir",
    "tree_sha",
    "write_bytes",
    "write_text",
]
