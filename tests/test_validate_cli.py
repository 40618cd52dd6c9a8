"""`playbook validate`, `playbook schema` and `playbook rules` through the real command."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from generator.cli import run
from generator.validate.cli import schema_text
from generator.validate.codes import all_codes

ROOT = Path(__file__).resolve().parents[1]
BASE = Path(__file__).parent / "fixtures" / "rules" / "base"
SCHEMA = ROOT / "schema" / "playbook.schema.json"


@pytest.fixture
def proc(tmp_path, monkeypatch):
    """./process/ holding two playbooks: a clean one and one with an error and a warning."""
    good = tmp_path / "process" / "good"
    bad = tmp_path / "process" / "bad"
    shutil.copytree(BASE, good)
    shutil.copytree(BASE, bad)
    stages = bad / "stages.yaml"
    text = stages.read_text()
    text = text.replace("    guidance: Call within the SLA.\n", "")  # R019 warning at 11:9
    text = text.replace("    owner: agent\n    required_fields", "    owner: agnet\n    required_fields")  # R001 at 14:12
    stages.write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "process"


def cli(capsys, *args):
    rc = run(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def test_text_format_and_default_folder(proc, capsys):
    rc, out, err = cli(capsys, "validate")
    assert rc == 1
    assert out.splitlines() == [
        "process/bad/stages.yaml:11:9: warning[R019]: stage 'qualified' has no guidance (add `guidance:` for staff)",
        "process/bad/stages.yaml:14:12: error[R001]: Stage.owner 'agnet' is not an id in `roles` (did you mean 'agent'?)",
    ]
    assert err.strip() == "1 error(s), 1 warning(s) in 2 playbook(s): process/bad, process/good"


def test_json_format(proc, capsys):
    rc, out, _ = cli(capsys, "validate", "process", "--format", "json")
    data = json.loads(out)
    assert rc == 1
    assert [set(d) for d in data] == [{"file", "line", "column", "code", "level", "message", "hint"}] * 2
    assert [(d["code"], d["level"], d["line"], d["column"]) for d in data] == [
        ("R019", "warning", 11, 9), ("R001", "error", 14, 12)]


def test_github_format(proc, capsys):
    rc, out, _ = cli(capsys, "validate", "--format", "github")
    assert out.splitlines()[1] == (
        "::error file=process/bad/stages.yaml,line=14,col=12,title=R001::"
        "Stage.owner 'agnet' is not an id in `roles` (did you mean 'agent'?)")
    assert out.splitlines()[0].startswith("::warning file=process/bad/stages.yaml,line=11,col=9,title=R019::")


def test_warnings_alone_pass_unless_strict(proc, capsys):
    rc, out, err = cli(capsys, "validate", "process/bad/../good")
    assert (rc, out) == (0, "")
    shutil.rmtree(proc / "good")
    stages = proc / "bad" / "stages.yaml"
    stages.write_text(stages.read_text().replace("owner: agnet", "owner: agent"))
    rc, out, err = cli(capsys, "validate")
    assert rc == 0 and "warning[R019]" in out and "0 error(s), 1 warning(s)" in err
    rc, out, err = cli(capsys, "validate", "--strict")
    assert rc == 1 and "error[R019]" in out and "1 error(s), 0 warning(s)" in err


def test_clean_playbook_json_is_an_empty_list(proc, capsys):
    rc, out, _ = cli(capsys, "validate", "process/good", "--format", "json")
    assert (rc, json.loads(out)) == (0, [])


def test_usage_errors_exit_2(proc, capsys):
    assert cli(capsys, "validate", "--format", "xml")[0] == 2
    assert cli(capsys, "validate", "missing-folder")[0] == 2
    assert cli(capsys, "validate", "--bogus")[0] == 2


def test_schema_and_rule_problems_of_all_playbooks_in_one_run(proc, capsys):
    playbook = proc / "good" / "playbook.yaml"
    playbook.write_text(playbook.read_text().replace('version: "1.0"', "version: 1.0"))
    rc, out, _ = cli(capsys, "validate", "--format", "json")
    assert [(d["file"], d["code"]) for d in json.loads(out)] == [
        ("process/bad/stages.yaml", "R019"), ("process/bad/stages.yaml", "R001"),
        ("process/good/playbook.yaml", "S001")]


# ------------------------------------------------------------------ schema


def test_schema_golden():
    """The shipped schema equals the one generated from the model."""
    text = schema_text()
    if os.environ.get("PLAYBOOK_UPDATE_GOLDEN") == "1":
        SCHEMA.write_text(text, encoding="utf-8")
    assert SCHEMA.read_text(encoding="utf-8") == text, (
        "schema/playbook.schema.json is stale: run PLAYBOOK_UPDATE_GOLDEN=1 pytest -k golden")


def test_schema_command_prints_it(capsys):
    rc, out, _ = cli(capsys, "schema")
    doc = json.loads(out)
    assert rc == 0 and out == schema_text()
    assert "required" not in doc  # any file holds any subset of sections
    assert doc["$defs"]["Stage"]["properties"]["owner"]["title"] == "Owner"
    assert doc["$defs"]["DataField"]["properties"]["phi"]["description"]
    assert {"playbook", "stages", "steps"} <= set(doc["properties"])


def test_schema_accepts_text_durations():
    doc = json.loads(schema_text())
    pattern = doc["$defs"]["Duration"]["anyOf"][0]["pattern"]
    assert re.match(pattern, "4 business hours") and re.match(pattern, "30 minutes")
    assert not re.match(pattern, "soon")


def test_base_fixture_points_editors_at_the_schema():
    first = (BASE / "playbook.yaml").read_text().splitlines()[0]
    target = first.split("$schema=")[1]
    assert (BASE / target).resolve() == SCHEMA


# ------------------------------------------------------------------- rules


def test_rules_lists_every_code_with_docs(capsys):
    rc, out, _ = cli(capsys, "rules")
    assert rc == 0
    for c in all_codes():
        assert f"{c.code} {c.name} ({c.level})" in out
    assert "    Bad:" in out and "    Good:" in out


def test_rules_single_code_and_json(capsys):
    rc, out, _ = cli(capsys, "rules", "r010")
    assert rc == 0 and out.startswith("R010 routing-gap (error)")
    assert "R001" not in out
    rc, out, _ = cli(capsys, "rules", "--format", "json")
    assert {d["code"] for d in json.loads(out)} == {c.code for c in all_codes()}
    assert cli(capsys, "rules", "R999")[0] == 2


def test_readme_code_table_golden():
    """README's Validation section lists every code, as `playbook rules --format markdown` prints them."""
    from generator.validate.cli import rules_markdown

    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    head, section = readme.split("## Validation", 1)
    start = section.index("| code | level | name | checks |")
    end = section.index("\n\n", start)
    table = rules_markdown().rstrip("\n")
    if os.environ.get("PLAYBOOK_UPDATE_GOLDEN") == "1":
        section = section[:start] + table + section[end:]
        end = start + len(table)
        path.write_text(head + "## Validation" + section, encoding="utf-8")
    assert section[start:end] == table, "README's code table is stale: run PLAYBOOK_UPDATE_GOLDEN=1 pytest -k golden"
    for c in all_codes():
        assert f"| {c.code} |" in section


DEFAULT = ROOT / "process" / "lead-management"


@pytest.mark.skipif(not any(DEFAULT.glob("*.yaml")), reason="default playbook not written yet")
def test_default_playbook_is_clean_under_strict(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    rc, out, err = cli(capsys, "validate", "--strict")
    assert (rc, out) == (0, ""), out
    assert err.startswith("0 error(s), 0 warning(s)")


def test_shipped_schema_accepts_every_file_of_the_playbooks():
    """What editors check as you type agrees with the model: no false alarms on valid files."""
    jsonschema = pytest.importorskip("jsonschema")
    from generator.load import load_file, playbook_files

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    roots = [BASE] + ([DEFAULT] if any(DEFAULT.glob("*.yaml")) else [])
    for root in roots:
        for path in playbook_files(root):
            problems = []
            data, _ = load_file(path, path.name, problems)
            errors = [f"{path.name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in validator.iter_errors(data)]
            assert errors == []


def test_shipped_schema_flags_what_the_model_rejects():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    bad = {"stages": [{"id": "New Stage", "name": "x", "entry_event": "e", "ownr": "a"}],
           "slas": [{"id": "s", "name": "S", "start_event": "a", "stop_event": "b", "within": "soon", "owner": "o"}]}
    paths = sorted("/".join(map(str, e.absolute_path)) for e in validator.iter_errors(bad))
    assert paths == ["slas/0/within", "stages/0", "stages/0/id"]


# Each bad input of the issue through the command: (edit, code, file, line, column, hint part).
BAD_INPUTS = [
    pytest.param(("playbook.yaml", 'version: "1.0"', "version: 1.0"), None,
                 ("S001", "playbook.yaml", 6, 12, 'quotes: "1.0"'), id="wrong-type"),
    pytest.param(("stages.yaml", "    name: Qualified\n", ""), None,
                 ("S002", "stages.yaml", 11, 5, "add `name:`"), id="missing-key"),
    pytest.param(("stages.yaml", "    guidance: Call within", "    guidence: Call within"), None,
                 ("S003", "stages.yaml", 16, 5, "did you mean 'guidance'?"), id="unknown-key"),
    pytest.param(("steps.yaml", "sla: first-call", "sla: frist-call"), None,
                 ("R001", "steps.yaml", 21, 10, "did you mean 'first-call'?"), id="unknown-reference"),
    pytest.param(None, ("zz-more.yaml", "lanes:\n  - id: marketing\n    name: Marketing again\n"),
                 ("R002", "zz-more.yaml", 2, 9, "first defined at process/pb/playbook.yaml:27"),
                 id="duplicate-id-across-files"),
]


@pytest.mark.parametrize("edit, extra, want", BAD_INPUTS)
def test_bad_input_through_the_command(tmp_path, monkeypatch, capsys, edit, extra, want):
    pb = tmp_path / "process" / "pb"
    shutil.copytree(BASE, pb)
    if edit:
        path = pb / edit[0]
        text = path.read_text()
        assert text.count(edit[1]) == 1
        path.write_text(text.replace(edit[1], edit[2]))
    if extra:
        (pb / extra[0]).write_text(extra[1])
    monkeypatch.chdir(tmp_path)
    rc, out, err = cli(capsys, "validate", "--format", "json")
    problems = json.loads(out)
    assert rc == 1 and len(problems) == 1, problems
    p = problems[0]
    code, file, line, col, hint = want
    assert (p["code"], p["file"], p["line"], p["column"]) == (code, f"process/pb/{file}", line, col)
    assert hint in p["hint"]
