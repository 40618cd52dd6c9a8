"""One writer for every output tree (site, docs, exports, conformance SQL): whole or not at all.

A tree is written into a staging folder beside its destination (a rename cannot
cross file systems), then swapped into place in one step:

- on Linux, `renameat2(RENAME_EXCHANGE)` trades the new tree and the old one
  atomically, so a reader always finds one whole tree at the destination;
- elsewhere the destination becomes a symbolic link that is flipped with one
  `rename()` (converting an existing real folder into that link happens once,
  with a moment between the two renames).

Staging folders are named `.playbook-build-*`, carry a `.gitignore` of `*` (so
git never shows them, even in a repository that does not ignore them) and hold
an advisory lock for as long as their build runs: a later build removes every
staging folder whose lock is free, which is what a killed build leaves behind.
Paths are checked to stay inside the tree, files are written in sorted order,
and nothing but the given bytes goes in, so the same input gives the same tree.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Iterator, Mapping

from .errors import UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, stale folders are found by age alone
    fcntl = None  # type: ignore[assignment]

STAGE_PREFIX = ".playbook-build-"
LOCK = ".lock"
LINK_PREFIX = ".playbook-tree-"
"""Where a destination that is a symbolic link points (platforms without RENAME_EXCHANGE)."""
STALE_UNLOCKED_AFTER = 60.0
"""Seconds after which a staging folder without a lock file is stale (killed before it made one)."""

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _libc_renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # glibc before 2.28, or another libc without it
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_renameat2 = _libc_renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step; False when the platform or file system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # kernel or file system without it
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap(new: Path, dest: Path) -> None:
    """Put the tree at `new` in place at `dest` in one step.

    After the call, `new` holds the previous tree (when there was one, and the
    swap was an exchange): it lives in a staging folder and goes with it.
    """
    new, dest = Path(new), Path(dest)
    if not os.path.lexists(dest):
        os.rename(new, dest)
        return
    if dest.is_symlink():
        _flip(new, dest)
        return
    if not dest.is_dir():
        raise UsageError(f"{dest}: exists and is not a folder; refusing to replace it")
    if _exchange(new, dest):
        return
    # No exchange here: from now on `dest` is a symbolic link flipped in one rename.
    target = dest.with_name(f"{LINK_PREFIX}{dest.name}-{secrets.token_hex(4)}")
    os.rename(new, target)
    os.rename(dest, new)  # the old tree goes where the new one was, into the staging folder
    os.symlink(target.name, dest)


def _flip(new: Path, dest: Path) -> None:
    old = dest.parent / os.readlink(dest)
    target = dest.with_name(f"{LINK_PREFIX}{dest.name}-{secrets.token_hex(4)}")
    os.rename(new, target)
    link = dest.with_name(f"{STAGE_PREFIX}link-{secrets.token_hex(4)}")
    os.symlink(target.name, link)
    os.replace(link, dest)  # the one step: readers see the old link or the new one
    if old.name.startswith(LINK_PREFIX) and old.parent == dest.parent and old.is_dir():
        os.rename(old, new)  # removed with the staging folder


@contextlib.contextmanager
def staging(parent: Path) -> Iterator[Path]:
    """A locked, git-ignored staging folder in `parent`, removed on exit (whatever happens)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale(parent)
    work = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=parent))
    fd = None
    try:
        fd = os.open(work / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        (work / ".gitignore").write_text("*\n", encoding="utf-8")
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def clean_stale(parent: Path) -> list[Path]:
    """Remove staging folders in `parent` left by builds that were killed; the ones removed."""
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for folder in entries:
        if not folder.name.startswith(STAGE_PREFIX) or folder.is_symlink():
            continue
        if not folder.is_dir():  # a single file's write, killed before its rename
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime >= STALE_UNLOCKED_AFTER:
                    folder.unlink()
                    removed.append(folder)
            continue
        lock = folder / LOCK
        try:
            if fcntl is None:  # no advisory locks here: age is all there is to go by
                raise FileNotFoundError(lock)
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            try:
                if time.time() - folder.stat().st_mtime < STALE_UNLOCKED_AFTER:
                    continue  # a build that is starting right now
            except OSError:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # its build is running
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def safe_rel(rel: str, what: str = "output") -> PurePosixPath:
    """A relative path that stays inside its tree, or UsageError."""
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or "\\" in rel or any(part in ("", "..") for part in rel.split("/")) \
            or "\0" in rel:
        raise UsageError(f"refusing to write {rel!r}: the path leaves the {what} folder")
    return p


def write_files(root: Path, files: Mapping[str, str | bytes], what: str = "output") -> None:
    """Write `files` (relative path -> text or bytes) into the new folder `root`, in sorted order."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=False)
    real = root.resolve()
    for rel in sorted(files):
        target = root / safe_rel(rel, what)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(real):
            raise UsageError(f"refusing to write {rel!r}: the path leaves the {what} folder")
        data = files[rel]
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def replace_tree(out: Path, files: Mapping[str, str | bytes], marker: str | None = None,
                 what: str = "output") -> None:
    """Replace folder `out` with exactly `files`, atomically.

    `marker` is a file every tree of this kind holds: a non-empty `out` without
    it is somebody else's folder and is never replaced.
    """
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    if marker is not None and out.is_dir() and any(out.iterdir()) and not (out / marker).exists():
        raise UsageError(f"{out}: folder is not empty and holds no {marker}; refusing to overwrite it")
    with staging(out.parent) as work:
        write_files(work / "tree", files, what)
        swap(work / "tree", out)


def write_file(path: Path, data: str | bytes) -> None:
    """Replace one file atomically (a temporary file beside it, then one rename)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{STAGE_PREFIX}{path.name}-{secrets.token_hex(4)}")
    # Mode 0666 less the umask, as a plain write would give (mkstemp would make it 0600).
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
