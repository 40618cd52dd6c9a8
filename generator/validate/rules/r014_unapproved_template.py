from __future__ import annotations

from . import Finding, rule


@rule("R014", "unapproved-template")
def check(model, ctx):
    """Outreach steps and life-cycle steps use approved templates only.

    Staff send what the playbook lists; a template still in draft must not be
    in use until it is `approved: true`.

    Bad:

        templates:
          - {id: welcome-email, kind: email, approved: false}
        outreach:
          - id: new-lead
            steps: [{day: 0, activity: email, template: welcome-email}]

    Good:

        templates:
          - {id: welcome-email, kind: email, approved: true, approved_by: compliance-lead}
    """
    templates = model.by_id("templates")

    def bad(tid):
        t = templates.get(tid)
        return t is not None and not t.approved

    for i, seq in enumerate(model.outreach):
        for j, step in enumerate(seq.steps):
            if step.template and bad(step.template):
                yield Finding(("outreach", i, "steps", j, "template"),
                              f"sequence {seq.id!r} uses template {step.template!r}, which is not approved",
                              "approve it (`approved: true`) or use an approved template")
    for i, step in enumerate(model.steps):
        for j, tid in enumerate(step.templates):
            if bad(tid):
                yield Finding(("steps", i, "templates", j),
                              f"step {step.id!r} uses template {tid!r}, which is not approved",
                              "approve it (`approved: true`) or use an approved template")
