"""Files as the kit writes and fingerprints them (kpi_helpers.core.files): atomic writes,
folder swaps, the tree hash, the month lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from kpi_helpers.core import (
    KitError,
    atomic_path,
    file_sha,
    month_lock,
    parts_sha,
    replace_folder,
    restore_folder,
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


def _folder(path: Path, **files: str) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _contents(path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


def test_a_folder_is_replaced_whole_and_the_old_one_removed(tmp_path):
    new = _folder(tmp_path / ".new-data", **{"orders.csv": "new"})
    _folder(tmp_path / "data", **{"orders.csv": "old", "reps.csv": "old"})
    assert replace_folder(new, tmp_path / "data") == tmp_path / "data"
    assert _contents(tmp_path / "data") == {"orders.csv": "new"}  # no old file mixed in
    assert os.listdir(tmp_path) == ["data"]  # the new name and the parked old one: gone
    # a target that does not exist yet is simply the new folder
    replace_folder(_folder(tmp_path / ".other", **{"a.csv": "a"}), tmp_path / "fresh")
    assert _contents(tmp_path / "fresh") == {"a.csv": "a"}


def test_a_kill_between_the_two_renames_loses_nothing(tmp_path, monkeypatch):
    """The old folder is moved aside before the new one moves in: a kill in between
    leaves it parked beside the target, and the next swap (or restore_folder) puts it
    back first. Deleting it before the rename, as sample-data did, lost it."""
    new = _folder(tmp_path / ".new", **{"orders.csv": "new"})
    _folder(tmp_path / "data", **{"orders.csv": "old"})
    rename = Path.rename

    def killed_at_the_second(self, to):
        if self == new:
            raise KeyboardInterrupt  # what a kill looks like to the code: it stops here
        return rename(self, to)

    monkeypatch.setattr(Path, "rename", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        replace_folder(new, tmp_path / "data")
    monkeypatch.undo()
    assert not (tmp_path / "data").exists()
    (parked,) = tmp_path.glob(".old-data-*")
    assert _contents(parked / "data") == {"orders.csv": "old"}
    restore_folder(tmp_path / "data")
    assert _contents(tmp_path / "data") == {"orders.csv": "old"}
    assert sorted(os.listdir(tmp_path)) == [".new", "data"]


def test_restore_leaves_what_is_not_its_own(tmp_path):
    """Another folder's parked copy (``data-2``) and a user's ``.old-data-notes`` with
    other files in it are not touched; an empty parking folder is cleared."""
    _folder(tmp_path / ".old-data-2-abcd1234")
    _folder(tmp_path / ".old-data-2-abcd1234" / "data-2", **{"x.csv": "x"})
    _folder(tmp_path / ".old-data-notes", **{"mine.txt": "keep"})
    _folder(tmp_path / ".old-data-empty0000")
    _folder(tmp_path / "data", **{"orders.csv": "current"})
    _folder(tmp_path / ".old-data-zz", **{"data": "a parked old copy"})
    restore_folder(tmp_path / "data")
    assert sorted(os.listdir(tmp_path)) == [".old-data-2-abcd1234", ".old-data-notes", "data"]
    assert _contents(tmp_path / "data") == {"orders.csv": "current"}  # not overwritten


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
