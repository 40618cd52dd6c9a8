"""The typed model of a lead-management playbook.

This module is the contract every other part compiles from. It does no I/O:
the loader turns YAML into plain data, `Playbook.model_validate` turns that data
into this model, and the validator checks the cross-references the schema
cannot express. Ids are slugs; references are by id.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

SLUG_PATTERN = r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$"

Id = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
"""A slug id: lowercase letters, digits, single `-` or `_` separators."""

Ref = Id
"""A reference to another entity, by its id (checked by the validator)."""

Text = Annotated[str, StringConstraints(max_length=4000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
HHMM = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def _iso_date(value: Any) -> Any:
    # YAML may give a date already; quoted dates arrive as text.
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from exc
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class Strict(BaseModel):
    """Base for every model: unknown keys are errors, no silent coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# ---------------------------------------------------------------- durations

DurationUnit = Literal["minutes", "hours", "days"]

_DURATION_RE = re.compile(
    r"^\s*(?P<amount>\d+)\s+(?P<business>business\s+)?(?P<unit>minute|hour|day)s?\s*$"
)


class Duration(Strict):
    """An amount of time, on the business calendar or on the wall clock.

    Written in YAML as text: `4 business hours`, `2 business days`, `30 minutes`.
    """

    amount: Annotated[int, Field(ge=0)]
    unit: DurationUnit
    business: bool = False

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            m = _DURATION_RE.match(value)
            if not m:
                raise ValueError(
                    f"expected a duration like '4 business hours' or '30 minutes', got {value!r}"
                )
            return {
                "amount": int(m["amount"]),
                "unit": m["unit"] + "s",
                "business": bool(m["business"]),
            }
        return value

    def __str__(self) -> str:
        unit = self.unit if self.amount != 1 else self.unit[:-1]
        return f"{self.amount} {'business ' if self.business else ''}{unit}"

    def seconds(self, business_day_hours: float = 24.0) -> int:
        """Length in seconds; business days count `business_day_hours` each."""
        if self.unit == "minutes":
            return self.amount * 60
        if self.unit == "hours":
            return self.amount * 3600
        per_day = business_day_hours if self.business else 24.0
        return int(self.amount * per_day * 3600)


# ----------------------------------------------------------------- metadata


class Scope(Strict):
    """Where the process starts and where it ends, as event ids."""

    start_events: list[Ref] = Field(min_length=1)
    end_events: list[Ref] = Field(min_length=1)
    description: Text = ""


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class OpeningHours(Strict):
    days: list[Weekday] = Field(min_length=1)
    open: HHMM
    close: HHMM


class Holiday(Strict):
    date: IsoDate
    name: Name


class Holidays(Strict):
    """Public holidays from the `holidays` package plus the network's own closures."""

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    subdivision: str | None = None
    observed: list[str] = Field(
        default_factory=list,
        description="Names of public holidays the network closes for; empty means all.",
    )
    extra: list[Holiday] = Field(default_factory=list)


class Calendar(Strict):
    """Business calendar that every business-time SLA is measured on."""

    time_zone: str
    hours: list[OpeningHours] = Field(min_length=1)
    holidays: Holidays = Field(default_factory=Holidays)


class PlaybookMeta(Strict):
    id: Id
    title: Name
    version: str
    effective: IsoDate
    description: Text = ""
    owner: Ref = Field(description="Role id accountable for the playbook as a whole.")
    scope: Scope
    calendar: Calendar
    approvers: dict[str, list[Ref]] = Field(
        default_factory=dict,
        description="Section name -> person ids who may approve changes to it; `default` covers the rest.",
    )
    require_signed_commits: bool = False


class Person(Strict):
    """Someone who approves changes; ids appear in `Approved-by` trailers by email."""

    id: Id
    name: Name
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")]
    github: str | None = None
    role: Ref | None = None


# ------------------------------------------------------- people and systems


class Lane(Strict):
    """A swim lane: a team that owns steps. Order is the top-to-bottom order."""

    id: Id
    name: Name
    description: Text = ""


class Role(Strict):
    id: Id
    name: Name
    lane: Ref
    description: Text = ""
    responsibilities: list[Text] = Field(default_factory=list)
    decisions: list[Text] = Field(default_factory=list)


SystemKind = Literal[
    "crm",
    "marketing_automation",
    "call_tracking",
    "web_forms",
    "email",
    "sms",
    "scheduling",
    "ehr",
    "data_warehouse",
    "other",
]


class System(Strict):
    id: Id
    name: Name
    kind: SystemKind
    description: Text = ""


# ------------------------------------------------------------ data dictionary

FieldType = Literal[
    "string",
    "text",
    "email",
    "phone",
    "enum",
    "multi_enum",
    "boolean",
    "integer",
    "number",
    "date",
    "datetime",
    "url",
    "reference",
]

RecordKind = Literal["lead", "activity", "appointment", "stage_history"]

Semantic = Literal[
    "record_id",
    "lead_ref",
    "created_at",
    "stage",
    "status",
    "owner",
    "queue",
    "closure_reason",
    "reason_note",
    "consent",
    "do_not_contact",
    "email",
    "phone",
    "first_name",
    "last_name",
    "location",
    "specialty",
    "region",
    "source",
    "score",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "attribution",
    "duplicate_flag",
    "duplicate_of",
    "activity_type",
    "occurred_at",
    "call_outcome",
    "next_follow_up",
    "escalated_at",
    "appointment_stage",
    "appointment_at",
    "from_stage",
    "to_stage",
    "changed_at",
    "changed_by",
]


class AllowedValue(Strict):
    value: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    label: Name
    description: Text = ""


class SystemNames(Strict):
    """A field's name in every system that holds it."""

    form: str | None = None
    salesforce: str | None = None
    hubspot: str | None = None
    call_tracking: str | None = None
    scheduling: str | None = None
    warehouse: str | None = Field(
        None, description="Column name in the conformance data contract; defaults to the field id."
    )


class DataField(Strict):
    """One entry in the data dictionary."""

    id: Id
    label: Name
    description: Text
    record: RecordKind = "lead"
    type: FieldType
    allowed_values: list[AllowedValue] = Field(default_factory=list)
    phi: bool = Field(False, description="Holds personal health information.")
    pii: bool = Field(False, description="Identifies a person (name, contact details).")
    semantic: Semantic | None = Field(
        None, description="What the field means to playbook checks (stage, consent, ...)."
    )
    names: SystemNames = Field(default_factory=SystemNames)
    history_tracked: bool = False
    help_text: Text = ""

    @property
    def values(self) -> list[str]:
        return [v.value for v in self.allowed_values]


# ------------------------------------------------------- sources and matching

Channel = Literal[
    "web_form",
    "landing_page",
    "gated_download",
    "event",
    "referral",
    "partner_portal",
    "inbound_call",
    "chat",
    "other",
]


class Source(Strict):
    id: Id
    name: Name
    channel: Channel
    capture_method: Text
    system: Ref
    entry_event: Ref
    initial_fields: list[Ref] = Field(default_factory=list)
    crm_value: str | None = Field(None, description="Lead source picklist value in the CRM.")
    description: Text = ""


Normalization = Literal["lowercase_trim", "digits_only", "e164", "none"]
MatchAction = Literal["update_existing", "create_flagged_duplicate", "merge"]


class MatchRule(Strict):
    id: Id
    name: Name
    match_on: list[Ref] = Field(min_length=1)
    normalize: dict[Ref, Normalization] = Field(default_factory=dict)
    action: MatchAction
    order: int = 0
    description: Text = ""


MergeRuleKind = Literal["newest_wins", "oldest_wins", "non_empty_wins", "source_priority", "never_overwrite"]


class MergeFieldRule(Strict):
    field: Ref
    rule: MergeRuleKind
    note: Text = ""


class Matching(Strict):
    rules: list[MatchRule] = Field(default_factory=list)
    merge_default: MergeRuleKind = "newest_wins"
    merge_fields: list[MergeFieldRule] = Field(default_factory=list)
    description: Text = ""


# ------------------------------------------------------------- events, stages


EventSignalKind = Literal["field_set", "stage_entered", "activity", "appointment"]


class EventSignal(Strict):
    """How the event is observed in CRM data, so SLAs and stages can be checked."""

    kind: EventSignalKind
    field: Ref | None = None
    stage: Ref | None = None
    activity_types: list[str] = Field(default_factory=list)
    appointment_stage: Ref | None = None


class Event(Strict):
    """An observable event: something a system records, not an opinion."""

    id: Id
    name: Name
    description: Text = ""
    system: Ref | None = None
    signal: EventSignal | None = None


class Transition(Strict):
    to: Ref
    owner: Ref | None = Field(None, description="Role that makes this stage change.")
    condition: Text = ""
    closure_reason: Ref | None = Field(None, description="Closure reason this stage change records.")


class Stage(Strict):
    id: Id
    name: Name
    description: Text = ""
    entry_event: Ref
    owner: Ref | None = None
    required_fields: list[Ref] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    terminal: bool = False
    closed: bool = False
    converted: bool = False
    initial: bool = False
    reason_note_required: bool = False
    crm_value: str | None = None
    guidance: Text = ""
    key_fields: list[Ref] = Field(default_factory=list)


class Status(Strict):
    id: Id
    name: Name
    description: Text
    stages: list[Ref] = Field(default_factory=list)
    rule: Text = ""


class ClosureReason(Strict):
    id: Id
    name: Name
    description: Text = ""
    stages: list[Ref] = Field(default_factory=list, description="Closed stages this reason applies to.")
    requires_note: bool = False
    decided_by: Ref | None = Field(None, description="Role that decides this reason applies.")


# ---------------------------------------------------- qualification, scoring

CriterionKind = Literal["fit", "intent"]


class Criterion(Strict):
    id: Id
    name: Name
    kind: CriterionKind
    description: Text
    fields: list[Ref] = Field(default_factory=list)


class ManualReview(Strict):
    id: Id
    name: Name
    role: Ref
    trigger: Text
    criteria: list[Text] = Field(min_length=1)
    outcomes: list[Text] = Field(min_length=1)


class Qualification(Strict):
    criteria: list[Criterion] = Field(default_factory=list)
    manual_reviews: list[ManualReview] = Field(default_factory=list)


ConditionOp = Literal["equals", "in", "not_in", "is_set", "is_not_set", "gte", "lte"]


class Condition(Strict):
    field: Ref
    op: ConditionOp
    value: str | int | float | bool | list[str] | None = None


class ScoringRule(Strict):
    id: Id
    name: Name
    kind: CriterionKind
    when: Condition
    points: int
    meaning: Text = Field(description="The agreed business meaning of these points.")


class ScoreBand(Strict):
    id: Id
    name: Name
    min: int
    max: int
    status: Ref | None = None
    meaning: Text = ""


class Scoring(Strict):
    score_field: Ref
    rules: list[ScoringRule] = Field(default_factory=list)
    bands: list[ScoreBand] = Field(default_factory=list)
    change_testing: Text = Field("", description="How the impact of a scoring change is tested.")


# ---------------------------------------------------------- routing, queues


class RoutingTrigger(Strict):
    id: Id
    name: Name
    event: Ref
    description: Text = ""


class Queue(Strict):
    id: Id
    name: Name
    lane: Ref
    owner: Ref
    description: Text = ""
    capacity: int | None = Field(None, ge=1, description="Open leads per agent before the queue counts as full.")
    crm_name: str | None = None


class RoutingMatch(Strict):
    specialty: list[str] = Field(default_factory=list, description="Empty means any.")
    region: list[str] = Field(default_factory=list, description="Empty means any.")
    min_score: int | None = None


class RoutingRule(Strict):
    id: Id
    name: Name
    when: RoutingMatch
    queue: Ref
    description: Text = ""

    def conditions(self, routing: "Routing", score_field: str | None) -> tuple["RouteCondition", ...]:
        """What a lead must hold for this rule to match, in a fixed order (specialty, region, score)."""
        out = []
        if self.when.specialty:
            out.append(RouteCondition(routing.specialty_field, "in", tuple(self.when.specialty)))
        if self.when.region:
            out.append(RouteCondition(routing.region_field, "in", tuple(self.when.region)))
        if self.when.min_score is not None:
            # Without a score field no lead can reach the minimum: the rule never matches.
            out.append(RouteCondition(score_field, ">=", (self.when.min_score,)))
        return tuple(out)


class Fallback(Strict):
    queue: Ref
    when_full: Text
    when_no_owner: Text


@dataclass(frozen=True)
class RouteCondition:
    """One test of a routing rule: `field in values`, or `field >= values[0]` for a minimum score.

    `field` is None for a minimum score when the playbook has no score field; such a test never holds.
    A NULL (missing) value never satisfies a test.
    """

    field: str | None
    op: Literal["in", ">="]
    values: tuple

    def holds(self, values: dict[str, Any]) -> bool:
        v = values.get(self.field) if self.field else None
        if v is None:
            return False
        if self.op == "in":
            return v in self.values
        try:
            return v >= self.values[0]
        except TypeError:  # a non-numeric score never reaches a minimum
            return False


@dataclass(frozen=True)
class RouteEntry:
    """One entry of the routing order: a rule (its 1-based position, id, conditions) or the fallback."""

    position: int
    rule: str | None  # None for the fallback entry, which is always last and has no conditions
    queue: str
    conditions: tuple[RouteCondition, ...]

    @property
    def fallback(self) -> bool:
        return self.rule is None


# Routing: rules evaluated in order, the first whose conditions all hold wins, else the fallback.
# `order()` is the one description of that order (the check IR, exports and pages render it);
# `resolve()` applies it to one lead's values (the demo generator, what-if and validation use it).
# (A comment, not a docstring: a class docstring becomes the JSON schema's description.)
class Routing(Strict):

    specialty_field: Ref
    region_field: Ref
    triggers: list[RoutingTrigger] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    rules: list[RoutingRule] = Field(default_factory=list, description="Evaluated in order; first match wins.")
    fallback: Fallback

    def order(self, score_field: str | None = None) -> tuple[RouteEntry, ...]:
        """Every rule in evaluation order with its conditions, then the fallback (no conditions).

        `score_field` is the field a `min_score` compares (see `Playbook.score_field()`).
        """
        out = [RouteEntry(position=i, rule=r.id, queue=r.queue, conditions=r.conditions(self, score_field))
               for i, r in enumerate(self.rules, start=1)]
        out.append(RouteEntry(position=len(out) + 1, rule=None, queue=self.fallback.queue, conditions=()))
        return tuple(out)

    def first_match(self, values: dict[str, Any], score_field: str | None = None) -> RoutingRule | None:
        """The first rule whose conditions all hold for `values` (field id -> value), else None."""
        for r in self.rules:
            if all(c.holds(values) for c in r.conditions(self, score_field)):
                return r
        return None

    def resolve(self, values: dict[str, Any], score_field: str | None = None) -> str:
        """The queue id a lead with `values` (field id -> value) is routed to: first match, else fallback."""
        r = self.first_match(values, score_field)
        return r.queue if r else self.fallback.queue


# ------------------------------------------------------------------- SLAs


class Escalation(Strict):
    after: Duration = Field(description="Time past the deadline before this level fires.")
    notify: Ref
    action: Text


class SLA(Strict):
    id: Id
    name: Name
    description: Text = ""
    start_event: Ref
    stop_event: Ref
    within: Duration
    applies_to_stages: list[Ref] = Field(default_factory=list)
    owner: Ref
    tracking: Text = ""
    escalations: list[Escalation] = Field(default_factory=list)


# --------------------------------------------------------------- outreach

ActivityKind = Literal["call", "email", "sms", "voicemail", "letter", "portal_message"]
TemplateKind = Literal["call_script", "email", "sms", "voicemail"]


class OutreachStep(Strict):
    day: int = Field(ge=0, description="Business day of the sequence, 0 = same day.")
    activity: ActivityKind
    template: Ref | None = None
    note: Text = ""


class OutreachSequence(Strict):
    id: Id
    name: Name
    stage: Ref
    owner: Ref
    description: Text = ""
    steps: list[OutreachStep] = Field(min_length=1)
    exit_when: Text = ""


class Template(Strict):
    id: Id
    name: Name
    kind: TemplateKind
    approved: bool = False
    approved_by: Ref | None = None
    approved_on: IsoDate | None = None
    purpose: Text = ""
    merge_fields: list[Ref] = Field(default_factory=list)
    body: Text = ""


class DoNotContactRule(Strict):
    id: Id
    name: Name
    description: Text
    field: Ref | None = None


class Consent(Strict):
    consent_field: Ref
    do_not_contact_field: Ref
    channels_requiring_consent: list[ActivityKind] = Field(default_factory=list)
    contact_hours: Text = ""
    privacy_preferences: list[Text] = Field(default_factory=list)
    do_not_contact: list[DoNotContactRule] = Field(default_factory=list)
    collection_limits: list[Text] = Field(
        default_factory=list, description="What information may be collected at which step."
    )


class SensitiveTopic(Strict):
    id: Id
    name: Name
    examples: list[Text] = Field(default_factory=list)
    escalate_to: Ref
    action: Text


class LoggingRequirement(Strict):
    id: Id
    name: Name
    activity: ActivityKind
    required_fields: list[Ref] = Field(min_length=1)
    description: Text = ""


class Handoff(Strict):
    id: Id
    name: Name
    from_role: Ref
    to_role: Ref
    at_stage: Ref
    passed: list[Ref] = Field(default_factory=list)
    withheld: list[Ref] = Field(default_factory=list)
    withheld_reason: Text = ""
    checklist: list[Text] = Field(min_length=1)


# ------------------------------------------------- appointments and outcomes


class AppointmentStage(Strict):
    id: Id
    name: Name
    owner: Ref
    event: Ref
    description: Text = ""
    system: Ref | None = None
    lead_stage: Ref | None = Field(None, description="Lead stage a lead must be in (or past) once here.")


class Appointments(Strict):
    booked_definition: Text
    started_care_definition: Text
    stages: list[AppointmentStage] = Field(min_length=1)
    intake_steps: list[Text] = Field(default_factory=list)
    delay_escalation: Text = ""


class Outcome(Strict):
    id: Id
    name: Name
    evidence: Text
    stage: Ref
    closure_reason: Ref | None = None


class Outcomes(Strict):
    items: list[Outcome] = Field(default_factory=list)
    missing_outcome_policy: Text


# -------------------------------------------------------- measurement

MetricUnit = Literal["count", "percent", "hours", "business_hours", "days", "currency", "ratio"]


class Metric(Strict):
    id: Id
    name: Name
    description: Text
    formula: Text = Field(description="Calculation on CRM fields.")
    fields: list[Ref] = Field(default_factory=list)
    stage: Ref | None = None
    unit: MetricUnit = "count"
    owner: Ref


AttributionModel = Literal["first_touch", "last_touch", "multi_touch"]


class Attribution(Strict):
    model: AttributionModel
    field: Ref
    set_by: Text
    utm_fields: list[Ref] = Field(default_factory=list)
    missing_utm: Text
    missing_utm_value: str
    unknown_source: Text


class ReportingCadence(Strict):
    id: Id
    name: Name
    frequency: Literal["daily", "weekly", "biweekly", "monthly", "quarterly"]
    owner: Ref
    audience: list[Ref] = Field(default_factory=list)
    agenda: list[Text] = Field(default_factory=list)
    dashboards: list[Text] = Field(default_factory=list)


class QualityCheck(Strict):
    id: Id
    name: Name
    description: Text
    run_by: Literal["automation", "ops"]
    owner: Ref
    frequency: Literal["realtime", "daily", "weekly", "monthly"]
    conformance_rules: list[str] = Field(default_factory=list)


class ExceptionCase(Strict):
    id: Id
    name: Name
    description: Text
    handling: Text
    approver: Ref
    owner: Ref


class Experiment(Strict):
    id: Id
    name: Name
    area: Literal["routing", "qualification", "scoring", "nurture", "outreach"]
    owner: Ref
    hypothesis: Text
    test_plan: Text
    success_criteria: list[Text] = Field(min_length=1)
    rollback: Text
    status: Literal["proposed", "running", "adopted", "rolled_back", "abandoned"]
    started: IsoDate | None = None
    ended: IsoDate | None = None
    result: Text = ""


class RuleThreshold(Strict):
    rule: str
    max_rate: float | None = Field(None, ge=0, le=1)
    max_violations: int | None = Field(None, ge=0)
    note: Text = ""


class ConformanceSettings(Strict):
    thresholds: list[RuleThreshold] = Field(default_factory=list)


# ----------------------------------------------------------- life-cycle steps

Phase = Literal["capture", "enrichment", "qualification", "routing", "outreach", "booking", "closure"]


class DecisionOutcome(Strict):
    when: Text
    next_step: Ref | None = None
    stage: Ref | None = None


class Decision(Strict):
    id: Id
    question: Text
    owner: Ref | None = None
    outcomes: list[DecisionOutcome] = Field(min_length=2)


class Step(Strict):
    """One step of the life cycle. Every step uses this one template."""

    id: Id
    name: Name
    phase: Phase
    purpose: Text
    lane: Ref
    owner: Ref
    trigger: Ref = Field(description="Event id that starts the step.")
    inputs: list[Ref] = Field(default_factory=list)
    actions: list[Text] = Field(min_length=1)
    decisions: list[Decision] = Field(default_factory=list)
    outputs: list[Ref] = Field(default_factory=list)
    stage_changes: list[Ref] = Field(default_factory=list)
    systems: list[Ref] = Field(default_factory=list)
    sla: Ref | None = None
    logging: list[Ref] = Field(default_factory=list)
    handoff: Ref | None = None
    exceptions: list[Ref] = Field(default_factory=list)
    metrics: list[Ref] = Field(default_factory=list)
    templates: list[Ref] = Field(default_factory=list)
    next: list[Ref] = Field(default_factory=list)


# --------------------------------------------------------------- the whole


SECTIONS: tuple[str, ...] = (
    "playbook",
    "people",
    "lanes",
    "roles",
    "systems",
    "events",
    "fields",
    "sources",
    "matching",
    "stages",
    "statuses",
    "closure_reasons",
    "qualification",
    "scoring",
    "routing",
    "slas",
    "outreach",
    "templates",
    "consent",
    "sensitive_topics",
    "logging",
    "handoffs",
    "appointments",
    "outcomes",
    "metrics",
    "attribution",
    "reporting",
    "quality_checks",
    "exceptions",
    "experiments",
    "conformance",
    "steps",
)
"""Top-level sections in document order. List sections merge across files."""


class Playbook(Strict):
    """A whole playbook: the merge of every YAML file in its folder."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        json_schema_extra={"$id": "https://playbook.dev/schema/playbook.json"},
    )

    playbook: PlaybookMeta
    people: list[Person] = Field(default_factory=list)
    lanes: list[Lane] = Field(min_length=1)
    roles: list[Role] = Field(min_length=1)
    systems: list[System] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    fields: list[DataField] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    matching: Matching = Field(default_factory=Matching)
    stages: list[Stage] = Field(min_length=1)
    statuses: list[Status] = Field(default_factory=list)
    closure_reasons: list[ClosureReason] = Field(default_factory=list)
    qualification: Qualification = Field(default_factory=Qualification)
    scoring: Scoring | None = None
    routing: Routing | None = None
    slas: list[SLA] = Field(default_factory=list)
    outreach: list[OutreachSequence] = Field(default_factory=list)
    templates: list[Template] = Field(default_factory=list)
    consent: Consent | None = None
    sensitive_topics: list[SensitiveTopic] = Field(default_factory=list)
    logging: list[LoggingRequirement] = Field(default_factory=list)
    handoffs: list[Handoff] = Field(default_factory=list)
    appointments: Appointments | None = None
    outcomes: Outcomes | None = None
    metrics: list[Metric] = Field(default_factory=list)
    attribution: Attribution | None = None
    reporting: list[ReportingCadence] = Field(default_factory=list)
    quality_checks: list[QualityCheck] = Field(default_factory=list)
    exceptions: list[ExceptionCase] = Field(default_factory=list)
    experiments: list[Experiment] = Field(default_factory=list)
    conformance: ConformanceSettings = Field(default_factory=ConformanceSettings)
    steps: list[Step] = Field(min_length=1)

    # ---- pure look-ups used by every renderer; no I/O here.

    def by_id(self, section: str) -> dict[str, Any]:
        """Entities of a list section keyed by id (first wins on duplicates)."""
        items = getattr(self, section)
        out: dict[str, Any] = {}
        for item in items:
            out.setdefault(item.id, item)
        return out

    def field(self, field_id: str) -> DataField:
        return self.by_id("fields")[field_id]

    def field_by_semantic(self, semantic: str, record: str = "lead") -> DataField | None:
        """The data-dictionary field that carries a meaning, e.g. `consent`."""
        for f in self.fields:
            if f.semantic == semantic and f.record == record:
                return f
        return None

    def stage(self, stage_id: str) -> Stage:
        return self.by_id("stages")[stage_id]

    def score_field(self) -> str | None:
        """The lead field a routing rule's `min_score` compares: scoring's field, else the `score` field."""
        if self.scoring:
            return self.scoring.score_field
        f = self.field_by_semantic("score")
        return f.id if f else None

    def resolve_queue(self, values: dict[str, Any]) -> str | None:
        """The queue id routing picks for a lead's values (field id -> value); None without routing."""
        return self.routing.resolve(values, self.score_field()) if self.routing else None

    def stage_order(self) -> list[str]:
        """Stage ids in document order (the order staff see everywhere)."""
        return [s.id for s in self.stages]

    def approvers_for(self, section: str) -> list[str]:
        """Person ids allowed to approve a change to `section`."""
        a = self.playbook.approvers
        return list(a.get(section, a.get("default", [])))


# ------------------------------------------------------------------ prose

_PROSE = (Text, Name)


def _is_prose(annotation: Any, metadata: list) -> bool:
    """A field typed `Text` or `Name` (also inside `list[...]` or `... | None`)."""
    if any(list(get_args(alias)[1:]) == list(metadata) for alias in _PROSE):
        return True
    return any(arg in _PROSE or _is_prose(arg, []) for arg in get_args(annotation))


@functools.cache
def _kept_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model class that are not prose. Asked once per class: reading the type
    annotations is most of `without_prose`'s cost, and `serve` asks it on every rebuild."""
    return tuple(k for k, info in cls.model_fields.items() if not _is_prose(info.annotation, info.metadata))


def without_prose(value: Any) -> Any:
    """The model as plain data with every `Text` and `Name` field left out.

    What remains is what checks, exports and demo data are computed from; names, labels and
    descriptions are what people read. Caches of costly derived results (the site's demo
    conformance run) key on this, so editing a description does not recompute them."""
    if isinstance(value, BaseModel):
        return {k: without_prose(getattr(value, k)) for k in _kept_fields(type(value))}
    if isinstance(value, (list, tuple)):
        return [without_prose(v) for v in value]
    if isinstance(value, dict):
        return {str(k): without_prose(v) for k, v in value.items()}
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
