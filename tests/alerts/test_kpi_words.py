"""A rule naming a KPI by a common word is told the headline KPI first: `kpi = "bookings"`
suggests monthly_sales_bookings, not only bookings_forecast. One hint serves every door
that takes a KPI id (kpi.toml's [[alerts]], --kpi, Python)."""

from __future__ import annotations

import pytest

from kpi_helpers.alerts import rules_of
from kpi_helpers.catalog import get, kpi_suggestions
from kpi_helpers.core import KitError, load_config


@pytest.mark.parametrize(
    "word, first",
    [
        ("bookings", "monthly_sales_bookings"),
        ("revenue", "sales_revenue"),
        ("pipeline", "pipeline_value"),
        ("churn", "churn_rate"),
        ("quota", "sales_target_attainment"),
        ("Bookings", "monthly_sales_bookings"),
    ],
)
def test_a_common_word_suggests_its_headline_kpi_first(tmp_path, word, first):
    path = tmp_path / "kpi.toml"
    path.write_text(f'[[alerts]]\nkpi = "{word}"\nbelow = 1\n')
    with pytest.raises(KitError) as err:
        rules_of(load_config(path))
    assert f"kpi {word!r} is not a KPI (did you mean {first}" in str(err.value)
    with pytest.raises(KitError, match=rf"Unknown KPI '{word}' \(did you mean {first}"):
        get(word)


def test_bookings_then_its_forecast_and_a_typo_its_spelling():
    assert kpi_suggestions("bookings") == ["monthly_sales_bookings", "bookings_forecast"]
    assert kpi_suggestions("win_rte") == ["win_rate"]
    assert kpi_suggestions("zzz") == []
