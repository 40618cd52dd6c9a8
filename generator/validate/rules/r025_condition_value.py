from __future__ import annotations

from . import did_you_mean, Finding, rule


@rule("R025", "condition-value")
def check(model, ctx):
    """A scoring condition's value fits its operator and its field's allowed values.

    `in`/`not_in` take a list, `equals` one value, `gte`/`lte` a number,
    `is_set`/`is_not_set` no value; values compared with a field that lists
    `allowed_values` must be among them, or the rule silently never matches.

    Bad:

        scoring:
          rules:
            - id: cardiology
              when: {field: specialty, op: equals, value: cardiolgy}

    Good:

        scoring:
          rules:
            - id: cardiology
              when: {field: specialty, op: equals, value: cardiology}
    """
    if model.scoring is None:
        return
    for i, r in enumerate(model.scoring.rules):
        w = r.when
        at = ("scoring", "rules", i, "when", "value")
        value = w.value
        shape = None
        if w.op in ("is_set", "is_not_set") and value is not None:
            shape = "takes no value"
        elif w.op in ("in", "not_in") and not isinstance(value, list):
            shape = "takes a list of values"
        elif w.op == "equals" and (value is None or isinstance(value, list)):
            shape = "takes one value"
        elif w.op in ("gte", "lte") and (isinstance(value, bool) or not isinstance(value, (int, float))):
            shape = "takes a number"
        if shape:
            yield Finding(at if value is not None else ("scoring", "rules", i, "when", "op"),
                          f"scoring rule {r.id!r}: operator {w.op!r} {shape}", "fix `value:` or the operator")
            continue
        f = ctx.fields.get(w.field)
        if f is None or not f.allowed_values or w.op not in ("equals", "in", "not_in"):
            continue
        allowed = set(f.values)
        values = value if isinstance(value, list) else [value]
        for k, v in enumerate(values):
            if isinstance(v, str) and v not in allowed:
                yield Finding(at + ((k,) if isinstance(value, list) else ()),
                              f"scoring rule {r.id!r} compares field {f.id!r} with {v!r}, which is not an allowed value",
                              did_you_mean(v, allowed) or f"allowed: {', '.join(f.values)}")
