"""A results history: one plain JSON file per recorded conformance run, in a folder.

A run file holds what an auditor needs to place a run and read its outcome,
and nothing that could leak: the playbook id, version and tree hash it was
checked against, the as-of clock, the *kind* of source (never a location,
a connection string or a credential), and per rule its id, section, table,
counts and status. No record id, no field value. Files are never rewritten:
recording appends a new file, so the folder can live in git or an artifact
store and be read by anything that reads JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import UsageError

FORMAT = 1
SUFFIX = ".run.json"
# Only these rule keys are recorded: ids, counts and status. `ids` (record ids) never are.
RULE_KEYS = ("id", "section", "table", "checked", "violations", "status")


class ResultsError(UsageError):
    """A results folder or run file that cannot be read."""


def source_kind(spec: str) -> str:
    """The kind of a `--source` spec, for the record: never its path, URL, user or password."""
    s = (spec or "").strip().lower()
    if s.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    if s in ("spark", "salesforce", "hubspot"):
        return s
    if "://" in s:
        return s.split("://", 1)[0][:20] or "url"
    return "files"


def playbook_tree(process_dir: Path) -> tuple[str | None, bool]:
    """The git tree hash of the playbook folder at HEAD, and whether the working copy differs from it."""
    from ..history.git import Git, GitError

    try:
        git = Git(Path(process_dir))
        if git.head() is None:
            return None, True
        rel = git.rel(Path(process_dir))
        tree = git.run("rev-parse", "--verify", "--end-of-options", f"HEAD:{rel}" if rel not in ("", ".") else "HEAD^{tree}")
        dirty = bool(git.run("status", "--porcelain", "--untracked-files=all", "--", rel or "."))
        return tree, dirty
    except GitError:
        return None, True


def content_hash(process_dir: Path) -> str:
    """sha256 over the playbook folder's YAML files (paths and bytes), for runs made outside git."""
    h = hashlib.sha256()
    root = Path(process_dir)
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".yaml", ".yml"):
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class RuleCount:
    id: str
    section: str
    table: str
    checked: int
    violations: int
    status: str

    @property
    def holds(self) -> float | None:
        """Share of checked rows that hold the rule, or None when nothing was checked."""
        if self.status in ("not_checkable", "no_data") or not self.checked:
            return None
        return 1 - self.violations / self.checked


@dataclass(frozen=True)
class Run:
    """One recorded conformance run."""

    playbook: str
    version: str
    effective: str
    tree: str | None
    dirty: bool
    content_sha256: str
    as_of: str
    source: str
    complete: bool
    rules: tuple[RuleCount, ...] = field(default_factory=tuple)
    file: str = ""
    example: bool = False
    """True for the demo run the site shows when no history was given."""

    @property
    def day(self) -> str:
        return self.as_of[:10]

    @property
    def failed(self) -> list[RuleCount]:
        return [r for r in self.rules if r.status == "fail"]

    def rule(self, rule_id: str) -> RuleCount | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "playbook": self.playbook, "version": self.version, "effective": self.effective,
            "tree": self.tree, "dirty": self.dirty, "content_sha256": self.content_sha256, "as_of": self.as_of,
            "source": self.source, "complete": self.complete,
            "rules": [{k: getattr(r, k) for k in RULE_KEYS} for r in self.rules],
        }


def run_from_result(result: Any, model: Any, process_dir: Path, source_spec: str) -> Run:
    """A Run from a conformance RunResult: counts and statuses only."""
    tree, dirty = playbook_tree(process_dir)
    rules = tuple(RuleCount(r.id, r.section, r.table or "", int(r.checked or 0), int(r.violations or 0), r.status)
                  for r in result.rules)
    return Run(playbook=model.playbook.id, version=str(model.playbook.version),
               effective=model.playbook.effective.isoformat(), tree=tree, dirty=dirty,
               content_sha256=content_hash(process_dir), as_of=result.as_of, source=source_kind(source_spec),
               complete=bool(result.complete), rules=rules)


def record_result(directory: Path | str, result: Any, model: Any, playbook: Path | str, source_spec: str) -> Path:
    """Record a `playbook conform` result for the playbook folder (or the process folder holding it)."""
    from ..load import playbook_dirs

    dirs = playbook_dirs(Path(playbook))
    return record(directory, run_from_result(result, model, dirs[0] if len(dirs) == 1 else Path(playbook),
                                             source_spec))


def _text(run: Run) -> str:
    return json.dumps(run.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def record(directory: Path | str, run: Run) -> Path:
    """Append a run to the history in `directory`; returns the new file (never overwrites one)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ResultsError(f"{directory}: exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    text = _text(run)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    stamp = run.as_of.replace("-", "").replace(":", "")
    target = directory / f"{stamp}-{digest}{SUFFIX}"
    if target.exists():
        return target  # the same run recorded twice is one run
    fd, tmp = tempfile.mkstemp(prefix=".run-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _parse(path: Path) -> Run:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        rules = tuple(RuleCount(str(r["id"]), str(r.get("section", "")), str(r.get("table", "")),
                                int(r["checked"]), int(r["violations"]), str(r["status"]))
                      for r in data["rules"])
        datetime.strptime(data["as_of"], "%Y-%m-%dT%H:%M:%SZ")
        return Run(playbook=str(data["playbook"]), version=str(data["version"]), effective=str(data["effective"]),
                   tree=data.get("tree"), dirty=bool(data.get("dirty")), content_sha256=str(data["content_sha256"]),
                   as_of=data["as_of"], source=str(data["source"]), complete=bool(data["complete"]), rules=rules,
                   file=path.name)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # The message names the file and the problem, never file contents.
        raise ResultsError(f"{path}: not a readable run file ({type(exc).__name__}: {exc})") from None


def load(directory: Path | str, playbook: str | None = None) -> list[Run]:
    """Every run in a results folder, oldest first (ties by file name); optionally of one playbook."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ResultsError(f"{directory}: no such results folder (record runs with `playbook conform --record DIR`)")
    runs = [_parse(p) for p in sorted(directory.glob(f"*{SUFFIX}"))]
    if playbook is not None:
        runs = [r for r in runs if r.playbook == playbook]
    return sorted(runs, key=lambda r: (r.as_of, r.file))


def age_text(as_of: str, now: datetime) -> str:
    """How old a run is at `now`, in whole days ("today", "1 day old", "12 days old")."""
    then = datetime.strptime(as_of, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    days = (now - then).days
    if days <= 0:
        return "today"
    return "1 day old" if days == 1 else f"{days} days old"
