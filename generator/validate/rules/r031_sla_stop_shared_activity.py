from __future__ import annotations

from . import Finding, rule


@rule("R031", "sla-stop-shares-activity-type", level="warning")
def check(model, ctx):
    """An SLA's stop event is not observed through activity types another event also uses.

    An activity event is seen in the data as the first activity of its types.
    When the stop event of an SLA shares a type with another activity event
    (an inbound call and an outbound call attempt both logged as `call`), an
    activity of the other kind stops the clock: every lead that phoned in
    would meet "first call attempt within 4 business hours" without anyone
    calling back. Give the two kinds their own activity types.

    Bad:

        events:
          - {id: inbound-call-received, name: Inbound call, signal: {kind: activity, activity_types: [call]}}
          - {id: first-contact-attempt, name: First attempt, signal: {kind: activity, activity_types: [call, sms]}}
        slas:
          - {id: first-call, start_event: queue-assigned, stop_event: first-contact-attempt, ...}

    Good:

        events:
          - {id: inbound-call-received, name: Inbound call, signal: {kind: activity, activity_types: [inbound_call]}}
          - {id: first-contact-attempt, name: First attempt, signal: {kind: activity, activity_types: [call, sms]}}
    """
    by_id = {e.id: (i, e) for i, e in enumerate(model.events)}

    def types(event) -> set[str]:
        sig = event.signal
        return set(sig.activity_types) if sig is not None and sig.kind == "activity" else set()

    for k, sla in enumerate(model.slas):
        found = by_id.get(sla.stop_event)
        if found is None:
            continue
        _, stop = found
        mine = types(stop)
        if not mine:
            continue
        for other in model.events:
            if other.id == stop.id:
                continue
            shared = sorted(mine & types(other))
            # Events that list the very same types are one observation under two names: fine.
            if shared and types(other) != mine:
                yield Finding(("slas", k, "stop_event"),
                              f"SLA {sla.id!r} stops at event {stop.id!r}, observed as activity type(s) "
                              f"{', '.join(shared)} that event {other.id!r} also uses, so an {other.id!r} "
                              "activity stops the clock",
                              f"log {other.id!r} with an activity type of its own (e.g. inbound_call)")
