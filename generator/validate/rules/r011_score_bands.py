from __future__ import annotations

from . import Finding, rule


@rule("R011", "score-band-gap-overlap")
def check(model, ctx):
    """Score bands neither overlap nor leave gaps, and each has min <= max.

    Bands map a score to a status; a score between two bands maps to nothing
    and a score inside two bands maps to both. Bounds are inclusive.

    Bad:

        scoring:
          bands:
            - {id: cold, min: 0, max: 10}
            - {id: warm, min: 10, max: 40}   # 10 is in both
            - {id: hot, min: 50, max: 100}   # 41..49 in none

    Good:

        scoring:
          bands:
            - {id: cold, min: 0, max: 9}
            - {id: warm, min: 10, max: 49}
            - {id: hot, min: 50, max: 100}
    """
    if model.scoring is None:
        return
    bands = list(enumerate(model.scoring.bands))
    for i, b in bands:
        if b.min > b.max:
            yield Finding(("scoring", "bands", i, "min"), f"score band {b.id!r} has min {b.min} above max {b.max}",
                          "swap the bounds")
    ordered = sorted((x for x in bands if x[1].min <= x[1].max), key=lambda x: (x[1].min, x[1].max))
    prev = None  # the band reaching highest so far
    for i, b in ordered:
        if prev is not None:
            pi, p = prev
            if b.min <= p.max:
                yield Finding(("scoring", "bands", i, "min"),
                              f"score band {b.id!r} ({b.min}..{b.max}) overlaps band {p.id!r} ({p.min}..{p.max})",
                              f"start it at {p.max + 1}")
            elif b.min > p.max + 1:
                yield Finding(("scoring", "bands", i, "min"),
                              f"scores {p.max + 1}..{b.min - 1} fall in no band (between {p.id!r} and {b.id!r})",
                              f"start {b.id!r} at {p.max + 1}")
        if prev is None or b.max > prev[1].max:
            prev = (i, b)
