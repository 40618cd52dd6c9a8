"""Health information stays out of HubSpot unless the playbook names a PHI field there on purpose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.export import hubspot, pages
from generator.export.mapping import NOT_IN_HUBSPOT, build_spec
from generator.model import Playbook
from generator.text import md_text
from generator.validate import load_playbook

ROOT = Path(__file__).parent.parent
DEFAULT = ROOT / "process" / "lead-management"
FIXTURE = ROOT / "tests" / "fixtures" / "export" / "clinic"


def without_hubspot_names(model: Playbook) -> Playbook:
    """The model with every PHI field's explicit HubSpot name removed."""
    data = model.model_dump()
    for f in data["fields"]:
        if f["phi"]:
            f["names"]["hubspot"] = None
    return Playbook.model_validate(data)


def models():
    default = load_playbook(DEFAULT)
    clinic = load_playbook(FIXTURE)
    return {"default": default, "clinic": clinic, "clinic-unnamed-phi": without_hubspot_names(clinic)}


@pytest.fixture(scope="module", params=["default", "clinic", "clinic-unnamed-phi"])
def case(request):
    model = models()[request.param]
    return model, build_spec(model)


def hidden(model: Playbook) -> list:
    return [f for f in model.fields if f.record == "lead" and f.phi and not f.names.hubspot]


def test_cases_cover_hidden_phi_fields():
    ms = models()
    assert hidden(ms["default"]), "the default playbook has PHI lead fields without a HubSpot name"
    assert hidden(ms["clinic-unnamed-phi"])
    assert not hidden(ms["clinic"])


def json_strings(data) -> set[str]:
    """Every key and string value in a JSON document."""
    if isinstance(data, dict):
        return set(data) | {s for v in data.values() for s in json_strings(v)}
    if isinstance(data, list):
        return {s for v in data for s in json_strings(v)}
    return {data} if isinstance(data, str) else set()


def test_no_unnamed_phi_field_anywhere_in_the_hubspot_export(case):
    model, spec = case
    files = hubspot.render(spec)
    exported = {p["name"] for p in json.loads(files["properties.json"])["inputs"]}
    assert exported == {f.hs_name for f in spec.hs_custom_fields}
    strings = {name: json_strings(json.loads(files[name])) for name in ("properties.json", "pipeline.json")}
    steps = files["MANUAL-STEPS.md"].decode("utf-8")
    for f in hidden(model):
        fs = spec.field_by_id[f.id]
        assert not fs.in_hubspot
        for name, values in strings.items():
            assert not {fs.hs_name, f.id, f.label} & values, (f.id, name)
        # MANUAL-STEPS names a property as `name`, after its label: neither may appear.
        for token in {fs.hs_name, f.id}:
            assert f"`{token}`" not in steps, f.id
        assert md_text(f.label) + " (`" not in steps, f.id


def test_phi_field_with_explicit_hubspot_name_is_exported():
    spec = build_spec(load_playbook(FIXTURE))
    named = [f for f in spec.fields if f.field.phi and f.field.names.hubspot]
    assert named
    exported = {p["name"] for p in json.loads(hubspot.render(spec)["properties.json"])["inputs"]}
    for f in named:
        assert f.in_hubspot and f.hs_name in exported


def test_manual_steps_say_rules_on_hidden_fields_are_salesforce_only():
    spec = build_spec(load_playbook(DEFAULT))
    steps = hubspot.manual_steps(spec)
    assert "enforced in Salesforce only" in steps
    assert "kept out of HubSpot" in steps


def test_crm_page_marks_hidden_fields_not_in_hubspot(case):
    model, spec = case
    rows = [line for line in pages.render_page(spec).splitlines() if line.startswith("| ")]
    for f in hidden(model):
        fs = spec.field_by_id[f.id]
        row = next(r for r in rows if r.startswith(f"| {md_text(f.label)} | {md_text(fs.sf_name)} "))
        cells = row.split(" | ")
        assert cells[2] == NOT_IN_HUBSPOT
        assert md_text(fs.hs_name) + " (" not in row


def test_hubspot_pull_requests_no_phi_property_kept_out_of_hubspot():
    from generator.conformance.sources.hubspot_pull import mappings

    data = load_playbook(FIXTURE).model_dump()
    phone = next(f for f in data["fields"] if f["semantic"] == "phone" and f["record"] == "lead")
    phone["phi"], phone["names"]["hubspot"] = True, None  # a standard property, but marked health information
    model = without_hubspot_names(Playbook.model_validate(data))
    requested = {c.crm_field for m in mappings(model).values() for c in m.columns if c.crm_field}
    spec = build_spec(model)
    for f in hidden(model):
        assert spec.field_by_id[f.id].hs_name not in requested, f.id
    assert "phone" not in requested
