"""The CRM configuration page: escaped process text, names from the same mapping as the export."""

from __future__ import annotations

from pathlib import Path

from generator.export import pages
from generator.export.mapping import build_spec
from generator.validate import load_playbook

FIXTURE = Path(__file__).parent / "fixtures" / "export" / "clinic"


def test_page_escapes_process_text():
    model = load_playbook(FIXTURE)
    c = pages.contribute(model, FIXTURE)
    page = c.pages[pages.PAGE]
    assert "<b>" not in page and "&lt;b&gt;" in page
    assert "<heart>" not in page
    for text in list(c.stage_sections.values()) + list(c.sla_sections.values()):
        assert "<" not in text


def test_page_rows_agree_with_the_export_mapping():
    model = load_playbook(FIXTURE)
    spec = build_spec(model)
    page = pages.contribute(model, FIXTURE).pages[pages.PAGE]
    assert "| Qualified | Qualified | Qualified | validation rule Stage\\_qualified\\_requires\\_fields" in page
    assert "| Closed lost | Closed \\- Lost | Closed lost |" in page
    queue = next(q for q in spec.queues if q.queue.id == "general-queue")
    assert queue.fallback and "entry 2, fallback (last entry)" in page
    assert "| Specialty | Specialty\\_\\_c (custom) | specialty (custom) | restricted picklist of 2 values" in page
    assert "| Email | Email (standard) | email (standard) |" in page


def test_hubspot_errors_are_redacted_too():
    import pytest

    from fakecrm import FakeCRM
    from generator.crm.hubspot import HubSpotClient, HubSpotError

    with FakeCRM() as fake:
        fake.fail_next("/crm/v3/", 400, {"status": "error", "message": f"bad header Bearer {fake.token}"})
        with HubSpotClient.from_env(fake.hs_env(), sleep=lambda s: None) as client, \
                pytest.raises(HubSpotError) as exc:
            client.get_pipelines("leads")
    assert fake.token not in str(exc.value) and "HTTP 400" in str(exc.value)
