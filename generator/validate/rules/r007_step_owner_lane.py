from __future__ import annotations

from . import Finding, rule


@rule("R007", "step-owner-lane-mismatch", level="warning")
def check(model, ctx):
    """A step's owner works in the step's lane.

    A step drawn in one team's lane but owned by another team's role makes
    the map say one thing and the RACI another. Reported as a warning.

    Bad:

        roles: [{id: sdr-agent, name: SDR, lane: contact-center}]
        steps:
          - id: capture
            lane: marketing
            owner: sdr-agent

    Good:

        roles: [{id: ops-lead, name: Ops lead, lane: marketing}]
        steps:
          - id: capture
            lane: marketing
            owner: ops-lead
    """
    roles = model.by_id("roles")
    lanes = ctx.ids("lanes")
    for i, step in enumerate(model.steps):
        role = roles.get(step.owner)
        if role is not None and step.lane in lanes and role.lane != step.lane:
            yield Finding(("steps", i, "owner"),
                          f"step {step.id!r} is in lane {step.lane!r} but its owner {role.id!r} is in lane {role.lane!r}",
                          "move the step to its owner's lane or pick an owner from this lane")
