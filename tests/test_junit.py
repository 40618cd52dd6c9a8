"""The conformance JUnit report as CI reads it: valid under pytest's junit-10.xsd (vendored from
pytest's repository, testing/example_scripts/junit-10.xsd), and read back by junitparser with the
same counts the JSON report gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped

from generator.cli import run as cli_run
from generator.conformance.demo import default_as_of, write_demo
from generator.conformance.report import to_junit
from generator.conformance.run import NOT_CHECKABLE, RuleResult, RunResult, iso
from generator.validate import load_playbook

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "conformance" / "playbook"
SCHEMA = xmlschema.XMLSchema10(HERE / "junit-10.xsd")
KIND = {"fail": Failure, "incomplete": Error, NOT_CHECKABLE: Skipped}


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.fixture(scope="module")
def folder(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("junit") / "data"
    write_demo(model, str(out), leads=300, seed=5, fmt="parquet")
    return out


def _conform(model, folder, tmp_path, *extra) -> tuple[dict, Path]:
    j, x = tmp_path / "r.json", tmp_path / "r.xml"
    code = cli_run(["conform", "--playbook", str(FIXTURE), "--source", str(folder), "--as-of",
                    iso(default_as_of(model)), "--json", str(j), "--junit", str(x), *extra])
    assert code in (0, 1)
    return json.loads(j.read_text()), x


def _check_against_json(doc: dict, xml_path: Path) -> None:
    SCHEMA.validate(str(xml_path))  # raises with the schema's own message on any violation
    xml = JUnitXml.fromfile(str(xml_path))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    rules = {r["id"]: r for r in doc["rules"]}
    assert suite.tests == len(rules)
    assert suite.failures == sum(r["status"] == "fail" for r in rules.values())
    assert suite.errors == sum(r["status"] == "incomplete" for r in rules.values())
    assert suite.skipped == sum(r["status"] == NOT_CHECKABLE for r in rules.values())
    assert suite.timestamp == doc["generated_at"] and suite.time >= 0
    seen = set()
    for case in suite:
        r = rules[case.name]
        seen.add(case.name)
        assert case.time >= 0 and case._elem.get("time") is not None
        kinds = [type(x) for x in case.result]
        want = KIND.get(r["status"])
        assert kinds == ([want] if want else []), (case.name, r["status"], kinds)
        if r["status"] in ("pass", "fail", "incomplete"):
            assert f"{r['violations']} of {r['checked']} " in (case.system_out or "") + "".join(
                x.text or "" for x in case.result)
    assert seen == set(rules)


def test_report_with_failures_validates_and_reads_back(model, folder, tmp_path):
    doc, x = _conform(model, folder, tmp_path)
    assert any(r["status"] == "fail" for r in doc["rules"]), "demo data carries injected violations"
    _check_against_json(doc, x)


def test_report_with_ids_validates(model, folder, tmp_path):
    doc, x = _conform(model, folder, tmp_path, "--ids")
    _check_against_json(doc, x)
    assert "system-err" in x.read_text()


def test_every_status_validates():
    rules = [RuleResult(id=f"r-{s}", title="t", section="1", table="leads" if s != NOT_CHECKABLE else "", checked=4,
                        violations=1, rate=0.25, threshold={"max_violations": 0, "max_rate": None}, status=s,
                        ids=["a1"] if s == "fail" else None, reason="no column" if s == NOT_CHECKABLE else None,
                        seconds=0.0123)
             for s in ("pass", "fail", "incomplete", NOT_CHECKABLE)]
    result = RunResult(playbook="p", source="dir", generated_at="2027-01-01T00:00:00Z", as_of="2027-01-01T00:00:00Z",
                       complete=True, rules=rules, seconds=1.5)
    text = to_junit(result)
    SCHEMA.validate(text)
    # The old report put `skipped` on <testsuites>, which the schema forbids: it must fail there.
    bad = text.replace("<testsuites ", '<testsuites skipped="1" ', 1)
    assert not SCHEMA.is_valid(bad)
    suite = next(iter(JUnitXml.fromstring(text)))
    assert suite.time == 1.5 and [c.time for c in suite] == [0.012] * 4
