from __future__ import annotations

from . import did_you_mean, Finding, rule


@rule("R010", "routing-gap")
def check(model, ctx):
    """Every specialty x region combination is routed to a queue.

    The combinations are the allowed values of `routing.specialty_field` times
    those of `routing.region_field`. Rules are evaluated in order and the first
    match wins; an empty list in `when` means any value. A rule with `min_score`
    only catches some leads, so it does not cover a combination on its own.
    The fallback queue is for full queues and missing owners, not for gaps.
    Values in `when` must be allowed values of their field.

    Bad:

        routing:
          specialty_field: specialty     # cardiology, orthopedics
          region_field: region           # north, south
          rules:
            - {id: cardio, when: {specialty: [cardiology]}, queue: cardio-q}
            # orthopedics has no queue anywhere

    Good:

        routing:
          rules:
            - {id: cardio, when: {specialty: [cardiology]}, queue: cardio-q}
            - {id: rest, when: {}, queue: general-q}
    """
    r = model.routing
    if r is None:
        return
    spec_field = ctx.fields.get(r.specialty_field)
    region_field = ctx.fields.get(r.region_field)
    if spec_field is None or region_field is None:
        return  # R001 reports the dangling field
    specs, regions = spec_field.values, region_field.values
    for key, f, vals in (("specialty_field", spec_field, specs), ("region_field", region_field, regions)):
        if not vals:
            yield Finding(("routing", key), f"routing field {f.id!r} has no allowed_values, so coverage cannot be checked",
                          "list its values under `allowed_values:` in the data dictionary")
    if not specs or not regions:
        return
    known = {"specialty": set(specs), "region": set(regions)}
    for j, rr in enumerate(r.rules):
        for dim in ("specialty", "region"):
            for k, v in enumerate(getattr(rr.when, dim)):
                if v not in known[dim]:
                    yield Finding(("routing", "rules", j, "when", dim, k),
                                  f"routing rule {rr.id!r} matches {dim} {v!r}, which is not an allowed value",
                                  did_you_mean(v, known[dim]) or f"allowed: {', '.join(sorted(known[dim]))}")
    for s in specs:
        # A lead of this combination and no score: a `min_score` rule cannot catch it, the fallback
        # does not count, so it is covered only when some rule matches (the model's resolver decides).
        left = [g for g in regions if r.first_match({r.specialty_field: s, r.region_field: g}) is None]
        if left:
            yield Finding(("routing", "rules"), f"no routing rule sends specialty {s!r} in region(s) "
                          f"{', '.join(left)} to a queue",
                          "add a rule for it, or a last rule with an empty `when: {}`", key=True)
