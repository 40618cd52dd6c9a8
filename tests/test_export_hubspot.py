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
    groups = json.loads(files["property-groups.json"])
    assert groups["inputs"][0]["name"] == spec.hs_group


def test_manual_steps_cover_what_the_api_cannot_set(files):
    text = files["MANUAL-STEPS.md"].decode()
    assert "- **Qualified**: Specialty (`specialty`), Region (`region`), Consent to contact (`consent_to_contact`)" \
        in text
    assert "Show and require Closure reason (`closure_reason`) when the stage is Closed lost." in text
    assert "Require Reason note (`reason_note`) when Closure reason is Not a fit (`not-a-fit`)." in text
    routing = text.split("## 3. Routing")[1].split("## 4.")[0]
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
                                                      "property-groups.json"]
    assert "wrote 4 files" in capsys.readouterr().out
    assert run(["export", "--help"]) == 0
    listing = capsys.readouterr().out
    assert "salesforce" in listing and "hubspot" in listing
    import importlib.util

    if importlib.util.find_spec("generator.conformance.cli") is not None:
        assert "conformance" in listing
