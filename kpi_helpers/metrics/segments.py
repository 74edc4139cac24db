"""Measure rows split by the segments of one or more dimensions (product, industry,
lead source, a custom column...), for the drivers of a change (``kpi_helpers.drivers``):
the engine's sources attribute rows to reps and teams (``Measures.by_rep``), and with a
:class:`Segment` set, every attributed row also carries its segment, so one definition of
each measure runs per segment on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from kpi_helpers.data import Dataset, keep_table

SEP = "\u241f"  # between a scope and its segment in a segmented measure row
CROSS = " × "  # between the values of two dimensions, as people read a cross
JOIN = "\u241e"  # between the values of the dimensions of a segmented measure row
NO_VALUE = "(none)"  # the segment of an empty value
MISSING = "\u2400missing"  # the segment of rows that do not carry the dimension's column


@dataclass(frozen=True)
class Segment:
    """The dimensions measure rows are split by (:meth:`Measures.segmented`), each part
    ``(table, column, key)``: ``("", "product", "")`` the row's own column,
    ``("accounts", "industry", "account_id")`` a column of another table reached by
    ``key``, ``("scope", "_team", "")`` the row's team."""

    parts: tuple[tuple[str, str, str], ...]
    only: tuple[str, str] | None = None  # ("_rep", "R1"): the rows of one rep only


def lookup(ds: Dataset, table: str, key: str, columns: tuple[str, ...]) -> ibis.Table:
    """Per ``key`` of ``table`` (not null) the least value of each of ``columns``, as
    ``_k``, ``_v0``, ``_v1``, ...: what a row reaching ``table`` by ``key`` is split by.
    Computed once per dataset and kept in its backend (``data.keep_table``), for every
    split query that reads it.

    Example: ``lookup(ds, "accounts", "account_id", ("industry", "region"))``."""
    name = ("facts", "segment lookup", table, key, columns)
    if name not in ds.cache:
        h = ds.table(table)
        h = h.filter(h[key].notnull())
        firsts = {f"_v{j}": h[c].min() for j, c in enumerate(columns)}
        ds.cache[name] = keep_table(ds, h.group_by(_k=h[key]).aggregate(**firsts))
    return ds.cache[name]


def split(ds: Dataset, segment: Segment, t: ibis.Table) -> ibis.Table:
    """``t`` (with ``_rep``/``_team``) split by :attr:`segment`, when set: ``_team``
    becomes "team SEP value" and ``_rep`` the value, so the team rows of the measures
    are (team, segment) pairs and the rep rows the segments (the drivers of a
    change). A dimension's column that ``t`` cannot reach gives the value
    ``MISSING``."""
    if segment.only is not None:
        col, name = segment.only
        t = t.filter(t[col] == name)
    # one join per other table and key, for every dimension read through it (an
    # account's industry, segment and region at once)
    through: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for i, (table, column, key) in enumerate(segment.parts):
        if table not in ("", "scope") and key in t.columns and ds.has(table, key, column):
            through.setdefault((table, key), []).append((i, column))
    for n, ((table, key), columns) in enumerate(through.items()):
        names = tuple(sorted({column for _, column in columns}))
        g = lookup(ds, table, key, names)
        g = g.select(
            **{f"_d{n}k": g._k}, **{f"_d{i}v": g[f"_v{names.index(c)}"] for i, c in columns}
        )
        t = t.left_join(g, t[key] == g[f"_d{n}k"]).drop(f"_d{n}k")
    values = []
    for i, (table, column, _key) in enumerate(segment.parts):
        if table == "scope":
            values.append(t[column])
            continue
        if not table:
            v = t[column] if column in t.columns else None
        else:
            v = t[f"_d{i}v"] if f"_d{i}v" in t.columns else None
        if v is None:
            values.append(ibis.literal(MISSING))
        else:
            v = v.cast("string")
            values.append(ibis.ifelse(v.isnull() | (v.strip() == ""), NO_VALUE, v))
    value = values[0]
    for v in values[1:]:
        value = value + JOIN + v
    t = t.mutate(_team=t._team + SEP + value, _rep=value)
    return t.drop(*[c for c in t.columns if c.startswith("_d") and c[2:-1].isdigit()])
