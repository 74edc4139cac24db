"""The bottom layer: what every other layer may use. No data engine, no charts.

Errors (:class:`KitError`), months (:class:`Month`), the settings of ``kpi.toml``
(:class:`Config`, :func:`load_config`), TOML reading, files (atomic writes, tree hashes,
the month lock) and the kit's version.
"""

from .config import DEFAULT_STAGE_PROBABILITY, Config, load_config
from .errors import KitError, did_you_mean
from .months import Month, month_index, month_range
from .resources import package_dir, resource_dir
from .toml import read_toml
from .version import kit_version

__all__ = [
    "DEFAULT_STAGE_PROBABILITY",
    "Config",
    "KitError",
    "Month",
    "did_you_mean",
    "kit_version",
    "load_config",
    "month_index",
    "month_range",
    "package_dir",
    "read_toml",
    "resource_dir",
]
