from __future__ import annotations

from . import Finding, rule


@rule("R005", "stage-without-owner")
def check(model, ctx):
    """Every stage, and every stage change, has an owner.

    A stage change without an owner is a known failure: nobody moves the lead.
    A transition is owned by its own `owner`, or else by its stage's `owner`.

    Bad:

        stages:
          - id: routed
            transitions:
              - to: attempting-contact    # who makes this change?

    Good:

        stages:
          - id: routed
            owner: sdr-agent
            transitions:
              - to: attempting-contact
              - to: closed-lost
                owner: patient-services-lead
    """
    for i, s in enumerate(model.stages):
        if s.owner is None:
            yield Finding(("stages", i, "id"), f"stage {s.id!r} has no owner", "add `owner:` with a role id")
            for j, t in enumerate(s.transitions):
                if t.owner is None:
                    yield Finding(("stages", i, "transitions", j, "to"),
                                  f"the change from {s.id!r} to {t.to!r} has no owner",
                                  "add `owner:` to the transition or to the stage")
