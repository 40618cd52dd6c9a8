"""Check families: registry, docstrings and the documents generated from them agree.

The README's rule table and DATA-CONTRACT.md's "How each check counts" are rendered
from each family's docstring; these tests fail when code, docstrings and documents
drift apart (regenerate the README table with PLAYBOOK_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from generator.conformance.checks import build_checks, not_checkable
from generator.conformance.contract import build_contract
from generator.conformance.families import MODULES, families, readme_table
from generator.conformance.pages import contract_page
from generator.text import md_code, md_text
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = [ROOT / "process" / "lead-management", ROOT / "tests" / "fixtures" / "conformance" / "playbook"]
UPDATE = os.environ.get("PLAYBOOK_UPDATE_GOLDEN") == "1"
README_START = "**Rules** (stable ids, one testcase each in JUnit; each counts rows of one table):\n\n"


def test_every_module_registers_one_family_with_a_paragraph_per_pattern():
    fams = families()
    assert [f.name for f in fams] == list(MODULES)
    for f in fams:
        assert f.title, f"{f.name}: docstring needs a first line naming the family"
        assert list(f.counting()) == list(f.patterns), f"{f.name}: one `pattern`: paragraph per registered id pattern"


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_every_rule_is_built_by_exactly_one_family_with_its_documented_counting(path):
    model = load_playbook(path)
    contract = build_contract(model)
    for fam in families():
        for item in fam.build(model, contract):
            owners = [f.name for f in families() if f.matches(item.id)]
            assert owners[:1] == [fam.name], f"{item.id} built by {fam.name} but matches {owners}"
            if hasattr(item, "counts"):
                template = fam.counting()[fam.matches(item.id)]
                rx = re.escape(template)
                rx = re.sub(r"\\\{\w+\\\}", ".+", rx)
                assert re.fullmatch(rx, item.counts), f"{item.id}: counts text is not its family's docstring"


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_the_data_contract_says_how_every_check_counts(path):
    model = load_playbook(path)
    checks = build_checks(model)
    page = contract_page(model, checks=checks)
    for c in checks:
        assert f"| {md_code(c.id)} | {md_code(c.table)} | {md_text(c.counts)} |" in page
    for u in not_checkable(model):
        assert md_code(u.id) in page


def test_readme_rule_table_is_generated_from_the_family_docstrings():
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    start = text.index(README_START) + len(README_START)
    end = text.index("\n\n", start)
    table = readme_table()
    if UPDATE and text[start:end] != table:
        path.write_text(text[:start] + table + text[end:], encoding="utf-8")
        text = path.read_text(encoding="utf-8")
    assert text[start:end] == table, "README's conformance rule table is stale: run PLAYBOOK_UPDATE_GOLDEN=1 pytest -k readme"
