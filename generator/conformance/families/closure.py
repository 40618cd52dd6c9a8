from __future__ import annotations

from ..ir import Blank, Check, Col, InValues, Unchecked
from ..lookups import no_fields, sem, stage_value
from . import counts, family


@family("closure-reason-present")
def build(model, contract):
    """Closure: closed leads record why they were closed.

    `closure-reason-present`: one per lead currently in a closed stage without a closure reason
    """
    closed = [stage_value(model, s.id) for s in model.stages if s.closed]
    if not closed:
        return
    rid, title, section = "closure-reason-present", "Closed leads record a closure reason", "closure_reasons"
    reason_f, stage_f = sem(contract, "leads", "closure_reason"), sem(contract, "leads", "stage")
    if not (reason_f and stage_f):
        yield Unchecked(rid, title, section, no_fields(contract, "leads", "stage", "closure_reason"))
        return
    yield Check(id=rid, title=title, section=section, table="leads",
                applies=InValues(Col(stage_f), tuple(closed)), violates=Blank(Col(reason_f)),
                counts=counts(build, "closure-reason-present"))
