"""One way to compare generated output with golden files.

A golden file is reviewed output: it changes only when someone runs `make golden`
(PLAYBOOK_UPDATE_GOLDEN=1, exactly) and reads the diff. So a missing golden file
fails instead of being written, and a folder of goldens must hold exactly the
files the code produced: a page that disappears, or a new one nobody reviewed,
fails too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

UPDATE = os.environ.get("PLAYBOOK_UPDATE_GOLDEN") == "1"
HOW = "run `make golden` and review the diff"


def _read(path: Path, like: str | bytes) -> str | bytes:
    return path.read_bytes() if isinstance(like, bytes) else path.read_text(encoding="utf-8")


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def check_file(path: Path, actual: str | bytes) -> None:
    """`actual` equals the golden file at `path` (rewritten under `make golden`)."""
    if UPDATE:
        _write(path, actual)
    assert path.is_file(), f"golden file {path} is missing; {HOW}"
    assert actual == _read(path, actual), f"{path} differs from its golden; {HOW}"


def check_tree(folder: Path, actual: dict[str, str | bytes]) -> None:
    """The golden folder holds exactly the files in `actual` (relative paths), each equal."""
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in actual.items():
            _write(folder / rel, data)
    assert folder.is_dir(), f"golden folder {folder} is missing; {HOW}"
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    missing = sorted(set(actual) - set(on_disk))
    extra = sorted(set(on_disk) - set(actual))
    assert not missing and not extra, f"golden files of {folder}: missing {missing}, not produced {extra}; {HOW}"
    for rel in sorted(actual):
        assert actual[rel] == _read(folder / rel, actual[rel]), f"{folder / rel} differs from its golden; {HOW}"


def check_names(folder: Path, names: set[str]) -> None:
    """A folder of single-file goldens (see check_file) holds exactly `names`: none stale, none unchecked."""
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk == names, (f"golden files of {folder}: not checked by any test {sorted(on_disk - names)}, "
                              f"missing {sorted(names - on_disk)}; {HOW}")
