"""The model of a playbook at a git revision, read from blobs (no checkout).

Models are cached by the tree hash of the playbook folder (an unchanged folder
is the same model) and each distinct blob is parsed once, so walking thousands
of commits costs one parse per file version, not per commit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..errors import Problem, ProcessErrors, UsageError
from ..load import MAPPING_SECTIONS, YAML_SUFFIXES, load_bytes
from ..model import SECTIONS, Playbook
from .git import Git


PARALLEL_MIN = 64
"""Distinct blobs to parse before a process pool pays for itself."""


def _parse_bytes(job: tuple[str, str, bytes]) -> tuple[str, Any]:
    """(blob sha, parsed data or a list of Problems); runs in worker processes too."""
    sha, path, raw = job
    # load_bytes keeps every safety check of load_file (size, UTF-8, tags, alias bombs).
    problems: list[Problem] = []
    result = load_bytes(raw, path, problems)
    return sha, (problems if problems or result is None else result[0])


def _loader_key() -> str:
    """Changes whenever the loader's code does, so parses cached by an older loader are never reused."""
    from .. import load

    return hashlib.sha256(Path(load.__file__).read_bytes()).hexdigest()[:16]


@functools.cache
def _section_model(section: str) -> type[BaseModel]:
    """A model holding just one section, declared exactly as on Playbook (type, constraints, config)."""
    info = Playbook.model_fields[section]
    return create_model(f"PlaybookSection_{section}", __config__=ConfigDict(**Playbook.model_config),
                        **{section: (info.annotation, info)})


class BlobCache:
    """Parsed process files by blob hash, kept across runs under `.cache/history/`.

    Blobs are content-addressed and the key includes the loader's own hash, so
    an entry can never be stale: CI runs `history` on every pull request and
    parses only the file versions it has not seen before.
    """

    def __init__(self, root: Path | None):
        self.dir = Path(root) / _loader_key() if root is not None else None

    def _path(self, sha: str) -> Path:
        assert self.dir is not None
        return self.dir / sha[:2] / f"{sha}.json"

    def get(self, sha: str) -> Any:
        """The cached parse, or None."""
        if self.dir is None:
            return None
        try:
            raw = json.loads(self._path(sha).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if "problems" in raw:
            return [Problem(**p) for p in raw["problems"]]
        return raw.get("data")

    def put(self, sha: str, hit: Any) -> None:
        """Store a parse; a cache that cannot be written is skipped, never fatal."""
        if self.dir is None:
            return
        if isinstance(hit, list) and hit and isinstance(hit[0], Problem):
            doc: dict[str, Any] = {"problems": [p.as_dict() for p in hit]}
        else:
            doc = {"data": hit}
        path = self._path(sha)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
            os.replace(tmp, path)
        except OSError:
            pass


class ProcessMissing(UsageError):
    """The playbook folder does not exist at that revision."""


class ModelAtRevisionError(ProcessErrors):
    """The playbook at a revision does not load; problems are located in that revision's files."""


class Snapshots:
    """Loads the playbook at `rel` (repository-relative folder) for any commit, with caches."""

    def __init__(self, git: Git, rel: str, cache_dir: Path | None = None):
        self.git = git
        self.rel = rel.rstrip("/")
        self.disk = BlobCache(cache_dir)
        self._models: dict[str, Playbook | ProcessErrors] = {}
        self._blobs: dict[str, Any] = {}  # blob sha -> parsed data, or a list of problems
        self._sections: dict[tuple[str, tuple[str, ...]], tuple[Any]] = {}  # validated section values
        self._trees: dict[str, list[tuple[str, Any]]] = {}  # tree sha -> its YAML files
        self._tree_of: dict[str, Any] = {}  # commit sha -> playbook tree (or None)
        self.parses = 0  # distinct blobs parsed (reported by the benchmark)

    def close(self) -> None:
        """Drop the caches."""
        self._models.clear()
        self._blobs.clear()
        self._sections.clear()
        self._trees.clear()
        self._tree_of.clear()

    def tree(self, sha: str):
        """The playbook folder's tree at a commit (cached), None when it is absent there."""
        if sha not in self._tree_of:
            self._tree_of[sha] = self.git.tree_at(sha, self.rel)
        return self._tree_of[sha]

    def tree_id(self, sha: str) -> str | None:
        """Hash of the playbook folder at a commit, None when it is absent there."""
        tree = self.tree(sha)
        return tree.hexsha if tree is not None else None

    def model(self, sha: str, label: str | None = None) -> Playbook:
        """The playbook at commit `sha`; ProcessMissing or ModelAtRevisionError when there is none."""
        tree = self.tree(sha)
        name = label or sha[:12]
        if tree is None:
            raise ProcessMissing(f"{self.rel} does not exist at {name}: the playbook was not there yet "
                                 "(or was moved); pick a later revision")
        cached = self._models.get(tree.hexsha)
        if cached is None:
            cached = self._load(tree, name)
            self._models[tree.hexsha] = cached
        if isinstance(cached, ProcessErrors):
            raise ModelAtRevisionError(cached.problems)
        return cached

    def _files(self, tree) -> list[tuple[str, Any]]:
        """(repository path, blob) of the folder's YAML files in the loader's order."""
        cached = self._trees.get(tree.hexsha)
        if cached is not None:
            return cached
        out = []
        for item in tree.traverse():
            if item.type != "blob":
                continue
            rel = PurePosixPath(item.path).relative_to(self.rel) if self.rel not in ("", ".") else PurePosixPath(item.path)
            if rel.suffix not in YAML_SUFFIXES or any(p.startswith(".") for p in rel.parts):
                continue
            out.append((rel, item))
        out.sort(key=lambda x: x[0])
        files = [(item.path, item) for _, item in out]
        self._trees[tree.hexsha] = files
        return files

    def prefetch(self, shas: list[str]) -> None:
        """Parse every distinct blob these commits hold, in parallel when there are many."""
        todo: dict[str, tuple[str, Any]] = {}
        seen_trees: set[str] = set()
        # One git call finds the folder in every commit, instead of a round trip per commit.
        missing = [sha for sha in dict.fromkeys(shas) if sha not in self._tree_of]
        for sha, tree_sha in self.git.subtrees(missing, self.rel).items():
            self._tree_of[sha] = self.git.tree(tree_sha, self.rel) if tree_sha else None
        for sha in shas:
            tree = self.tree(sha)
            if tree is None or tree.hexsha in seen_trees or tree.hexsha in self._models:
                continue
            seen_trees.add(tree.hexsha)
            for path, blob in self._files(tree):
                if blob.hexsha in self._blobs or blob.hexsha in todo:
                    continue
                stored = self.disk.get(blob.hexsha)
                if stored is not None:
                    self._blobs[blob.hexsha] = stored
                else:
                    todo[blob.hexsha] = (path, blob)
        workers = min(os.cpu_count() or 1, 8)
        if len(todo) < PARALLEL_MIN or workers < 2:
            return  # parsed lazily, one by one
        jobs = [(h, path, self.git.blob_bytes(blob)) for h, (path, blob) in todo.items()]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for h, hit in pool.map(_parse_bytes, jobs, chunksize=max(1, len(jobs) // (workers * 4))):
                self._blobs[h] = hit
                self.disk.put(h, hit)
                self.parses += 1

    def _parse(self, path: str, blob, problems: list[Problem]) -> Any:
        hit = self._blobs.get(blob.hexsha)
        if hit is None:
            hit = self.disk.get(blob.hexsha)
            if hit is None:
                _, hit = _parse_bytes((blob.hexsha, path, self.git.blob_bytes(blob)))
                self.parses += 1
                self.disk.put(blob.hexsha, hit)
            self._blobs[blob.hexsha] = hit
        if isinstance(hit, list) and hit and isinstance(hit[0], Problem):
            problems.extend(Problem(path, p.line, p.column, p.code, p.message, p.level, p.hint) for p in hit)
            return None
        return hit

    def _load(self, tree, name: str) -> Playbook | ProcessErrors:
        problems: list[Problem] = []
        merged: dict[str, Any] = {}
        owner: dict[str, str] = {}
        origin: dict[str, list[str]] = {}  # section -> blobs its value came from, in merge order
        files = self._files(tree)
        if not files:
            return ProcessErrors([Problem(self.rel, 1, 1, "H001", f"no .yaml files in {self.rel} at {name}")])
        for path, blob in files:
            data = self._parse(path, blob, problems)
            if not data:
                continue
            if not isinstance(data, dict):
                problems.append(Problem(path, 1, 1, "Y007", "a process file must be a mapping of sections"))
                continue
            for section, value in data.items():
                if section not in SECTIONS:
                    problems.append(Problem(path, 1, 1, "S003", f"unknown section {section!r}"))
                elif section in MAPPING_SECTIONS or not isinstance(value, list):
                    if section in owner:
                        problems.append(Problem(path, 1, 1, "Y002",
                                                f"section {section!r} is already defined in {owner[section]}"))
                    else:
                        owner[section] = path
                        merged[section] = value
                        origin[section] = [blob.hexsha]
                else:
                    existing = merged.setdefault(section, [])
                    if isinstance(existing, list):
                        existing.extend(value)
                        origin.setdefault(section, []).append(blob.hexsha)
        if problems:
            return ProcessErrors(problems)
        try:
            return self._validate_by_section(merged, origin)
        except ValidationError:
            pass  # validated whole below, so the errors are exactly those of the whole model
        try:
            return Playbook.model_validate(merged)
        except ValidationError as exc:
            # Rare path: re-read through the full loader so the problems carry file:line:col.
            return self._located(tree, name, exc)

    def _validate_by_section(self, merged: dict[str, Any], origin: dict[str, list[str]]) -> Playbook:
        """The model, reusing sections validated for earlier commits.

        A commit usually edits one file, so most sections come from the same blobs as
        in the commit before: validating those again would rebuild equal models. The
        model has no cross-section validators (cross-references are checked by the
        validator, not the schema), so validating a section alone gives the same
        value, and the frozen models can be shared between snapshots. Playbook then
        takes the validated sections as they are and checks its own constraints.
        """
        values: dict[str, Any] = {}
        for section, value in merged.items():
            key = (section, tuple(origin[section]))
            hit = self._sections.get(key)
            if hit is None:
                hit = self._sections[key] = (getattr(_section_model(section).model_validate({section: value}), section),)
            values[section] = hit[0]
        return Playbook.model_validate(values)

    def _located(self, tree, name: str, exc: ValidationError) -> ProcessErrors:
        from ..validate import check

        with tempfile.TemporaryDirectory(prefix="playbook-rev-") as tmp:
            root = Path(tmp) / self.rel
            for path, blob in self._files(tree):
                dest = Path(tmp) / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(self.git.blob_bytes(blob))
            result = check(root, display_root=Path(tmp))
            errors = [p for p in result.problems if p.level == "error"]
        if not errors:
            errors = [Problem(self.rel, 1, 1, "H002", f"model does not validate at {name}: "
                              f"{exc.error_count()} schema error(s)")]
        return ProcessErrors(errors)
