from __future__ import annotations

from . import did_you_mean, Finding, rule


@rule("R006", "step-undefined-lane")
def check(model, ctx):
    """Every step sits in a lane defined under `lanes`.

    The swim-lane map draws one row per lane; a step in an undefined lane has
    no row to go in.

    Bad:

        lanes: [{id: marketing, name: Marketing}]
        steps:
          - id: capture
            lane: marketting

    Good:

        lanes: [{id: marketing, name: Marketing}]
        steps:
          - id: capture
            lane: marketing
    """
    lanes = ctx.ids("lanes")
    for i, step in enumerate(model.steps):
        if step.lane not in lanes:
            yield Finding(("steps", i, "lane"), f"step {step.id!r} is in lane {step.lane!r}, which is not defined",
                          did_you_mean(step.lane, lanes) or "add it under `lanes:`")
