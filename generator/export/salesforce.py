"""Compile a playbook into a Salesforce DX source project (Metadata API XML).

`render(spec)` returns `{relative path: bytes}`; nothing touches the disk
here. Element names follow the Metadata API documentation for each type
(the tests keep an allow-list per type). All text from the playbook is
escaped by `xml.document`; guidance shown in Path is HTML-escaped first
because Salesforce renders it as rich text.
"""

from __future__ import annotations

import json

from ..text import html_text
from .mapping import (
    SF_API_VERSION,
    SF_OBJECT,
    SF_STAGE_FIELD,
    CrmSpec,
    FieldSpec,
    MatchSpec,
    SlaSpec,
    add_durations,
    api_name,
    business_offset,
    cut,
    formula_string,
)
from .xml import E, document

BASE = "force-app/main/default"
NOT_TRACKABLE = frozenset({"Id", "CreatedDate"})
"""System fields whose history Salesforce cannot track."""


_cut = cut


# ----------------------------------------------------------- value sets


def _lead_status(spec: CrmSpec) -> bytes:
    values = []
    for st in spec.stages:
        values.append(E(
            "standardValue",
            E("fullName", st.sf_value),
            E("converted", st.stage.converted),
            E("default", st.stage.initial),
            E("label", _cut(st.sf_label, 255)),
        ))
    return document(E("StandardValueSet", E("sorted", False), *values))


def _lead_source(spec: CrmSpec) -> bytes:
    values = [E("standardValue", E("fullName", v), E("default", False), E("label", _cut(label, 255)))
              for v, label in spec.lead_sources]
    return document(E("StandardValueSet", E("sorted", False), *values))


# ---------------------------------------------------------------- fields


def _custom_field(spec: CrmSpec, f: FieldSpec) -> bytes:
    d = f.field
    parts: list[E] = [
        E("fullName", f.sf_name),
        E("label", f.sf_label),
        E("description", _cut(d.description, 1000)) if d.description else None,
        E("inlineHelpText", _cut(d.help_text, 510)) if d.help_text else None,
        E("externalId", False),
        E("trackHistory", f.sf_history),
        E("type", f.sf_type),
    ]
    groups = [g for g, on in (("HIPAA", d.phi), ("PII", d.pii)) if on]
    if groups:
        parts.append(E("complianceGroup", ";".join(groups)))
        parts.append(E("securityClassification", "Restricted" if d.phi else "Confidential"))
    t = f.sf_type
    if t == "Checkbox":
        parts.append(E("defaultValue", False))
    else:
        parts.append(E("required", False))
    if t == "Text":
        parts.append(E("length", 18 if d.type == "reference" else 255))
        parts.append(E("unique", False))
    elif t == "LongTextArea":
        parts += [E("length", 32768), E("visibleLines", 3)]
    elif t == "Number":
        parts += [E("precision", 18), E("scale", 0 if d.type == "integer" else 2), E("unique", False)]
    elif t in ("Picklist", "MultiselectPicklist"):
        if t == "MultiselectPicklist":
            parts.append(E("visibleLines", 4))
        values = [E("value", E("fullName", v.value), E("default", False), E("label", _cut(v.label, 255)))
                  for v in d.allowed_values]
        parts.append(E("valueSet", E("restricted", True), E("valueSetDefinition", E("sorted", False), *values)))
    return document(E("CustomField", *parts))


def _standard_field(f: FieldSpec) -> bytes:
    # Only what we change on a standard field: its history tracking.
    return document(E("CustomField", E("fullName", f.sf_name), E("trackHistory", True)))


def _lead_object(spec: CrmSpec) -> bytes:
    return document(E("CustomObject", E("enableHistory", True)))


# ------------------------------------------------------ validation rules


def _validation_rule(rule) -> bytes:
    return document(E(
        "ValidationRule",
        E("fullName", rule.name),
        E("active", True),
        E("description", _cut(rule.description, 1000)),
        E("errorConditionFormula", rule.formula),
        E("errorDisplayField", rule.display_field) if rule.display_field else None,
        E("errorMessage", _cut(rule.message, 255)),
    ))


# --------------------------------------------------------------- routing


def _queue(q) -> bytes:
    return document(E(
        "Queue",
        E("fullName", q.sf_name),
        E("doesSendEmailToMembers", False),
        E("name", _cut(q.sf_label, 40)),
        E("queueSobject", E("sobjectType", SF_OBJECT)),
    ))


def _criteria(spec: CrmSpec, rule) -> list[E]:
    """Criteria items of one routing rule; a formula when values contain commas."""
    routing = spec.model.routing
    assert routing is not None
    items: list[tuple[FieldSpec, list[str]]] = []
    for field_id, values in ((routing.specialty_field, rule.when.specialty), (routing.region_field, rule.when.region)):
        f = spec.field_by_id.get(field_id)
        if values and f is not None:
            items.append((f, list(values)))
    score = spec.semantic("score")
    if any("," in v for _, vs in items for v in vs):
        tests = []
        for f, vs in items:
            ors = [f"ISPICKVAL({f.sf_name}, {formula_string(v)})" for v in vs]
            tests.append(ors[0] if len(ors) == 1 else "OR(" + ", ".join(ors) + ")")
        if rule.when.min_score is not None and score is not None:
            tests.append(f"{score.sf_name} >= {rule.when.min_score}")
        return [E("formula", tests[0] if len(tests) == 1 else "AND(" + ", ".join(tests) + ")")]
    out = [E("criteriaItems", E("field", f"{SF_OBJECT}.{f.sf_name}"), E("operation", "equals"),
             E("value", ",".join(vs))) for f, vs in items]
    if rule.when.min_score is not None and score is not None:
        out.append(E("criteriaItems", E("field", f"{SF_OBJECT}.{score.sf_name}"), E("operation", "greaterOrEqual"),
                     E("value", str(rule.when.min_score))))
    return out


def _assignment_rules(spec: CrmSpec) -> bytes:
    routing = spec.model.routing
    assert routing is not None
    qname = {q.id: q.sf_name for q in spec.queues}
    entries = [E("ruleEntry", E("assignedTo", qname[r.queue]), E("assignedToType", "Queue"), *_criteria(spec, r))
               for r in routing.rules if r.queue in qname]
    entries.append(E("ruleEntry", E("assignedTo", qname[routing.fallback.queue]), E("assignedToType", "Queue")))
    return document(E("AssignmentRules", E("assignmentRule", E("fullName", spec.assignment_rule), E("active", True),
                                             *entries)))


# ------------------------------------------------------------ duplicates


def _matching_method(f: FieldSpec, rule) -> str:
    sem = f.field.semantic
    if sem == "first_name":
        return "FirstName"
    if sem == "last_name":
        return "LastName"
    if sem == "phone" or f.field.type == "phone" or rule.normalize.get(f.id) in ("digits_only", "e164"):
        return "Phone"
    return "Exact"


def _matching_rules(spec: CrmSpec) -> bytes:
    rules = []
    for m in spec.matches:
        items = [E("matchingRuleItems", E("blankValueBehavior", "NullNotAllowed"), E("fieldName", f.sf_name),
                   E("matchingMethod", _matching_method(f, m.rule))) for f in m.fields]
        rules.append(E(
            "matchingRules",
            E("fullName", m.sf_matching_rule),
            E("description", _cut(m.rule.description or f"Playbook duplicate rule: {m.rule.name}.", 255)),
            E("label", _cut(m.rule.name, 80)),
            *items,
            E("ruleStatus", "Active"),
        ))
    return document(E("MatchingRules", *rules))


_DUPLICATE_ACTION = {
    # action -> (actionOnInsert, operations, alert)
    "update_existing": ("Block", ("Alert",), "This person is already a lead: update the existing record instead."),
    "create_flagged_duplicate": ("Allow", ("Alert", "Report"), "Possible duplicate: save it flagged as a duplicate."),
    "merge": ("Allow", ("Alert", "Report"), "Possible duplicate: merge it into the existing lead."),
}


def _duplicate_rule(spec: CrmSpec, m: MatchSpec, order: int) -> bytes:
    on_insert, ops, alert = _DUPLICATE_ACTION[m.rule.action]
    return document(E(
        "DuplicateRule",
        E("actionOnInsert", on_insert),
        E("actionOnUpdate", "Allow"),
        E("alertText", alert),
        E("description", _cut(f"Playbook matching '{m.rule.name}': {m.rule.action.replace('_', ' ')}.", 255)),
        E("duplicateRuleMatchRules", E("matchRuleSObjectType", SF_OBJECT), E("matchingRule", m.sf_matching_rule)),
        E("isActive", True),
        E("masterLabel", _cut(m.rule.name, 80)),
        *[E("operationsOnInsert", o) for o in ops],
        *[E("operationsOnUpdate", o) for o in ops],
        E("securityOption", "EnforceSharingRules"),
        E("sortOrder", order),
    ))


# ------------------------------------------------------------------ SLAs


def _plans(spec: CrmSpec, sla) -> list[tuple[str, str, str]]:
    """(when, task subject, task description) per escalation level; one level when none is defined."""
    roles = spec.model.by_id("roles")

    def who(role: str) -> str:
        return roles[role].name if role in roles else role

    if sla.escalations:
        return [(add_durations(sla.within, esc.after), f"SLA '{sla.name}' missed: escalate to {who(esc.notify)}",
                 esc.action) for esc in sla.escalations]
    owner = who(sla.owner)
    return [(sla.within, f"SLA '{sla.name}' missed: tell {owner}", f"Deadline of {sla.within} passed.")]


def _level(spec: CrmSpec, s: SlaSpec, i: int, when: str, subject: str, action: str) -> dict[str, list[E]]:
    """One escalation level: its scheduled path, decisions, escalation-time update and task."""
    escalated = spec.semantic("escalated_at")
    number, unit = business_offset(when)
    check, mark, owner_check, task = f"Still_open_{i}", f"Mark_escalated_{i}", f"Owner_is_user_{i}", f"Task_{i}"
    after_check = mark if escalated is not None else owner_check
    out: dict[str, list[E]] = {"paths": [], "decisions": [], "updates": [], "creates": []}
    out["paths"].append(E(
        "scheduledPaths",
        E("name", f"Level_{i}"),
        E("connector", E("targetReference", check if s.open_while else after_check)),
        E("label", _cut(f"Level {i}: {number} {unit.lower()} after start ({when})", 255)),
        E("offsetNumber", number),
        E("offsetUnit", unit),
        E("recordField", s.time_field) if s.time_field else None,
        E("timeSource", "RecordField" if s.time_field else "RecordTriggerEvent"),
    ))
    if s.open_while:
        conds = [E("conditions", E("leftValueReference", f"$Record.{fld}"), E("operator", op),
                   E("rightValue", E("booleanValue", True) if op == "IsNull" else E("stringValue", val)))
                 for fld, op, val in s.open_while]
        out["decisions"].append(E(
            "decisions", E("name", check), E("label", f"Stop event not yet seen ({i})"),
            E("locationX", 176), E("locationY", 300 * i),
            E("defaultConnectorLabel", "SLA met"),
            E("rules", E("name", f"{check}_yes"), E("conditionLogic", "and"), *conds,
              E("connector", E("targetReference", after_check)), E("label", "SLA missed")),
        ))
    if escalated is not None:
        out["updates"].append(E(
            "recordUpdates", E("name", mark), E("label", f"Record escalation time ({i})"),
            E("locationX", 176), E("locationY", 300 * i + 100),
            E("connector", E("targetReference", owner_check)),
            E("inputAssignments", E("field", escalated.sf_name),
              E("value", E("elementReference", "$Flow.CurrentDateTime"))),
            E("inputReference", "$Record"),
        ))
    out["decisions"].append(E(
        "decisions", E("name", owner_check), E("label", f"Owner is a user ({i})"),
        E("locationX", 176), E("locationY", 300 * i + 150),
        E("defaultConnectorLabel", "Owned by a queue"),
        E("rules", E("name", f"{owner_check}_yes"), E("conditionLogic", "and"),
          E("conditions", E("leftValueReference", "$Record.OwnerId"), E("operator", "StartsWith"),
            E("rightValue", E("stringValue", "005"))),
          E("connector", E("targetReference", task)), E("label", "User")),
    ))
    out["creates"].append(_task(task, i, subject, action))
    return out


def _task(name: str, i: int, subject: str, action: str) -> E:
    """The escalation task for the lead's owner."""
    return E(
        "recordCreates", E("name", name), E("label", f"Escalation task ({i})"),
        E("locationX", 176), E("locationY", 300 * i + 200),
        E("inputAssignments", E("field", "Subject"), E("value", E("stringValue", _cut(subject, 255)))),
        E("inputAssignments", E("field", "Description"), E("value", E("stringValue", _cut(action, 32000)))),
        E("inputAssignments", E("field", "Priority"), E("value", E("stringValue", "High"))),
        E("inputAssignments", E("field", "ActivityDate"), E("value", E("elementReference", "$Flow.CurrentDate"))),
        E("inputAssignments", E("field", "OwnerId"), E("value", E("elementReference", "$Record.OwnerId"))),
        E("inputAssignments", E("field", "WhoId"), E("value", E("elementReference", "$Record.Id"))),
        E("object", "Task"),
        E("storeOutputAutomatically", True),
    )


def _start(s: SlaSpec, paths: list[E]) -> E:
    """The record trigger: which lead changes start the SLA, then its scheduled paths."""
    filters = [E("filters", E("field", fld), E("operator", op),
                 E("value", E("booleanValue", val == "true") if op == "IsNull" else E("stringValue", val)))
               for fld, op, val in s.start_filters]
    return E(
        "start",
        E("locationX", 50), E("locationY", 0),
        E("object", SF_OBJECT),
        E("recordTriggerType", "CreateAndUpdate" if filters else "Create"),
        E("triggerType", "RecordAfterSave"),
        E("filterLogic", "or") if filters else None,
        *filters,
        E("doesRequireRecordChangedToMeetCriteria", True) if filters else None,
        *paths,
    )


def _flow(spec: CrmSpec, s: SlaSpec) -> bytes:
    """A record-triggered flow: one scheduled path per escalation level, each checking the stop event,
    recording the escalation time and giving the owner a task."""
    sla = s.sla
    parts: dict[str, list[E]] = {"paths": [], "decisions": [], "updates": [], "creates": []}
    for i, (when, subject, action) in enumerate(_plans(spec, sla), start=1):
        for k, v in _level(spec, s, i, when, subject, action).items():
            parts[k] += v
    desc = (f"Playbook SLA '{sla.name}': {sla.within} from '{_event_name(spec, sla.start_event)}' "
            f"to '{s.stop_description}'. Escalates while {_open_text(s)}. Scheduled paths run on the "
            "wall clock; business-hours compliance is measured by `playbook conform`.")
    return document(E(
        "Flow",
        E("apiVersion", SF_API_VERSION),
        E("description", _cut(desc, 2000)),
        E("interviewLabel", _cut(f"{sla.name} {{!$Flow.CurrentDateTime}}", 255)),
        E("label", _cut(f"Playbook SLA: {sla.name}", 255)),
        E("processType", "AutoLaunchedFlow"),
        _start(s, parts["paths"]),
        E("status", "Active"),
        *parts["decisions"], *parts["updates"], *parts["creates"],
    ))


def _open_text(s: SlaSpec) -> str:
    """The stop condition a flow checks, in words."""
    if not s.open_while:
        return "the deadline passes (the stop event is not visible on the Lead)"
    words = {"NotEqualTo": "is not", "IsNull": "is empty"}
    return " and ".join(f"{fld} {words[op]}" + ("" if op == "IsNull" else f" '{val}'")
                        for fld, op, val in s.open_while)


def _event_name(spec: CrmSpec, event_id: str) -> str:
    ev = spec.model.by_id("events").get(event_id)
    return ev.name if ev else event_id


# ------------------------------------------------------------------ path


def _path_assistant(spec: CrmSpec) -> bytes:
    steps = []
    roles = spec.model.by_id("roles")
    for st in spec.stages:
        s = st.stage
        keys = s.key_fields or s.required_fields
        names = [spec.field_by_id[k].sf_name for k in keys if k in spec.field_by_id]
        owner = roles[s.owner].name if s.owner in roles else None
        info = f"<p>{html_text(_cut(s.guidance or s.description, 800))}</p>"
        if owner:
            info += f"<p>Owner: {html_text(owner)}</p>"
        steps.append(E("pathAssistantSteps", *[E("fieldNames", n) for n in names], E("info", info),
                       E("picklistValueName", st.sf_value)))
    return document(E(
        "PathAssistant",
        E("active", True),
        E("entityName", SF_OBJECT),
        E("fieldName", SF_STAGE_FIELD),
        E("masterLabel", _cut(f"Playbook: {spec.model.playbook.title}", 80)),
        *steps,
        E("recordTypeName", "__MASTER__"),
    ))


# ---------------------------------------------------------------- package


def _package(types: dict[str, list[str]]) -> bytes:
    blocks = [E("types", *[E("members", m) for m in sorted(set(members))], E("name", name))
              for name, members in sorted(types.items()) if members]
    return document(E("Package", *blocks, E("version", SF_API_VERSION)))


def render(spec: CrmSpec) -> dict[str, bytes]:
    """Every file of the SFDX project, keyed by path relative to the output folder."""
    files: dict[str, bytes] = {}
    types: dict[str, list[str]] = {}

    def add(path: str, data: bytes, kind: str, member: str) -> None:
        files[f"{BASE}/{path}"] = data
        types.setdefault(kind, []).append(member)

    add("standardValueSets/LeadStatus.standardValueSet-meta.xml", _lead_status(spec), "StandardValueSet", "LeadStatus")
    if spec.lead_sources:
        add("standardValueSets/LeadSource.standardValueSet-meta.xml", _lead_source(spec), "StandardValueSet",
            "LeadSource")
    tracked_standard = [f for f in spec.fields if not f.sf_custom and f.sf_history and f.sf_name not in NOT_TRACKABLE]
    if tracked_standard or any(f.sf_history for f in spec.sf_custom_fields):
        add(f"objects/{SF_OBJECT}/{SF_OBJECT}.object-meta.xml", _lead_object(spec), "CustomObject", SF_OBJECT)
    for f in spec.sf_custom_fields:
        add(f"objects/{SF_OBJECT}/fields/{f.sf_name}.field-meta.xml", _custom_field(spec, f), "CustomField",
            f"{SF_OBJECT}.{f.sf_name}")
    for f in tracked_standard:
        add(f"objects/{SF_OBJECT}/fields/{f.sf_name}.field-meta.xml", _standard_field(f), "CustomField",
            f"{SF_OBJECT}.{f.sf_name}")
    for r in spec.rules:
        add(f"objects/{SF_OBJECT}/validationRules/{r.name}.validationRule-meta.xml", _validation_rule(r),
            "ValidationRule", f"{SF_OBJECT}.{r.name}")
    for q in spec.queues:
        add(f"queues/{q.sf_name}.queue-meta.xml", _queue(q), "Queue", q.sf_name)
    if spec.model.routing is not None and spec.queues:
        add(f"assignmentRules/{SF_OBJECT}.assignmentRules-meta.xml", _assignment_rules(spec), "AssignmentRules",
            SF_OBJECT)
        # A retrieve manifest names the child rules too (as SDR's component set does).
        types.setdefault("AssignmentRule", []).append(f"{SF_OBJECT}.{spec.assignment_rule}")
    if spec.matches:
        add(f"matchingRules/{SF_OBJECT}.matchingRule-meta.xml", _matching_rules(spec), "MatchingRules", SF_OBJECT)
        types.setdefault("MatchingRule", []).extend(f"{SF_OBJECT}.{m.sf_matching_rule}" for m in spec.matches)
        for i, m in enumerate(spec.matches, start=1):
            add(f"duplicateRules/{SF_OBJECT}.{m.sf_duplicate_rule}.duplicateRule-meta.xml",
                _duplicate_rule(spec, m, i), "DuplicateRule", f"{SF_OBJECT}.{m.sf_duplicate_rule}")
    for s in spec.slas:
        add(f"flows/{s.sf_flow}.flow-meta.xml", _flow(spec, s), "Flow", s.sf_flow)
    add(f"pathAssistants/{spec.path_assistant}.pathAssistant-meta.xml", _path_assistant(spec), "PathAssistant",
        spec.path_assistant)

    files["manifest/package.xml"] = _package(types)
    project = {
        "name": api_name(f"playbook_{spec.model.playbook.id}"),
        "namespace": "",
        "packageDirectories": [{"default": True, "path": "force-app"}],
        "sfdcLoginUrl": "https://login.salesforce.com",
        "sourceApiVersion": SF_API_VERSION,
    }
    files["sfdx-project.json"] = (json.dumps(project, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return dict(sorted(files.items()))


__all__ = ["render", "BASE"]
