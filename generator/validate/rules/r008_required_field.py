from __future__ import annotations

from . import did_you_mean, Finding, rule


@rule("R008", "required-field-undefined")
def check(model, ctx):
    """Fields a stage or a logging requirement requires are in the data dictionary.

    A required field that the dictionary does not define has no type, no CRM
    name and no check; it cannot be enforced.

    Bad:

        fields: [{id: specialty, ...}]
        stages:
          - id: qualified
            required_fields: [speciality]

    Good:

        stages:
          - id: qualified
            required_fields: [specialty]
    """
    fields = ctx.ids("fields")
    for section, items in (("stages", model.stages), ("logging", model.logging)):
        for i, item in enumerate(items):
            for j, f in enumerate(item.required_fields):
                if f not in fields:
                    yield Finding((section, i, "required_fields", j),
                                  f"{section[:-1] if section == 'stages' else 'logging requirement'} "
                                  f"{item.id!r} requires field {f!r}, which is not in the data dictionary",
                                  did_you_mean(f, fields) or "add it under `fields:`")
