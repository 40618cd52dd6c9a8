"""The loader: safe YAML 1.2, located problems, merging by section.

Every bad input of the issue goes through the real command (`generator.cli.run`)
and is checked for its code, file, line and column, and for the absence of a
traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import run
from generator.errors import ProcessErrors, UsageError
from generator.load import MAX_FILE_BYTES, load_data, load_file, playbook_dirs

BASE = Path(__file__).parent / "fixtures" / "rules" / "base"


@pytest.fixture
def pb(tmp_path, monkeypatch):
    """A copy of the valid base playbook at ./pb, with the cwd at its parent."""
    shutil.copytree(BASE, tmp_path / "pb")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "pb"


def validate(capsys, *args: str) -> tuple[int, list[dict], str]:
    """Run `playbook validate --format json`; (exit code, problems, stderr)."""
    rc = run(["validate", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, json.loads(out) if out.strip() else [], err


def only(problems: list[dict]) -> dict:
    assert len(problems) == 1, problems
    return problems[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


# ------------------------------------------------------------- bad input


def test_yaml_syntax_error(pb, capsys):
    (pb / "bad.yaml").write_text("lanes:\n  - id: a\n    name: x\n   oops: 1\n")
    rc, probs, err = validate(capsys, "pb")
    p = only(probs)
    assert rc == 1
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y001", "pb/bad.yaml", 4, 4)
    assert "1 error(s)" in err


def test_duplicate_key(pb, capsys):
    (pb / "bad.yaml").write_text("lanes:\n  - id: sales\n    name: Sales\n    name: Sales again\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y002", "pb/bad.yaml", 4, 5)
    assert "first defined at line 3" in p["hint"]


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system",
    "!!python/object/new:os.system",
    "!!python/name:os.system",
    "!python/object/apply:os.system",
])
def test_unsafe_tag_is_reported_and_never_runs(pb, capsys, tag):
    marker = pb.parent / "MARKER"
    (pb / "bad.yaml").write_text(f"lanes:\n  - id: sales\n    name: {tag} ['touch {marker}']\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y003", "pb/bad.yaml", 3, 11)
    assert not marker.exists()


def test_alias_bomb(pb, capsys):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(ord("b"), ord("j")):
        prev = chr(i - 1)
        lines.append(f"{chr(i)}: &{chr(i)} [" + ",".join([f"*{prev}"] * 9) + "]")
    (pb / "bomb.yaml").write_text("\n".join(lines) + "\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y004", "pb/bomb.yaml", 1, 1)


def test_self_referencing_alias(pb, capsys):
    (pb / "bad.yaml").write_text("lanes: &x [*x]\n")
    rc, probs, _ = validate(capsys, "pb")
    assert only(probs)["code"] == "Y004"


@pytest.mark.parametrize("depth", [150, 600])  # past our cap; past Python's recursion limit
def test_deep_nesting(pb, capsys, depth):
    (pb / "deep.yaml").write_text("lanes: " + "[" * depth + "]" * depth + "\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y004", "pb/deep.yaml", 1, 1)
    assert p["message"] == "the document nests more than 100 levels deep"


def test_non_utf8(pb, capsys):
    (pb / "latin1.yaml").write_bytes(b"lanes:\n  - id: cafe\n    name: Caf\xe9\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y005", "pb/latin1.yaml", 3, 14)


def test_oversized_file(pb, capsys):
    (pb / "huge.yaml").write_text("# " + "x" * MAX_FILE_BYTES + "\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"]) == ("Y006", "pb/huge.yaml", 1)


def test_control_character(pb, capsys):
    (pb / "bad.yaml").write_text("lanes:\n  - id: a\n    name: a\x07b\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y001", "pb/bad.yaml", 3, 12)


def test_two_documents_in_one_file(pb, capsys):
    (pb / "bad.yaml").write_text("lanes: []\n---\nroles: []\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"]) == ("Y001", "pb/bad.yaml", 3)


@pytest.mark.parametrize("text, line, col", [
    ("- just\n- a list\n", 1, 1),
    ("lanes:\n  - <<: {id: a}\n    name: A\n", 2, 5),
    ("? [a, b]\n: 1\n", 1, 3),
])
def test_bad_structure(pb, capsys, text, line, col):
    (pb / "bad.yaml").write_text(text)
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y007", "pb/bad.yaml", line, col)


def test_unknown_section_with_did_you_mean(pb, capsys):
    (pb / "extra.yaml").write_text("lanes: []\nstagse: []\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("S003", "pb/extra.yaml", 2, 1)
    assert p["hint"] == "did you mean 'stages'?"


def test_mapping_section_in_two_files(pb, capsys):
    (pb / "zz-routing.yaml").write_text("consent:\n  consent_field: x\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"]) == ("Y002", "pb/zz-routing.yaml", 1)
    assert "pb/outreach.yaml:27" in p["message"]


def test_problems_from_every_file_in_one_run(pb, capsys):
    (pb / "a.yaml").write_text("lanes:\n  - id: a\n    name: x\n    name: y\n")
    (pb / "b.yaml").write_bytes(b"\xff\n")
    (pb / "c.yaml").write_text("lanes: [\n")
    rc, probs, _ = validate(capsys, "pb")
    assert rc == 1
    assert [(p["file"], p["code"]) for p in probs] == [("pb/a.yaml", "Y002"), ("pb/b.yaml", "Y005"), ("pb/c.yaml", "Y001")]


def test_console_script_prints_no_traceback(pb):
    marker = pb.parent / "MARKER"
    (pb / "bad.yaml").write_text(f"lanes: !!python/object/apply:os.system ['touch {marker}']\n")
    exe = Path(sys.executable).with_name("playbook")
    proc = subprocess.run([str(exe), "validate", "pb"], cwd=pb.parent, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.startswith("pb/bad.yaml:1:8: error[Y003]: ")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not marker.exists()


def _run_unprivileged(args: list[str]) -> tuple[int, str]:
    """Run the CLI in a forked child that has dropped root, so file permissions apply.

    Root reads any file, and CI runs as root. The parent has already imported
    everything the command needs (it ran it once), so the child reads nothing
    but the playbook after giving up its uid.
    """
    import io
    import json as _json

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 99
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            err = io.StringIO()
            sys.stderr = sys.stdout = err
            code = run(args)
            payload = _json.dumps([code, err.getvalue()])
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            payload = _json.dumps([code, f"child failed: {type(exc).__name__}: {exc}"])
        os.write(write_end, payload.encode())
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    code, text = _json.loads(b"".join(chunks))
    return code, text


def test_unreadable_file_is_a_usage_error(pb, capsys):
    assert run(["validate", "pb"]) in (0, 1)  # imports everything the command needs
    capsys.readouterr()
    bad = pb / "secret.yaml"
    bad.write_text("lanes: []\n")
    bad.chmod(0)
    if os.geteuid() == 0:
        for d in (pb, *pb.parents):  # the unprivileged child must reach the folder
            d.chmod(d.stat().st_mode | 0o111) if d != Path("/") else None
        rc, err = _run_unprivileged(["validate", str(pb)])
    else:
        rc = run(["validate", "pb"])
        err = capsys.readouterr().err
    assert rc == 2, err
    assert "secret.yaml: cannot read: Permission denied" in err
    assert "Traceback" not in err


def test_missing_folder_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["validate", "nowhere"]) == 2
    assert run(["validate"]) == 2  # no process/ here
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err


# ---------------------------------------------------------- YAML 1.2 scalars


def _load(tmp_path, text):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    problems = []
    data, _ = load_file(path, "x.yaml", problems)
    assert problems == []
    return data


def test_yaml_1_2_keeps_norway_and_codes_as_text(tmp_path):
    data = _load(tmp_path, "a: no\nb: on\nc: yes\nd: off\ne: 0800\nf: 02139\ng: y\nh: 1_000\ni: 1:30\n")
    assert data == {"a": "no", "b": "on", "c": "yes", "d": "off", "e": "0800", "f": "02139", "g": "y",
                    "h": "1_000", "i": "1:30"}


def test_yaml_1_1_directive_does_not_bring_back_1_1(tmp_path):
    data = _load(tmp_path, "%YAML 1.1\n---\na: no\nb: 0800\nc: 1_000\n")
    assert data == {"a": "no", "b": "0800", "c": "1_000"}


def test_core_schema_values(tmp_path):
    data = _load(tmp_path, "a: true\nb: False\nc: ~\nd: null\ne: 12\nf: -3\ng: 1.5\nh: 0x1F\ni: 2026-01-01\nj: '12'\nk: !!str 12\nl:\n")
    assert data == {"a": True, "b": False, "c": None, "d": None, "e": 12, "f": -3, "g": 1.5, "h": 31,
                    "i": "2026-01-01", "j": "12", "k": "12", "l": None}


def test_norway_values_validate_as_text(pb, capsys):
    edit(pb / "fields.yaml", "      - {value: north, label: North}", "      - {value: no, label: on}\n      - {value: north, label: North}")
    edit(pb / "stages.yaml", "  - id: closed-lost\n    name: Closed lost\n", "  - id: closed-lost\n    name: Closed lost\n    crm_value: 0800\n")
    rc, probs, _ = validate(capsys, "pb")
    assert (rc, probs) == (0, [])


# -------------------------------------------------------------- merging


def test_list_sections_merge_and_keep_locations(pb):
    (pb / "more.yaml").write_text("lanes:\n  - id: intake\n    name: Intake\n")
    loaded = load_data(pb, display_root=pb)
    ids = [lane["id"] for lane in loaded.data["lanes"]]
    assert ids == ["intake", "marketing", "contact-center"]  # files in name order
    loc = loaded.source_map.locate(("lanes", 2, "id"))
    assert (loc.file, loc.line, loc.column) == ("playbook.yaml", 29, 9)
    loc = loaded.source_map.locate(("lanes", 0, "name"))
    assert (loc.file, loc.line, loc.column) == ("more.yaml", 3, 11)


def test_empty_list_section_adds_nothing(pb):
    (pb / "empty.yaml").write_text("stages:\n# to be written\n")
    loaded = load_data(pb, display_root=pb)
    assert len(loaded.data["stages"]) == 4


def test_hidden_and_non_yaml_files_are_ignored(pb):
    (pb / ".draft.yaml").write_text("lanes: [\n")
    (pb / "notes.txt").write_text("lanes: [\n")
    load_data(pb, display_root=pb)


def test_load_errors_carry_every_problem(pb):
    (pb / "a.yaml").write_text("lanes: [\n")
    (pb / "b.yaml").write_text("lanes: !!binary aGk=\n")
    with pytest.raises(ProcessErrors) as info:
        load_data(pb, display_root=pb)
    assert [p.code for p in info.value.problems] == ["Y001", "Y003"]


def test_playbook_dirs(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "a.yaml").write_text("lanes: []\n")
    (tmp_path / "two" / "sub").mkdir(parents=True)
    (tmp_path / "two" / "sub" / "b.yml").write_text("lanes: []\n")
    (tmp_path / "empty").mkdir()
    assert playbook_dirs(tmp_path) == [tmp_path / "one", tmp_path / "two"]
    assert playbook_dirs(tmp_path / "one") == [tmp_path / "one"]
    with pytest.raises(UsageError, match="empty: no playbook found"):
        playbook_dirs(tmp_path / "empty")


def test_windows_line_endings_keep_lines(pb, capsys):
    (pb / "bad.yaml").write_bytes(b"lanes:\r\n  - id: a\r\n    name: A\r\n    name: B\r\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("Y002", "pb/bad.yaml", 4, 5)


def test_list_section_that_is_not_a_list_is_blamed_on_its_file(pb, capsys):
    (pb / "zz.yaml").write_text("lanes:\n  id: sales\n  name: Sales\n")
    rc, probs, _ = validate(capsys, "pb")
    p = only(probs)
    assert (p["code"], p["file"], p["line"], p["column"]) == ("S001", "pb/zz.yaml", 1, 1)
