from __future__ import annotations

from ..ir import TRUE, Blank, Check, Cmp, Col, Epoch, InValues, IsTrue, Not, Unchecked, all_of, any_of
from ..lookups import no_fields, sem
from . import counts, family

TIMED = ("datetime", "date")


@family("outreach-before-consent", "outreach-do-not-contact")
def build(model, contract):
    """Consent: no outreach before consent, none to people who asked not to be contacted.

    `outreach-before-consent`: one per outreach activity on a channel that requires consent where the
    lead had not consented (at the activity's time when consent is a timestamp)

    `outreach-do-not-contact`: one per activity on a lead marked do-not-contact (after the request
    when do-not-contact is a timestamp)
    """
    cons = model.consent
    if not cons:
        return
    for rid, title, field_id, what in (
            ("outreach-before-consent", "No outreach before the person consented", cons.consent_field, "consent"),
            ("outreach-do-not-contact", "No outreach to people who asked not to be contacted",
             cons.do_not_contact_field, "do-not-contact")):
        gap = _gap(model, contract, field_id, what)
        if gap:
            yield Unchecked(rid, title, "consent", gap)
            continue
        if not field_id:
            continue
        applies, violates = (_before_consent if rid == "outreach-before-consent" else _do_not_contact)(
            model, contract, model.field(field_id))
        yield Check(id=rid, title=title, section="consent", table="activities", applies=applies,
                    violates=violates, counts=counts(build, rid))


def _gap(model, contract, field_id: str | None, what: str) -> str | None:
    """Why the activities cannot be judged against the lead's consent field, or None."""
    gap = no_fields(contract, "activities", "lead_ref", "activity_type")
    if gap or not field_id:
        return gap
    if field_id not in {c.field_id for c in contract.table("leads").columns}:
        return f"its {what} field {field_id} is not a lead field in the data dictionary"
    if model.field(field_id).type in TIMED:
        return no_fields(contract, "activities", "occurred_at")
    return None


def _before_consent(model, contract, cons):
    at_f = sem(contract, "activities", "occurred_at")
    type_f = sem(contract, "activities", "activity_type")
    chans = tuple(model.consent.channels_requiring_consent)
    if cons.type in TIMED:
        no_consent = any_of(Blank(Col(cons.id, lead=True), text=False),
                            Cmp("<", Epoch(at_f), Epoch(cons.id, lead=True)))
    else:
        no_consent = Not(IsTrue(Col(cons.id, lead=True)))
    return (InValues(Col(type_f), chans) if chans else TRUE), no_consent


def _do_not_contact(model, contract, dnc):
    at_f = sem(contract, "activities", "occurred_at")
    if dnc.type in TIMED:
        blocked = all_of(Not(Blank(Col(dnc.id, lead=True), text=False)),
                         Cmp(">", Epoch(at_f), Epoch(dnc.id, lead=True)))  # the asking call is fine
    else:
        blocked = IsTrue(Col(dnc.id, lead=True))
    return TRUE, blocked
