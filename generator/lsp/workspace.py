"""The language server's view of playbook folders: open buffers over the disk, checked as `validate` checks.

Editor-neutral: positions are 0-based (line, column in characters) and results are
plain dataclasses; `server.py` turns them into LSP messages. Nothing here runs
anything from the files: they are composed as YAML nodes by the loader, as for
`playbook validate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import Problem, ProcessErrors, UsageError
from ..load import YAML_SUFFIXES, Loaded, ParseCache, _compose_c, playbook_files
from ..validate import check
from ..validate.refs import REFS
from .context import context_at, field_at
from .describe import SINGULAR, describe_entity, describe_key
from .index import Index, Occurrence, build_index

Pos = tuple[int, int]
_PLAYBOOK_SECTION = re.compile(r"^playbook\s*:", re.MULTILINE)


@dataclass(frozen=True)
class Range:
    start: Pos
    end: Pos


@dataclass(frozen=True)
class Diag:
    """One problem as the editor shows it."""

    range: Range
    code: str
    level: str
    message: str
    hint: str
    related: tuple[tuple[Path, Range, str], ...] = ()


@dataclass(frozen=True)
class Location:
    path: Path
    range: Range


@dataclass(frozen=True)
class Completion:
    label: str
    detail: str
    documentation: str
    replace: Range


@dataclass
class _Folder:
    """One playbook folder: its parse cache, last problems, id index and mirrored diagnostics."""

    root: Path
    cache: ParseCache = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    built: Index = field(default_factory=Index)
    loaded: Loaded | None = None  # the last folder that could be read, not yet indexed
    files: list[Path] = field(default_factory=list)
    # (file, code, message) of a problem in another file -> (file whose edit caused it, line of the edit)
    mirrors: dict[tuple[str, str, str], tuple[str, int]] = field(default_factory=dict)
    ends: dict[tuple[str, str], dict[Pos, Pos]] = field(default_factory=dict)

    @property
    def index(self) -> Index:
        """The id index of the last readable state, built on first use after a change."""
        if self.loaded is not None:
            self.built = build_index(self.loaded.data, self.loaded.source_map)
            self.loaded = None
        return self.built


class Workspace:
    """Open buffers and the playbook folders they belong to."""

    def __init__(self) -> None:
        self.buffers: dict[Path, str] = {}
        self.folders: dict[Path, _Folder] = {}
        self._roots: dict[Path, Path | None] = {}  # folder of a file -> its playbook folder

    # ---------------------------------------------------------------- buffers

    def root_for(self, path: Path) -> Path | None:
        """The playbook folder of a file, or None for YAML that is no process file (mkdocs.yml, CI files).

        It is the nearest folder above the file whose YAML holds the `playbook:` section, else
        (a playbook being started) the folder directly under a `process/` folder.
        """
        start = Path(path).resolve().parent
        if start in self._roots:
            return self._roots[start]
        found = None
        for d in [start, *start.parents][:8]:
            if any(_PLAYBOOK_SECTION.search(self.text(c) or "") for c in self._yaml_in(d)):
                found = d
                break
        if found is None:
            found = next((d for d in [start, *start.parents] if d.parent.name == "process"), None)
        self._roots[start] = found
        return found

    def _yaml_in(self, d: Path) -> list[Path]:
        on_disk = [p for p in d.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES] if d.is_dir() else []
        return sorted(set(on_disk) | {p for p in self.buffers if p.parent == d})

    def text(self, path: Path) -> str | None:
        """A file's text: the open buffer, else the disk."""
        path = Path(path).resolve()
        if path in self.buffers:
            return self.buffers[path]
        try:
            return path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def set_buffer(self, path: Path, text: str) -> Path:
        path = Path(path).resolve()
        self.buffers[path] = text
        self._roots.clear()  # the edit may add or remove a `playbook:` section
        return path

    def close_buffer(self, path: Path) -> None:
        self.buffers.pop(Path(path).resolve(), None)
        self._roots.clear()

    def forget_roots(self) -> None:
        """Files appeared or went on disk: find playbook folders afresh."""
        self._roots.clear()

    # ------------------------------------------------------------ diagnostics

    def analyze(self, path: Path, edit_line: int | None = None) -> dict[Path, list[Diag]]:
        """Check the whole folder of `path` (buffers over disk): every file's diagnostics.

        `edit_line` is where the edit that triggered this happened: a problem it causes in
        another file is also shown there, with a link to where it is reported.
        """
        path = Path(path).resolve()
        root = self.root_for(path)
        if root is None:
            return {}
        folder = self.folders.setdefault(root, _Folder(root))
        overlay = {p: t for p, t in self.buffers.items() if root in p.parents}
        try:
            result = check(root, display_root=root, overlay=overlay, cache=folder.cache)
            problems = result.problems
            loaded = result.loaded
        except (ProcessErrors, UsageError) as exc:  # an unreadable file, a folder without YAML
            problems = list(getattr(exc, "problems", []))
            loaded = None
            if not problems:
                problems = [Problem(_rel(path, root), 1, 1, "Y001", exc.message())]
        if loaded is not None:
            # Indexed on the first request that needs it, so typing pays only for the check. A file
            # that cannot be read keeps the last good index: better stale than empty mid-edit.
            folder.loaded = loaded
        before = {(p.file, p.code, p.message) for p in folder.problems}
        folder.problems = problems
        now = {(p.file, p.code, p.message): p for p in problems}
        edited = _rel(path, root)
        if edit_line is not None:
            for key in now.keys() - before:
                if key[0] != edited:
                    folder.mirrors[key] = (edited, edit_line)
        folder.mirrors = {k: v for k, v in folder.mirrors.items() if k in now}
        files = {p.resolve() for p in _safe_files(root)} | set(overlay)
        files |= {(root / p.file).resolve() for p in problems}
        folder.files = sorted(files)
        out: dict[Path, list[Diag]] = {f: [] for f in folder.files}
        for p in problems:
            target = (root / p.file).resolve()
            out.setdefault(target, []).append(Diag(self._range(folder, p), p.code, p.level, p.message, p.hint))
        for key, (file, line) in folder.mirrors.items():
            p = now[key]
            where = (root / p.file).resolve()
            text = self.text(root / file) or ""
            lines = text.split("\n")
            width = len(lines[line].rstrip("\r")) if line < len(lines) else 0
            out.setdefault((root / file).resolve(), []).append(Diag(
                Range((line, 0), (line, width)), p.code, p.level,
                f"{p.message} (reported in {p.file}:{p.line}:{p.column})", p.hint,
                ((where, self._range(folder, p), p.message),)))
        for diags in out.values():
            diags.sort(key=lambda d: (d.range.start, d.code, d.message))
        return out

    def _range(self, folder: _Folder, p: Problem) -> Range:
        """The exact range of a problem: the YAML node starting at its position, else the rest of the word."""
        text = self.text(folder.root / p.file) or ""
        ends = folder.ends.get((p.file, text))
        if ends is None:
            ends = _node_ends(text)
            folder.ends = {k: v for k, v in folder.ends.items() if k[0] != p.file}
            folder.ends[(p.file, text)] = ends
        start = (p.line - 1, p.column - 1)
        if start in ends:
            return Range(start, ends[start])
        lines = text.split("\n")
        line = lines[start[0]].rstrip("\r") if start[0] < len(lines) else ""
        m = re.compile(r"\S+").match(line, start[1]) if start[1] < len(line) else None
        end = m.end() if m else max(start[1] + 1, len(line))
        if p.code.startswith("Y"):
            end = max(end, len(line))  # a syntax problem: the rest of the line
        return Range(start, (start[0], end))

    # --------------------------------------------------------------- requests

    def warm(self, path: Path) -> None:
        """Build the id index of the folder of `path` now rather than on the first request."""
        found = self._folder(path)
        if found is not None:
            found[0].index

    def _folder(self, path: Path) -> tuple[_Folder, str] | None:
        path = Path(path).resolve()
        root = self.root_for(path)
        if root is None:
            return None
        folder = self.folders.get(root)
        if folder is None:
            self.analyze(path)
            folder = self.folders[root]
        return folder, _rel(path, root)

    def occurrence_at(self, path: Path, pos: Pos) -> tuple[_Folder, Occurrence] | None:
        found = self._folder(path)
        if found is None:
            return None
        folder, rel = found
        text = self.text(path) or ""
        for occ in folder.index.in_file(rel):
            r = self._occ_range(folder, occ, text)
            if r.start[0] == pos[0] and r.start[1] <= pos[1] <= r.end[1]:
                return folder, occ
        return None

    def _occ_range(self, folder: _Folder, occ: Occurrence, text: str | None = None) -> Range:
        if text is None:
            text = self.text(folder.root / occ.file) or ""
        lines = text.split("\n")
        line, col = occ.line - 1, occ.column - 1
        src = lines[line] if line < len(lines) else ""
        quoted = col < len(src) and src[col] in "'\""
        start = col + 1 if quoted else col
        return Range((line, start), (line, start + len(occ.id)))

    def _loc(self, folder: _Folder, occ: Occurrence) -> Location:
        return Location((folder.root / occ.file).resolve(), self._occ_range(folder, occ))

    def definition(self, path: Path, pos: Pos) -> list[Location]:
        """Where the id under the cursor is defined."""
        hit = self.occurrence_at(path, pos)
        if hit is None:
            return []
        folder, occ = hit
        key = folder.index.resolve(occ)
        if key is None:
            return []
        return [self._loc(folder, folder.index.definitions[key])]

    def references(self, path: Path, pos: Pos, include_declaration: bool = True) -> list[Location]:
        """Every use of the id under the cursor (and its definition, if asked)."""
        hit = self.occurrence_at(path, pos)
        if hit is None:
            return []
        folder, occ = hit
        key = folder.index.resolve(occ)
        if key is None:
            return []
        out = [self._loc(folder, o) for o in folder.index.references_to(key)]
        if include_declaration:
            out.insert(0, self._loc(folder, folder.index.definitions[key]))
        return out

    def completions(self, path: Path, pos: Pos) -> list[Completion]:
        """Ids that fit where the cursor is: stages after `to:`, lanes after `lane:`, ..."""
        found = self._folder(path)
        text = self.text(path)
        if found is None or text is None:
            return []
        folder, _ = found
        ctx = context_at(text, *pos)
        if ctx is None or ctx.on_key:
            return []
        target = field_at(ctx.keys)
        if target is None or target not in REFS:
            return []
        replace = Range((pos[0], ctx.word_start), (pos[0], ctx.word_end))
        out = []
        for section in REFS[target]:
            for ident in folder.index.ids(section):
                if not ident.startswith(ctx.prefix):
                    continue
                entity = folder.index.entities[(section, ident)]
                title = next((entity[k] for k in ("name", "label", "title") if isinstance(entity.get(k), str)), "")
                out.append(Completion(ident, f"{SINGULAR.get(section, section)}: {title}".rstrip(": "),
                                      describe_entity(folder.index, (section, ident)), replace))
        return out

    def hover(self, path: Path, pos: Pos) -> tuple[str, Range] | None:
        """Markdown for the key or id under the cursor."""
        if self.root_for(path) is None:
            return None
        hit = self.occurrence_at(path, pos)
        text = self.text(path) or ""
        ctx = context_at(text, *pos)
        target = field_at(ctx.keys) if ctx is not None else None
        parts = []
        rng = None
        if hit is not None:
            folder, occ = hit
            key = folder.index.resolve(occ)
            rng = self._occ_range(folder, occ, text)
            if key is not None:
                parts.append(describe_entity(folder.index, key))
            else:
                names = " or ".join(f"`{t}`" for t in occ.targets)
                parts.append(f"`{occ.id}` is not defined in {names}.")
        if target is not None:
            parts.append(describe_key(*target))
            if rng is None and ctx is not None:
                rng = Range((pos[0], ctx.word_start), (pos[0], ctx.word_end))
        if not parts:
            return None
        return "\n\n---\n\n".join(parts), rng


def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def _safe_files(root: Path) -> list[Path]:
    try:
        return playbook_files(root)
    except OSError:
        return []


def _node_ends(text: str) -> dict[Pos, Pos]:
    """Start -> end of every YAML node of a file (scalars win over collections starting at the same place)."""
    try:
        nodes = _compose_c(text)
        if nodes is None:
            yaml = YAML(typ="safe", pure=True)
            yaml.version = (1, 2)
            nodes = list(yaml.compose_all(text))
    except Exception:  # a file that does not parse: ranges fall back to the word at the position
        return {}
    scalars: dict[Pos, Pos] = {}
    collections: dict[Pos, Pos] = {}
    seen: set[int] = set()
    todo = [n for n in nodes if n is not None]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        start = (n.start_mark.line, n.start_mark.column)
        end = (n.end_mark.line, n.end_mark.column)
        if isinstance(n, ScalarNode):
            scalars[start] = end
        else:
            collections.setdefault(start, end)
            if isinstance(n, MappingNode):
                for k, v in n.value:
                    todo.extend((k, v))
            elif isinstance(n, SequenceNode):
                todo.extend(n.value)
    return {**collections, **scalars}
