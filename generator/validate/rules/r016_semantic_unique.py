from __future__ import annotations

from . import Finding, rule


@rule("R016", "semantic-tag-repeated")
def check(model, ctx):
    """A semantic tag is used at most once per record kind.

    Checks and exports find "the consent field" or "the stage field" by its
    semantic tag; two lead fields tagged `consent` make that ambiguous.

    Bad:

        fields:
          - {id: consent-sms, record: lead, semantic: consent, ...}
          - {id: consent-email, record: lead, semantic: consent, ...}

    Good:

        fields:
          - {id: consent-to-contact, record: lead, semantic: consent, ...}
          - {id: consent-email, record: lead, ...}
    """
    first: dict[tuple[str, str], int] = {}
    for i, f in enumerate(model.fields):
        if f.semantic is None:
            continue
        key = (f.record, f.semantic)
        if key in first:
            yield Finding(("fields", i, "semantic"),
                          f"field {f.id!r} repeats semantic {f.semantic!r} for {f.record} records",
                          f"already on {model.fields[first[key]].id!r} ({ctx.where(('fields', first[key], 'semantic'))})")
        else:
            first[key] = i
