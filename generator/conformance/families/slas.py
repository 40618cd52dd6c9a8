from __future__ import annotations

from ..calendar import business_day_hours
from ..ir import (TRUE, AsOf, Blank, Check, Cmp, Coalesce, Col, Elapsed, Entered, EventHappened, EventTime, InValues,
                  IsNull, IsTrue, Lit, Not, PastDeadline, Unchecked, all_of, any_of)
from ..lookups import event_source, event_unseen, no_fields, sem, stage_value, unmeasurable_slas
from . import counts, family


@family("sla.<sla>", "sla-escalated.<sla>")
def build(model, contract):
    """SLAs: every clock the playbook starts is stopped in time, and every breach is escalated.

    `sla.<sla>`: one per lead whose start event happened and whose stop came later than the limit
    (business time on the playbook calendar; N business days: after the close of the Nth business day
    after the day the clock started). The stop is the first stop event at or after the start,
    of the stop's own kind (its signal's activity types, appointment status or stage): an event before
    the clock started, or of another kind, never stops it. A lead still open without such a stop
    counts once the limit has passed at as-of; closed leads without it, and stops recorded only as a
    field value without a time, are not checked. An event's time is, in this order, its own timestamp
    field; the first activity of its signal's types; the first stage-history entry into the stage its
    signal names or it is the entry event of (also for appointment events, as an appointments row keeps
    only its current status); the first appointment row in its signal's status

    `sla-escalated.<sla>`: one per breach of the SLA with no escalation time recorded
    """
    esc_f = sem(contract, "leads", "escalated_at")
    skipped = dict(unmeasurable_slas(model))
    for sla in model.slas:
        title = f"“{sla.name}” met within {sla.within}"
        esc_title = f"Every breach of “{sla.name}” was escalated"
        section = f"slas.{sla.id}"
        why = skipped.get(sla.id)
        for ev in (sla.start_event, sla.stop_event):
            why = why or event_unseen(model, contract, ev)
        if why:
            yield Unchecked(f"sla.{sla.id}", title, section, why)
            if sla.escalations:
                yield Unchecked(f"sla-escalated.{sla.id}", esc_title, section, why)
            continue
        applies, breach = _clock(model, contract, sla)
        yield Check(id=f"sla.{sla.id}", title=title, section=section, table="leads",
                    applies=applies, violates=breach, counts=counts(build, "sla.<sla>"))
        if not sla.escalations:
            continue
        if not esc_f:
            yield Unchecked(f"sla-escalated.{sla.id}", esc_title, section,
                            no_fields(contract, "leads", "escalated_at"))
            continue
        yield Check(id=f"sla-escalated.{sla.id}", title=esc_title, section=section, table="leads",
                    applies=all_of(applies, breach), violates=Blank(Col(esc_f), text=False),
                    counts=counts(build, "sla-escalated.<sla>"))


def _clock(model, contract, sla):
    """(applies, breach) of one SLA: which leads its clock runs for, and when it ran out."""
    stage_f = sem(contract, "leads", "stage")
    closed = [stage_value(model, s.id) for s in model.stages if s.closed]
    start = EventTime(sla.start_event)
    # Only a stop at or after the start stops the clock (an inbound call logged before the lead
    # was routed is no first attempt); events are of the stop's own signal (its activity types).
    stop = EventTime(sla.stop_event, after=start)
    is_closed = InValues(Col(stage_f), tuple(closed)) if (stage_f and closed) else Not(TRUE)
    src = event_source(model, sla.stop_event)
    # a stop recorded only as a field value has no time: not measurable, so not checked
    untimed_stop = IsTrue(EventHappened(sla.stop_event)) if src and src[0] == "flag" else Not(TRUE)
    applies = all_of(
        Not(IsNull(start)),
        any_of(Not(IsNull(stop)), all_of(Not(untimed_stop), Not(is_closed))),
        any_of(*(Entered(s) for s in sla.applies_to_stages)) if sla.applies_to_stages else TRUE,
    )
    end = Coalesce((stop, AsOf()))
    # The start is only read where it is set (see `applies`); written like an end, one event
    # used as one SLA's start and another's stop shares one business-time join.
    start_t = Coalesce((start, AsOf()))
    w = sla.within
    if w.business and w.unit == "days":
        # by the close of the Nth business day after the day the clock started (DATA-CONTRACT.md)
        breach = PastDeadline(start_t, end, w.amount)
    else:
        limit = w.seconds(business_day_hours(model.playbook.calendar))
        breach = Cmp(">", Elapsed(start_t, end, w.business), Lit(limit))
    return applies, breach
