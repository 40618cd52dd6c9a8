from __future__ import annotations

from ..ir import Check, Entered, HasAppointment, Not, Unchecked, all_of, any_of
from ..lookups import no_fields
from . import counts, family


@family("appointment-stage-consistent")
def build(model, contract):
    """Appointments: a lead with an appointment is in the stage that appointment implies.

    `appointment-stage-consistent`: one per lead with an appointment record whose appointment stage
    requires a lead stage the lead never entered
    """
    pairs = [(a.id, a.lead_stage) for a in model.appointments.stages if a.lead_stage] if model.appointments else []
    if not pairs:
        return
    rid, title = "appointment-stage-consistent", "Leads with appointments are in the matching stage"
    gap = no_fields(contract, "appointments", "lead_ref", "appointment_stage")
    if gap:
        yield Unchecked(rid, title, "appointments", gap)
        return
    yield Check(id=rid, title=title, section="appointments", table="leads",
                applies=any_of(*(HasAppointment(a) for a, _ in pairs)),
                violates=any_of(*(all_of(HasAppointment(a), Not(Entered(s))) for a, s in pairs)),
                counts=counts(build, rid))
