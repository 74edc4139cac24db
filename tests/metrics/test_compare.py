"""Comparisons of a KPI's values: a value that did not move is "flat", whatever the last
bits of its sum (a database adds rows in its own order)."""

from __future__ import annotations

import pandas as pd

from kpi_helpers.catalog import get
from kpi_helpers.core import Config
from kpi_helpers.metrics import KEY, add_comparisons


def _compare(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    long = pd.DataFrame(
        [("company", "company", 5, kpi, v, b, b) for kpi, v, b in rows],
        columns=KEY + ["kpi", "value", "previous_month", "same_month_last_year"],
    )
    targets = pd.DataFrame(columns=KEY + ["kpi", "target"])
    chosen = [get(k) for k in dict.fromkeys(r[0] for r in rows)]
    return add_comparisons(long, chosen, targets, Config()).set_index("value")


def test_rounding_noise_is_no_change_and_a_real_move_still_is():
    out = _compare(
        [
            # 0.1 + 0.2 against 0.3: the same share, added in another order
            ("stale_pipeline_share", 0.1 + 0.2, 0.3),
            # revenue summed in another order: 1e-14 apart
            ("sales_revenue", 1000.0 + 1e-11, 1000.0),
            # a real move of one cent on $1,000: 0.001 %, up
            ("sales_revenue", 1000.01, 1000.0),
            # a fall of a lower-is-better KPI by 1 point: improving
            ("stale_pipeline_share", 0.2, 1.2),
        ]
    )
    noise = out.loc[[0.1 + 0.2, 1000.0 + 1e-11]]
    assert noise["mom_change"].tolist() == [0.0, 0.0]
    assert noise["yoy_change"].tolist() == [0.0, 0.0]
    assert noise["trend"].tolist() == ["flat", "flat"]
    assert out.loc[1000.01, "trend"] == "improving"
    assert abs(out.loc[1000.01, "mom_change"] - 0.001) < 1e-9
    assert out.loc[0.2, "trend"] == "improving" and abs(out.loc[0.2, "mom_change"] + 1.0) < 1e-12
