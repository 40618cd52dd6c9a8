"""Synthetic CRM records in the documented Salesforce and HubSpot shapes, for the pull tests.

Loaded into `fakecrm.FakeCRM` (the export engineer's local API server). The
counts are fixed so tests can assert exact row counts after a pull.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

N_LEADS = 9
N_TASKS = 7
N_STATUS_HISTORY = 6
N_APPOINTMENTS = 3
SECRET_EMAIL = "pat.private@example.org"  # a field value that must never reach a message

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=timezone.utc)


def _sf_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _hs_time(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def salesforce_tables() -> dict[str, list[dict]]:
    """sObject rows as the REST query API returns them (before paging)."""
    leads = [
        {
            "Id": f"00Q{i:015d}", "CreatedDate": _sf_time(T0 + timedelta(hours=5 * i)),
            "Status": ["New", "Qualified", "Closed - Lost"][i % 3], "OwnerId": f"005{i % 2:015d}",
            "Email": SECRET_EMAIL if i == 0 else f"lead{i}@example.test", "Phone": f"+1555000{i:04d}",
            "FirstName": f"F{i}", "LastName": f"L{i}", "LeadSource": "web", "DoNotCall": i == 4,
            "Consent__c": i % 2 == 0, "Specialty__c": "cardiology" if i % 2 else "orthopedics",
        }
        for i in range(N_LEADS)
    ]
    tasks = [
        {
            "Id": f"00T{i:015d}", "WhoId": f"00Q{i % N_LEADS:015d}", "TaskSubtype": "Call" if i % 2 else "Email",
            "CreatedDate": _sf_time(T0 + timedelta(hours=5 * (i % N_LEADS), minutes=40)),
            "CallDisposition": "Reached" if i % 2 else None, "ActivityDate": "2024-03-08" if i % 2 else None,
        }
        for i in range(N_TASKS)
    ]
    history = [
        {"Id": f"017{i:015d}", "LeadId": f"00Q{i:015d}", "Field": "Status", "OldValue": "New",
         "NewValue": "Qualified", "CreatedDate": _sf_time(T0 + timedelta(days=1, hours=i)), "CreatedById": "005A"}
        for i in range(N_STATUS_HISTORY)
    ] + [
        {"Id": f"017{90 + i:015d}", "LeadId": f"00Q{i:015d}", "Field": "Email", "OldValue": "x@y.z",
         "NewValue": "a@b.c", "CreatedDate": _sf_time(T0), "CreatedById": "005A"}
        for i in range(2)
    ]
    appointments = [
        {"Id": f"a01{i:015d}", "Lead__c": f"00Q{i:015d}", "Stage__c": "booked",
         "Scheduled_At__c": _sf_time(T0 + timedelta(days=3 + i))}
        for i in range(N_APPOINTMENTS)
    ]
    return {"Lead": leads, "Task": tasks, "LeadHistory": history, "Appointment__c": appointments}


def hubspot_objects() -> dict[str, list[dict]]:
    """CRM v3 objects (`id`, `properties`, `createdAt`, history, associations)."""
    leads = []
    for i in range(N_LEADS):
        created = T0 + timedelta(hours=5 * i)
        stages = ["new"] + (["qualified"] if i < N_STATUS_HISTORY else [])
        leads.append({
            "id": str(1000 + i), "createdAt": _hs_time(created), "updatedAt": _hs_time(created), "archived": False,
            # The person's details live on the lead's primary contact (below), as on HubSpot.
            "properties": {
                "hs_lead_name": f"Lead {i}", "hs_pipeline_stage": stages[-1],
                "hubspot_owner_id": str(77 + i % 2), "consent_to_contact": "true" if i % 2 == 0 else "false",
                # HubSpot sends datetime properties as ISO text or epoch milliseconds.
                "escalated_at": str(int((created + timedelta(hours=30)).timestamp() * 1000)) if i == 1 else None,
            },
            "propertiesWithHistory": {
                "hs_pipeline_stage": [
                    {"value": s, "timestamp": _hs_time(created + timedelta(hours=20 * k)), "sourceType": "CRM_UI",
                     "updatedByUserId": 42}
                    for k, s in reversed(list(enumerate(stages)))  # newest first, as documented
                ]
            },
            # Lead 2 also has a second, non-primary contact with a lower id: the primary one is read.
            "associations": {"contacts": {"results": (
                [{"id": "300", "type": "lead_to_contact"}] if i == 2 else []) + [
                {"id": str(3000 + i), "type": "lead_to_primary_contact"}]}},
        })
    contacts = [
        {"id": str(3000 + i), "createdAt": _hs_time(T0), "updatedAt": _hs_time(T0), "archived": False,
         "properties": {"email": SECRET_EMAIL if i == 0 else f"lead{i}@example.test", "phone": f"+1555000{i:04d}",
                        "firstname": f"F{i}", "lastname": f"L{i}"}}
        for i in range(N_LEADS) if i != N_LEADS - 1  # the last lead's contact was deleted: a 207 answer
    ] + [{"id": "300", "createdAt": _hs_time(T0), "archived": False,
          "properties": {"email": "someone.else@example.test", "firstname": "Other"}}]
    calls = [
        {"id": str(5000 + i), "createdAt": _hs_time(T0), "archived": False,
         "properties": {"hs_timestamp": _hs_time(T0 + timedelta(hours=5 * i, minutes=40)),
                        "hs_call_disposition": "reached"},
         "associations": {"leads": {"results": [{"id": str(1000 + i), "type": "call_to_lead"}]}}}
        for i in range(4)
    ]
    emails = [
        {"id": str(6000 + i), "createdAt": _hs_time(T0), "archived": False,
         "properties": {"hs_timestamp": _hs_time(T0 + timedelta(hours=5 * i, minutes=50))},
         "associations": {"leads": {"results": [{"id": str(1000 + i), "type": "email_to_lead"}]}}}
        for i in range(2)
    ]
    texts = [
        {"id": "7000", "createdAt": _hs_time(T0), "archived": False,
         "properties": {"hs_timestamp": _hs_time(T0 + timedelta(hours=1))},
         "associations": {"leads": {"results": [{"id": "1003", "type": "communication_to_lead"}]}}}
    ]
    meetings = [
        {"id": str(8000 + i), "createdAt": _hs_time(T0), "archived": False,
         "properties": {"hs_meeting_start_time": _hs_time(T0 + timedelta(days=3 + i)), "hs_meeting_outcome": "booked"},
         "associations": {"leads": {"results": [{"id": str(1000 + i), "type": "meeting_to_lead"}]}}}
        for i in range(N_APPOINTMENTS)
    ]
    return {"leads": leads, "contacts": contacts, "calls": calls, "emails": emails, "communications": texts, "meetings": meetings}


N_HS_ACTIVITIES = 4 + 2 + 1
N_HS_HISTORY = N_LEADS + N_STATUS_HISTORY  # one entry per lead at creation, one per qualification
