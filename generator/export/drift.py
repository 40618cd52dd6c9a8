"""Compare a live CRM's configuration with the playbook, in business terms.

Reads lead status values, picklists, queues, validation rules, SLA flows,
the assignment rule and duplicate rules (Salesforce) or properties,
options and the lead pipeline (HubSpot) through the clients in
`generator.crm`, and reports every difference from the `CrmSpec` the
exporters use. Only configuration is read, never lead records.

Exit codes: 0 no drift, 1 drift found, 2 the CRM could not be read completely
(the differences found before the failure are still reported).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from ..crm.http import CrmError
from ..crm.hubspot import HubSpotClient, HubSpotLimitError
from ..crm.salesforce import SalesforceClient, SalesforceLimitError
from ..errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from .mapping import HS_OBJECT, SF_DESCRIBE_TYPES, SF_OBJECT, SF_SOURCE_FIELD, SF_STAGE_FIELD, CrmSpec

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def q(value: object) -> str:
    """A CRM or playbook value quoted for a report line (control characters removed)."""
    return "'" + _CONTROL.sub("?", str(value)) + "'"


@dataclass(frozen=True, order=True)
class Difference:
    """One way the CRM differs from the playbook."""

    area: str  # lead_status | lead_source | field | picklist | queue | property | options | pipeline | group
    kind: str  # missing | extra | changed | order
    subject: str
    message: str


@dataclass
class DriftReport:
    """Differences found in one CRM, what was checked, and what could not be read."""

    system: str
    differences: list[Difference] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def add(self, area: str, kind: str, subject: str, message: str) -> None:
        """Record one difference."""
        self.differences.append(Difference(area, kind, subject, message))

    @property
    def exit_code(self) -> int:
        """0 no drift, 1 drift, 2 the CRM could not be read completely."""
        if self.errors:
            return EXIT_USAGE
        return EXIT_PROBLEMS if self.differences else EXIT_OK

    def text(self) -> str:
        """Human-readable report: one line per difference."""
        name = {"salesforce": "Salesforce", "hubspot": "HubSpot"}[self.system]
        lines = []
        if self.differences:
            n = len(self.differences)
            lines.append(f"{name} differs from the playbook in {n} way{'s' if n != 1 else ''}:")
            lines += [f"- {d.message}" for d in self.differences]
        elif not self.errors:
            lines.append(f"no drift: {name} matches the playbook (checked {', '.join(self.checked)})")
        for e in self.errors:
            lines.append(f"could not read {name} completely: {e}")
        return "\n".join(lines)

    def as_json(self) -> str:
        """Machine-readable report."""
        return json.dumps({
            "system": self.system,
            "drift": bool(self.differences),
            "complete": not self.errors,
            "checked": self.checked,
            "differences": [asdict(d) for d in self.differences],
            "errors": self.errors,
        }, indent=2, sort_keys=True)


def _compare_values(report: DriftReport, area: str, subject: str, expected: list[str], actual: list[str],
                    missing: Callable[[str], str], extra: Callable[[str], str],
                    order: Callable[[list[str], list[str]], str] | None = None) -> None:
    exp_set, act_set = set(expected), set(actual)
    for v in expected:
        if v not in act_set:
            report.add(area, "missing", subject, missing(v))
    for v in actual:
        if v not in exp_set:
            report.add(area, "extra", subject, extra(v))
    if order is not None:
        common_exp = [v for v in expected if v in act_set]
        common_act = [v for v in actual if v in exp_set]
        if common_exp != common_act:
            report.add(area, "order", subject, order(common_exp, common_act))


Check = Callable[[CrmSpec, object, DriftReport], None]


def _run(report: DriftReport, spec: CrmSpec, client: object, checks: Iterable[tuple[str, Check]],
         limit_errors: tuple[type[CrmError], ...]) -> None:
    for name, check in checks:
        try:
            check(spec, client, report)
        except limit_errors as exc:
            report.errors.append(str(exc))
            return  # the allowance is spent: every further call would fail too
        except CrmError as exc:
            report.errors.append(f"{name}: {exc}")
        except (TypeError, KeyError, AttributeError, ValueError, IndexError):
            # A number where an object belongs, a missing key: say which check, never the answer's values.
            report.errors.append(f"{name}: the CRM's answer does not have the documented shape")
        else:
            report.checked.append(name)


# ------------------------------------------------------------- Salesforce
# One function per area, each reading what it needs and adding its differences: testable alone.


def check_lead_status(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """LeadStatus values: one per stage, in stage order, converted and labelled as the playbook says."""
    rows = client.lead_statuses()
    actual = [str(r.get("ApiName") or r.get("MasterLabel")) for r in rows]
    by_value = {str(r.get("ApiName") or r.get("MasterLabel")): r for r in rows}
    stage_of = {st.sf_value: st for st in spec.stages}
    _compare_values(
        report, "lead_status", "LeadStatus", [st.sf_value for st in spec.stages], actual,
        missing=lambda v: f"stage {q(stage_of[v].stage.name)} missing from LeadStatus (value {q(v)})",
        extra=lambda v: f"LeadStatus has extra value {q(v)} that is not a playbook stage",
        order=lambda e, a: ("LeadStatus order differs from the playbook's stage order: expected "
                            + ", ".join(map(q, e)) + "; found " + ", ".join(map(q, a))),
    )
    for st in spec.stages:
        row = by_value.get(st.sf_value)
        if row is None:
            continue
        if bool(row.get("IsConverted")) != st.stage.converted:
            want = "marked converted" if st.stage.converted else "not marked converted"
            report.add("lead_status", "changed", "LeadStatus",
                       f"stage {q(st.stage.name)}: LeadStatus value {q(st.sf_value)} should be {want}")
        label = row.get("MasterLabel")
        if label is not None and label != st.sf_label:
            report.add("lead_status", "changed", "LeadStatus",
                       f"stage {q(st.stage.name)} is labelled {q(label)} in LeadStatus")


def _check_custom_field(report: DriftReport, f, live: dict) -> None:
    if live.get("label") is not None and live.get("label") != f.sf_label:
        report.add("field", "changed", f.sf_name,
                   f"field {f.sf_name} is labelled {q(live.get('label'))} in Salesforce; the playbook says "
                   f"{q(f.sf_label)}")
    want = SF_DESCRIBE_TYPES.get(f.sf_type)
    got = live.get("type")
    if want and got and got != want:
        report.add("field", "changed", f.sf_name,
                   f"field {f.sf_name} is of type {q(got)} in Salesforce; the playbook expects {q(want)}")
        return
    if f.is_picklist:
        _picklist(report, f.sf_name, [v.value for v in f.field.allowed_values], live)


def _check_lead_source(spec: CrmSpec, report: DriftReport, source: dict | None) -> None:
    if not spec.lead_sources:
        return
    if source is None:
        report.add("lead_source", "missing", SF_SOURCE_FIELD, f"{SF_OBJECT} has no {SF_SOURCE_FIELD} field")
        return
    actual = [v.get("value") for v in source.get("picklistValues") or [] if v.get("active", True)]
    _compare_values(
        report, "lead_source", SF_SOURCE_FIELD, [v for v, _ in spec.lead_sources], actual,
        missing=lambda v: f"lead source {q(v)} missing from the {SF_SOURCE_FIELD} picklist",
        extra=lambda v: f"{SF_SOURCE_FIELD} picklist has extra value {q(v)} that no playbook source uses",
    )


def check_lead_fields(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """Lead fields: present, labelled and typed as the playbook says; picklist values; lead sources."""
    by_name = {f.get("name"): f for f in client.describe(SF_OBJECT).get("fields", [])}
    for f in spec.fields:
        if f.sf_name in ("Id", "CreatedDate", SF_STAGE_FIELD):
            continue
        live = by_name.get(f.sf_name)
        if live is None:
            kind = "custom field" if f.sf_custom else "standard field"
            report.add("field", "missing", f.sf_name, f"{kind} {q(f.field.label)} ({f.sf_name}) missing on {SF_OBJECT}")
        elif f.sf_custom:
            _check_custom_field(report, f, live)
        elif f.sf_name != SF_SOURCE_FIELD and f.is_picklist and live.get("type") in ("picklist", "multipicklist"):
            _picklist(report, f.sf_name, [v.value for v in f.field.allowed_values], live)
    _check_lead_source(spec, report, by_name.get(SF_SOURCE_FIELD))


def check_queues(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """Lead queues: the playbook's, named as it says, and no others."""
    by_dev = {str(g.get("DeveloperName")): g for g in client.queues(SF_OBJECT)}
    names = {qs.sf_name: qs for qs in spec.queues}
    _compare_values(
        report, "queue", "Queue", [qs.sf_name for qs in spec.queues], list(by_dev),
        missing=lambda v: f"queue {q(names[v].queue.name)} ({v}) missing, or it does not accept Leads",
        extra=lambda v: f"Salesforce has a Lead queue {q(by_dev[v].get('Name'))} ({v}) the playbook does not define",
    )
    for qs in spec.queues:
        g = by_dev.get(qs.sf_name)
        if g is not None and g.get("Name") != qs.sf_label:
            report.add("queue", "changed", qs.sf_name,
                       f"queue {qs.sf_name} is named {q(g.get('Name'))} in Salesforce; the playbook says "
                       f"{q(qs.sf_label)}")


def check_validation_rules(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """Every validation rule the playbook compiles to exists and is active."""
    rows = client.tooling_query(
        "SELECT ValidationName, Active FROM ValidationRule WHERE EntityDefinition.DeveloperName = 'Lead'")
    live = {str(r.get("ValidationName")): bool(r.get("Active")) for r in rows}
    for r in spec.rules:
        if r.name not in live:
            report.add("validation_rule", "missing", r.name, f"validation rule {r.name} missing ({r.description})")
        elif not live[r.name]:
            report.add("validation_rule", "changed", r.name, f"validation rule {r.name} is inactive ({r.description})")


def check_flows(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """One active flow per SLA."""
    live = {str(r.get("ApiName")): bool(r.get("IsActive"))
            for r in client.query("SELECT ApiName, IsActive FROM FlowDefinitionView")}
    for s in spec.slas:
        if s.sf_flow not in live:
            report.add("flow", "missing", s.sf_flow, f"SLA {q(s.sla.name)}: flow {s.sf_flow} missing")
        elif not live[s.sf_flow]:
            report.add("flow", "changed", s.sf_flow, f"SLA {q(s.sla.name)}: flow {s.sf_flow} is not active")


def check_assignment_rule(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """The playbook's lead assignment rule exists and is the active one."""
    if not spec.queues:
        return
    live = {str(r.get("Name")): bool(r.get("Active"))
            for r in client.query(f"SELECT Name, Active FROM AssignmentRule WHERE SobjectType = '{SF_OBJECT}'")}
    name = spec.assignment_rule
    if name not in live:
        report.add("assignment_rule", "missing", name, f"lead assignment rule {name} missing")
    elif not live[name]:
        active = [n for n, on in live.items() if on]
        report.add("assignment_rule", "changed", name,
                   f"lead assignment rule {name} is not the active one (active: {', '.join(active) or 'none'})")


def check_duplicate_rules(spec: CrmSpec, client: SalesforceClient, report: DriftReport) -> None:
    """Each matching rule is Active and each duplicate rule exists and is active."""
    if not spec.matches:
        return
    matching = {str(r.get("DeveloperName")): str(r.get("RuleStatus"))
                for r in client.query(
                    f"SELECT DeveloperName, RuleStatus FROM MatchingRule WHERE SobjectType = '{SF_OBJECT}'")}
    duplicate = {str(r.get("DeveloperName")): bool(r.get("IsActive"))
                 for r in client.query(
                     f"SELECT DeveloperName, IsActive FROM DuplicateRule WHERE SobjectType = '{SF_OBJECT}'")}
    for m in spec.matches:
        label = q(m.rule.name)
        if m.sf_matching_rule not in matching:
            report.add("duplicate_rule", "missing", m.sf_matching_rule,
                       f"duplicate rule {label}: matching rule {m.sf_matching_rule} missing")
        elif matching[m.sf_matching_rule] != "Active":
            report.add("duplicate_rule", "changed", m.sf_matching_rule,
                       f"duplicate rule {label}: matching rule {m.sf_matching_rule} is "
                       f"{q(matching[m.sf_matching_rule])}, not Active")
        if m.sf_duplicate_rule not in duplicate:
            report.add("duplicate_rule", "missing", m.sf_duplicate_rule,
                       f"duplicate rule {label}: {m.sf_duplicate_rule} missing")
        elif not duplicate[m.sf_duplicate_rule]:
            report.add("duplicate_rule", "changed", m.sf_duplicate_rule,
                       f"duplicate rule {label}: {m.sf_duplicate_rule} is inactive")


SALESFORCE_CHECKS: list[tuple[str, Check]] = [
    ("LeadStatus", check_lead_status),
    ("Lead fields and picklists", check_lead_fields),
    ("queues", check_queues),
    ("validation rules", check_validation_rules),
    ("SLA flows", check_flows),
    ("assignment rule", check_assignment_rule),
    ("duplicate rules", check_duplicate_rules),
]


def salesforce_drift(spec: CrmSpec, client: SalesforceClient) -> DriftReport:
    """Every difference between the org's Lead configuration and the playbook."""
    report = DriftReport("salesforce")
    _run(report, spec, client, SALESFORCE_CHECKS, (SalesforceLimitError,))
    return report


def _picklist(report: DriftReport, name: str, expected: list[str], live: dict) -> None:
    actual = [str(v.get("value")) for v in live.get("picklistValues") or [] if v.get("active", True)]
    _compare_values(
        report, "picklist", name, expected, actual,
        missing=lambda v: f"picklist {name} is missing value {q(v)}",
        extra=lambda v: f"picklist {name} has extra value {q(v)}",
    )


# ---------------------------------------------------------------- HubSpot


def check_groups(spec: CrmSpec, client: HubSpotClient, report: DriftReport) -> None:
    """The playbook's property group exists on the lead object."""
    names = {g.get("name") for g in client.get_property_groups(HS_OBJECT)}
    if spec.hs_group not in names:
        report.add("group", "missing", spec.hs_group,
                   f"property group {q(spec.hs_group_label)} ({spec.hs_group}) missing on {HS_OBJECT}")


def check_properties(spec: CrmSpec, client: HubSpotClient, report: DriftReport) -> None:
    """Custom lead properties: present, labelled and typed as the playbook says, with its options."""
    live = {p.get("name"): p for p in client.get_properties(HS_OBJECT)}
    for f in spec.hs_custom_fields:
        p = live.get(f.hs_name)
        if p is None:
            report.add("property", "missing", f.hs_name,
                       f"property {q(f.field.label)} ({f.hs_name}) missing on {HS_OBJECT}")
            continue
        if p.get("label") is not None and p.get("label") != f.field.label:
            report.add("property", "changed", f.hs_name,
                       f"property {f.hs_name} is labelled {q(p.get('label'))}; the playbook says {q(f.field.label)}")
        if (p.get("type"), p.get("fieldType")) != (f.hs_type, f.hs_field_type):
            report.add("property", "changed", f.hs_name,
                       f"property {f.hs_name} is {q(p.get('type'))}/{q(p.get('fieldType'))}; the playbook "
                       f"expects {q(f.hs_type)}/{q(f.hs_field_type)}")
            continue
        if f.is_picklist:
            options = sorted(p.get("options") or [], key=lambda o: o.get("displayOrder", 0))
            actual = [str(o.get("value")) for o in options if not o.get("hidden", False)]
            _compare_values(
                report, "options", f.hs_name, [v.value for v in f.field.allowed_values], actual,
                missing=lambda v, n=f.hs_name: f"property {n} is missing option {q(v)}",
                extra=lambda v, n=f.hs_name: f"property {n} has extra option {q(v)}",
            )


def check_pipeline(spec: CrmSpec, client: HubSpotClient, report: DriftReport) -> None:
    """The lead pipeline: the playbook's stages in its order, each open or closed as the playbook says."""
    pipes = client.get_pipelines(HS_OBJECT)
    match = [p for p in pipes if p.get("label") == spec.hs_pipeline_label or p.get("id") == spec.hs_pipeline_id]
    if not match:
        report.add("pipeline", "missing", spec.hs_pipeline_label, f"lead pipeline {q(spec.hs_pipeline_label)} missing")
        return
    stages = sorted((s for s in match[0].get("stages") or [] if not s.get("archived", False)),
                    key=lambda s: s.get("displayOrder", 0))
    _compare_values(
        report, "pipeline", spec.hs_pipeline_label, [st.hs_label for st in spec.stages],
        [str(s.get("label")) for s in stages],
        missing=lambda v: f"stage {q(v)} missing from the lead pipeline",
        extra=lambda v: f"lead pipeline has extra stage {q(v)} that is not a playbook stage",
        order=lambda e, a: ("lead pipeline stage order differs: expected " + ", ".join(map(q, e))
                            + "; found " + ", ".join(map(q, a))),
    )
    live = {str(s.get("label")): s for s in stages}
    for st in spec.stages:
        s = live.get(st.hs_label)
        closed = str((s or {}).get("metadata", {}).get("isClosed", "false")).lower() == "true"
        if s is not None and closed != st.stage.closed:
            want = "closed" if st.stage.closed else "open"
            report.add("pipeline", "changed", st.hs_label,
                       f"stage {q(st.hs_label)} should be {want} (metadata isClosed)")


HUBSPOT_CHECKS: list[tuple[str, Check]] = [
    ("property groups", check_groups),
    ("properties and options", check_properties),
    ("lead pipeline", check_pipeline),
]


def hubspot_drift(spec: CrmSpec, client: HubSpotClient) -> DriftReport:
    """Every difference between the portal's lead properties and pipeline and the playbook."""
    report = DriftReport("hubspot")
    _run(report, spec, client, HUBSPOT_CHECKS, (HubSpotLimitError,))
    return report


__all__ = ["DriftReport", "Difference", "salesforce_drift", "hubspot_drift", "SALESFORCE_CHECKS", "HUBSPOT_CHECKS"]
