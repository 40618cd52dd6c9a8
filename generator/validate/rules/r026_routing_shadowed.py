from __future__ import annotations

from . import Finding, rule


@rule("R026", "routing-rule-shadowed", level="warning")
def check(model, ctx):
    """No routing rule is hidden behind earlier ones.

    Rules are evaluated in order and the first match wins, so a rule whose
    every specialty x region combination is already caught by earlier rules
    (without `min_score`) never routes anything. Reported as a warning.

    Bad:

        routing:
          rules:
            - {id: everything, when: {}, queue: general-q}
            - {id: cardio, when: {specialty: [cardiology]}, queue: cardio-q}   # never reached

    Good:

        routing:
          rules:
            - {id: cardio, when: {specialty: [cardiology]}, queue: cardio-q}
            - {id: everything, when: {}, queue: general-q}
    """
    r = model.routing
    if r is None:
        return
    spec_field = ctx.fields.get(r.specialty_field)
    region_field = ctx.fields.get(r.region_field)
    if spec_field is None or region_field is None or not spec_field.values or not region_field.values:
        return
    specs, regions = spec_field.values, set(region_field.values)
    covered: dict[str, set[str]] = {s: set() for s in specs}
    for j, rr in enumerate(r.rules):
        rule_specs = [s for s in (rr.when.specialty or specs) if s in covered]
        rule_regions = set(rr.when.region or regions) & regions
        if rule_specs and rule_regions and all(rule_regions <= covered[s] for s in rule_specs):
            yield Finding(("routing", "rules", j, "id"), f"routing rule {rr.id!r} is never reached: earlier rules "
                          "already route every combination it matches", "move it up, or remove it")
        if rr.when.min_score is None:
            for s in rule_specs:
                covered[s] |= rule_regions
