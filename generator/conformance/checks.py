"""The check IR: what the playbook says about CRM data, as small dataclasses.

Each check counts rows of one logical table: `applies` picks the rows the rule
is about (the denominator), `violates` the rows that break it (counted only
where `applies` holds). Predicates are a tiny expression language with no SQL
in it; `compile.py` turns them into sqlglot expressions per dialect. Values
compared against come from the model (stage values, allowed values, routing
rules), never from data.

Public API (stable; what-if and evidence build on it, keyed by rule id):

    from generator.conformance.checks import build_checks, not_checkable
    from generator.conformance.compile import compile_checks
    from generator.conformance.run import count_rules, run_checks
    from generator.conformance.sources import open_source

    checks = build_checks(model)                      # list[Check], sorted by Check.id
    sql = compile_checks(model, checks, "duckdb", as_of=t)   # Compiled: .queries[i].sql per table
    src = open_source("exports/")                     # or postgresql://..., spark, salesforce, hubspot
    try:
        counts = count_rules(model, src, as_of=t)     # {rule id: RuleCount(checked, violations, status)}
        result = run_checks(model, src, as_of=t)      # RunResult with titles, thresholds, not-checkable
    finally:
        src.close()

`as_of` is epoch seconds UTC (`run.parse_time("2026-03-01T12:00")`). Rule ids are
stable across revisions of a playbook as long as the entity they name keeps its
id, so two revisions' counts can be compared key by key; a rule present in only
one revision is new or gone. Not-checkable rules appear with status
`not_checkable` and zero counts. Routing, for a single lead's values, is
`model.resolve_queue(values)` (first matching rule, else the fallback).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Playbook
from .contract import Contract, build_contract

# ------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Expr:
    """Base of every IR expression."""


@dataclass(frozen=True)
class Col(Expr):
    """A data-dictionary field; on activity checks `lead=True` reads the activity's lead."""

    field: str
    lead: bool = False


@dataclass(frozen=True)
class Lit(Expr):
    value: object


@dataclass(frozen=True)
class Epoch(Expr):
    """A datetime field as integer epoch seconds UTC."""

    field: str
    lead: bool = False


@dataclass(frozen=True)
class AsOf(Expr):
    """The run's clock, epoch seconds (`--as-of`)."""


@dataclass(frozen=True)
class Entered(Expr):
    """True when the lead entered `stage` (a stage-history row into it, or it is the current stage)."""

    stage: str


@dataclass(frozen=True)
class EventTime(Expr):
    """Epoch of the first time the lead's data shows `event` (by its signal)."""

    event: str


@dataclass(frozen=True)
class EventHappened(Expr):
    """True when the lead's data shows `event`, even if only as a field value without a time."""

    event: str


@dataclass(frozen=True)
class HasAppointment(Expr):
    """True when the lead has an appointment record in appointment stage `stage`."""

    stage: str


@dataclass(frozen=True)
class DupRank(Expr):
    """1 for the earliest-created record of a matching-rule group, 2.. for the others."""

    rule: str


@dataclass(frozen=True)
class Elapsed(Expr):
    """Seconds from start to end, on the business calendar or the wall clock."""

    start: Expr
    end: Expr
    business: bool


@dataclass(frozen=True)
class Coalesce(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Pred(Expr):
    """Base of boolean expressions."""


@dataclass(frozen=True)
class Blank(Pred):
    """NULL, or empty/whitespace text."""

    of: Expr
    text: bool = True


@dataclass(frozen=True)
class IsNull(Pred):
    of: Expr


@dataclass(frozen=True)
class IsTrue(Pred):
    """True only when the value is TRUE (NULL counts as false)."""

    of: Expr


@dataclass(frozen=True)
class InValues(Pred):
    of: Expr
    values: tuple


@dataclass(frozen=True)
class Cmp(Pred):
    op: str  # "=", ">", ">=", "<", "<="
    left: Expr
    right: Expr


@dataclass(frozen=True)
class And(Pred):
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class Or(Pred):
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class Not(Pred):
    of: Pred


TRUE = Cmp("=", Lit(1), Lit(1))


def all_of(*items: Pred) -> Pred:
    """AND of the items (TRUE when empty)."""
    items = tuple(i for i in items if i is not TRUE)
    return items[0] if len(items) == 1 else (And(items) if items else TRUE)


def any_of(*items: Pred) -> Pred:
    """OR of the items (never true when empty)."""
    return items[0] if len(items) == 1 else (Or(tuple(items)) if items else Not(TRUE))


# ------------------------------------------------------------------ checks


@dataclass(frozen=True)
class Threshold:
    """Error budget: the rule passes when both limits hold (default: zero violations)."""

    max_violations: int | None = 0
    max_rate: float | None = None
    note: str = ""

    def passes(self, violations: int, checked: int) -> bool:
        """Whether `violations` out of `checked` stays within the budget."""
        if self.max_violations is not None and violations > self.max_violations:
            return False
        rate = violations / checked if checked else 0.0
        return not (self.max_rate is not None and rate > self.max_rate)

    def text(self) -> str:
        parts = []
        if self.max_violations is not None:
            parts.append(f"at most {self.max_violations}")
        if self.max_rate is not None:
            parts.append(f"at most {self.max_rate:.2%}")
        return " and ".join(parts) or "none"


@dataclass(frozen=True)
class Check:
    """One conformance rule: a stable id, business wording, and what it counts."""

    id: str
    title: str
    section: str  # playbook section it enforces, as "<section>" or "<section>.<entity id>"
    table: str  # logical table whose rows are counted
    applies: Pred
    violates: Pred
    counts: str  # how the rule counts, for the data contract
    threshold: Threshold = field(default_factory=Threshold)


# ------------------------------------------------------------------ building


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
    ("appointment", stage) or ("flag", (field id, stage id | None)) for a field with no time of its own."""
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
        return ("appointment", sig.appointment_stage)
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


def _thresholds(model: Playbook) -> dict[str, Threshold]:
    out = {}
    for t in model.conformance.thresholds:
        out[t.rule] = Threshold(
            max_violations=t.max_violations if (t.max_violations is not None or t.max_rate is None) else None,
            max_rate=t.max_rate,
            note=t.note,
        )
    return out


def _sem(contract: Contract, table: str, semantic: str) -> str | None:
    c = contract.by_semantic(table, semantic)
    return c.field_id if c else None


def build_checks(model: Playbook, contract: Contract | None = None) -> list[Check]:
    """Every check the model implies, in a stable order (by id)."""
    contract = contract or build_contract(model)
    checks: list[Check] = []
    add = checks.append
    lead_cols = {c.field_id for c in contract.table("leads").columns}
    stage_f = _sem(contract, "leads", "stage")

    # Required fields and reason notes for every stage a lead has entered.
    for s in model.stages:
        req = [f for f in s.required_fields if f in lead_cols]
        if req:
            add(Check(
                id=f"required-fields.{s.id}",
                title=f"Leads that reached “{s.name}” have its required fields",
                section=f"stages.{s.id}",
                table="leads",
                applies=Entered(s.id),
                violates=any_of(*(Blank(Col(f), text=_is_text(model, f)) for f in req)),
                counts="one per lead that entered the stage (stage history or current stage) "
                "with any required field empty",
            ))
    note_f = _sem(contract, "leads", "reason_note")
    if note_f:
        for s in model.stages:
            if s.reason_note_required:
                add(Check(
                    id=f"reason-note-present.{s.id}",
                    title=f"Leads moved to “{s.name}” carry a reason note",
                    section=f"stages.{s.id}",
                    table="leads",
                    applies=Entered(s.id),
                    violates=Blank(Col(note_f)),
                    counts="one per lead that entered the stage with an empty reason note",
                ))
    closed = [stage_value(model, s.id) for s in model.stages if s.closed]
    reason_f = _sem(contract, "leads", "closure_reason")
    if closed and reason_f and stage_f:
        add(Check(
            id="closure-reason-present",
            title="Closed leads record a closure reason",
            section="closure_reasons",
            table="leads",
            applies=InValues(Col(stage_f), tuple(closed)),
            violates=Blank(Col(reason_f)),
            counts="one per lead currently in a closed stage without a closure reason",
        ))
        needing = [r.id for r in model.closure_reasons if r.requires_note]
        if needing and note_f:
            add(Check(
                id="reason-note-present.closure",
                title="Closure reasons that need a note have one",
                section="closure_reasons",
                table="leads",
                applies=InValues(Col(reason_f), tuple(needing)),
                violates=Blank(Col(note_f)),
                counts="one per lead whose closure reason requires a note and whose note is empty",
            ))

    # Allowed values of every enumerated field.
    for table in contract.tables:
        for c in table.columns:
            f = model.field(c.field_id)
            if f.type != "enum":
                continue
            values = implied_values(model, f)
            if not values:
                continue
            add(Check(
                id=f"allowed-values.{f.id}",
                title=f"“{f.label}” holds only allowed values",
                section=f"fields.{f.id}",
                table=table.name,
                applies=Not(Blank(Col(f.id))),
                violates=Not(InValues(Col(f.id), tuple(values))),
                counts=f"one per {table.row} whose value is set and not one of the allowed values",
            ))

    # Stage changes only along allowed transitions.
    from_f = _sem(contract, "stage_history", "from_stage")
    to_f = _sem(contract, "stage_history", "to_stage")
    if from_f and to_f:
        allowed = [
            all_of(Cmp("=", Col(from_f), Lit(stage_value(model, s.id))),
                   Cmp("=", Col(to_f), Lit(stage_value(model, t.to))))
            for s in model.stages for t in s.transitions
        ]
        initial = [stage_value(model, s.id) for s in model.stages if s.initial]
        allowed.append(all_of(Blank(Col(from_f)), InValues(Col(to_f), tuple(initial))))
        add(Check(
            id="transition-allowed",
            title="Stages change only along the playbook's transitions",
            section="stages",
            table="stage_history",
            applies=TRUE,
            violates=Not(IsTrue(any_of(*allowed))),
            counts="one per stage-history row whose (from, to) pair is not an allowed transition; "
            "a row with no from-stage must enter an initial stage",
        ))

    # SLAs in business time; open clocks past the deadline are breaches at as_of.
    esc_f = _sem(contract, "leads", "escalated_at")
    skipped = dict(unmeasurable_slas(model))
    for sla in model.slas:
        if sla.id in skipped or any(_event_unseen(model, contract, ev) for ev in (sla.start_event, sla.stop_event)):
            continue  # listed by not_checkable()
        start = EventTime(sla.start_event)
        stop = EventTime(sla.stop_event)
        is_closed = InValues(Col(stage_f), tuple(closed)) if (stage_f and closed) else Not(TRUE)
        applies = all_of(
            Not(IsNull(start)),
            # a stop recorded only as a field value has no time: not measurable, so not checked
            any_of(Not(IsNull(stop)), all_of(Not(IsTrue(EventHappened(sla.stop_event))), Not(is_closed))),
            any_of(*(Entered(s) for s in sla.applies_to_stages)) if sla.applies_to_stages else TRUE,
        )
        end = Coalesce((stop, AsOf()))
        # The start is only read where it is set (see `applies`); written like an end, one event
        # used as one SLA's start and another's stop shares one business-time join.
        start_t = Coalesce((start, AsOf()))
        from .calendar import business_day_hours

        limit = sla.within.seconds(business_day_hours(model.playbook.calendar))
        breach = Cmp(">", Elapsed(start_t, end, sla.within.business), Lit(limit))
        add(Check(
            id=f"sla.{sla.id}",
            title=f"“{sla.name}” met within {sla.within}",
            section=f"slas.{sla.id}",
            table="leads",
            applies=applies,
            violates=breach,
            counts="one per lead whose start event happened and whose stop event came later than the "
            "limit (business time on the playbook calendar); a lead still open without the stop event "
            "counts once the limit has passed at as-of; closed leads without the stop event, and stops "
            "recorded only as a field value without a time, are not checked. An event's time is its "
            "timestamp field, else the first stage-history entry into the stage it is the entry event "
            "of, else the first activity or appointment that shows it",
        ))
        if sla.escalations and esc_f:
            add(Check(
                id=f"sla-escalated.{sla.id}",
                title=f"Every breach of “{sla.name}” was escalated",
                section=f"slas.{sla.id}",
                table="leads",
                applies=all_of(applies, breach),
                violates=Blank(Col(esc_f), text=False),
                counts="one per breach of the SLA with no escalation time recorded",
            ))

    # Duplicates under the matching rules.
    flag_f = _sem(contract, "leads", "duplicate_flag")
    of_f = _sem(contract, "leads", "duplicate_of")
    for rule in sorted(model.matching.rules, key=lambda r: (r.order, r.id)):
        if not all(f in lead_cols for f in rule.match_on):
            continue
        unflagged = all_of(
            Not(IsTrue(Col(flag_f))) if flag_f else TRUE,
            Blank(Col(of_f)) if of_f else TRUE,
        )
        add(Check(
            id=f"duplicates.{rule.id}",
            title=f"No unflagged duplicates by {rule.name.lower()}",
            section="matching",
            table="leads",
            applies=all_of(*(Not(Blank(Col(f))) for f in rule.match_on)),
            violates=all_of(Cmp(">", DupRank(rule.id), Lit(1)), unflagged),
            counts="groups by the normalised match fields; every record of a group except the "
            "earliest-created (ties: lowest record id) counts, unless it is flagged as a duplicate "
            "or merged into another record",
        ))

    # Attribution present and valid, with the missing-UTM rule.
    if model.attribution and model.attribution.field in lead_cols:
        a = model.attribution
        af = model.field(a.field)
        bad = [Blank(Col(a.field))]
        vals = implied_values(model, af) if af.type == "enum" else []
        if vals:
            bad.append(Not(InValues(Col(a.field), tuple(vals))))
        bad += [Blank(Col(u)) for u in a.utm_fields if u in lead_cols]
        add(Check(
            id="attribution-present",
            title="Every lead carries valid attribution",
            section="attribution",
            table="leads",
            applies=TRUE,
            violates=any_of(*bad),
            counts="one per lead whose attribution field is empty or not allowed, or with an empty UTM "
            f"field (missing tags must be recorded as “{a.missing_utm_value}”)",
        ))

    # Consent and do-not-contact, per outreach activity.
    type_f = _sem(contract, "activities", "activity_type")
    at_f = _sem(contract, "activities", "occurred_at")
    linked = _sem(contract, "activities", "lead_ref") is not None  # activity checks that read the lead
    timed_ok = lambda fid: at_f is not None or model.field(fid).type not in ("datetime", "date")  # noqa: E731
    if (model.consent and type_f and linked and model.consent.consent_field in lead_cols
            and timed_ok(model.consent.consent_field)):
        cons = model.field(model.consent.consent_field)
        chans = tuple(model.consent.channels_requiring_consent)
        if cons.type in ("datetime", "date"):
            no_consent = any_of(Blank(Col(cons.id, lead=True), text=False),
                                Cmp("<", Epoch(at_f), Epoch(cons.id, lead=True)))
        else:
            no_consent = Not(IsTrue(Col(cons.id, lead=True)))
        add(Check(
            id="outreach-before-consent",
            title="No outreach before the person consented",
            section="consent",
            table="activities",
            applies=InValues(Col(type_f), chans) if chans else TRUE,
            violates=no_consent,
            counts="one per outreach activity on a channel that requires consent where the lead had "
            "not consented (at the activity's time when consent is a timestamp)",
        ))
    if (model.consent and type_f and linked and model.consent.do_not_contact_field in lead_cols
            and timed_ok(model.consent.do_not_contact_field)):
        dnc = model.field(model.consent.do_not_contact_field)
        if dnc.type in ("datetime", "date"):
            blocked = all_of(Not(Blank(Col(dnc.id, lead=True), text=False)),
                             Cmp(">=", Epoch(at_f), Epoch(dnc.id, lead=True)))
        else:
            blocked = IsTrue(Col(dnc.id, lead=True))
        add(Check(
            id="outreach-do-not-contact",
            title="No outreach to people who asked not to be contacted",
            section="consent",
            table="activities",
            applies=TRUE,
            violates=blocked,
            counts="one per activity on a lead marked do-not-contact",
        ))

    # Required logging per activity kind.
    act_cols = {c.field_id for c in contract.table("activities").columns}
    by_kind: dict[str, list[str]] = {}
    for req in model.logging:
        for f in req.required_fields:
            if f in act_cols and f not in by_kind.setdefault(req.activity, []):
                by_kind[req.activity].append(f)
    if type_f:
        for kind, fields in sorted(by_kind.items()):
            if fields:
                add(Check(
                    id=f"{kind}-logging",
                    title=f"Every {kind.replace('_', ' ')} is logged with "
                    + ", ".join(model.field(f).label.lower() for f in fields),
                    section="logging",
                    table="activities",
                    applies=Cmp("=", Col(type_f), Lit(kind)),
                    violates=any_of(*(Blank(Col(f), text=_is_text(model, f)) for f in fields)),
                    counts=f"one per {kind} activity with any required logging field empty",
                ))

    # Owner/queue consistent with routing rules (first match wins, fallback allowed).
    queue_f = _sem(contract, "leads", "queue")
    if model.routing and queue_f:
        r = model.routing
        matches = []
        for entry in r.order(model.score_field())[:-1]:  # the rules; the fallback is the last entry
            matches.append((all_of(*(_route_test(c) for c in entry.conditions)), queue_value(model, entry.queue)))
        ok = [Cmp("=", Col(queue_f), Lit(queue_value(model, r.fallback.queue)))]
        for i, (m, q) in enumerate(matches):
            earlier = [Not(IsTrue(pm)) for pm, _ in matches[:i]]
            ok.append(all_of(IsTrue(m), *earlier, Cmp("=", Col(queue_f), Lit(q))))
        add(Check(
            id="routing-consistent",
            title="Leads sit in the queue the routing rules choose",
            section="routing",
            table="leads",
            applies=Not(Blank(Col(queue_f))),
            violates=Not(any_of(*ok)),
            counts="one per routed lead whose queue is neither the first matching rule's queue nor the "
            "fallback queue",
        ))

    # Appointment records imply the lead stage.
    if model.appointments:
        pairs = [(a.id, a.lead_stage) for a in model.appointments.stages if a.lead_stage]
        if pairs and not _no_fields(contract, "appointments", "lead_ref", "appointment_stage"):
            add(Check(
                id="appointment-stage-consistent",
                title="Leads with appointments are in the matching stage",
                section="appointments",
                table="leads",
                applies=any_of(*(HasAppointment(a) for a, _ in pairs)),
                violates=any_of(*(all_of(HasAppointment(a), Not(Entered(s))) for a, s in pairs)),
                counts="one per lead with an appointment record whose appointment stage requires a lead "
                "stage the lead never entered",
            ))

    th = _thresholds(model)
    out = []
    for c in sorted(checks, key=lambda c: c.id):
        out.append(Check(**{**c.__dict__, "threshold": th.get(c.id, Threshold())}))
    return out


def _route_test(c) -> Pred:
    """A routing condition (`RouteCondition`) as a predicate; NULL never satisfies it."""
    if c.field is None:
        return Not(TRUE)  # a minimum score without any score field: never holds
    if c.op == "in":
        return InValues(Col(c.field), c.values)
    return Cmp(">=", Col(c.field), Lit(c.values[0]))


def _is_text(model: Playbook, field_id: str) -> bool:
    return model.field(field_id).type in ("string", "text", "email", "phone", "enum", "url", "reference")


# ------------------------------------------------------------------ what cannot be checked


def _no_fields(contract: Contract, table: str, *semantics: str) -> str | None:
    """Why `table` cannot serve the semantics, or None when every one has a column."""
    if not contract.table(table).columns:
        return f"no {table} fields in the data dictionary"
    missing = [s for s in semantics if contract.by_semantic(table, s) is None]
    if missing:
        return f"no {table} field tagged {' or '.join(missing)} in the data dictionary"
    return None


_EVENT_NEEDS = {
    "stage": ("stage_history", ("lead_ref", "to_stage", "changed_at")),
    "flag": ("stage_history", ("lead_ref", "to_stage", "changed_at")),
    "activity": ("activities", ("lead_ref", "activity_type", "occurred_at")),
    "appointment": ("appointments", ("lead_ref", "appointment_stage", "appointment_at")),
}


def _event_unseen(model: Playbook, contract: Contract, event_id: str) -> str | None:
    src = event_source(model, event_id)
    if src is None or src[0] not in _EVENT_NEEDS:
        return None
    table, sems = _EVENT_NEEDS[src[0]]
    return _no_fields(contract, table, *sems)


@dataclass(frozen=True)
class Unchecked:
    """A rule the playbook asks for that its data dictionary gives no data for."""

    id: str
    title: str
    section: str
    reason: str  # e.g. "no stage_history fields in the data dictionary"


def not_checkable(model: Playbook, contract: Contract | None = None) -> list[Unchecked]:
    """Rules the playbook asks for but its data dictionary cannot support, by id; they get no
    check and every report lists them as "not checkable (reason)" instead of a silent gap."""
    contract = contract or build_contract(model)
    built = {c.id for c in build_checks(model, contract)}
    out: dict[str, Unchecked] = {}

    def add(rule_id: str, title: str, section: str, reason: str | None) -> None:
        if reason and rule_id not in built and rule_id not in out:
            out[rule_id] = Unchecked(rule_id, title, section, reason)

    if any(s.transitions for s in model.stages):
        add("transition-allowed", "Stages change only along the playbook's transitions", "stages",
            _no_fields(contract, "stage_history", "from_stage", "to_stage"))
    if model.appointments and any(a.lead_stage for a in model.appointments.stages):
        add("appointment-stage-consistent", "Leads with appointments are in the matching stage", "appointments",
            _no_fields(contract, "appointments", "lead_ref", "appointment_stage"))
    skipped = dict(unmeasurable_slas(model))
    for sla in model.slas:
        why = skipped.get(sla.id)
        for ev in (sla.start_event, sla.stop_event):
            why = why or _event_unseen(model, contract, ev)
        add(f"sla.{sla.id}", f"“{sla.name}” met within {sla.within}", f"slas.{sla.id}", why)
        if sla.escalations:
            add(f"sla-escalated.{sla.id}", f"Every breach of “{sla.name}” was escalated", f"slas.{sla.id}",
                why or _no_fields(contract, "leads", "escalated_at"))
    lead_cols = {c.field_id for c in contract.table("leads").columns}
    for rule in model.matching.rules:
        gone = [f for f in rule.match_on if f not in lead_cols]
        add(f"duplicates.{rule.id}", f"No unflagged duplicates by {rule.name.lower()}", "matching",
            f"its match fields ({', '.join(gone)}) are not lead fields in the data dictionary" if gone else None)
    if model.consent:
        def consent_gap(field_id: str | None, what: str) -> str | None:
            gap = _no_fields(contract, "activities", "lead_ref", "activity_type")
            if gap or not field_id:
                return gap
            if field_id not in lead_cols:
                return f"its {what} field {field_id} is not a lead field in the data dictionary"
            if model.field(field_id).type in ("datetime", "date"):
                return _no_fields(contract, "activities", "occurred_at")
            return None

        add("outreach-before-consent", "No outreach before the person consented", "consent",
            consent_gap(model.consent.consent_field, "consent"))
        add("outreach-do-not-contact", "No outreach to people who asked not to be contacted", "consent",
            consent_gap(model.consent.do_not_contact_field, "do-not-contact"))
    act_cols = {c.field_id for c in contract.table("activities").columns}
    for req in model.logging:
        if req.required_fields:
            gap = _no_fields(contract, "activities", "activity_type")
            if not gap and not set(req.required_fields) & act_cols:
                gap = (f"its required fields ({', '.join(req.required_fields)}) are not activity fields "
                       "in the data dictionary")
            add(f"{req.activity}-logging", f"Every {req.activity.replace('_', ' ')} is logged with its required "
                "fields", "logging", gap)
    for s in model.stages:
        if s.required_fields and not set(s.required_fields) & lead_cols:
            add(f"required-fields.{s.id}", f"Leads that reached “{s.name}” have its required fields",
                f"stages.{s.id}", f"its required fields ({', '.join(s.required_fields)}) are not lead fields "
                "in the data dictionary")
    if model.routing:
        add("routing-consistent", "Leads sit in the queue the routing rules choose", "routing",
            _no_fields(contract, "leads", "queue"))
    if any(s.closed for s in model.stages):
        add("closure-reason-present", "Closed leads record a closure reason", "closure_reasons",
            _no_fields(contract, "leads", "stage", "closure_reason"))
    for s in model.stages:
        if s.reason_note_required:
            add(f"reason-note-present.{s.id}", f"Leads moved to “{s.name}” carry a reason note", f"stages.{s.id}",
                _no_fields(contract, "leads", "reason_note"))
    return [out[k] for k in sorted(out)]
