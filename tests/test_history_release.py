"""Releases on gh-pages with mike, `at DATE`, CODEOWNERS and the change-log site pages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from golden_files import check_file

from generator.cli import run
from generator.errors import UsageError
from generator.history.release import release, version_at
from test_history import BEN, CY, FIXTURE, GOLDEN, PB, Repo, business_changes, cli


@pytest.fixture
def repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURE, r.root / PB)
    r.commit("Create the clinic playbook", reason="First written version", approved=[BEN])
    return r


def contribution_builder(process_dir: Path, site_dir: Path) -> None:
    """A quick stand-in for the site: the history pages as files, so tests read what a release carries."""
    from generator.history.pages import contribute
    from generator.validate import load_playbook

    model = load_playbook(process_dir)
    c = contribute(model, process_dir)
    for rel, text in {**c.pages, **{f"roles/{k}.md": v for k, v in c.role_sections.items()}}.items():
        out = site_dir / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    (site_dir / "index.html").write_text("<h1>playbook</h1>\n")


def show(repo: Repo, path: str) -> str:
    return repo.git("show", f"gh-pages:{path}")


def bump(repo: Repo, effective: str) -> None:
    repo.edit("playbook.yaml", "effective: 2026-01-01", f"effective: {effective}")


def test_two_releases_on_gh_pages_with_effective_dates(repo):
    first = release(repo.root / PB, "1.0", builder=contribution_builder)
    assert (first.tag, str(first.effective)) == ("v1.0", "2026-01-01")
    business_changes(repo)
    bump(repo, "2026-03-01")
    repo.commit("Effective in March", reason="Schedule", approved=[BEN])
    release(repo.root / PB, "1.1", builder=contribution_builder)

    versions = json.loads(show(repo, "versions.json"))
    assert [(v["version"], v["aliases"], v["properties"]["effective"]) for v in versions] == [
        ("1.1", ["latest"], "2026-03-01"), ("1.0", [], "2026-01-01")]
    assert versions[0]["properties"]["tag"] == "v1.1"
    # latest is a redirect, and the root redirects to latest.
    assert 'url=../1.1/' in show(repo, "latest/index.html")
    assert 'latest/' in show(repo, "index.html")
    # The older version stays, unchanged.
    assert "## 1\\.0" in show(repo, "1.0/history/changelog.md")
    log = show(repo, "1.1/history/changelog.md")
    assert "## 1\\.1" in log and "- Effective: 2026-03-01" in log
    assert "* SLA first\\-call\\: 4 business hours \\-&gt; 2 business hours" in log
    assert "- Reason: Faster response for qualified leads" in log
    assert "**Flag self\\-approval**" in log  # Ana approved her own change
    agent = show(repo, "1.1/roles/agent.md")
    assert agent.startswith("## What changed for you\n\nSince version 1\\.0 (effective 2026-01-01):")
    assert "routing rule cardiology\\: queue changed" in agent  # the queue's owner is the agent
    from generator.history.pages import contribute
    from generator.validate import load_playbook

    c = contribute(load_playbook(repo.root / PB), repo.root / PB)
    assert c.sla_sections == {"first-call": "**Changed since version 1\\.0:**\n\n"
                              "* SLA first\\-call\\: 4 business hours \\-&gt; 2 business hours\n"}
    assert list(c.stage_sections) == ["qualified"]
    tag = repo.git("tag", "-l", "--format=%(contents)", "v1.1")
    assert "Effective: 2026-03-01" in tag


def test_at_names_the_version_in_effect(repo, monkeypatch, capsys):
    release(repo.root / PB, "1.0", builder=contribution_builder)
    bump(repo, "2026-03-01")
    repo.commit("March", reason="Schedule", approved=[BEN])
    release(repo.root / PB, "1.1", builder=contribution_builder)
    assert version_at(repo.root / PB, "2026-02-28").version == "1.0"
    assert version_at(repo.root / PB, "2026-03-01").version == "1.1"
    code, out, _ = cli(repo, monkeypatch, capsys, "at", "2027-01-01", "--process", PB)
    assert code == 0 and out.startswith("1.1 (tag v1.1, effective 2026-03-01")
    code, _, err = cli(repo, monkeypatch, capsys, "at", "2025-12-31", "--process", PB)
    assert code == 2 and "no release was in effect on 2025-12-31" in err
    code, _, err = cli(repo, monkeypatch, capsys, "at", "yesterday", "--process", PB)
    assert code == 2 and "not YYYY-MM-DD" in err


def test_at_without_tags_is_a_clear_error(repo, monkeypatch, capsys):
    code, _, err = cli(repo, monkeypatch, capsys, "at", "2026-06-01", "--process", PB)
    assert code == 2 and "no release tags" in err


def test_release_refusals(repo):
    release(repo.root / PB, "1.0", builder=contribution_builder)
    with pytest.raises(UsageError, match="already exists"):
        release(repo.root / PB, "1.0", builder=contribution_builder)
    with pytest.raises(UsageError, match="not allowed"):
        release(repo.root / PB, "1.0/../x", builder=contribution_builder)
    with pytest.raises(UsageError, match="looks like an option"):
        release(repo.root / PB, "-x", builder=contribution_builder)
    bump(repo, "2025-06-01")
    with pytest.raises(UsageError, match="uncommitted changes"):
        release(repo.root / PB, "1.1", builder=contribution_builder)
    repo.commit("Backdate", reason="Oops", approved=[BEN])
    with pytest.raises(UsageError, match="before that of v1.0"):
        release(repo.root / PB, "1.1", builder=contribution_builder)


def test_failed_build_leaves_no_tag_and_no_deploy(repo):
    def broken(process_dir: Path, site_dir: Path) -> None:
        raise UsageError("site build failed on purpose")

    with pytest.raises(UsageError, match="on purpose"):
        release(repo.root / PB, "1.0", builder=broken)
    assert repo.git("tag", "-l") == ""
    assert repo.git("branch", "--list", "gh-pages") == ""


def test_release_with_the_real_site_build(repo, monkeypatch, capsys):
    """End to end through the CLI: mkdocs-material site with the version selector and change log."""
    site_build = pytest.importorskip("generator.site.build")
    from generator.site.contrib import collect

    # Only this part's pages: other parts' contributions are tested by their own suites.
    monkeypatch.setattr(site_build, "collect",
                        lambda model, process_dir, *_: collect(model, process_dir, ("generator.history.pages",)))
    business_changes(repo)
    code, out, err = cli(repo, monkeypatch, capsys, "release", "2.0", "--process", PB)
    assert code == 0, err
    assert out.startswith("released 2.0 (tag v2.0, effective 2026-01-01)")
    files = repo.git("ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert "2.0/history/changelog/index.html" in files and "versions.json" in files
    page = show(repo, "2.0/history/changelog/index.html")
    assert "Change log" in page and "Faster response for qualified leads" in page
    index = show(repo, "2.0/index.html")
    # The version selector reads mike's versions.json; the banner shows on every version but latest.
    assert '"version": {"alias": true, "default": "latest", "provider": "mike"}' in index
    assert "This is an older version of the playbook, no longer in effect." in index


def test_owners_golden(repo, monkeypatch, capsys):
    repo.git("mv", f"{PB}/routing.yaml", f"{PB}/routing and slas.yaml")
    repo.commit("Rename", reason="Clarity", approved=[BEN])
    code, out, _ = cli(repo, monkeypatch, capsys, "owners", "--out", "-", "--process", PB)
    assert code == 0
    golden = GOLDEN / "CODEOWNERS"
    check_file(golden, out)
    assert "/process/clinic/routing\\ and\\ slas.yaml @cy-score @ana-ops @ben-lead\n" in out
    code, out, _ = cli(repo, monkeypatch, capsys, "owners", "--process", PB)
    assert code == 0 and (repo.root / ".github" / "CODEOWNERS").read_text().startswith("# Generated")


def test_pages_without_git_say_so(tmp_path):
    from generator.history.pages import PAGE, contribute
    from generator.validate import load_playbook

    shutil.copytree(FIXTURE, tmp_path / "pb")
    c = contribute(load_playbook(tmp_path / "pb"), tmp_path / "pb")
    assert "version history is not available" in c.pages[PAGE]
    assert c.role_sections == {}


def test_pages_from_a_shallow_clone_warn(repo, tmp_path):
    from generator.history.pages import PAGE, contribute
    from generator.validate import load_playbook

    business_changes(repo)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True)
    c = contribute(load_playbook(clone / PB), clone / PB)
    assert "Incomplete history" in c.pages[PAGE]
    assert "## Unreleased" in c.pages[PAGE]


def test_pages_without_release_list_unreleased_commits(repo):
    from generator.history.pages import PAGE, contribute
    from generator.validate import load_playbook

    business_changes(repo)
    c = contribute(load_playbook(repo.root / PB), repo.root / PB)
    page = c.pages[PAGE]
    assert "## Unreleased" in page and "#### Tighten first call" in page
    assert "Approved by: Ana Ops &lt;ana\\@example\\.org&gt; \\[ana\\]" in page
    assert c.nav == [("Change log", PAGE)]


def test_push_is_explicit(repo, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    release(repo.root / PB, "1.0", builder=contribution_builder)
    assert subprocess.run(["git", "tag", "-l"], cwd=remote, capture_output=True, text=True).stdout == ""
    bump(repo, "2026-02-01")
    repo.commit("February", reason="Schedule", approved=[BEN])
    release(repo.root / PB, "1.1", push=True, builder=contribution_builder)
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)"], cwd=remote, capture_output=True,
                          text=True).stdout.split()
    assert refs == ["refs/heads/gh-pages", "refs/tags/v1.1"]


def test_diff_markdown_escapes_hostile_process_text(repo, monkeypatch, capsys):
    repo.edit("stages.yaml", "guidance: Check the form is complete.",
              "guidance: \"<script>x</script> [a](javascript:alert(1)) {{ jinja }} --8<-- x\"")
    repo.commit("Hostile", reason="Test", approved=[BEN])
    code, out, _ = cli(repo, monkeypatch, capsys, "diff", "HEAD~1", "HEAD", "--format", "markdown",
                       "--process", PB)
    assert code == 0
    assert "<script>" not in out and "](javascript" not in out and "{{" not in out and "--8<--" not in out
    assert "&lt;script&gt;" in out


def test_at_falls_back_to_versions_json_without_tags(repo):
    release(repo.root / PB, "1.0", builder=contribution_builder)
    bump(repo, "2026-03-01")
    repo.commit("March", reason="Schedule", approved=[BEN])
    release(repo.root / PB, "1.1", builder=contribution_builder)
    repo.git("tag", "-d", "v1.0", "v1.1")
    found = version_at(repo.root / PB, "2026-02-01")
    assert (found.version, found.tag, str(found.effective)) == ("1.0", "v1.0", "2026-01-01")
    assert version_at(repo.root / PB, "2026-03-02").version == "1.1"
