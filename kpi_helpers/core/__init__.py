"""The bottom layer: what every other layer may use. No data engine, no charts.

Errors (:class:`KitError`), months (:class:`Month`) and the time zone they end in
(:func:`check_timezone`), the settings of ``kpi.toml`` (:class:`Config`,
:func:`load_config`), TOML reading, files (atomic writes, tree hashes, folder swaps, the
month lock) and the kit's version.
"""

from .config import DEFAULT_STAGE_PROBABILITY, Config, SettingsRead, load_config
from .errors import KitError, NotAvailable, did_you_mean
from .files import (
    atomic_path,
    file_sha,
    month_lock,
    parts_sha,
    replace_folder,
    restore_folder,
    tree_sha,
    write_bytes,
    write_text,
)
from .months import Month, month_index, month_range
from .periods import MONTHS_IN, PERIOD_KINDS, Calendar, Period
from .resources import package_dir, resource_dir
from .toml import read_toml
from .version import kit_version
from .zones import DEFAULT_TIMEZONE, check_timezone, now_in, today_in

__all__ = [
    "DEFAULT_TIMEZONE",
    "DEFAULT_STAGE_PROBABILITY",
    "MONTHS_IN",
    "PERIOD_KINDS",
    "Calendar",
    "Config",
    "KitError",
    "Month",
    "NotAvailable",
    "Period",
    "SettingsRead",
    "atomic_path",
    "check_timezone",
    "did_you_mean",
    "file_sha",
    "kit_version",
    "load_config",
    "month_index",
    "month_lock",
    "month_range",
    "now_in",
    "package_dir",
    "parts_sha",
    "read_toml",
    "replace_folder",
    "resource_dir",
    "restore_folder",
    "today_in",
    "tree_sha",
    "write_bytes",
    "write_text",
]
