"""Release -> edit every section -> build -> release again, in a real git repository (issue 9 item 1).

The default playbook holds every section of the model, so editing one text of each
section once reaches every kind of entity history indexes, including those without
an `id` (a conformance threshold is keyed by its rule).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator.cli import run
from generator.model import SECTIONS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "process" / "lead-management"
PB = "process/lead-management"
# Free-text attributes: appending to one changes the entity without breaking any reference.
TEXT_KEYS = ("description", "note", "guidance", "purpose", "summary", "title", "name", "label", "text",
             "reason", "script", "body", "rationale", "definition", "question", "instructions")


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent)}
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def make_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for k, v in (("user.name", "Ana Ops"), ("user.email", "ana@example.org"), ("commit.gpgsign", "false"),
                 ("tag.gpgsign", "false")):
        git(root, "config", k, v)
    shutil.copytree(DEFAULT, root / PB)
    (root / ".gitignore").write_text(".cache/\nsite/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Create the playbook")
    return root


def _first_text(value, path=()):
    """Path of the first free-text leaf in a section's value (depth first), or None."""
    if isinstance(value, dict):
        for k in TEXT_KEYS:
            if isinstance(value.get(k), str) and value[k].strip():
                return path + (k,)
        for k, v in value.items():
            found = _first_text(v, path + (k,))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _first_text(v, path + (i,))
            if found:
                return found
    return None


def _first_prose(value, path=()):
    """Path of the first string with a space in it: prose, never an id or a code."""
    if isinstance(value, str):
        return path if " " in value.strip() else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _first_prose(v, path + (k,))
        if found:
            return found
    return None


def edit_every_section(root: Path) -> list[str]:
    """One commit per section, each appending to one free text of that section; the sections edited."""
    yaml = YAML()  # round trip: comments and order stay
    yaml.width = 4096
    edited = []
    for section in SECTIONS:
        for f in sorted((root / PB).glob("*.yaml")):
            data = yaml.load(f.read_text())
            if not data or section not in data:
                continue
            path = _first_text(data[section]) or _first_prose(data[section])
            assert path, f"no free text to edit in section {section} ({f.name})"
            node = data[section]
            for p in path[:-1]:
                node = node[p]
            node[path[-1]] = str(node[path[-1]]) + " (revised)"
            with f.open("w") as fh:
                yaml.dump(data, fh)
            git(root, "commit", "-q", "-a", "-m", f"Revise {section}", "-m", "Change-Reason: yearly review")
            edited.append(section)
            break
    return edited


def cli(monkeypatch, capsys, root: Path, *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(root)
    capsys.readouterr()
    code = run(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_role_index_keys_entities_without_an_id():
    """Every entity history indexes has a key, whether an id or a natural key (today: AttributeError)."""
    from generator.history.pages import role_index
    from generator.validate import load_playbook

    model = load_playbook(DEFAULT)
    index = role_index(model)
    rule = model.conformance.thresholds[0].rule
    assert ("threshold", rule) in index
    assert ("role", model.roles[0].id) in index


@pytest.mark.slow
def test_release_edit_build_release_with_every_section_changed(tmp_path, monkeypatch, capsys):
    """The full cycle with the real site builder and mike; two tags on one commit on the way."""
    from generator.history.diff import diff
    from generator.history.snapshot import Snapshots
    from generator.history.git import Git

    root = make_repo(tmp_path / "repo")
    code, out = cli(monkeypatch, capsys, root, "release", "1.0")
    assert code == 0, out
    # A second release tag on the same commit: the change log has a previous version at HEAD.
    git(root, "tag", "-a", "v1.0.1", "-m", "playbook lead-management 1.0.1\n\nEffective: 2026-11-02\n")
    code, out = cli(monkeypatch, capsys, root, "build")
    assert code == 0, out

    edited = edit_every_section(root)
    assert edited == list(SECTIONS)
    code, out = cli(monkeypatch, capsys, root, "build")
    assert code == 0, out
    page = (root / "site" / "history" / "changelog" / "index.html").read_text()
    assert "(revised)" in page

    code, out = cli(monkeypatch, capsys, root, "release", "1.1")
    assert code == 0, out
    code, out = cli(monkeypatch, capsys, root, "build")
    assert code == 0, out

    # The semantic diff between the two releases names a change in every section...
    g = Git(root)
    snaps = Snapshots(g, PB)
    changes = diff(snaps.model(g.resolve("v1.0")), snaps.model(g.resolve("v1.1")))
    assert {c.section for c in changes} == set(SECTIONS)
    # ...and the released 1.1 site carries the change log with them.
    log = git(root, "show", "gh-pages:1.1/history/changelog/index.html")
    assert "(revised)" in log
    assert all(f"Revise {section}" in log for section in SECTIONS)  # each commit, under 1.1
    assert git(root, "tag", "--list", "v*").split() == ["v1.0", "v1.0.1", "v1.1"]
