"""Write a rendered export to disk whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import UsageError


def write_tree(out: Path, files: dict[str, bytes], marker: str) -> None:
    """Replace folder `out` with exactly `files`, atomically.

    `marker` is a file every export of this kind contains: a non-empty `out`
    without it is somebody else's folder and is never overwritten.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / marker).exists():
        raise UsageError(f"{out}: folder is not empty and holds no {marker}; refusing to overwrite it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for rel, data in files.items():
            path = tmp / rel
            if not path.resolve().is_relative_to(tmp.resolve()):
                raise UsageError(f"export path escapes the output folder: {rel}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
