"""sample-data --scale xlarge: 4 parts of large, generated and written one at a time.
Here the parts are 2 x small (CHUNKED patched), so the test stays fast; the rules are
the same: each part's ids prefixed, the rows of the parts appended, the monthly tables
added up per key."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_helpers.core import KitError
from kpi_helpers.data import sample_data
from kpi_helpers.data.sample_data import CHUNKED, generate


def test_xlarge_is_its_parts_appended_with_distinct_ids(tmp_path, monkeypatch):
    assert CHUNKED["xlarge"] == ("large", 4)
    monkeypatch.setitem(sample_data.CHUNKED, "xlarge", ("small", 2))
    rows = generate(tmp_path / "x", seed=3, scale="xlarge", months=13, end_month="2026-01")
    parts = []  # the parts alone: small samples of the parts' seeds
    for k in (1, 2):
        generate(tmp_path / f"p{k}", seed=3_000 + k, months=13, end_month="2026-01", fmt="parquet")
        parts.append({n: pd.read_parquet(tmp_path / f"p{k}" / f"{n}.parquet") for n in rows})
    read = {n: pd.read_parquet(tmp_path / "x" / f"{n}.parquet") for n in rows}
    for name in ("reps", "accounts", "opportunities", "orders", "activities"):
        assert rows[name] == len(read[name]) == sum(len(p[name]) for p in parts), name
    reps = read["reps"]["rep_id"]
    assert reps.is_unique and set(reps.str[:3]) == {"X1-", "X2-"}
    # every deal's rep and account is in the file (foreign keys resolve across parts)
    o = read["opportunities"]
    assert o["rep_id"].dropna().isin(reps).all()
    assert o["account_id"].dropna().isin(read["accounts"]["account_id"]).all()
    assert o["opportunity_id"].is_unique
    # a team's monthly target is the sum of the parts'; a rep's stays its own
    t = read["targets"]
    team = t[t["rep_id"].isna() & t["team"].notna()].iloc[0]
    expected = 0.0
    for p in parts:
        pt = p["targets"]
        hit = (
            (pt["month"] == team["month"])
            & (pt["kpi"] == team["kpi"])
            & (pt["team"] == team["team"])
            & pt["rep_id"].isna()
        )
        assert hit.sum() == 1
        expected += pt.loc[hit, "target"].iloc[0]
    assert team["target"] == pytest.approx(expected)
    assert not t.duplicated(["month", "kpi", "team", "rep_id"]).any()
    assert len(read["financials"]) == 13  # one row a month, the parts added up


def test_xlarge_has_no_messy_variant(tmp_path):
    with pytest.raises(KitError, match="--messy is for the scales small, medium, large"):
        generate(tmp_path / "x", scale="xlarge", messy=True)
