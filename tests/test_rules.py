"""Table-driven tests for the semantic rules, from tests/fixtures/rules/<CODE>.yml.

Each case patches the minimal valid playbook in tests/fixtures/rules/base/ and
lists the exact findings of one rule: file, line, column, level, and parts of
the message and hint.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator.load import load_data
from generator.validate import check
from generator.validate.refs import REFS, ref_fields
from generator.validate.rules import REGISTRY, discover, run_rules
from generator.validate.schema_errors import schema_problems

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
BASE = FIXTURES / "base"

discover()


def _cases():
    yaml = YAML(typ="safe", pure=True)
    for path in sorted(FIXTURES.glob("R*.yml")):
        doc = yaml.load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            yield pytest.param(doc["rule"], case, id=f"{doc['rule']}-{case['name']}")


def build_case(tmp_path: Path, case: dict) -> Path:
    """Copy the base playbook and apply a case's patches; returns the folder."""
    root = tmp_path / "pb"
    shutil.copytree(BASE, root)
    for patch in case.get("replace", []):
        target = root / patch["file"]
        text = target.read_text(encoding="utf-8")
        assert text.count(patch["old"]) == 1, f"patch text must occur once in {patch['file']}: {patch['old']!r}"
        target.write_text(text.replace(patch["old"], patch["new"]), encoding="utf-8")
    for name, text in (case.get("files") or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("code, case", list(_cases()))
def test_rule_case(tmp_path, code, case):
    root = build_case(tmp_path, case)
    loaded = load_data(root, display_root=root)
    model, schema = schema_problems(loaded)
    assert schema == [], [p.text() for p in schema]
    found = sorted(run_rules(model, loaded.source_map, [code]), key=lambda p: (p.file, p.line, p.column, p.message))
    expected = sorted(case["expect"], key=lambda e: (e["file"], e["line"], e["column"], e.get("message", "")))
    assert len(found) == len(expected), [p.text() for p in found]
    for got, want in zip(found, expected):
        assert (got.file, got.line, got.column) == (want["file"], want["line"], want["column"]), got.text()
        assert got.code == code
        assert got.level == want.get("level", "error")
        assert want.get("message", "") in got.message, got.text()
        assert want.get("hint", "") in got.hint, got.text()


def test_every_rule_has_passing_and_failing_cases():
    by_rule: dict[str, list[dict]] = {}
    for p in _cases():
        code, case = p.values
        by_rule.setdefault(code, []).append(case)
    for code in REGISTRY:
        cases = by_rule.get(code, [])
        assert any(not c["expect"] for c in cases), f"{code} has no passing case"
        assert any(c["expect"] for c in cases), f"{code} has no failing case"


def test_base_playbook_is_clean_under_every_rule():
    result = check(BASE, display_root=BASE)
    assert result.problems == []


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_rule_docs_have_bad_and_good_yaml_examples(code):
    r = REGISTRY[code]
    doc = r.doc
    assert re.fullmatch(r"R\d{3}", code)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", r.name)
    assert r.level in ("error", "warning")
    assert doc and doc.splitlines()[0].endswith("."), f"{code}: first line is the summary"
    for label in ("Bad:", "Good:"):
        assert label in doc, f"{code} documents no {label!r} example"
        block = doc.split(label, 1)[1].split("Good:", 1)[0] if label == "Bad:" else doc.split(label, 1)[1]
        lines = [ln[4:] for ln in block.splitlines() if ln.startswith("    ") or not ln.strip()]
        example = "\n".join(lines).strip("\n")
        assert example.strip(), f"{code}: empty {label} example"
        list(YAML(typ="safe", pure=True).load_all(example))  # examples are real YAML


def test_every_reference_field_has_a_target_section():
    assert ref_fields() == set(REFS)


def test_reference_targets_are_sections():
    from generator.model import SECTIONS

    for sections in REFS.values():
        for s in sections:
            assert s.split(".")[0] in SECTIONS


def test_scaled_playbook_stays_valid(tmp_path):
    """The benchmark's generator keeps a scaled playbook clean (so timings measure a valid run)."""
    from generator.validate.scale import write_scaled

    files = write_scaled(BASE, tmp_path / "scaled", 4)
    result = check(tmp_path / "scaled", display_root=tmp_path)
    assert result.problems == []
    assert len(result.model.stages) == 4 * 4 and len(files) == 7 + 3


def test_a_failing_rule_is_reported_not_raised(monkeypatch):
    from generator.validate.rules import Rule

    def broken(model, ctx):
        """Broken."""
        yield from ()
        raise KeyError("boom")

    monkeypatch.setitem(REGISTRY, "R999", Rule("R999", "broken", "error", broken))
    loaded = load_data(BASE, display_root=BASE)
    model, _ = schema_problems(loaded)
    problems = run_rules(model, loaded.source_map)
    assert [(p.code, p.message) for p in problems] == [("R999", "rule R999 failed: KeyError")]


_MUTATION_SECTIONS = ("people", "lanes", "roles", "systems", "events", "fields", "stages", "statuses",
                      "closure_reasons", "slas", "outreach", "templates", "steps")


_BASE_LOADED = []


def _base_loaded():
    if not _BASE_LOADED:
        _BASE_LOADED.append(load_data(BASE, display_root=BASE))
    return _BASE_LOADED[0]


try:
    from hypothesis import HealthCheck, given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    st = None

if st is not None:

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(drops=st.lists(st.tuples(st.sampled_from(_MUTATION_SECTIONS), st.integers(0, 9)), max_size=6),
           flips=st.lists(st.sampled_from(["terminal", "initial", "closed", "approved", "phi"]), max_size=4),
           seed=st.integers(0, 10_000))
    def test_rules_never_crash_on_mutated_playbooks(drops, flips, seed):
        """Dangling references, missing entities and flipped flags yield findings, never exceptions."""
        import copy
        import random

        from pydantic import ValidationError

        from generator.model import Playbook

        loaded = _base_loaded()
        data = copy.deepcopy(loaded.data)
        for section, i in drops:
            items = data.get(section) or []
            if len(items) > 1:
                items.pop(i % len(items))
        rnd = random.Random(seed)
        for flag in flips:
            section = {"terminal": "stages", "initial": "stages", "closed": "stages", "approved": "templates",
                       "phi": "fields"}[flag]
            item = rnd.choice(data[section])
            item[flag] = not item.get(flag, False)
        try:
            model = Playbook.model_validate(data)
        except ValidationError:
            return
        problems = run_rules(model, loaded.source_map)
        assert not [p for p in problems if "failed:" in p.message]
