"""Loader paths the command-line tests do not reach: editor buffers and the parse cache,
source-map fallbacks, links outside the repository, and the defensive error paths.

Written from the mutation report of generator/load.py (`make mutation`): each test pins
behaviour a one-token change there used to leave unnoticed.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from ruamel.yaml.error import YAMLError

from generator import load
from generator.errors import ProcessErrors, UsageError
from generator.load import MAX_FILE_BYTES, Loc, SourceMap, load_data, load_file

BASE = Path(__file__).parent / "fixtures" / "rules" / "base"


@pytest.fixture
def pb(tmp_path):
    shutil.copytree(BASE, tmp_path / "pb")
    return tmp_path / "pb"


def _problems(root: Path, **kw) -> list[tuple]:
    with pytest.raises(ProcessErrors) as info:
        load_data(root, display_root=root, **kw)
    return [(p.file, p.line, p.column, p.code) for p in info.value.problems]


# ------------------------------------------------------------------ source map


def test_locate_falls_back_to_the_nearest_located_ancestor():
    a, ab, key = Loc("f.yaml", 1, 1), Loc("f.yaml", 2, 3), Loc("f.yaml", 4, 5)
    smap = SourceMap(values={("a",): a, ("a", "b"): ab}, keys={("a", "k"): key})
    assert smap.locate(("a", "b")) == ab
    assert smap.locate(("a", "b", "c")) == ab  # one level up, not two
    assert smap.locate(("a", "b", "c", "d")) == ab
    assert smap.locate(("a", "k"), key=True) == key
    assert smap.locate(("a", "b"), key=True) == ab  # no key location: the value's
    assert smap.locate(("a", "b", "c"), key=True) == ab
    assert smap.locate(("zzz", 3)) == Loc("?", 1, 1)  # nothing located at all
    smap.values[()] = Loc("root.yaml", 1, 1)
    assert smap.locate(("zzz", 3)) == Loc("root.yaml", 1, 1)


def test_locations_and_parsed_files_are_immutable(pb):
    """The parse cache hands the same Loc and Doc objects to every later load (and the language
    server keeps them), so none may be changed in place; frozen also makes them usable as keys."""
    import dataclasses

    loc = Loc("f.yaml", 1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'line'"):
        loc.line = 3
    assert {loc: 1}[Loc("f.yaml", 1, 2)] == 1
    doc = load.Doc("f.yaml", {}, {})
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'data'"):
        doc.data = {"lanes": []}


def test_the_root_of_a_loaded_playbook_is_its_first_file(pb):
    loaded = load_data(pb, display_root=pb)
    assert loaded.files[0] == "events.yaml"
    assert loaded.source_map.locate(("no-such-section",)) == Loc("events.yaml", 1, 1)


# ------------------------------------------------------- buffers and the cache


def test_an_unsaved_buffer_is_read_instead_of_the_disk(pb):
    playbook = (pb / "playbook.yaml").resolve()
    text = playbook.read_text(encoding="utf-8").replace("name: Marketing", "name: Growth")
    loaded = load_data(pb, display_root=pb, overlay={playbook: text})
    assert [lane["name"] for lane in loaded.data["lanes"]] == ["Growth", "Contact center"]
    on_disk = load_data(pb, display_root=pb)
    assert [lane["name"] for lane in on_disk.data["lanes"]] == ["Marketing", "Contact center"]


def test_unsaved_new_files_under_the_folder_join_the_playbook(pb, tmp_path):
    root = pb.resolve()
    overlay = {
        root / "new.yaml": "lanes:\n  - {id: intake, name: Intake}\n",
        root / "sub" / "more.yml": "lanes:\n  - {id: billing, name: Billing}\n",
        root / ".hidden.yaml": "lanes: [\n",  # hidden: ignored like on disk
        root / ".drafts" / "x.yaml": "lanes: [\n",
        root / "notes.txt": "lanes: [\n",  # not YAML
        tmp_path / "elsewhere.yaml": "lanes: [\n",  # outside the folder
    }
    loaded = load_data(pb, display_root=pb, overlay=overlay)
    assert [lane["id"] for lane in loaded.data["lanes"]] == ["intake", "marketing", "contact-center", "billing"]
    assert "new.yaml" in loaded.files and os.path.join("sub", "more.yml") in loaded.files


def test_an_oversized_buffer_is_refused_like_an_oversized_file(pb):
    playbook = (pb / "playbook.yaml").resolve()
    big = "# " + "x" * MAX_FILE_BYTES + "\n"
    assert _problems(pb, overlay={playbook: big}) == [("playbook.yaml", 1, 1, "Y006")]
    # Measured in UTF-8 bytes, not characters.
    wide = "# " + "é" * (MAX_FILE_BYTES // 2) + "\n"
    assert len(wide) < MAX_FILE_BYTES
    assert _problems(pb, overlay={playbook: wide}) == [("playbook.yaml", 1, 1, "Y006")]


def test_an_unchanged_file_is_parsed_once_and_keeps_its_problems(pb, monkeypatch):
    parsed: list[str] = []
    real = load._load_text

    def counting(text, rel, problems):
        parsed.append(rel)
        return real(text, rel, problems)

    monkeypatch.setattr(load, "_load_text", counting)
    (pb / "zz.yaml").write_text("lanes:\n  - id: a\n    name: A\n    name: B\n", encoding="utf-8")
    cache: load.ParseCache = {}
    first = _problems(pb, cache=cache)
    assert first == [("zz.yaml", 4, 5, "Y002")]
    assert sorted(cache) == sorted(parsed) and len(parsed) == 8
    assert all(entry[0] == (pb / rel).read_text(encoding="utf-8") for rel, entry in cache.items())
    parsed.clear()
    assert _problems(pb, cache=cache) == first  # the cached parse brings its problem back
    assert parsed == []
    (pb / "zz.yaml").write_text("lanes:\n  - {id: a, name: A}\n", encoding="utf-8")
    loaded = load_data(pb, display_root=pb, cache=cache)  # only the edited file is parsed again
    assert parsed == ["zz.yaml"]
    assert [lane["id"] for lane in loaded.data["lanes"]] == ["marketing", "contact-center", "a"]
    parsed.clear()
    again = load_data(pb, display_root=pb, cache=cache)
    assert parsed == [] and again.data == loaded.data


def test_a_buffer_edit_is_parsed_again_under_the_cache(pb):
    playbook = (pb / "playbook.yaml").resolve()
    cache: load.ParseCache = {}
    text = playbook.read_text(encoding="utf-8")
    load_data(pb, display_root=pb, overlay={playbook: text}, cache=cache)
    edited = text.replace("name: Marketing", "name: Growth")
    loaded = load_data(pb, display_root=pb, overlay={playbook: edited}, cache=cache)
    assert loaded.data["lanes"][0]["name"] == "Growth"
    assert cache["playbook.yaml"][0] == edited


def test_a_cached_file_that_became_unreadable_is_refused(pb):
    cache: load.ParseCache = {}
    load_data(pb, display_root=pb, cache=cache)
    (pb / "playbook.yaml").write_bytes(b"lanes: [\xff]\n")
    assert _problems(pb, cache=cache) == [("playbook.yaml", 1, 9, "Y005")]


# ------------------------------------------------------------------- links


def test_a_link_outside_the_repository_is_refused_and_the_rest_still_loads(pb, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("lanes: [{id: secret-lane, name: Secret}]\n", encoding="utf-8")
    os.symlink(outside, pb / "a-link.yaml")  # sorts first
    (pb / "zz.yaml").write_text("lanes: [\n", encoding="utf-8")  # a later file still gets read
    with pytest.raises(ProcessErrors) as info:
        load_data(pb, display_root=pb)
    problems = info.value.problems
    assert [(p.file, p.line, p.column, p.code) for p in problems] == [("a-link.yaml", 1, 1, "Y008"),
                                                                       ("zz.yaml", 2, 1, "Y001")]
    assert problems[0].message.startswith("symbolic link to a file outside the repository; refused")
    assert "secret" not in " ".join(p.text() for p in problems).lower()


# ------------------------------------------------------- defensive error paths


def test_a_file_that_grows_past_the_cap_while_read_is_refused(tmp_path):
    """stat() said small, the read found more: a FIFO reports size 0 and then delivers data."""
    fifo = tmp_path / "grows.yaml"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "wb") as fh:
            try:
                fh.write(b"#" * (MAX_FILE_BYTES + 10))
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed)
    writer.start()
    problems: list = []
    try:
        assert load_file(fifo, "grows.yaml", problems) is None
    finally:
        writer.join(timeout=30)
    assert [(p.file, p.line, p.column, p.code, p.message) for p in problems] == [
        ("grows.yaml", 1, 1, "Y006", f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes")]


def test_an_unreadable_path_is_a_usage_error_with_the_reason(tmp_path):
    folder = tmp_path / "dir.yaml"
    folder.mkdir()  # open() of a folder fails on every platform, root or not
    with pytest.raises(UsageError, match=r"^x\.yaml: cannot read: Is a directory$"):
        load_file(folder, "x.yaml", [])


def test_an_unplaced_yaml_error_is_reported_at_the_file_start(tmp_path, monkeypatch):
    """ruamel raises only located errors for bad syntax; any other YAMLError still becomes a problem."""
    def unplaced(self, text):
        raise YAMLError("something odd\nsecond line")

    monkeypatch.setattr(load, "USE_C", False)
    monkeypatch.setattr(load.YAML, "compose_all", unplaced)
    path = tmp_path / "x.yaml"
    path.write_text("lanes: []\n", encoding="utf-8")
    problems: list = []
    assert load_file(path, "x.yaml", problems) is None
    assert [(p.file, p.line, p.column, p.code, p.message) for p in problems] == [
        ("x.yaml", 1, 1, "Y001", "YAML error: something odd")]


def test_nesting_past_pythons_recursion_limit_on_the_pure_parser(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "USE_C", False)
    path = tmp_path / "deep.yaml"
    path.write_text("lanes: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    problems: list = []
    assert load_file(path, "deep.yaml", problems) is None
    assert [(p.file, p.line, p.column, p.code) for p in problems] == [("deep.yaml", 1, 1, "Y004")]


# ------------------------------------------------------------ the documented caps


def _many(nodes: int) -> str:
    """A file of exactly `nodes` nodes and no alias: a mapping, its key, a list, its items."""
    return "lanes: [" + ",".join(["1"] * (nodes - 3)) + "]\n"


def test_the_documented_caps_hold_exactly(tmp_path):
    """README: files over 1 MB are refused; Y004 names the node cap, 200,000 (libyaml path: the pure one is slow)."""
    path = tmp_path / "x.yaml"
    path.write_text("#" * (1_000_000 - 1) + "\n", encoding="utf-8")
    problems: list = []
    assert load_file(path, "x.yaml", problems) is not None and problems == []
    path.write_text("#" * 1_000_000 + "\n", encoding="utf-8")
    assert load_file(path, "x.yaml", problems) is None
    assert [p.message for p in problems] == ["file is 1,000,001 bytes; the limit is 1,000,000"]

    problems = []
    path.write_text(_many(200_000), encoding="utf-8")
    assert load_file(path, "x.yaml", problems) is not None and problems == []
    path.write_text(_many(200_001), encoding="utf-8")
    assert load_file(path, "x.yaml", problems) is None
    assert [(p.code, p.message) for p in problems] == [
        ("Y004", "the document expands to more than 200,000 nodes through aliases")]



@pytest.mark.parametrize("use_c", [True, False], ids=["libyaml", "pure"])
def test_nesting_cap_is_the_same_on_both_parsers(tmp_path, monkeypatch, use_c):
    monkeypatch.setattr(load, "USE_C", use_c and load._CParser is not None)
    path = tmp_path / "x.yaml"
    problems: list = []
    path.write_text("lanes: " + "[" * 100 + "]" * 100 + "\n", encoding="utf-8")  # root map 0, lanes' list 1
    assert load_file(path, "x.yaml", problems) is not None and problems == []
    path.write_text("lanes: " + "[" * 101 + "]" * 101 + "\n", encoding="utf-8")
    assert load_file(path, "x.yaml", problems) is None
    assert [(p.line, p.column, p.message) for p in problems] == [(1, 1, "the document nests more than 100 levels deep")]


@pytest.mark.parametrize("text", ["&x [*x]\n", "&x {a: *x}\n", "- &x [*x]\n"])
def test_a_document_that_contains_itself_is_refused(tmp_path, text):
    """A cycle counts as unbounded wherever it sits, the document's root included."""
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list = []
    assert load_file(path, "x.yaml", problems) is None
    assert [(p.line, p.column, p.code) for p in problems] == [(1, 1, "Y004")]
    assert "more than 200,000 nodes through aliases" in problems[0].message


@pytest.mark.parametrize("text, data", [("", {}), ("# to be written\n", {}), ("---\n", None)])
def test_a_file_without_a_document_is_data_not_a_failure(tmp_path, text, data):
    """A None result means "refused, see the problems"; a blank file (no document: {}, an empty
    one: null) is data, which the history snapshot and `playbook owners` tell from a broken file."""
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    for result, problems in ((load_file(path, "x.yaml", p := []), p),
                             (load.load_bytes(text.encode(), "x.yaml", q := []), q)):
        assert result is not None and result[0] == data and problems == []


# ---------------------------------------------------------------- the merge


def test_blank_files_add_nothing_and_the_files_after_them_still_count(pb):
    (pb / "0-blank.yaml").write_text("", encoding="utf-8")
    (pb / "0-comment.yaml").write_text("# lanes will go here\n", encoding="utf-8")
    (pb / "0-empty-doc.yaml").write_text("---\n", encoding="utf-8")
    loaded = load_data(pb, display_root=pb)
    assert loaded.files[:3] == ["0-blank.yaml", "0-comment.yaml", "0-empty-doc.yaml"]
    assert [lane["id"] for lane in loaded.data["lanes"]] == ["marketing", "contact-center"]
    assert len(loaded.data["stages"]) == 4


def test_a_file_that_is_not_a_mapping_is_reported_and_the_rest_still_checked(pb):
    (pb / "0-list.yaml").write_text("- lanes\n- stages\n", encoding="utf-8")
    (pb / "zz.yaml").write_text("lanse: []\n", encoding="utf-8")
    with pytest.raises(ProcessErrors) as info:
        load_data(pb, display_root=pb)
    found = [(p.file, p.line, p.column, p.code, p.message, p.hint) for p in info.value.problems]
    assert found == [("0-list.yaml", 1, 1, "Y007", "a process file must be a mapping of sections",
                      "start with a section name such as 'people':"),
                     ("zz.yaml", 1, 1, "S003", "unknown section 'lanse'", "did you mean 'lanes'?")]


def test_a_link_elsewhere_in_the_git_work_tree_is_read(tmp_path):
    """repository_root: the nearest folder with .git bounds what links may reach."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    shutil.copytree(BASE, repo / "process" / "pb")
    (repo / "shared").mkdir()
    (repo / "shared" / "lanes.yaml").write_text("lanes:\n  - {id: intake, name: Intake}\n", encoding="utf-8")
    os.symlink("../../shared/lanes.yaml", repo / "process" / "pb" / "shared-lanes.yaml")
    assert load.repository_root(repo / "process" / "pb") == repo.resolve()
    assert load.repository_root(tmp_path) == tmp_path.resolve()  # no .git above: the folder itself
    loaded = load_data(repo / "process" / "pb", display_root=repo)
    assert "intake" in [lane["id"] for lane in loaded.data["lanes"]]
    assert os.path.join("process", "pb", "shared-lanes.yaml") in loaded.files  # the link's name, not its target's


@pytest.mark.parametrize("text", ["lanes: !\n", "lanes: ! \nstages: []\n", "lanes: ! true\n", "lanes: ! 0800\n"])
def test_a_bare_tag_reads_the_same_on_both_parsers(text, monkeypatch):
    """`!` with nothing after it: libyaml would read text '', ruamel null; such scalars go to ruamel."""
    results = []
    for use_c in (True, False):
        monkeypatch.setattr(load, "USE_C", use_c and load._CParser is not None)
        problems: list = []
        result = load.load_bytes(text.encode(), "x.yaml", problems)
        results.append((result[0] if result else None, [p.text() for p in problems]))
    assert results[0] == results[1]
    assert results[0][1] == []


def test_a_syntax_error_says_what_the_parser_found(tmp_path):
    problems: list = []
    assert load.load_bytes(b"lanes:\n  - id: a\n    name: x\n   oops: 1\n", "x.yaml", problems) is None
    assert [p.text() for p in problems] == [
        "x.yaml:4:4: error[Y001]: YAML syntax error: while parsing a block collection expected <block end>, "
        "but found '<block mapping start>' (check indentation, colons and quotes on this line)"]


@pytest.mark.parametrize("text, expected", [
    ("lanse: []\nstages: {id: x}\n", [("S003", 1, 1), ("S001", 2, 1)]),  # unknown section, then a bad one
    ("stages:\nlanes: 5\n", [("S001", 2, 1)]),  # an empty list section, then a bad one
    ("lanes: 5\nstages: 7\n", [("S001", 1, 1), ("S001", 2, 1)]),
    ("consent: {}\nlanes: 5\n", [("Y002", 1, 1), ("S001", 2, 1)]),  # a mapping section defined twice, then a bad one
])
def test_every_section_of_a_file_is_checked_after_a_problem(pb, text, expected):
    (pb / "zz.yaml").write_text(text, encoding="utf-8")
    assert [(code, line, col) for _, line, col, code in _problems(pb)] == expected


@pytest.mark.parametrize("text, expected", [
    ("base: &b {id: x}\nlane:\n  <<: *b\n  name: A\n  name: B\n", [("Y007", 3, 3), ("Y002", 5, 3)]),
    ("? [a, b]\n: 1\nname: A\nname: B\n", [("Y007", 1, 3), ("Y002", 4, 1)]),
    ("name: A\nname: B\nname: C\n", [("Y002", 2, 1), ("Y002", 3, 1)]),
])
def test_every_key_of_a_mapping_is_checked_after_a_refused_key(tmp_path, text, expected):
    problems: list = []
    load.load_bytes(text.encode(), "x.yaml", problems)
    assert [(p.code, p.line, p.column) for p in problems] == expected


def test_values_inside_a_mapping_section_keep_their_own_place(pb):
    loaded = load_data(pb, display_root=pb)
    smap = loaded.source_map
    assert smap.locate(("playbook", "title")) == Loc("playbook.yaml", 5, 10)
    assert smap.locate(("playbook", "calendar", "hours", 0, "open")) == Loc("playbook.yaml", 16, 15)
    assert smap.locate(("playbook", "title"), key=True) == Loc("playbook.yaml", 5, 3)
    assert smap.locate(("lanes",), key=True) == Loc("playbook.yaml", 26, 1)
    # An item of a list section is placed at itself (its "- " entry), not at the list.
    (pb / "zz.yaml").write_text("lanes:\n  - {id: intake, name: Intake}\n", encoding="utf-8")
    smap = load_data(pb, display_root=pb).source_map
    assert smap.locate(("lanes", 0)) == Loc("playbook.yaml", 27, 5)
    assert smap.locate(("lanes", 2)) == Loc("zz.yaml", 2, 5)
    assert smap.locate(("lanes",)) == Loc("playbook.yaml", 27, 3)


@pytest.mark.parametrize("error, expected", [
    # A located error without marks (ruamel sets them; a future version might not): the file start.
    (lambda: __import__("ruamel.yaml.error", fromlist=["MarkedYAMLError"]).MarkedYAMLError(
        context="while scanning", problem="found odd text"), (1, 1, "YAML syntax error: while scanning found odd text")),
    # A reader error naming the character as text rather than a code point.
    (lambda: __import__("ruamel.yaml.reader", fromlist=["ReaderError"]).ReaderError(
        "x.yaml", 9, "\x07", "utf-8", "special characters are not allowed"),
     (2, 3, "character U+0007 is not allowed in YAML")),  # position 9: the "-" of line 2
])
def test_parser_errors_of_every_shape_are_located(tmp_path, monkeypatch, error, expected):
    def failing(self, text):
        raise error()

    monkeypatch.setattr(load, "USE_C", False)
    monkeypatch.setattr(load.YAML, "compose_all", failing)
    problems: list = []
    assert load.load_bytes(b"lanes:\n  - id: a\n", "x.yaml", problems) is None
    assert [(p.line, p.column, p.message) for p in problems] == [expected]


def test_the_merge_places_a_section_without_a_recorded_key_at_the_file_start():
    """merge_sections also merges git revisions, whose cached docs may lack a key's place."""
    merged, problems, offsets = load.merge_sections([load.Doc("x.yaml", {"lanse": [], "lanes": []}, {}),
                                                     load.Doc("y.yaml", {"lanes": [{"id": "a"}]}, {})])
    assert [(p.file, p.line, p.column, p.code) for p in problems] == [("x.yaml", 1, 1, "S003")]
    assert merged == {"lanes": [{"id": "a"}]} and offsets == [{"lanes": 0}, {"lanes": 0}]


@pytest.mark.parametrize("use_c", [True, False], ids=["libyaml", "pure"])
def test_a_deeply_nested_key_is_too_deep_not_just_a_bad_key(monkeypatch, use_c):
    """Nesting counts in keys as in values (with an alias, so the node walk does the counting)."""
    monkeypatch.setattr(load, "USE_C", use_c and load._CParser is not None)
    text = "a: &x 1\n? " + "[" * 101 + "]" * 101 + "\n: *x\n"  # one past the cap, in the key
    problems: list = []
    assert load.load_bytes(text.encode(), "x.yaml", problems) is None
    assert [(p.code, p.line, p.column) for p in problems] == [("Y004", 1, 1)]


@pytest.mark.parametrize("use_c", [True, False], ids=["libyaml", "pure"])
def test_a_key_nested_exactly_at_the_cap_is_only_a_bad_key(monkeypatch, use_c):
    """The other side of the test above: a key whose innermost list sits at depth 100 (the root
    mapping is depth 0, the key's outer list depth 1) is within the cap, so the one problem is
    the key's shape (Y007 at the key), not a Y004 for the whole document."""
    monkeypatch.setattr(load, "USE_C", use_c and load._CParser is not None)
    text = "a: &x 1\n? " + "[" * 100 + "]" * 100 + "\n: *x\n"
    problems: list = []
    load.load_bytes(text.encode(), "x.yaml", problems)
    assert [(p.code, p.line, p.column, p.message) for p in problems] == [
        ("Y007", 2, 3, "mapping keys must be plain text")]


def test_integers_with_a_leading_zero_stay_text_from_two_digits_on(tmp_path):
    """YAML 1.2 reads 01 as the number 1, but codes (a two-digit region code 01, -07) keep the
    text that was written; a lone 0 is still the number 0."""
    path = tmp_path / "x.yaml"
    path.write_text("a: 01\nb: 0\nc: -07\nd: 10\ne: +0\n", encoding="utf-8")
    problems: list = []
    data, _ = load_file(path, "x.yaml", problems)
    assert problems == []
    assert data == {"a": "01", "b": 0, "c": "-07", "d": 10, "e": 0}


def test_a_long_unknown_section_name_is_cut_to_60_characters_in_the_message(pb):
    """Unknown keys are the user's text: the message quotes at most their first 60 characters."""
    name = "s" * 59 + "TAIL-NOT-SHOWN"
    (pb / "zz.yaml").write_text(f"{name}: []\n", encoding="utf-8")
    with pytest.raises(ProcessErrors) as info:
        load_data(pb, display_root=pb)
    assert [(p.code, p.message) for p in info.value.problems] == [("S003", f"unknown section {'s' * 59 + 'T'!r}")]
