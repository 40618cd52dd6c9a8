from __future__ import annotations

from . import did_you_mean, Finding, rule


@rule("R009", "sla-unknown-event")
def check(model, ctx):
    """An SLA starts and stops on defined events.

    The SLA clock is measured between two observable events; an SLA on an
    event that is not defined under `events` cannot be measured.

    Bad:

        slas:
          - id: first-call
            start_event: lead-routed
            stop_event: frist-call-logged

    Good:

        slas:
          - id: first-call
            start_event: lead-routed
            stop_event: first-call-logged
    """
    events = ctx.ids("events")
    for i, sla in enumerate(model.slas):
        for key in ("start_event", "stop_event"):
            ev = getattr(sla, key)
            if ev not in events:
                yield Finding(("slas", i, key), f"SLA {sla.id!r} {key.split('_')[0]}s on event {ev!r}, which is not defined",
                              did_you_mean(ev, events) or "add it under `events:`")
