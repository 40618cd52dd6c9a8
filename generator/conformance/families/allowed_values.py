from __future__ import annotations

from ..ir import Blank, Check, Col, InValues, Not
from ..lookups import implied_values
from . import counts, family


@family("allowed-values.<field>")
def build(model, contract):
    """Allowed values: enumerated fields hold only the values the playbook lists.

    `allowed-values.<field>`: one per {row} whose value is set and not one of the allowed values
    """
    for table in contract.tables:
        for c in table.columns:
            f = model.field(c.field_id)
            if f.type != "enum":
                continue
            values = implied_values(model, f)
            if not values:
                continue
            yield Check(
                id=f"allowed-values.{f.id}",
                title=f"“{f.label}” holds only allowed values",
                section=f"fields.{f.id}",
                table=table.name,
                applies=Not(Blank(Col(f.id))),
                violates=Not(InValues(Col(f.id), tuple(values))),
                counts=counts(build, "allowed-values.<field>", row=table.row),
            )
