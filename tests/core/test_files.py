"""Files as the kit writes and fingerprints them (kpi_helpers.core.files): atomic writes,
the tree hash, the month lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from kpi_helpers.core import (
    KitError,
    atomic_path,
    file_sha,
    month_lock,
    parts_sha,
    tree_sha,
    write_bytes,
    write_text,
)


def test_a_writer_fills_a_temporary_file_that_replaces_the_target_at_the_end(tmp_path):
    target = tmp_path / "out" / "kpis.csv"  # the folder is created
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name != target.name
        pd.DataFrame({"kpi": ["win_rate"], "value": [36.5]}).to_csv(tmp, index=False)
        assert not target.exists()  # nothing to see until the block ends
    assert target.read_text() == "kpi,value\nwin_rate,36.5\n"
    assert os.listdir(target.parent) == ["kpis.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "kpis.csv"
    target.write_text("the old file")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert target.read_text() == "the old file"
    assert os.listdir(tmp_path) == ["kpis.csv"]


def test_text_and_bytes_and_the_usual_permissions(tmp_path):
    write_text(tmp_path / "a.csv", "x\r\ny\n", newline="")
    write_bytes(tmp_path / "b.eml", b"Subject: hi\r\n")
    write_text(tmp_path / "a.csv", "second\n")  # replaces
    assert (tmp_path / "a.csv").read_bytes() == b"second\n"
    assert (tmp_path / "b.eml").read_bytes() == b"Subject: hi\r\n"
    umask = os.umask(0)
    os.umask(umask)
    for name in ("a.csv", "b.eml"):  # as open() would make them, not mkstemp's 0600
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_the_tree_hash_keeps_its_values(tmp_path):
    """The pack's keys compare against digests written by earlier builds: the tree hash
    must give the values it gave in kpi_helpers.pack.keys (computed there, hard-coded)."""
    (tmp_path / "sub" / "__pycache__").mkdir(parents=True)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "snapshot.json").write_text('{"created_at": "now"}')
    (tmp_path / "kpis.csv").write_text("kpi,value\nwin_rate,36.5\n")
    (tmp_path / "sub" / "t.parquet").write_bytes(bytes(range(256)))
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (tmp_path / "sub" / "__pycache__" / "y.pyc").write_bytes(b"junk2")
    assert tree_sha(tmp_path) == (
        "dce6c9122f676265b828762725bfece5ed680f0234f625f5e86c6653e772d97f"
    )
    assert tree_sha(tmp_path, skip="snapshot.json") == (
        "1a1ca7a3e0b0376a96e9e04a0545394e06e59fe2d9151275e14efe812323f2fe"
    )
    files = ["kpis.csv", "snapshot.json", "sub/t.parquet"]  # sorted, no __pycache__
    assert tree_sha(tmp_path) == parts_sha(*(f"{f}:{file_sha(tmp_path / f)}" for f in files))
    (tmp_path / "sub" / "t.parquet").write_bytes(b"edited")
    assert tree_sha(tmp_path) != "dce6c9122f676265b828762725bfece5ed680f0234f625f5e86c6653e772d97f"


HOLD = """\
import sys, time
from kpi_helpers.core import month_lock
with month_lock(sys.argv[1], "2026-10"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_month_lock_holds_across_processes_and_goes_with_a_killed_holder(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(KitError, match="Another kpi-kit pack is building 2026-10"):
            with month_lock(tmp_path, "2026-10"):
                pass
        with month_lock(tmp_path, "2026-11"):  # another month is free
            pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the killed holder's lock is gone with it
        try:
            with month_lock(tmp_path, "2026-10"):
                break
        except KitError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
