from __future__ import annotations

from ..refs import REFS, walk_refs
from . import did_you_mean, Finding, rule

# Reference fields a dedicated rule reports with its own code.
DEDICATED = {"Step.lane": "R006", "Stage.required_fields": "R008",
             "LoggingRequirement.required_fields": "R008", "SLA.start_event": "R009", "SLA.stop_event": "R009"}


def unknown(ctx, sections, ref):
    """None if `ref` is an id in one of `sections`, else (message tail, hint)."""
    for section in sections:
        if ref in ctx.ids(section):
            return None
    # The same typo is often repeated; difflib over every id is the costly part.
    cache = ctx.__dict__.setdefault("_r001_hints", {})
    if (ref, sections) not in cache:
        pool = [i for section in sections for i in ctx.ids(section)]
        where = " or ".join(f"`{s}`" for s in sections)
        cache[(ref, sections)] = (f"is not an id in {where}", did_you_mean(ref, pool) or f"define it in {where} first")
    return cache[(ref, sections)]


@rule("R001", "unknown-reference")
def check(model, ctx):
    """Every reference names an entity that exists.

    References are ids: a stage's `owner` is a role id, a transition's `to` is
    a stage id, a step's `sla` is an SLA id, and so on for every reference field
    of the model. A typo makes a dangling reference, so the hint suggests the
    closest existing id.

    Bad:

        stages:
          - id: new
            owner: sdr-agnet

    Good:

        stages:
          - id: new
            owner: sdr-agent
    """
    for cls, name, path, ref, is_key in walk_refs(model):
        if f"{cls.__name__}.{name}" in DEDICATED:
            continue
        bad = unknown(ctx, REFS[(cls, name)], ref)
        if bad:
            yield Finding(path, f"{cls.__name__}.{name} {ref!r} {bad[0]}", bad[1], key=is_key)
