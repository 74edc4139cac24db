"""Time and peak memory of the predictive CLV fit (``kpi-kit clv``) on about 23,000 customers.

The orders are simulated with numpy from BG/NBD + Gamma-Gamma at the published CDNOW
parameters (``kpi_helpers.models.clv_models.simulate``): first purchases spread over Jan..Mar
2025, purchases to 2025-12-31, one order line per purchase, written as Parquet. Then:

- ``fit_clv``: the whole command's work (open the folder, the account-day query, both fits,
  P(alive) and the 12 monthly expectations per account), twice, each from a fresh dataset;
- ``models``: the two maximum-likelihood fits alone, on the same per-account summary.

    .venv/bin/python benchmarks/bench_clv.py [CUSTOMERS]

Peak memory is the process's maximum resident set size (``getrusage``; the same figure as
``/usr/bin/time -v``), imports and the simulation included.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_helpers.core import Month
from kpi_helpers.data import open_dataset
from kpi_helpers.models import clv_models as models
from kpi_helpers.models import fit_clv, purchases, rfm

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
MONTH = "2025-12"


def simulated_orders(customers: int, seed: int = 7) -> pd.DataFrame:
    """One order line per simulated purchase (see the module docstring)."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 90, customers), "D")
    weeks = (pd.Timestamp("2025-12-31") - first).days.to_numpy() / 7
    sim = models.simulate(customers, BGNBD, GAMMA_GAMMA, weeks, seed=seed)
    day = first[sim["customer"]] + pd.to_timedelta(np.floor(sim["week"] * 7), "D")
    return pd.DataFrame(
        {
            "order_id": np.char.add("o", np.arange(len(sim)).astype(str)),
            "ordered_at": day.to_numpy(),
            "account_id": np.char.add("A", sim["customer"].to_numpy().astype(str)),
            "revenue": sim["spend"].round(2).clip(lower=0.01).to_numpy(),
        }
    )


def main(customers: int = 23_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        orders = simulated_orders(customers)
        orders.to_parquet(folder / "orders.parquet", index=False)
        print(f"{customers:,} customers, {len(orders):,} order lines (simulated)")

        whole = []
        for _ in range(2):  # the first call also pays for lazy imports and DuckDB start-up
            started = time.perf_counter()
            res = fit_clv(open_dataset(folder), MONTH)
            whole.append(time.perf_counter() - started)

        summary = rfm(purchases(open_dataset(folder), Month.parse(MONTH)), Month.parse(MONTH))
        x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
        started = time.perf_counter()
        models.fit_bgnbd(x, t_x, T)
        bg = time.perf_counter() - started
        started = time.perf_counter()
        models.fit_gamma_gamma(x, summary["monetary"].to_numpy(dtype=float))
        gg = time.perf_counter() - started

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fitted = ", ".join(f"{k} = {v:.3f}" for k, v in {**res.bgnbd, **res.gamma_gamma}.items())
    print(f"fitted ({res.customers:,} customers, {res.repeat_customers:,} repeat): {fitted}")
    print(f"converged: {res.converged}; notes: {res.notes or 'none'}")
    print(
        f"fit_clv (open + query + fits + 12-month values): first call {whole[0]:.2f} s, "
        f"second {whole[1]:.2f} s"
    )
    print(f"models alone: BG/NBD {bg:.2f} s, Gamma-Gamma {gg:.2f} s")
    print(f"peak memory (max RSS): {peak:,.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 23_000)
