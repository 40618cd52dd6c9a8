from __future__ import annotations

from ..graph import reachable
from . import Finding, rule


@rule("R003", "unreachable-stage")
def check(model, ctx):
    """Every stage can be reached from an initial stage through transitions.

    A stage no transition leads to is never entered, so its SLAs, outreach and
    checks never apply. At least one stage must be `initial: true`.

    Bad:

        stages:
          - id: new
            initial: true
            transitions: [{to: closed}]
          - id: nurture          # nothing leads here
          - id: closed
            terminal: true

    Good:

        stages:
          - id: new
            initial: true
            transitions: [{to: nurture}, {to: closed}]
          - id: nurture
            transitions: [{to: closed}]
          - id: closed
            terminal: true
    """
    initial = [s.id for s in model.stages if s.initial]
    if not initial:
        yield Finding(("stages",), "no stage is marked `initial: true`",
                      "mark the stage where new leads start with `initial: true`", key=True)
        return
    seen = reachable(model, initial)
    reported = set()
    for i, s in enumerate(model.stages):
        if s.id not in seen and s.id not in reported:
            reported.add(s.id)
            yield Finding(("stages", i, "id"), f"stage {s.id!r} cannot be reached from an initial stage",
                          "add a transition to it, or mark it `initial: true`")
