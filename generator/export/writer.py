"""Write a rendered export to disk whole or not at all (the one tree writer, generator/writer.py)."""

from __future__ import annotations

from pathlib import Path

from ..writer import replace_tree


def write_tree(out: Path, files: dict[str, bytes], marker: str) -> None:
    """Replace folder `out` with exactly `files`, atomically.

    `marker` is a file every export of this kind contains: a non-empty `out`
    without it is somebody else's folder and is never overwritten.
    """
    replace_tree(out, files, marker, what="export")
