"""The data layer: the canonical tables of the data contract, where they come from
(CSV/Parquet folders, Excel, DuckDB, PostgreSQL, Spark, through a mapping), whether
they hold what the contract asks (validation), and which months they cover. Also the
sample data generator and ``kpi-kit init`` for CRM exports.

>>> ds = open_dataset("data/sample")  # doctest: +SKIP
>>> validate(ds)                       # doctest: +SKIP
"""

from .backends import keep_table, spill_to
from .casting import cast_to_contract, typed, wall_time
from .contract import (
    CLOSED_STAGES,
    FIRST_EVENTS,
    FOREIGN_KEYS,
    OPTIONAL_TABLES,
    PAST_EVENTS,
    STAGE_HISTORY,
    TABLES,
    UNASSIGNED_TEAM,
    Column,
    Table,
    families_using,
)
from .coverage import (
    check_month,
    data_months,
    data_through,
    ends_early,
    first_event,
    month_asked,
    period_with_data,
    start_reason,
)
from .dates import date_format_fits
from .expressions import column_names, evaluate
from .findings import CHECK_ORDER, ERROR, FINDING_COLUMNS, WARNING, Finding, sort_findings
from .init import init
from .mapping import Mapping, TableMapping, apply_mapping, load_mapping
from .sources import (
    Dataset,
    from_backend,
    open_dataset,
    password_warning,
    redact,
)
from .targets import check_unique_targets, target_scopes
from .validate import exit_code, format_report, validate

__all__ = [
    "CHECK_ORDER",
    "CLOSED_STAGES",
    "ERROR",
    "FINDING_COLUMNS",
    "FIRST_EVENTS",
    "FOREIGN_KEYS",
    "OPTIONAL_TABLES",
    "PAST_EVENTS",
    "STAGE_HISTORY",
    "TABLES",
    "UNASSIGNED_TEAM",
    "WARNING",
    "Column",
    "Dataset",
    "Finding",
    "Mapping",
    "Table",
    "TableMapping",
    "apply_mapping",
    "cast_to_contract",
    "check_unique_targets",
    "check_month",
    "column_names",
    "data_months",
    "data_through",
    "date_format_fits",
    "ends_early",
    "evaluate",
    "exit_code",
    "families_using",
    "first_event",
    "format_report",
    "from_backend",
    "init",
    "keep_table",
    "load_mapping",
    "month_asked",
    "period_with_data",
    "open_dataset",
    "password_warning",
    "redact",
    "sort_findings",
    "spill_to",
    "target_scopes",
    "start_reason",
    "typed",
    "validate",
    "wall_time",
]
