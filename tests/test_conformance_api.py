"""The check IR's public API (what what-if and evidence call): counts keyed by rule id."""

from __future__ import annotations

from pathlib import Path

from generator.conformance.checks import build_checks, not_checkable
from generator.conformance.compile import compile_checks
from generator.conformance.demo import default_as_of, write_demo
from generator.conformance.run import RuleCount, count_rules
from generator.conformance.sources import open_source
from generator.validate import load_playbook

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conformance" / "playbook"


def test_count_rules_keys_every_rule_by_id_with_the_demo_truth(tmp_path):
    model = load_playbook(FIXTURE)
    as_of = default_as_of(model)
    truth = write_demo(model, str(tmp_path), leads=150, seed=3, as_of=as_of, fmt="csv")
    checks = build_checks(model)
    assert compile_checks(model, checks, "duckdb", as_of=as_of).queries
    src = open_source(str(tmp_path))
    try:
        counts = count_rules(model, src, as_of=as_of)
    finally:
        src.close()
    assert set(counts) == {c.id for c in checks} | {u.id for u in not_checkable(model)}
    assert {k: v.violations for k, v in counts.items() if k in truth} == truth
    assert all(isinstance(v, RuleCount) and v.checked >= v.violations for v in counts.values())
    assert any(v.violations for v in counts.values())
