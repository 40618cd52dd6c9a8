from __future__ import annotations

from . import Finding, rule

NEEDS = {"field_set": "field", "stage_entered": "stage", "activity": "activity_types",
         "appointment": "appointment_stage"}


@rule("R018", "event-signal-incomplete")
def check(model, ctx):
    """An event's signal names what it is observed on.

    `field_set` needs `field`, `stage_entered` needs `stage`, `activity`
    needs `activity_types`, `appointment` needs `appointment_stage`; the
    names themselves are checked by R001.

    Bad:

        events:
          - id: lead-qualified
            signal: {kind: stage_entered}

    Good:

        events:
          - id: lead-qualified
            signal: {kind: stage_entered, stage: qualified}
    """
    for i, ev in enumerate(model.events):
        sig = ev.signal
        if sig is None:
            continue
        need = NEEDS[sig.kind]
        if not getattr(sig, need):
            yield Finding(("events", i, "signal", "kind"), f"event {ev.id!r} is signalled by {sig.kind} but names no {need}",
                          f"add `{need}:` to the signal")
