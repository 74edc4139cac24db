"""The models layer: KPIs that come from fitted models, not formulas. ETS forecasts of
the headline series, the pipeline-weighted forecast of next month's bookings, and
predictive CLV (BG/NBD + Gamma-Gamma); :mod:`.outlook` joins them into catalog rows.
"""

from . import clv_models
from .clv import ClvResult, fit_clv, format_summary, horizons, purchases, rfm, write_result
from .forecast import (
    COLUMNS,
    default_jobs,
    fit_jobs,
    forecast_kpi,
    forecast_many,
    forecast_series,
    histories,
    prepare_history,
)
from .outlook import MODEL_TABLES, model_rows, model_table
from .period_forecast import period_forecast, period_total
from .pipeline_forecast import pipeline_forecast

__all__ = [
    "COLUMNS",
    "MODEL_TABLES",
    "ClvResult",
    "clv_models",
    "default_jobs",
    "fit_jobs",
    "fit_clv",
    "forecast_kpi",
    "forecast_many",
    "period_forecast",
    "period_total",
    "forecast_series",
    "format_summary",
    "histories",
    "horizons",
    "model_rows",
    "model_table",
    "pipeline_forecast",
    "prepare_history",
    "purchases",
    "rfm",
    "write_result",
]
