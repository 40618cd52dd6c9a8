"""`playbook deploy hubspot` against the local fake portal: creates what is missing, updates what
differs, deletes only with --prune, changes nothing the second time, and --dry-run only reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakecrm import FakeCRM

from generator.cli import run
from generator.crm.hubspot import HubSpotClient
from generator.export.drift import hubspot_drift
from generator.export.mapping import build_spec
from generator.validate import load_playbook

FIXTURE = Path(__file__).parent / "fixtures" / "export" / "clinic"


@pytest.fixture(scope="module")
def spec():
    return build_spec(load_playbook(FIXTURE))


@pytest.fixture
def fake(monkeypatch):
    with FakeCRM(page_size=3) as f:
        for k, v in f.hs_env().items():
            monkeypatch.setenv(k, v)
        yield f


def deploy(capsys, *args: str) -> tuple[int, str]:
    code = run(["deploy", "hubspot", str(FIXTURE), *args])
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def drift(spec, fake):
    with HubSpotClient.from_env(fake.hs_env(), sleep=lambda s: None) as c:
        return hubspot_drift(spec, c)


def test_dry_run_on_an_empty_portal_plans_everything_and_writes_nothing(spec, fake, capsys):
    code, out = deploy(capsys, "--dry-run")
    assert code == 1
    assert fake.hs_writes == [] and {m for m, _, _ in fake.log} == {"GET"}
    assert f"create property group {spec.hs_group}: missing (POST /crm/v3/properties/0-136/groups)" in out
    assert f"create {len(spec.hs_custom_fields)} properties" in out
    assert "create lead pipeline" in out and "POST /crm/v3/pipelines/0-136)" in out
    code, out = deploy(capsys, "--dry-run", "--format", "json")
    plan = json.loads(out)
    assert [s["method"] for s in plan["steps"]] == ["POST", "POST", "POST"] and plan["kept"] == []


def test_deploy_creates_then_is_idempotent_and_leaves_no_drift(spec, fake, capsys):
    assert drift(spec, fake).differences  # an empty portal drifts
    code, out = deploy(capsys)
    assert code == 0 and "applied 3 requests" in out
    assert [(m, p) for m, p, _ in fake.hs_writes] == [
        ("POST", "/crm/v3/properties/leads/groups"), ("POST", "/crm/v3/properties/leads/batch/create"),
        ("POST", "/crm/v3/pipelines/leads")]
    report = drift(spec, fake)
    assert (report.differences, report.errors) == ([], [])
    closed = {s["label"]: s["metadata"]["isClosed"] for s in fake.hs.pipelines["leads"][0]["stages"]}
    assert closed == {st.hs_label: "true" if st.stage.closed else "false" for st in spec.stages}
    before = len(fake.hs_writes)
    code, out = deploy(capsys)
    assert code == 0 and "nothing to do" in out and len(fake.hs_writes) == before
    assert deploy(capsys, "--dry-run")[0] == 0


def test_deploy_updates_what_differs(spec, fake, capsys):
    assert deploy(capsys)[0] == 0
    prop = next(p for p in fake.hs.properties["leads"] if p.get("options"))
    prop["label"] = "Renamed by hand"
    prop["options"] = prop["options"][:1]
    stages = fake.hs.pipelines["leads"][0]["stages"]
    closed = next(s for s in stages if s["metadata"]["isClosed"] == "true")
    closed["metadata"] = {"isClosed": "false"}
    fake.hs.groups["leads"][0]["label"] = "Old label"
    assert len(drift(spec, fake).differences) >= 3
    start = len(fake.hs_writes)
    code, out = deploy(capsys)
    assert code == 0
    writes = fake.hs_writes[start:]
    assert {m for m, _, _ in writes} == {"PATCH"}
    by_path = {p: b for _, p, b in writes}
    assert set(by_path[f"/crm/v3/properties/leads/{prop['name']}"]) == {"label", "options"}
    assert by_path[f"/crm/v3/pipelines/leads/{fake.hs.pipelines['leads'][0]['id']}/stages/{closed['id']}"] == {
        "metadata": {"isClosed": "true"}}
    assert (drift(spec, fake).differences, deploy(capsys)[1].strip()) == (
        [], "nothing to do: the portal matches the playbook")


def test_extras_are_deleted_only_with_prune(spec, fake, capsys):
    assert deploy(capsys)[0] == 0
    fake.hs.properties["leads"].append({"name": "stale_field", "label": "Stale", "type": "string",
                                        "fieldType": "text", "groupName": spec.hs_group})
    fake.hs.properties["leads"].append({"name": "someone_elses", "label": "Theirs", "type": "string",
                                        "fieldType": "text", "groupName": "contactinformation"})
    pipe = fake.hs.pipelines["leads"][0]
    pipe["stages"].append({"id": "old", "label": "Old stage", "displayOrder": 40, "metadata": {}, "archived": False})
    start = len(fake.hs_writes)
    code, out = deploy(capsys)
    assert code == 0 and fake.hs_writes[start:] == []
    assert "keep property stale_field" in out and "keep stage 'Old stage'" in out and "someone_elses" not in out
    code, out = deploy(capsys, "--prune")
    assert code == 0
    assert sorted((m, p) for m, p, _ in fake.hs_writes[start:]) == [
        ("DELETE", f"/crm/v3/pipelines/leads/{pipe['id']}/stages/old"),
        ("DELETE", "/crm/v3/properties/leads/stale_field")]
    assert "someone_elses" in {p["name"] for p in fake.hs.properties["leads"]}


def test_api_error_exits_2_without_the_token(fake, capsys):
    fake.fail_next("/crm/v3/properties/0-136/groups", 403, {"message": "missing scope"})
    code, out = deploy(capsys)
    assert code == 2 and fake.token not in out and "403" in out
