from __future__ import annotations

from . import Finding, rule


@rule("R022", "handoff-passed-and-withheld")
def check(model, ctx):
    """A handoff does not both pass and withhold the same field.

    `withheld` lists what must not travel to the next team (often health
    details); a field in both lists makes the checklist contradict itself.

    Bad:

        handoffs:
          - id: sdr-to-intake
            passed: [phone, reason-for-visit]
            withheld: [reason-for-visit]

    Good:

        handoffs:
          - id: sdr-to-intake
            passed: [phone]
            withheld: [reason-for-visit]
    """
    for i, h in enumerate(model.handoffs):
        passed = set(h.passed)
        for j, f in enumerate(h.withheld):
            if f in passed:
                yield Finding(("handoffs", i, "withheld", j), f"handoff {h.id!r} both passes and withholds field {f!r}",
                              "keep it in one list")
