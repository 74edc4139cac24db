"""Files as the kit writes and fingerprints them: atomic writes, content hashes, the
month lock.

* :func:`atomic_path` (and :func:`write_text`, :func:`write_bytes`): a file appears
  whole or not at all. The writer fills a temporary file beside the target; when it is
  done the file is flushed to disk and renamed onto the target (``os.replace``, atomic
  on one file system), so a reader never sees half a file and a crash leaves the old one.
* :func:`file_sha`, :func:`tree_sha`, :func:`parts_sha`: SHA-256 fingerprints of a file,
  of a folder (names and bytes) and of a few strings; the pack's keys and digests.
* :func:`replace_folder` (and :func:`restore_folder`): a folder replaced whole or not at
  all, the old one removed last; a kill between the two renames is undone by the next run.
* :func:`month_lock`: one build of a month at a time (``filelock``: ``flock`` on POSIX,
  the Windows API on Windows).

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_text(folder / "kpis.csv", "kpi,value\\n")
>>> (folder / "kpis.csv").read_text()
'kpi,value\\n'
>>> tree_sha(folder) == tree_sha(folder)
True
"""

from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import KitError

__all__ = [
    "atomic_path",
    "file_sha",
    "month_lock",
    "parts_sha",
    "replace_folder",
    "restore_folder",
    "tree_sha",
    "write_bytes",
    "write_text",
]

TEMP_SUFFIX = ".part"  # a temporary file of atomic_path: ".<name>.<random>.part"
OLD_PREFIX = ".old-"  # replace_folder parks the old folder in ".old-<name>-<random>/<name>"


def _new_temp(target: Path, mode: int = 0o666) -> Path:
    """An empty new file beside ``target``, created with ``mode`` less the umask: by
    default what a plain ``open(target, "w")`` gives; 0o600 for a private file."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        except FileExistsError:
            continue
        return temp


def _fsync(path: Path, folder: bool = False) -> None:
    """Flush ``path`` to disk; a folder (the rename in it) where the platform allows."""
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if folder else 0))
    except OSError:
        if folder:
            return  # Windows cannot open a folder: its renames are durable enough
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not folder:  # some file systems cannot sync a folder; a file must be synced
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: str | Path, mode: int = 0o666) -> Iterator[Path]:
    """A temporary path beside ``target`` for a writer that wants a file name; when the
    block ends, the file written there is synced to disk and renamed onto ``target``.
    If the block raises, the temporary file is removed and ``target`` is left as it was.
    The target's folder is created when missing; the file gets ``mode`` less the umask
    (0o600: readable by its owner only).

    >>> import tempfile, pandas as pd
    >>> out = Path(tempfile.mkdtemp()) / "kpis.csv"
    >>> with atomic_path(out) as tmp:
    ...     pd.DataFrame({"kpi": ["win_rate"]}).to_csv(tmp, index=False)
    >>> out.read_text()
    'kpi\\nwin_rate\\n'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = _new_temp(target, mode)
    try:
        yield temp
        _fsync(temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)  # after os.replace the name is gone: a no-op
    _fsync(target.parent, folder=True)


def write_text(
    target: str | Path, text: str, encoding: str = "utf-8", newline: str | None = None
) -> None:
    """Write ``text`` to ``target`` atomically (see :func:`atomic_path`).

    >>> import tempfile
    >>> write_text(Path(tempfile.mkdtemp()) / "a" / "note.txt", "hello")
    """
    with atomic_path(target) as temp, open(temp, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)


def write_bytes(target: str | Path, data: bytes, mode: int = 0o666) -> None:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`), with ``mode``
    less the umask.

    >>> import stat, tempfile
    >>> eml = Path(tempfile.mkdtemp()) / "message.eml"
    >>> write_bytes(eml, b"Subject: hi", mode=0o600)
    >>> oct(stat.S_IMODE(eml.stat().st_mode))
    '0o600'
    """
    with atomic_path(target, mode) as temp:
        temp.write_bytes(data)


# ------------------------------------------------------------------ folders


def replace_folder(new: str | Path, target: str | Path) -> Path:
    """Put the finished folder ``new`` in the place of ``target`` with two renames: the
    old ``target`` (if any) into ``.old-<name>-<random>/`` beside it, then ``new`` onto
    ``target``; the old copy is removed last. ``new`` must be on the same file system as
    ``target`` (write it beside it). A reader sees the old folder or the new one, never a
    mix; a kill between the two renames leaves the old one parked, and
    :func:`restore_folder` (which this calls first) puts it back. Returns ``target``.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "data").mkdir(); _ = (root / "data" / "old.csv").write_text("old")
    >>> (root / ".new").mkdir(); _ = (root / ".new" / "new.csv").write_text("new")
    >>> sorted(p.name for p in replace_folder(root / ".new", root / "data").iterdir())
    ['new.csv']
    >>> sorted(p.name for p in root.iterdir())
    ['data']
    """
    new, target = Path(new), Path(target)
    restore_folder(target)
    old = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{target.name}-", dir=target.parent))
        target.rename(old / target.name)
    new.rename(target)
    _fsync(target.parent, folder=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)  # a leftover is harmless
    return target


def restore_folder(target: str | Path) -> None:
    """Undo what a killed :func:`replace_folder` of ``target`` left beside it: an old
    folder caught between the two renames is put back when ``target`` is missing, and
    the parked old copies are removed. Nothing there: nothing done.

    >>> restore_folder(Path("no-such-folder"))
    """
    target = Path(target)
    pattern = f"{glob.escape(OLD_PREFIX + target.name)}-*"
    for old in sorted(target.parent.glob(pattern)):
        inside = list(old.iterdir()) if old.is_dir() else None
        if inside is None or any(p.name != target.name for p in inside):
            continue  # not a parking folder of this target (another name's, or a user's)
        if inside and not (target.exists() or target.is_symlink()):
            inside[0].rename(target)  # killed between the two renames: the old one back
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------ fingerprints


def parts_sha(*parts: str | bytes) -> str:
    """SHA-256 of a sequence of strings or bytes, each followed by a NUL byte (so
    ``("ab", "c")`` and ``("a", "bc")`` differ).

    >>> parts_sha("a", "bc") != parts_sha("ab", "c")
    True
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def file_sha(path: str | Path) -> str:
    """SHA-256 of a file's bytes.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "empty"
    >>> path.write_bytes(b"")
    0
    >>> file_sha(path)[:12]
    'e3b0c44298fc'
    """
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def tree_sha(root: str | Path, skip: str = "") -> str:
    """One hash of every file under ``root``, its path relative to ``root`` and its bytes,
    leaving out ``__pycache__`` folders and the top-level file named ``skip``. Used for
    the kit's code, its templates, a source folder and a snapshot.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("a")
    >>> before = tree_sha(folder)
    >>> _ = (folder / "snapshot.json").write_text("{}")
    >>> tree_sha(folder, skip="snapshot.json") == before != tree_sha(folder)
    True
    """
    root = Path(root)
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p != root / skip
    )
    return parts_sha(*(f"{p.relative_to(root)}:{file_sha(p)}" for p in files))


# ------------------------------------------------------------------ the month lock


@contextmanager
def month_lock(folder: str | Path, month: str) -> Iterator[None]:
    """Hold ``folder/.lock-<month>`` while a month is built: a second build of the same
    month (another process, or another thread) stops at once with a clear message
    instead of racing the first. The lock file stays; the lock goes with the holder, also
    when it is killed.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> with month_lock(out, "2026-10"):  # doctest: +ELLIPSIS
    ...     with month_lock(out, "2026-10"):
    ...         pass
    Traceback (most recent call last):
    ...
    kpi_helpers.core.errors.KitError: Another kpi-kit pack is building 2026-10 ...
    """
    folder = Path(folder)
    lock = FileLock(folder / f".lock-{month}", blocking=False)
    try:
        lock.acquire()
    except Timeout:
        raise KitError(
            f"Another kpi-kit pack is building {month} into {folder} right now; wait for "
            "it to finish (or stop it) and run again."
        ) from None
    try:
        yield
    finally:
        lock.release()
