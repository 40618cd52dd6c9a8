"""Schema errors: pydantic's errors mapped to codes and `file:line:col`, with hints."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.load import load_data
from generator.validate.schema_errors import schema_problems

BASE = Path(__file__).parent / "fixtures" / "rules" / "base"


@pytest.fixture
def pb(tmp_path):
    shutil.copytree(BASE, tmp_path / "pb")
    return tmp_path / "pb"


def problems(pb: Path):
    loaded = load_data(pb, display_root=pb)
    model, probs = schema_problems(loaded)
    assert model is None or probs == []
    return probs


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def one(pb):
    probs = problems(pb)
    assert len(probs) == 1, [p.text() for p in probs]
    return probs[0]


def test_base_is_valid(pb):
    assert problems(pb) == []


def test_wrong_type_number_for_text(pb):
    edit(pb / "playbook.yaml", 'version: "1.0"', "version: 1.0")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S001", "playbook.yaml", 6, 12)
    assert p.message.startswith("playbook.version: Input should be a valid string")
    assert p.hint == 'put the value in quotes: "1.0"'


def test_wrong_type_text_for_list(pb):
    edit(pb / "steps.yaml", "actions: [Call the lead.]", "actions: Call the lead.")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S001", "steps.yaml", 20, 14)
    assert p.message.startswith("steps[1].actions: Input should be a valid list")


def test_yes_is_not_a_boolean(pb):
    edit(pb / "fields.yaml", "    type: phone\n", "    type: phone\n    phi: yes\n")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S001", "fields.yaml", 16, 10)
    assert "yes/no/on/off are text" in p.hint


def test_missing_required_key(pb):
    edit(pb / "stages.yaml", "    name: Qualified\n", "")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S002", "stages.yaml", 11, 5)
    assert p.message == "stages[1] (qualified): missing required key 'name'"


def test_missing_required_section(pb):
    (pb / "steps.yaml").unlink()
    p = one(pb)
    assert (p.code, p.message) == ("S002", "missing required key 'steps'")
    assert p.file.endswith(".yaml") and p.line == 1


def test_unknown_key_with_did_you_mean(pb):
    edit(pb / "stages.yaml", "    guidance: Call within the SLA.", "    guidnace: Call within the SLA.")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S003", "stages.yaml", 16, 5)
    assert p.message == "stages[1] (qualified): unknown key 'guidnace'"
    assert p.hint == "did you mean 'guidance'?"


def test_unknown_key_without_close_match_lists_allowed_keys(pb):
    edit(pb / "playbook.yaml", "  - id: marketing\n", "  - id: marketing\n    zzzzzz: 1\n")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S003", "playbook.yaml", 28, 5)
    assert p.hint == "allowed: id, name, description"


def test_invalid_choice(pb):
    edit(pb / "routing.yaml", "kind: fit", "kind: fitt")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S004", "routing.yaml", 6, 13)
    assert "'fit' or 'intent'" in p.message


def test_invalid_id_slug(pb):
    edit(pb / "steps.yaml", "lane: marketing", "lane: Marketing")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S004", "steps.yaml", 6, 11)
    assert p.hint == "ids are lowercase slugs: try 'marketing'"


def test_invalid_duration_and_date_say_what_they_got_once(pb):
    edit(pb / "routing.yaml", "within: 4 business hours", "within: 4 busines hours")
    edit(pb / "playbook.yaml", "effective: 2026-01-01", "effective: 2026-13-01")
    probs = sorted(problems(pb))
    assert [(p.code, p.file, p.line, p.column) for p in probs] == [
        ("S004", "playbook.yaml", 7, 14), ("S004", "routing.yaml", 48, 13)]
    assert probs[0].message == "playbook.effective: expected a date as YYYY-MM-DD, got '2026-13-01'"
    assert probs[1].message.count("got") == 1


def test_failed_union_is_one_problem(pb):
    edit(pb / "routing.yaml", "op: equals, value: cardiology}", "op: equals, value: {a: 1}}")
    p = one(pb)
    assert (p.code, p.file, p.line, p.column) == ("S001", "routing.yaml", 7, 51)
    assert p.message.startswith("scoring.rules[0].when.value: expected ")
    assert p.message.endswith("got a mapping")


def test_long_or_hostile_input_is_not_echoed(pb):
    evil = "<script>alert(1)</script>" * 4
    edit(pb / "routing.yaml", "kind: fit", f"kind: '{evil}'")
    p = one(pb)
    assert "<script>" not in p.message


def test_every_problem_of_every_file_at_once(pb):
    edit(pb / "playbook.yaml", 'version: "1.0"', "version: 1.0")
    edit(pb / "stages.yaml", "    name: Qualified\n", "")
    edit(pb / "steps.yaml", "lane: marketing", "lane: Marketing")
    assert sorted((p.file, p.code) for p in problems(pb)) == [
        ("playbook.yaml", "S001"), ("stages.yaml", "S002"), ("steps.yaml", "S004")]
