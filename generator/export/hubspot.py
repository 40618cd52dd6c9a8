"""Compile a playbook into HubSpot API request bodies plus the manual steps.

`render(spec)` returns `{relative path: bytes}`; each JSON file is exactly the body its endpoint
takes (HubSpot's published models in @hubspot/api-client, checked by tests/test_hubspot_models.py):

- `property-groups.json` - `PropertyGroupCreate` for `POST /crm/v3/properties/0-136/groups`
- `properties.json` - `BatchInputPropertyCreate` for `POST /crm/v3/properties/0-136/batch/create`
- `pipeline.json` - `PipelineInput` for `POST /crm/v3/pipelines/0-136`
- `requests.json` - beside the bodies: each file's method, path, object type and model
- `MANUAL-STEPS.md` - what the HubSpot API cannot set, generated from the model

`0-136` is the Leads object's type id. JSON is written with sorted keys, so the same playbook gives
the same bytes.
"""

from __future__ import annotations

import json

from ..text import md_text
from .mapping import (
    HS_LEAD_NAME,
    HS_LEAD_TO_CONTACT,
    HS_OBJECT,
    HS_OBJECT_TYPE_ID,
    HS_STAGE_PROPERTY,
    CrmSpec,
    FieldSpec,
)

# file -> (method, path, model in @hubspot/api-client), in the order they are applied.
ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "property-groups.json": ("POST", f"/crm/v3/properties/{HS_OBJECT_TYPE_ID}/groups", "PropertyGroupCreate"),
    "properties.json": ("POST", f"/crm/v3/properties/{HS_OBJECT_TYPE_ID}/batch/create", "BatchInputPropertyCreate"),
    "pipeline.json": ("POST", f"/crm/v3/pipelines/{HS_OBJECT_TYPE_ID}", "PipelineInput"),
}

_BOOL_OPTIONS = [
    {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
    {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
]


def code(value: object) -> str:
    """Inline code for a CRM name; a backtick inside would end the span, so it is replaced."""
    s = " ".join(str(value).replace("`", "'").split())
    return f"`{s}`"


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def property_definition(spec: CrmSpec, f: FieldSpec) -> dict:
    """The Properties API v3 definition of one custom property."""
    d = f.field
    prop: dict = {
        "name": f.hs_name,
        "label": d.label,
        "type": f.hs_type,
        "fieldType": f.hs_field_type,
        "groupName": spec.hs_group,
        "description": d.description + (f" {d.help_text}" if d.help_text else ""),
        "formField": d.semantic not in ("record_id", "created_at", "score", "escalated_at", "duplicate_flag",
                                        "duplicate_of"),
        "hasUniqueValue": False,
    }
    if f.is_picklist:
        prop["options"] = [{"label": v.label, "value": v.value, "displayOrder": i, "hidden": False,
                            **({"description": v.description} if v.description else {})}
                           for i, v in enumerate(d.allowed_values)]
    elif f.hs_type == "bool":
        prop["options"] = [dict(o) for o in _BOOL_OPTIONS]
    return prop


def properties(spec: CrmSpec) -> list[dict]:
    """Definitions of every custom property the playbook needs, in dictionary order."""
    return [property_definition(spec, f) for f in spec.hs_custom_fields]


def stage_metadata(st) -> dict[str, str]:
    """A lead pipeline stage's state: `isClosed` (a string, as `PipelineStageInput.metadata` is string-valued)."""
    return {"isClosed": "true" if st.stage.closed else "false"}


def pipeline(spec: CrmSpec) -> dict:
    """The lead pipeline with its stages in playbook order, each marked open or closed."""
    return {
        "label": spec.hs_pipeline_label,
        "displayOrder": 0,
        "stages": [{"label": st.hs_label, "displayOrder": st.order, "metadata": stage_metadata(st)}
                   for st in spec.stages],
    }


def property_group(spec: CrmSpec) -> dict:
    """The playbook's property group on the lead object."""
    return {"name": spec.hs_group, "label": spec.hs_group_label, "displayOrder": -1}


def requests() -> dict:
    """Which endpoint takes each body: method, path, object type and the API client's model."""
    return {name: {"method": method, "path": path, "objectType": HS_OBJECT_TYPE_ID, "object": HS_OBJECT,
                   "model": model, "order": i}
            for i, (name, (method, path, model)) in enumerate(ENDPOINTS.items(), start=1)}


SF_ONLY = ("enforced in Salesforce only, because it needs a field that holds health information "
           "and is kept out of HubSpot")


def _hs(spec: CrmSpec, f: FieldSpec | None) -> FieldSpec | None:
    """The field if HubSpot holds it: health information without a HubSpot name is never named here."""
    return f if f is not None and f.in_hubspot else None


def _labels(spec: CrmSpec, ids: list[str]) -> str:
    out = []
    for i in ids:
        f = _hs(spec, spec.field_by_id.get(i))
        if f is not None:
            out.append(f"{md_text(f.field.label)} ({code(f.hs_name)})")
    return ", ".join(out)


def _apply_section(spec: CrmSpec) -> list[str]:
    m = spec.model
    lines = [
        f"# HubSpot manual steps: {md_text(m.playbook.title)}",
        "",
        f"Generated from playbook {code(m.playbook.id)} version {md_text(m.playbook.version)}. "
        "The API requests below create what HubSpot's API can create; the numbered sections list "
        "what must be set in HubSpot settings by hand.",
        "",
        "## 0. Apply the API files",
        "",
        f"`playbook deploy hubspot` applies them (create what is missing, update what differs). By hand, "
        f"in this order (`{HS_OBJECT_TYPE_ID}` is the Leads object; `requests.json` lists the same):",
        "",
    ]
    lines += [f"{i}. `{method} {path}` with `{name}` (a `{model}`)."
              for i, (name, (method, path, model)) in enumerate(ENDPOINTS.items(), start=1)]
    std = [f for f in spec.hs_fields if not f.hs_custom]
    on_lead = [f for f in std if f.hs_object == HS_OBJECT]
    on_contact = [f for f in std if f.hs_object != HS_OBJECT]
    lines += ["", "Standard lead properties the playbook uses as they are (not created):", ""]
    lines += [f"- {md_text(f.field.label)}: {code(f.hs_name)}" for f in on_lead] or ["- none"]
    lines += ["", "Standard contact properties the playbook uses: HubSpot keeps them on the lead's associated "
              "contact, not on the lead (read and set them through that contact):", ""]
    lines += [f"- {md_text(f.field.label)}: {code(f.hs_name)}" for f in on_contact] or ["- none"]
    stage_field = _hs(spec, spec.semantic("stage"))
    if stage_field is not None and stage_field.hs_name != HS_STAGE_PROPERTY:
        where = "contact property" if stage_field.hs_object != HS_OBJECT else "property"
        lines += ["", f"The stage is also kept in the {where} {code(stage_field.hs_name)}: set its options to the "
                  "stages, in this order (value: label):", ""]
        lines += [f"{i}. {code(st.sf_value)}: {md_text(st.hs_label)}" for i, st in enumerate(spec.stages, start=1)]
    return lines


def _lead_object_section(spec: CrmSpec) -> list[str]:
    closed = [md_text(st.hs_label) for st in spec.stages if st.stage.closed]
    return [
        "", "## 1. The lead object", "",
        "HubSpot's Leads object (Sales Hub Professional or Enterprise) needs, for every lead the team creates:",
        "",
        f"- a lead name in {code(HS_LEAD_NAME)};",
        f"- an association to an existing contact (association category `HUBSPOT_DEFINED`, type id "
        f"`{HS_LEAD_TO_CONTACT}`, the lead's primary contact): HubSpot does not create a lead without one;",
        "- an owner who is a user with a seat, since leads are worked in the sales workspace.",
        "",
        "The pipeline marks closed stages with `isClosed: \"true\"` in each stage's metadata"
        + (f" ({', '.join(closed)})." if closed else "; the playbook has no closed stage."),
    ]


def _required_section(spec: CrmSpec) -> list[str]:
    lines = ["", "## 2. Required properties per stage", "",
             f"In Settings > Objects > Leads > Pipelines > {md_text(spec.hs_pipeline_label)}, "
             "edit each stage's required properties:", ""]
    any_req = False
    for st in spec.stages:
        req = [r for r in st.stage.required_fields if r in spec.field_by_id]
        if not req:
            continue
        any_req = True
        held = [r for r in req if spec.field_by_id[r].in_hubspot]
        on_lead = [r for r in held if spec.field_by_id[r].hs_object == HS_OBJECT]
        on_contact = [r for r in held if spec.field_by_id[r].hs_object != HS_OBJECT]
        kept_out = len(req) - len(held)
        parts = [_labels(spec, on_lead)] if on_lead else []
        if on_contact:
            parts.append(f"on the associated contact (a stage cannot require a contact property: check "
                         f"{'it' if len(on_contact) == 1 else 'them'} in a workflow): {_labels(spec, on_contact)}")
        if kept_out:
            parts.append(f"{kept_out} more required field{'' if kept_out == 1 else 's'} "
                         f"{'holds' if kept_out == 1 else 'hold'} health information: that requirement is "
                         "enforced in Salesforce only, as health information is kept out of HubSpot")
        lines.append(f"- **{md_text(st.hs_label)}**: {'; '.join(parts)}")
    if not any_req:
        lines.append("- no stage requires properties")
    return lines


def _conditional_section(spec: CrmSpec) -> list[str]:
    m = spec.model
    reason = spec.semantic("closure_reason")
    note = spec.semantic("reason_note")
    closed = [st for st in spec.stages if st.stage.closed]
    items = []
    if reason is not None and not reason.in_hubspot and closed:
        items.append(f"- The closure reason required on closed stages is {SF_ONLY}.")
        reason = None
    if note is not None and not note.in_hubspot:
        if any(st.stage.reason_note_required for st in spec.stages) or any(
                cr.requires_note for cr in m.closure_reasons):
            items.append(f"- The reason note required on some stages and closure reasons is {SF_ONLY}.")
        note = None
    if reason is not None and closed:
        names = ", ".join(md_text(st.hs_label) for st in closed)
        items.append(f"- Show and require {md_text(reason.field.label)} ({code(reason.hs_name)}) when the stage is "
                     f"{names}.")
    if note is not None:
        for st in spec.stages:
            if st.stage.reason_note_required:
                items.append(f"- Require {md_text(note.field.label)} ({code(note.hs_name)}) when a lead moves to "
                             f"{md_text(st.hs_label)}.")
        if reason is not None:
            for cr in m.closure_reasons:
                if cr.requires_note:
                    items.append(f"- Require {md_text(note.field.label)} ({code(note.hs_name)}) when "
                                 f"{md_text(reason.field.label)} is {md_text(cr.name)} ({code(cr.id)}).")
    return ["", "## 3. Conditional property logic", "", *(items or ["- none"])]


def _routing_branch(spec: CrmSpec, i: int, r, queues: dict, qspec: dict) -> str:
    routing = spec.model.routing
    spec_f = spec.field_by_id.get(routing.specialty_field)
    reg_f = spec.field_by_id.get(routing.region_field)
    conds = []
    sf_only = False
    for values, f in ((r.when.specialty, spec_f), (r.when.region, reg_f)):
        if values and f:
            if f.in_hubspot:
                conds.append(f"{code(f.hs_name)} is any of " + ", ".join(f"{code(v)}" for v in values))
            else:
                sf_only = True
    if r.when.min_score is not None:
        score = _hs(spec, spec.semantic("score"))
        conds.append(f"{code(score.hs_name if score else 'score')} >= {r.when.min_score}")
    if sf_only:
        # A HubSpot branch without the health-information condition would route the wrong leads.
        return f"{i}. {md_text(r.name)}: no HubSpot branch; this routing rule is {SF_ONLY}."
    q = queues.get(r.queue)
    target = md_text(q.name) if q else md_text(r.queue)
    value = qspec[r.queue].hs_value if r.queue in qspec else None
    setq = f" and set the queue property to {code(value)}" if value else ""
    return (f"{i}. {md_text(r.name)}: when {' and '.join(conds) or 'always'}, "
            f"assign to the team for queue {target}{setq}.")


def _routing_section(spec: CrmSpec) -> list[str]:
    lines = ["", "## 4. Routing", "",
             "HubSpot has no API for lead assignment rules: build one workflow (or lead rotation) "
             "that checks these branches in order; the first match wins.", ""]
    routing = spec.model.routing
    if routing is None:
        return lines + ["- the playbook defines no routing"]
    queues = {q.id: q for q in routing.queues}
    qspec = {q.id: q for q in spec.queues}
    lines += [_routing_branch(spec, i, r, queues, qspec) for i, r in enumerate(routing.rules, start=1)]
    fb = queues.get(routing.fallback.queue)
    lines.append(f"{len(routing.rules) + 1}. Otherwise (fallback): assign to the team for queue "
                 f"{md_text(fb.name if fb else routing.fallback.queue)}. When the queue is full: "
                 f"{md_text(routing.fallback.when_full)} When no owner is available: "
                 f"{md_text(routing.fallback.when_no_owner)}")
    return lines


def _sla_section(spec: CrmSpec) -> list[str]:
    roles = spec.model.by_id("roles")
    lines = ["", "## 5. SLAs and escalation", "",
             "One workflow per SLA: enrol on the start event, delay, then branch on the stop event.", ""]
    escalated = _hs(spec, spec.semantic("escalated_at"))
    for s in spec.slas:
        sla = s.sla
        lines.append(f"- **{md_text(sla.name)}**: within {md_text(str(sla.within))} from "
                     f"{md_text(_event(spec, sla.start_event))} to {md_text(s.stop_description)}; "
                     f"owner {md_text(roles[sla.owner].name if sla.owner in roles else sla.owner)}.")
        for esc in sla.escalations:
            who = roles[esc.notify].name if esc.notify in roles else esc.notify
            mark = f" Set {code(escalated.hs_name)} to now." if escalated else ""
            lines.append(f"    - {md_text(str(esc.after))} past the deadline: notify {md_text(who)}; "
                         f"{md_text(esc.action)}{mark}")
    if not spec.slas:
        lines.append("- the playbook defines no SLAs")
    return lines


def _duplicates_section(spec: CrmSpec) -> list[str]:
    lines = ["", "## 6. Duplicates", "",
             "HubSpot de-duplicates contacts by email on its own; set up the remaining rules in "
             "duplicate management or a workflow:", ""]
    for mspec in spec.matches:
        if not all(f.in_hubspot for f in mspec.fields):
            lines.append(f"- {md_text(mspec.rule.name)}: {SF_ONLY}.")
            continue
        fields = ", ".join(f"{code(f.hs_name)}" for f in mspec.fields)
        lines.append(f"- {md_text(mspec.rule.name)}: match on {fields}; "
                     f"{md_text(mspec.rule.action.replace('_', ' '))}.")
    if not spec.matches:
        lines.append("- the playbook defines no matching rules")
    return lines


SECTIONS = (_apply_section, _lead_object_section, _required_section, _conditional_section, _routing_section,
            _sla_section, _duplicates_section)


def manual_steps(spec: CrmSpec) -> str:
    """MANUAL-STEPS.md: what an admin sets by hand, generated from the model, one function per section."""
    return "\n".join(line for section in SECTIONS for line in section(spec)) + "\n"


def _event(spec: CrmSpec, event_id: str) -> str:
    ev = spec.model.by_id("events").get(event_id)
    return ev.name if ev else event_id


def render(spec: CrmSpec) -> dict[str, bytes]:
    """Every HubSpot export file, keyed by relative path."""
    return {
        "MANUAL-STEPS.md": manual_steps(spec).encode("utf-8"),
        "pipeline.json": _json(pipeline(spec)),
        "properties.json": _json({"inputs": properties(spec)}),
        "property-groups.json": _json(property_group(spec)),
        "requests.json": _json(requests()),
    }


__all__ = ["render", "properties", "pipeline", "property_group", "requests", "manual_steps", "property_definition",
           "ENDPOINTS", "stage_metadata"]
