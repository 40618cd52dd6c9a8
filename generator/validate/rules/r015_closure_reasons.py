from __future__ import annotations

from . import Finding, rule


@rule("R015", "closed-stage-without-reasons")
def check(model, ctx):
    """A terminal closed stage has at least one closure reason.

    Closing a lead records why; a reason with an empty `stages` list applies to
    every closed stage.

    Bad:

        stages:
          - {id: closed-lost, terminal: true, closed: true}
        closure_reasons: []

    Good:

        closure_reasons:
          - {id: no-response, name: No response, stages: [closed-lost]}
    """
    general = any(not r.stages for r in model.closure_reasons)
    named = {s for r in model.closure_reasons for s in r.stages}
    for i, s in enumerate(model.stages):
        if s.terminal and s.closed and not general and s.id not in named:
            yield Finding(("stages", i, "closed"), f"closed stage {s.id!r} has no closure reasons",
                          "add a closure reason whose `stages` lists it")
