from __future__ import annotations

from ..ir import TRUE, Blank, Check, Cmp, Col, DupRank, IsTrue, Lit, Not, Unchecked, all_of
from ..lookups import sem
from . import counts, family


@family("duplicates.<matching rule>")
def build(model, contract):
    """Duplicates: no two unflagged leads match under a matching rule.

    `duplicates.<matching rule>`: groups by the normalised match fields; every record of a group
    except the earliest-created (ties: lowest record id) counts, unless it is flagged as a duplicate
    or merged into another record
    """
    lead_cols = {c.field_id for c in contract.table("leads").columns}
    flag_f = sem(contract, "leads", "duplicate_flag")
    of_f = sem(contract, "leads", "duplicate_of")
    for rule in sorted(model.matching.rules, key=lambda r: (r.order, r.id)):
        rid, title = f"duplicates.{rule.id}", f"No unflagged duplicates by {rule.name.lower()}"
        gone = [f for f in rule.match_on if f not in lead_cols]
        if gone:
            yield Unchecked(rid, title, "matching", f"its match fields ({', '.join(gone)}) are not lead fields "
                            "in the data dictionary")
            continue
        unflagged = all_of(
            Not(IsTrue(Col(flag_f))) if flag_f else TRUE,
            Blank(Col(of_f)) if of_f else TRUE,
        )
        yield Check(
            id=rid, title=title, section="matching", table="leads",
            applies=all_of(*(Not(Blank(Col(f))) for f in rule.match_on)),
            violates=all_of(Cmp(">", DupRank(rule.id), Lit(1)), unflagged),
            counts=counts(build, "duplicates.<matching rule>"),
        )
