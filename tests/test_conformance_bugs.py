"""Issue 10's bugs, each as its minimal reproduction on the default playbook.

Times are UTC. The default calendar is America/Chicago, Mon-Fri 07:30-18:00 and
Sat 08:00-12:00, so 2026-03-02 (a Monday) 15:00 UTC is 09:00 local.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from generator.conformance import report
from generator.conformance.contract import build_contract
from generator.conformance.pages import _section_md, conformance_page
from generator.conformance.run import parse_time, run_checks
from generator.conformance.sources.duckdb_dir import DuckDBSource
from generator.validate import load_playbook

DEFAULT = Path(__file__).resolve().parent.parent / "process" / "lead-management"
TYPES = {"boolean": "BOOLEAN", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "datetime": "TIMESTAMP"}


@pytest.fixture(scope="module")
def model():
    return load_playbook(DEFAULT)


def source(model, tables: dict[str, list[dict]]):
    """DuckDB tables with exactly the contract's columns; unnamed columns are NULL."""
    import duckdb

    con = duckdb.connect()
    for t in build_contract(model).tables:
        cols = [(c.name, TYPES.get(c.type, "VARCHAR")) for c in t.columns]
        con.execute(f'CREATE TABLE "{t.name}" (' + ", ".join(f'"{n}" {typ}' for n, typ in cols) + ")")
        for row in tables.get(t.name, []):
            assert set(row) <= {n for n, _ in cols}, set(row) - {n for n, _ in cols}
            names = list(row)
            con.execute(f'INSERT INTO "{t.name}" (' + ", ".join(f'"{n}"' for n in names) + ") VALUES ("
                        + ", ".join("?" for _ in names) + ")", [row[n] for n in names])
    return DuckDBSource(Path("."), connection=con, description="bug reproduction")


def run(model, tables, as_of="2026-03-13T12:00:00Z"):
    src = source(model, tables)
    try:
        return run_checks(model, src, as_of=parse_time(as_of), generated_at=parse_time(as_of))
    finally:
        src.close()


def rule(result, rule_id):
    r = next(r for r in result.rules if r.id == rule_id)
    return r.checked, r.violations, r.status


# Bug 1: one open lead that entered appointment_scheduled on a Monday, with appointment rows
# `confirmed` (4 days later) and `completed_intake` (7 days later): one breach of each SLA.
APPOINTMENT_TABLES = {
    "leads": [{"lead_id": "L1", "created_at": "2026-02-27 15:00:00", "stage": "appointment_scheduled"}],
    "stage_history": [
        {"lead_id": "L1", "from_stage": None, "to_stage": "new", "changed_at": "2026-02-27 15:00:00"},
        {"lead_id": "L1", "from_stage": "attempting_contact", "to_stage": "appointment_scheduled",
         "changed_at": "2026-03-02 15:00:00"},
    ],
    "appointments": [
        {"appointment_id": "P1", "lead_id": "L1", "appointment_stage": "confirmed",
         "appointment_at": "2026-03-06 15:00:00"},
        {"appointment_id": "P2", "lead_id": "L1", "appointment_stage": "completed_intake",
         "appointment_at": "2026-03-09 15:00:00"},
    ],
}


def test_bug1_appointment_slas_start_at_the_stage_history_entry(model):
    result = run(model, APPOINTMENT_TABLES)
    assert rule(result, "sla.appointment-confirmation") == (1, 1, "fail")
    assert rule(result, "sla.intake-completion") == (1, 1, "fail")
    # both breaches have no escalation time
    assert rule(result, "sla-escalated.appointment-confirmation") == (1, 1, "fail")
    assert rule(result, "sla-escalated.intake-completion") == (1, 1, "fail")


def test_bug1_a_timely_confirmation_meets_the_sla(model):
    tables = json.loads(json.dumps(APPOINTMENT_TABLES))
    tables["appointments"][0]["appointment_at"] = "2026-03-02 20:00:00"  # the same Monday, 14:00 local
    assert rule(run(model, tables), "sla.appointment-confirmation") == (1, 0, "pass")


# Bug 2: an inbound call logged at creation, the lead routed on Monday, the first outbound attempt
# two business days later: one breach of `sla.first-call-attempt`.
FIRST_CALL_TABLES = {
    "leads": [{"lead_id": "L1", "created_at": "2026-02-27 15:00:00", "stage": "attempting_contact",
               "queue": "LSP_Ortho_Chicago"}],
    "stage_history": [
        {"lead_id": "L1", "from_stage": None, "to_stage": "new", "changed_at": "2026-02-27 15:00:00"},
        {"lead_id": "L1", "from_stage": "qualified", "to_stage": "routed", "changed_at": "2026-03-02 15:00:00"},
    ],
    "activities": [
        {"activity_id": "A1", "lead_id": "L1", "activity_type": "call", "occurred_at": "2026-02-27 15:00:00"},
        {"activity_id": "A2", "lead_id": "L1", "activity_type": "call", "occurred_at": "2026-03-04 15:00:00"},
    ],
}


def test_bug2_a_stop_before_the_start_does_not_stop_the_clock(model):
    assert rule(run(model, FIRST_CALL_TABLES), "sla.first-call-attempt") == (1, 1, "fail")


def test_bug2_an_attempt_after_the_start_within_the_limit_meets_it(model):
    tables = json.loads(json.dumps(FIRST_CALL_TABLES))
    tables["activities"][1]["occurred_at"] = "2026-03-02 16:00:00"
    assert rule(run(model, tables), "sla.first-call-attempt") == (1, 0, "pass")


def test_bug2_without_any_later_attempt_an_open_lead_breaches_once_the_limit_passed(model):
    tables = json.loads(json.dumps(FIRST_CALL_TABLES))
    del tables["activities"][1]
    assert rule(run(model, tables), "sla.first-call-attempt") == (1, 1, "fail")


def test_bug2_an_inbound_call_after_the_start_is_not_a_contact_attempt(model):
    # The person phones in after routing: the clock keeps running until we call them.
    tables = json.loads(json.dumps(FIRST_CALL_TABLES))
    tables["activities"][0]["activity_type"] = "inbound_call"
    tables["activities"].append({"activity_id": "A3", "lead_id": "L1", "activity_type": "inbound_call",
                                 "occurred_at": "2026-03-02 16:00:00"})
    assert rule(run(model, tables), "sla.first-call-attempt") == (1, 1, "fail")
    # An outbound call at that same time would have met it.
    tables["activities"][-1]["activity_type"] = "call"
    assert rule(run(model, tables), "sla.first-call-attempt") == (1, 0, "pass")


# Bug 3: a rule that checked 0 rows is `no_data` everywhere, never `pass`.
def test_bug3_a_rule_with_nothing_to_check_is_no_data_in_every_report(model):
    result = run(model, APPOINTMENT_TABLES)
    rid = "sla.referral-acknowledgement"  # no lead has a referral time: nothing to check
    assert rule(result, rid) == (0, 0, "no_data")
    assert result.exit_code == 1  # the appointment breaches fail it
    d = json.loads(report.to_json(result))
    entry = next(r for r in d["rules"] if r["id"] == rid)
    assert (entry["status"], entry["checked"], entry["rate"]) == ("no_data", 0, None)
    suite = ET.fromstring(report.to_junit(result)).find("testsuite")
    case = next(c for c in suite.iter("testcase") if c.get("name") == rid)
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message").startswith("no data: 0 leads rows to check")
    assert int(suite.get("skipped")) == sum(r.status in ("no_data", "not_checkable") for r in result.rules)
    md = report.to_markdown(result)
    assert "no data \\(0 rows checked\\)" in md.split(f"| `{rid}` |")[1].split("\n")[0]
    assert "had no data" in report.summary_text(result)
    out = StringIO()
    report.print_table(result, Console(file=out, width=200))
    line = next(ln for ln in out.getvalue().splitlines() if rid in ln)
    assert "no data" in line and "pass" not in line
    page = conformance_page(model, result, {})
    assert "no data \\(0 rows checked\\)" in page
    assert "no data to check" in _section_md([r for r in result.rules if r.id == rid])


def test_bug3_no_data_fails_the_run_only_when_asked(model):
    clean = {"leads": [{"lead_id": "L1", "created_at": "2026-03-12 15:00:00", "stage": "new",
                        "lead_source": "web_form", "attribution_channel": "direct", "utm_source": "(none)",
                        "utm_medium": "(none)", "utm_campaign": "(none)"}]}
    result = run(model, clean)
    assert not [r.id for r in result.rules if r.status == "fail"]
    assert result.no_data_rules and result.exit_code == 0
    result.fail_on_no_data = True
    assert result.exit_code == 1
