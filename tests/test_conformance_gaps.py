"""Playbooks whose data dictionary lacks data for some rules: every command still works, and the
rules that cannot run are reported as "not checkable (why)" instead of crashing or vanishing."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.cli import run as cli_run
from generator.conformance.checks import build_checks, not_checkable
from generator.conformance.demo import default_as_of, write_demo
from generator.conformance.run import iso
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "playbook"
NO_HISTORY = "no stage_history fields in the data dictionary"
NO_APPOINTMENTS = "no appointments fields in the data dictionary"


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """The conformance fixture without any stage_history or appointment field."""
    play = tmp_path_factory.mktemp("bare") / "play"
    shutil.copytree(FIXTURE, play)
    fields = play / "fields.yaml"
    text = fields.read_text()
    text = "".join(ln for ln in text.splitlines(keepends=True)
                   if "record: stage_history" not in ln and "record: appointment," not in ln)
    text = re.sub(r"  - id: appointment-stage\n(?:    .*\n)*", "", text)
    fields.write_text(text)
    model = load_playbook(play)
    assert not [f for f in model.fields if f.record in ("stage_history", "appointment")]
    return play, model


def test_not_checkable_lists_what_the_dictionary_cannot_support(bare):
    _, model = bare
    gaps = {u.id: u.reason for u in not_checkable(model)}
    assert gaps == {
        "transition-allowed": NO_HISTORY,
        "sla.first-call": NO_HISTORY,  # its stop event is timed by entry into a stage
        "sla.qualify-fast": NO_HISTORY,
        "sla-escalated.first-call": NO_HISTORY,
        "appointment-stage-consistent": NO_APPOINTMENTS,
    }
    assert not set(gaps) & {c.id for c in build_checks(model)}
    assert not_checkable(load_playbook(FIXTURE)) == []  # the full fixture checks everything


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_demo_data_and_conform_without_history_or_appointments(bare, tmp_path, capsys, fmt):
    play, model = bare
    out = tmp_path / "data"
    code = cli_run(["demo-data", "--playbook", str(play), "--out", str(out), "--leads", "300", "--seed", "5",
                    "--format", fmt])
    assert code == 0, capsys.readouterr()
    # no file for a table without columns (an empty Parquet file is not readable)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["activities." + fmt, "leads." + fmt, "demo.json", "truth.json"])
    truth = json.loads((out / "truth.json").read_text())
    j, x, md = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    capsys.readouterr()
    code = cli_run(["conform", "--playbook", str(play), "--source", str(out), "--as-of", iso(default_as_of(model)),
                    "--json", str(j), "--junit", str(x), "--markdown", str(md)])
    console = capsys.readouterr().out
    assert code == 1  # injected violations fail; not-checkable rules do not change the exit code
    doc = json.loads(j.read_text())
    assert set(doc) == {"playbook", "source", "generated_at", "as_of", "complete", "rules"}
    by_id = {r["id"]: r for r in doc["rules"]}
    assert {k: r["violations"] for k, r in by_id.items() if r["status"] != "not_checkable"} == truth
    skipped = {k: r for k, r in by_id.items() if r["status"] == "not_checkable"}
    assert set(skipped) == {u.id for u in not_checkable(model)}
    assert skipped["transition-allowed"]["reason"] == NO_HISTORY
    assert skipped["transition-allowed"]["rate"] is None and skipped["transition-allowed"]["checked"] == 0
    assert f"not checkable ({NO_HISTORY})" in console
    assert "5 not checkable" in console
    assert f"not checkable \\({NO_HISTORY.replace('_', chr(92) + '_')}\\)" in md.read_text()
    suite = ET.parse(x).getroot().find("testsuite")
    assert suite.get("skipped") == "5"
    case = next(c for c in suite.iter("testcase") if c.get("name") == "transition-allowed")
    assert NO_HISTORY in case.find("skipped").get("message")


def test_clean_data_without_history_passes_with_gaps_listed(bare, tmp_path, capsys):
    play, model = bare
    write_demo(model, str(tmp_path / "clean"), leads=200, seed=2, inject=False)
    code = cli_run(["conform", "--playbook", str(play), "--source", str(tmp_path / "clean"), "--as-of",
                    iso(default_as_of(model))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "not checkable" in out


def test_site_pages_and_export_without_history(bare, tmp_path, capsys):
    from generator.conformance.pages import contribute

    play, model = bare
    contrib = contribute(model, play)
    page = contrib.pages["conformance.md"]
    assert "not checkable \\(no stage\\_history fields in the data dictionary\\)" in page
    assert "#rule-transition-allowed" in page
    assert "not checkable" in contrib.sla_sections["first-call"]
    assert "Rules these tables cannot check" in contrib.pages["data-contract.md"]
    code = cli_run(["export", "conformance", "--out", str(tmp_path / "exp"), str(play)])
    assert code == 0, capsys.readouterr()
    assert not (tmp_path / "exp" / "sql" / "duckdb" / "stage_history.sql").exists()
    assert (tmp_path / "exp" / "sql" / "duckdb" / "leads.sql").is_file()
    assert "transition-allowed" in (tmp_path / "exp" / "DATA-CONTRACT.md").read_text()


@pytest.mark.slow
def test_postgres_and_spark_without_history(bare, tmp_path, postgres_server, spark_session):
    from generator.conformance.run import run_checks
    from generator.conformance.sources import open_source
    from generator.conformance.sources.postgres import load_dir
    from generator.conformance.sources.spark import dir_table_map

    _, model = bare
    folder = tmp_path / "data"
    truth = write_demo(model, str(folder), leads=300, seed=9, fmt="parquet")
    url = f"{postgres_server}?schema=bare_history"
    load_dir(folder, url)
    direct = f"{postgres_server}?schema=bare_direct"
    assert write_demo(model, direct, leads=300, seed=9) == truth  # demo-data straight to PostgreSQL
    gaps = {u.id for u in not_checkable(model)}
    for spec, tables in ((url, None), (direct, None), ("spark", dir_table_map(folder))):
        src = open_source(spec, tables=tables)
        try:
            result = run_checks(model, src, as_of=default_as_of(model))
        finally:
            src.close()
        assert result.complete
        assert {r.id: r.violations for r in result.rules if r.status != "not_checkable"} == truth, spec
        assert {r.id for r in result.rules if r.status == "not_checkable"} == gaps


def test_truth_is_exact_when_the_playbook_contradicts_itself(tmp_path):
    """The site fixture's stage field lists values (new, qualified, closed_lost) that differ from its
    stages' CRM values, so even clean demo leads break allowed-values.stage: truth.json counts them."""
    from generator.conformance.run import run_checks
    from generator.conformance.sources.duckdb_dir import DuckDBSource

    model = load_playbook(ROOT / "tests" / "fixtures" / "site" / "clinic")
    truth = write_demo(model, str(tmp_path / "d"), leads=300, seed=6)
    with DuckDBSource(tmp_path / "d") as src:
        result = run_checks(model, src, as_of=default_as_of(model))
    found = {r.id: r.violations for r in result.rules if r.status != "not_checkable"}
    assert found == truth
    assert truth["allowed-values.stage"] > 100  # far more than the handful injected on purpose


@pytest.mark.parametrize("field_id, table, gaps", [
    ("history-lead", "stage_history", {"sla.first-call", "sla-escalated.first-call", "sla.qualify-fast"}),
    ("activity-lead", "activities", {"outreach-before-consent", "outreach-do-not-contact", "sla.first-call",
                                     "sla-escalated.first-call"}),
    ("appointment-lead", "appointments", {"appointment-stage-consistent"}),
])
def test_tables_without_a_lead_reference(tmp_path, capsys, field_id, table, gaps):
    """A table that cannot be linked to its leads: the rules that need the link are not checkable,
    everything else still runs and matches truth.json (with and without --ids)."""
    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    fields = play / "fields.yaml"
    fields.write_text("".join(ln for ln in fields.read_text().splitlines(keepends=True)
                              if f"id: {field_id}," not in ln))
    model = load_playbook(play)
    assert {u.id: u.reason for u in not_checkable(model)} == dict.fromkeys(
        gaps, f"no {table} field tagged lead_ref in the data dictionary")
    truth = write_demo(model, str(tmp_path / "d"), leads=300, seed=12)
    j = tmp_path / "r.json"
    for extra in ([], ["--ids"]):
        code = cli_run(["conform", "--playbook", str(play), "--source", str(tmp_path / "d"), "--as-of",
                        iso(default_as_of(model)), "--json", str(j), *extra])
        capsys.readouterr()
        assert code == 1
        rules = json.loads(j.read_text())["rules"]
        assert {r["id"]: r["violations"] for r in rules if r["status"] != "not_checkable"} == truth
        assert {r["id"] for r in rules if r["status"] == "not_checkable"} == gaps


def test_required_and_logging_fields_on_the_wrong_record(tmp_path):
    """A stage whose required fields are all activity fields, a logging rule whose fields are all lead
    fields: those rules are not checkable (named), the rest still matches truth.json."""
    from generator.conformance.run import run_checks
    from generator.conformance.sources.duckdb_dir import DuckDBSource

    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    stages, fields = play / "stages.yaml", play / "fields.yaml"
    stages.write_text(stages.read_text().replace("required_fields: [phone]", "required_fields: [call-outcome]"))
    fields.write_text(fields.read_text().replace("required_fields: [call-outcome, next-follow-up]",
                                                 "required_fields: [phone]"))
    model = load_playbook(play)
    gaps = {u.id: u.reason for u in not_checkable(model)}
    assert gaps == {
        "call-logging": "its required fields (phone) are not activity fields in the data dictionary",
        "required-fields.scheduled": "its required fields (call-outcome) are not lead fields in the data dictionary",
    }
    truth = write_demo(model, str(tmp_path / "d"), leads=200, seed=4)
    with DuckDBSource(tmp_path / "d") as src:
        result = run_checks(model, src, as_of=default_as_of(model))
    assert {r.id: r.violations for r in result.rules if r.status != "not_checkable"} == truth
    assert {r.id for r in result.rules if r.status == "not_checkable"} == set(gaps)


def test_rows_without_any_id_column(tmp_path, capsys):
    """Stage history with neither a record id nor a lead reference: its rules still run and export;
    `--ids` leaves their ids out (they cannot be named) instead of failing."""
    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    fields = play / "fields.yaml"
    fields.write_text("".join(ln for ln in fields.read_text().splitlines(keepends=True)
                              if "id: history-lead," not in ln and "id: history-id," not in ln))
    model = load_playbook(play)
    code = cli_run(["export", "conformance", "--out", str(tmp_path / "exp"), str(play)])
    assert code == 0, capsys.readouterr()
    ids_sql = (tmp_path / "exp" / "sql" / "duckdb" / "ids" / "transition-allowed.sql").read_text()
    assert "NULL AS TEXT) AS record_id" in ids_sql
    truth = write_demo(model, str(tmp_path / "d"), leads=200, seed=7)
    j = tmp_path / "r.json"
    code = cli_run(["conform", "--playbook", str(play), "--source", str(tmp_path / "d"), "--as-of",
                    iso(default_as_of(model)), "--json", str(j), "--ids"])
    capsys.readouterr()
    assert code == 1
    rules = {r["id"]: r for r in json.loads(j.read_text())["rules"]}
    assert {k: r["violations"] for k, r in rules.items() if r["status"] != "not_checkable"} == truth
    assert rules["transition-allowed"]["violations"] > 0 and "ids" not in rules["transition-allowed"]
    assert len(rules["attribution-present"]["ids"]) == rules["attribution-present"]["violations"]
