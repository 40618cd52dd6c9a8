"""A local fake of the Salesforce REST and HubSpot CRM v3 APIs for tests.

A threaded `http.server` on 127.0.0.1 (random port) that speaks the
documented shapes: SOQL `query`/`queryAll`/`tooling/query` with `done` and
`nextRecordsUrl` paging, sObject describes, Salesforce error bodies
(`[{"message", "errorCode"}]`), HubSpot object lists and search with
`paging.next.after`, properties, property groups and pipelines, and HubSpot
error bodies. Faults (429 with Retry-After, 5xx, 403 REQUEST_LIMIT_EXCEEDED)
are scripted per path prefix with `fail_next`.

The SOQL subset it understands: `SELECT a, b FROM T [WHERE x = 'v' [AND ...]]
[ORDER BY f] [LIMIT n]`; anything else answers 400 MALFORMED_QUERY, so a test
never passes on a query the fake silently misread.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree as ET

API_VERSION = "62.0"
MD_NS = "{http://soap.sforce.com/2006/04/metadata}"


@dataclass
class Fault:
    prefix: str
    status: int
    body: Any
    headers: dict[str, str]
    method: str | None
    times: int


@dataclass
class SalesforceState:
    """What the fake Salesforce org holds: tables for SOQL and sObject describes."""

    tables: dict[str, list[dict]] = field(default_factory=dict)
    tooling: dict[str, list[dict]] = field(default_factory=dict)
    describes: dict[str, dict] = field(default_factory=dict)


@dataclass
class HubSpotState:
    """What the fake HubSpot portal holds, per object type."""

    objects: dict[str, list[dict]] = field(default_factory=dict)
    properties: dict[str, list[dict]] = field(default_factory=dict)
    groups: dict[str, list[dict]] = field(default_factory=dict)
    pipelines: dict[str, list[dict]] = field(default_factory=dict)


_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<table>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?:ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COND = re.compile(r"^\s*([\w.]+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*$")


class FakeCRM:
    """Both fake APIs on one local server; use as a context manager."""

    def __init__(self, token: str = "fake-token-5ecret-value", page_size: int = 2):
        self.token = token
        self.page_size = page_size
        self.sf = SalesforceState()
        self.hs = HubSpotState()
        self.faults: list[Fault] = []
        self.hs_writes: list[tuple[str, str, Any]] = []  # (method, path, body) of every HubSpot write
        self.hs_batch_reads: list[tuple[str, list[str]]] = []  # (object type, ids) of every batch read
        self.log: list[tuple[str, str, int]] = []
        self.queries: list[tuple[str, str, dict[str, list[str]]]] = []  # (method, path, parsed query string)
        self._cursors: dict[str, list[dict]] = {}
        # Tests rewrite answers with these (a foreign or looping link, endless cursors, a huge page).
        self.sf_page_hook: Callable[[dict], dict] | None = None
        self.hs_page_hook: Callable[[dict], dict] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(self) -> FakeCRM:
        """Start serving on a random free port."""
        fake = self

        class Handler(_Handler):
            crm = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeCRM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def sf_env(self) -> dict[str, str]:
        """Environment variables that point the Salesforce client here."""
        return {"SALESFORCE_INSTANCE_URL": self.url, "SALESFORCE_ACCESS_TOKEN": self.token,
                "SALESFORCE_API_VERSION": API_VERSION}

    def hs_env(self) -> dict[str, str]:
        """Environment variables that point the HubSpot client here."""
        return {"HUBSPOT_BASE_URL": self.url, "HUBSPOT_ACCESS_TOKEN": self.token}

    # -- scripting
    def fail_next(self, prefix: str, status: int, body: Any = None, headers: dict[str, str] | None = None,
                  times: int = 1, method: str | None = None) -> None:
        """Answer the next `times` requests whose path starts with `prefix` with this error."""
        with self._lock:
            self.faults.append(Fault(prefix, status, body, headers or {}, method, times))

    def sf_limit_exceeded(self, prefix: str = "/services/data/") -> None:
        """Script the documented 403 REQUEST_LIMIT_EXCEEDED answer."""
        self.fail_next(prefix, 403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if path.startswith(f.prefix) and (f.method is None or f.method == method):
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    return f
        return None

    # -- configuring from our own export
    def load_salesforce_export(self, out: Path) -> None:
        """Configure the org from an SFDX project written by `playbook export salesforce`."""
        base = Path(out) / "force-app" / "main" / "default"
        fields: list[dict] = [{"name": n, "label": n, "type": t, "custom": False, "picklistValues": []}
                              for n, t in STANDARD_LEAD_FIELDS]
        statuses: list[dict] = []
        svs = base / "standardValueSets"
        for name, field_name in (("LeadStatus", "Status"), ("LeadSource", "LeadSource")):
            path = svs / f"{name}.standardValueSet-meta.xml"
            if not path.exists():
                continue
            values = []
            for i, sv in enumerate(ET.parse(path).getroot().findall(f"{MD_NS}standardValue")):
                api = sv.findtext(f"{MD_NS}fullName")
                label = sv.findtext(f"{MD_NS}label") or api
                values.append({"value": api, "label": label, "active": True, "defaultValue":
                               sv.findtext(f"{MD_NS}default") == "true", "validFor": None})
                if name == "LeadStatus":
                    statuses.append({"ApiName": api, "MasterLabel": label,
                                     "IsConverted": sv.findtext(f"{MD_NS}converted") == "true",
                                     "IsDefault": sv.findtext(f"{MD_NS}default") == "true", "SortOrder": i + 1})
            fields.append({"name": field_name, "label": field_name, "type": "picklist", "custom": False,
                           "picklistValues": values})
        for path in sorted((base / "objects" / "Lead" / "fields").glob("*.field-meta.xml")):
            root = ET.parse(path).getroot()
            if not (root.findtext(f"{MD_NS}fullName") or "").endswith("__c"):
                continue  # a standard field file only switches on history tracking
            ftype = root.findtext(f"{MD_NS}type") or "Text"
            values = [
                {"value": v.findtext(f"{MD_NS}fullName"), "label": v.findtext(f"{MD_NS}label"),
                 "active": True, "defaultValue": False, "validFor": None}
                for v in root.iter(f"{MD_NS}value")
            ]
            fields.append({"name": root.findtext(f"{MD_NS}fullName"), "label": root.findtext(f"{MD_NS}label"),
                           "type": _DESCRIBE_TYPES.get(ftype, ftype.lower()), "custom": True,
                           "picklistValues": values})
        self.sf.describes["Lead"] = {"name": "Lead", "fields": fields}
        self.sf.tables["LeadStatus"] = statuses
        groups, qsobjects = [], []
        for i, path in enumerate(sorted((base / "queues").glob("*.queue-meta.xml"))):
            root = ET.parse(path).getroot()
            qid = f"00G{i:015d}"
            groups.append({"Id": qid, "Name": root.findtext(f"{MD_NS}name"),
                           "DeveloperName": path.name.split(".")[0], "Type": "Queue"})
            for qs in root.findall(f"{MD_NS}queueSobject"):
                qsobjects.append({"QueueId": qid, "SobjectType": qs.findtext(f"{MD_NS}sobjectType")})
        self.sf.tables["Group"] = groups
        self.sf.tables["QueueSobject"] = qsobjects
        self.sf.tooling["ValidationRule"] = [
            {"ValidationName": ET.parse(p).getroot().findtext(f"{MD_NS}fullName") or p.name.split(".")[0],
             "Active": ET.parse(p).getroot().findtext(f"{MD_NS}active") == "true",
             "EntityDefinition.DeveloperName": "Lead"}
            for p in sorted((base / "objects" / "Lead" / "validationRules").glob("*.validationRule-meta.xml"))]
        self.sf.tables["FlowDefinitionView"] = [
            {"ApiName": p.name.split(".")[0], "IsActive": ET.parse(p).getroot().findtext(f"{MD_NS}status") == "Active"}
            for p in sorted((base / "flows").glob("*.flow-meta.xml"))]
        self.sf.tables["AssignmentRule"] = [
            {"Name": r.findtext(f"{MD_NS}fullName"), "Active": r.findtext(f"{MD_NS}active") == "true",
             "SobjectType": p.name.split(".")[0]}
            for p in sorted((base / "assignmentRules").glob("*.assignmentRules-meta.xml"))
            for r in ET.parse(p).getroot().findall(f"{MD_NS}assignmentRule")]
        self.sf.tables["MatchingRule"] = [
            {"DeveloperName": r.findtext(f"{MD_NS}fullName"), "RuleStatus": r.findtext(f"{MD_NS}ruleStatus"),
             "SobjectType": p.name.split(".")[0]}
            for p in sorted((base / "matchingRules").glob("*.matchingRule-meta.xml"))
            for r in ET.parse(p).getroot().findall(f"{MD_NS}matchingRules")]
        self.sf.tables["DuplicateRule"] = [
            {"DeveloperName": p.name.split(".")[1], "IsActive": ET.parse(p).getroot().findtext(f"{MD_NS}isActive") == "true",
             "SobjectType": p.name.split(".")[0]}
            for p in sorted((base / "duplicateRules").glob("*.duplicateRule-meta.xml"))]

    def load_hubspot_export(self, out: Path, object_type: str = "leads") -> None:
        """Configure the portal from files written by `playbook export hubspot`."""
        out = Path(out)
        props = json.loads((out / "properties.json").read_text())
        groups = json.loads((out / "property-groups.json").read_text())
        pipeline = json.loads((out / "pipeline.json").read_text())
        self.hs.properties[object_type] = [dict(p) for p in props["inputs"]]
        self.hs.groups[object_type] = [dict(groups)]  # one PropertyGroupCreate body
        stages = [{"id": s.get("stageId") or f"stage{i}", "label": s["label"], "displayOrder": s["displayOrder"],
                   "metadata": s.get("metadata", {}), "archived": False} for i, s in enumerate(pipeline["stages"])]
        self.hs.pipelines[object_type] = [{"id": pipeline.get("pipelineId") or "default", "label": pipeline["label"],
                                           "displayOrder": pipeline.get("displayOrder", 0), "stages": stages,
                                           "archived": False}]

    # -- request handling (called from the handler thread)
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, Any]:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault.status, fault.headers, fault.body
        if headers.get("authorization") != f"Bearer {self.token}":
            if path.startswith("/services/"):
                return 401, {}, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            return 401, {}, {"status": "error", "message": "Authentication credentials not found.",
                             "category": "INVALID_AUTHENTICATION"}
        if path.startswith("/services/data/"):
            return self._salesforce(method, path, query)
        if path.startswith("/crm/v3/"):
            return self._hubspot(method, path, query, body)
        return 404, {}, {"message": "not found"}

    # Salesforce
    def _salesforce(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, dict, Any]:
        m = re.match(r"^/services/data/v(?P<v>[\d.]+)(?P<rest>/.*)$", path)
        if not m:
            return 404, {}, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
        v, rest = m["v"], m["rest"]
        cursor = re.match(r"^/(?:tooling/)?query/(?P<id>[\w-]+)$", rest)
        if cursor:
            return self._sf_page(v, cursor["id"], "tooling" in rest)
        if rest in ("/query", "/queryAll", "/tooling/query") and method == "GET":
            soql = (query.get("q") or [""])[0]
            source = self.sf.tooling if rest.startswith("/tooling") else self.sf.tables
            try:
                rows = _run_soql(soql, source)
            except ValueError as exc:
                return 400, {}, [{"message": str(exc), "errorCode": "MALFORMED_QUERY"}]
            cid = f"01g{uuid.uuid4().hex[:12]}"
            with self._lock:
                self._cursors[cid] = rows
            return self._sf_page(v, f"{cid}-0", rest.startswith("/tooling"))
        d = re.match(r"^/sobjects/(?P<o>\w+)/describe$", rest)
        if d:
            desc = self.sf.describes.get(d["o"])
            if desc is None:
                return 404, {}, [{"message": f"The requested resource does not exist: {d['o']}", "errorCode": "NOT_FOUND"}]
            return 200, {}, desc
        if rest == "/limits":
            return 200, {}, {"DailyApiRequests": {"Max": 15000, "Remaining": 14000}}
        return 404, {}, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]

    def _sf_page(self, v: str, token: str, tooling: bool) -> tuple[int, dict, Any]:
        cid, _, offset = token.rpartition("-")
        with self._lock:
            rows = self._cursors.get(cid)
        if rows is None or not offset.isdigit():
            return 400, {}, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
        start = int(offset)
        chunk = rows[start:start + self.page_size]
        done = start + self.page_size >= len(rows)
        page: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            page["nextRecordsUrl"] = f"/services/data/v{v}/{'tooling/' if tooling else ''}query/{cid}-{start + self.page_size}"
        if self.sf_page_hook is not None:
            page = self.sf_page_hook(page)
        return 200, {}, page

    # HubSpot
    def _hubspot(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, dict, Any]:
        m = re.match(r"^/crm/v3/(?P<kind>objects|properties|pipelines)/(?P<type>[\w-]+)(?P<rest>/.*)?$", path)
        if not m:
            return 404, {}, {"status": "error", "message": "Resource not found", "category": "OBJECT_NOT_FOUND"}
        kind, otype, rest = m["kind"], m["type"], m["rest"] or ""
        otype = HS_TYPE_IDS.get(otype, otype)  # HubSpot takes an object's type id in place of its name
        if kind == "properties" and rest == "" and method == "GET":
            return 200, {}, self._hs_hook({"results": self.hs.properties.get(otype, [])})
        if kind == "properties" and rest == "/groups" and method == "GET":
            return 200, {}, self._hs_hook({"results": self.hs.groups.get(otype, [])})
        if kind == "pipelines" and rest == "" and method == "GET":
            return 200, {}, self._hs_hook({"results": self.hs.pipelines.get(otype, [])})
        if kind == "objects" and rest == "" and method == "GET":
            names = [p for v in query.get("properties", []) for p in v.split(",") if p]
            after = int((query.get("after") or ["0"])[0] or 0)
            limit = min(int((query.get("limit") or ["10"])[0]), 100)
            assoc = [a for v in query.get("associations", []) for a in v.split(",") if a]
            return 200, {}, self._hs_page(self.hs.objects.get(otype, []), names, after, limit, assoc)
        if kind == "objects" and rest == "/batch/read" and method == "POST":
            return self._hs_batch_read(otype, json.loads(body or b"{}"))
        if kind == "objects" and rest == "/search" and method == "POST":
            req = json.loads(body or b"{}")
            rows = [o for o in self.hs.objects.get(otype, []) if _hs_match(o, req.get("filterGroups") or [])]
            after = int(req.get("after") or 0)
            page = self._hs_page(rows, req.get("properties") or [], after, min(int(req.get("limit", 10)), 100), [])
            page["total"] = len(rows)
            return 200, {}, page
        if method in ("POST", "PATCH", "DELETE") and kind in ("properties", "pipelines"):
            with self._lock:
                return self._hubspot_write(method, kind, otype, rest, json.loads(body) if body else None)
        return 404, {}, {"status": "error", "message": "Resource not found", "category": "OBJECT_NOT_FOUND"}

    # HubSpot configuration writes (playbook deploy hubspot); a create of what exists is a 409, as on HubSpot.
    def _hubspot_write(self, method: str, kind: str, otype: str, rest: str, body: Any) -> tuple[int, dict, Any]:
        bad = (400, {}, {"status": "error", "message": "Invalid input", "category": "VALIDATION_ERROR"})
        conflict = (409, {}, {"status": "error", "message": "Already exists", "category": "CONFLICT"})
        missing = (404, {}, {"status": "error", "message": "Resource not found", "category": "OBJECT_NOT_FOUND"})
        self.hs_writes.append((method, f"/crm/v3/{kind}/{otype}{rest}", body))
        if kind == "properties":
            groups = self.hs.groups.setdefault(otype, [])
            props = self.hs.properties.setdefault(otype, [])
            if rest == "/groups" and method == "POST":
                if not isinstance(body, dict) or not body.get("name") or not body.get("label"):
                    return bad
                if any(g["name"] == body["name"] for g in groups):
                    return conflict
                groups.append(dict(body))
                return 201, {}, dict(body)
            if rest.startswith("/groups/") and method == "PATCH":
                g = next((g for g in groups if g["name"] == rest.split("/", 2)[2]), None)
                if g is None:
                    return missing
                g.update(body or {})
                return 200, {}, g
            if rest == "/batch/create" and method == "POST":
                inputs = (body or {}).get("inputs")
                if not isinstance(inputs, list) or not all(p.get("name") and p.get("groupName") for p in inputs):
                    return bad
                if any(p["name"] == q.get("name") for p in inputs for q in props):
                    return conflict
                props += [dict(p) for p in inputs]
                return 201, {}, {"status": "COMPLETE", "results": inputs}
            name = rest.lstrip("/")
            prop = next((p for p in props if p.get("name") == name), None)
            if prop is None or "/" in name:
                return missing
            if method == "PATCH":
                prop.update(body or {})
                return 200, {}, prop
            if method == "DELETE":
                props.remove(prop)
                return 204, {}, None
            return missing
        pipes = self.hs.pipelines.setdefault(otype, [])
        if rest == "" and method == "POST":
            if not isinstance(body, dict) or not body.get("label") or not isinstance(body.get("stages"), list):
                return bad
            if any(p["label"] == body["label"] for p in pipes):
                return conflict
            pid = f"pipeline{len(pipes) + 1}"
            stages = [{"id": f"{pid}-stage{i}", "archived": False, **st} for i, st in enumerate(body["stages"])]
            pipes.append({"id": pid, "label": body["label"], "displayOrder": body.get("displayOrder", 0),
                          "stages": stages, "archived": False})
            return 201, {}, pipes[-1]
        m = re.match(r"^/(?P<pid>[^/]+)/stages(?:/(?P<sid>[^/]+))?$", rest)
        pipe = next((p for p in pipes if m and p["id"] == m["pid"]), None)
        if pipe is None:
            return missing
        if m["sid"] is None and method == "POST":
            if not isinstance(body, dict) or not body.get("label") or "metadata" not in body:
                return bad
            if any(st["label"] == body["label"] for st in pipe["stages"]):
                return conflict
            pipe["stages"].append({"id": f"{pipe['id']}-stage{len(pipe['stages'])}", "archived": False, **body})
            return 201, {}, pipe["stages"][-1]
        stage = next((st for st in pipe["stages"] if st["id"] == m["sid"]), None)
        if stage is None:
            return missing
        if method == "PATCH":
            stage.update(body or {})
            return 200, {}, stage
        if method == "DELETE":
            pipe["stages"].remove(stage)
            return 204, {}, None
        return missing

    def _hs_page(self, rows: list[dict], names: list[str], after: int, limit: int,
                 associations: list[str] | None = None) -> dict:
        chunk = rows[after:after + min(limit, self.page_size)]
        results = []
        for o in chunk:
            results.append(self._hs_object(o, names, associations))
        page: dict[str, Any] = {"results": results}
        nxt = after + len(chunk)
        if nxt < len(rows):
            page["paging"] = {"next": {"after": str(nxt), "link": f"{self.url}/crm/v3/objects?after={nxt}"}}
        return self._hs_hook(page)

    @staticmethod
    def _hs_object(o: dict, names: list[str], associations: list[str] | None = None) -> dict:
        # As HubSpot answers: the properties asked for (a name the object lacks comes back as nothing),
        # and associations only of the object types asked for (a search answers with none).
        props = o.get("properties", {})
        keep = {k: props[k] for k in names if k in props} if names else dict(props)
        out = {k: v for k, v in o.items() if k not in ("properties", "associations")}
        links = o.get("associations") or {}
        picked = {a: links[a] for a in associations or [] if a in links}
        out.update({"associations": picked} if picked else {})
        return {**out, "properties": keep}

    def _hs_batch_read(self, otype: str, req: dict) -> tuple[int, dict, Any]:
        # POST /crm/v3/objects/{type}/batch/read: at most 100 inputs; ids not found make a 207
        # (multi-status) answer listing them under `errors`, the others still come back.
        inputs = req.get("inputs")
        if not isinstance(inputs, list) or len(inputs) > 100 or not all(isinstance(i, dict) and i.get("id") for i in inputs):
            return 400, {}, {"status": "error", "message": "Invalid input", "category": "VALIDATION_ERROR"}
        by_id = {str(o.get("id")): o for o in self.hs.objects.get(otype, [])}
        names = [n for n in req.get("properties") or [] if isinstance(n, str)]
        found = [self._hs_object(by_id[str(i["id"])], names, []) for i in inputs if str(i["id"]) in by_id]
        missing = [str(i["id"]) for i in inputs if str(i["id"]) not in by_id]
        self.hs_batch_reads.append((otype, [str(i["id"]) for i in inputs]))
        answer: dict[str, Any] = {"status": "COMPLETE", "results": found,
                                  "startedAt": "2024-01-01T00:00:00Z", "completedAt": "2024-01-01T00:00:01Z"}
        if not missing:
            return 200, {}, answer
        answer["numErrors"] = len(missing)
        answer["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some objects",
                             "context": {"ids": missing}}]
        return 207, {}, answer

    def _hs_hook(self, page: dict) -> dict:
        return self.hs_page_hook(page) if self.hs_page_hook is not None else page


HS_TYPE_IDS = {"0-1": "contacts", "0-136": "leads"}

STANDARD_LEAD_FIELDS = [
    ("Id", "id"), ("OwnerId", "reference"), ("CreatedDate", "datetime"), ("FirstName", "string"),
    ("LastName", "string"), ("Email", "email"), ("Phone", "phone"), ("MobilePhone", "phone"),
    ("LastActivityDate", "date"), ("Company", "string"), ("Title", "string"), ("Street", "textarea"),
    ("City", "string"), ("State", "string"), ("PostalCode", "string"), ("Country", "string"),
]
"""Standard Lead fields every org has (Status and LeadSource come from their value sets)."""

_DESCRIBE_TYPES = {"Picklist": "picklist", "MultiselectPicklist": "multipicklist", "Checkbox": "boolean",
                   "Text": "string", "LongTextArea": "textarea", "TextArea": "textarea", "Number": "double",
                   "Date": "date", "DateTime": "datetime", "Email": "email", "Phone": "phone", "Url": "url"}


def _run_soql(soql: str, tables: dict[str, list[dict]]) -> list[dict]:
    m = _SOQL.match(soql)
    if not m:
        raise ValueError(f"unsupported SOQL in fake: {soql[:80]}")
    table = m["table"]
    if table not in tables:
        raise ValueError(f"sObject type '{table}' is not supported.")
    rows = list(tables[table])
    if m["where"]:
        for cond in re.split(r"\s+AND\s+", m["where"], flags=re.IGNORECASE):
            c = _COND.match(cond)
            if not c:
                raise ValueError(f"unsupported WHERE clause in fake: {cond[:60]}")
            col, val = c[1], c[2].replace("\\'", "'").replace("\\\\", "\\")
            rows = [r for r in rows if str(r.get(col)) == val]
    if m["order"]:
        rows.sort(key=lambda r: (r.get(m["order"]) is None, r.get(m["order"])))
    if m["limit"]:
        rows = rows[: int(m["limit"])]
    cols = [c.strip() for c in m["fields"].split(",")]
    return [{"attributes": {"type": table, "url": f"/services/data/v{API_VERSION}/sobjects/{table}/{r.get('Id', '')}"},
             **{c: r.get(c) for c in cols}} for r in rows]


def _hs_match(obj: dict, groups: list[dict]) -> bool:
    if not groups:
        return True
    props = obj.get("properties", {})
    for g in groups:
        ok = True
        for f in g.get("filters", []):
            val, op = props.get(f["propertyName"]), f.get("operator", "EQ")
            ok = ok and {
                "EQ": lambda: str(val) == str(f.get("value")),
                "NEQ": lambda: str(val) != str(f.get("value")),
                "HAS_PROPERTY": lambda: val not in (None, ""),
                "NOT_HAS_PROPERTY": lambda: val in (None, ""),
                "IN": lambda: str(val) in [str(x) for x in f.get("values", [])],
            }[op]()
        if ok:
            return True
    return False


class _Handler(BaseHTTPRequestHandler):
    crm: FakeCRM
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would add ~40 ms each

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, payload = self.crm.handle(self.command, self.path, headers, body)
        self.crm.log.append((self.command, urlsplit(self.path).path, status))
        self.crm.queries.append((self.command, urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)))
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_DELETE = _serve


class FaultyServer:
    """A bounded misbehaving HTTP server on 127.0.0.1: it drips or stays silent, then stops by itself.

    `mode="drip"` sends a valid response one byte every `interval` seconds;
    `mode="silent"` accepts and never answers. Every connection is closed and
    the server stops after `lifetime` seconds at most, so a test never hangs
    even if the client under test has no deadline. `connections` counts accepts.
    """

    def __init__(self, mode: str = "drip", interval: float = 0.25, lifetime: float = 6.0,
                 body: bytes = b'{"records": [], "done": true}'):
        self.mode, self.interval, self.lifetime = mode, interval, lifetime
        self.response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> FaultyServer:
        self._started = time.monotonic()
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.lifetime + 1)
        self._sock.close()

    def _expired(self) -> bool:
        return self._stop.is_set() or time.monotonic() - self._started > self.lifetime

    def _accept(self) -> None:
        while not self._expired():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.05)
            try:
                conn.recv(65536)  # the request; its content does not matter
            except OSError:
                pass
            sent = 0
            while not self._expired():
                if self.mode == "drip" and sent < len(self.response):
                    try:
                        conn.sendall(self.response[sent:sent + 1])
                    except OSError:
                        return
                    sent += 1
                self._stop.wait(self.interval)
