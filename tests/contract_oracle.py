"""A plain-Python reading of DATA-CONTRACT.md, written from its text, not from the check IR.

It imports nothing from generator.conformance: it reads the playbook (the values the
contract names: stages, SLAs, calendar, routing) and the four tables as lists of rows
keyed by column name, and counts (checked, violations) per rule the way the contract's
"How the checks read these tables" and "How each check counts" say. The differential
test (tests/test_conformance_differential.py) compares it with the SQL on real engines.

Covered rules: `sla.<sla>` and `sla-escalated.<sla>` (business hours and business days,
stop at or after start, applies_to_stages, open and closed leads) and `routing-consistent`
(`Oracle`, tests/test_conformance_differential.py); `duplicates.<rule>`, `required-fields.<stage>`,
`allowed-values.<field>` on leads, `closure-reason-present`, `reason-note-present.*`,
`transition-allowed`, `outreach-before-consent` and `outreach-do-not-contact` with boolean fields,
`<activity>-logging`, `attribution-present`, `appointment-stage-consistent`, allowed values of
activities and appointments (`TableOracle`, tests/test_conformance_differential_tables.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def epoch(v) -> int | None:
    """A contract timestamp (UTC, no zone) as epoch seconds."""
    if v is None:
        return None
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return int(v.replace(tzinfo=timezone.utc).timestamp())


def empty(v) -> bool:
    """'Empty values': NULL, or text that is '' or only spaces."""
    return v is None or (isinstance(v, str) and v.strip(" ") == "")


class Calendar:
    """Opening hours in the calendar's zone, holidays skipped (the contract's business time)."""

    def __init__(self, cal):
        self.tz = ZoneInfo(cal.time_zone)
        self.hours = [(set(h.days), h.open, h.close) for h in cal.hours]
        self.closed = {h.date for h in cal.holidays.extra}
        if cal.holidays.country:
            import holidays

            wanted = {n.casefold() for n in cal.holidays.observed}
            for d, names in holidays.country_holidays(cal.holidays.country, subdiv=cal.holidays.subdivision,
                                                      years=range(2024, 2029)).items():
                base = [n.replace(" (observed)", "").replace(" (Observed)", "").casefold()
                        for n in names.split("; ")]
                if not wanted or any(b in wanted for b in base):
                    self.closed.add(d)

    def spans(self, day: date) -> list[tuple[int, int]]:
        """[open, close) epochs of one local day (none on holidays and closed weekdays)."""
        if day in self.closed:
            return []
        out = []
        for days, o, c in self.hours:
            if WEEKDAYS[day.weekday()] in days:
                oh, om = map(int, o.split(":"))
                ch, cm = map(int, c.split(":"))
                a = int(datetime.combine(day, time(oh, om), tzinfo=self.tz).timestamp())
                b = int(datetime.combine(day, time(ch, cm), tzinfo=self.tz).timestamp())
                out.append((a, b))
        return sorted(out)

    def local_day(self, t: int) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    def business_seconds(self, a: int, b: int) -> int:
        """Opening seconds between a and b."""
        total, day = 0, self.local_day(a) - timedelta(days=1)
        while day <= self.local_day(b) + timedelta(days=1):
            for o, c in self.spans(day):
                total += max(0, min(c, b) - max(o, a))
            day += timedelta(days=1)
        return total

    def due(self, start: int, n: int) -> int:
        """'Business days': the close of the Nth business day after the day the clock started; a
        start outside opening hours belongs to the next business day."""
        day = self.local_day(start) - timedelta(days=1)
        while True:  # the first business day whose close is after the start
            spans = self.spans(day)
            if spans and spans[-1][1] > start:
                break
            day += timedelta(days=1)
        for _ in range(n):
            day += timedelta(days=1)
            while not self.spans(day):
                day += timedelta(days=1)
        return self.spans(day)[-1][1]


class Oracle:
    """Counts for one playbook's tables, from the contract text."""

    def __init__(self, model, tables: dict[str, list[dict]], as_of: int):
        self.m = model
        self.as_of = as_of
        self.cal = Calendar(model.playbook.calendar)
        names = {f.id: (f.names.warehouse or f.id) for f in model.fields}
        self.col = names
        sem = {}
        for f in model.fields:
            sem.setdefault((f.record, f.semantic), names[f.id])
        self.sem = sem
        self.leads = tables.get("leads", [])
        lid = sem[("activity", "lead_ref")]
        self.acts = {}
        for a in tables.get("activities", []):
            self.acts.setdefault(a.get(lid), []).append(a)
        hid = sem[("stage_history", "lead_ref")]
        self.hist = {}
        for h in tables.get("stage_history", []):
            self.hist.setdefault(h.get(hid), []).append(h)
        pid = sem[("appointment", "lead_ref")]
        self.appts = {}
        for a in tables.get("appointments", []):
            self.appts.setdefault(a.get(pid), []).append(a)

    # --- reading the contract's definitions
    def value(self, stage_id: str) -> str:
        s = self.m.stage(stage_id)
        return s.crm_value or s.id

    def entered(self, lead: dict, stage_id: str) -> bool:
        """'Stage entry': a history row into it, or the current stage."""
        v = self.value(stage_id)
        to = self.sem[("stage_history", "to_stage")]
        rows = self.hist.get(lead[self.sem[("lead", "record_id")]], [])
        return any(h.get(to) == v for h in rows) or lead.get(self.sem[("lead", "stage")]) == v

    def times(self, lead: dict, event_id: str) -> list[int]:
        """'When an event happened': every time the lead's data shows the event, by the contract's order."""
        ev = self.m.by_id("events")[event_id]
        sig = ev.signal
        entry = next((s.id for s in self.m.stages if s.entry_event == event_id), None)
        lead_id = lead[self.sem[("lead", "record_id")]]
        if sig and sig.kind == "field_set":
            f = self.m.field(sig.field)
            if f.type == "datetime":
                t = epoch(lead.get(self.col[f.id]))
                return [] if t is None else [t]
        if sig and sig.kind == "activity":
            typ, at = self.sem[("activity", "activity_type")], self.sem[("activity", "occurred_at")]
            return sorted(epoch(a[at]) for a in self.acts.get(lead_id, [])
                          if a.get(typ) in sig.activity_types and a.get(at) is not None)
        stage = sig.stage if sig and sig.kind == "stage_entered" else entry
        if sig and sig.kind == "appointment" and not stage:
            st, at = self.sem[("appointment", "appointment_stage")], self.sem[("appointment", "appointment_at")]
            return sorted(epoch(a[at]) for a in self.appts.get(lead_id, [])
                          if a.get(st) == sig.appointment_stage and a.get(at) is not None)
        if stage:
            to, at = self.sem[("stage_history", "to_stage")], self.sem[("stage_history", "changed_at")]
            return sorted(epoch(h[at]) for h in self.hist.get(lead_id, [])
                          if h.get(to) == self.value(stage) and h.get(at) is not None)
        raise NotImplementedError(event_id)

    def closed(self, lead: dict) -> bool:
        return lead.get(self.sem[("lead", "stage")]) in {self.value(s.id) for s in self.m.stages if s.closed}

    # --- rules
    def sla(self, sla) -> tuple[tuple[int, int], tuple[int, int]]:
        """('SLA clocks') (checked, breaches) of sla.<id>, and of sla-escalated.<id>."""
        checked = late = esc_missing = 0
        esc = self.sem.get(("lead", "escalated_at"))
        for lead in self.leads:
            starts = self.times(lead, sla.start_event)
            if not starts:
                continue
            if sla.applies_to_stages and not any(self.entered(lead, s) for s in sla.applies_to_stages):
                continue
            start = starts[0]
            stops = [t for t in self.times(lead, sla.stop_event) if t >= start]
            if not stops and self.closed(lead):
                continue
            end = stops[0] if stops else self.as_of
            w = sla.within
            if w.business and w.unit == "days":
                breach = end > self.cal.due(start, w.amount)
            elif w.business:
                breach = self.cal.business_seconds(start, end) > w.amount * {"minutes": 60, "hours": 3600}[w.unit]
            else:
                breach = end - start > w.amount * {"minutes": 60, "hours": 3600, "days": 86400}[w.unit]
            checked += 1
            if breach:
                late += 1
                esc_missing += lead.get(esc) is None
        return (checked, late), (late, esc_missing)

    def routing(self) -> tuple[int, int]:
        """('Routing') (checked, violations) of routing-consistent."""
        r = self.m.routing
        q = self.sem[("lead", "queue")]
        score = self.col[self.m.scoring.score_field] if self.m.scoring else self.sem.get(("lead", "score"))
        qname = {x.id: x.crm_name or x.id for x in r.queues}
        checked = bad = 0
        for lead in self.leads:
            if empty(lead.get(q)):
                continue
            checked += 1
            chosen = None
            for rule in r.rules:
                w = rule.when
                ok = (not w.specialty or lead.get(self.col[r.specialty_field]) in w.specialty) and \
                     (not w.region or lead.get(self.col[r.region_field]) in w.region) and \
                     (w.min_score is None or (score is not None and lead.get(score) is not None
                                              and lead[score] >= w.min_score))
                if ok:
                    chosen = rule.queue
                    break
            if lead[q] not in {qname.get(chosen), qname[r.fallback.queue]}:
                bad += 1
        return checked, bad

    def counts(self) -> dict[str, tuple[int, int]]:
        out = {}
        for sla in self.m.slas:
            main, escalated = self.sla(sla)
            out[f"sla.{sla.id}"] = main
            if sla.escalations:
                out[f"sla-escalated.{sla.id}"] = escalated
        if self.m.routing:
            out["routing-consistent"] = self.routing()
        return out


# ----------------------------------------------------------------- leads, stage history, activities
# The families of "How each check counts" that read one table (or leads with their history):
# duplicates, required fields, allowed values, closure reasons and reason notes, transitions,
# consent and do-not-contact. Only the violation counts are compared where the contract says
# what counts but not which rows are "checked".

TEXT_TYPES = {"string", "text", "email", "phone", "enum", "url", "reference"}


def filled(field, v) -> bool:
    """Not an 'empty value': only text columns treat '' and spaces as empty."""
    if v is None:
        return False
    return not (field.type in TEXT_TYPES and isinstance(v, str) and v.strip(" ") == "")


def normalised(kind: str, v: str) -> str:
    """'Duplicates': a match field's value after its normalisation."""
    if kind == "lowercase_trim":
        return v.strip(" ").lower()
    if kind in ("digits_only", "e164"):
        return "".join(c for c in v if c in "0123456789")
    return v


class TableOracle(Oracle):
    """Counts for the single-table rules, from the contract text."""

    def lead_id(self, lead: dict):
        return lead[self.sem[("lead", "record_id")]]

    def duplicates(self, rule) -> int:
        created, flag, dup_of = (self.sem[("lead", k)] for k in ("created_at", "duplicate_flag", "duplicate_of"))
        groups: dict[tuple, list[dict]] = {}
        for lead in self.leads:
            fields = [self.m.field(f) for f in rule.match_on]
            values = [lead.get(self.col[f.id]) for f in fields]
            if not all(filled(f, v) for f, v in zip(fields, values)):
                continue  # a record with any match field empty is in no group
            key = tuple(normalised(rule.normalize.get(f.id, "none"), str(v)) for f, v in zip(fields, values))
            groups.setdefault(key, []).append(lead)
        bad = 0
        for members in groups.values():
            original = min(members, key=lambda r: (epoch(r.get(created)), str(self.lead_id(r))))
            for r in members:
                if r is original or r.get(flag) is True or filled(self.m.field_by_semantic("duplicate_of"), r.get(dup_of)):
                    continue
                bad += 1
        return bad

    def required_fields(self, stage) -> tuple[int, int]:
        checked = bad = 0
        for lead in self.leads:
            if not self.entered(lead, stage.id):
                continue
            checked += 1
            bad += any(not filled(self.m.field(f), lead.get(self.col[f])) for f in stage.required_fields)
        return checked, bad

    def allowed_values(self, field) -> int:
        return sum(1 for lead in self.leads
                   if filled(field, lead.get(self.col[field.id])) and lead[self.col[field.id]] not in field.values)

    def closure_reason_present(self) -> tuple[int, int]:
        reason = self.m.field_by_semantic("closure_reason")
        closed = [lead for lead in self.leads if self.closed(lead)]
        return len(closed), sum(1 for lead in closed if not filled(reason, lead.get(self.col[reason.id])))

    def reason_notes(self) -> dict[str, int]:
        note = self.m.field_by_semantic("reason_note")
        reason = self.m.field_by_semantic("closure_reason")
        empty_note = [lead for lead in self.leads if not filled(note, lead.get(self.col[note.id]))]
        out = {f"reason-note-present.{s.id}": sum(1 for lead in empty_note if self.entered(lead, s.id))
               for s in self.m.stages if s.reason_note_required}
        needs = {c.id for c in self.m.closure_reasons if c.requires_note}
        out["reason-note-present.closure"] = sum(1 for lead in empty_note if lead.get(self.col[reason.id]) in needs)
        return out

    def transitions(self, rows: list[dict]) -> tuple[int, int]:
        frm, to = self.sem[("stage_history", "from_stage")], self.sem[("stage_history", "to_stage")]
        allowed = {(self.value(s.id), self.value(t.to)) for s in self.m.stages for t in s.transitions}
        initial = {self.value(s.id) for s in self.m.stages if s.initial}
        bad = 0
        for h in rows:
            if empty(h.get(frm)):
                bad += h.get(to) not in initial
            else:
                bad += (h.get(frm), h.get(to)) not in allowed
        return len(rows), bad

    def outreach(self) -> dict[str, int]:
        """'Consent and do-not-contact' for boolean consent and do-not-contact fields."""
        c = self.m.consent
        consent, dnc = self.col[c.consent_field], self.col[c.do_not_contact_field]
        typ = self.sem[("activity", "activity_type")]
        by_id = {self.lead_id(lead): lead for lead in self.leads}
        before = blocked = 0
        for lid, acts in self.acts.items():
            lead = by_id.get(lid)
            if lead is None:
                continue
            for a in acts:
                before += a.get(typ) in c.channels_requiring_consent and lead.get(consent) is not True
                blocked += lead.get(dnc) is True
        return {"outreach-before-consent": before, "outreach-do-not-contact": blocked}

    def logging(self, req) -> int:
        """`<activity>-logging`: activities of that kind with any required logging field empty."""
        typ = self.sem[("activity", "activity_type")]
        return sum(1 for acts in self.acts.values() for a in acts if a.get(typ) == req.activity
                   and any(not filled(self.m.field(f), a.get(self.col[f])) for f in req.required_fields))

    def attribution(self) -> int:
        at = self.m.attribution
        f = self.m.field(at.field)
        utm = [self.m.field(u) for u in at.utm_fields]
        return sum(1 for lead in self.leads
                   if not filled(f, lead.get(self.col[f.id])) or lead[self.col[f.id]] not in f.values
                   or any(not filled(u, lead.get(self.col[u.id])) for u in utm))

    def appointment_stages(self) -> int:
        """Leads with an appointment whose stage requires a lead stage the lead never entered."""
        st = self.sem[("appointment", "appointment_stage")]
        needs = {a.id: a.lead_stage for a in self.m.appointments.stages if a.lead_stage}
        return sum(1 for lead in self.leads
                   if any(a.get(st) in needs and not self.entered(lead, needs[a.get(st)])
                          for a in self.appts.get(self.lead_id(lead), [])))

    def record_allowed_values(self, record: str, rows: list[dict]) -> dict[str, int]:
        return {f"allowed-values.{f.id}": sum(1 for r in rows if filled(f, r.get(self.col[f.id]))
                                              and r[self.col[f.id]] not in f.values)
                for f in self.m.fields if f.record == record and f.allowed_values}

    def table_counts(self, history: list[dict]) -> dict[str, object]:
        """rule id -> (checked, violations), or violations alone where 'checked' is not defined."""
        out: dict[str, object] = {}
        for rule in self.m.matching.rules:
            out[f"duplicates.{rule.id}"] = self.duplicates(rule)
        for s in self.m.stages:
            if s.required_fields:
                out[f"required-fields.{s.id}"] = self.required_fields(s)
        for f in self.m.fields:
            if f.record == "lead" and f.allowed_values:
                out[f"allowed-values.{f.id}"] = self.allowed_values(f)
        out["closure-reason-present"] = self.closure_reason_present()
        out.update(self.reason_notes())
        out["transition-allowed"] = self.transitions(history)
        out.update(self.outreach())
        for req in self.m.logging:
            out[f"{req.activity}-logging"] = self.logging(req)
        if self.m.attribution:
            out["attribution-present"] = self.attribution()
        if self.m.appointments:
            out["appointment-stage-consistent"] = self.appointment_stages()
        out.update(self.record_allowed_values("activity", [a for acts in self.acts.values() for a in acts]))
        out.update(self.record_allowed_values("appointment", [a for rows in self.appts.values() for a in rows]))
        return out
