"""`--source salesforce`: a read-only SOQL pull of leads, tasks, lead history and appointments.

Objects: `Lead` -> leads, `Task` -> activities, `LeadHistory` rows of the stage
field -> stage_history, `Event` (or the object a field's `Object.Field` name
gives) -> appointments. Pages follow `nextRecordsUrl`; each page and the
locator after it are saved in the pull cache, so a failed pull resumes where it
stopped. A locator that has expired by then (INVALID_QUERY_LOCATOR) restarts
that object; rows are upserted by Id. Credentials: SALESFORCE_INSTANCE_URL and
SALESFORCE_ACCESS_TOKEN (see generator/crm/salesforce.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...model import Playbook
from ..source import Progress
from .crm_map import Mapping, build_mapping, map_value
from .pull_cache import PullTask, PulledSource, crm_client, open_pulled

OBJECTS = {"lead": "Lead", "activity": "Task", "stage_history": "LeadHistory", "appointment": "Event"}

DEFAULTS: dict[str, dict[str, str]] = {
    "lead": {
        "record_id": "Id", "created_at": "CreatedDate", "stage": "Status", "status": "Status", "owner": "OwnerId",
        "email": "Email", "phone": "Phone", "first_name": "FirstName", "last_name": "LastName",
        "source": "LeadSource", "do_not_contact": "DoNotCall",
    },
    "activity": {
        "record_id": "Id", "lead_ref": "WhoId", "activity_type": "TaskSubtype", "occurred_at": "CreatedDate",
        "call_outcome": "CallDisposition", "next_follow_up": "ActivityDate",
    },
    "stage_history": {
        "record_id": "Id", "lead_ref": "LeadId", "from_stage": "OldValue", "to_stage": "NewValue",
        "changed_at": "CreatedDate", "changed_by": "CreatedById",
    },
    "appointment": {"record_id": "Id", "lead_ref": "WhoId", "appointment_at": "StartDateTime"},
}


def _soql_str(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def mappings(model: Playbook) -> list[Mapping]:
    """The Salesforce mapping of every record kind the data dictionary uses."""
    out = []
    for record in ("lead", "activity", "stage_history", "appointment"):
        m = build_mapping(model, record, "salesforce", OBJECTS[record], DEFAULTS[record])
        if m.columns:
            out.append(m)
    return out


def _task(client: Any, m: Mapping, stage_field: str) -> PullTask:
    key_col = m.by_semantic("record_id")
    fields = ["Id", *[f for f in m.crm_fields() if f != "Id"]]
    soql = f"SELECT {', '.join(fields)} FROM {m.object}"
    if m.object == "LeadHistory":
        fields = list(dict.fromkeys([*fields, "Field"]))
        soql = f"SELECT {', '.join(fields)} FROM LeadHistory WHERE Field = '{_soql_str(stage_field)}'"
    first = client.query_url(soql)
    # One guard per object for the whole run: a cursor seen before (a loop) or too many pages
    # stops the pull (exit 2) before the cursor is saved; off-instance links never get that far.
    guard = client.pager(f"{m.object} query")
    guard.follow(first)

    def fetch(cursor: str | None):
        return client.query_page(cursor or first, guard)

    def to_rows(rec: dict) -> list[dict]:
        row: dict[str, Any] = {"_key": rec.get("Id") or rec.get(key_col.crm_field if key_col else "Id")}
        for c in m.columns:
            if c.crm_field:
                row[c.column] = map_value(c, rec.get(c.crm_field))
        return [row]

    def stale(exc: Exception) -> bool:
        return getattr(exc, "status", None) in (400, 404) or getattr(exc, "code", None) == "INVALID_QUERY_LOCATOR"

    return PullTask(
        name=m.table, table=m.table, columns=m.types(), fetch=fetch, to_rows=to_rows,
        restart_on=stale, describe=f"{m.object} ({soql})",
    )


def open_salesforce(
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
    """Pull the contract tables from Salesforce into the local cache and open them."""
    from ...crm.salesforce import SalesforceClient

    with crm_client(model, client, SalesforceClient, env, client_options, source="salesforce", maps="CRM fields") as client:
        maps = mappings(model)
        lead_map = next((m for m in maps if m.record == "lead"), None)
        stage = lead_map.by_semantic("stage") if lead_map else None
        stage_field = (stage.crm_field if stage and stage.crm_field else "Status")
        tasks = [_task(client, m, stage_field) for m in maps]
        return open_pulled(
            model, client, tasks, {m.table: m.unmapped for m in maps if m.unmapped},
            crm="salesforce", label="Salesforce", identity=f"{client.http.base_url}|{client.api_version}",
            cache_dir=cache_dir, progress=progress, refresh=refresh,
        )
