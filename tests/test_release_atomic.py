"""`playbook release` is all or nothing, and publishes exactly what its tag holds (issue 9 items 9, 10)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.errors import PlaybookError, UsageError
from generator.history.release import release
from test_history import BEN, FIXTURE, PB, Repo
from test_history_release import bump, contribution_builder


@pytest.fixture
def repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURE, r.root / PB)
    r.commit("Create the clinic playbook", reason="First written version", approved=[BEN])
    return r


def state(repo: Repo) -> tuple[str, str, str]:
    """Tags, the gh-pages ref and its versions.json: what a failed release must leave as it was."""
    pages = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "refs/heads/gh-pages"], cwd=repo.root,
                           capture_output=True, text=True).stdout.strip()
    versions = subprocess.run(["git", "show", "gh-pages:versions.json"], cwd=repo.root, capture_output=True,
                              text=True).stdout
    return repo.git("tag", "-l"), pages, versions


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


@pytest.fixture
def released(repo, tmp_path) -> Repo:
    """1.0 released and pushed to origin; a new commit waiting to be released as 1.1."""
    repo.git("remote", "add", "origin", str(bare(tmp_path / "origin.git")))
    release(repo.root / PB, "1.0", push=True, builder=contribution_builder)
    bump(repo, "2026-02-01")
    repo.commit("February", reason="Schedule", approved=[BEN])
    return repo


@pytest.mark.parametrize("remote, message", [
    ("nowhere", "no remote named 'nowhere'"),
    ("--upload-pack=touch /tmp/pwned", "looks like an option"),
    ("-o", "looks like an option"),
])
def test_bad_remote_is_refused_before_anything_changes(released, remote, message):
    before = state(released)
    with pytest.raises(UsageError, match=message):
        release(released.root / PB, "1.1", push=True, remote=remote, builder=contribution_builder)
    assert state(released) == before
    # A retry with the right remote works: no tag was left behind.
    release(released.root / PB, "1.1", push=True, builder=contribution_builder)
    assert "v1.1" in released.git("tag", "-l")


def test_diverged_gh_pages_is_refused_before_anything_changes(released, tmp_path):
    # Somebody else deployed to the remote's gh-pages from another clone.
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "origin.git"), str(other)], check=True)
    subprocess.run(["git", "-C", str(other), "checkout", "-q", "gh-pages"], check=True)
    (other / "note.txt").write_text("deployed elsewhere\n")
    subprocess.run(["git", "-C", str(other), "add", "note.txt"], check=True)
    subprocess.run(["git", "-C", str(other), "-c", "user.name=O", "-c", "user.email=o@example.org", "commit",
                    "-q", "--no-gpg-sign", "-m", "elsewhere"], check=True)
    subprocess.run(["git", "-C", str(other), "push", "-q", "origin", "gh-pages"], check=True)
    before = state(released)
    with pytest.raises(UsageError, match="gh-pages on origin has commits the local gh-pages lacks"):
        release(released.root / PB, "1.1", push=True, builder=contribution_builder)
    assert state(released) == before
    # Also without --push, once the remote-tracking branch shows the divergence.
    released.git("fetch", "-q", "origin")
    with pytest.raises(UsageError, match="behind or diverged from origin/gh-pages"):
        release(released.root / PB, "1.1", builder=contribution_builder)
    assert state(released) == before


def test_failed_push_restores_tag_gh_pages_and_versions_json(released, tmp_path):
    hook = tmp_path / "origin.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = state(released)
    assert '"1.0"' in before[2]
    with pytest.raises(PlaybookError, match="push"):
        release(released.root / PB, "1.1", push=True, builder=contribution_builder)
    assert state(released) == before
    remote_refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)"], cwd=tmp_path / "origin.git",
                                 capture_output=True, text=True).stdout.split()
    assert remote_refs == ["refs/heads/gh-pages", "refs/tags/v1.0"]  # the remote took neither ref
    hook.unlink()
    release(released.root / PB, "1.1", push=True, builder=contribution_builder)  # the retry goes through
    assert "v1.1" in released.git("tag", "-l")


def test_interrupted_deploy_restores_everything(released, monkeypatch):
    from generator.history import release as release_mod

    def interrupted(*a, **k):
        raise KeyboardInterrupt("deploy interrupted")

    monkeypatch.setattr(release_mod, "deploy", interrupted)
    before = state(released)
    # The interrupt itself comes through (not swallowed or replaced by another error).
    with pytest.raises(KeyboardInterrupt, match="deploy interrupted"):
        release(released.root / PB, "1.1", builder=contribution_builder)
    assert state(released) == before


def roles_builder(process_dir: Path, site_dir: Path) -> None:
    """A site that lists the role ids of the playbook it was built from."""
    from generator.validate import load_playbook

    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "roles.txt").write_text("\n".join(r.id for r in load_playbook(process_dir).roles) + "\n")
    (site_dir / "index.html").write_text("<h1>playbook</h1>\n")


def test_release_publishes_exactly_the_tagged_tree(repo):
    """A git-ignored (or untracked, ignored) YAML file under process/ is neither tagged nor published."""
    (repo.root / ".gitignore").write_text(".cache/\nlocal-*.yaml\n")
    repo.commit("Ignore local drafts", reason="Housekeeping", approved=[BEN])
    (repo.path("local-draft.yaml")).write_text("roles:\n  - id: ghost-role\n    name: Not reviewed\n    lane: marketing\n")
    assert repo.git("status", "--porcelain") == ""  # the dirty check cannot see it
    release(repo.root / PB, "1.0", builder=roles_builder)
    published = repo.git("show", "gh-pages:1.0/roles.txt").split()
    assert "ghost-role" not in published and published
    assert (repo.path("local-draft.yaml")).exists()  # the user's file is left alone
    assert repo.git("worktree", "list").count("\n") == 0  # the temporary checkout is gone
