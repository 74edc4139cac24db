"""Where the explorer's numbers come from: a pack's snapshot (the latest under
``reports/`` unless named), or a snapshot computed live from a source, once per
(source, mapping, config, month) in this Python process.

Example::

    ex = open_explorer(pack="reports/2026-11")          # the pack's numbers
    ex = open_explorer(source="data/sample", month="latest")   # live, cached
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from kpi_helpers.core import KitError, load_config
from kpi_helpers.metrics import active_keys, pack_scopes
from kpi_helpers.pack.freeze import scope_and_rep_rows, write_reps
from kpi_helpers.report import KPIS_FILE, SNAPSHOT_FILE, SNAPSHOT_FORMAT, Snapshot
from kpi_helpers.report.live import LiveData

from .lab import latest_pack
from .numbers import Numbers
from .widgets import Explorer

LIVE: dict[tuple[str, str, str, str], Snapshot] = {}  # live snapshots of this process


def pack_snapshot(pack: str | Path) -> Snapshot:
    """The snapshot of a pack folder (``reports/2026-11``) or of its ``data/`` folder."""
    folder = Path(pack)
    if not folder.exists():
        raise KitError(f"{folder}: no such pack folder; build it with `kpi-kit pack`.")
    return Snapshot(folder / "data" if (folder / "data").is_dir() else folder)


def live_snapshot(source: str, mapping: str = "", config: str = "", month: str = "latest"):
    """A snapshot of every scope (the company, each team, each rep with data) computed
    from ``source`` into a temporary folder; computed once per (source, mapping, config,
    month) in this process. It has no table KPIs (no forecast band)."""
    key = (str(source), str(mapping), str(config), str(month))
    if key in LIVE:
        return LIVE[key]
    live = LiveData(source, mapping, load_config(config or None), month)
    scopes, optional = pack_scopes(live.ds)
    kpis, rep_rows = scope_and_rep_rows(live, scopes)
    active = set(active_keys(kpis))
    quiet = [s for s in scopes if s != "company" and s not in active]
    scopes = [s for s in scopes if not (s in optional and s in quiet)]
    out = Path(tempfile.mkdtemp(prefix="kpi-explore-")) / "data"
    out.mkdir()
    kpis[kpis["key"].isin(scopes)].reset_index(drop=True).to_parquet(out / KPIS_FILE)
    meta = dict(
        format=SNAPSHOT_FORMAT,
        month=live.month,
        source=live.ds.description,
        timezone=live.ds.timezone,
        scopes={s: s for s in scopes},
        quiet_scopes=[s for s in quiet if s in scopes],
        tables={},
        reps=write_reps(live, out, rep_rows),
    )
    (out / SNAPSHOT_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    LIVE[key] = LIVE[(*key[:3], live.month)] = Snapshot(out)
    return LIVE[key]


def open_numbers(
    pack: str | Path = "",
    source: str = "",
    mapping: str = "",
    config: str = "",
    month: str = "latest",
) -> Numbers:
    """The explorer's numbers: computed live from ``source`` when set, else the
    snapshot of ``pack`` (default: :func:`latest_pack`)."""
    if source:
        snap = live_snapshot(source, mapping, config, month)
    else:
        snap = pack_snapshot(pack or latest_pack())
    return Numbers(snap, load_config(config or None))


def open_explorer(
    pack: str | Path = "",
    source: str = "",
    mapping: str = "",
    config: str = "",
    month: str = "latest",
    scope: str = "company",
) -> Explorer:
    """The explorer on :func:`open_numbers`'s numbers, showing ``scope``; in a
    notebook, display it by leaving it as a cell's last line."""
    return Explorer(open_numbers(pack, source, mapping, config, month), scope=scope)
