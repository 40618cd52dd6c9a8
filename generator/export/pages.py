"""The site's "CRM configuration" page, generated from the exporters' own mapping.

For each stage, field, queue, SLA and duplicate rule: its name in Salesforce
and HubSpot and what enforces it there. Everything comes from
`mapping.build_spec`, the same object `playbook export` and `playbook drift`
use, so the page cannot disagree with the exported configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..site.render import Md
from ..text import md_text
from .mapping import HS_OBJECT, NOT_IN_HUBSPOT, SF_OBJECT, CrmSpec, build_spec

PAGE = "crm-configuration.md"


def _join(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def stage_enforcement(spec: CrmSpec, stage_id: str) -> tuple[str, str]:
    """(Salesforce, HubSpot) Markdown saying what enforces a stage."""
    st = spec.stage_by_id[stage_id]
    sf = [f"validation rule {md_text(r.name)}" for r in spec.rules_for_stage(stage_id)]
    sf.append(f"Path {md_text(spec.path_assistant)}")
    if st.stage.converted:
        sf.append("converted status")
    hs = []
    if st.stage.required_fields:
        hs.append("required properties on the stage (manual step)")
    if st.stage.reason_note_required or st.stage.closed:
        hs.append("conditional property logic (manual step)")
    return _join(sf), _join(hs) if hs else "pipeline order"


@dataclass(frozen=True)
class Table:
    """One table of the page: a heading, its column names and rows of escaped Markdown cells."""

    heading: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def page_view(spec: CrmSpec) -> dict:
    """The page's view model: every cell already escaped (`md_text`), in page order."""
    m = spec.model
    stages = [(md_text(st.stage.name), md_text(st.sf_value), md_text(st.hs_label), *stage_enforcement(spec, st.id))
              for st in spec.stages]
    fields = []
    for f in spec.fields:
        sf_rule, hs_rule = spec.field_enforcement(f)
        sf_name = md_text(f.sf_name) + (" (custom)" if f.sf_custom else " (standard)")
        hs_name = (md_text(f.hs_name) + (" (custom)" if f.hs_custom else " (standard)")
                   if f.in_hubspot else NOT_IN_HUBSPOT)
        fields.append((md_text(f.field.label), sf_name, hs_name, md_text(sf_rule), md_text(hs_rule)))
    queues = []
    for qs in spec.queues:
        where = [f"entry {p}" for p in qs.rule_positions] + (["fallback (last entry)"] if qs.fallback else [])
        sf = f"assignment rule {md_text(spec.assignment_rule)}: {', '.join(where) or 'no entry'}"
        hs = f"queue property value {md_text(qs.hs_value)}" if qs.hs_value else "a team"
        queues.append((md_text(qs.queue.name), md_text(qs.sf_name), hs, sf, "routing workflow (manual step)"))
    slas = []
    for s in spec.slas:
        levels = len(s.sla.escalations) or 1
        slas.append((md_text(s.sla.name), md_text(str(s.sla.within)),
                     f"record-triggered flow {md_text(s.sf_flow)} ({levels} scheduled path{'s' if levels != 1 else ''})",
                     "workflow with delay and escalation (manual step)"))
    matches = [(md_text(ms.rule.name), ", ".join(md_text(f.field.label) for f in ms.fields),
                f"matching rule {md_text(ms.sf_matching_rule)}, duplicate rule {md_text(ms.sf_duplicate_rule)}",
                "duplicate management (manual step)") for ms in spec.matches]
    enforced = ("Enforced in Salesforce by", "Enforced in HubSpot by")
    return {
        "intro": Md(f"How the playbook *{md_text(m.playbook.title)}* is configured in Salesforce (object {SF_OBJECT}) "
                    f"and HubSpot (object {HS_OBJECT}). Generated from the same mapping as `playbook export` and "
                    "`playbook drift`; run `playbook drift salesforce` or `playbook drift hubspot` to check a live "
                    "CRM against this page."),
        "tables": [
            Table("Stages", ("Stage", "Salesforce LeadStatus", "HubSpot pipeline stage", *enforced), stages),
            Table("Fields", ("Field", "Salesforce", "HubSpot", *enforced), fields),
            Table("Queues", ("Queue", "Salesforce queue", "HubSpot", *enforced), queues),
            Table("SLAs", ("SLA", "Within", "Salesforce", "HubSpot"), slas),
            Table("Duplicate rules", ("Rule", "Matches on", "Salesforce", "HubSpot"), matches),
        ],
        "note": Md("Business-hours SLAs run on the wall clock inside Salesforce flows; `playbook conform` "
                   "measures them on the business calendar."),
    }


def render_page(spec: CrmSpec) -> str:
    """Markdown of the CRM configuration page, from its template (templates/crm-configuration.md.j2)."""
    from ..site.render import environment

    return environment().get_template("crm-configuration.md.j2").render(v=page_view(spec))


def contribute(model, process_dir: Path):
    """The CRM configuration page, plus a CRM line under each stage and SLA."""
    from ..site.contrib import Contribution

    spec = build_spec(model)
    stage_sections = {}
    for st in spec.stages:
        sf, hs = stage_enforcement(spec, st.id)
        stage_sections[st.id] = (f"**In the CRM:** Salesforce LeadStatus {md_text(st.sf_value)} ({sf}); "
                                 f"HubSpot stage {md_text(st.hs_label)} ({hs}).")
    sla_sections = {s.id: f"**In the CRM:** Salesforce flow {md_text(s.sf_flow)}; HubSpot workflow (manual step)."
                    for s in spec.slas}
    return Contribution(
        pages={PAGE: render_page(spec)},
        nav=[("CRM configuration", PAGE)],
        stage_sections=stage_sections,
        sla_sections=sla_sections,
    )
