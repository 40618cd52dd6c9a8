"""HubSpot export: golden files, API shapes, manual steps generated from the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.export import hubspot
from generator.export.mapping import build_spec
from generator.validate import load_playbook
from test_export_salesforce import FIXTURE, GOLDEN, compare_golden

VALID_TYPES = {  # Properties API v3: type -> fieldTypes it accepts
    "string": {"text", "textarea", "phonenumber", "file", "html"},
    "enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
    "bool": {"booleancheckbox"},
    "number": {"number", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
}
PROPERTY_KEYS = {"name", "label", "type", "fieldType", "groupName", "description", "options", "formField",
                 "hasUniqueValue", "displayOrder", "hidden", "calculationFormula", "externalOptions",
                 "referencedObjectType"}
OPTION_KEYS = {"label", "value", "displayOrder", "hidden", "description"}


@pytest.fixture(scope="module")
def spec():
    return build_spec(load_playbook(FIXTURE))


@pytest.fixture(scope="module")
def files(spec):
    return hubspot.render(spec)


def test_hubspot_export_matches_golden(files):
    compare_golden(files, GOLDEN / "clinic" / "hubspot")


def test_default_playbook_hubspot_export_matches_golden():
    default = Path(__file__).parent.parent / "process" / "lead-management"
    compare_golden(hubspot.render(build_spec(load_playbook(default))), GOLDEN / "lead-management" / "hubspot")


def test_properties_follow_the_api_shape(files, spec):
    body = json.loads(files["properties.json"])
    assert set(body) == {"inputs"}
    names = [p["name"] for p in body["inputs"]]
    assert names == [f.hs_name for f in spec.hs_custom_fields]
    for p in body["inputs"]:
        assert set(p) <= PROPERTY_KEYS, p["name"]
        assert p["fieldType"] in VALID_TYPES[p["type"]], p["name"]
        assert p["groupName"] == spec.hs_group
        if p["type"] in ("enumeration", "bool"):
            assert p["options"], p["name"]
            assert [o["displayOrder"] for o in p["options"]] == list(range(len(p["options"])))
            for o in p["options"]:
                assert set(o) <= OPTION_KEYS
    specialty = next(p for p in body["inputs"] if p["name"] == "specialty")
    assert [o["value"] for o in specialty["options"]] == ["cardiology", "orthopedics"]
    assert specialty["options"][0]["label"] == "Cardiology <heart>"  # JSON carries text as text
    consent = next(p for p in body["inputs"] if p["name"] == "consent_to_contact")
    assert (consent["type"], consent["fieldType"]) == ("bool", "booleancheckbox")


def test_pipeline_has_stages_in_playbook_order(files, spec):
    body = json.loads(files["pipeline.json"])
    assert body["label"] == spec.model.playbook.title
    assert [s["label"] for s in body["stages"]] == [s.name for s in spec.model.stages]
    assert [s["displayOrder"] for s in body["stages"]] == list(range(len(spec.model.stages)))
    # each stage says whether it is closed, as the leads pipeline's stage metadata does (string values)
    assert {s["label"]: s["metadata"] for s in body["stages"]} == {
        s.name: {"isClosed": "true" if s.closed else "false"} for s in spec.model.stages}
    assert any(s.closed for s in spec.model.stages) and not all(s.closed for s in spec.model.stages)
    group = json.loads(files["property-groups.json"])  # one PropertyGroupCreate, no wrapper
    assert group == {"name": spec.hs_group, "label": spec.hs_group_label, "displayOrder": -1}


def test_every_body_names_its_endpoint(files):
    reqs = json.loads(files["requests.json"])
    assert sorted(reqs) == sorted(p for p in files if p.endswith(".json") and p != "requests.json")
    assert reqs["property-groups.json"]["path"] == "/crm/v3/properties/0-136/groups"
    assert reqs["properties.json"]["path"] == "/crm/v3/properties/0-136/batch/create"
    assert reqs["pipeline.json"]["path"] == "/crm/v3/pipelines/0-136"
    assert {r["method"] for r in reqs.values()} == {"POST"} and {r["objectType"] for r in reqs.values()} == {"0-136"}
    text = files["MANUAL-STEPS.md"].decode()
    for name, r in reqs.items():
        assert f"`{r['method']} {r['path']}` with `{name}`" in text


def test_contact_properties_are_not_called_lead_properties(files):
    text = files["MANUAL-STEPS.md"].decode()
    lead_part = text.split("Standard lead properties")[1].split("Standard contact properties")[0]
    contact_part = text.split("Standard contact properties")[1].split("##")[0]
    for name in ("email", "phone", "firstname", "lastname"):
        assert f"`{name}`" not in lead_part
    assert "`email`" in contact_part and "`mobilephone`" in contact_part
    assert "`hs_lead_name`" in text and "`578`" in text


def test_manual_steps_cover_what_the_api_cannot_set(files):
    text = files["MANUAL-STEPS.md"].decode()
    assert "- **Qualified**: Specialty (`specialty`), Region (`region`), Consent to contact (`consent_to_contact`)" \
        in text
    assert "Show and require Closure reason (`closure_reason`) when the stage is Closed lost." in text
    assert "Require Reason note (`reason_note`) when Closure reason is Not a fit (`not-a-fit`)." in text
    routing = text.split("## 4. Routing")[1].split("## 5.")[0]
    assert routing.index("Cardiology anywhere") < routing.index("Everything else") < routing.index("fallback")
    # Process text is escaped: no raw HTML from the playbook title reaches Markdown.
    assert "<b>" not in text and "&lt;b&gt;" in text


def test_hubspot_export_is_deterministic(spec):
    assert hubspot.render(spec) == hubspot.render(build_spec(load_playbook(FIXTURE)))


def test_export_hubspot_cli_and_group_listing(tmp_path, capsys):
    from generator.cli import run

    out = tmp_path / "hs"
    assert run(["export", "hubspot", "--out", str(out), str(FIXTURE)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["MANUAL-STEPS.md", "pipeline.json", "properties.json",
                                                      "property-groups.json", "requests.json"]
    assert "wrote 5 files" in capsys.readouterr().out
    assert run(["export", "--help"]) == 0
    listing = capsys.readouterr().out
    assert "salesforce" in listing and "hubspot" in listing
    import importlib.util

    if importlib.util.find_spec("generator.conformance.cli") is not None:
        assert "conformance" in listing
