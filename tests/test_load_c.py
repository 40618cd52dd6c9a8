"""The libyaml (C) compose path gives exactly what the pure-Python path gives.

`generator.load` composes with libyaml when ruamel.yaml.clib is installed and
hands anything the two parsers may read differently to the pure parser. These
tests load the same inputs both ways and compare everything later code sees:
data, source maps (every line and column), problems, and the node trees.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from generator import load
from generator.errors import ProcessErrors

pytestmark = [pytest.mark.skipif(load._CParser is None, reason="ruamel.yaml.clib is not installed"),
              pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "process" / "lead-management"
FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "rules" / "base"
PLAYBOOKS = [p for p in [DEFAULT, BASE, FIXTURES / "history" / "playbook", FIXTURES / "export" / "clinic",
                         FIXTURES / "conformance" / "playbook", FIXTURES / "site" / "clinic"] if p.is_dir()]


def _outcome(root: Path, use_c: bool, monkeypatch) -> tuple:
    """What load_data gives on one path: data and source map, or the problems."""
    monkeypatch.setattr(load, "USE_C", use_c)
    try:
        loaded = load.load_data(root, display_root=root)
    except ProcessErrors as exc:
        return ("problems", [p.as_dict() for p in exc.problems])
    return ("loaded", loaded.data, loaded.source_map.values, loaded.source_map.keys, loaded.files)


def _same_both_ways(root: Path, monkeypatch) -> tuple:
    c, pure = _outcome(root, True, monkeypatch), _outcome(root, False, monkeypatch)
    assert repr(c) == repr(pure)  # repr: a `.nan` value is never equal to itself
    assert c[2:] == pure[2:]
    return c


def _shape(node, seen: dict[int, int]):
    """A node tree as comparable tuples; shared (aliased) nodes appear once, then by number."""
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    mark = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, ScalarNode):
        # libyaml spells the plain style '' where ruamel says None; both mean plain.
        return ("scalar", node.tag, node.style or None, node.value, mark)
    if isinstance(node, SequenceNode):
        return ("seq", node.tag, mark, [_shape(v, seen) for v in node.value])
    assert isinstance(node, MappingNode)
    return ("map", node.tag, mark, [(_shape(k, seen), _shape(v, seen)) for k, v in node.value])


def _pure_nodes(text: str):
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    return list(yaml.compose_all(text))


# ------------------------------------------------------------- good playbooks


@pytest.mark.parametrize("root", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_playbooks_load_identically(root, monkeypatch):
    _same_both_ways(root, monkeypatch)


@pytest.mark.parametrize("root", PLAYBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_files_take_the_c_path_with_identical_nodes(root):
    taken = 0
    for path in load.playbook_files(root):
        text = path.read_text(encoding="utf-8")
        nodes = load._compose_c(text)
        if nodes is None:  # e.g. a tab or an omitted value somewhere: the pure parser reads it
            continue
        taken += 1
        assert [_shape(n, {}) for n in nodes] == [_shape(n, {}) for n in _pure_nodes(text)], path.name
    # Well-formed process files are what libyaml is for: most of them must take it.
    assert taken * 2 > len(load.playbook_files(root))


# ------------------------------------------------------------- bad input

BAD_INPUTS = {
    "syntax error": "lanes:\n  - id: a\n    name: x\n   oops: 1\n",
    "duplicate key": "lanes:\n  - id: sales\n    name: Sales\n    name: Sales again\n",
    "unsafe tag apply": "lanes:\n  - id: sales\n    name: !!python/object/apply:os.system ['true']\n",
    "unsafe tag name": "lanes:\n  - id: sales\n    name: !!python/name:os.system\n",
    "local tag": "lanes:\n  - id: sales\n    name: !python/object/apply:os.system ['true']\n",
    "binary tag": "lanes: !!binary aGk=\n",
    "alias bomb": "\n".join(['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
        f"{chr(i)}: &{chr(i)} [" + ",".join([f"*{chr(i - 1)}"] * 9) + "]" for i in range(ord("b"), ord("j"))]) + "\n",
    "self alias": "lanes: &x [*x]\n",
    "undefined alias": "lanes: [*nowhere]\n",
    "reused anchor": "lanes:\n  - &a {id: a, name: A}\n  - &a {id: b, name: B}\n",
    "nested 99": "lanes: " + "[" * 99 + "]" * 99 + "\n",
    "nested 100": "lanes: " + "[" * 100 + "]" * 100 + "\n",
    "nested 101": "lanes: " + "[" * 101 + "]" * 101 + "\n",
    "nested 102": "lanes: " + "[" * 102 + "]" * 102 + "\n",

    "nested 150": "lanes: " + "[" * 150 + "]" * 150 + "\n",
    "nested 600": "lanes: " + "[" * 600 + "]" * 600 + "\n",
    "nested block": "lanes:\n" + "".join("  " * i + "- \n" for i in range(1, 130)) + "  " * 130 + "- x\n",
    "control character": "lanes:\n  - id: a\n    name: a\x07b\n",
    "NUL": "lanes:\n  - id: a\n    name: a\x00b\n",
    "two documents": "lanes: []\n---\nroles: []\n",
    "just a list": "- just\n- a list\n",
    "a scalar": "just text\n",
    "top-level block scalar": ">\n#\n",
    "merge key": "lanes:\n  - <<: {id: a}\n    name: A\n",
    "complex key": "? [a, b]\n: 1\n",
    "unknown section": "lanes: []\nstagse: []\n",
    "YAML 1.1 directive": "%YAML 1.1\n---\nlanes:\n  - id: no\n    name: 0800\n    crm_value: 1_000\n",
    "TAG directive": "%TAG !e! tag:example.com,2000:\n---\nlanes: !e!x [a]\n",
    "named tag handle": "lanes: !e!x [a]\n",
    "norway and codes": "lanes:\n  - {id: no, name: on, crm_value: 0800}\n  - {id: y, name: 1_000, crm_value: 1:30}\n",
    "core schema": "lanes:\n  - {id: a, name: x, n: [true, False, ~, null, 12, -3, 1.5, 0x1F, 0o17, .inf, -.INF, .NaN, 1e3,"
                   " 2026-01-01, '12', !!str 12, !!int '7', ! 12, !, \"\", '']}\n",
    "empty values": "lanes:\n  - id: a\n    name:\n  -\n  - id:\n    name: B\n",
    "empty flow values": "lanes: [{id: a, name: }, {id: b, name:}, {id: , name: c}]\n",
    "empty section": "stages:\n# to be written\n",
    "windows line endings": "lanes:\r\n  - id: a\r\n    name: A\r\n    name: B\r\n",
    "tabs": "lanes:\n  - id: a\n    name: a\tb\n\t\n",
    "BOM": "\ufefflanes:\n  - id: bom\n    name: BOM\n",
    "unicode line breaks": "lanes:\n  - id: a\n    name: a\u2028b\x85c\u2029\n",
    "non-ASCII columns": "lanes:\n  - {id: caf\u00e9, name: \"Caf\u00e9 \U0001F600\", x: [\u00e9\u00e9, y]}\n",
    "block scalars": "lanes:\n  - id: a\n    name: |\n      one\n       two\n\n    note: >-\n      folded\n      text\n"
                     "    keep: |+\n      kept\n\n    x: |2\n        indented\n",
    "block scalar, spaces first": "lanes:\n  - id: a\n    name: >-\n \n       text\n        more\n",
    "escapes": "lanes:\n  - {id: a, name: \"\\x41\\/\\t\\N\\_\\u00e9\\U0001F600\\\\\", x: 'it''s'}\n",
    "bad escape": "lanes:\n  - {id: a, name: \"\\q\"}\n",
    "comments": "# head\nlanes: # after\n  # between\n  - id: a # x\n    name: A#not a comment\n",
    "multi-line plain": "lanes:\n  - id: a\n    name: one\n      two\n\n      three\n",
    "colons in flow": "lanes: [a:b, 'c: d', {e: f:g}, http://x.org/a]\n",
    "long key": "lanes:\n  - " + "k" * 1100 + ": 1\n",
    "document end": "lanes: []\n...\n",
    "explicit start": "--- \nlanes: []\n",
    "comment only": "# nothing yet\n",
    "empty file": "",
}


def _many(nodes: int) -> str:
    """A file of exactly `nodes` nodes and no alias: a mapping, its key, a list, its items."""
    return "lanes: [" + ",".join(["1"] * (nodes - 3)) + "]\n"


@pytest.mark.parametrize("nodes", [999, 1000, 1001])
def test_node_cap_without_aliases_behaves_the_same(tmp_path, monkeypatch, nodes):
    monkeypatch.setattr(load, "MAX_NODES", 1000)  # the real cap, 200,000, is slow on the pure path
    outcome = _same_both_ways(_case(tmp_path, {"zz-big.yaml": _many(nodes)}), monkeypatch)
    assert ("Y004" in repr(outcome)) == (nodes > 1000)


def _case(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "pb"
    shutil.copytree(BASE, root)
    for name, text in files.items():
        if isinstance(text, bytes):
            (root / name).write_bytes(text)
        else:
            (root / name).write_text(text, encoding="utf-8", newline="")
    return root


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_behaves_the_same(tmp_path, monkeypatch, name):
    text = BAD_INPUTS[name]
    _same_both_ways(_case(tmp_path, {"zz-bad.yaml": text}), monkeypatch)
    nodes = load._compose_c(text)
    if nodes is not None:  # when libyaml took it, its nodes match the pure parser's
        assert [_shape(n, {}) for n in nodes] == [_shape(n, {}) for n in _pure_nodes(text)]


def test_bytes_level_problems_are_the_same(tmp_path, monkeypatch):
    root = _case(tmp_path, {"a.yaml": b"lanes:\n  - id: cafe\n    name: Caf\xe9\n", "b.yaml": b"\xff\n",
                            "c.yaml": "lanes: [\n"})
    kind, problems = _same_both_ways(root, monkeypatch)
    assert [p["code"] for p in problems] == ["Y005", "Y005", "Y001"]


def _rule_cases():
    yaml = YAML(typ="safe", pure=True)
    for path in sorted((FIXTURES / "rules").glob("R*.yml")):
        for case in yaml.load(path.read_text(encoding="utf-8"))["cases"]:
            yield pytest.param(case, id=f"{path.stem}-{case['name']}")


@pytest.mark.parametrize("case", list(_rule_cases()))
def test_rule_fixture_cases_load_the_same(tmp_path, monkeypatch, case):
    root = _case(tmp_path, dict(case.get("files") or {}))
    for patch in case.get("replace", []):
        target = root / patch["file"]
        target.write_text(target.read_text(encoding="utf-8").replace(patch["old"], patch["new"]), encoding="utf-8")
    _same_both_ways(root, monkeypatch)


def test_directives_and_omitted_values_go_to_the_pure_parser():
    for text in ("%YAML 1.1\n---\na: no\n", "a:\nb: 1\n", "a: x\tb\n", "a: !e!x y\n", "- a\n"):
        assert load._compose_c(text) is None, text
    assert load._compose_c("a: [1, {b: c}]\n") is not None


def test_deep_nesting_never_reaches_libyamls_recursion(tmp_path):
    # libyaml's composer recurses in C and overflows the stack near 25,000 levels;
    # the loader must stop long before, in a child process so a crash cannot hide.
    path = tmp_path / "deep.yaml"
    path.write_text("lanes: " + "[" * 100_000 + "]" * 100_000 + "\n")
    code = textwrap.dedent(f"""
        from pathlib import Path
        from generator.load import load_file
        problems = []
        assert load_file(Path({str(path)!r}), "deep.yaml", problems) is None
        print([(p.code, p.line, p.column) for p in problems])
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[('Y004', 1, 1)]"


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_load_bytes_is_load_file_without_the_file(tmp_path, name):
    raw = BAD_INPUTS[name].encode("utf-8")
    path = tmp_path / "x.yaml"
    path.write_bytes(raw)
    from_file: list = []
    from_bytes: list = []
    a = load.load_file(path, "x.yaml", from_file)
    b = load.load_bytes(raw, "x.yaml", from_bytes)
    assert from_file == from_bytes
    assert (a is None) == (b is None)
    if a is not None:
        # repr: a `.nan` value is never equal to itself
        assert (repr(a[0]), a[1].values, a[1].keys) == (repr(b[0]), b[1].values, b[1].keys)


def test_load_bytes_size_and_encoding_problems():
    for raw in (b"lanes: [caf\xe9]\n", b"# " + b"x" * load.MAX_FILE_BYTES):
        problems: list = []
        assert load.load_bytes(raw, "x.yaml", problems) is None
        assert [p.code for p in problems] in (["Y005"], ["Y006"])


@pytest.mark.parametrize("name", sorted(BAD_INPUTS) + ["many nodes"])
def test_composer_count_is_node_count(name):
    text = BAD_INPUTS[name] if name in BAD_INPUTS else _many(load.MAX_NODES + 1)
    composed = load._compose_c_counted(text)
    if composed is None or composed[1] is None:
        return
    nodes, (total, deepest) = composed
    try:
        expected = load._node_count(nodes[0], {})
    except load._TooDeep:
        assert deepest - 1 > load.MAX_DEPTH
    else:
        assert deepest - 1 <= load.MAX_DEPTH and min(total, load.MAX_NODES + 1) == expected
