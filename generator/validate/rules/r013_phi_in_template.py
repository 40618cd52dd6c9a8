from __future__ import annotations

import re

from . import Finding, rule

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_-]+)\s*\}\}")
CHANNELS = ("sms", "email")


@rule("R013", "phi-in-template")
def check(model, ctx):
    """SMS and email templates never merge fields that hold health information.

    Texts and emails travel and rest outside the clinic's control. A field
    with `phi: true` must not appear in `merge_fields` or as a `{{ field_id }}`
    placeholder in the body of a template of kind `sms` or `email`.

    Bad:

        fields: [{id: condition, phi: true, ...}]
        templates:
          - id: reminder
            kind: sms
            body: "About your {{ condition }}: call us back."

    Good:

        templates:
          - id: reminder
            kind: sms
            body: "Hi {{ first-name }}, please call us back."
    """
    phi = {f.id for f in model.fields if f.phi}
    if not phi:
        return
    for i, t in enumerate(model.templates):
        if t.kind not in CHANNELS:
            continue
        for j, f in enumerate(t.merge_fields):
            if f in phi:
                yield Finding(("templates", i, "merge_fields", j),
                              f"{t.kind} template {t.id!r} merges PHI field {f!r}", "remove it from `merge_fields`")
        seen = set()
        for match in PLACEHOLDER.finditer(t.body):
            f = match.group(1)
            if f in phi and f not in seen:
                seen.add(f)
                yield Finding(("templates", i, "body"), f"{t.kind} template {t.id!r} puts PHI field {f!r} in its body",
                              "remove the placeholder; ask the person to call instead")
