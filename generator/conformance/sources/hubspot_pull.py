"""`--source hubspot`: a read-only CRM v3 pull of leads, their stage history, activities, meetings.

Objects: `leads` (or the object a field's `object.property` name gives) ->
leads, with `propertiesWithHistory` of the stage property -> stage_history
(oldest first: the first entry has no from-stage); `calls`, `emails` and
`communications` (texts) -> activities, typed by object; `meetings` ->
appointments. HubSpot keeps a lead's person details (email, phone, name, and
the other default contact properties) on the lead's contact, not on the lead:
those columns are read from the lead's primary contact, found through the
lead page's `associations` and read in batches of 100 (`batch/read`) as each
lead page arrives, so the saved page already holds them. Activities and
meetings find their lead through the `associations` of the list call. Pages follow `paging.next.after`; each page
and the `after` token after it are saved in the pull cache, so a failed pull
resumes where it stopped. Credentials: HUBSPOT_ACCESS_TOKEN (and
HUBSPOT_BASE_URL), see generator/crm/hubspot.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...export.mapping import HS_CONTACT_OBJECT, hs_on_contact
from ...model import Playbook
from ..source import Progress, SourceError
from .crm_map import ColumnMap, Mapping, build_mapping, map_value
from .pull_cache import PullTask, PulledSource, crm_client, open_pulled

LEAD_OBJECT = "leads"
ACTIVITY_OBJECTS = {"calls": "call", "emails": "email", "communications": "sms"}
APPOINTMENT_OBJECT = "meetings"

TOP_LEVEL = {"id", "createdAt", "updatedAt", "archived"}

DEFAULTS: dict[str, dict[str, str]] = {
    "lead": {
        "record_id": "id", "created_at": "createdAt", "stage": "hs_pipeline_stage", "owner": "hubspot_owner_id",
        "email": "email", "phone": "phone", "first_name": "firstname", "last_name": "lastname",
    },
    "activity": {
        "record_id": "id", "occurred_at": "hs_timestamp", "call_outcome": "hs_call_disposition",
    },
    "appointment": {
        "record_id": "id", "appointment_at": "hs_meeting_start_time", "appointment_stage": "hs_meeting_outcome",
    },
    "stage_history": {},
}
DERIVED = {
    "activity": frozenset({"lead_ref", "activity_type"}),
    "appointment": frozenset({"lead_ref"}),
    "stage_history": frozenset({"record_id", "lead_ref", "from_stage", "to_stage", "changed_at", "changed_by"}),
    "lead": frozenset(),
}


def _value(obj: dict, name: str) -> Any:
    if name in TOP_LEVEL:
        return obj.get(name)
    return (obj.get("properties") or {}).get(name)


def _links(obj: dict, object_type: str) -> list[dict]:
    # {"associations": {"leads": {"results": [{"id": "123", "type": "call_to_lead"}]}}}
    return ((obj.get("associations") or {}).get(object_type) or {}).get("results") or []


def _associated(obj: dict, object_type: str) -> str | None:
    results = _links(obj, object_type)
    ids = sorted(str(r.get("id")) for r in results if r.get("id") is not None)
    return ids[0] if ids else None


def _list_fetch(client: Any, object_type: str, props: list[str], *, history: list[str] = (), assoc: list[str] = ()):
    wanted = sorted(set(props) - TOP_LEVEL)
    # One guard per object for the whole run: a repeated `after` (a loop), too many pages or a
    # paging link off the configured origin stops the pull (exit 2) before the cursor is saved.
    guard = client.pager(f"list of {object_type}")

    def fetch(cursor: str | None):
        return client.list_page(object_type, wanted, after=cursor, properties_with_history=history,
                                associations=assoc, guard=guard)

    return fetch


def _primary_contact(obj: dict) -> str | None:
    # A lead has exactly one primary contact (HubSpot requires it when the lead is made); the v3
    # list names that association `lead_to_primary_contact`. Should a portal answer without that
    # label, the lowest contact id stands in, so the choice is at least the same on every pull.
    primary = sorted(str(r["id"]) for r in _links(obj, HS_CONTACT_OBJECT)
                     if r.get("id") is not None and "primary" in str(r.get("type", "")))
    return primary[0] if primary else _associated(obj, HS_CONTACT_OBJECT)


def _with_contacts(client: Any, fetch, contact_props: list[str]):
    """A lead-page fetch that also fills each lead's contact properties from its primary contact."""

    def fetch_page(cursor: str | None):
        objs, nxt, total = fetch(cursor)
        chosen = [_primary_contact(obj) for obj in objs]
        ids = {c for c in chosen if c is not None}
        contacts = client.batch_read(HS_CONTACT_OBJECT, ids, contact_props) if ids else {}
        for obj, contact in zip(objs, chosen):
            person = contacts.get(contact or "", {})
            # The lead object has no such properties: the contact's values (or none) take their place.
            obj["properties"] = {**(obj.get("properties") or {}), **{p: person.get(p) for p in contact_props}}
        return objs, nxt, total

    return fetch_page


def _row(obj: dict, m: Mapping, derived: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"_key": obj.get("id")}
    for c in m.columns:
        if c.semantic in derived and not c.crm_field:
            row[c.column] = derived[c.semantic]
        elif c.crm_field:
            row[c.column] = map_value(c, _value(obj, c.crm_field))
    return row


def mappings(model: Playbook) -> dict[str, Mapping]:
    """The HubSpot mapping of every record kind the data dictionary uses."""
    defaults_obj = {"lead": LEAD_OBJECT, "activity": "calls", "appointment": APPOINTMENT_OBJECT, "stage_history": LEAD_OBJECT}
    out = {}
    for record in ("lead", "activity", "stage_history", "appointment"):
        m = build_mapping(model, record, "hubspot", defaults_obj[record], DEFAULTS[record], DERIVED[record])
        if m.columns:
            out[record] = m
    return out


def _tasks(client: Any, maps: dict[str, Mapping]) -> list[PullTask]:
    tasks: list[PullTask] = []
    lead = maps.get("lead")
    if lead is None:
        raise SourceError("the data dictionary has no lead fields to pull from HubSpot")
    lead_obj = lead.object
    stage: ColumnMap | None = lead.by_semantic("stage")
    hist = maps.get("stage_history")
    history = [stage.crm_field] if (hist and stage and stage.crm_field and stage.crm_field not in TOP_LEVEL) else []

    def lead_rows(obj: dict) -> list[dict]:
        return [_row(obj, lead, {})]

    on_contact = [f for f in lead.crm_fields() if f not in TOP_LEVEL and hs_on_contact(f)]
    fetch_leads = _list_fetch(client, lead_obj, [f for f in lead.crm_fields() if f not in on_contact],
                              history=history, assoc=[HS_CONTACT_OBJECT] if on_contact else [])
    if on_contact:
        fetch_leads = _with_contacts(client, fetch_leads, on_contact)
    tasks.append(PullTask(
        name="leads", table="leads", columns=lead.types(),
        fetch=fetch_leads,
        to_rows=lead_rows, describe=f"{lead_obj}",
    ))
    if hist and history:
        # Stage history comes with the lead pages; a second pass over the same pages keeps
        # each task's cursor simple (one object, one table).
        prop = history[0]

        def history_rows(obj: dict) -> list[dict]:
            entries = sorted(
                ((obj.get("propertiesWithHistory") or {}).get(prop) or []),
                key=lambda e: (str(e.get("timestamp")), str(e.get("value"))),
            )
            rows, prev = [], None
            for i, e in enumerate(entries):
                derived = {
                    "record_id": f"{obj.get('id')}:{i}", "lead_ref": obj.get("id"), "from_stage": prev,
                    "to_stage": e.get("value"), "changed_at": e.get("timestamp"),
                    "changed_by": e.get("updatedByUserId") or e.get("sourceId"),
                }
                row = _row(obj, hist, derived)
                row["_key"] = derived["record_id"]
                rows.append(row)
                prev = e.get("value")
            return rows

        tasks.append(PullTask(
            name="stage_history", table="stage_history", columns=hist.types(),
            fetch=_list_fetch(client, lead_obj, [], history=history), to_rows=history_rows,
            describe=f"{lead_obj} {prop} history",
        ))
    act = maps.get("activity")
    if act:
        for obj_type, kind in ACTIVITY_OBJECTS.items():
            def act_rows(obj: dict, kind=kind, act=act) -> list[dict]:
                type_col = act.by_semantic("activity_type")
                derived = {"lead_ref": _associated(obj, lead_obj), "activity_type": map_value(type_col, kind) if type_col else kind}
                row = _row(obj, act, derived)
                row["_key"] = f"{kind}:{obj.get('id')}"
                return [row]

            tasks.append(PullTask(
                name=f"activities:{obj_type}", table="activities", columns=act.types(),
                fetch=_list_fetch(client, obj_type, act.crm_fields(), assoc=[lead_obj]),
                to_rows=act_rows, describe=obj_type,
            ))
    appt = maps.get("appointment")
    if appt:
        tasks.append(PullTask(
            name="appointments", table="appointments", columns=appt.types(),
            fetch=_list_fetch(client, appt.object, appt.crm_fields(), assoc=[lead_obj]),
            to_rows=lambda obj: [_row(obj, appt, {"lead_ref": _associated(obj, lead_obj)})],
            describe=appt.object,
        ))
    return tasks


def open_hubspot(
    *,
    model: Playbook | None = None,
    tables: dict[str, str] | None = None,
    progress: Progress | None = None,
    client: Any = None,
    env: dict[str, str] | None = None,
    cache_dir: Path | str | None = None,
    refresh: bool = False,
    **client_options: Any,
) -> PulledSource:
    """Pull the contract tables from HubSpot into the local cache and open them."""
    from ...crm.hubspot import HubSpotClient

    with crm_client(model, client, HubSpotClient, env, client_options, source="hubspot", maps="CRM properties") as client:
        maps = mappings(model)
        tasks = _tasks(client, maps)
        # Every portal shares api.hubapi.com: tell caches apart by a digest of the token
        # (never the token itself), so two portals never resume each other's pull.
        token_tag = client.http.token_digest()[:16]
        return open_pulled(
            model, client, tasks, {m.table: m.unmapped for m in maps.values() if m.unmapped},
            crm="hubspot", label="HubSpot", identity=f"{client.http.base_url}|{token_tag}",
            cache_dir=cache_dir, progress=progress, refresh=refresh,
        )
