"""`playbook export dbt` run by real dbt-core + dbt-duckdb (1.10, pinned in tests/requirements-dbt.txt and
installed in .cache/dbt-venv by scripts/dbt-venv.sh, which `make test` runs) on demo data at two clocks:
every rule's dbt failure count equals `playbook conform`'s violation count, and a dbt test fails exactly
when conform fails the rule."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from generator.cli import run
from generator.conformance.demo import default_as_of, write_demo
from generator.conformance.run import iso
from generator.export import dbt
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK = ROOT / "process" / "lead-management"
DBT = ROOT / ".cache" / "dbt-venv" / "bin" / "dbt"
DAY = 86400


@pytest.fixture(scope="module")
def model():
    return load_playbook(PLAYBOOK)


@pytest.fixture(scope="module")
def project(model, tmp_path_factory):
    if not DBT.exists():
        pytest.fail("dbt is not installed: run scripts/dbt-venv.sh (make test does)")
    root = tmp_path_factory.mktemp("dbt")
    crm, out = root / "crm", root / "project"
    write_demo(model, str(crm), leads=300, seed=11, fmt="parquet")
    assert run(["export", "dbt", "--out", str(out), str(PLAYBOOK)]) == 0
    return crm, out


def dbt_build(out: Path, crm: Path, as_of: str) -> dict[str, tuple[str, int]]:
    env = {**os.environ, "PLAYBOOK_CRM_DIR": str(crm), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DO_NOT_TRACK": "1"}
    proc = subprocess.run([str(DBT), "build", "--profiles-dir", ".", "--vars", f"{{as_of: '{as_of}'}}"],
                          cwd=out, env=env, capture_output=True, text=True, timeout=900)
    results = json.loads((out / "target" / "run_results.json").read_text())["results"]
    seeds = [r for r in results if r["unique_id"].startswith("seed.")]
    assert [r["status"] for r in seeds] == ["success"], proc.stdout[-3000:]
    tests = {r["unique_id"].split(".", 2)[2]: (r["status"], r["failures"]) for r in results
             if r["unique_id"].startswith("test.")}
    assert all(status in ("pass", "warn", "fail") for status, _ in tests.values()), proc.stdout[-3000:]
    assert proc.returncode == (1 if any(s == "fail" for s, _ in tests.values()) else 0)
    return tests


def conform(crm: Path, as_of: str, tmp: Path) -> dict[str, tuple[str, int]]:
    j = tmp / f"conform-{as_of[:10]}.json"
    code = run(["conform", "--source", str(crm), "--playbook", str(PLAYBOOK), "--as-of", as_of, "--json", str(j)])
    assert code in (0, 1)
    return {r["id"]: (r["status"], r["violations"]) for r in json.loads(j.read_text())["rules"]}


@pytest.mark.slow
def test_dbt_counts_what_conform_counts_at_two_clocks(model, project, tmp_path):
    crm, out = project
    clocks = [iso(default_as_of(model)), iso(default_as_of(model) - 10 * DAY)]
    seen = []
    for as_of in clocks:
        ours = conform(crm, as_of, tmp_path)
        theirs = dbt_build(out, crm, as_of)
        checked = {k: v for k, v in ours.items() if v[0] != "not_checkable"}
        assert sorted(theirs) == sorted(checked)  # one dbt test per checkable rule, no more
        for rule, (status, violations) in checked.items():
            want = "fail" if status == "fail" else ("warn" if violations else "pass")
            assert theirs[rule] == (want, violations), (as_of, rule, theirs[rule], (status, violations))
        seen.append(checked)
    assert any(r["status"] == "fail" for r in [{"status": s} for s, _ in seen[0].values()])
    assert seen[0] != seen[1], "the two clocks should count differently (SLA deadlines move)"


def test_rate_threshold_is_a_config_that_can_fail(model):
    files = dbt.render(model)
    from generator.conformance.checks import build_checks

    rated = [c for c in build_checks(model) if c.threshold.max_rate is not None]
    assert rated, "the default playbook has rate budgets"
    for c in rated:
        text = files[f"tests/conformance/{c.id}.sql"]
        assert "fail_calc='sum(violations)'" in text and "* sum(checked)" in text and "severity='warn'" not in text
    text = files["profiles.yml"]
    assert "type: duckdb" in text and "TimeZone: UTC" in text
    for target in ("# postgres:", "# snowflake:", "# bigquery:"):
        assert target in text
    assert "env_var('PLAYBOOK_CRM_DIR')" in files["models/sources.yml"]
    sla_tests = [t for p, t in files.items() if p.startswith("tests/conformance/sla.")]
    assert sla_tests and all("playbook_as_of_epoch(var('as_of', none))" in t for t in sla_tests)
    assert str(dbt.CLOCK) not in "".join(files.values())  # the stand-in clock never survives
