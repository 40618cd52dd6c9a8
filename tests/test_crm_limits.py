"""CRM clients never follow a link off the configured origin and never run forever.

Paging links on another host are refused (the token never leaves), cursor loops
and endless cursors stop, a dripping or silent server meets a deadline per
request and per command, and an oversized answer is refused: each a CrmError
(exit 2) that says what happened. Faulty servers are bounded and stop by
themselves; limits are set small so the tests stay fast.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from fake_crm_data import hubspot_objects, salesforce_tables
from fakecrm import FakeCRM, FaultyServer
from generator.cli import run
from generator.conformance.sources import open_source
from generator.crm.hubspot import HubSpotClient, HubSpotError
from generator.crm.salesforce import SalesforceClient, SalesforceError
from generator.validate import load_playbook

TOKEN = "fake-token-5ecret-value"
FAST = {"sleep": lambda s: None, "max_attempts": 2}
FIXTURE = Path(__file__).parent / "fixtures" / "conformance" / "playbook"
LEADS = [{"Id": f"00Q{i:015d}", "Status": "New"} for i in range(6)]


@pytest.fixture
def two():
    """The configured fake and a second server on another port that must never see a request."""
    with FakeCRM(token=TOKEN, page_size=2) as home, FakeCRM(token=TOKEN, page_size=2) as other:
        home.sf.tables["Lead"] = LEADS
        other.sf.tables["Lead"] = LEADS
        yield home, other


def _sf(fake, **kw):
    return SalesforceClient.from_env(fake.sf_env(), **FAST, **kw)


def _hs(fake, **kw):
    return HubSpotClient.from_env(fake.hs_env(), **FAST, **kw)


# ------------------------------------------------------------------ origin (issue 9 item 3)


def test_salesforce_next_records_url_on_another_host_is_refused(two):
    home, other = two
    home.sf_page_hook = lambda page: {**page, "nextRecordsUrl": other.url + page["nextRecordsUrl"]} \
        if "nextRecordsUrl" in page else page
    with _sf(home) as client, pytest.raises(SalesforceError) as exc:
        list(client.query("SELECT Id FROM Lead"))
    assert "refused to follow" in str(exc.value) and exc.value.exit_code == 2
    assert other.url.split("//")[1] in str(exc.value)
    assert other.log == []  # the token never went there


@pytest.mark.parametrize("link", ["//{host}/services/data/v62.0/query/x-2", "https://{host}/services/x",
                                  "http://{host}:1/services/x", "\\\\{host}/x"])
def test_other_link_shapes_are_refused(two, link):
    home, other = two
    host = other.url.split("//")[1].split(":")[0]
    home.sf_page_hook = lambda page: {**page, "nextRecordsUrl": link.format(host=host)} if not page["done"] else page
    with _sf(home) as client, pytest.raises(SalesforceError, match="refused"):
        list(client.query("SELECT Id FROM Lead"))
    assert other.log == []


def test_absolute_link_on_the_configured_origin_is_followed(two):
    home, _ = two
    home.sf_page_hook = lambda page: {**page, "nextRecordsUrl": home.url + page["nextRecordsUrl"]} \
        if "nextRecordsUrl" in page else page
    with _sf(home) as client:
        assert len(list(client.query("SELECT Id FROM Lead"))) == len(LEADS)


def test_hubspot_paging_link_on_another_host_is_refused(two):
    home, other = two
    home.hs.objects["leads"] = [{"id": str(i), "properties": {}} for i in range(5)]
    home.hs_page_hook = lambda page: {**page, "paging": {"next": {"after": "2", "link": other.url + "/crm/v3/x"}}} \
        if "paging" in page else page
    with _hs(home) as client, pytest.raises(HubSpotError, match="paging.next.link points to") as exc:
        list(client.list_objects("leads"))
    assert exc.value.exit_code == 2 and other.log == []


def test_pull_with_a_foreign_cursor_stops_and_never_saves_it(two, tmp_path, monkeypatch, capsys):
    home, other = two
    home.sf.tables.update(salesforce_tables())
    home.sf_page_hook = lambda page: {**page, "nextRecordsUrl": other.url + page["nextRecordsUrl"]} \
        if "nextRecordsUrl" in page else page
    model = load_playbook(FIXTURE)
    with open_source("salesforce", model=model, env=home.sf_env(), cache_dir=tmp_path, **FAST) as src:
        assert not src.complete and "refused to follow" in src.error
        cursors = src.con.execute("SELECT cursor FROM _pull_state").fetchall()
    assert all(c is None or other.url not in c for (c,) in cursors)
    assert other.log == []
    # The command ends with exit 2 and says why.
    for k, v in home.sf_env().items():
        monkeypatch.setenv(k, v)
    code = run(["conform", "--source", "salesforce", "--playbook", str(FIXTURE)])
    out = capsys.readouterr()
    assert code == 2 and "refused to follow" in out.out + out.err
    assert other.log == [] and TOKEN not in out.out + out.err


# ------------------------------------------------------------------ loops and caps (issue 9 item 8)


def test_salesforce_repeated_next_records_url_is_a_loop(two):
    home, _ = two
    first: list[str] = []

    def repeat(page):
        first.append(first[0] if first else page["nextRecordsUrl"])
        return {**page, "done": False, "nextRecordsUrl": first[0]}

    home.sf_page_hook = repeat
    with _sf(home) as client, pytest.raises(SalesforceError, match="paging looped"):
        list(client.query("SELECT Id FROM Lead"))
    assert len(home.log) <= 3


def test_salesforce_pull_with_a_looping_cursor_stops(two, tmp_path):
    home, _ = two
    home.sf.tables.update(salesforce_tables())
    back: dict[str, str] = {}

    def loop(page):  # the last page points back at the first one's successor: A -> B -> A
        if "nextRecordsUrl" in page:
            back.setdefault("first", page["nextRecordsUrl"])
            return page
        return {**page, "done": False, "nextRecordsUrl": back.get("first", "/x")}

    home.sf_page_hook = loop
    with open_source("salesforce", model=load_playbook(FIXTURE), env=home.sf_env(), cache_dir=tmp_path, **FAST) as src:
        assert not src.complete and "paging looped" in src.error
    assert len(home.log) < 30


def test_endless_unique_cursors_hit_the_page_cap_for_both_crms(two):
    home, _ = two
    counter = itertools.count(1000)
    home.sf.tables["LeadStatus"] = [{"ApiName": s, "SortOrder": i} for i, s in enumerate("abcdef")]
    cid: list[str] = []

    def endless(page):  # every page names a new, valid locator past the end
        if "nextRecordsUrl" in page and not cid:
            cid.append(page["nextRecordsUrl"].rpartition("-")[0])
        return {**page, "done": False, "nextRecordsUrl": f"{cid[0]}-{next(counter)}"}

    home.sf_page_hook = endless
    with _sf(home, max_pages=5) as client, pytest.raises(SalesforceError, match="more than 5 pages") as exc:
        client.lead_statuses()  # what drift calls
    assert "PLAYBOOK_CRM_MAX_PAGES" in str(exc.value)
    home.hs.pipelines["leads"] = [{"id": "p", "stages": []}]
    home.hs_page_hook = lambda page: {**page, "paging": {"next": {"after": str(next(counter))}}}
    # HubSpot's config lists answer through the same guard (drift's get_pipelines, get_properties).
    home.hs.objects["leads"] = [{"id": "1", "properties": {}}]
    with _hs(home, max_pages=4) as client, pytest.raises(HubSpotError, match="more than 4 pages"):
        list(client.list_objects("leads"))
    assert sum(1 for _, p, _ in home.log if p == "/crm/v3/objects/leads") == 4


def test_drift_gets_the_guard_from_the_shared_client(two):
    from generator.export.drift import hubspot_drift

    home, _ = two
    counter = itertools.count()
    home.hs_page_hook = lambda page: {**page, "paging": {"next": {"after": f"c{next(counter)}"}}}
    spec = _hubspot_spec()
    with _hs(home, max_pages=3) as client:
        report = hubspot_drift(spec, client)
    assert report.exit_code == 2 and any("more than 3 pages" in e for e in report.errors)


def _hubspot_spec():
    from generator.export.cli import _spec

    return _spec(FIXTURE)


def test_page_cap_from_the_environment_and_bad_values(two):
    home, _ = two
    env = {**home.hs_env(), "PLAYBOOK_CRM_MAX_PAGES": "2"}
    with HubSpotClient.from_env(env, **FAST) as client:
        assert client.http.limits.max_pages == 2
    with pytest.raises(HubSpotError, match="PLAYBOOK_CRM_REQUEST_DEADLINE must be a number"):
        HubSpotClient.from_env({**env, "PLAYBOOK_CRM_REQUEST_DEADLINE": "soon"})


# ------------------------------------------------------------------ deadlines and size (issue 9 item 8)


def _sf_at(url: str, **kw) -> SalesforceClient:
    env = {"SALESFORCE_INSTANCE_URL": url, "SALESFORCE_ACCESS_TOKEN": TOKEN}
    return SalesforceClient.from_env(env, **FAST, **kw)


def test_dripping_server_meets_the_request_deadline():
    with FaultyServer("drip", interval=0.2, lifetime=6) as server:
        with _sf_at(server.url, request_deadline=1.0, timeout=5) as client, \
                pytest.raises(SalesforceError, match="PLAYBOOK_CRM_REQUEST_DEADLINE") as exc:
            client.limits()
    assert "took more than 1s" in str(exc.value) and exc.value.exit_code == 2


def test_silent_server_fails_once_then_fast_for_the_rest_of_the_command():
    with FaultyServer("silent", lifetime=6) as server:
        with _sf_at(server.url, request_deadline=1.0, timeout=5) as client:
            with pytest.raises(SalesforceError, match="without a complete answer"):
                client.describe("Lead")
            seen = server.connections
            with pytest.raises(SalesforceError, match="earlier request of this command"):
                client.limits()
            assert server.connections == seen  # the second call never waited on the server
        # Read timeouts on every attempt (within the deadline) count as not answering too.
        with _sf_at(server.url, request_deadline=30, timeout=0.2) as client:
            with pytest.raises(SalesforceError, match="ReadTimeout"):
                client.describe("Lead")
            with pytest.raises(SalesforceError, match="earlier request of this command"):
                client.limits()


def test_command_deadline_bounds_all_requests():
    with FaultyServer("drip", interval=0.2, lifetime=6) as server:
        with _sf_at(server.url, request_deadline=30, command_deadline=1.0, timeout=5) as client, \
                pytest.raises(SalesforceError, match="PLAYBOOK_CRM_COMMAND_DEADLINE"):
            client.limits()


def test_oversized_answer_is_refused(two):
    home, _ = two
    home.sf.describes["Lead"] = {"name": "Lead", "fields": [{"name": f"F{i}__c", "label": "x" * 50} for i in range(200)]}
    with _sf(home, max_response_bytes=4096) as client, \
            pytest.raises(SalesforceError, match="more than 4096 bytes") as exc:
        client.describe("Lead")
    assert "PLAYBOOK_CRM_MAX_RESPONSE_BYTES" in str(exc.value)
    with _sf(home) as client:
        assert len(client.describe("Lead")["fields"]) == 200


def test_hubspot_pull_loop_is_caught_across_pages(two, tmp_path):
    home, _ = two
    home.hs.objects.update(hubspot_objects())
    # A -> B -> A: not an immediate repeat, still a loop.
    home.hs_page_hook = lambda page: {**page, "paging": {"next": {"after": "2" if page["results"][0]["id"] != "2" else "0"}}} \
        if page["results"] else page
    model = load_playbook(FIXTURE)
    with open_source("hubspot", model=model, env=home.hs_env(), cache_dir=tmp_path, **FAST) as src:
        assert not src.complete and "paging looped" in src.error


def test_drift_against_a_silent_server_waits_out_one_deadline_not_one_per_area():
    from generator.export.drift import salesforce_drift

    with FaultyServer("silent", lifetime=6) as server:
        with _sf_at(server.url, request_deadline=1.0, timeout=5) as client:
            report = salesforce_drift(_hubspot_spec(), client)
        assert server.connections == 1  # every later area failed at once
    assert report.exit_code == 2 and report.errors
    assert "PLAYBOOK_CRM_REQUEST_DEADLINE" in report.errors[0]
    assert all("earlier request of this command" in e for e in report.errors[1:])


def test_hubspot_pull_with_a_foreign_paging_link_stops_and_never_saves_it(two, tmp_path):
    home, other = two
    home.hs.objects.update(hubspot_objects())
    home.hs_page_hook = lambda page: {**page, "paging": {"next": {**page["paging"]["next"],
                                                                   "link": other.url + "/crm/v3/objects/leads"}}} \
        if "paging" in page else page
    with open_source("hubspot", model=load_playbook(FIXTURE), env=home.hs_env(), cache_dir=tmp_path, **FAST) as src:
        assert not src.complete and "paging.next.link points to" in src.error
        cursors = src.con.execute("SELECT cursor FROM _pull_state").fetchall()
        assert src.query("SELECT COUNT(*) FROM leads") == [(0,)]  # the page that carried the link was not saved
    assert cursors and all(c is None for (c,) in cursors)
    assert other.log == []
