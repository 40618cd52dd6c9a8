"""The two playbook versions a what-if compares, read from git by the history part."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..model import Playbook


@dataclass(frozen=True)
class Revision:
    """One side of the comparison: the revision as given, its commit, and the playbook there."""

    rev: str
    commit: str
    model: Playbook


def load_pair(process_dir: Path, base: str, head: str) -> tuple[Revision, Revision]:
    """BASE and HEAD models of the playbook folder, loaded exactly as `playbook diff` loads them."""
    from ..history.changelog import History
    from ..history.git import check_rev

    # Refuse option-like or unsafe values before anything touches git.
    check_rev(base, "BASE revision")
    check_rev(head, "HEAD revision")
    hist = History(process_dir)
    try:
        sha_b, sha_h = hist.git.resolve(base), hist.git.resolve(head)
        return (Revision(base, sha_b, hist.model(sha_b, base)),
                Revision(head, sha_h, hist.model(sha_h, head)))
    finally:
        hist.close()
