from __future__ import annotations

from ..ir import Blank, Check, Cmp, Col, Lit, Unchecked, any_of
from ..lookups import is_text, no_fields, sem
from . import counts, family


@family("<kind>-logging")
def build(model, contract):
    """Logging: every activity of a kind is logged with the fields the playbook requires for it.

    `<kind>-logging`: one per {kind} activity with any required logging field empty
    """
    act_cols = {c.field_id for c in contract.table("activities").columns}
    type_f = sem(contract, "activities", "activity_type")
    by_kind: dict[str, list[str]] = {}
    wanted: dict[str, list[str]] = {}
    for req in model.logging:
        if req.required_fields:
            wanted.setdefault(req.activity, list(req.required_fields))  # the first requirement names the gap
        for f in req.required_fields:
            if f in act_cols and f not in by_kind.setdefault(req.activity, []):
                by_kind[req.activity].append(f)
    for kind in sorted(wanted):
        fields = by_kind.get(kind, [])
        if type_f and fields:
            yield Check(
                id=f"{kind}-logging",
                title=f"Every {kind.replace('_', ' ')} is logged with "
                + ", ".join(model.field(f).label.lower() for f in fields),
                section="logging",
                table="activities",
                applies=Cmp("=", Col(type_f), Lit(kind)),
                violates=any_of(*(Blank(Col(f), text=is_text(model, f)) for f in fields)),
                counts=counts(build, "<kind>-logging", kind=kind),
            )
            continue
        gap = no_fields(contract, "activities", "activity_type")
        if not gap and not fields:
            gap = (f"its required fields ({', '.join(wanted[kind])}) are not activity fields "
                   "in the data dictionary")
        if gap:
            yield Unchecked(f"{kind}-logging", f"Every {kind.replace('_', ' ')} is logged with its required "
                            "fields", "logging", gap)
