"""The CRM HTTP clients against the local fake: paging, retries, limits, redaction."""

from __future__ import annotations

import pytest

from generator.crm.hubspot import HubSpotClient, HubSpotError, HubSpotLimitError
from generator.crm.http import parse_retry_after
from generator.redact import redact
from generator.crm.salesforce import SalesforceClient, SalesforceError, SalesforceLimitError
from fakecrm import FakeCRM


@pytest.fixture
def fake():
    with FakeCRM(page_size=2) as f:
        yield f


def sf(fake, waits, **kw):
    return SalesforceClient.from_env(fake.sf_env(), sleep=waits.append, **kw)


def hs(fake, waits, **kw):
    return HubSpotClient.from_env(fake.hs_env(), sleep=waits.append, **kw)


LEADS = [{"Id": f"00Q{i:015d}", "Status": "New", "LeadSource": "Web"} for i in range(5)]


def test_salesforce_query_follows_next_records_url(fake):
    fake.sf.tables["Lead"] = LEADS
    waits: list[float] = []
    with sf(fake, waits) as client:
        rows = list(client.query("SELECT Id, Status FROM Lead"))
    assert [r["Id"] for r in rows] == [r["Id"] for r in LEADS]
    assert all("attributes" not in r for r in rows)
    pages = [p for m, p, s in fake.log if "/query" in p]
    assert len(pages) == 3  # 5 rows at 2 per page
    assert sum(1 for p in pages if p.endswith("/query")) == 1
    assert waits == []


def test_salesforce_query_where_and_tooling(fake):
    fake.sf.tables["Lead"] = LEADS + [{"Id": "00Qx", "Status": "O'Brien", "LeadSource": None}]
    fake.sf.tooling["ValidationRule"] = [{"Id": "03d1", "ValidationName": "Qualified_requires_fields"}]
    with sf(fake, []) as client:
        assert [r["Id"] for r in client.query("SELECT Id FROM Lead WHERE Status = 'O\\'Brien'")] == ["00Qx"]
        assert list(client.tooling_query("SELECT Id, ValidationName FROM ValidationRule")) == [
            {"Id": "03d1", "ValidationName": "Qualified_requires_fields"}]


def test_salesforce_retries_429_honouring_retry_after(fake):
    fake.sf.tables["Lead"] = LEADS[:1]
    fake.fail_next("/services/data/", 429, [{"message": "slow down", "errorCode": "REQUEST_LIMIT"}],
                   headers={"Retry-After": "7"})
    waits: list[float] = []
    with sf(fake, waits) as client:
        assert len(list(client.query("SELECT Id FROM Lead"))) == 1
    assert waits == [7.0]


def test_salesforce_500_then_success_backs_off(fake):
    fake.sf.tables["Lead"] = LEADS[:1]
    fake.fail_next("/services/data/", 500, [{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}], times=2)
    waits: list[float] = []
    with sf(fake, waits, backoff=0.25) as client:
        assert len(list(client.query("SELECT Id FROM Lead"))) == 1
    assert waits == [0.25, 0.5]


def test_salesforce_gives_up_after_bounded_attempts(fake):
    fake.fail_next("/services/data/", 503, [{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}], times=10)
    waits: list[float] = []
    with sf(fake, waits, max_attempts=3) as client, pytest.raises(SalesforceError) as exc:
        client.describe("Lead")
    assert "after 3 attempts" in str(exc.value)
    assert len(waits) == 2
    assert sum(1 for _m, _p, s in fake.log if s == 503) == 3


def test_salesforce_request_limit_exceeded_is_not_retried(fake):
    fake.sf_limit_exceeded()
    waits: list[float] = []
    with sf(fake, waits) as client, pytest.raises(SalesforceLimitError) as exc:
        client.describe("Lead")
    assert "REQUEST_LIMIT_EXCEEDED" in str(exc.value)
    assert "without retrying" in str(exc.value)
    assert waits == [] and len(fake.log) == 1
    assert exc.value.exit_code == 2


def test_retry_after_longer_than_allowed_fails_fast(fake):
    fake.fail_next("/crm/v3/", 429, {"status": "error", "message": "later"}, headers={"Retry-After": "3600"})
    waits: list[float] = []
    with hs(fake, waits) as client, pytest.raises(HubSpotError) as exc:
        client.get_properties("leads")
    assert "Retry-After" in str(exc.value) and waits == []


def test_errors_never_contain_the_token(fake):
    fake.fail_next("/services/data/", 400, [{"message": f"bad token {fake.token}", "errorCode": "X"}])
    with sf(fake, []) as client, pytest.raises(SalesforceError) as exc:
        client.describe("Lead")
    assert fake.token not in str(exc.value) and "***" in str(exc.value)
    bad = dict(fake.sf_env(), SALESFORCE_ACCESS_TOKEN="wrong-secret-token")
    with SalesforceClient.from_env(bad, sleep=lambda s: None) as client, pytest.raises(SalesforceError) as exc:
        client.describe("Lead")
    assert "wrong-secret-token" not in str(exc.value) and "401" in str(exc.value)


def test_missing_configuration_names_the_variables():
    with pytest.raises(SalesforceError, match="SALESFORCE_ACCESS_TOKEN"):
        SalesforceClient.from_env({})
    with pytest.raises(HubSpotError, match="HUBSPOT_ACCESS_TOKEN"):
        HubSpotClient.from_env({})


def test_redact_masks_secrets_and_credential_shapes():
    text = "Authorization: Bearer abc.def-123 url?access_token=zzz&x=1 secret s3cr3t!"
    out = redact(text, "s3cr3t!")
    assert "abc.def-123" not in out and "zzz" not in out and "s3cr3t!" not in out
    assert "x=1" in out


def test_parse_retry_after_seconds_and_http_date():
    from datetime import datetime, timezone

    now = lambda: datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)  # noqa: E731
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:10 GMT", now) == 10.0
    assert parse_retry_after("nonsense") is None and parse_retry_after(None) is None


def test_hubspot_list_objects_follows_paging_after(fake):
    fake.hs.objects["leads"] = [{"id": str(i), "properties": {"hs_lead_status": "NEW", "email": "x"},
                                 "createdAt": "2026-01-01T00:00:00Z", "archived": False} for i in range(5)]
    with hs(fake, []) as client:
        rows = list(client.list_objects("leads", ["hs_lead_status"]))
    assert [r["id"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert rows[0]["properties"] == {"hs_lead_status": "NEW"}
    assert len([1 for m, p, s in fake.log if p == "/crm/v3/objects/leads"]) == 3


def test_hubspot_search_pages_and_filters(fake):
    fake.hs.objects["contacts"] = [{"id": str(i), "properties": {"stage": "a" if i % 2 else "b"}} for i in range(7)]
    with hs(fake, []) as client:
        rows = list(client.search_objects(
            "contacts", [{"filters": [{"propertyName": "stage", "operator": "EQ", "value": "a"}]}], ["stage"]))
    assert [r["id"] for r in rows] == ["1", "3", "5"]


def test_hubspot_retries_then_reads_config(fake):
    fake.hs.properties["leads"] = [{"name": "specialty", "type": "enumeration", "options": []}]
    fake.hs.pipelines["leads"] = [{"id": "p", "label": "Leads", "stages": [{"id": "s1", "label": "New"}]}]
    fake.fail_next("/crm/v3/properties", 429, {"status": "error", "message": "You have reached your secondly limit.",
                                               "policyName": "SECONDLY"}, headers={"Retry-After": "1"})
    fake.fail_next("/crm/v3/pipelines", 502, {"status": "error", "message": "bad gateway"})
    waits: list[float] = []
    with hs(fake, waits) as client:
        assert [p["name"] for p in client.get_properties("leads")] == ["specialty"]
        assert client.get_pipelines("leads")[0]["stages"][0]["label"] == "New"
    assert waits == [1.0, 0.5]


def test_hubspot_daily_limit_is_not_retried(fake):
    fake.fail_next("/crm/v3/", 429, {"status": "error", "message": "daily", "policyName": "DAILY"}, times=5)
    waits: list[float] = []
    with hs(fake, waits) as client, pytest.raises(HubSpotLimitError, match="daily API limit") as exc:
        client.get_pipelines("leads")
    assert (exc.value.status, exc.value.code) == (429, "DAILY")
    assert waits == [] and len(fake.log) == 1
