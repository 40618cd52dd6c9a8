"""The git wrapper: argument checks, errors carrying git's stderr, signature status from real signed commits."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from generator.errors import ExternalToolError, UsageError
from generator.history.git import Git, GitError, check_path, check_rev
from test_history import BEN, FIXTURE, PB, Repo, cli


@pytest.mark.parametrize("rev", ["HEAD", "HEAD~2", "v1.0", "main", "a" * 40, "HEAD^{commit}", "main@{1}"])
def test_ordinary_revisions_pass(rev):
    assert check_rev(rev) == rev


@pytest.mark.parametrize("rev", ["", "-", "--output=/tmp/x", "-p", "HEAD\n", "HE\x00AD", "HEAD ~1", "x" * 300])
def test_unsafe_revisions_refused(rev):
    with pytest.raises(UsageError, match=r"^revision .*(empty|looks like an option|control or space|longer than 256)"):
        check_rev(rev)


@pytest.mark.parametrize("path", ["--all", "/etc/passwd", "../outside", "a/../../b", "proc\x1b[31m"])
def test_unsafe_paths_refused(path):
    with pytest.raises(UsageError, match=r"^path .*(looks like an option|must be relative|control characters)"):
        check_path(path)


def test_git_error_carries_stderr(tmp_path):
    repo = Repo(tmp_path / "r")
    (repo.root / "f").write_text("x")
    repo.commit("one")
    g = Git(repo.root)
    with pytest.raises(GitError) as info:
        g.run("cat-file", "-p", "0" * 40)
    assert isinstance(info.value, ExternalToolError)
    assert "git: `git cat-file` failed" in info.value.message()
    assert "Not a valid object name" in info.value.stderr or "fatal" in info.value.stderr


def _ssh_keys(home) -> tuple[str, str]:
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed: signed commits untested")
    key = home / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ana@example.org", "-f", str(key)],
                   check=True)
    pub = (home / "signing_key.pub").read_text().split()
    return str(key), f"{pub[0]} {pub[1]}"


@pytest.fixture
def signing_repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    key, pub = _ssh_keys(tmp_path)
    r.git("config", "gpg.format", "ssh")
    r.git("config", "user.signingkey", key)
    shutil.copytree(FIXTURE, r.root / PB)
    r.edit("playbook.yaml", "  approvers:", "  require_signed_commits: true\n  approvers:")
    r.commit("Create", reason="First", approved=[BEN], sign=True)
    r.git("tag", "start")
    (tmp_path / "allowed_signers").write_text(f"ana@example.org {pub}\n")
    return r


def _entries(repo, monkeypatch, capsys):
    code, out, err = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", "json",
                         "--process", PB)
    assert code == 0, err
    return {c["subject"]: c for c in json.loads(out)["commits"]}


def test_signed_and_unsigned_commits(signing_repo, monkeypatch, capsys, tmp_path):
    repo = signing_repo
    repo.git("config", "gpg.ssh.allowedSignersFile", str(tmp_path / "allowed_signers"))
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Signed change", reason="Clearer", approved=[BEN], sign=True)
    repo.edit("stages.yaml", "guidance: Check every field.", "guidance: Check the fields.")
    repo.commit("Unsigned change", reason="Clearer", approved=[BEN])
    got = _entries(repo, monkeypatch, capsys)
    signed, unsigned = got["Signed change"], got["Unsigned change"]
    assert signed["signature"] == {"status": "G", "meaning": "good signature", "signer": "ana@example.org"}
    assert signed["flags"] == []
    assert unsigned["signature"]["status"] == "N"
    assert [f["code"] for f in unsigned["flags"]] == ["unsigned"]


def test_signed_but_unverifiable_is_not_called_unsigned(signing_repo, monkeypatch, capsys):
    repo = signing_repo  # no allowed-signers file: git cannot check the SSH signature
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Signed change", reason="Clearer", approved=[BEN], sign=True)
    entry = _entries(repo, monkeypatch, capsys)["Signed change"]
    assert entry["signature"]["status"] == "E"
    assert [f["code"] for f in entry["flags"]] == ["signature-not-verified"]


def test_unsigned_is_fine_when_not_required(tmp_path, monkeypatch, capsys):
    repo = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURE, repo.root / PB)
    repo.commit("Create", reason="First", approved=[BEN])
    repo.git("tag", "start")
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Change", reason="Clearer", approved=[BEN], author=("Ben Lead", "ben2@example.org"))
    entry = _entries(repo, monkeypatch, capsys)["Change"]
    # Ben approving his own change is caught by name even under another email.
    assert [f["code"] for f in entry["flags"]] == ["self-approval", "approver-not-allowed"]
