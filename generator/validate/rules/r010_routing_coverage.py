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
    uncovered = {s: set(regions) for s in specs}
    for j, rr in enumerate(r.rules):
        for dim in ("specialty", "region"):
            for k, v in enumerate(getattr(rr.when, dim)):
                if v not in known[dim]:
                    yield Finding(("routing", "rules", j, "when", dim, k),
                                  f"routing rule {rr.id!r} matches {dim} {v!r}, which is not an allowed value",
                                  did_you_mean(v, known[dim]) or f"allowed: {', '.join(sorted(known[dim]))}")
        if rr.when.min_score is not None:
            continue
        region_set = set(rr.when.region)
        for s in rr.when.specialty or specs:
            left = uncovered.get(s)
            if left:
                if region_set:
                    left -= region_set
                else:
                    left.clear()
    for s in specs:
        left = uncovered[s]
        if left:
            missing = ", ".join(v for v in regions if v in left)
            yield Finding(("routing", "rules"), f"no routing rule sends specialty {s!r} in region(s) {missing} to a queue",
                          "add a rule for it, or a last rule with an empty `when: {}`", key=True)
