from __future__ import annotations

from . import Finding, rule


@rule("R029", "no-consent-rules", level="warning")
def check(model, ctx):
    """A playbook that reaches out to people says how consent is recorded.

    Healthcare outreach (calls, texts, emails) needs a recorded consent to
    contact, and the consent rules are what `outreach-before-consent` (R012),
    the export's validation rules and conformance's consent checks build on.
    A playbook with outreach sequences or templates but no `consent` section,
    or one whose `consent` names no channel that needs it, checks none of that,
    so it is reported as a warning.

    Bad:

        outreach:
          - {id: nurture-texts, stage: nurture, steps: [{day: 0, activity: sms}]}
        # no consent section

    Good:

        consent:
          consent_field: consent-to-contact
          channels_requiring_consent: [sms, email]
        outreach:
          - {id: nurture-texts, stage: nurture, steps: [{day: 0, activity: sms}]}
    """
    if not model.outreach and not model.templates:
        return
    where = ("outreach", 0, "id") if model.outreach else ("templates", 0, "id")
    if model.consent is None:
        yield Finding(where, "the playbook reaches out to leads but has no `consent` section",
                      "add `consent:` with the consent field and the channels that need consent")
    elif not model.consent.channels_requiring_consent:
        yield Finding(("consent",), "the `consent` section names no channel that requires consent",
                      "list the outreach channels that need consent in `consent.channels_requiring_consent`")
