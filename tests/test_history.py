"""History part: semantic diff, change log and flags over real temporary git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from golden_files import check_file, check_names

from generator.cli import run

FIXTURE = Path(__file__).parent / "fixtures" / "history" / "playbook"
GOLDEN = Path(__file__).parent / "golden" / "history"
PB = "process/clinic"


class Repo:
    """A scripted git repository holding the fixture playbook under process/clinic."""

    def __init__(self, root: Path):
        self.root = root
        self.tick = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Ana Ops")
        self.git("config", "user.email", "ana@example.org")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "tag.gpgsign", "false")
        (root / ".gitignore").write_text(".cache/\n")  # where history keeps parsed file versions

    def git(self, *args: str, env: dict | None = None) -> str:
        self.tick += 1
        stamp = f"{1767261600 + self.tick * 3600} +0000"  # 2026-01-01 10:00 UTC, one hour per call
        full = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
                "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root.parent)}
        full.update(env or {})
        proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, env=full)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def path(self, rel: str) -> Path:
        return self.root / PB / rel

    def edit(self, rel: str, old: str, new: str) -> None:
        p = self.path(rel)
        text = p.read_text()
        assert old in text, f"{old!r} not in {rel}"
        p.write_text(text.replace(old, new, 1))

    def commit(self, subject: str, reason: str | None = None, approved: list[str] | None = None,
               author: tuple[str, str] | None = None, sign: bool = False, extra: str = "") -> str:
        trailers = []
        if reason:
            trailers.append(f"Change-Reason: {reason}")
        for a in approved or []:
            trailers.append(f"Approved-by: {a}")
        msg = subject + ("\n\n" + "\n".join(trailers) if trailers else "") + (extra and "\n" + extra)
        self.git("add", "-A")
        env = {}
        if author:
            env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]}
        self.git("commit", "-q", "-S" if sign else "--no-gpg-sign", "-m", msg, env=env)
        return self.git("rev-parse", "HEAD")


ANA = "Ana Ops <ana@example.org>"
BEN = "Ben Lead <ben@example.org>"
CY = "Cy Score <cy@example.org>"


def cli(repo: Repo, monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:
    monkeypatch.chdir(repo.root)
    capsys.readouterr()
    code = run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURE, r.root / PB)
    (r.root / "README.md").write_text("clinic\n")
    r.commit("Create the clinic playbook", reason="First written version", approved=[BEN])
    r.git("tag", "start")
    return r


def business_changes(repo: Repo) -> str:
    """One commit with the four kinds of change the issue names."""
    repo.edit("routing.yaml", "within: 4 business hours", "within: 2 business hours")
    repo.edit("stages.yaml", "required_fields: [specialty, region, consent-to-contact]",
              "required_fields: [specialty, region, consent-to-contact, phone]")
    repo.edit("stages.yaml", "closure_reasons:\n", "closure_reasons:\n  - id: out-of-area\n    name: Out of area\n"
              "    stages: [closed-lost]\n")
    repo.edit("routing.yaml", "      when: {specialty: [cardiology]}\n      queue: cardiology-queue",
              "      when: {specialty: [cardiology]}\n      queue: general-queue")
    return repo.commit("Tighten first call", reason="Faster response for qualified leads", approved=[ANA])


EXPECTED_LINES = [
    "stage qualified: required field phone added",
    "closure reason out-of-area added",
    "routing rule cardiology: queue changed from cardiology-queue to general-queue",
    "SLA first-call: 4 business hours -> 2 business hours",
]


def test_diff_reports_business_changes_in_exact_lines(repo, monkeypatch, capsys):
    business_changes(repo)
    code, out, err = cli(repo, monkeypatch, capsys, "diff", "start", "HEAD", "--process", PB)
    assert code == 0, err
    assert out.splitlines() == EXPECTED_LINES


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_diff_golden(repo, monkeypatch, capsys, fmt):
    business_changes(repo)
    code, out, err = cli(repo, monkeypatch, capsys, "diff", "start", "HEAD", "--format", fmt, "--process", PB)
    assert code == 0, err
    if fmt == "json":
        data = json.loads(out)
        assert [c["text"] for c in data["changes"]] == EXPECTED_LINES
        sla = next(c for c in data["changes"] if c["entity_kind"] == "SLA")
        assert sla == {"entity_kind": "SLA", "entity_id": "first-call", "attribute": "within",
                       "old": {"amount": 4, "unit": "hours", "business": True},
                       "new": {"amount": 2, "unit": "hours", "business": True},
                       "section": "slas", "text": "SLA first-call: 4 business hours -> 2 business hours"}
    golden = GOLDEN / f"diff.{ {'text': 'txt', 'json': 'json', 'markdown': 'md'}[fmt] }"
    check_file(golden, out)


def test_history_goldens_are_exactly_the_checked_ones():
    """Each file here is compared by one test; a golden left behind when its output goes fails here."""
    check_names(GOLDEN, {"diff.txt", "diff.json", "diff.md",  # test_diff_golden
                         "changelog.txt", "changelog.md",  # test_changelog_evidence.py::test_changelog_golden
                         "CODEOWNERS"})  # test_history_release.py::test_owners_golden


def test_rename_and_split_show_no_change(repo, monkeypatch, capsys):
    repo.git("mv", f"{PB}/routing.yaml", f"{PB}/routing-rules.yaml")
    # Split the SLAs out of the routing file into their own file.
    text = repo.path("routing-rules.yaml").read_text()
    head, sep, slas = text.partition("slas:\n")
    repo.path("routing-rules.yaml").write_text(head)
    repo.path("sub").mkdir()
    repo.path("sub/slas.yaml").write_text(sep + slas)
    repo.commit("Reorganise files", reason="Easier to find SLAs", approved=[BEN])
    code, out, _ = cli(repo, monkeypatch, capsys, "diff", "start", "HEAD", "--process", PB)
    assert (code, out) == (0, "no semantic changes\n")
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", "json",
                       "--process", PB)
    commits = json.loads(out)["commits"]
    assert len(commits) == 1 and commits[0]["changes"] == [] and commits[0]["flags"] == []


def _flags(out: str) -> dict[str, list[str]]:
    return {c["subject"]: [f["code"] for f in c["flags"]] for c in json.loads(out)["commits"]}


def test_history_flags_each_rule(repo, monkeypatch, capsys):
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Good change", reason="Clearer guidance", approved=[BEN])
    repo.edit("stages.yaml", "guidance: Check every field.", "guidance: Check all fields.")
    repo.commit("No reason", approved=[BEN])
    repo.edit("stages.yaml", "guidance: Check all fields.", "guidance: Check the fields.")
    repo.commit("No approval", reason="Wording")
    repo.edit("stages.yaml", "guidance: Check the fields.", "guidance: Check fields.")
    repo.commit("Self approved", reason="Wording", approved=[ANA])
    repo.edit("routing.yaml", "points: 10", "points: 15")
    repo.commit("Scoring by the wrong person", reason="Cardiology pays more", approved=[BEN])
    repo.edit("routing.yaml", "points: 15", "points: 20")
    repo.commit("Scoring by the right person", reason="Cardiology pays more", approved=["cy@example.org"])
    repo.edit("stages.yaml", "guidance: Check fields.", "guidance: Check the form.")
    repo.commit("Unknown approver", reason="Wording", approved=["Zed Nobody <zed@example.org>"])
    # Ben grants himself scoring approval and uses it in the same commit: the old rules apply.
    repo.edit("playbook.yaml", "scoring: [cy]", "scoring: [cy, ben]")
    repo.edit("routing.yaml", "points: 20", "points: 25")
    repo.commit("Self promotion", reason="More approvers", approved=[BEN], author=("Dee Dev", "dee@example.org"))
    code, out, err = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", "json",
                         "--process", PB)
    assert code == 0, err
    assert _flags(out) == {
        "Good change": [],
        "No reason": ["missing-reason"],
        "No approval": ["missing-approval"],
        "Self approved": ["self-approval", "approver-not-allowed"],
        "Scoring by the wrong person": ["approver-not-allowed"],
        "Scoring by the right person": [],
        "Unknown approver": ["unknown-approver", "approver-not-allowed"],
        "Self promotion": ["approver-not-allowed"],
    }
    data = json.loads(out)["commits"]
    promo = data[-1]
    assert promo["sections"] == ["playbook", "scoring"]
    assert promo["flags"][0]["message"] == "changes to scoring need approval by one of: cy"
    assert [c["text"] for c in promo["changes"]] == [
        "playbook clinic: approvers for scoring: ben added",
        "scoring rule cardiology-interest: points changed from 20 to 25",
    ]
    assert data[0]["time_kind"] == "author-set commit time"
    code, _, _ = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--strict", "--process", PB)
    assert code == 1
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--since", "HEAD~3", "--strict", "--process", PB)
    assert code == 1 and "FLAG unknown-approver: approver Zed Nobody <zed@example.org> is not in `people`" in out


def test_history_strict_passes_on_clean_range(repo, monkeypatch, capsys):
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Good change", reason="Clearer guidance", approved=[BEN])
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--strict", "--process", PB)
    assert code == 0
    assert "stage new: guidance changed from Check the form is complete. to Check every field." in out
    assert out.rstrip().endswith("1 commit(s), 0 flagged")


def test_first_commit_reads_as_created(repo, monkeypatch, capsys):
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--format", "json", "--process", PB)
    commits = json.loads(out)["commits"]
    assert [c["text"] for c in commits[0]["changes"]] == ["playbook clinic created"]
    assert commits[0]["approved_by"] == [{"as_written": BEN, "person": "ben"}]


def test_merge_time_labels_merged_commits(repo, monkeypatch, capsys):
    repo.git("checkout", "-q", "-b", "feature")
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Feature change", reason="Clearer", approved=[BEN])
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    merge_time = repo.git("log", "-1", "--format=%cI", "HEAD")
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", "json",
                       "--process", PB)
    entry = next(c for c in json.loads(out)["commits"] if c["subject"] == "Feature change")
    assert entry["time_kind"] == "merge time"
    assert entry["time"] == merge_time.replace("+00:00", "Z")


def test_model_error_at_a_revision_is_flagged_not_fatal(repo, monkeypatch, capsys):
    repo.edit("stages.yaml", "    name: New\n", "    name: New\n    colour: red\n")
    repo.commit("Broken", reason="Oops", approved=[BEN])
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--process", PB)
    assert code == 0
    assert "FLAG model-error" in out and "colour" in out
    code, _, err = cli(repo, monkeypatch, capsys, "diff", "start", "HEAD", "--process", PB)
    assert code == 1 and "process/clinic/stages.yaml:" in err and "colour" in err


# ------------------------------------------------------------------ safety


@pytest.mark.parametrize("argv", [
    ["diff", "--", "--output=/tmp/x", "HEAD"],
    ["diff", "HEAD", "--", "--output=/tmp/x"],
    ["history", "--since=--output=/tmp/x"],
    ["diff", "HEAD\n", "HEAD"],
    ["release", "--", "--exec=evil"],
])
def test_option_like_values_are_refused_and_nothing_runs(repo, monkeypatch, capsys, argv):
    from generator.history import git as gitmod

    calls = []
    real = gitmod.Git.run
    monkeypatch.setattr(gitmod.Git, "run", lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
    code, out, err = cli(repo, monkeypatch, capsys, argv[0], "--process", PB, *argv[1:])
    assert code == 2
    assert "refused" in err
    assert calls == []
    assert not Path("/tmp/x").exists() or "output" not in argv[-1]


def test_missing_tag_is_a_clear_usage_error(repo, monkeypatch, capsys):
    code, _, err = cli(repo, monkeypatch, capsys, "diff", "v9.9", "HEAD", "--process", PB)
    assert code == 2
    assert "revision 'v9.9' not found" in err


def test_revision_before_the_playbook_existed(repo, monkeypatch, capsys):
    repo.git("checkout", "-q", "--orphan", "early")
    repo.git("rm", "-rq", "--cached", "process")
    shutil.rmtree(repo.root / "process")
    repo.commit("README only")
    early = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "main")
    code, _, err = cli(repo, monkeypatch, capsys, "diff", early, "HEAD", "--process", PB)
    assert code == 2
    assert f"process/clinic does not exist at {early}" in err


def test_shallow_clone_says_so(repo, monkeypatch, capsys, tmp_path):
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Second", reason="Clearer", approved=[BEN])
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    shallow = Repo.__new__(Repo)
    shallow.root = clone
    code, out, err = cli(shallow, monkeypatch, capsys, "diff", "HEAD~1", "HEAD", "--process", PB)
    assert code == 2
    assert "not found" in err and "shallow" in err
    code, out, err = cli(shallow, monkeypatch, capsys, "history", "--process", PB)
    assert code == 0
    assert out.startswith("warning: shallow clone") and "shallow clone" in err
    assert "created" not in out and "FLAG history-cut" in out


def test_parsed_file_versions_are_cached_on_disk(repo, monkeypatch, capsys):
    from generator.history import snapshot

    business_changes(repo)
    code, first, _ = cli(repo, monkeypatch, capsys, "history", "--format", "json", "--process", PB)
    cached = list((repo.root / ".cache" / "history").rglob("*.json"))
    assert code == 0 and len(cached) == 9  # 7 files, then 2 edited ones
    monkeypatch.setattr(snapshot, "_parse_bytes", lambda job: pytest.fail("parsed again"))
    code, second, _ = cli(repo, monkeypatch, capsys, "history", "--format", "json", "--process", PB)
    assert code == 0 and second == first


def test_not_a_repository(tmp_path, monkeypatch, capsys):
    shutil.copytree(FIXTURE, tmp_path / "pb")
    monkeypatch.chdir(tmp_path)
    code = run(["history", "--process", "pb"])
    _, err = capsys.readouterr()
    assert code == 2 and "not inside a git repository" in err


def test_hostile_commit_text_is_escaped_in_markdown(repo, monkeypatch, capsys):
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("<script>alert(1)</script> [x](javascript:alert(1))", reason="{{ jinja }} --8<-- /etc/passwd",
                approved=[BEN])
    code, out, _ = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", "markdown",
                       "--process", PB)
    assert code == 0
    assert "<script>" not in out and "](javascript" not in out and "{{" not in out and "--8<--" not in out
    assert "&lt;script&gt;" in out


def test_default_playbook_folder_and_ambiguity(repo, monkeypatch, capsys):
    business_changes(repo)
    code, out, _ = cli(repo, monkeypatch, capsys, "diff", "start", "HEAD")
    assert code == 0 and out.splitlines() == EXPECTED_LINES
    shutil.copytree(FIXTURE, repo.root / "process" / "second")
    code, _, err = cli(repo, monkeypatch, capsys, "history")
    assert code == 2 and "holds several playbooks" in err


def test_parallel_parse_gives_the_same_history(repo, monkeypatch, capsys):
    from generator.history import snapshot

    business_changes(repo)
    repo.edit("stages.yaml", "guidance: Check the form is complete.", "guidance: Check every field.")
    repo.commit("Second", reason="Clearer", approved=[BEN])
    code, serial, _ = cli(repo, monkeypatch, capsys, "history", "--format", "json", "--process", PB)
    shutil.rmtree(repo.root / ".cache")
    monkeypatch.setattr(snapshot, "PARALLEL_MIN", 1)
    monkeypatch.setattr(snapshot.os, "cpu_count", lambda: 2)
    code2, parallel, _ = cli(repo, monkeypatch, capsys, "history", "--format", "json", "--process", PB)
    assert (code, code2) == (0, 0) and parallel == serial
    assert len(list((repo.root / ".cache" / "history").rglob("*.json"))) == 10
