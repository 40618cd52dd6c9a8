from __future__ import annotations

from . import Finding, rule


@rule("R027", "phi-field-in-hubspot", level="warning")
def check(model, ctx):
    """A field that holds health information is not given a HubSpot name.

    HubSpot is the marketing-automation system and the playbook promises it
    holds no health information: `playbook export hubspot` leaves out every
    `phi: true` field that has no `names.hubspot`. Giving such a field an
    explicit HubSpot name exports it anyway (the author chose it), so it is
    reported as a warning to make that choice visible in review.

    Bad:

        fields:
          - id: reason-for-visit
            type: text
            phi: true
            names: {hubspot: reason_for_visit}

    Good:

        fields:
          - id: reason-for-visit
            type: text
            phi: true
            names: {salesforce: Reason_For_Visit__c}
    """
    for i, f in enumerate(model.fields):
        if f.phi and f.names.hubspot:
            yield Finding(("fields", i, "names", "hubspot"),
                          f"field {f.id!r} holds health information but is named {f.names.hubspot!r} in HubSpot",
                          "remove `names.hubspot`: health information stays out of HubSpot")
