"""CRM pulls (`--source salesforce|hubspot`) against a local server speaking the documented shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_crm_data import (
    N_APPOINTMENTS,
    N_HS_ACTIVITIES,
    N_HS_HISTORY,
    N_LEADS,
    N_STATUS_HISTORY,
    N_TASKS,
    SECRET_EMAIL,
    hubspot_objects,
    salesforce_tables,
)
from fakecrm import FakeCRM
from generator.conformance.source import Source, SourceError
from generator.conformance.sources import open_source, require_columns
from generator.conformance.sources.pull_cache import normalise
from generator.validate import load_playbook

FIXTURE = Path(__file__).parent / "fixtures" / "conformance" / "playbook"
TOKEN = "fake-token-5ecret-value"
FAST = {"sleep": lambda s: None, "max_attempts": 2}


def _with_names(model, crm: str, names: dict[str, str]):
    fields = [
        f.model_copy(update={"names": f.names.model_copy(update={crm: names[f.id]})}) if f.id in names else f
        for f in model.fields
    ]
    return model.model_copy(update={"fields": fields})


@pytest.fixture(scope="module")
def base_model():
    return load_playbook(FIXTURE)


@pytest.fixture
def sf_model(base_model):
    return _with_names(base_model, "salesforce", {
        "consent-to-contact": "Consent__c", "specialty": "Specialty__c",
        "appointment-stage": "Appointment__c.Stage__c", "appointment-lead": "Lead__c",
        "appointment-at": "Scheduled_At__c",
    })


@pytest.fixture
def hs_model(base_model):
    return _with_names(base_model, "hubspot", {"consent-to-contact": "consent_to_contact", "escalated-at": "escalated_at"})


@pytest.fixture
def fake():
    with FakeCRM(token=TOKEN, page_size=2) as crm:
        crm.sf.tables.update(salesforce_tables())
        crm.hs.objects.update(hubspot_objects())
        yield crm


def _counts(src) -> dict[str, int]:
    return {t: src.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("leads", "activities", "stage_history", "appointments")}


def _sf(fake, model, tmp_path, **kw):
    return open_source("salesforce", model=model, env=fake.sf_env(), cache_dir=tmp_path, **FAST, **kw)


def _hs(fake, model, tmp_path, **kw):
    return open_source("hubspot", model=model, env=fake.hs_env(), cache_dir=tmp_path, **FAST, **kw)


def _requests(fake, start: int = 0) -> list[str]:
    return [path for _, path, _ in fake.log[start:]]


def test_normalise_values():
    assert normalise("2024-03-04T15:00:00.000+0000", "datetime") == "2024-03-04 15:00:00.000000"
    assert normalise("2024-03-04T10:00:00-05:00", "datetime") == "2024-03-04 15:00:00.000000"
    assert normalise("1709564400000", "datetime") == "2024-03-04 15:00:00.000000"
    assert normalise("not a time", "datetime") is None
    assert normalise(True, "boolean") == "true" and normalise("false", "boolean") == "false"
    assert normalise("12.0", "integer") == "12" and normalise("x", "integer") is None
    assert normalise(["a", "b"], "multi_enum") == "a;b"
    assert normalise("", "string") is None


# ------------------------------------------------------------------ Salesforce


def test_salesforce_pull_maps_to_the_contract(fake, sf_model, tmp_path):
    seen: list[tuple[str, int | None, int | None]] = []
    src = _sf(fake, sf_model, tmp_path, progress=lambda m, d, t: seen.append((m, d, t)))
    try:
        assert isinstance(src, Source) and src.dialect == "duckdb" and src.complete is True
        assert _counts(src) == {"leads": N_LEADS, "activities": N_TASKS, "stage_history": N_STATUS_HISTORY,
                                "appointments": N_APPOINTMENTS}
        assert TOKEN not in src.description and "Salesforce 127.0.0.1" in src.description
        # Types and values follow the contract: UTC timestamps, booleans, playbook activity kinds.
        row = src.query("SELECT lead_id, CAST(created_at AS VARCHAR), consent, do_not_contact, specialty, stage "
                        "FROM leads ORDER BY lead_id LIMIT 1")[0]
        assert row == ("00Q000000000000000", "2024-03-04 15:00:00", True, False, "orthopedics", "New")
        assert src.query("SELECT activity_type, COUNT(*) FROM activities GROUP BY 1 ORDER BY 1") == [("call", 3), ("email", 4)]
        assert src.query("SELECT COUNT(*) FROM activities WHERE call_outcome IS NOT NULL AND next_follow_up IS NOT NULL")[0][0] == 3
        assert src.query("SELECT DISTINCT from_stage, to_stage FROM stage_history") == [("New", "Qualified")]
        assert src.query("SELECT COUNT(*) FROM appointments a JOIN leads l ON l.lead_id = a.lead_id")[0][0] == N_APPOINTMENTS
        # Columns with no Salesforce name and no standard field are present, empty, and listed.
        assert "queue" in src.unmapped["leads"] and src.query("SELECT COUNT(queue) FROM leads") == [(0,)]
        require_columns(src, {"leads": ["lead_id", "stage", "queue"], "activities": ["activity_type"]})
        assert (src.cache.path.stat().st_mode & 0o777) == 0o600  # personal data: owner only
        # Progress reported per page with the API's totalSize.
        assert ("Salesforce " in seen[0][0]) and seen[-1][1] == seen[-1][2] == N_APPOINTMENTS
    finally:
        src.close()


def test_salesforce_failure_mid_pull_then_resume(fake, sf_model, tmp_path):
    pages = []

    def fail_after_second_lead_page(message, done, total):
        pages.append(done)
        if len(pages) == 2:  # two pages of leads saved: the API now fails
            fake.fail_next("/services/data/", 503, [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}], times=2)

    src = _sf(fake, sf_model, tmp_path, progress=fail_after_second_lead_page)
    try:
        assert src.complete is False
        assert "INCOMPLETE" in src.description and "Lead" in src.error and "503" in src.error
        assert TOKEN not in src.error and SECRET_EMAIL not in src.error
        assert _counts(src)["leads"] == 4  # the two saved pages
    finally:
        src.close()

    mark = len(fake.log)
    src = _sf(fake, sf_model, tmp_path)
    try:
        assert src.complete is True
        assert _counts(src) == {"leads": N_LEADS, "activities": N_TASKS, "stage_history": N_STATUS_HISTORY,
                                "appointments": N_APPOINTMENTS}
        resumed = _requests(fake, mark)
        # The lead pull continued from the saved nextRecordsUrl instead of re-running the query.
        assert resumed[0].startswith("/services/data/v62.0/query/") and resumed[0].endswith("-4")
        assert sum(1 for p in resumed if p == "/services/data/v62.0/query") == 3  # Task, LeadHistory, Appointment__c
    finally:
        src.close()

    # A finished pull is not resumed: the next run pulls fresh data.
    mark = len(fake.log)
    with _sf(fake, sf_model, tmp_path) as src:
        assert src.complete and _counts(src)["leads"] == N_LEADS
    assert _requests(fake, mark)[0] == "/services/data/v62.0/query"


def test_salesforce_expired_locator_restarts_the_object_without_double_counting(fake, sf_model, tmp_path):
    calls = []

    def fail_once(message, done, total):
        calls.append(done)
        if len(calls) == 1:
            fake.fail_next("/services/data/v62.0/query/", 503, [{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}], times=2)

    with _sf(fake, sf_model, tmp_path, progress=fail_once) as src:
        assert not src.complete
    fake.fail_next("/services/data/v62.0/query/", 400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}])
    with _sf(fake, sf_model, tmp_path) as src:
        assert src.complete
        assert _counts(src)["leads"] == N_LEADS
        assert src.query("SELECT COUNT(DISTINCT lead_id) FROM leads") == [(N_LEADS,)]


def test_salesforce_limit_and_auth_errors(fake, sf_model, tmp_path):
    fake.sf_limit_exceeded()
    with _sf(fake, sf_model, tmp_path) as src:
        assert not src.complete and "REQUEST_LIMIT_EXCEEDED" in src.error
    bad = {**fake.sf_env(), "SALESFORCE_ACCESS_TOKEN": "wrong-token-zz9"}
    src = open_source("salesforce", model=sf_model, env=bad, cache_dir=tmp_path / "b", **FAST)
    with src:
        assert not src.complete and "401" in src.error and "wrong-token-zz9" not in src.error + src.description
    with pytest.raises(SourceError, match="needs the playbook model"):
        open_source("salesforce")
    with pytest.raises(SourceError, match="not configured"):
        open_source("salesforce", model=sf_model, env={}, cache_dir=tmp_path)


# ------------------------------------------------------------------ HubSpot


def test_hubspot_pull_maps_to_the_contract(fake, hs_model, tmp_path):
    with _hs(fake, hs_model, tmp_path) as src:
        assert src.complete, src.error
        assert _counts(src) == {"leads": N_LEADS, "activities": N_HS_ACTIVITIES, "stage_history": N_HS_HISTORY,
                                "appointments": N_APPOINTMENTS}
        assert src.query("SELECT activity_type, COUNT(*) FROM activities GROUP BY 1 ORDER BY 1") == [
            ("call", 4), ("email", 2), ("sms", 1)]
        assert src.query("SELECT COUNT(*) FROM activities a JOIN leads l USING (lead_id)")[0][0] == N_HS_ACTIVITIES
        # History oldest first: the creation entry has no from-stage.
        assert src.query("SELECT from_stage, to_stage, COUNT(*) FROM stage_history GROUP BY ALL ORDER BY 1 NULLS FIRST") == [
            (None, "new", N_LEADS), ("new", "qualified", N_STATUS_HISTORY)]
        assert src.query("SELECT CAST(changed_at AS VARCHAR) FROM stage_history WHERE lead_id = '1001' ORDER BY 1") == [
            ("2024-03-04 20:00:00",), ("2024-03-05 16:00:00",)]
        assert src.query("SELECT CAST(escalated_at AS VARCHAR), consent FROM leads WHERE lead_id = '1001'") == [
            ("2024-03-06 02:00:00", False)]
        assert src.query("SELECT COUNT(*) FROM appointments WHERE appointment_stage = 'booked'")[0][0] == N_APPOINTMENTS


def test_hubspot_person_details_come_from_the_primary_contact(fake, hs_model, tmp_path):
    # HubSpot keeps email, phone and name on the lead's contact; the lead object has none of them.
    with _hs(fake, hs_model, tmp_path) as src:
        assert src.complete, src.error
        rows = src.query("SELECT lead_id, email, first_name FROM leads ORDER BY lead_id")
    assert rows[0] == ("1000", SECRET_EMAIL, "F0")
    assert rows[2] == ("1002", "lead2@example.test", "F2")  # the primary contact, not the lower-id other one
    assert rows[-1] == (str(1000 + N_LEADS - 1), None, None)  # its contact is gone: HubSpot answered 207
    assert all(email and first for _, email, first in rows[:-1])
    lead_pages = [q for m, p, q in fake.queries if p == "/crm/v3/objects/leads"]
    with_props = [q for q in lead_pages if "properties" in q]  # the leads pass (the history pass asks for none)
    assert with_props and all("email" not in q["properties"][0].split(",") for q in with_props)
    assert all(q.get("associations") == ["contacts"] for q in with_props)
    # One batch read per lead page, never more ids than HubSpot allows, only contacts.
    assert fake.hs_batch_reads and {t for t, _ in fake.hs_batch_reads} == {"contacts"}
    assert all(0 < len(ids) <= 100 for _, ids in fake.hs_batch_reads)


def test_hubspot_failure_mid_pull_then_resume(fake, hs_model, tmp_path):
    pages = []

    def fail_midway(message, done, total):
        pages.append(message)
        if len(pages) == 3:
            fake.fail_next("/crm/v3/objects/leads", 502, {"status": "error", "message": "Bad gateway"}, times=2)

    with _hs(fake, hs_model, tmp_path, progress=fail_midway) as src:
        assert not src.complete and "502" in src.error and TOKEN not in src.error
        assert _counts(src)["leads"] == 6  # three pages of two
    mark = len(fake.log)
    with _hs(fake, hs_model, tmp_path) as src:
        assert src.complete, src.error
        assert _counts(src) == {"leads": N_LEADS, "activities": N_HS_ACTIVITIES, "stage_history": N_HS_HISTORY,
                                "appointments": N_APPOINTMENTS}
    first = fake.log[mark]
    assert first[1] == "/crm/v3/objects/leads"
    # The resumed run asked for the page after the last saved one: no lead page fetched twice.
    lead_pages = [p for _, p, s in fake.log[mark:] if p == "/crm/v3/objects/leads"]
    assert len(lead_pages) == (N_LEADS - 6 + 1) // 2 + (N_LEADS + 1) // 2  # rest of leads + the history pass


def test_hubspot_daily_limit_is_incomplete(fake, hs_model, tmp_path):
    fake.fail_next("/crm/v3/objects/", 429, {"status": "error", "message": "daily limit", "policyName": "DAILY"})
    with _hs(fake, hs_model, tmp_path) as src:
        assert not src.complete and "daily" in src.error.lower()
