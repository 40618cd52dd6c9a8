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
import posixpath
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..errors import Problem, ProcessErrors, UsageError
from ..load import YAML_SUFFIXES, Doc, Loc, load_bytes, merge_sections, outside_link
from ..model import SECTIONS, Playbook
from .git import SUBMODULE_MODE, TREE_MODE, Git, GitError, parse_tree


class Blob(NamedTuple):
    """A file version in a playbook tree: where it is, and its content hash."""

    path: str
    hexsha: str


LINK_MODE = "120000"
OUTSIDE = "outside"
"""Stands for the blob of a symbolic link leading outside the repository (never read)."""
UNFOLLOWED = "unfollowed"
"""Stands for the blob of a symbolic link to a file outside the playbook folder."""

PARALLEL_MIN = 4000
"""Distinct blobs to parse before a process pool pays for itself.

With libyaml a blob parses in about half a millisecond, close to what the pool spends
sending it and its result between processes: on 2 cores, 1,072 and 3,200 blobs parsed
no faster with a pool than without (benchmarks.history)."""


READ_SLICE = 5000
"""File versions read from git and parsed per step of prefetch."""


def _parse_bytes(job: tuple[str, str, bytes]) -> tuple[str, Any]:
    """(blob sha, {"data", "keys"} or a list of Problems); runs in worker processes too.

    `keys` holds where each section key was written, so the merge (load.merge_sections,
    the same as for files on disk) locates its problems exactly as `validate` does.
    """
    sha, path, raw = job
    # load_bytes keeps every safety check of load_file (size, UTF-8, tags, alias bombs).
    problems: list[Problem] = []
    result = load_bytes(raw, path, problems)
    if problems or result is None:
        return sha, problems
    data, builder = result
    keys = {k[0]: [loc.line, loc.column] for k, loc in builder.keys.items() if len(k) == 1}
    return sha, {"data": data, "keys": keys}


def _loader_key() -> str:
    """Changes whenever the loader's code does, so parses cached by an older loader are never reused."""
    from .. import load

    digest = hashlib.sha256(Path(load.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())  # the cached shape is this module's
    return digest.hexdigest()[:16]


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
        self._made: set[Path] = set()
        self._writer: ThreadPoolExecutor | None = None

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
        return raw if "data" in raw and "keys" in raw else None

    def put(self, sha: str, hit: Any) -> None:
        """Store a parse; a cache that cannot be written is skipped, never fatal.

        The file is written by a background thread: on a cold run a thousand small
        files cost about as much as parsing them, and the thread's I/O overlaps the
        work that follows. `close()` waits for every write.
        """
        if self.dir is None:
            return
        if isinstance(hit, list) and hit and isinstance(hit[0], Problem):
            doc: dict[str, Any] = {"problems": [p.as_dict() for p in hit]}
        else:
            doc = hit
        text = json.dumps(doc, ensure_ascii=False)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playbook-cache")
        self._writer.submit(self._write, self._path(sha), text)

    def _write(self, path: Path, text: str) -> None:
        try:
            if path.parent not in self._made:  # one mkdir per folder, not per blob
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text, "utf-8")
            os.replace(tmp, path)
        except OSError:
            pass

    def close(self) -> None:
        """Wait for the pending writes."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None


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
        self._trees: dict[str, list[tuple[str, Blob]]] = {}  # tree sha -> its YAML files
        self._entries: dict[str, list[tuple[str, str, str]]] = {}  # tree sha -> its raw entries
        self._tree_of: dict[str, str | None] = {}  # commit sha -> playbook tree sha (or None)
        self.parses = 0  # distinct blobs parsed (reported by the benchmark)

    def close(self) -> None:
        """Finish writing the disk cache and drop the in-memory caches."""
        self.disk.close()
        self._models.clear()
        self._blobs.clear()
        self._sections.clear()
        self._trees.clear()
        self._tree_of.clear()
        self._entries.clear()

    def tree(self, sha: str) -> str | None:
        """Hash of the playbook folder's tree at a commit (cached), None when it is absent there."""
        if sha not in self._tree_of:
            self._tree_of.update(self.git.subtrees([sha], self.rel))
        return self._tree_of[sha]

    def tree_id(self, sha: str) -> str | None:
        """Hash of the playbook folder at a commit, None when it is absent there."""
        return self.tree(sha)

    def model(self, sha: str, label: str | None = None) -> Playbook:
        """The playbook at commit `sha`; ProcessMissing or ModelAtRevisionError when there is none."""
        tree = self.tree(sha)
        name = label or sha[:12]
        if tree is None:
            raise ProcessMissing(f"{self.rel} does not exist at {name}: the playbook was not there yet "
                                 "(or was moved); pick a later revision")
        cached = self._models.get(tree)
        if cached is None:
            self.prefetch([sha])  # this commit's missing blobs in one git call
            cached = self._load(tree, name)
            self._models[tree] = cached
        if isinstance(cached, ProcessErrors):
            raise ModelAtRevisionError(cached.problems)
        return cached

    def _read_trees(self, trees: list[str]) -> None:
        """Read these trees and every tree below them, one `git cat-file --batch` call per level."""
        todo = [t for t in dict.fromkeys(trees) if t not in self._entries]
        while todo:
            raw = self.git.objects(todo)
            below = []
            for t in todo:
                entries = parse_tree(raw.get(t, b""), len(t) // 2)
                self._entries[t] = entries
                below.extend(h for mode, _, h in entries if mode == TREE_MODE and h not in self._entries)
            todo = list(dict.fromkeys(below))

    def _files(self, tree: str) -> list[tuple[str, Blob]]:
        """(repository path, blob) of the folder's YAML files in the loader's order."""
        cached = self._trees.get(tree)
        if cached is not None:
            return cached
        self._read_trees([tree])
        out: list[tuple[tuple[str, ...], str]] = []
        stack: list[tuple[tuple[str, ...], str]] = [((), tree)]
        while stack:
            parts, t = stack.pop()
            if t not in self._entries:
                self._read_trees([t])
            for mode, name, h in self._entries[t]:
                if mode == TREE_MODE:
                    stack.append((parts + (name,), h))
                elif mode != SUBMODULE_MODE:  # files and symbolic links are blobs, as in gitpython
                    out.append((parts + (name,), h, mode == LINK_MODE))
        prefix = "" if self.rel in ("", ".") else self.rel + "/"
        files = []
        links: list[tuple[int, str]] = []
        # Sorted by path parts, as PurePosixPath sorts: the order load_data reads files in.
        for parts, h, link in sorted(out):
            if PurePosixPath(parts[-1]).suffix not in YAML_SUFFIXES or any(p.startswith(".") for p in parts):
                continue
            path = prefix + "/".join(parts)
            if link:
                links.append((len(files), h))
            files.append((path, Blob(path, h)))
        if links:
            self._follow_links(files, links)
        self._trees[tree] = files
        return files

    def _follow_links(self, files: list[tuple[str, Blob]], links: list[tuple[int, str]]) -> None:
        """Symbolic links as the disk loader takes them: followed inside, refused unread outside.

        A link's blob holds its target path, never the target's content. A target in the
        same playbook folder is read from this revision; one outside the repository is
        refused (Y008), as on disk; any other target cannot be read from the folder's tree.
        """
        targets = self.git.objects([h for _, h in links])
        by_path = {path: blob for path, blob in files}
        for i, h in links:
            path = files[i][0]
            raw = targets.get(h, b"").decode("utf-8", "replace")
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), raw))
            if raw.startswith("/") or joined == ".." or joined.startswith("../"):
                files[i] = (path, Blob(path, OUTSIDE))
            elif joined in by_path and by_path[joined].hexsha not in (OUTSIDE, UNFOLLOWED):
                files[i] = (path, Blob(path, by_path[joined].hexsha))
            else:
                files[i] = (path, Blob(path, UNFOLLOWED))

    def prefetch(self, shas: list[str]) -> None:
        """Read the trees of these commits and parse every distinct blob they hold, in few git calls."""
        todo: dict[str, str] = {}  # blob sha -> a path it has
        # One git call finds the folder in every commit, instead of a round trip per commit.
        missing = [sha for sha in dict.fromkeys(shas) if sha not in self._tree_of]
        self._tree_of.update(self.git.subtrees(missing, self.rel))
        trees = [t for t in dict.fromkeys(self._tree_of.get(sha) for sha in shas)
                 if t is not None and t not in self._models]
        self._read_trees(trees)
        for tree in trees:
            for path, blob in self._files(tree):
                if blob.hexsha in self._blobs or blob.hexsha in todo or blob.hexsha in (OUTSIDE, UNFOLLOWED):
                    continue
                stored = self.disk.get(blob.hexsha)
                if stored is not None:
                    self._blobs[blob.hexsha] = stored
                else:
                    todo[blob.hexsha] = path
        workers = min(os.cpu_count() or 1, 8)
        pool = None
        if len(todo) >= PARALLEL_MIN and workers >= 2:
            self.disk.close()  # no writer thread may be running when the pool forks
            pool = ProcessPoolExecutor(max_workers=workers)
        try:
            items = list(todo.items())
            # Read and parse in slices, so a long history never holds every file version in memory.
            for start in range(0, len(items), READ_SLICE):
                part = items[start:start + READ_SLICE]
                raw = self.git.objects([h for h, _ in part])
                jobs = [(h, path, raw[h]) for h, path in part if h in raw]
                if pool is not None:
                    results = list(pool.map(_parse_bytes, jobs, chunksize=max(1, len(jobs) // (workers * 4))))
                else:
                    results = [_parse_bytes(job) for job in jobs]
                for h, hit in results:
                    self._blobs[h] = hit
                    self.disk.put(h, hit)
                    self.parses += 1
        finally:
            if pool is not None:
                pool.shutdown()

    def _blob_bytes(self, blob: Blob) -> bytes:
        raw = self.git.objects([blob.hexsha]).get(blob.hexsha)
        if raw is None:
            raise GitError(f"object {blob.hexsha} of {blob.path} is missing from the repository")
        return raw

    def _parse(self, path: str, blob: Blob, problems: list[Problem]) -> Any:
        hit = self._blobs.get(blob.hexsha)
        if hit is None:
            hit = self.disk.get(blob.hexsha)
            if hit is None:
                _, hit = _parse_bytes((blob.hexsha, path, self._blob_bytes(blob)))
                self.parses += 1
                self.disk.put(blob.hexsha, hit)
            self._blobs[blob.hexsha] = hit
        if isinstance(hit, list):
            problems.extend(Problem(path, p.line, p.column, p.code, p.message, p.level, p.hint) for p in hit)
            return None
        return hit

    def _load(self, tree, name: str) -> Playbook | ProcessErrors:
        problems: list[Problem] = []
        files = self._files(tree)
        if not files:
            return ProcessErrors([Problem(self.rel, 1, 1, "H001", f"no .yaml files in {self.rel} at {name}")])
        docs: list[Doc] = []
        shas: list[str] = []
        for path, blob in files:
            if blob.hexsha == OUTSIDE:
                problems.append(outside_link(path))
                continue
            if blob.hexsha == UNFOLLOWED:
                problems.append(Problem(path, 1, 1, "H003", "symbolic link to a file outside the playbook folder: "
                                        "history reads links only within it", hint="copy the file into the folder"))
                continue
            hit = self._parse(path, blob, problems)
            if hit is None:
                continue
            docs.append(Doc(path, hit["data"], {k: Loc(path, v[0], v[1]) for k, v in hit["keys"].items()}))
            shas.append(blob.hexsha)
        # The same merge as for files on disk (load.merge_sections): same data, same problems.
        merged, merge_problems, offsets = merge_sections(docs)
        problems.extend(merge_problems)
        if problems:
            return ProcessErrors(problems)
        origin: dict[str, list[str]] = {}  # section -> blobs its value came from, in merge order
        for sha, off in zip(shas, offsets):
            for section in off:
                origin.setdefault(section, []).append(sha)
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
                dest.write_bytes(self._blob_bytes(blob))
            result = check(root, display_root=Path(tmp))
            errors = [p for p in result.problems if p.level == "error"]
        if not errors:
            errors = [Problem(self.rel, 1, 1, "H002", f"model does not validate at {name}: "
                              f"{exc.error_count()} schema error(s)")]
        return ProcessErrors(errors)
