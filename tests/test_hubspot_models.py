"""Every HubSpot body we write or send, checked against HubSpot's published API client.

`@hubspot/api-client` is generated from HubSpot's OpenAPI specs; tests/node/check_hubspot.js finds the
client operation each request's method and path belong to, and checks the body against the model that
operation serializes (attributes, required attributes, types, enums). Covered: the export's files for
both playbooks (at the endpoints requests.json names beside them) and every request
`playbook deploy hubspot` plans (create, update and prune).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakecrm import FakeCRM
from nodetools import run_script

from generator.crm.hubspot import HubSpotClient
from generator.export import hubspot
from generator.export.deploy import plan_hubspot
from generator.export.mapping import build_spec
from generator.validate import load_playbook

HERE = Path(__file__).resolve().parent
PLAYBOOKS = {"clinic": HERE / "fixtures" / "export" / "clinic",
             "lead-management": HERE.parent / "process" / "lead-management"}


def check(requests: list[dict]) -> dict:
    report = run_script("check_hubspot.js", stdin=requests)
    assert report["version"] and report["endpoints"] > 20
    return report


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_export_bodies_match_the_published_models(name):
    files = hubspot.render(build_spec(load_playbook(PLAYBOOKS[name])))
    reqs = json.loads(files["requests.json"])
    report = check([{"method": r["method"], "path": r["path"], "body": json.loads(files[f])} for f, r in reqs.items()])
    got = {r["path"]: (r["model"], r["problems"]) for r in report["results"]}
    assert {p: m for p, (m, _) in got.items()} == {r["path"]: r["model"] for r in reqs.values()}
    assert {p: probs for p, (_, probs) in got.items()} == {r["path"]: [] for r in reqs.values()}


def test_the_check_rejects_what_hubspot_rejects():
    """The old wrapped property-groups body, a boolean stage state and `phonenumber` all fail."""
    report = check([
        {"method": "POST", "path": "/crm/v3/properties/0-136/groups",
         "body": {"inputs": [{"name": "g", "label": "G"}]}},
        {"method": "POST", "path": "/crm/v3/pipelines/0-136",
         "body": {"label": "P", "displayOrder": 0, "stages": [{"label": "a", "displayOrder": 0,
                                                               "metadata": {"isClosed": True}}]}},
        {"method": "POST", "path": "/crm/v3/properties/0-136/batch/create",
         "body": {"inputs": [{"name": "p", "label": "P", "groupName": "g", "type": "string",
                              "fieldType": "phonenumber"}]}},
        {"method": "PUT", "path": "/crm/v3/nowhere", "body": {}},
    ])
    problems = [r["problems"] for r in report["results"]]
    assert any("inputs: not an attribute of PropertyGroupCreate" in p for p in problems[0])
    assert any("required attribute name" in p for p in problems[0])
    assert any("isClosed: true is not a string" in p for p in problems[1])
    assert any('"phonenumber" is not one of PropertyCreateFieldTypeEnum' in p for p in problems[2])
    assert any("0 endpoints" in p for p in problems[3])


def test_every_deploy_request_matches_the_published_models():
    spec = build_spec(load_playbook(PLAYBOOKS["clinic"]))
    with FakeCRM(page_size=3) as fake, HubSpotClient.from_env(fake.hs_env(), sleep=lambda s: None) as client:
        fresh = plan_hubspot(spec, client)
        from generator.export.deploy import apply

        apply(fresh, client)
        # Drift everything a deploy can update, and plant what only --prune removes.
        prop = next(p for p in fake.hs.properties["leads"] if p.get("options"))
        prop["label"] = "Renamed"
        prop["options"] = prop["options"][:1]
        fake.hs.groups["leads"][0]["label"] = "Old label"
        stages = fake.hs.pipelines["leads"][0]["stages"]
        stages[0]["metadata"] = {"isClosed": "true"}
        stages[1]["displayOrder"] = 99
        fake.hs.properties["leads"].append({"name": "stale", "label": "Stale", "type": "string", "fieldType": "text",
                                            "groupName": spec.hs_group})
        stages.append({"id": "x", "label": "Old stage", "displayOrder": 50, "metadata": {}, "archived": False})
        pruning = plan_hubspot(spec, client, prune=True)
    steps = fresh.steps + pruning.steps
    assert {s.action for s in steps} == {"create", "update", "delete"}
    report = check([{"method": s.method, "path": s.path, "body": s.body} for s in steps])
    assert [(r["method"], r["problems"]) for r in report["results"]] == [(s.method, []) for s in steps]
