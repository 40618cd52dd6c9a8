from __future__ import annotations

from ..ir import TRUE, Blank, Check, Cmp, Col, InValues, IsTrue, Lit, Not, Unchecked, all_of, any_of
from ..lookups import no_fields, sem, stage_value
from . import counts, family


@family("transition-allowed")
def build(model, contract):
    """Transitions: stages change only along the playbook's transitions.

    `transition-allowed`: one per stage-history row whose (from, to) pair is not an allowed transition;
    a row with no from-stage must enter an initial stage
    """
    rid, title, section = "transition-allowed", "Stages change only along the playbook's transitions", "stages"
    from_f = sem(contract, "stage_history", "from_stage")
    to_f = sem(contract, "stage_history", "to_stage")
    if not (from_f and to_f):
        if any(s.transitions for s in model.stages):
            yield Unchecked(rid, title, section, no_fields(contract, "stage_history", "from_stage", "to_stage"))
        return
    allowed = [
        all_of(Cmp("=", Col(from_f), Lit(stage_value(model, s.id))),
               Cmp("=", Col(to_f), Lit(stage_value(model, t.to))))
        for s in model.stages for t in s.transitions
    ]
    initial = [stage_value(model, s.id) for s in model.stages if s.initial]
    allowed.append(all_of(Blank(Col(from_f)), InValues(Col(to_f), tuple(initial))))
    yield Check(id=rid, title=title, section=section, table="stage_history",
                applies=TRUE, violates=Not(IsTrue(any_of(*allowed))), counts=counts(build, "transition-allowed"))
