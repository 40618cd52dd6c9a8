from __future__ import annotations

from ..ir import Blank, Check, Col, Entered, InValues, Unchecked
from ..lookups import no_fields, sem, stage_value
from . import counts, family


@family("reason-note-present.<stage>", "reason-note-present.closure")
def build(model, contract):
    """Reason notes: stage moves and closure reasons that need a note carry one.

    `reason-note-present.<stage>`: one per lead that entered the stage with an empty reason note

    `reason-note-present.closure`: one per lead whose closure reason requires a note and whose note is empty
    """
    note_f = sem(contract, "leads", "reason_note")
    for s in model.stages:
        if not s.reason_note_required:
            continue
        rid, title, section = f"reason-note-present.{s.id}", f"Leads moved to “{s.name}” carry a reason note", \
            f"stages.{s.id}"
        if not note_f:
            yield Unchecked(rid, title, section, no_fields(contract, "leads", "reason_note"))
            continue
        yield Check(id=rid, title=title, section=section, table="leads",
                    applies=Entered(s.id), violates=Blank(Col(note_f)),
                    counts=counts(build, "reason-note-present.<stage>"))
    closed = [stage_value(model, s.id) for s in model.stages if s.closed]
    reason_f, stage_f = sem(contract, "leads", "closure_reason"), sem(contract, "leads", "stage")
    needing = [r.id for r in model.closure_reasons if r.requires_note]
    if closed and reason_f and stage_f and needing and note_f:
        yield Check(
            id="reason-note-present.closure",
            title="Closure reasons that need a note have one",
            section="closure_reasons",
            table="leads",
            applies=InValues(Col(reason_f), tuple(needing)),
            violates=Blank(Col(note_f)),
            counts=counts(build, "reason-note-present.closure"),
        )
