"""`playbook deploy hubspot`: apply the HubSpot export to a portal through its API, idempotently.

The plan compares the portal with the bodies `hubspot.render` writes (the same functions, so the export
and the deploy cannot disagree) and lists one request per difference:

- create what is missing (the property group, properties in one batch, the lead pipeline, a stage);
- update what differs (a property's label, type, group, description or options; a group's label; a
  stage's order or open/closed state);
- never delete: properties of the playbook's group and pipeline stages the playbook does not define are
  reported as kept, and removed only with `--prune`.

Applying the plan twice changes nothing the second time. Requests go through `HubSpotClient.send`, so
retries, limits and redaction are the client's; no lead record is read or written.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

from ..crm.hubspot import HubSpotClient
from . import hubspot
from .mapping import HS_OBJECT_TYPE_ID, CrmSpec

BASE = f"/crm/v3/properties/{HS_OBJECT_TYPE_ID}"
PIPELINES = f"/crm/v3/pipelines/{HS_OBJECT_TYPE_ID}"
# What a property update may carry (PropertyUpdate in @hubspot/api-client), compared one by one.
PROPERTY_KEYS = ("label", "type", "fieldType", "groupName", "description", "formField", "options")


@dataclass
class Step:
    """One request of the plan."""

    action: str  # create | update | delete
    subject: str
    why: str
    method: str
    path: str
    body: dict | None = None


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # extras left alone without --prune

    def add(self, action: str, subject: str, why: str, method: str, path: str, body: dict | None = None) -> None:
        self.steps.append(Step(action, subject, why, method, path, body))

    def text(self) -> str:
        """One line per request, then what is kept; never a field value of a lead (there are none here)."""
        lines = [f"{s.action} {s.subject}: {s.why} ({s.method} {s.path})" for s in self.steps]
        lines += [f"keep {k}: not in the playbook; `--prune` deletes it" for k in self.kept]
        return "\n".join(lines) if lines else "nothing to do: the portal matches the playbook"

    def as_json(self) -> str:
        return json.dumps({"steps": [asdict(s) for s in self.steps], "kept": self.kept}, indent=2, sort_keys=True)


def _options(options: list[dict] | None) -> list[tuple]:
    return [(str(o.get("value")), o.get("label"), bool(o.get("hidden", False)), o.get("description") or None)
            for o in sorted(options or [], key=lambda o: o.get("displayOrder", 0))]


def _differs(want: dict, live: dict) -> list[str]:
    """The property attributes that differ between the export's definition and the portal."""
    out = []
    for k in PROPERTY_KEYS:
        if k == "options":
            if "options" in want and _options(want["options"]) != _options(live.get("options")):
                out.append(k)
        elif k in want and live.get(k) != want[k] and not (k == "description" and not want[k] and not live.get(k)):
            out.append(k)
    return out


def plan_groups(spec: CrmSpec, client: HubSpotClient, plan: Plan) -> None:
    want = hubspot.property_group(spec)
    live = {g.get("name"): g for g in client.get_property_groups(HS_OBJECT_TYPE_ID)}
    g = live.get(want["name"])
    if g is None:
        plan.add("create", f"property group {want['name']}", "missing", "POST", f"{BASE}/groups", want)
    elif g.get("label") != want["label"]:
        plan.add("update", f"property group {want['name']}", "label differs", "PATCH",
                 f"{BASE}/groups/{quote(want['name'], safe='')}", {"label": want["label"]})


def plan_properties(spec: CrmSpec, client: HubSpotClient, plan: Plan, prune: bool) -> None:
    wanted = {p["name"]: p for p in hubspot.properties(spec)}
    live = {p.get("name"): p for p in client.get_properties(HS_OBJECT_TYPE_ID)}
    missing = [p for name, p in wanted.items() if name not in live]
    if missing:
        plan.add("create", f"{len(missing)} propert{'y' if len(missing) == 1 else 'ies'}",
                 "missing: " + ", ".join(p["name"] for p in missing), "POST", f"{BASE}/batch/create",
                 {"inputs": missing})
    for name, want in wanted.items():
        if name in live:
            keys = _differs(want, live[name])
            if keys:
                plan.add("update", f"property {name}", ", ".join(keys) + " differ", "PATCH",
                         f"{BASE}/{quote(name, safe='')}", {k: want[k] for k in keys})
    # Only properties in the playbook's own group are ours to remove; HubSpot's and others' never are.
    for name, p in sorted(live.items(), key=lambda kv: str(kv[0])):
        if p.get("groupName") == spec.hs_group and name not in wanted and not p.get("archived", False):
            if prune:
                plan.add("delete", f"property {name}", "in the playbook's group but not in the playbook", "DELETE",
                         f"{BASE}/{quote(str(name), safe='')}")
            else:
                plan.kept.append(f"property {name}")


def plan_pipeline(spec: CrmSpec, client: HubSpotClient, plan: Plan, prune: bool) -> None:
    want = hubspot.pipeline(spec)
    pipes = [p for p in client.get_pipelines(HS_OBJECT_TYPE_ID) if not p.get("archived", False)]
    match = next((p for p in pipes if p.get("label") == want["label"]), None)
    if match is None:
        plan.add("create", f"lead pipeline {want['label']!r}", f"missing ({len(want['stages'])} stages)", "POST",
                 PIPELINES, want)
        return
    pid = quote(str(match.get("id")), safe="")
    live = {str(s.get("label")): s for s in match.get("stages") or [] if not s.get("archived", False)}
    for st in want["stages"]:
        s = live.get(st["label"])
        if s is None:
            plan.add("create", f"stage {st['label']!r}", "missing", "POST", f"{PIPELINES}/{pid}/stages", st)
            continue
        patch = {}
        if s.get("displayOrder") != st["displayOrder"]:
            patch["displayOrder"] = st["displayOrder"]
        if {k: str(v) for k, v in (s.get("metadata") or {}).items() if k in st["metadata"]} != st["metadata"]:
            patch["metadata"] = st["metadata"]
        if patch:
            plan.add("update", f"stage {st['label']!r}", ", ".join(patch) + " differ", "PATCH",
                     f"{PIPELINES}/{pid}/stages/{quote(str(s.get('id')), safe='')}", patch)
    labels = {st["label"] for st in want["stages"]}
    for label, s in sorted(live.items()):
        if label not in labels:
            if prune:
                plan.add("delete", f"stage {label!r}", "not a playbook stage", "DELETE",
                         f"{PIPELINES}/{pid}/stages/{quote(str(s.get('id')), safe='')}")
            else:
                plan.kept.append(f"stage {label!r}")


def plan_hubspot(spec: CrmSpec, client: HubSpotClient, prune: bool = False) -> Plan:
    """Every request that makes the portal match the playbook (reads only)."""
    plan = Plan()
    plan_groups(spec, client, plan)
    plan_properties(spec, client, plan, prune)
    plan_pipeline(spec, client, plan, prune)
    return plan


def apply(plan: Plan, client: HubSpotClient) -> int:
    """Send the plan's requests in order (groups before the properties that use them); how many were sent."""
    for s in plan.steps:
        client.send(s.method, s.path, s.body)
    return len(plan.steps)


__all__ = ["Plan", "Step", "plan_hubspot", "apply"]
