"""One BLAS thread while a small model is fitted.

numpy and scipy ship OpenBLAS, which starts a thread per core for every operation it
splits. An ETS fit is thousands of operations on vectors of a few dozen values: there
the threads only wait for each other, and on a machine whose cores are busy (DuckDB's
threads, other jobs) a fit took 4 to 7 times longer (the sample's 24 forecasts: 48.5 s
-> 9.0 s, 16.7 -> 5.7 s of CPU, the same values to the last bit). :func:`one_blas_thread`
sets every OpenBLAS loaded in the process to one thread for a block and restores it
after, through OpenBLAS' own ``openblas_set_num_threads`` (as threadpoolctl does); where
none is found (another BLAS, another system) it changes nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# OpenBLAS' thread functions, as numpy's and scipy's wheels rename them (prefix, suffix)
_NAMES = [
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
]


def _loaded_openblas() -> list[tuple[ctypes._CFuncPtr, ctypes._CFuncPtr]]:
    """(get, set) of each OpenBLAS library the process has loaded (Linux: /proc/self/maps)."""
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1].lower()}
    found = []
    for path in sorted(p for p in paths if p.startswith("/") and ".so" in p):
        try:
            lib = ctypes.CDLL(path)  # already loaded: the same library
        except OSError:
            continue
        for get, set_ in _NAMES:
            if hasattr(lib, get) and hasattr(lib, set_):
                found.append((getattr(lib, get), getattr(lib, set_)))
                break
    return found


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one OpenBLAS thread (every OpenBLAS of the process), then give
    each back the threads it had. Example::

        with one_blas_thread():
            fit = best_ets(y, first, 3, {})
    """
    libs = _loaded_openblas()
    before = [int(get()) for get, _ in libs]
    for _, set_ in libs:
        set_(1)
    try:
        yield
    finally:
        for (_, set_), n in zip(libs, before, strict=True):
            set_(n)
