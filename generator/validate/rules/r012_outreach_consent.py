from __future__ import annotations

from ..graph import reachable
from . import Finding, rule


@rule("R012", "outreach-before-consent")
def check(model, ctx):
    """Outreach on a channel that needs consent only runs where consent is required.

    For each outreach step whose activity is in
    `consent.channels_requiring_consent`, every path of transitions from an
    initial stage to the sequence's stage must pass a stage (the sequence's
    own stage included) that lists `consent.consent_field` in
    `required_fields`. Otherwise a lead can get the text before anyone
    recorded consent.

    Bad:

        consent: {consent_field: consent-to-contact, channels_requiring_consent: [sms]}
        stages:
          - {id: new, initial: true, transitions: [{to: nurture}]}
          - {id: nurture}                      # consent never required
        outreach:
          - {id: nurture-texts, stage: nurture, steps: [{day: 0, activity: sms}]}

    Good:

        stages:
          - {id: new, initial: true, transitions: [{to: nurture}]}
          - {id: nurture, required_fields: [consent-to-contact]}
    """
    consent = model.consent
    if consent is None or not consent.channels_requiring_consent:
        return
    channels = set(consent.channels_requiring_consent)
    cf = consent.consent_field
    guarded = {s.id for s in model.stages if cf in s.required_fields}
    initial = [s.id for s in model.stages if s.initial and s.id not in guarded]
    open_path = reachable(model, initial, blocked=guarded) - guarded
    for i, seq in enumerate(model.outreach):
        if seq.stage not in open_path:
            continue
        for j, step in enumerate(seq.steps):
            if step.activity in channels:
                yield Finding(("outreach", i, "steps", j, "activity"),
                              f"sequence {seq.id!r} sends {step.activity} at stage {seq.stage!r}, which a lead can "
                              f"reach without consent field {cf!r} being required",
                              f"add {cf!r} to `required_fields` of {seq.stage!r} or of every stage before it")
