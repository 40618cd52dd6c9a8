from __future__ import annotations

from . import Finding, rule

# Activity -> the template kind it sends; letters and portal messages have none.
KIND_FOR = {"call": "call_script", "email": "email", "sms": "sms", "voicemail": "voicemail"}


@rule("R020", "template-kind-mismatch")
def check(model, ctx):
    """An outreach step's template is of the kind its activity sends.

    A call uses a `call_script`, an email an `email` template, a text an
    `sms` template, a voicemail a `voicemail` script.

    Bad:

        templates:
          - {id: welcome-email, kind: email}
        outreach:
          - id: new-lead
            steps: [{day: 0, activity: sms, template: welcome-email}]

    Good:

        templates:
          - {id: welcome-sms, kind: sms}
        outreach:
          - id: new-lead
            steps: [{day: 0, activity: sms, template: welcome-sms}]
    """
    templates = model.by_id("templates")
    for i, seq in enumerate(model.outreach):
        for j, step in enumerate(seq.steps):
            t = templates.get(step.template) if step.template else None
            want = KIND_FOR.get(step.activity)
            if t is not None and want and t.kind != want:
                yield Finding(("outreach", i, "steps", j, "template"),
                              f"sequence {seq.id!r} sends a {step.activity} with {t.kind} template {t.id!r}",
                              f"use a template of kind {want}")
