"""`playbook init` through the real command: valid under --strict, modelines, never overwrites."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from generator.cli import run
from generator.init import TEMPLATES_DIR
from generator.load import load_data
from generator.validate import check
from generator.validate.cli import schema_text

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "process" / "lead-management"
UPDATE = os.environ.get("PLAYBOOK_UPDATE_GOLDEN") == "1"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with the shipped schema, as a repository made from this one has."""
    (tmp_path / "schema").mkdir()
    shutil.copy(ROOT / "schema" / "playbook.schema.json", tmp_path / "schema")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(capsys, *args):
    rc = run(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def modeline_targets(folder: Path) -> dict[str, Path]:
    out = {}
    for f in sorted(folder.glob("*.yaml")):
        m = MODELINE.match(f.read_text())
        assert m, f"{f.name} has no schema modeline on its first line"
        out[f.name] = (f.parent / m.group(1)).resolve()
    return out


def test_minimal_validates_strict_and_is_small(project, capsys):
    rc, out, err = cli(capsys, "init", "process/cardiology", "--org", "Acme Care")
    assert rc == 0, err
    folder = project / "process" / "cardiology"
    assert "created process/cardiology" in out
    rc, out, err = cli(capsys, "validate", "process/cardiology", "--strict")
    assert (rc, out) == (0, ""), out
    assert "0 error(s), 0 warning(s)" in err
    # Every modeline points at the project's schema, which exists.
    targets = modeline_targets(folder)
    assert set(targets.values()) == {(project / "schema" / "playbook.schema.json").resolve()}
    model = check(folder).model
    assert model.playbook.id == "cardiology"
    assert model.playbook.title == "Acme Care - lead management"
    assert [lane.id for lane in model.lanes] == ["marketing", "contact-center"]
    assert len(model.slas) == 1 and len(model.routing.rules) == 1
    assert model.stages[0].initial and model.stages[0].id == "new"
    assert any(s.closed and s.terminal for s in model.stages)
    assert 3 <= len(model.stages) <= 6


def test_minimal_comments_every_section(project, capsys):
    """Each top-level section has a comment right above it saying what it is for."""
    assert cli(capsys, "init", "process/x")[0] == 0
    for f in sorted((project / "process" / "x").glob("*.yaml")):
        lines = f.read_text().splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^[a-z_]+:", line):
                above = lines[i - 1] if i else ""
                assert above.startswith("#"), f"{f.name}:{i + 1}: section {line!r} has no comment above it"
        # The header says where the full reference is.
        header = "\n".join(line for line in lines if line.startswith("#"))
        assert "playbook rules" in header or "playbook schema" in header, f.name


def test_lead_management_copies_default_with_org(project, capsys):
    rc, out, err = cli(capsys, "init", "process/ortho", "--template", "lead-management", "--org", "O'Neil & Sons Health")
    assert rc == 0, err
    folder = project / "process" / "ortho"
    rc, out, err = cli(capsys, "validate", "process/ortho", "--strict")
    assert (rc, out) == (0, ""), out
    new = load_data(folder).data
    default = load_data(DEFAULT).data
    assert new["playbook"]["title"] == "O'Neil & Sons Health - patient lead management"
    assert new["playbook"]["id"] == "ortho"
    assert "Lakeshore" not in "".join(f.read_text() for f in folder.glob("*.yaml"))
    # Apart from the organisation's name and the id, the data is the default playbook's.
    def neutral(data):
        if isinstance(data, dict):
            return {k: neutral(v) for k, v in data.items()}
        if isinstance(data, list):
            return [neutral(v) for v in data]
        if isinstance(data, str):
            text = data.replace("O'Neil & Sons Health", "ORG").replace("Lakeshore Specialty Partners", "ORG")
            return "lead-management" if text == "ortho" else text.replace("Lakeshore", "ORG")
        return data
    assert neutral(new) == neutral(default)
    assert sorted(f.name for f in folder.glob("*.yaml")) == sorted(f.name for f in DEFAULT.glob("*.yaml"))
    assert set(modeline_targets(folder).values()) == {(project / "schema" / "playbook.schema.json").resolve()}


def test_lead_management_template_golden():
    """The shipped copy of the default playbook is the default playbook (refresh: `make golden`)."""
    shipped = TEMPLATES_DIR / "lead-management"
    if UPDATE:
        for f in shipped.glob("*.yaml"):
            f.unlink()
        for f in DEFAULT.glob("*.yaml"):
            shutil.copy(f, shipped / f.name)
    want = {f.name: f.read_text() for f in DEFAULT.glob("*.yaml")}
    have = {f.name: f.read_text() for f in shipped.glob("*.yaml")}
    assert have == want, "generator/init/templates/lead-management differs from process/lead-management; run make golden"


def test_refuses_existing_folder(project, capsys):
    assert cli(capsys, "init", "process/x")[0] == 0
    stages = project / "process" / "x" / "stages.yaml"
    stages.write_text("# mine\n")
    rc, out, err = cli(capsys, "init", "process/x", "--template", "lead-management")
    assert rc == 2
    assert "process/x: already exists; playbook init never overwrites a folder" in err
    assert "Traceback" not in err
    assert stages.read_text() == "# mine\n"
    assert sorted(p.name for p in (project / "process").iterdir()) == ["x"]  # no staging folder left
    # A file of that name is refused the same way.
    (project / "notes").write_text("x")
    assert cli(capsys, "init", "notes")[0] == 2
    assert (project / "notes").read_text() == "x"


def test_empty_folder_is_used(project, capsys):
    (project / "process" / "new").mkdir(parents=True)
    assert cli(capsys, "init", "process/new")[0] == 0
    assert (project / "process" / "new" / "playbook.yaml").is_file()


def test_bad_org_writes_nothing(project, capsys):
    rc, out, err = cli(capsys, "init", "process/x", "--org", "Evil: {corp}")
    assert rc == 2
    assert "--org 'Evil: {corp}'" in err
    assert not (project / "process").exists() or not any((project / "process").iterdir())


def test_outside_a_project_ships_the_schema(tmp_path, monkeypatch, capsys):
    """With no schema/ above the folder, the schema goes beside the files so editors still complete."""
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "init", "pb")[0] == 0
    targets = modeline_targets(tmp_path / "pb")
    assert set(targets.values()) == {(tmp_path / "pb" / "playbook.schema.json").resolve()}
    assert (tmp_path / "pb" / "playbook.schema.json").read_text() == schema_text()
    rc, out, err = cli(capsys, "validate", "pb", "--strict")
    assert rc == 0, out
