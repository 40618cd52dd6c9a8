"""Table-driven rule cases: tiny hand-written tables, exact checked/violation counts per rule.

Times are UTC. The fixture calendar is America/New_York, Mon-Fri 08:00-18:00, so
Friday 2026-01-23 22:00 UTC is 17:00 local, one business hour before closing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.conformance.contract import build_contract
from generator.conformance.run import parse_time, run_checks
from generator.conformance.sources.duckdb_dir import DuckDBSource
from generator.validate import load_playbook

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conformance" / "playbook"
AS_OF = "2026-01-31T12:00:00Z"
TYPES = {"boolean": "BOOLEAN", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "datetime": "TIMESTAMP"}


def lead(lead_id, **values):
    """A lead that breaks no lead rule unless `values` says otherwise."""
    row = {"lead_id": lead_id, "created_at": "2026-01-26 14:00:00", "stage": "new", "email": f"{lead_id}@example.org",
           "phone": f"+1 555 000 {lead_id[-4:]}", "first_name": "Avery", "last_name": f"Test{lead_id}",
           "location": "uptown", "lead_source": "web", "attribution_channel": "organic", "utm_source": "(none)",
           "utm_campaign": "(none)", "consent": True, "do_not_contact": False, "is_duplicate": False}
    row.update(values)
    return row


CASES = [
    # (rule, tables, checked, violations)
    ("duplicates.email", {"leads": [
        lead("L0001", email="ana@example.org", created_at="2026-01-20 10:00:00"),
        lead("L0002", email="  ANA@example.org ", created_at="2026-01-21 10:00:00"),
        lead("L0003", email="Ana@Example.org", created_at="2026-01-22 10:00:00", is_duplicate=True),
        lead("L0004", email="ana@example.org", created_at="2026-01-23 10:00:00", merged_into="L0001"),
    ]}, 4, 1),
    ("duplicates.email", {"leads": [  # same creation time: the lowest id is the original
        lead("L0002", email="bo@example.org", created_at="2026-01-20 10:00:00"),
        lead("L0001", email="bo@example.org", created_at="2026-01-20 10:00:00"),
    ]}, 2, 1),
    ("duplicates.phone", {"leads": [
        lead("L0001", phone="+1 (555) 010-2000"), lead("L0002", phone="15550102000"), lead("L0003", phone=""),
    ]}, 2, 1),
    ("transition-allowed", {"leads": [lead("L0001")], "stage_history": [
        {"history_id": "H1", "lead_id": "L0001", "from_stage": None, "to_stage": "new", "changed_at": "2026-01-26 14:00:00"},
        {"history_id": "H2", "lead_id": "L0001", "from_stage": "new", "to_stage": "qualified", "changed_at": "2026-01-26 15:00:00"},
        {"history_id": "H3", "lead_id": "L0001", "from_stage": "qualified", "to_stage": "new", "changed_at": "2026-01-26 16:00:00"},
        {"history_id": "H4", "lead_id": "L0001", "from_stage": None, "to_stage": "qualified", "changed_at": "2026-01-26 17:00:00"},
        {"history_id": "H5", "lead_id": "L0001", "from_stage": "new", "to_stage": None, "changed_at": "2026-01-26 18:00:00"},
    ]}, 5, 3),
    # 67 wall-clock hours but 3 business hours (Fri 17-18, Mon 08-10): met; Mon 12:00 is 5 hours: breached
    ("sla.first-call", {"leads": [lead("L0001", stage="qualified"), lead("L0002", stage="qualified")],
                        "stage_history": [
        {"history_id": "H1", "lead_id": "L0001", "to_stage": "qualified", "changed_at": "2026-01-23 22:00:00"},
        {"history_id": "H2", "lead_id": "L0002", "to_stage": "qualified", "changed_at": "2026-01-23 22:00:00"},
    ], "activities": [
        {"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 15:00:00"},
        {"activity_id": "A2", "lead_id": "L0002", "activity_type": "call", "occurred_at": "2026-01-26 17:00:00"},
        {"activity_id": "A3", "lead_id": "L0002", "activity_type": "email", "occurred_at": "2026-01-23 22:30:00"},
    ]}, 2, 1),
    # no call yet: open and past the limit at as-of (breach), open and within it, closed (not checked)
    ("sla.first-call", {"leads": [lead("L0001", stage="qualified"), lead("L0002", stage="qualified"),
                                  lead("L0003", stage="Closed - Lost", closure_reason="no-response")],
                        "stage_history": [
        {"history_id": "H1", "lead_id": "L0001", "to_stage": "qualified", "changed_at": "2026-01-29 14:00:00"},
        {"history_id": "H2", "lead_id": "L0002", "to_stage": "qualified", "changed_at": "2026-01-30 21:00:00"},
        {"history_id": "H3", "lead_id": "L0003", "to_stage": "qualified", "changed_at": "2026-01-20 14:00:00"},
    ]}, 2, 1),
    ("sla-escalated.first-call", {"leads": [lead("L0001", stage="qualified"),
                                            lead("L0002", stage="qualified", escalated_at="2026-01-30 10:00:00")],
                                  "stage_history": [
        {"history_id": "H1", "lead_id": "L0001", "to_stage": "qualified", "changed_at": "2026-01-28 14:00:00"},
        {"history_id": "H2", "lead_id": "L0002", "to_stage": "qualified", "changed_at": "2026-01-28 14:00:00"},
    ]}, 2, 1),
    ("outreach-do-not-contact", {"leads": [lead("L0001", do_not_contact=True), lead("L0002")], "activities": [
        {"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 15:00:00"},
        {"activity_id": "A2", "lead_id": "L0001", "activity_type": "sms", "occurred_at": "2026-01-26 16:00:00"},
        {"activity_id": "A3", "lead_id": "L0002", "activity_type": "sms", "occurred_at": "2026-01-26 16:00:00"},
    ]}, 3, 2),
    # consent is needed for sms and email, not for calls
    ("outreach-before-consent", {"leads": [lead("L0001", consent=False), lead("L0002", consent=None)], "activities": [
        {"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 15:00:00"},
        {"activity_id": "A2", "lead_id": "L0001", "activity_type": "email", "occurred_at": "2026-01-26 16:00:00"},
        {"activity_id": "A3", "lead_id": "L0002", "activity_type": "sms", "occurred_at": "2026-01-26 16:00:00"},
    ]}, 2, 2),
    ("call-logging", {"leads": [lead("L0001")], "activities": [
        {"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 15:00:00",
         "call_outcome": "reached", "next_follow_up": "2026-01-28"},
        {"activity_id": "A2", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 16:00:00",
         "call_outcome": " ", "next_follow_up": "2026-01-28"},
        {"activity_id": "A3", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 17:00:00",
         "call_outcome": "voicemail"},
        {"activity_id": "A4", "lead_id": "L0001", "activity_type": "email", "occurred_at": "2026-01-26 17:00:00"},
    ]}, 3, 2),
    # first matching rule wins; the fallback queue is always acceptable; unrouted leads are not checked
    ("routing-consistent", {"leads": [
        lead("L0001", specialty="cardiology", queue="cardiology-queue"),
        lead("L0002", specialty="cardiology", queue="general-queue"),
        lead("L0003", specialty="orthopedics", queue="cardiology-queue"),
        lead("L0004", specialty="orthopedics", queue=None),
    ]}, 3, 1),
    # entered via stage history even though the lead has moved on
    ("required-fields.qualified", {"leads": [
        lead("L0001", stage="scheduled", specialty="cardiology", region="north"),
        lead("L0002", stage="scheduled", specialty="cardiology", region=None),
        lead("L0003", stage="qualified", specialty="cardiology", region="south", consent=None),
        lead("L0004", specialty=None),
    ], "stage_history": [
        {"history_id": "H1", "lead_id": "L0001", "to_stage": "qualified", "changed_at": "2026-01-26 15:00:00"},
        {"history_id": "H2", "lead_id": "L0002", "to_stage": "qualified", "changed_at": "2026-01-26 15:00:00"},
    ]}, 3, 2),
    ("closure-reason-present", {"leads": [
        lead("L0001", stage="Closed - Lost", closure_reason="no-response"),
        lead("L0002", stage="Closed - Lost", closure_reason=""),
        lead("L0003", stage="qualified"),
    ]}, 2, 1),
    ("reason-note-present.closure", {"leads": [
        lead("L0001", stage="Closed - Lost", closure_reason="not-a-fit", reason_note="Outside coverage."),
        lead("L0002", stage="Closed - Lost", closure_reason="not-a-fit"),
        lead("L0003", stage="Closed - Lost", closure_reason="no-response"),
    ]}, 2, 1),
    ("allowed-values.specialty", {"leads": [
        lead("L0001", specialty="cardiology"), lead("L0002", specialty="Cardiology"), lead("L0003", specialty=None),
    ]}, 2, 1),
    ("allowed-values.lead-stage", {"leads": [
        lead("L0001", stage="Closed - Lost", closure_reason="duplicate"), lead("L0002", stage="closed-lost"),
    ]}, 2, 1),
    ("attribution-present", {"leads": [
        lead("L0001"), lead("L0002", utm_campaign=None), lead("L0003", attribution_channel="tv"),
        lead("L0004", utm_source="google", utm_campaign="spring"),
    ]}, 4, 2),
    ("appointment-stage-consistent", {"leads": [
        lead("L0001", stage="scheduled"), lead("L0002", stage="qualified"), lead("L0003"),
    ], "appointments": [
        {"appointment_id": "P1", "lead_id": "L0001", "appointment_stage": "booked", "appointment_at": "2026-02-02 15:00:00"},
        {"appointment_id": "P2", "lead_id": "L0002", "appointment_stage": "booked", "appointment_at": "2026-02-02 15:00:00"},
    ]}, 2, 1),
]


def _source(model, tables: dict[str, list[dict]]):
    import duckdb

    con = duckdb.connect()
    for t in build_contract(model).tables:
        cols = [(c.name, TYPES.get(c.type, "VARCHAR")) for c in t.columns]
        con.execute(f'CREATE TABLE "{t.name}" (' + ", ".join(f'"{n}" {typ}' for n, typ in cols) + ")")
        for row in tables.get(t.name, []):
            unknown = set(row) - {n for n, _ in cols}
            assert not unknown, unknown
            names = list(row)
            con.execute(f'INSERT INTO "{t.name}" (' + ", ".join(f'"{n}"' for n in names) + ") VALUES ("
                        + ", ".join("?" for _ in names) + ")", [row[n] for n in names])
    return DuckDBSource(Path("."), connection=con, description="cases")


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.mark.parametrize("rule, tables, checked, violations", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_case(model, rule, tables, checked, violations):
    src = _source(model, tables)
    try:
        result = run_checks(model, src, as_of=parse_time(AS_OF))
    finally:
        src.close()
    r = next(r for r in result.rules if r.id == rule)
    assert (r.checked, r.violations) == (checked, violations)
    assert r.status == ("pass" if r.threshold.get("max_rate") is not None or violations == 0 else "fail")
