"""The engine's long frame: KPI x row x slot arrays (value, the slot before, the year
before) turned into one row per kept (slot, scope, KPI) with its status and reason, in
the final order (slot, scope type, scope, KPI); rep rows only for reps in use.

Example (``Engine.values`` calls it)::

    long_frame(engine, scalars, grid, (value, before, year_before), no_values, no_target,
               months, months, 1)
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from kpi_helpers.catalog import KPI
from kpi_helpers.core import Month
from kpi_helpers.data import Dataset, start_reason

from .small_tables import employed_in


class Starts(Protocol):
    """What :func:`long_frame` asks the engine (``metrics.Engine``): where each KPI's and
    measure's data starts, and why a KPI is not available for a scope type."""

    ds: Dataset

    def start(self, kpi: KPI) -> tuple[Month, str]: ...

    def measure_start(self, measure: str) -> tuple[Month, str | None]: ...

    def reason(self, kpi: KPI, scope_type: str) -> str | None: ...


def long_frame(
    engine: Starts,
    scalars: list[KPI],
    grid: pd.MultiIndex,
    values: tuple[np.ndarray, np.ndarray, np.ndarray],
    no_values: np.ndarray,
    no_target: np.ndarray,
    slots: np.ndarray,
    slot_first: np.ndarray,
    months_per_slot: int,
    slot_last: np.ndarray | None = None,
) -> pd.DataFrame:
    """The long frame of ``Engine.values`` from the KPI x row x slot ``values`` (value,
    previous, year before); ``slots``: the kept slots (months, or periods), each
    starting with the month ``slot_first`` (and ending with ``slot_last``: the month
    whose employed reps are shown); a slot before a KPI's data start is not
    available."""
    value, before, year_before = values
    shape = value.shape
    row_types = grid.get_level_values("scope_type").to_numpy(dtype=object)
    row_scopes = grid.get_level_values("scope").to_numpy(dtype=object)
    begins = [engine.start(k) for k in scalars]  # (month, reason) per KPI
    reason = np.empty((len(scalars), len(row_types)), dtype=object)
    no_values_reason = np.empty((len(scalars), 1, 1), dtype=object)
    for i, kpi in enumerate(scalars):
        reasons = {st: engine.reason(kpi, st) for st in set(row_types)}
        reason[i] = [reasons[st] for st in row_types]
        if kpi.no_input is not None:
            no_values_reason[i] = kpi.no_input[1]
    no_input = np.broadcast_to(pd.notna(reason)[:, :, None], shape)
    lo = np.array([b[0].index for b in begins], dtype="int64").reshape(-1, 1)  # KPI x 1
    early = np.broadcast_to((slot_first[None, :] < lo)[:, None, :], shape)  # before start
    no_values = no_values & ~no_input & ~early
    na = no_input | early | no_values  # not available
    # months a formula reads (lags) that lie before a measure's data starts: an
    # undefined value there says so instead of "an input has no value"
    reads_early = np.full((len(scalars), len(slots)), None, dtype=object)  # KPI x slot
    for i, kpi in enumerate(scalars):
        starts_of = {n: engine.measure_start(n) for n in kpi.lags}
        for name in sorted(kpi.lags, key=lambda n: -starts_of[n][0].index):  # latest first
            start, event = starts_of[name]
            back = kpi.lags[name] * months_per_slot
            hit = (slot_first - back < start.index) & pd.isna(reads_early[i])
            reads_early[i, hit] = f"it reads months {start_reason(event, start)}"
    short = np.broadcast_to(pd.notna(reads_early)[:, None, :], shape)
    for arr in (value, before, year_before):
        arr[na] = np.nan
    undefined = ~na & np.isnan(value)
    # (slot, row) pairs kept: every company and team row; rep rows of reps in use
    shown = slots if slot_last is None else slot_last
    keep = reps_in_use(engine.ds, row_types, row_scopes, shown, value)
    # final order: slot, then row (grid order = scope type, scope), then KPI
    kept = keep.T  # slot x row

    def flat(a: np.ndarray) -> np.ndarray:
        """KPI x row x slot values of the kept (slot, row) pairs, in the final order."""
        return np.moveaxis(a, 0, -1).transpose(1, 0, 2)[kept].ravel()

    j_idx, r_idx = np.nonzero(kept)
    n_k = len(scalars)
    pick_r = np.repeat(r_idx, n_k)
    pick_j = np.repeat(j_idx, n_k)
    pick_k = np.tile(np.arange(n_k), len(r_idx))
    reason_out = flat(np.broadcast_to(reason[:, :, None], shape))
    why_early = np.array([b[1] for b in begins], dtype=object).reshape(-1)
    before_out = flat(np.broadcast_to(why_early[:, None, None], shape))
    pick = flat(early & ~no_input)
    reason_out[pick] = before_out[pick]
    gaps = flat(no_values)
    reason_out[gaps] = flat(np.broadcast_to(no_values_reason, shape))[gaps]
    status = np.where(flat(na), "not_available", np.where(flat(undefined), "undefined", "ok"))
    und = status == "undefined"
    reason_out[und] = np.select(
        [flat(no_target)[und], flat(short)[und]],
        [
            "no monthly_sales_bookings target for this scope in m",
            flat(np.broadcast_to(reads_early[:, None, :], shape))[und],
        ],
        "a denominator is 0 or an input has no value in m",
    )
    kpi_ids = np.array([k.id for k in scalars], dtype=object)
    return pd.DataFrame(
        {
            "scope_type": pd.Series(row_types[pick_r], dtype="str"),
            "scope": pd.Series(row_scopes[pick_r], dtype="str"),
            "mi": slots[pick_j].astype("int64"),
            "value": flat(value),
            "previous_month": flat(before),
            "same_month_last_year": flat(year_before),
            "kpi": pd.Series(kpi_ids[pick_k], dtype="str"),
            "reason": pd.Series(reason_out, dtype=object),
            "status": pd.Series(status, dtype="str"),
        }
    )


def reps_in_use(
    ds: Dataset,
    row_types: np.ndarray,
    row_scopes: np.ndarray,
    months: np.ndarray,
    value: np.ndarray,
) -> np.ndarray:
    """Which (row, month) pairs to show: (rows x months) booleans, True for company and
    team rows and for reps employed in the month (:func:`employed_in`) or with any
    non-zero value in it (``value``: KPI x row x month, NaN = no value).

    Example: a rep who left in March with no deals after keeps Jan..Mar only."""
    keep = np.ones((len(row_types), len(months)), dtype=bool)
    reps = row_types == "rep"
    if not reps.any() or not ds.has("reps", "rep_id"):
        return keep
    r = ds.frame("reps")
    busy = (np.nan_to_num(value[:, reps, :], nan=0.0) != 0).any(axis=0)
    names = row_scopes[reps]
    for j, mi in enumerate(months):
        # a set, not np.isin: that sorts Python strings, 100x slower for 3,000 reps
        employed = set(r.loc[employed_in(r, Month(int(mi))), "rep_id"].dropna())
        keep[reps, j] = busy[:, j] | np.fromiter((n in employed for n in names), bool, len(names))
    return keep
