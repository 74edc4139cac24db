"""Why it moved: the exact drivers of a KPI's change (KPI_CATALOG.md, "Why it moved"),
between the KPIs and the alerts, pages and e-mails that tell them.

>>> from kpi_helpers.drivers import additive
>>> [p.contribution for p in additive({"EMEA": (60.0, 100.0)})]
[-40.0]
"""

from .batch import explain_many
from .bridge import (
    NOT_ALLOCATED,
    REST,
    Part,
    additive,
    additive_target,
    pick,
    ratio,
    ratio_target,
)
from .explain import Explanation, explain
from .segments import DIMENSIONS
from .shape import bridge_kind, linear, ratio_of
from .words import (
    amount_text,
    driver_line,
    entry,
    moved_words,
    paragraph,
    rendered,
    segment_name,
    why_line,
)

__all__ = [
    "DIMENSIONS",
    "NOT_ALLOCATED",
    "REST",
    "Explanation",
    "Part",
    "additive",
    "additive_target",
    "amount_text",
    "bridge_kind",
    "driver_line",
    "entry",
    "explain",
    "explain_many",
    "linear",
    "moved_words",
    "paragraph",
    "pick",
    "ratio",
    "ratio_of",
    "rendered",
    "ratio_target",
    "segment_name",
    "why_line",
]
