"""Where the engine's time goes: seconds per measure source and per query, slowest first
(``kpi-kit compute --profile``), so the next slow measure is found in a minute. Example::

    with profiling() as prof:
        kpis.compute(ds, "2026-05", months=13, scope="all")
    print(prof.report())

A source's time is its own: a source that reads another (``Source.reads``) is not charged
for it. A query's time runs from its SQL being compiled (Ibis compiles right before it
runs) to the next query or the end of its source: the query and the pandas work on its
result. Outside :func:`profiling`, :func:`timed` costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import ibis

_ACTIVE: list[Profile] = []  # the profile being recorded, if any


@dataclass
class Profile:
    """Seconds per measure source (``sources``) and per query (``queries``: seconds,
    source, SQL), as :func:`profiling` records them."""

    sources: dict[str, float] = field(default_factory=dict)
    queries: list[tuple[float, str, str]] = field(default_factory=list)
    total: float = 0.0
    stack: list[tuple[str, float, float]] = field(default_factory=list)  # name, start, inner
    running: tuple[float, str, str] | None = None  # the query running: start, source, SQL

    def _end_query(self, now: float) -> None:
        if self.running is not None:
            start, src, sql = self.running
            self.queries.append((now - start, src, sql))
            self.running = None

    def log(self, sql: object) -> None:
        """Ibis' ``verbose_log``: a query starts."""
        now = time.perf_counter()
        self._end_query(now)
        where = self.stack[-1][0] if self.stack else "(outside the sources)"
        self.running = (now, where, " ".join(str(sql).split()))

    def report(self, top: int = 15, width: int = 110) -> str:
        """The sources and the ``top`` queries, slowest first, as text.

        >>> p = Profile({"orders": 2.0, "deals": 5.5}, [(1.5, "orders", "SELECT 1")], 8.0)
        >>> print(p.report())
        profile: 8.0 s in all, 7.5 s in 2 measure sources, 1 queries
        seconds  measure source
            5.5  deals
            2.0  orders
        seconds  query (source: SQL)
            1.5  orders: SELECT 1
        """
        lines = [
            f"profile: {self.total:.1f} s in all, {sum(self.sources.values()):.1f} s in "
            f"{len(self.sources)} measure sources, {len(self.queries)} queries",
            "seconds  measure source",
        ]
        for name, sec in sorted(self.sources.items(), key=lambda kv: -kv[1]):
            lines.append(f"{sec:7.1f}  {name}")
        lines.append("seconds  query (source: SQL)")
        for sec, src, sql in sorted(self.queries, key=lambda q: -q[0])[:top]:
            text = f"{src}: {sql}"
            lines.append(f"{sec:7.1f}  {text[: width - 3] + '...' if len(text) > width else text}")
        return "\n".join(lines)


@contextmanager
def profiling() -> Iterator[Profile]:
    """Record where the time of the engine's work inside the block goes (see the module's
    docstring); Ibis' verbose logging is restored afterwards."""
    prof = Profile()
    verbose, log = ibis.options.verbose, ibis.options.verbose_log
    ibis.options.verbose, ibis.options.verbose_log = True, prof.log
    _ACTIVE.append(prof)
    started = time.perf_counter()
    try:
        yield prof
    finally:
        now = time.perf_counter()
        prof._end_query(now)
        prof.total = now - started
        _ACTIVE.remove(prof)
        ibis.options.verbose, ibis.options.verbose_log = verbose, log


@contextmanager
def timed(source: str) -> Iterator[None]:
    """Charge the time of the block to the measure source ``source`` (nothing when no
    profile is being recorded): ``with timed(src.name): df = src.run(ms, types)``."""
    if not _ACTIVE:
        yield
        return
    prof = _ACTIVE[-1]
    now = time.perf_counter()
    prof._end_query(now)
    prof.stack.append((source, now, 0.0))
    try:
        yield
    finally:
        end = time.perf_counter()
        prof._end_query(end)
        name, start, inner = prof.stack.pop()
        spent = end - start
        prof.sources[name] = prof.sources.get(name, 0.0) + spent - inner
        if prof.stack:
            parent, p_start, p_inner = prof.stack[-1]
            prof.stack[-1] = (parent, p_start, p_inner + spent)
