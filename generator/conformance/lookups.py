"""What the checks compare data against, read from the model and the contract.

Stage and queue values as the CRM holds them, the allowed values a field
implies, where each event's time comes from, which SLAs the data cannot time,
and why a table cannot serve a check. Pure functions of the model; every check
family uses them, so a meaning is decided in one place.
"""

from __future__ import annotations

from ..model import Playbook
from .contract import Contract
from .ir import Threshold

def stage_value(model: Playbook, stage_id: str) -> str:
    """The value stage columns hold for a stage: its CRM value, else its id."""
    s = model.stage(stage_id)
    return s.crm_value or s.id


def queue_value(model: Playbook, queue_id: str) -> str:
    """The value the queue column holds for a queue: its CRM name, else its id."""
    q = {q.id: q for q in (model.routing.queues if model.routing else [])}.get(queue_id)
    return (q.crm_name or q.id) if q else queue_id


def implied_values(model: Playbook, f) -> list[str]:
    """Allowed values of an enum field: listed ones, else those the model implies for its meaning."""
    if f.allowed_values:
        return f.values
    if f.semantic in ("stage", "from_stage", "to_stage"):
        return [stage_value(model, s.id) for s in model.stages]
    if f.semantic == "closure_reason":
        return [r.id for r in model.closure_reasons]
    if f.semantic == "appointment_stage" and model.appointments:
        return [a.id for a in model.appointments.stages]
    if f.semantic == "queue" and model.routing:
        return [queue_value(model, q.id) for q in model.routing.queues]
    return []


def event_source(model: Playbook, event_id: str) -> tuple[str, object] | None:
    """Where an event's time comes from: ("field", id), ("stage", id), ("activity", types),
    ("appointment", stage) or ("flag", (field id, stage id | None)) for a field with no time of its own.

    Order (DATA-CONTRACT.md, "When an event happened"): the event's own timestamp field; else the
    first stage-history entry into the stage it is the entry event of (or its signal names); else
    the first activity of its signal's types; else the first appointment row in its signal's status.
    An activity signal keeps its activity rows even when the event is also a stage's entry event:
    activities are one row per attempt and never rewritten, so they are the better record."""
    ev = model.by_id("events").get(event_id)
    sig = ev.signal if ev else None
    entry = next((s.id for s in model.stages if s.entry_event == event_id), None)
    if sig is None:
        return ("stage", entry) if entry else None
    if sig.kind == "field_set":
        f = model.by_id("fields").get(sig.field) if sig.field else None
        if f is None or f.record != "lead":
            return ("stage", entry) if entry else None
        if f.type == "datetime":
            return ("field", f.id)
        # A field set without a time of its own: timed by the stage it is the entry event of.
        return ("flag", (f.id, entry))
    if sig.kind == "stage_entered":
        return ("stage", sig.stage) if sig.stage else None
    if sig.kind == "activity":
        return ("activity", tuple(sig.activity_types))
    if sig.kind == "appointment":
        # An appointments row holds the appointment's current status only: once confirmed, its
        # "scheduled" row is gone. An appointment event that is a stage's entry event is therefore
        # timed by the stage history (the first entry into that stage), as the contract says.
        return ("stage", entry) if entry else ("appointment", sig.appointment_stage)
    return None


def unmeasurable_slas(model: Playbook) -> list[tuple[str, str]]:
    """(SLA id, reason) for SLAs the data contract cannot time; they get no check."""
    out = []
    for sla in model.slas:
        a, b = event_source(model, sla.start_event), event_source(model, sla.stop_event)
        if a is None or (a[0] == "flag" and not a[1][1]):
            out.append((sla.id, f"its start event “{sla.start_event}” has no time in the data "
                                "(no timestamp field, stage entry, activity or appointment shows it)"))
        elif b is None:
            out.append((sla.id, f"its stop event “{sla.stop_event}” cannot be seen in the data"))
        elif a == b:
            out.append((sla.id, "its start and stop events are read from the same records, so the first "
                                "occurrence would always stop its own clock"))
    return out


def thresholds(model: Playbook) -> dict[str, Threshold]:
    out = {}
    for t in model.conformance.thresholds:
        out[t.rule] = Threshold(
            max_violations=t.max_violations if (t.max_violations is not None or t.max_rate is None) else None,
            max_rate=t.max_rate,
            note=t.note,
        )
    return out


def sem(contract: Contract, table: str, semantic: str) -> str | None:
    c = contract.by_semantic(table, semantic)
    return c.field_id if c else None


def is_text(model: Playbook, field_id: str) -> bool:
    return model.field(field_id).type in ("string", "text", "email", "phone", "enum", "url", "reference")


def no_fields(contract: Contract, table: str, *semantics: str) -> str | None:
    """Why `table` cannot serve the semantics, or None when every one has a column."""
    if not contract.table(table).columns:
        return f"no {table} fields in the data dictionary"
    missing = [s for s in semantics if contract.by_semantic(table, s) is None]
    if missing:
        return f"no {table} field tagged {' or '.join(missing)} in the data dictionary"
    return None


EVENT_NEEDS = {
    "stage": ("stage_history", ("lead_ref", "to_stage", "changed_at")),
    "flag": ("stage_history", ("lead_ref", "to_stage", "changed_at")),
    "activity": ("activities", ("lead_ref", "activity_type", "occurred_at")),
    "appointment": ("appointments", ("lead_ref", "appointment_stage", "appointment_at")),
}


def event_unseen(model: Playbook, contract: Contract, event_id: str) -> str | None:
    src = event_source(model, event_id)
    if src is None or src[0] not in EVENT_NEEDS:
        return None
    table, sems = EVENT_NEEDS[src[0]]
    return no_fields(contract, table, *sems)
