"""The metrics layer: scopes, the measures every formula KPI is built from, and the
engine that computes the catalog for every scope and month in grouped queries (Ibis:
DuckDB, PostgreSQL or Spark), with comparisons (MoM, YoY, target, RAG) and table KPIs.

>>> Scope.parse("team:EMEA").single
True
"""

from .compare import add_comparisons, rag_status, relative_change
from .customers import active_spells, first_purchase, merge_spells
from .deals import deal_probability
from .engine import Engine, families_out_of_reach
from .measures import KEY, Measures, describe_missing, missing_inputs, month_of, open_at_end
from .profile import Profile, profiling
from .scopes import (
    COMPANY,
    REP_COLUMNS,
    SCOPE_TYPES,
    Scope,
    active_keys,
    check_known,
    check_scope,
    has_activity,
    has_rep_rows,
    known_names,
    one_scope,
    pack_scopes,
    parse_scopes,
    quiet_line,
    quiet_reason,
    rep_teams,
    selects,
    team_of,
    wanted_rows,
)
from .segments import CROSS, JOIN, MISSING, NO_VALUE, SEP, Segment
from .small_tables import employed_in, targets
from .stages import has_stage_history, stage_at, stage_history
from .subscriptions import MRR_MOVEMENTS, mrr_movement
from .tables import compute_table, table_context
from .tidy import TIDY_COLUMNS, compute_tidy, period_targets, read_measures
from .to_date import TO_DATE_COLUMNS, to_date_figures, to_date_kpis

__all__ = [
    "REP_COLUMNS",
    "Profile",
    "profiling",
    "COMPANY",
    "CROSS",
    "JOIN",
    "MISSING",
    "NO_VALUE",
    "SEP",
    "Segment",
    "KEY",
    "MRR_MOVEMENTS",
    "SCOPE_TYPES",
    "TIDY_COLUMNS",
    "TO_DATE_COLUMNS",
    "Engine",
    "Measures",
    "Scope",
    "active_spells",
    "add_comparisons",
    "check_known",
    "check_scope",
    "compute_table",
    "compute_tidy",
    "period_targets",
    "deal_probability",
    "table_context",
    "to_date_figures",
    "to_date_kpis",
    "describe_missing",
    "employed_in",
    "families_out_of_reach",
    "first_purchase",
    "active_keys",
    "has_activity",
    "has_rep_rows",
    "has_stage_history",
    "known_names",
    "merge_spells",
    "missing_inputs",
    "month_of",
    "mrr_movement",
    "one_scope",
    "pack_scopes",
    "open_at_end",
    "parse_scopes",
    "quiet_line",
    "quiet_reason",
    "rag_status",
    "read_measures",
    "relative_change",
    "rep_teams",
    "selects",
    "stage_at",
    "stage_history",
    "targets",
    "team_of",
    "wanted_rows",
]
