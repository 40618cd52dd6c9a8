"""The one mapping from the playbook model to CRM names and enforcing rules.

The Salesforce and HubSpot exporters, drift detection and the site's "CRM
configuration" page all read a `CrmSpec` built here, so a stage, field or
queue has exactly one name per CRM and one stated rule that enforces it.

What is standard and what is custom comes from the model: a field's
`names.salesforce` / `names.hubspot` when given, otherwise the CRM's standard
field for the field's `semantic` tag (email -> Email / email), otherwise a
sanitized custom name derived from the field id. Nothing here knows the ids
of the default playbook.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property

from ..errors import UsageError
from ..model import SLA, DataField, Duration, MatchRule, Playbook, Queue, Stage

SF_API_VERSION = "62.0"
SF_OBJECT = "Lead"
SF_STAGE_FIELD = "Status"
SF_SOURCE_FIELD = "LeadSource"
HS_OBJECT = "leads"
"""HubSpot's Leads object: the one that has a lead pipeline."""
HS_OBJECT_TYPE_ID = "0-136"
"""The Leads object's type id, which every leads endpoint accepts in place of `leads`."""
HS_STAGE_PROPERTY = "hs_pipeline_stage"

# Standard Lead fields by semantic tag. These are CRM facts, not playbook ids.
SF_STANDARD_BY_SEMANTIC: dict[str, str] = {
    "record_id": "Id",
    "created_at": "CreatedDate",
    "stage": "Status",
    "owner": "OwnerId",
    "email": "Email",
    "phone": "Phone",
    "first_name": "FirstName",
    "last_name": "LastName",
    "source": "LeadSource",
}
HS_STANDARD_BY_SEMANTIC: dict[str, str] = {
    "record_id": "hs_object_id",
    "created_at": "hs_createdate",
    "stage": HS_STAGE_PROPERTY,
    "owner": "hubspot_owner_id",
    "email": "email",
    "phone": "phone",
    "first_name": "firstname",
    "last_name": "lastname",
}
HS_STANDARD_NAMES = frozenset(HS_STANDARD_BY_SEMANTIC.values()) | {
    # HubSpot's default contact and lead properties (every hs_* name is HubSpot's too).
    "mobilephone", "createdate", "lastmodifieddate", "lifecyclestage", "company", "jobtitle", "website",
    "address", "city", "state", "zip", "country", "fax", "industry", "message", "hubspotscore",
    "salesforceleadid", "salesforcecontactid", "notes_last_contacted", "num_contacted_notes",
    "associatedcompanyid",
}

# Which object holds each of HubSpot's default properties the playbook can name. A lead is always
# associated with a contact (HubSpot's Leads API requires it) and the person's details live on that
# contact: email, phone and name are contact properties, not lead properties. The lead object has its
# own name (hs_lead_name), type, label, pipeline, stage and owner. Checked against HubSpot's Leads
# guide (developers.hubspot.com/docs/guides/api/crm/objects/leads) and the Properties API.
HS_LEAD_PROPERTIES = frozenset({
    "hs_object_id", "hs_createdate", "hs_lastmodifieddate", "hs_pipeline", HS_STAGE_PROPERTY, "hubspot_owner_id",
    "hs_lead_name", "hs_lead_type", "hs_lead_label",
})
HS_CONTACT_PROPERTIES = frozenset({
    "email", "phone", "mobilephone", "firstname", "lastname", "company", "jobtitle", "website", "address", "city",
    "state", "zip", "country", "fax", "industry", "message", "lifecyclestage", "hs_lead_status", "hubspotscore",
    "salesforceleadid", "salesforcecontactid", "createdate", "lastmodifieddate", "notes_last_contacted",
    "num_contacted_notes", "associatedcompanyid",
})
HS_CONTACT_OBJECT = "contacts"


def hs_on_contact(name: str | None) -> bool:
    """Whether HubSpot keeps this default property on a lead's contact rather than on the lead."""
    return name in HS_CONTACT_PROPERTIES


HS_LEAD_NAME = "hs_lead_name"
HS_LEAD_TO_CONTACT = 578
"""HUBSPOT_DEFINED association type id of a lead's primary contact (lead to contact)."""

# History tracking on Salesforce is limited to fields that matter for audit:
# the stage, the owner and consent, plus whatever the playbook marks.
HISTORY_SEMANTICS = frozenset({"stage", "owner", "consent"})

SF_TYPES: dict[str, str] = {
    "string": "Text",
    "text": "LongTextArea",
    "email": "Email",
    "phone": "Phone",
    "enum": "Picklist",
    "multi_enum": "MultiselectPicklist",
    "boolean": "Checkbox",
    "integer": "Number",
    "number": "Number",
    "date": "Date",
    "datetime": "DateTime",
    "url": "Url",
    "reference": "Text",  # a record id; Lead-to-Lead lookups are not offered on every org
}
# Describe-call type names for the same Salesforce field types (drift compares these).
SF_DESCRIBE_TYPES: dict[str, str] = {
    "Text": "string",
    "LongTextArea": "textarea",
    "Email": "email",
    "Phone": "phone",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Checkbox": "boolean",
    "Number": "double",
    "Date": "date",
    "DateTime": "datetime",
    "Url": "url",
}
HS_TYPES: dict[str, tuple[str, str]] = {
    "string": ("string", "text"),
    "text": ("string", "textarea"),
    "email": ("string", "text"),
    # HubSpot's published PropertyCreate model (@hubspot/api-client) has no `phonenumber` field type.
    "phone": ("string", "text"),
    "enum": ("enumeration", "select"),
    "multi_enum": ("enumeration", "checkbox"),
    "boolean": ("bool", "booleancheckbox"),
    "integer": ("number", "number"),
    "number": ("number", "number"),
    "date": ("date", "date"),
    "datetime": ("datetime", "date"),
    "url": ("string", "text"),
    "reference": ("string", "text"),
}

MAX_API_NAME = 40


# ------------------------------------------------------------------ names


def api_name(text: str, max_len: int = MAX_API_NAME) -> str:
    """A Salesforce API name: letters, digits, single underscores, starts with a letter.

    Stable: the same text always gives the same name. Too long names keep a
    readable prefix and end in a short hash of the whole text, so two long
    names that share a prefix still differ.
    """
    s = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    s = re.sub(r"_+", "_", s)
    if not s or not s[0].isalpha():
        s = "X_" + s if s else "X"
    s = s.rstrip("_")
    if len(s) > max_len:
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]
        s = s[: max_len - 7].rstrip("_") + "_" + digest
    return s


def hs_name(text: str, max_len: int = 100) -> str:
    """A HubSpot internal property name: lowercase letters, digits, underscores."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    s = re.sub(r"_+", "_", s)
    if not s or not s[0].isalpha():
        s = "p_" + s
    return s[:max_len].rstrip("_")


def id_api_name(entity_id: str) -> str:
    """An API name from a slug id, capitalized per word: `closure-reason` -> `Closure_Reason`."""
    return api_name("_".join(p[:1].upper() + p[1:] for p in re.split(r"[-_]+", entity_id) if p))


def cut(text: str, limit: int) -> str:
    """Shorten text to a CRM length limit, deterministically, on one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def formula_string(value: str) -> str:
    """A Salesforce formula string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------- the spec


@dataclass(frozen=True)
class FieldSpec:
    """One lead field in both CRMs."""

    field: DataField
    sf_name: str
    sf_custom: bool
    sf_type: str
    sf_history: bool
    hs_name: str
    hs_custom: bool
    hs_type: str
    hs_field_type: str
    in_hubspot: bool = True
    """False for a health-information field the playbook gave no HubSpot name: HubSpot never holds it."""

    @property
    def id(self) -> str:
        """The playbook id."""
        return self.field.id

    @property
    def hs_object(self) -> str:
        """`contacts` for a default contact property (a lead reads it from its contact), else `leads`."""
        return HS_CONTACT_OBJECT if not self.hs_custom and hs_on_contact(self.hs_name) else HS_OBJECT

    @property
    def sf_label(self) -> str:
        """The field label as Salesforce stores it (40 characters at most)."""
        return cut(self.field.label, 40)

    @property
    def is_picklist(self) -> bool:
        """Whether the field holds values from a fixed list."""
        return self.field.type in ("enum", "multi_enum")


@dataclass(frozen=True)
class RuleSpec:
    """A Salesforce validation rule and the HubSpot step that stands in for it."""

    name: str
    description: str
    formula: str
    message: str
    display_field: str | None
    stage_ids: tuple[str, ...] = ()
    field_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageSpec:
    """One stage: its LeadStatus value and HubSpot pipeline stage."""

    stage: Stage
    sf_value: str
    sf_label: str
    hs_stage_id: str
    hs_label: str
    order: int

    @property
    def id(self) -> str:
        """The playbook id."""
        return self.stage.id


@dataclass(frozen=True)
class QueueSpec:
    """One routing queue: its Salesforce queue and where the assignment rule sends leads to it."""

    queue: Queue
    sf_name: str
    sf_label: str
    hs_value: str | None
    """The queue's option value on the HubSpot queue property, if the playbook has one."""
    rule_positions: tuple[int, ...]
    fallback: bool

    @property
    def id(self) -> str:
        """The playbook id."""
        return self.queue.id


@dataclass(frozen=True)
class SlaSpec:
    """One SLA: the flow that escalates it and the conditions that start and stop its clock."""

    sla: SLA
    sf_flow: str
    start_filters: tuple[tuple[str, str, str], ...]
    """(Salesforce field, flow operator, value) any of which starts the clock; empty means on create."""
    time_field: str | None
    """A date/time field holding the start instant, when the start event sets one."""
    stop_description: str
    open_while: tuple[tuple[str, str, str], ...]
    """(Salesforce field, flow operator, value) that all hold while the SLA is still running."""

    @property
    def id(self) -> str:
        """The playbook id."""
        return self.sla.id


@dataclass(frozen=True)
class MatchSpec:
    """One duplicate rule: its Salesforce matching and duplicate rules and the fields it compares."""

    rule: MatchRule
    sf_matching_rule: str
    sf_duplicate_rule: str
    fields: tuple[FieldSpec, ...]

    @property
    def id(self) -> str:
        """The playbook id."""
        return self.rule.id


@dataclass
class CrmSpec:
    """Everything the exporters, drift and the site need, computed once from the model."""

    model: Playbook
    fields: list[FieldSpec]
    stages: list[StageSpec]
    queues: list[QueueSpec]
    slas: list[SlaSpec]
    matches: list[MatchSpec]
    rules: list[RuleSpec]
    lead_sources: list[tuple[str, str]]
    """(picklist value, label) of Salesforce LeadSource, from the sources' crm_value."""
    assignment_rule: str
    path_assistant: str
    hs_group: str
    hs_group_label: str
    hs_pipeline_id: str
    hs_pipeline_label: str

    @cached_property
    def field_by_id(self) -> dict[str, FieldSpec]:
        """Lead fields keyed by playbook field id."""
        return {f.id: f for f in self.fields}

    @cached_property
    def stage_by_id(self) -> dict[str, StageSpec]:
        """Stages keyed by playbook stage id."""
        return {s.id: s for s in self.stages}

    def semantic(self, tag: str) -> FieldSpec | None:
        """The lead field carrying `tag`, if the playbook has one."""
        for f in self.fields:
            if f.field.semantic == tag:
                return f
        return None

    @property
    def sf_custom_fields(self) -> list[FieldSpec]:
        """Fields the Salesforce export creates."""
        return [f for f in self.fields if f.sf_custom]

    @property
    def hs_fields(self) -> list[FieldSpec]:
        """Fields HubSpot holds (health information without an explicit HubSpot name is left out)."""
        return [f for f in self.fields if f.in_hubspot]

    @property
    def hs_custom_fields(self) -> list[FieldSpec]:
        """Properties the HubSpot export creates."""
        return [f for f in self.fields if f.in_hubspot and f.hs_custom]

    def rules_for_stage(self, stage_id: str) -> list[RuleSpec]:
        """Validation rules that guard a stage."""
        return [r for r in self.rules if stage_id in r.stage_ids]

    def rules_for_field(self, field_id: str) -> list[RuleSpec]:
        """Validation rules that require a field."""
        return [r for r in self.rules if field_id in r.field_ids]

    # -- plain-language statements of what enforces what (site page, MANUAL-STEPS)
    def field_enforcement(self, f: FieldSpec) -> tuple[str, str]:
        """(Salesforce, HubSpot) sentences saying what enforces this field."""
        sf: list[str] = []
        hs: list[str] = []
        if f.is_picklist and f.field.semantic != "stage":
            n = len(f.field.allowed_values)
            if f.sf_custom:
                sf.append(f"restricted picklist of {n} values")
            hs.append(f"enumeration of {n} options")
        if f.field.semantic == "stage":
            sf.append(f"standard value set LeadStatus ({len(self.stages)} values)")
            hs.append(f"lead pipeline '{self.hs_pipeline_label}'")
        if f.field.semantic == "source" and not f.sf_custom:
            sf.append(f"standard value set LeadSource ({len(self.lead_sources)} values)")
        if f.sf_history:
            sf.append("field history tracked")
        for r in self.rules_for_field(f.id):
            sf.append(f"validation rule {r.name}")
        stages = [s.stage.name for s in self.stages if f.id in s.stage.required_fields]
        if stages:
            hs.append("required on entering " + ", ".join(stages) + " (manual step)")
        if not f.in_hubspot:
            return "; ".join(sf) or "none", NOT_IN_HUBSPOT
        return "; ".join(sf) or "none", "; ".join(hs) or "none"


# ------------------------------------------------------------- building


def _sf_field_name(f: DataField) -> str:
    if f.names.salesforce:
        return f.names.salesforce
    if f.semantic in SF_STANDARD_BY_SEMANTIC:
        return SF_STANDARD_BY_SEMANTIC[f.semantic]
    return id_api_name(f.id) + "__c"


def _hs_field_name(f: DataField) -> str:
    if f.names.hubspot:
        return f.names.hubspot
    if f.semantic in HS_STANDARD_BY_SEMANTIC:
        return HS_STANDARD_BY_SEMANTIC[f.semantic]
    return hs_name(f.id)


NOT_IN_HUBSPOT = "not in HubSpot (health information)"


def in_hubspot(f: DataField) -> bool:
    """Whether HubSpot holds the field: health information only when the playbook names it there.

    HubSpot is the marketing-automation system; the playbook promises it holds no
    health information unless an author deliberately gives a PHI field a HubSpot name.
    """
    return not f.phi or bool(f.names.hubspot)


def _field_spec(f: DataField) -> FieldSpec:
    sf = _sf_field_name(f)
    hs = _hs_field_name(f)
    hs_type, hs_ft = HS_TYPES[f.type]
    return FieldSpec(
        field=f,
        sf_name=sf,
        sf_custom=sf.endswith("__c"),
        sf_type=SF_TYPES[f.type],
        sf_history=f.history_tracked or f.semantic in HISTORY_SEMANTICS,
        hs_name=hs,
        hs_custom=not (hs in HS_STANDARD_NAMES or hs.startswith("hs_")),
        hs_type=hs_type,
        hs_field_type=hs_ft,
        in_hubspot=in_hubspot(f),
    )


def _check_unique(kind: str, names: list[tuple[str, str]]) -> None:
    """Salesforce API names are case-insensitive: two entities must not share one."""
    seen: dict[str, str] = {}
    for owner, name in names:
        key = name.lower()
        if key in seen and seen[key] != owner:
            raise UsageError(
                f"export: {kind} {seen[key]!r} and {owner!r} both map to the CRM name {name!r}; "
                "give one of them an explicit CRM name in the playbook"
            )
        seen[key] = owner


def _blank_test(f: FieldSpec) -> str:
    """A formula that is true when the field is empty (checkbox: not ticked)."""
    if f.sf_type == "Checkbox":
        return f"NOT({f.sf_name})"
    if f.sf_type == "Picklist" or f.sf_name == SF_SOURCE_FIELD:
        return f"ISBLANK(TEXT({f.sf_name}))"
    return f"ISBLANK({f.sf_name})"


def _stage_test(values: list[str]) -> str:
    tests = [f"ISPICKVAL({SF_STAGE_FIELD}, {formula_string(v)})" for v in values]
    return tests[0] if len(tests) == 1 else "OR(" + ", ".join(tests) + ")"


def _later_stages(model: Playbook, start: str) -> list[str]:
    """`start` and every stage reachable from it by transitions, in document order."""
    by_id = model.by_id("stages")
    seen = {start}
    todo = [start]
    while todo:
        s = by_id.get(todo.pop())
        for t in s.transitions if s else []:
            if t.to not in seen:
                seen.add(t.to)
                todo.append(t.to)
    return [s for s in model.stage_order() if s in seen]


def _validation_rules(model: Playbook, fields: dict[str, FieldSpec], stages: list[StageSpec]) -> list[RuleSpec]:
    rules: list[RuleSpec] = []
    for st in stages:
        s = st.stage
        req = [fields[r] for r in s.required_fields if r in fields]
        if req:
            blanks = [_blank_test(f) for f in req]
            labels = ", ".join(f.field.label for f in req)
            rules.append(RuleSpec(
                name=api_name(f"Stage_{s.id}_requires_fields"),
                description=f"Playbook: a lead entering stage '{s.name}' must have {labels}.",
                formula=f"AND({_stage_test([st.sf_value])}, " + (
                    blanks[0] if len(blanks) == 1 else "OR(" + ", ".join(blanks) + ")") + ")",
                message=f"Before a lead enters stage '{s.name}', fill in: {labels}.",
                display_field=req[0].sf_name if len(req) == 1 and req[0].sf_custom else None,
                stage_ids=(s.id,),
                field_ids=tuple(f.id for f in req),
            ))
    note = next((f for f in fields.values() if f.field.semantic == "reason_note"), None)
    reason = next((f for f in fields.values() if f.field.semantic == "closure_reason"), None)
    closed = [st for st in stages if st.stage.closed]
    if reason is not None and closed:
        rules.append(RuleSpec(
            name=api_name("Closure_reason_required"),
            description="Playbook: every closed lead records its closure reason.",
            formula=f"AND({_stage_test([st.sf_value for st in closed])}, {_blank_test(reason)})",
            message=f"A closed lead needs a {reason.field.label}.",
            display_field=reason.sf_name if reason.sf_custom else None,
            stage_ids=tuple(st.id for st in closed),
            field_ids=(reason.id,),
        ))
    if note is not None:
        for st in stages:
            if st.stage.reason_note_required:
                rules.append(RuleSpec(
                    name=api_name(f"Stage_{st.id}_requires_note"),
                    description=f"Playbook: moving a lead to '{st.stage.name}' needs a short reason note.",
                    formula=f"AND({_stage_test([st.sf_value])}, {_blank_test(note)})",
                    message=f"Explain in {note.field.label} why the lead is '{st.stage.name}'.",
                    display_field=note.sf_name if note.sf_custom else None,
                    stage_ids=(st.id,),
                    field_ids=(note.id,),
                ))
        if reason is not None:
            valued = {v.value for v in reason.field.allowed_values}
            for cr in model.closure_reasons:
                if cr.requires_note and cr.id in valued:
                    rules.append(RuleSpec(
                        name=api_name(f"Reason_{cr.id}_requires_note"),
                        description=f"Playbook: closure reason '{cr.name}' needs a short reason note.",
                        formula=(f"AND(ISPICKVAL({reason.sf_name}, {formula_string(cr.id)}), "
                                 f"{_blank_test(note)})"),
                        message=f"Explain in {note.field.label} why the reason is '{cr.name}'.",
                        display_field=note.sf_name if note.sf_custom else None,
                        stage_ids=tuple(cr.stages),
                        field_ids=(reason.id, note.id),
                    ))
    return rules


def _sla_start(model: Playbook, sla: SLA, stages: dict[str, StageSpec],
               fields: dict[str, FieldSpec]) -> tuple[tuple[tuple[str, str, str], ...], str | None]:
    """Flow entry conditions for the SLA's start event, and the field holding its time if any."""
    ev = model.by_id("events").get(sla.start_event)
    sig = ev.signal if ev else None
    stage = None
    if sig and sig.kind == "stage_entered":
        stage = sig.stage
    elif sig and sig.kind == "appointment" and sig.appointment_stage and model.appointments:
        stage = next((a.lead_stage for a in model.appointments.stages if a.id == sig.appointment_stage), None)
    if stage in stages:
        return ((SF_STAGE_FIELD, "EqualTo", stages[stage].sf_value),), None
    if sig and sig.kind == "field_set" and sig.field in fields:
        f = fields[sig.field]
        if f.field.semantic == "created_at":
            return (), None  # the record's creation starts the clock
        timed = f.field.type in ("date", "datetime")
        return ((f.sf_name, "IsNull", "false"),), (f.sf_name if timed else None)
    if sig and sig.kind == "activity":
        return (("LastActivityDate", "IsNull", "false"),), None
    return (), None


def _sla_stop(model: Playbook, sla: SLA) -> str:
    ev = model.by_id("events").get(sla.stop_event)
    return ev.name if ev else sla.stop_event


def _sla_open_while(model: Playbook, sla: SLA, stages: dict[str, StageSpec],
                    fields: dict[str, FieldSpec]) -> tuple[tuple[str, str, str], ...]:
    """Conditions on the lead that mean the SLA's stop event has not happened yet."""
    ev = model.by_id("events").get(sla.stop_event)
    sig = ev.signal if ev else None
    stage = None
    if sig and sig.kind == "stage_entered":
        stage = sig.stage
    elif sig and sig.kind == "appointment" and model.appointments:
        stage = next((a.lead_stage for a in model.appointments.stages if a.id == sig.appointment_stage), None)
    if stage in stages:
        return tuple((SF_STAGE_FIELD, "NotEqualTo", stages[s].sf_value) for s in _later_stages(model, stage))
    if sig and sig.kind == "field_set" and sig.field in fields:
        return ((fields[sig.field].sf_name, "IsNull", "true"),)
    if sig and sig.kind == "activity":
        # Lead.LastActivityDate is set by Salesforce when any task or event is logged.
        return (("LastActivityDate", "IsNull", "true"),)
    return ()


_SF_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*(__c)?$")
_HS_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_names(fields: list[FieldSpec]) -> None:
    """Explicit CRM names from the playbook must be names the CRM accepts (they become file names too)."""
    bad = []
    for f in fields:
        if not _SF_FIELD_NAME.match(f.sf_name) or len(f.sf_name.removesuffix("__c")) > MAX_API_NAME:
            bad.append(f"field {f.id!r}: {f.sf_name!r} is not a Salesforce field API name")
        if f.in_hubspot and not _HS_NAME.match(f.hs_name):
            bad.append(f"field {f.id!r}: {f.hs_name!r} is not a HubSpot property name (lowercase, digits, _)")
    if bad:
        raise UsageError("export: " + "; ".join(bad))


def build_spec(model: Playbook) -> CrmSpec:
    """Compute every CRM name and rule from a validated playbook."""
    lead_fields = [_field_spec(f) for f in model.fields if f.record == "lead"]
    _check_names(lead_fields)
    _check_unique("field", [(f.id, f.sf_name) for f in lead_fields])
    _check_unique("field", [(f.id, f.hs_name) for f in lead_fields if f.in_hubspot])
    fields = {f.id: f for f in lead_fields}

    stages: list[StageSpec] = []
    for i, s in enumerate(model.stages):
        value = s.crm_value or s.name
        stages.append(StageSpec(s, value, s.name, hs_name(s.id), s.name, i))
    _check_unique("stage", [(s.id, s.sf_value) for s in stages])
    _check_unique("stage", [(s.id, s.hs_label) for s in stages])  # HubSpot wants unique stage labels
    stage_by_id = {s.id: s for s in stages}

    queues: list[QueueSpec] = []
    queue_field = next((f for f in lead_fields if f.field.semantic == "queue"), None)
    queue_values = ({v.value for v in queue_field.field.allowed_values}
                    if queue_field and queue_field.in_hubspot else set())
    routing = model.routing
    for q in routing.queues if routing else []:
        positions = tuple(i + 1 for i, r in enumerate(routing.rules) if r.queue == q.id)
        sf_name = api_name(q.crm_name) if q.crm_name else id_api_name(q.id)
        queues.append(QueueSpec(
            queue=q,
            sf_name=sf_name,
            sf_label=q.name,
            # The queue field may hold queue ids or CRM queue names: use whichever it lists.
            hs_value=next((v for v in (q.id, q.crm_name, sf_name) if v and v in queue_values), None),
            rule_positions=positions,
            fallback=routing.fallback.queue == q.id,
        ))
    _check_unique("queue", [(q.id, q.sf_name) for q in queues])

    slas = [
        SlaSpec(sla, api_name(f"Playbook_SLA_{sla.id}"), *_sla_start(model, sla, stage_by_id, fields),
                _sla_stop(model, sla), _sla_open_while(model, sla, stage_by_id, fields))
        for sla in model.slas
    ]
    _check_unique("SLA", [(s.id, s.sf_flow) for s in slas])

    matches: list[MatchSpec] = []
    for rule in sorted(model.matching.rules, key=lambda r: (r.order, r.id)):
        matches.append(MatchSpec(
            rule=rule,
            sf_matching_rule=api_name(f"Playbook_match_{rule.id}"),
            sf_duplicate_rule=api_name(f"Playbook_duplicates_{rule.id}"),
            fields=tuple(fields[f] for f in rule.match_on if f in fields),
        ))

    rules = _validation_rules(model, fields, stages)
    _check_unique("validation rule", [(r.description, r.name) for r in rules])

    sources: list[tuple[str, str]] = []
    for src in model.sources:
        value = src.crm_value or src.name
        if value not in [v for v, _ in sources]:
            sources.append((value, src.name))

    pid = model.playbook.id
    return CrmSpec(
        model=model,
        fields=lead_fields,
        stages=stages,
        queues=queues,
        slas=slas,
        matches=matches,
        rules=rules,
        lead_sources=sources,
        assignment_rule=api_name(f"Playbook_routing_{pid}"),
        path_assistant=api_name(f"Playbook_path_{pid}"),
        hs_group=hs_name(f"playbook_{pid}"),
        hs_group_label=f"Playbook: {model.playbook.title}"[:100],
        hs_pipeline_id=hs_name(f"playbook_{pid}"),
        hs_pipeline_label=model.playbook.title,
    )


def business_offset(d: Duration) -> tuple[int, str]:
    """A wall-clock (offsetNumber, offsetUnit) for a flow scheduled path.

    Scheduled paths have no business calendar, so a business duration is
    approximated on the wall clock; conformance measures the real one.
    """
    unit = {"minutes": "Minutes", "hours": "Hours", "days": "Days"}[d.unit]
    return d.amount, unit


def add_durations(a: Duration, b: Duration) -> Duration:
    """The sum of two durations in the smaller unit (business if either is)."""
    minutes = {"minutes": 1, "hours": 60, "days": 1440}
    if a.unit == b.unit:
        return Duration(amount=a.amount + b.amount, unit=a.unit, business=a.business or b.business)
    total = a.amount * minutes[a.unit] + b.amount * minutes[b.unit]
    unit = min((a.unit, b.unit), key=lambda u: minutes[u])
    return Duration(amount=total // minutes[unit], unit=unit, business=a.business or b.business)


__all__ = [
    "CrmSpec", "FieldSpec", "StageSpec", "QueueSpec", "SlaSpec", "MatchSpec", "RuleSpec",
    "build_spec", "in_hubspot", "NOT_IN_HUBSPOT", "api_name", "hs_name", "formula_string", "business_offset", "add_durations",
]
