"""One loader: a model read from a git revision is built by the same merge as one read from disk
(issue 17 item 3), and symbolic links leading outside the repository are refused unread (issue 9 item 6).

Every revision of a repository is loaded both ways, from blobs (history/snapshot.py)
and from a checkout of that revision (load.py), and the models or the problems must
be equal, revision by revision.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from generator.cli import run
from generator.errors import ProcessErrors
from generator.history.git import Git
from generator.history.snapshot import ModelAtRevisionError, Snapshots
from generator.load import load_data
from generator.model import Playbook
from test_history import BEN, FIXTURE, PB, Repo

SECRET = "aws_secret_access_key_9f3e"  # a key of the outside file: must never be shown


def disk(root: Path, display: Path):
    """The model (or the sorted problems) of a folder on disk, as `validate` loads it."""
    from generator.validate import check

    try:
        loaded = load_data(root, display_root=display)
    except ProcessErrors as exc:
        return sorted(exc.problems)
    try:
        return Playbook.model_validate(loaded.data)
    except ValidationError:
        return sorted(p for p in check(root, display_root=display).problems if p.level == "error")


def from_git(snaps: Snapshots, sha: str):
    try:
        return snaps.model(sha)
    except ModelAtRevisionError as exc:
        return sorted(exc.problems)


@pytest.fixture
def history(tmp_path) -> Repo:
    """A repository whose commits walk through every rule of the merge, good and bad."""
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"{SECRET}: do-not-show\nstages: []\n")
    r = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURE, r.root / PB)
    r.commit("Create the playbook", reason="First", approved=[BEN])
    steps = [
        ("unknown section", lambda: r.path("extra.yaml").write_text("stagez:\n  - id: x\n")),
        ("fixed", lambda: r.path("extra.yaml").unlink()),
        ("mapping section twice", lambda: r.path("again.yaml").write_text("playbook:\n  id: again\n")),
        ("list section not a list", lambda: r.path("again.yaml").write_text("# note\nstages: {id: x}\n")),
        ("empty list section", lambda: r.path("again.yaml").write_text("events:\n")),
        ("not a mapping", lambda: r.path("again.yaml").write_text("- just\n- a list\n")),
        ("yaml syntax error", lambda: r.path("again.yaml").write_text("stages: [\n")),
        ("schema error", lambda: r.path("again.yaml").write_text("roles:\n  - id: x\n    name: 5\n")),
        ("a link inside the folder", lambda: (r.path("again.yaml").unlink(),
                                              r.path("stages.yaml").rename(r.path("real-stages.yaml")),
                                              os.symlink("real-stages.yaml", r.path("stages.yaml")))),
        ("valid again", lambda: (r.path("stages.yaml").unlink(),
                                 r.path("real-stages.yaml").rename(r.path("stages.yaml")))),
        ("a link outside the repository", lambda: os.symlink(str(outside), r.path("secret.yaml"))),
    ]
    for subject, change in steps:
        change()
        r.commit(subject, reason="Walk the merge rules", approved=[BEN])
    return r


def test_every_revision_loads_the_same_from_git_and_from_disk(history, tmp_path):
    g = Git(history.root)
    snaps = Snapshots(g, PB)
    shas = g.run("rev-list", "--reverse", "HEAD").split()
    assert len(shas) == 12
    kinds = set()
    for i, sha in enumerate(shas):
        checkout = tmp_path / f"wt{i}"
        history.git("worktree", "add", "-q", "--detach", str(checkout), sha)
        expected = disk(checkout / PB, checkout)
        got = from_git(snaps, sha)
        subject = history.git("log", "-1", "--format=%s", sha)
        assert got == expected, f"revision {i} ({subject}) loads differently from git and from disk"
        kinds.add("model" if isinstance(got, Playbook) else "problems")
        if isinstance(got, list):
            assert SECRET not in repr(got)
    assert kinds == {"model", "problems"}


def test_problem_codes_along_the_history(history):
    g = Git(history.root)
    snaps = Snapshots(g, PB)
    codes = []
    for sha in g.run("rev-list", "--reverse", "HEAD").split():
        got = from_git(snaps, sha)
        codes.append("ok" if isinstance(got, Playbook) else ",".join(sorted({p.code for p in got})))
    assert codes[:8] == ["ok", "S003", "ok", "Y002", "S001", "ok", "Y007", "Y001"]
    assert codes[9:] == ["ok", "ok", "Y008"]


def test_validate_refuses_a_link_outside_the_repository_unread(history, monkeypatch, capsys):
    monkeypatch.chdir(history.root)
    capsys.readouterr()
    code = run(["validate", PB])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{PB}/secret.yaml:1:1: error[Y008]: symbolic link to a file outside the repository" in out
    assert SECRET not in out + err and "do-not-show" not in out + err and "outside.yaml" not in out + err


def test_history_and_diff_show_nothing_of_the_outside_file(history, monkeypatch, capsys):
    monkeypatch.chdir(history.root)
    for argv in (["history", "--process", PB], ["diff", "HEAD~1", "HEAD", "--process", PB]):
        capsys.readouterr()
        run(argv)
        out, err = capsys.readouterr()
        assert SECRET not in out + err and "do-not-show" not in out + err


def test_a_link_inside_the_repository_is_followed(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo / "shared")
    (repo / ".git").mkdir()  # the repository's root, as git marks it
    (repo / "process").mkdir()
    for f in (repo / "shared").iterdir():
        os.symlink(f"../shared/{f.name}", repo / "process" / f.name)
    loaded = load_data(repo / "process", display_root=repo)
    assert loaded.files[0].startswith("process/") and loaded.data["stages"]
