from __future__ import annotations

from ..graph import successors
from . import Finding, rule


@rule("R004", "dead-end-stage")
def check(model, ctx):
    """Every non-terminal stage leads on, and some path from it ends in a terminal stage.

    A lead in a non-terminal stage without transitions, or caught in a loop of
    stages that never reaches a terminal one, is stuck forever.

    Bad:

        stages:
          - id: attempting-contact
            transitions: []      # not terminal, no way out

    Good:

        stages:
          - id: attempting-contact
            transitions: [{to: scheduled}, {to: closed-lost}]
    """
    succ = successors(model)
    pred: dict[str, set[str]] = {}
    for a, outs in succ.items():
        for b in outs:
            pred.setdefault(b, set()).add(a)
    # Walk backwards from terminal stages: what can still end.
    can_end = {s.id for s in model.stages if s.terminal}
    todo = list(can_end)
    while todo:
        for p in pred.get(todo.pop(), ()):
            if p not in can_end:
                can_end.add(p)
                todo.append(p)
    for i, s in enumerate(model.stages):
        if s.terminal:
            continue
        if not s.transitions:
            yield Finding(("stages", i, "id"), f"stage {s.id!r} is not terminal and has no transitions",
                          "add `transitions:`, or mark it `terminal: true`")
        elif s.id not in can_end:
            yield Finding(("stages", i, "transitions"), f"no path from stage {s.id!r} reaches a terminal stage",
                          "add a transition that leads to a terminal stage", key=True)
