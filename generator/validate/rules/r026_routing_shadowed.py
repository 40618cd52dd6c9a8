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
    specs, regions = spec_field.values, region_field.values
    for j, rr in enumerate(r.rules):
        # The combinations this rule's specialty/region tests accept (its minimum score aside) ...
        tests = [c for c in rr.conditions(r, None) if c.op == "in"]
        combos = [v for v in ({r.specialty_field: s, r.region_field: g} for s in specs for g in regions)
                  if all(c.holds(v) for c in tests)]
        # ... all won, for a lead without a score, by an earlier rule under first-match-wins.
        if combos and all(_index(r, r.first_match(v)) < j for v in combos):
            yield Finding(("routing", "rules", j, "id"), f"routing rule {rr.id!r} is never reached: earlier rules "
                          "already route every combination it matches", "move it up, or remove it")


def _index(routing, rule) -> int:
    """Position of `rule` in the routing rules (len(rules) for no match)."""
    return next((k for k, x in enumerate(routing.rules) if x is rule), len(routing.rules))
