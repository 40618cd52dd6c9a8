"""Which section every reference field of the model points to, and a walker.

The model types references as `Ref` (a slug, like an id), so the schema alone
cannot tell where a reference points. `REFS` says it, once, for every `Ref`
field; a test walks the model and fails when a new `Ref` field is missing here.
"""

from __future__ import annotations

import typing
from functools import lru_cache
from typing import Any, Iterator

from pydantic import BaseModel

from .. import model as m

ROLE_OR_PERSON = ("roles", "people")

# (model class, field name) -> sections the id may be found in, in order.
REFS: dict[tuple[type[BaseModel], str], tuple[str, ...]] = {
    (m.PlaybookMeta, "owner"): ("roles",),
    (m.PlaybookMeta, "approvers"): ("people",),
    (m.Scope, "start_events"): ("events",),
    (m.Scope, "end_events"): ("events",),
    (m.Person, "role"): ("roles",),
    (m.Role, "lane"): ("lanes",),
    (m.Source, "system"): ("systems",),
    (m.Source, "entry_event"): ("events",),
    (m.Source, "initial_fields"): ("fields",),
    (m.MatchRule, "match_on"): ("fields",),
    (m.MatchRule, "normalize"): ("fields",),
    (m.MergeFieldRule, "field"): ("fields",),
    (m.EventSignal, "field"): ("fields",),
    (m.EventSignal, "stage"): ("stages",),
    (m.EventSignal, "appointment_stage"): ("appointments.stages",),
    (m.Event, "system"): ("systems",),
    (m.Transition, "to"): ("stages",),
    (m.Transition, "owner"): ("roles",),
    (m.Stage, "entry_event"): ("events",),
    (m.Stage, "owner"): ("roles",),
    (m.Stage, "required_fields"): ("fields",),
    (m.Stage, "key_fields"): ("fields",),
    (m.Status, "stages"): ("stages",),
    (m.ClosureReason, "stages"): ("stages",),
    (m.Criterion, "fields"): ("fields",),
    (m.ManualReview, "role"): ("roles",),
    (m.Condition, "field"): ("fields",),
    (m.ScoreBand, "status"): ("statuses",),
    (m.Scoring, "score_field"): ("fields",),
    (m.RoutingTrigger, "event"): ("events",),
    (m.Queue, "lane"): ("lanes",),
    (m.Queue, "owner"): ("roles",),
    (m.RoutingRule, "queue"): ("routing.queues",),
    (m.Fallback, "queue"): ("routing.queues",),
    (m.Routing, "specialty_field"): ("fields",),
    (m.Routing, "region_field"): ("fields",),
    (m.Escalation, "notify"): ROLE_OR_PERSON,
    (m.SLA, "start_event"): ("events",),
    (m.SLA, "stop_event"): ("events",),
    (m.SLA, "applies_to_stages"): ("stages",),
    (m.SLA, "owner"): ("roles",),
    (m.OutreachStep, "template"): ("templates",),
    (m.OutreachSequence, "stage"): ("stages",),
    (m.OutreachSequence, "owner"): ("roles",),
    (m.Template, "approved_by"): ROLE_OR_PERSON,
    (m.Template, "merge_fields"): ("fields",),
    (m.Consent, "consent_field"): ("fields",),
    (m.Consent, "do_not_contact_field"): ("fields",),
    (m.DoNotContactRule, "field"): ("fields",),
    (m.SensitiveTopic, "escalate_to"): ROLE_OR_PERSON,
    (m.LoggingRequirement, "required_fields"): ("fields",),
    (m.Handoff, "from_role"): ("roles",),
    (m.Handoff, "to_role"): ("roles",),
    (m.Handoff, "at_stage"): ("stages",),
    (m.Handoff, "passed"): ("fields",),
    (m.Handoff, "withheld"): ("fields",),
    (m.AppointmentStage, "owner"): ("roles",),
    (m.AppointmentStage, "event"): ("events",),
    (m.AppointmentStage, "system"): ("systems",),
    (m.AppointmentStage, "lead_stage"): ("stages",),
    (m.Transition, "closure_reason"): ("closure_reasons",),
    (m.ClosureReason, "decided_by"): ("roles",),
    (m.Outcome, "stage"): ("stages",),
    (m.Outcome, "closure_reason"): ("closure_reasons",),
    (m.Metric, "fields"): ("fields",),
    (m.Metric, "stage"): ("stages",),
    (m.Metric, "owner"): ("roles",),
    (m.Attribution, "field"): ("fields",),
    (m.Attribution, "utm_fields"): ("fields",),
    (m.ReportingCadence, "owner"): ("roles",),
    (m.ReportingCadence, "audience"): ROLE_OR_PERSON,
    (m.QualityCheck, "owner"): ("roles",),
    (m.ExceptionCase, "approver"): ROLE_OR_PERSON,
    (m.ExceptionCase, "owner"): ("roles",),
    (m.Experiment, "owner"): ("roles",),
    (m.DecisionOutcome, "next_step"): ("steps",),
    (m.DecisionOutcome, "stage"): ("stages",),
    (m.Decision, "owner"): ("roles",),
    (m.Step, "lane"): ("lanes",),
    (m.Step, "owner"): ("roles",),
    (m.Step, "trigger"): ("events",),
    (m.Step, "inputs"): ("fields",),
    (m.Step, "outputs"): ("fields",),
    (m.Step, "stage_changes"): ("stages",),
    (m.Step, "systems"): ("systems",),
    (m.Step, "sla"): ("slas",),
    (m.Step, "logging"): ("logging",),
    (m.Step, "handoff"): ("handoffs",),
    (m.Step, "exceptions"): ("exceptions",),
    (m.Step, "metrics"): ("metrics",),
    (m.Step, "templates"): ("templates",),
    (m.Step, "next"): ("steps",),
}


def _is_slug(annotation: Any, metadata: list[Any] = ()) -> bool:
    for meta in metadata:
        if getattr(meta, "pattern", None) == m.SLUG_PATTERN:
            return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_slug(None, list(typing.get_args(annotation)[1:]))
    return False


def _mentions_slug(annotation: Any) -> str | None:
    """'value' if `annotation` holds slugs as values, 'key' as dict keys, else None."""
    if _is_slug(annotation):
        return "value"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict and args:
        if _is_slug(args[0]):
            return "key"
        return _mentions_slug(args[1])
    if origin is typing.Annotated:
        return None
    for a in args:
        found = _mentions_slug(a)
        if found:
            return found
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for a in typing.get_args(annotation):
        out.extend(_models_in(a))
    return out


@lru_cache(maxsize=None)
def plan(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """Fields of `cls` worth visiting: ('ref'|'refkey', name) or ('model', name)."""
    out = []
    for name, info in cls.model_fields.items():
        if name == "id":
            continue
        shape = "value" if _is_slug(info.annotation, info.metadata) else _mentions_slug(info.annotation)
        if shape:
            out.append(("refkey" if shape == "key" else "ref", name))
        elif _models_in(info.annotation):
            out.append(("model", name))
    return tuple(out)


def ref_fields(root: type[BaseModel] = m.Playbook) -> set[tuple[type[BaseModel], str]]:
    """Every (model, field) that holds a reference, found by walking the model classes."""
    seen: set[type[BaseModel]] = set()
    todo = [root]
    found: set[tuple[type[BaseModel], str]] = set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        for kind, name in plan(cls):
            if kind in ("ref", "refkey"):
                found.add((cls, name))
        for info in cls.model_fields.values():
            todo.extend(_models_in(info.annotation))
    return found


def _flat(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _flat(v, path + (i,))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _flat(v, path + (k,))


def walk_refs(obj: Any, path: tuple = ()) -> Iterator[tuple[type[BaseModel], str, tuple, str, bool]]:
    """Every reference in a model instance: (class, field, data path, id, is_key)."""
    if isinstance(obj, BaseModel):
        cls = type(obj)
        for kind, name in plan(cls):
            value = getattr(obj, name)
            if value is None:
                continue
            if kind == "ref":
                for p, ref in _flat(value, path + (name,)):
                    yield cls, name, p, ref, False
            elif kind == "refkey":
                for k in value:
                    yield cls, name, path + (name, k), k, True
            else:
                yield from walk_refs(value, path + (name,))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk_refs(v, path + (i,))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk_refs(v, path + (k,))
