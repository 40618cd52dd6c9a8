"""The change log never hides a change: word diffs, values as written, CRM impact; goldens for text and Markdown."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from golden_files import check_file

from test_history import ANA, BEN, GOLDEN, PB, business_changes, cli, repo  # noqa: F401  (fixture)

GUIDANCE_A = ("Call the person, confirm the specialty and the region, and record whether they consented "
              "to be contacted by phone.")
GUIDANCE_B = ("Call the person, confirm the specialty and the region, and record whether they consented "
              "to be contacted by phone or text.")


def changelog_commits(repo) -> None:
    """Three commits: a long text edited in place, an escalation added, CRM-relevant changes."""
    repo.edit("stages.yaml", "guidance: Check the form is complete.", f"guidance: {GUIDANCE_A}")
    repo.commit("Say what to check", reason="Staff asked", approved=[BEN])
    repo.edit("stages.yaml", f"guidance: {GUIDANCE_A}", f"guidance: {GUIDANCE_B}")
    repo.commit("Texts count too", reason="Consent covers SMS", approved=[BEN])
    repo.edit("routing.yaml", "        action: Reassign the lead.",
              "        action: Reassign the lead.\n      - after: 3 business days\n        notify: ops-lead\n"
              "        action: Tell the clinic manager.")
    repo.commit("Second escalation", reason="Breaches went unnoticed", approved=[BEN])
    business_changes(repo)


def test_changelog_text_shows_words_values_and_crm_impact(repo, monkeypatch, capsys):
    changelog_commits(repo)
    code, out, err = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--process", PB)
    assert code == 0, err
    assert ("* stage new: guidance changed: … consented to be contacted by [-phone.-] {+phone or text.+}"
            in out)
    assert ("* SLA first-call: escalation 2 added (after 3 business days, notify ops-lead, "
            "action Tell the clinic manager.)") in out
    assert "{'amount'" not in out
    assert "Salesforce field Lead.Phone" in out or "Salesforce validation rule" in out
    assert "the CRM must be redeployed" in out
    assert "conformance rules affected: " in out and "sla.first-call" in out


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_changelog_golden(repo, monkeypatch, capsys, fmt):
    changelog_commits(repo)
    code, out, err = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", fmt, "--process", PB)
    assert code == 0, err
    golden = GOLDEN / f"changelog.{ {'text': 'txt', 'markdown': 'md'}[fmt] }"
    check_file(golden, out)


def test_changelog_json_keeps_old_and_new_whole(repo, monkeypatch, capsys):
    changelog_commits(repo)
    code, out, err = cli(repo, monkeypatch, capsys, "history", "--since", "start", "--format", "json",
                         "--process", PB)
    assert code == 0, err
    commits = {c["subject"]: c for c in json.loads(out)["commits"]}
    (change,) = commits["Texts count too"]["changes"]
    assert (change["old"], change["new"]) == (GUIDANCE_A, GUIDANCE_B)
    assert {"op": "+", "text": "phone or text."} in change["word_diff"]
    impact = commits["Tighten first call"]["crm_impact"]
    assert impact["redeploy"] is True
    assert "sla.first-call" in impact["conformance_rules"]
    assert any(c.startswith("Salesforce flow ") for c in impact["components"])
    assert commits["Tighten first call"]["required_approvers"]
    # A guidance text reaches the Salesforce Path, so even that is a CRM change; a commit without
    # semantic changes has no impact at all.
    assert commits["Say what to check"]["crm_impact"]["components"]


def test_page_says_when_a_version_cannot_be_loaded(repo):
    """A release whose playbook does not load reads as such, never as "playbook created"."""
    from generator.history.pages import PAGE, contribute
    from generator.validate import load_playbook

    good = repo.path("stages.yaml").read_text()
    repo.path("stages.yaml").write_text(good + "\n  - id: [broken\n")
    repo.commit("Break the stages file", reason="oops", approved=[BEN])
    repo.git("tag", "-a", "v0.9", "-m", "playbook clinic 0.9\n\nEffective: 2026-01-01\n")
    repo.path("stages.yaml").write_text(good)
    repo.commit("Repair", reason="fix", approved=[BEN])
    page = contribute(load_playbook(repo.root / PB), repo.root / PB).pages[PAGE]
    assert "The playbook could not be loaded at this version" in page
    assert "playbook clinic created" not in page.split("## 0\\.9")[1].split("### Commits")[0]
    assert "## Unreleased: not yet in effect" in page


def test_page_without_releases_says_so_next_to_version_and_effective(repo):
    from generator.history.pages import PAGE, contribute
    from generator.validate import load_playbook

    page = contribute(load_playbook(repo.root / PB), repo.root / PB).pages[PAGE]
    assert "No release has been tagged yet: the playbook says version 1\\.0, effective 2026-01-01" in page


POOLED = """
import json, os, sys
from pathlib import Path
from generator.history import impact
from generator.history.changelog import History

parent, compile_model = os.getpid(), impact.compile_model


def in_workers_only(model):
    # The pool's workers are forks of this process: here, only the empty "no playbook yet" side compiles.
    assert model is None or os.getpid() != parent, "a tree was compiled one by one, not in the pool"
    return compile_model(model)


impact.PARALLEL_MIN = 1
impact.compile_model = in_workers_only
hist = History(Path(sys.argv[1]), cache=True)
try:
    print(json.dumps([e.impact.as_dict() if e.impact else None for e in hist.entries()], default=str))
finally:
    hist.close()
"""


def test_impact_compiled_in_a_process_pool_equals_one_by_one(repo, monkeypatch):
    """A cold history compiles every tree's exports and checks in a forked pool: same impacts, same cache.

    The pool forks only in a process with no other thread, and a pytest worker may have some (xdist's,
    a server a fixture left running), so the pooled run is a fresh interpreter of its own."""
    import subprocess
    import sys

    from generator.history import impact
    from generator.history.changelog import History

    changelog_commits(repo)
    root = repo.root

    def impacts(cache: bool) -> list:
        monkeypatch.setattr(impact, "PARALLEL_MIN", 10**9)
        monkeypatch.chdir(root)
        hist = History(root / PB, cache=cache)
        try:
            return json.loads(json.dumps([e.impact.as_dict() if e.impact else None for e in hist.entries()],
                                         default=str))
        finally:
            hist.close()

    one_by_one = impacts(cache=False)
    assert sum(1 for i in one_by_one if i and i["components"]) >= 3
    # Every tree to the pool, digests written to .cache/history.
    run = subprocess.run([sys.executable, "-c", POOLED, str(root / PB)], cwd=root, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout) == one_by_one
    stored = list((root / ".cache" / "history" / "impact").rglob("*.digests"))
    assert len(stored) >= 4
    from_disk = impacts(cache=True)  # read back from the digests the pool's results left
    assert from_disk == one_by_one
