from __future__ import annotations

from . import Finding, rule


@rule("R021", "event-unobservable", level="warning")
def check(model, ctx):
    """Events that start or stop an SLA, or enter a stage, say how they are observed.

    Without a `signal`, conformance checks cannot find the event in CRM data,
    so the SLA or the stage cannot be checked. Reported as a warning.

    Bad:

        events:
          - id: lead-routed
            name: Lead routed
        slas:
          - {id: first-call, start_event: lead-routed, stop_event: first-call-logged}

    Good:

        events:
          - id: lead-routed
            name: Lead routed
            signal: {kind: stage_entered, stage: routed}
    """
    events = model.by_id("events")
    used: dict[str, str] = {}
    for s in model.slas:
        used.setdefault(s.start_event, f"SLA {s.id!r}")
        used.setdefault(s.stop_event, f"SLA {s.id!r}")
    for s in model.stages:
        used.setdefault(s.entry_event, f"stage {s.id!r}")
    for i, ev in enumerate(model.events):
        if ev.id in used and ev.signal is None and events.get(ev.id) is ev:
            yield Finding(("events", i, "id"), f"event {ev.id!r} (used by {used[ev.id]}) has no signal",
                          "add `signal:` saying which field, stage or activity records it")
