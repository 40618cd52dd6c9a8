"""The two playbook versions a what-if compares, read from git by the history part."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Problem, ProcessErrors
from ..model import Playbook


@dataclass(frozen=True)
class Revision:
    """One side of the comparison: the revision as given, its commit, and the playbook there."""

    rev: str
    commit: str
    model: Playbook


def load_pair(process_dir: Path, base: str, head: str) -> tuple[Revision, Revision]:
    """BASE and HEAD models of the playbook folder, loaded exactly as `playbook diff` loads them,
    then held to the same semantic rules as `validate` (checks compiled from a playbook whose
    references do not resolve would be wrong or fail half-way)."""
    from ..history.changelog import History
    from ..history.git import check_rev

    # Refuse option-like or unsafe values before anything touches git.
    check_rev(base, "BASE revision")
    check_rev(head, "HEAD revision")
    hist = History(process_dir)
    try:
        sha_b, sha_h = hist.git.resolve(base), hist.git.resolve(head)
        pair = (Revision(base, sha_b, hist.model(sha_b, base)), Revision(head, sha_h, hist.model(sha_h, head)))
        problems: list[Problem] = []
        for r in pair if sha_b != sha_h else pair[:1]:
            problems += semantic_errors(hist.git, hist.rel, r.commit, r.rev)
    finally:
        hist.close()
    if problems:
        raise ProcessErrors(problems)
    return pair


def semantic_errors(git, rel: str, sha: str, label: str) -> list[Problem]:
    """Errors `validate` reports for the playbook folder at a commit, located as `REV:path`."""
    from ..validate import check

    with tempfile.TemporaryDirectory(prefix="playbook-whatif-") as tmp:
        for path in git.list_files(sha, rel):
            raw = git.read_file(sha, path)
            if raw is None:
                continue
            dest = Path(tmp) / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(raw)
        result = check(Path(tmp) / rel, display_root=Path(tmp))
    return [replace(p, file=f"{label}:{p.file}") for p in result.problems if p.level == "error"]
