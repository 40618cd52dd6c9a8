from __future__ import annotations

from ..ir import Blank, Check, Col, Entered, Unchecked, any_of
from ..lookups import is_text
from . import counts, family


@family("required-fields.<stage>")
def build(model, contract):
    """Required fields: leads that reached a stage carry the fields it requires.

    `required-fields.<stage>`: one per lead that entered the stage (stage history or current stage)
    with any required field empty
    """
    lead_cols = {c.field_id for c in contract.table("leads").columns}
    for s in model.stages:
        if not s.required_fields:
            continue
        rid, title, section = f"required-fields.{s.id}", f"Leads that reached “{s.name}” have its required fields", \
            f"stages.{s.id}"
        req = [f for f in s.required_fields if f in lead_cols]
        if not req:
            yield Unchecked(rid, title, section, f"its required fields ({', '.join(s.required_fields)}) are not "
                            "lead fields in the data dictionary")
            continue
        yield Check(
            id=rid, title=title, section=section, table="leads",
            applies=Entered(s.id),
            violates=any_of(*(Blank(Col(f), text=is_text(model, f)) for f in req)),
            counts=counts(build, "required-fields.<stage>"),
        )
