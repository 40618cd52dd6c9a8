from __future__ import annotations

from . import Finding, rule


@rule("R019", "stage-without-guidance", level="warning")
def check(model, ctx):
    """Every stage tells staff what to do there (`guidance`).

    The site prints the guidance on each stage's page; a stage without it
    leaves staff guessing. Reported as a warning.

    Bad:

        stages:
          - id: routed
            name: Routed

    Good:

        stages:
          - id: routed
            name: Routed
            guidance: Call within 4 business hours; log every attempt.
    """
    for i, s in enumerate(model.stages):
        if not s.guidance.strip():
            yield Finding(("stages", i, "id"), f"stage {s.id!r} has no guidance", "add `guidance:` for staff")
