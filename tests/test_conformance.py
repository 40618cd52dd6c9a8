"""Conformance checks on DuckDB: counts found equal counts injected, reports, CLI, goldens."""

from __future__ import annotations

import csv
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlglot

from golden_files import check_file, check_tree

from generator.cli import run as cli_run
from generator.conformance.checks import build_checks
from generator.conformance.compile import EXPORT_DIALECTS, RUN_DIALECTS, compile_checks
from generator.conformance.demo import default_as_of, write_demo
from generator.conformance.run import iso, run_checks
from generator.conformance.sources.duckdb_dir import DuckDBSource
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "playbook"
DEFAULT = ROOT / "process" / "lead-management"
GOLDEN = ROOT / "tests" / "golden" / "conformance"

KINDS = ("required-fields.", "allowed-values.", "closure-reason-present", "reason-note-present.",
         "transition-allowed", "sla.", "sla-escalated.", "duplicates.", "attribution-present",
         "outreach-before-consent", "outreach-do-not-contact", "call-logging", "routing-consistent",
         "appointment-stage-consistent")


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.fixture(scope="module")
def demo_dir(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "export"
    truth = write_demo(model, str(out), leads=1200, seed=11, fmt="csv")
    return out, truth


def _run(model, folder, **kw):
    src = DuckDBSource(Path(folder))
    try:
        return run_checks(model, src, as_of=default_as_of(model), generated_at=default_as_of(model), **kw)
    finally:
        src.close()


def _assert_found_equals_truth(result, truth):
    found = {r.id: r.violations for r in result.rules}
    assert found == truth
    missing = [rid for rid, n in truth.items() if n < 1]
    assert not missing, f"rules without an injected violation: {missing}"


def test_checks_cover_every_kind(model):
    ids = [c.id for c in build_checks(model)]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    for kind in KINDS:
        assert any(i == kind or i.startswith(kind) for i in ids), kind


def test_found_equals_truth_on_duckdb_csv(model, demo_dir):
    folder, truth = demo_dir
    assert json.loads((folder / "truth.json").read_text()) == truth
    _assert_found_equals_truth(_run(model, folder), truth)


def test_found_equals_truth_on_duckdb_parquet_with_block_copies(model, tmp_path):
    # 1,100 leads in blocks of 300: three DuckDB copies of the first block plus 200 generated leads
    truth = write_demo(model, str(tmp_path), leads=1100, seed=5, fmt="parquet", chunk=300)
    _assert_found_equals_truth(_run(model, tmp_path), truth)
    src = DuckDBSource(tmp_path)
    try:
        assert src.query("SELECT count(*) FROM leads")[0][0] >= 1100
        assert src.query("SELECT count(*), count(DISTINCT lead_id) FROM leads")[0] == (
            src.query("SELECT count(*) FROM leads")[0][0],) * 2
    finally:
        src.close()


@pytest.mark.skipif(not DEFAULT.is_dir(), reason="default playbook not present")
def test_found_equals_truth_on_default_playbook(tmp_path):
    m = load_playbook(DEFAULT)
    truth = write_demo(m, str(tmp_path), leads=1500, seed=3, fmt="parquet")
    _assert_found_equals_truth(_run(m, tmp_path), truth)


def test_clean_data_passes_every_rule(model, tmp_path):
    truth = write_demo(model, str(tmp_path), leads=600, seed=2, fmt="csv", inject=False)
    assert set(truth.values()) == {0}
    result = _run(model, tmp_path)
    # Clean data has no SLA breach, so the escalation rules have nothing to check: no_data, never pass.
    assert {r.id: r.status for r in result.rules if r.status != "pass"} == {
        r.id: "no_data" for r in result.rules if r.id.startswith("sla-escalated.")}
    assert all(r.checked > 0 for r in result.rules if not r.id.startswith("sla-escalated."))
    assert result.exit_code == 0  # no_data does not fail a run by default
    result.fail_on_no_data = True
    assert result.exit_code == 1


def test_demo_data_is_deterministic_and_fake(model, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_demo(model, str(a), leads=300, seed=9)
    write_demo(model, str(b), leads=300, seed=9)
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    with open(a / "leads.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["email"].strip().lower().endswith("@example.org") for r in rows if r["email"].strip())
    assert all("555" in r["phone"] for r in rows if r["phone"].strip())


def test_incomplete_source_never_passes(model, demo_dir):
    folder, _ = demo_dir
    src = DuckDBSource(Path(folder), complete=False)
    try:
        result = run_checks(model, src, as_of=default_as_of(model))
    finally:
        src.close()
    assert not result.complete and result.exit_code == 2
    assert "pass" not in {r.status for r in result.rules}
    assert {"incomplete", "fail"} == {r.status for r in result.rules}


def test_thresholds_come_from_the_playbook(model, demo_dir):
    folder, truth = demo_dir
    result = {r.id: r for r in _run(model, folder).rules}
    email = result["duplicates.email"]
    assert email.threshold == {"max_violations": None, "max_rate": 0.5}
    assert email.status == "pass" and email.violations == truth["duplicates.email"] > 0
    assert result["transition-allowed"].threshold == {"max_violations": 0, "max_rate": None}
    assert result["transition-allowed"].status == "fail"


# ------------------------------------------------------------------ CLI and reports


def _conform(capsys, *args):
    code = cli_run(["conform", "--playbook", str(FIXTURE), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def _lead_values(folder: Path) -> set[str]:
    with open(folder / "leads.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    values = set()
    for r in rows:
        for col in ("email", "phone", "last_name", "reason_note"):
            v = (r.get(col) or "").strip()
            if len(v) >= 5:
                values.add(v)
        if r.get("first_name") and r.get("last_name"):
            values.add(f"{r['first_name']} {r['last_name']}".strip())
    return values


def test_conform_reports_exit_codes_and_no_lead_values(model, demo_dir, tmp_path, capsys):
    folder, truth = demo_dir
    as_of = iso(default_as_of(model))
    j, x, m = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    code, console = _conform(capsys, "--source", str(folder), "--as-of", as_of, "--json", str(j),
                             "--junit", str(x), "--markdown", str(m))
    assert code == 1
    doc = json.loads(j.read_text())
    assert set(doc) == {"playbook", "source", "generated_at", "as_of", "complete", "rules"}
    assert doc["as_of"] == as_of and doc["complete"] is True
    rule_keys = {"id", "title", "section", "table", "checked", "violations", "rate", "threshold", "status"}
    assert all(set(r) == rule_keys for r in doc["rules"])  # no record ids without --ids
    assert {r["id"]: r["violations"] for r in doc["rules"]} == truth
    suite = ET.parse(x).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r["id"] for r in doc["rules"]]
    failing = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failing == [r["id"] for r in doc["rules"] if r["status"] == "fail"]
    assert suite.get("failures") == str(len(failing))
    md = m.read_text()
    assert "| `transition-allowed` |" in md
    everything = console + j.read_text() + x.read_text() + md
    leaked = [v for v in _lead_values(folder) if v in everything]
    assert not leaked, leaked[:5]

    # --ids: record ids only, still no values
    code, console = _conform(capsys, "--source", str(folder), "--as-of", as_of, "--json", str(j), "--ids")
    assert code == 1
    doc = json.loads(j.read_text())
    for r in doc["rules"]:
        assert len(r["ids"]) == r["violations"] or r["table"] != "leads"
        assert all(isinstance(i, str) for i in r["ids"])
    lead_ids = next(r for r in doc["rules"] if r["id"] == "transition-allowed")
    assert lead_ids["ids"] and all(i.startswith("H") for i in lead_ids["ids"])
    everything = console + j.read_text()
    assert not [v for v in _lead_values(folder) if v in everything]


def test_conform_exit_0_on_clean_data_and_2_on_unreadable_sources(model, tmp_path, capsys):
    write_demo(model, str(tmp_path / "clean"), leads=300, seed=4, inject=False)
    code, out = _conform(capsys, "--source", str(tmp_path / "clean"), "--as-of", iso(default_as_of(model)))
    assert code == 0, out
    code, out = _conform(capsys, "--source", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in out
    code, out = _conform(capsys, "--source", "postgresql://crm:hunter2-secret@127.0.0.1:1/crm?connect_timeout=2")
    assert code == 2 and "hunter2-secret" not in out
    code, out = _conform(capsys, "--source", str(tmp_path / "clean"), "--as-of", "yesterday-ish")
    assert code == 2 and "--as-of" in out


def test_demo_data_command(tmp_path, capsys):
    code = cli_run(["demo-data", "--playbook", str(FIXTURE), "--out", str(tmp_path), "--leads", "200",
                    "--seed", "3", "--format", "parquet"])
    out = capsys.readouterr().out
    assert code == 0 and "check with --as-of 2026-01-31T12:00:00Z" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "activities.parquet", "appointments.parquet", "demo.json", "leads.parquet", "stage_history.parquet",
        "truth.json"]


# ------------------------------------------------------------------ SQL and exports


def test_golden_sql_per_dialect(model):
    checks = build_checks(model)
    for dialect in EXPORT_DIALECTS:
        comp = compile_checks(model, checks, dialect, as_of=1769860800)
        text = "".join(f"-- {q.table}: {', '.join(q.check_ids)}\n{q.sql};\n\n" for q in comp.queries)
        for q in comp.queries:
            sqlglot.parse_one(q.sql, read=dialect)  # each dialect reads back what it wrote
        check_file(GOLDEN / f"{dialect}.sql", text)
    # One golden per dialect, no more: a dialect dropped from the exports must drop its golden too.
    assert sorted(p.name for p in GOLDEN.glob("*.sql")) == sorted(f"{d}.sql" for d in EXPORT_DIALECTS)


def test_one_fused_query_per_table(model):
    comp = compile_checks(model, build_checks(model), "duckdb", as_of=0)
    assert [q.table for q in comp.queries] == ["leads", "activities", "stage_history", "appointments"]
    leads_sql = comp.queries[0].sql
    # every other table is aggregated at most once, in one CTE, for all lead checks ...
    assert leads_sql.count("FROM stage_history") <= 1 and leads_sql.count("FROM activities") <= 1
    # ... plus one join per SLA stop, which counts only at or after its start (issue 10, bug 2)
    joins = leads_sql.count("JOIN stage_history AS t") + leads_sql.count("JOIN activities AS t")
    assert joins == len(model.slas)  # both fixture SLAs stop on another table's rows
    # ONE scan of leads for every lead check, duplicates included (issue 15): the match keys are
    # computed in the same projection as the row checks' fields, and every matching rule's groups
    # come from one GROUPING SETS aggregate over it, one set per rule (no window sort)
    for dialect in RUN_DIALECTS:
        sql = compile_checks(model, build_checks(model), dialect, as_of=0).queries[0].sql
        assert sql.count("FROM leads") == 1, dialect
        assert sql.count("GROUPING SETS") == 1 and "ROW_NUMBER" not in sql, dialect
        sets = sql.split("GROUPING SETS", 1)[1].split(")\n)", 1)[0]
        assert sets.count("_in,") == len(model.matching.rules), dialect
    # the row checks' rows carry only the fields they read, not the match keys
    enriched = leads_sql.split("enriched AS (", 1)[1].split("FROM base", 1)[0]
    assert "base.*" not in enriched and "_k0" not in enriched and "sk" not in enriched
    assert not comp.ids_sql
    with_ids = compile_checks(model, build_checks(model), "duckdb", as_of=0, with_ids=True)
    assert "ROW_NUMBER" in with_ids.ids_sql["duplicates.email"]


def test_export_conformance_writes_plain_sql(tmp_path, capsys):
    code = cli_run(["export", "conformance", "--out", str(tmp_path), str(FIXTURE)])
    assert code == 0, capsys.readouterr()
    for dialect in EXPORT_DIALECTS:
        sql = (tmp_path / "sql" / dialect / "leads.sql").read_text()
        sqlglot.parse_one(sql.split("\n", 1)[1].rstrip(";\n").split("\n", 0)[0] if False else
                          "\n".join(ln for ln in sql.splitlines() if not ln.startswith("--")).rstrip(";"),
                          read=dialect)
    # dbt lives in `playbook export dbt` (a whole project, tests/test_dbt_export.py); none is left here.
    assert not (tmp_path / "dbt").exists()
    assert (tmp_path / "business_hours.csv").read_text().startswith("hour_start,")


# ------------------------------------------------------------------ site


def test_pages_are_deterministic_and_escape_process_text(tmp_path):
    from generator.conformance.pages import contribute

    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    stages = play / "stages.yaml"
    stages.write_text(stages.read_text().replace("name: Qualified\n",
                                                 "name: \"<script>alert(1)</script> {{ x }} --8<-- q\"\n"))
    m = load_playbook(play)
    a, b = contribute(m, play), contribute(m, play)
    assert a.pages == b.pages and a.stage_sections == b.stage_sections
    page = a.pages["conformance.md"]
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "{{ x }}" not in page and "--8<--" not in page
    assert "holds for" in a.stage_sections["qualified"] and "conformance.md#rule-" in a.stage_sections["qualified"]
    assert set(a.sla_sections) == {"first-call", "qualify-fast"}
    assert ("Conformance", "conformance.md") in a.nav
    contract = a.pages["data-contract.md"]
    assert "`leads`" in contract and "`stage_history`" in contract and "timestamp \\(UTC" in contract


def test_reports_escape_hostile_process_text(tmp_path, capsys):
    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    stages = play / "stages.yaml"
    hostile = "<script>alert(1)</script> & ]]> {{ x }} [click](javascript:alert(1))"
    stages.write_text(stages.read_text().replace("name: Qualified\n", f"name: \"{hostile}\"\n"))
    m = load_playbook(play)
    write_demo(m, str(tmp_path / "data"), leads=200, seed=1)
    x, md, j = tmp_path / "r.xml", tmp_path / "r.md", tmp_path / "r.json"
    code = cli_run(["conform", "--playbook", str(play), "--source", str(tmp_path / "data"), "--as-of",
                    iso(default_as_of(m)), "--junit", str(x), "--markdown", str(md), "--json", str(j)])
    capsys.readouterr()
    assert code == 1
    names = [c.get("name") for c in ET.parse(x).getroot().iter("testcase")]
    assert "required-fields.qualified" in names
    failure = next(c for c in ET.parse(x).getroot().iter("testcase") if c.get("name") == "required-fields.qualified")
    assert hostile in failure.find("failure").get("message")  # XML-escaped on disk, intact when parsed
    text = md.read_text()
    assert "<script>" not in text and "](javascript:" not in text and "&lt;script&gt;" in text
    assert any(r["title"].count(hostile) for r in json.loads(j.read_text())["rules"])


def test_golden_site_pages(model):
    from generator.conformance.pages import contribute

    contrib = contribute(model, FIXTURE)
    check_tree(GOLDEN / "pages", dict(contrib.pages))


def test_business_hours_are_joined_only_when_a_check_takes_business_time(model):
    checks = build_checks(model)
    plain = [c for c in checks if not c.id.startswith(("sla.", "sla-escalated."))]
    comp = compile_checks(model, plain, "duckdb", as_of=0)
    assert comp.needs_calendar is False
    assert not any("business_hours" in q.sql for q in comp.queries)
    full = compile_checks(model, checks, "duckdb", as_of=0)
    assert full.needs_calendar is True and "business_hours" in full.queries[0].sql
