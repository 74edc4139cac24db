"""The report layer: what a page shows. Charts in the house style, the pages' order,
titles and headlines, the snapshot reader and ``Report``, which a notebook page uses.

Nothing imported here loads a data engine: a page that reads a snapshot never imports
Ibis. Computing live (``report.live``) is imported only when a page has no snapshot.
"""

from . import charts
from .choices import beyond_usual, mover_weights, summary_headlines
from .notebook import Report, show
from .pages import (
    HEADLINES,
    PACK_FAMILIES,
    PERIOD_FOLDER,
    PERIOD_WORDS,
    TEMPLATES,
    TITLES,
    TREND_MONTHS,
    TREND_PERIODS,
    alerts_of_scope,
    month_label,
    page_title,
    period_label,
    trend_tone,
)
from .snapshot import (
    ALERTS_FILE,
    DRIVERS_FILE,
    KPIS_FILE,
    PACING_CSV,
    PACING_FILE,
    QUARTERS_FILE,
    REPS_FILE,
    SCOPE_DRIVERS_CSV,
    SCOPE_KPIS_CSV,
    SNAPSHOT_FILE,
    SNAPSHOT_FORMAT,
    TO_DATE_FILE,
    VALIDATION_FILE,
    Snapshot,
    compact,
)

__all__ = [
    "ALERTS_FILE",
    "DRIVERS_FILE",
    "SCOPE_DRIVERS_CSV",
    "HEADLINES",
    "KPIS_FILE",
    "REPS_FILE",
    "PACING_CSV",
    "PACING_FILE",
    "QUARTERS_FILE",
    "PACK_FAMILIES",
    "SCOPE_KPIS_CSV",
    "SNAPSHOT_FILE",
    "SNAPSHOT_FORMAT",
    "TEMPLATES",
    "TITLES",
    "TO_DATE_FILE",
    "TREND_MONTHS",
    "PERIOD_FOLDER",
    "PERIOD_WORDS",
    "TREND_PERIODS",
    "VALIDATION_FILE",
    "Report",
    "Snapshot",
    "alerts_of_scope",
    "beyond_usual",
    "charts",
    "compact",
    "month_label",
    "mover_weights",
    "page_title",
    "period_label",
    "trend_tone",
    "show",
    "summary_headlines",
]
