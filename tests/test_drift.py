"""Drift against the local fake CRM: none when configured from our own export, planted drift found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakecrm import FakeCRM
from generator.cli import run
from generator.crm.hubspot import HubSpotClient
from generator.crm.salesforce import SalesforceClient
from generator.export import hubspot, salesforce
from generator.export.drift import hubspot_drift, salesforce_drift
from generator.export.mapping import build_spec
from generator.export.writer import write_tree
from generator.validate import load_playbook

FIXTURE = Path(__file__).parent / "fixtures" / "export" / "clinic"


@pytest.fixture(scope="module")
def spec():
    return build_spec(load_playbook(FIXTURE))


@pytest.fixture
def fake(spec, tmp_path):
    sf_out, hs_out = tmp_path / "sf", tmp_path / "hs"
    write_tree(sf_out, salesforce.render(spec), "sfdx-project.json")
    write_tree(hs_out, hubspot.render(spec), "MANUAL-STEPS.md")
    with FakeCRM(page_size=2) as f:
        f.load_salesforce_export(sf_out)
        f.load_hubspot_export(hs_out)
        yield f


def sf_report(spec, fake):
    with SalesforceClient.from_env(fake.sf_env(), sleep=lambda s: None) as c:
        return salesforce_drift(spec, c)


def hs_report(spec, fake):
    with HubSpotClient.from_env(fake.hs_env(), sleep=lambda s: None) as c:
        return hubspot_drift(spec, c)


def lead_field(fake, name):
    return next(f for f in fake.sf.describes["Lead"]["fields"] if f["name"] == name)


def test_no_drift_when_configured_from_our_export(spec, fake):
    sf = sf_report(spec, fake)
    assert sf.differences == [] and sf.errors == [] and sf.exit_code == 0
    assert sf.checked == ["LeadStatus", "Lead fields and picklists", "queues", "validation rules", "SLA flows",
                          "assignment rule", "duplicate rules"]
    hs = hs_report(spec, fake)
    assert hs.differences == [] and hs.errors == [] and hs.exit_code == 0
    # LeadStatus has 5 values at 2 per page: paging was exercised.
    assert sum(1 for _m, p, _s in fake.log if "/query/" in p) >= 2


def test_salesforce_planted_drift(spec, fake):
    statuses = fake.sf.tables["LeadStatus"]
    removed = next(r for r in statuses if r["ApiName"] == "Qualified")
    statuses.remove(removed)
    statuses.append({"ApiName": "Working - Contacted", "MasterLabel": "Working - Contacted", "IsConverted": False,
                     "IsDefault": False, "SortOrder": 99})
    next(r for r in statuses if r["ApiName"] == "Appointment scheduled")["IsConverted"] = False
    lead_field(fake, "Specialty__c")["picklistValues"].append(
        {"value": "podiatry", "label": "Podiatry", "active": True, "defaultValue": False})
    region = lead_field(fake, "Region__c")
    region["picklistValues"] = [v for v in region["picklistValues"] if v["value"] != "south"]
    fake.sf.describes["Lead"]["fields"] = [f for f in fake.sf.describes["Lead"]["fields"] if f["name"] != "Score__c"]
    lead_field(fake, "Location__c")["type"] = "string"
    lead_field(fake, "Condition__c")["label"] = "Medical condition"
    fake.sf.tables["Group"] = [g for g in fake.sf.tables["Group"] if g["DeveloperName"] != "General_Queue"]

    report = sf_report(spec, fake)
    messages = [d.message for d in report.differences]
    assert report.exit_code == 1
    assert messages == [
        "stage 'Qualified' missing from LeadStatus (value 'Qualified')",
        "LeadStatus has extra value 'Working - Contacted' that is not a playbook stage",
        "stage 'Appointment scheduled': LeadStatus value 'Appointment scheduled' should be marked converted",
        "field Condition__c is labelled 'Medical condition' in Salesforce; the playbook says 'Condition'",
        "picklist Specialty__c has extra value 'podiatry'",
        "picklist Region__c is missing value 'south'",
        "field Location__c is of type 'string' in Salesforce; the playbook expects 'picklist'",
        "custom field 'Score' (Score__c) missing on Lead",
        "queue 'General' (General_Queue) missing, or it does not accept Leads",
    ]


def test_salesforce_rules_flows_and_duplicates_drift(spec, fake):
    fake.sf.tooling["ValidationRule"] = [r for r in fake.sf.tooling["ValidationRule"]
                                         if r["ValidationName"] != "Closure_reason_required"]
    next(r for r in fake.sf.tooling["ValidationRule"]
         if r["ValidationName"] == "Stage_qualified_requires_fields")["Active"] = False
    next(f for f in fake.sf.tables["FlowDefinitionView"] if f["ApiName"] == "Playbook_SLA_first_call")["IsActive"] = False
    fake.sf.tables["FlowDefinitionView"] = [f for f in fake.sf.tables["FlowDefinitionView"]
                                            if f["ApiName"] != "Playbook_SLA_qualify_fast"]
    fake.sf.tables["AssignmentRule"][0]["Active"] = False
    fake.sf.tables["MatchingRule"][0]["RuleStatus"] = "Inactive"
    fake.sf.tables["DuplicateRule"] = fake.sf.tables["DuplicateRule"][1:]
    messages = [d.message for d in sf_report(spec, fake).differences]
    assert messages == [
        "validation rule Stage_qualified_requires_fields is inactive "
        "(Playbook: a lead entering stage 'Qualified' must have Specialty, Region, Consent to contact.)",
        "validation rule Closure_reason_required missing (Playbook: every closed lead records its closure reason.)",
        "SLA 'Qualify quickly': flow Playbook_SLA_qualify_fast missing",
        "SLA 'First call': flow Playbook_SLA_first_call is not active",
        "lead assignment rule Playbook_routing_clinic is not the active one (active: none)",
        "duplicate rule 'Same email': matching rule Playbook_match_email is 'Inactive', not Active",
        "duplicate rule 'Same email': Playbook_duplicates_email missing",
    ]


def test_salesforce_order_label_source_and_extra_queue(spec, fake):
    statuses = fake.sf.tables["LeadStatus"]
    statuses[0]["SortOrder"], statuses[1]["SortOrder"] = statuses[1]["SortOrder"], statuses[0]["SortOrder"]
    statuses[2]["MasterLabel"] = "Booked"
    source = lead_field(fake, "LeadSource")
    source["picklistValues"] = [v for v in source["picklistValues"] if v["value"] != "Web"] + [
        {"value": "Purchased List", "label": "Purchased List", "active": True}]
    fake.sf.tables["Group"].append({"Id": "00Gx", "Name": "Podiatry", "DeveloperName": "Podiatry", "Type": "Queue"})
    fake.sf.tables["QueueSobject"].append({"QueueId": "00Gx", "SobjectType": "Lead"})
    report = sf_report(spec, fake)
    kinds = sorted((d.area, d.kind) for d in report.differences)
    assert kinds == [("lead_source", "extra"), ("lead_source", "missing"), ("lead_status", "changed"),
                     ("lead_status", "order"), ("queue", "extra")]
    assert any("LeadStatus order differs" in d.message for d in report.differences)


def test_hubspot_planted_drift(spec, fake):
    props = fake.hs.properties["leads"]
    spec_prop = next(p for p in props if p["name"] == "specialty")
    spec_prop["options"].append({"label": "Podiatry", "value": "podiatry", "displayOrder": 9, "hidden": False})
    props.remove(next(p for p in props if p["name"] == "region"))
    next(p for p in props if p["name"] == "score")["type"] = "string"
    next(p for p in props if p["name"] == "location")["label"] = "Clinic"
    stages = fake.hs.pipelines["leads"][0]["stages"]
    stages.pop(1)
    stages.append({"id": "x", "label": "Nurture", "displayOrder": 50, "archived": False})
    fake.hs.groups["leads"] = []
    report = hs_report(spec, fake)
    assert report.exit_code == 1
    assert [d.message for d in report.differences] == [
        "property group 'Playbook: Clinic <b>leads</b> & \"intake\"' (playbook_clinic) missing on leads",
        "property specialty has extra option 'podiatry'",
        "property 'Region' (region) missing on leads",
        "property location is labelled 'Clinic'; the playbook says 'Location'",
        "property score is 'string'/'number'; the playbook expects 'number'/'number'",
        "stage 'Qualified' missing from the lead pipeline",
        "lead pipeline has extra stage 'Nurture' that is not a playbook stage",
    ]


def test_hubspot_missing_pipeline(spec, fake):
    fake.hs.pipelines["leads"] = [{"id": "default", "label": "Sales", "stages": []}]
    report = hs_report(spec, fake)
    assert [d.message for d in report.differences] == [
        "lead pipeline 'Clinic <b>leads</b> & \"intake\"' missing"]


def test_limit_exceeded_is_incomplete_read_exit_2(spec, fake):
    fake.sf_limit_exceeded("/services/data/v62.0/sobjects/")
    report = sf_report(spec, fake)
    assert report.exit_code == 2
    assert report.checked == ["LeadStatus"]
    assert "REQUEST_LIMIT_EXCEEDED" in report.errors[0]
    # the limit answer was the last call: nothing retried, no further check attempted
    assert fake.log[-1] == ("GET", "/services/data/v62.0/sobjects/Lead/describe", 403)
    assert sum(1 for _m, _p, s in fake.log if s == 403) == 1


def test_retries_during_drift_still_complete(spec, fake):
    fake.fail_next("/crm/v3/properties/leads", 429, {"status": "error", "message": "slow"},
                   headers={"Retry-After": "2"})
    fake.fail_next("/crm/v3/pipelines", 500, {"status": "error", "message": "oops"})
    report = hs_report(spec, fake)
    assert report.exit_code == 0 and report.differences == []


def test_drift_cli_text_json_and_exit_codes(spec, fake, monkeypatch, capsys):
    waits: list[float] = []
    monkeypatch.setattr("generator.crm.http._default_sleep", waits.append)
    for k, v in {**fake.sf_env(), **fake.hs_env()}.items():
        monkeypatch.setenv(k, v)
    assert run(["drift", "salesforce", str(FIXTURE)]) == 0
    assert "no drift" in capsys.readouterr().out
    lead_field(fake, "Specialty__c")["picklistValues"].append({"value": "podiatry", "active": True})
    assert run(["drift", "salesforce", str(FIXTURE), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["drift"] is True and data["complete"] is True
    assert data["differences"][0]["message"] == "picklist Specialty__c has extra value 'podiatry'"
    fake.fail_next("/crm/v3/", 503, {"status": "error", "message": "down"}, times=100)
    assert run(["drift", "hubspot", str(FIXTURE)]) == 2
    out = capsys.readouterr()
    assert "could not read HubSpot completely" in out.out
    assert fake.token not in out.out + out.err
    assert len(waits) == 4 * 3  # 5 attempts per check, 3 checks, no real sleeping


def test_drift_cli_without_credentials_exit_2(monkeypatch, capsys):
    for k in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN", "HUBSPOT_ACCESS_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    assert run(["drift", "salesforce", str(FIXTURE)]) == 2
    assert "SALESFORCE_ACCESS_TOKEN" in capsys.readouterr().err


def test_hostile_crm_values_cannot_inject_terminal_codes(spec, fake):
    lead_field(fake, "Specialty__c")["picklistValues"].append({"value": "evil\x1b[2Jvalue", "active": True})
    report = sf_report(spec, fake)
    assert "\x1b" not in report.text()


def test_default_playbook_has_no_drift_against_its_own_export(tmp_path):
    root = Path(__file__).parent.parent / "process" / "lead-management"
    spec = build_spec(load_playbook(root))
    write_tree(tmp_path / "sf", salesforce.render(spec), "sfdx-project.json")
    write_tree(tmp_path / "hs", hubspot.render(spec), "MANUAL-STEPS.md")
    with FakeCRM(page_size=5) as f:
        f.load_salesforce_export(tmp_path / "sf")
        f.load_hubspot_export(tmp_path / "hs")
        sf, hs = sf_report(spec, f), hs_report(spec, f)
    assert (sf.differences, sf.errors) == ([], [])
    assert (hs.differences, hs.errors) == ([], [])


def test_hubspot_drift_does_not_ask_for_phi_fields_kept_out_of_hubspot(tmp_path):
    from test_export_phi import hidden, without_hubspot_names

    for model in (load_playbook(Path(__file__).parent.parent / "process" / "lead-management"),
                  without_hubspot_names(load_playbook(FIXTURE))):
        spec = build_spec(model)
        kept_out = hidden(model)
        assert kept_out
        out = tmp_path / model.playbook.id
        write_tree(out, hubspot.render(spec), "MANUAL-STEPS.md")
        with FakeCRM(page_size=5) as f:
            f.load_hubspot_export(out)
            live = {p["name"] for p in f.hs.properties["leads"]}
            report = hs_report(spec, f)
        assert (report.differences, report.errors) == ([], [])
        for fld in kept_out:
            assert spec.field_by_id[fld.id].hs_name not in live
            assert fld.id not in {d.subject for d in report.differences}


class _Stub:
    """A client answering one call with canned rows: one drift check, alone, with no server."""

    def __init__(self, **answers):
        self.answers = answers

    def __getattr__(self, name):
        return lambda *a, **k: self.answers[name]


def test_each_check_runs_alone_on_a_stub_client(spec):
    from generator.export.drift import (HUBSPOT_CHECKS, SALESFORCE_CHECKS, DriftReport, check_pipeline,
                                        check_queues)

    assert [n for n, _ in SALESFORCE_CHECKS][:3] == ["LeadStatus", "Lead fields and picklists", "queues"]
    assert [n for n, _ in HUBSPOT_CHECKS] == ["property groups", "properties and options", "lead pipeline"]
    report = DriftReport("salesforce")
    live = [{"DeveloperName": q.sf_name, "Name": q.sf_label} for q in spec.queues]
    check_queues(spec, _Stub(queues=live + [{"DeveloperName": "Extra_Queue", "Name": "Extra"}]), report)
    assert [(d.area, d.kind) for d in report.differences] == [("queue", "extra")]
    report = DriftReport("hubspot")
    stages = [{"label": st.hs_label, "displayOrder": st.order, "metadata": {"isClosed": "false"}}
              for st in spec.stages]
    check_pipeline(spec, _Stub(get_pipelines=[{"id": "p", "label": spec.hs_pipeline_label, "stages": stages}]),
                   report)
    closed = [st.hs_label for st in spec.stages if st.stage.closed]
    assert closed and [(d.kind, d.subject) for d in report.differences] == [("changed", s) for s in closed]
