from __future__ import annotations

from ..ir import TRUE, Blank, Check, Col, InValues, Not, any_of
from ..lookups import implied_values
from . import counts, family


@family("attribution-present")
def build(model, contract):
    """Attribution: every lead says where it came from.

    `attribution-present`: one per lead whose attribution field is empty or not allowed, or with an
    empty UTM field (missing tags must be recorded as “{missing_utm_value}”)
    """
    lead_cols = {c.field_id for c in contract.table("leads").columns}
    a = model.attribution
    if not (a and a.field in lead_cols):
        return
    af = model.field(a.field)
    bad = [Blank(Col(a.field))]
    vals = implied_values(model, af) if af.type == "enum" else []
    if vals:
        bad.append(Not(InValues(Col(a.field), tuple(vals))))
    bad += [Blank(Col(u)) for u in a.utm_fields if u in lead_cols]
    yield Check(
        id="attribution-present", title="Every lead carries valid attribution", section="attribution",
        table="leads", applies=TRUE, violates=any_of(*bad),
        counts=counts(build, "attribution-present", missing_utm_value=a.missing_utm_value),
    )
