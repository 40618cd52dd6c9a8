"""The default playbook in process/lead-management: clean under --strict, and complete.

Every other part renders, exports and checks this playbook, so besides validating it
these tests pin down that it uses the whole model and tells the end-to-end story.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from generator.model import SECTIONS, Phase, Playbook
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK_DIR = ROOT / "process" / "lead-management"
PHASES = typing.get_args(Phase)
LANES = ["marketing-ops", "call-team", "patient-services", "clinical-intake", "account-management"]


@pytest.fixture(scope="module")
def model() -> Playbook:
    return load_playbook(PLAYBOOK_DIR, strict=True)


def test_validates_clean_under_strict_through_the_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "validate", "--strict", "--format", "json", str(PLAYBOOK_DIR)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


def test_every_file_points_editors_at_the_schema():
    files = sorted(PLAYBOOK_DIR.glob("*.yaml"))
    assert len(files) >= 8
    for f in files:
        first = f.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../schema/playbook.schema.json", f.name


def _non_empty(value) -> bool:
    """A section counts as used when it, and every list it holds, has content."""
    if isinstance(value, BaseModel):
        lists = [getattr(value, n) for n, f in type(value).model_fields.items()
                 if isinstance(getattr(value, n), list)]
        return all(lists) if lists else True
    return bool(value)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_is_used(model, section):
    assert _non_empty(getattr(model, section)), f"section {section!r} is empty or has an empty list"


def test_lanes_are_in_the_agreed_order_and_each_has_steps(model):
    assert [lane.id for lane in model.lanes] == LANES
    used = {s.lane for s in model.steps}
    assert used == set(LANES)


def test_every_phase_has_a_step_and_steps_are_in_phase_order(model):
    phases = [s.phase for s in model.steps]
    assert set(phases) == set(PHASES)
    assert phases == sorted(phases, key=PHASES.index)
    assert 10 <= len(model.steps) <= 14


def test_steps_fill_the_template(model):
    for s in model.steps:
        assert s.purpose and s.actions and s.inputs and s.outputs and s.systems, s.id
        assert s.decisions and all(len(d.outcomes) >= 2 for d in s.decisions), s.id


def test_handoffs_cross_lanes(model):
    lane_of = {r.id: r.lane for r in model.roles}
    for h in model.handoffs:
        assert lane_of[h.from_role] != lane_of[h.to_role], h.id
        assert h.checklist and h.passed, h.id


def test_stage_and_source_values_match_the_crm_picklists(model):
    stage_field = model.field_by_semantic("stage")
    assert stage_field.values == [s.crm_value for s in model.stages] == model.stage_order()
    source_field = model.field_by_semantic("source")
    assert sorted(source_field.values) == sorted(s.crm_value for s in model.sources)
    queue_field = model.field_by_semantic("queue")
    assert sorted(queue_field.values) == sorted(q.crm_name for q in model.routing.queues)
    status_field = model.field_by_semantic("status")
    assert status_field.values == [s.id for s in model.statuses]
    reason_field = model.field_by_semantic("closure_reason")
    assert reason_field.values == [c.id for c in model.closure_reasons]
    appt_field = model.field_by_semantic("appointment_stage", record="appointment")
    assert appt_field.values == [a.id for a in model.appointments.stages]


def test_semantics_conformance_needs_are_all_tagged(model):
    needed = {
        "lead": ["record_id", "created_at", "stage", "status", "owner", "queue", "closure_reason", "reason_note",
                 "consent", "do_not_contact", "email", "phone", "first_name", "last_name", "location", "specialty",
                 "region", "source", "score", "utm_source", "utm_medium", "utm_campaign", "attribution",
                 "duplicate_flag", "duplicate_of", "escalated_at"],
        "activity": ["record_id", "lead_ref", "activity_type", "occurred_at", "call_outcome", "next_follow_up"],
        "appointment": ["record_id", "lead_ref", "appointment_stage", "appointment_at"],
        "stage_history": ["lead_ref", "from_stage", "to_stage", "changed_at", "changed_by"],
    }
    for record, semantics in needed.items():
        for sem in semantics:
            assert model.field_by_semantic(sem, record=record) is not None, (record, sem)


def test_slas_and_stages_are_checkable_from_data(model):
    events = model.by_id("events")
    used = {e for sla in model.slas for e in (sla.start_event, sla.stop_event)}
    used |= {s.entry_event for s in model.stages}
    for event_id in used:
        assert events[event_id].signal is not None, event_id


def test_the_end_to_end_story_is_told(model):
    """DOMAIN.md's example: web form -> record -> enrichment -> scoring -> qualification ->
    routing + SLA -> logged outreach -> booked -> intake tracked -> closure with reason."""
    web = next(s for s in model.sources if s.channel == "web_form")
    assert {"specialty", "email", "phone"} <= set(web.initial_fields)
    assert model.matching.rules and model.matching.merge_fields
    assert {"fit", "intent"} <= {r.kind for r in model.scoring.rules}
    qualified = model.stage("qualified")
    assert {"specialty", "patient_type", "location", "consent_to_contact"} <= set(qualified.required_fields)
    assert qualified.reason_note_required
    assert {"phone", "preferred_contact_method"} <= set(model.stage("routed").required_fields)
    route = next(s for s in model.steps if s.phase == "routing")
    assert route.sla and model.by_id("slas")[route.sla].start_event == model.stage("routed").entry_event
    call_log = next(lg for lg in model.logging if lg.activity == "call")
    assert {"call_outcome", "next_follow_up", "scheduling_link_sent"} <= set(call_log.required_fields)
    assert model.field("intake_status").names.scheduling
    for s in model.stages:
        if s.closed:
            assert any(s.id in c.stages for c in model.closure_reasons), s.id
    for sid in ("qualified", "disqualified", "nurture"):
        assert model.stage(sid).reason_note_required, sid


def test_every_specialty_and_region_has_a_queue_without_score_conditions(model):
    rules = [r for r in model.routing.rules if r.when.min_score is None]
    for specialty in model.field(model.routing.specialty_field).values:
        for region in model.field(model.routing.region_field).values:
            assert any((not r.when.specialty or specialty in r.when.specialty)
                       and (not r.when.region or region in r.when.region) for r in rules), (specialty, region)


def test_experiments_cover_adopted_running_and_rolled_back(model):
    assert {"adopted", "running", "rolled_back"} <= {e.status for e in model.experiments}


def test_approvers_cover_the_sensitive_sections_with_two_people(model):
    for section in ("scoring", "routing", "slas", "templates", "consent", "stages", "fields", "default"):
        assert len(model.approvers_for(section)) >= 2, section
    people = model.by_id("people")
    for ids in model.playbook.approvers.values():
        assert all(people[i].email.endswith(".example.org") for i in ids)


def test_step_flow_goes_forward_so_swim_lane_columns_are_well_defined(model):
    """Loops (re-routing, rebooking) live in decisions; `next` only points further down."""
    order = {s.id: i for i, s in enumerate(model.steps)}
    for s in model.steps:
        assert all(order[n] > order[s.id] for n in s.next), s.id
        forward = {o.next_step for d in s.decisions for o in d.outcomes
                   if o.next_step and order[o.next_step] > order[s.id]}
        assert forward <= set(s.next), s.id
        decided = {o.stage for d in s.decisions for o in d.outcomes if o.stage}
        assert decided <= set(s.stage_changes), s.id


def test_hubspot_holds_no_health_information(model):
    """The playbook promises that PHI never reaches marketing automation: no PHI field has a HubSpot name."""
    assert any(f.phi for f in model.fields)
    assert [f.id for f in model.fields if f.phi and f.names.hubspot] == []
