from __future__ import annotations

from . import Finding, rule

# Setting (section, key) -> the semantic tag its lead field must carry.
SETTINGS = (
    ("consent", "consent_field", "consent"),
    ("consent", "do_not_contact_field", "do_not_contact"),
    ("scoring", "score_field", "score"),
    ("routing", "specialty_field", "specialty"),
    ("routing", "region_field", "region"),
    ("attribution", "field", "attribution"),
)


@rule("R023", "setting-field-semantic")
def check(model, ctx):
    """Fields named by settings are lead fields tagged with the matching semantic.

    Checks and exports find a field either through a setting
    (`consent.consent_field`) or through its semantic tag (`consent`); both
    must lead to the same lead field, or one part checks another column.

    Bad:

        fields:
          - {id: consent-to-contact, type: boolean}       # no semantic tag
        consent:
          consent_field: consent-to-contact

    Good:

        fields:
          - {id: consent-to-contact, type: boolean, semantic: consent}
        consent:
          consent_field: consent-to-contact
    """
    for section, key, semantic in SETTINGS:
        owner = getattr(model, section)
        if owner is None:
            continue
        fid = getattr(owner, key)
        f = ctx.fields.get(fid)
        if f is None:
            continue  # R001 reports it
        if f.record != "lead" or f.semantic != semantic:
            have = f"semantic {f.semantic!r}" if f.semantic else "no semantic tag"
            yield Finding((section, key), f"{section}.{key} names field {fid!r}, a {f.record} field with {have}",
                          f"tag a lead field `semantic: {semantic}` and name that one here")
