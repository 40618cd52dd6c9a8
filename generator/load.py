"""Load a playbook folder: safe YAML 1.2, located, merged by section.

Files are composed (never constructed) with ruamel.yaml, so no tag can run
code; we build plain data ourselves from the node tree, recording where each
value came from so every later error can point at `file:line:col`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

try:  # libyaml through ruamel.yaml.clib: the same nodes, several times faster to compose
    from _ruamel_yaml import CParser as _CParser
except ImportError:  # pragma: no cover - the pure parser alone gives the same results, slower
    _CParser = None

from .errors import Problem, ProcessErrors, UsageError
from .model import SECTIONS

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 200_000
"""Cap on nodes after alias expansion: a 'billion laughs' file stops here."""
MAX_DEPTH = 100
"""Cap on nesting; real process files nest fewer than ten levels."""

MAPPING_SECTIONS = frozenset(
    {"playbook", "matching", "qualification", "scoring", "routing", "consent", "appointments",
     "outcomes", "attribution", "conformance"}
)
YAML_SUFFIXES = (".yaml", ".yml")

_STD = "tag:yaml.org,2002:"
_SAFE_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}
_MERGE = _STD + "merge"

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class Loc:
    file: str
    line: int
    column: int


@dataclass
class SourceMap:
    """Where each value of the merged data came from, keyed by its path."""

    values: dict[Path_, Loc] = field(default_factory=dict)
    keys: dict[Path_, Loc] = field(default_factory=dict)

    def locate(self, path: Path_, key: bool = False) -> Loc:
        """Location of `path`, or of its nearest located ancestor."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), Loc("?", 1, 1))


@dataclass
class Loaded:
    """Merged plain data of one playbook and its source map."""

    root: Path
    data: dict[str, Any]
    source_map: SourceMap
    files: list[str]


class _Builder:
    """Turns one composed YAML document into plain data plus locations."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        self.values: dict[Path_, Loc] = {}
        self.keys: dict[Path_, Loc] = {}

    def loc(self, node: Node) -> Loc:
        m = node.start_mark
        return Loc(self.file, m.line + 1, m.column + 1)

    def problem(self, node: Node, code: str, message: str, hint: str = "") -> None:
        loc = self.loc(node)
        self.problems.append(Problem(loc.file, loc.line, loc.column, code, message, hint=hint))

    def build(self, node: Node, path: Path_) -> Any:
        self.values[path] = self.loc(node)
        tag = node.tag
        if tag not in _SAFE_TAGS:
            self.problem(
                node,
                "Y003",
                f"tag {tag!r} is not allowed; process files hold plain data only",
                hint="remove the tag; only strings, numbers, booleans, lists and mappings are allowed",
            )
            return None
        if isinstance(node, MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    self.problem(key_node, "Y007", "YAML merge keys (<<) are not supported",
                                 hint="repeat the keys, or split the shared part into its own entity")
                    continue
                if not isinstance(key_node, ScalarNode):
                    self.problem(key_node, "Y007", "mapping keys must be plain text",
                                 hint="use a word as the key, not a list or a mapping")
                    continue
                key = str(key_node.value)
                if key in out:
                    first = self.keys[path + (key,)]
                    self.problem(key_node, "Y002", f"duplicate key {key!r}",
                                 hint=f"first defined at line {first.line}; keep one")
                    continue
                self.keys[path + (key,)] = self.loc(key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return _scalar(node, tag)


# The YAML 1.2 core schema, applied by us so a `%YAML 1.1` directive in a file
# cannot bring back 1.1 resolution (`no` -> false, `1_000` -> 1000, sexagesimals).
_NULL = re.compile(r"^(~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")


def _scalar(node: ScalarNode, tag: str | None = None) -> Any:
    """Resolve a scalar under the YAML 1.2 core schema, keeping codes as text."""
    text = node.value
    if tag is None:
        tag = node.tag
    if node.style in ("'", '"', "|", ">") or tag == _STD + "str":
        return text
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        digits = text.lstrip("+-")
        # Codes like 0800 or ZIP 02139 are text, not numbers: keep what was written.
        if len(digits) > 1 and digits[0] == "0" and digits.isdigit():
            return text
        return int(text, 0) if digits[:2] in ("0x", "0o") else int(text)
    if _FLOAT.match(text):
        return float(text.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                     .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))
    # Timestamps stay text; date fields parse ISO text themselves.
    return text


class _TooDeep(Exception):
    pass


class _PureOnly(Exception):
    """Raised inside the C composer for input only the pure parser places exactly."""


def _node_count(node: Node, memo: dict[int, int], depth: int = 0) -> int:
    """Nodes after alias expansion, computed without expanding."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = MAX_NODES + 1  # a cycle counts as unbounded
    if depth > MAX_DEPTH:
        raise _TooDeep
    if isinstance(node, MappingNode):
        total = 1 + sum(_node_count(k, memo, depth + 1) + _node_count(v, memo, depth + 1) for k, v in node.value)
    elif isinstance(node, SequenceNode):
        total = 1 + sum(_node_count(v, memo, depth + 1) for v in node.value)
    else:
        total = 1
    memo[key] = min(total, MAX_NODES + 1)
    return memo[key]


def _too_big(size: int, rel: str, problems: list[Problem]) -> bool:
    if size > MAX_FILE_BYTES:
        problems.append(Problem(rel, 1, 1, "Y006", f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}",
                                hint="split the section into several files"))
        return True
    return False


def _read_text(path: Path, rel: str, problems: list[Problem]) -> str | None:
    try:
        if _too_big(path.stat().st_size, rel, problems):
            return None
        with path.open("rb") as fh:
            # Read one byte past the cap: the file may have grown since stat().
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{rel}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem(rel, 1, 1, "Y006", f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes",
                                hint="split the section into several files"))
        return None
    return _decode(raw, rel, problems)


def _decode(raw: bytes, rel: str, problems: list[Problem]) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        problems.append(Problem(rel, line, col, "Y005", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                                hint="save the file as UTF-8"))
        return None


USE_C = _CParser is not None
"""Compose with libyaml when it is installed; tests switch it off to compare both paths."""

# What only the pure parser may decide: directives (`%YAML 1.1` changes its resolution;
# libyaml's resolver here would ignore it), tabs (ruamel refuses some that libyaml reads
# as text), named tag handles (`!x!`: the two scan them differently), a block scalar whose
# first line is spaces (ruamel refuses some of those), and the line breaks and BOMs YAML 1.1
# and 1.2 disagree on.
_PURE_ONLY = re.compile(r"^%|[\t\x85\u2028\u2029\ufeff]|![\w-]+!|!![\w-]*!|[|>][^\n]*\n +(?:\r?\n|\Z)", re.MULTILINE)

_TAGS: dict[str, Tag] = {}

if _CParser is not None:

    class _CComposer(_CParser, VersionedResolver):
        """libyaml's parser and composer with the pure path's YAML 1.2 resolver."""

        def __init__(self, text: str):
            _CParser.__init__(self, text)
            VersionedResolver.__init__(self, version=(1, 2), loader=self)
            self._depth = 0
            self.nodes = 0  # composed, aliases not expanded
            self.deepest = 0  # the root is at 1
            self._table: dict[Any, Any] | None = None

        # The composer calls these around every node. Tracking depth here stops a deeply nested
        # file before libyaml's recursive composer overflows the C stack (it crashes near 25,000 levels).
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            self._depth += 1
            self.nodes += 1
            if self._depth > self.deepest:
                self.deepest = self._depth
                if self._depth > MAX_DEPTH + 2:
                    raise _TooDeep

        def ascend_resolver(self) -> None:
            self._depth -= 1

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is not ScalarNode:
                return VersionedResolver.resolve(self, kind, value, implicit)
            # An omitted value (`key:` with nothing after it) is placed differently by the
            # two parsers (libyaml: after the colon; ruamel: at the next token), and the
            # place shows in error messages. A scalar tagged `!` resolves as text in libyaml
            # but by its content in ruamel. Such files are rare; the pure parser takes them.
            if (not value and implicit[0]) or not (implicit[0] or implicit[1]):
                raise _PureOnly
            # VersionedResolver.resolve for scalars, with the YAML 1.2 table looked up once
            # per file instead of once per scalar (a directive never reaches this path).
            if implicit[0]:
                table = self._table
                if table is None:
                    table = self._table = self.versioned_resolver
                for tag, regexp in table.get(value[0], []) + table.get(None, []):
                    if regexp.match(value):
                        # One Tag per tag name: it caches its text, which the builder reads per node.
                        found = _TAGS.get(tag)
                        if found is None:
                            found = _TAGS[tag] = Tag(suffix=tag)
                        return found
            return self.DEFAULT_SCALAR_TAG


def _compose_c(text: str) -> list[Node] | None:
    """Documents composed by libyaml, or None when the pure parser must decide."""
    composed = _compose_c_counted(text)
    return composed[0] if composed is not None else None


def _compose_c_counted(text: str) -> tuple[list[Node], tuple[int, int] | None] | None:
    """Documents composed by libyaml and, for a file without aliases, (nodes, deepest level).

    None when the pure parser must decide: any error, any file nested past the cap, and
    anything the two parsers may read differently, so problems keep their exact wording
    and place. Without an alias (`*`) every node is composed once, so the composer's own
    count is what _node_count would find, without walking the tree again.
    """
    if not USE_C or _PURE_ONLY.search(text):
        return None
    parser = _CComposer(text)
    try:
        nodes = []
        while parser.check_node():
            nodes.append(parser.get_node())
    except Exception:
        return None
    finally:
        parser.dispose()
    # A file that is not a mapping is an error anyway, and a top-level block scalar is
    # where the two disagree on what counts as a comment.
    if not all(isinstance(n, MappingNode) for n in nodes):
        return None
    counted = (parser.nodes, parser.deepest) if len(nodes) == 1 and "*" not in text else None
    return nodes, counted


def load_file(path: Path, rel: str, problems: list[Problem]) -> tuple[Any, _Builder] | None:
    """Parse one file into plain data; problems are appended, never raised."""
    text = _read_text(path, rel, problems)
    if text is None:
        return None
    return _load_text(text, rel, problems)


def load_bytes(raw: bytes, rel: str, problems: list[Problem]) -> tuple[Any, _Builder] | None:
    """Like load_file, for content already in memory (a git blob): the same checks and problems."""
    if _too_big(len(raw), rel, problems):
        return None
    text = _decode(raw, rel, problems)
    if text is None:
        return None
    return _load_text(text, rel, problems)


def _load_text(text: str, rel: str, problems: list[Problem]) -> tuple[Any, _Builder] | None:
    composed = _compose_c_counted(text)
    if composed is not None:
        return _build(composed[0], rel, problems, composed[1])
    nodes = _compose_pure(text, rel, problems)
    if nodes is None:
        return None
    return _build(nodes, rel, problems)


def _compose_pure(text: str, rel: str, problems: list[Problem]) -> list[Node] | None:
    """Documents composed by ruamel's pure-Python parser; its errors become located problems."""
    # The safe composer: nodes with marks, no comment tracking (faster than "rt"); nothing is constructed.
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    try:
        return list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = " ".join(x for x in (exc.context, exc.problem) if x) or "YAML syntax error"
        problems.append(Problem(rel, line, col, "Y001", f"YAML syntax error: {msg}",
                                hint="check indentation, colons and quotes on this line"))
        return None
    except ReaderError as exc:
        ch = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        problems.append(Problem(rel, line, col, "Y001", f"character U+{ch:04X} is not allowed in YAML",
                                hint="remove the control character"))
        return None
    except YAMLError as exc:
        problems.append(Problem(rel, 1, 1, "Y001", f"YAML error: {str(exc).splitlines()[0]}"))
        return None
    except RecursionError:
        problems.append(Problem(rel, 1, 1, "Y004", f"the document nests more than {MAX_DEPTH} levels deep",
                                hint="flatten the structure"))
        return None


def _build(nodes: list[Node], rel: str, problems: list[Problem],
           counted: tuple[int, int] | None = None) -> tuple[Any, _Builder] | None:
    nodes = [n for n in nodes if n is not None]
    builder = _Builder(rel, problems)
    if not nodes:
        return {}, builder
    if len(nodes) > 1:
        builder.problem(nodes[1], "Y001", "a process file holds one YAML document",
                        hint="remove the '---' separator or split into two files")
        return None
    root = nodes[0]
    try:
        if counted is None:
            count = _node_count(root, {})
        else:
            total, deepest = counted
            if deepest - 1 > MAX_DEPTH:  # _node_count's depth starts at 0 for the root
                raise _TooDeep
            count = min(total, MAX_NODES + 1)
    except _TooDeep:
        builder.problem(root, "Y004", f"the document nests more than {MAX_DEPTH} levels deep",
                        hint="flatten the structure")
        return None
    if count > MAX_NODES:
        builder.problem(root, "Y004", f"the document expands to more than {MAX_NODES:,} nodes through aliases",
                        hint="aliases that repeat aliases grow exponentially, or refer to themselves; write the data out")
        return None
    data = builder.build(root, ())
    return data, builder


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def playbook_files(root: Path) -> list[Path]:
    """YAML files of a playbook folder in a stable order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def repository_root(path: Path) -> Path:
    """The git work tree holding `path` (a folder with `.git`), else the folder itself.

    What process files may link to: a symbolic link under process/ that leads
    outside it is refused unread.
    """
    start = Path(path).resolve()
    for p in (start, *start.parents):
        if (p / ".git").exists():
            return p
    return start


def outside_link(rel: str) -> Problem:
    """The problem for a process file that is a symbolic link leading outside the repository."""
    return Problem(rel, 1, 1, "Y008", "symbolic link to a file outside the repository; refused, the file was not read",
                   hint="copy the file into the repository, or link to one inside it")


@dataclass(frozen=True)
class Doc:
    """One parsed process file, as the merge sees it."""

    rel: str
    data: Any
    keys: dict[str, Loc]
    """Where each top-level section key was written."""


def merge_sections(docs: list[Doc]) -> tuple[dict[str, Any], list[Problem], list[dict[str, int]]]:
    """Merge parsed files by section: the one merge, for files on disk and for git revisions alike.

    Pure: returns the merged data, the problems, and per file where its items start
    in each merged list (-1 for a mapping section, taken whole), for the source map.
    """
    problems: list[Problem] = []
    merged: dict[str, Any] = {}
    owner: dict[str, Loc] = {}
    all_offsets: list[dict[str, int]] = []
    for doc in docs:
        offsets: dict[str, int] = {}
        all_offsets.append(offsets)
        data, rel = doc.data, doc.rel
        if data is None or data == {}:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(rel, 1, 1, "Y007", "a process file must be a mapping of sections",
                                    hint=f"start with a section name such as {SECTIONS[1]!r}:"))
            continue
        for section, value in data.items():
            kloc = doc.keys.get(section) or Loc(rel, 1, 1)
            if section not in SECTIONS:
                problems.append(Problem(rel, kloc.line, kloc.column, "S003", f"unknown section {section[:60]!r}",
                                        hint=_did_you_mean(section, SECTIONS) or "see `playbook schema`"))
                continue
            if value is None and section not in MAPPING_SECTIONS:
                continue  # `stages:` with nothing under it adds nothing
            if section not in MAPPING_SECTIONS and not isinstance(value, list):
                # Reported here: merged with other files' lists, it would be blamed on the first file.
                problems.append(Problem(rel, kloc.line, kloc.column, "S001",
                                        f"section {section!r} must be a list of entries",
                                        hint="start each entry with '- '"))
                continue
            if section in MAPPING_SECTIONS:
                if section in owner:
                    first = owner[section]
                    problems.append(Problem(rel, kloc.line, kloc.column, "Y002",
                                            f"section {section!r} is already defined in {first.file}:{first.line}",
                                            hint="a mapping section lives in one file; merge the two"))
                    continue
                owner[section] = kloc
                merged[section] = value
                offsets[section] = -1
            else:
                existing = merged.setdefault(section, [])
                offsets[section] = len(existing)
                existing.extend(value)
    return merged, problems, all_offsets


def playbook_dirs(path: Path) -> list[Path]:
    """The playbook folders at `path`: itself if it holds YAML, else its sub-folders that do."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(f"{path}: not a folder")
    if any(p.suffix in YAML_SUFFIXES for p in path.iterdir() if p.is_file()):
        return [path]
    found = sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith(".") and playbook_files(d))
    if not found:
        raise UsageError(f"{path}: no playbook found (a folder of .yaml files)")
    return found


ParseCache = dict[str, tuple[str, Any, list[Problem]]]
"""rel path -> (text, parse result, its problems): the last parse of each file, for the editor."""


def _load_cached(path: Path, rel: str, problems: list[Problem], overlay: dict[Path, str] | None,
                 cache: ParseCache | None) -> tuple[Any, _Builder] | None:
    """load_file, reading `overlay`'s text for an open editor buffer and reusing an unchanged file's parse."""
    own: list[Problem] = []
    text = overlay.get(path) if overlay is not None else None
    if text is None:
        text = _read_text(path, rel, own)
    elif _too_big(len(text.encode("utf-8", "surrogatepass")), rel, own):
        text = None
    if text is None:
        problems.extend(own)
        return None
    hit = cache.get(rel) if cache is not None else None
    if hit is not None and hit[0] == text:
        problems.extend(hit[2])
        return hit[1]
    result = _load_text(text, rel, own)
    if cache is not None:
        cache[rel] = (text, result, own)  # read only from here on: the merge copies lists and never edits
    problems.extend(own)
    return result


def load_data(root: Path, display_root: Path | None = None, overlay: dict[Path, str] | None = None,
              cache: ParseCache | None = None) -> Loaded:
    """Read every YAML file of a playbook folder and merge them by section.

    Raises ProcessErrors with every problem found across all files. The language
    server passes `overlay` (absolute path -> unsaved text, read instead of the disk)
    and `cache`, so an edit re-parses only the file that changed.
    """
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder")
    base = display_root if display_root is not None else Path.cwd()
    problems: list[Problem] = []
    smap = SourceMap()
    files = playbook_files(root)
    if overlay:
        # A buffer not yet saved under the folder is part of the playbook too.
        resolved = root.resolve()
        files = sorted({p.resolve() for p in files} | {
            p for p in overlay if p.suffix in YAML_SUFFIXES and resolved in p.parents
            and not any(part.startswith(".") for part in p.relative_to(resolved).parts)})
    if not files:
        raise UsageError(f"{root}: no .yaml files found")
    rels: list[str] = []
    repo = repository_root(root)
    docs: list[Doc] = []
    builders: list[_Builder] = []
    for path in files:
        try:  # the link's own name, never its target's
            rel = str((path.parent.resolve() / path.name).relative_to(base.resolve()))
        except ValueError:
            rel = str(path)
        rels.append(rel)
        if not path.resolve().is_relative_to(repo):
            # Checked before reading: nothing of the outside file (keys, values) may reach a message.
            problems.append(outside_link(rel))
            continue
        result = load_file(path, rel, problems) if overlay is None and cache is None else \
            _load_cached(path, rel, problems, overlay, cache)
        if result is None:
            continue
        data, b = result
        docs.append(Doc(rel, data, {k[0]: loc for k, loc in b.keys.items() if len(k) == 1}))
        builders.append(b)
    merged, merge_problems, offsets = merge_sections(docs)
    problems.extend(merge_problems)
    for b, off in zip(builders, offsets):
        _rebase(b, off, smap)
    if problems:
        raise ProcessErrors(problems)
    smap.values.setdefault((), Loc(rels[0], 1, 1))
    return Loaded(root=root, data=merged, source_map=smap, files=rels)


def _rebase(b: _Builder, offsets: dict[str, int], smap: SourceMap) -> None:
    """Copy one file's locations into the merged map, shifting list indexes.

    `offsets[section]` is where this file's items start in the merged list,
    or -1 for a mapping section, which is taken whole.
    """
    for table, target in ((b.values, smap.values), (b.keys, smap.keys)):
        for path, loc in table.items():
            if not path or path[0] not in offsets:
                continue
            off = offsets[path[0]]
            if off >= 0 and len(path) > 1 and isinstance(path[1], int):
                target[(path[0], off + path[1]) + path[2:]] = loc
            elif off < 0 or len(path) == 1:
                target.setdefault(path, loc)
