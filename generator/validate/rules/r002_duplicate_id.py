from __future__ import annotations

from pydantic import BaseModel

from . import Finding, rule


def _id_lists(obj, path):
    """Every list of entities with an `id`, with its data path."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, (list, BaseModel)):
                yield from _id_lists(value, path + (name,))
    elif isinstance(obj, list) and obj and isinstance(obj[0], BaseModel):
        if "id" in type(obj[0]).model_fields:
            yield path, obj
        for i, item in enumerate(obj):
            yield from _id_lists(item, path + (i,))


@rule("R002", "duplicate-id")
def check(model, ctx):
    """Ids are unique within their list, across every file of the playbook.

    List sections merge across files, so two teams may define the same stage
    or field in different files without noticing; every later copy is
    reported, pointing at the first.

    Bad:

        # stages.yaml
        stages:
          - id: qualified
        ---
        # more-stages.yaml (files merge in name order)
        stages:
          - id: qualified

    Good:

        stages:
          - id: qualified
          - id: nurture
    """
    for path, items in _id_lists(model, ()):
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in first:
                at = ctx.where(path + (first[item.id], "id"))
                yield Finding(path + (i, "id"), f"duplicate id {item.id!r} in `{'.'.join(str(p) for p in path)}`",
                              f"first defined at {at}; rename or remove one")
            else:
                first[item.id] = i
