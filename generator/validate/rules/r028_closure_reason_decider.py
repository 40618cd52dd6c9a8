from __future__ import annotations

from . import Finding, rule


@rule("R028", "closure-reason-decided-elsewhere")
def check(model, ctx):
    """A stage change that records a closure reason is made by the role that decides that reason.

    `decided_by` on a closure reason names the role whose judgement it is (a
    clinical reason is the intake nurse's); a transition that records the
    reason (`closure_reason`) but is owned by another role tells staff two
    different people decide the same thing.

    Bad:

        stages:
          - id: qualified
            transitions:
              - {to: disqualified, owner: patient-access-rep, closure_reason: clinically_inappropriate}
        closure_reasons:
          - {id: clinically_inappropriate, name: Clinically inappropriate, decided_by: intake-nurse}

    Good:

        stages:
          - id: qualified
            transitions:
              - {to: disqualified, owner: intake-nurse, closure_reason: clinically_inappropriate}
        closure_reasons:
          - {id: clinically_inappropriate, name: Clinically inappropriate, decided_by: intake-nurse}
    """
    reasons = model.by_id("closure_reasons")
    for i, s in enumerate(model.stages):
        for j, t in enumerate(s.transitions):
            reason = reasons.get(t.closure_reason) if t.closure_reason else None
            if reason is None or not reason.decided_by or not t.owner or t.owner == reason.decided_by:
                continue
            yield Finding(("stages", i, "transitions", j, "owner"),
                          f"stage change {s.id!r} -> {t.to!r} is made by {t.owner!r} but records closure reason "
                          f"{reason.id!r}, which {reason.decided_by!r} decides",
                          f"make {reason.decided_by!r} the owner of this stage change, or change who decides the reason")
