"""Semantic diff of two playbook models, in business terms (pure: no I/O).

Entities are matched by id, never by position or file, so renaming or
splitting a process file changes nothing here. Each change names the entity,
the attribute, the old and new value, and the top-level section it belongs to
(the unit approvals are granted for).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from ..model import (SECTIONS, AllowedValue, Duration, Holiday, MergeFieldRule, Playbook, RuleThreshold,
                     Transition)
from .words import Segment, as_text, word_diff

# Singular business names of the entities in list sections, by (section, nested attribute).
KIND: dict[tuple[str, str], str] = {
    ("people", ""): "person", ("lanes", ""): "lane", ("roles", ""): "role", ("systems", ""): "system",
    ("events", ""): "event", ("fields", ""): "field", ("sources", ""): "source", ("stages", ""): "stage",
    ("statuses", ""): "status", ("closure_reasons", ""): "closure reason", ("slas", ""): "SLA",
    ("outreach", ""): "outreach sequence", ("templates", ""): "template",
    ("sensitive_topics", ""): "sensitive topic", ("logging", ""): "logging requirement",
    ("handoffs", ""): "handoff", ("metrics", ""): "metric", ("reporting", ""): "reporting cadence",
    ("quality_checks", ""): "quality check", ("exceptions", ""): "exception", ("experiments", ""): "experiment",
    ("steps", ""): "step",
    ("qualification", "criteria"): "criterion", ("qualification", "manual_reviews"): "manual review",
    ("scoring", "rules"): "scoring rule", ("scoring", "bands"): "score band",
    ("routing", "triggers"): "routing trigger", ("routing", "queues"): "queue", ("routing", "rules"): "routing rule",
    ("consent", "do_not_contact"): "do-not-contact rule", ("appointments", "stages"): "appointment stage",
    ("outcomes", "items"): "outcome", ("conformance", "thresholds"): "threshold",
}

# How one item of a list attribute is named in a sentence ("required field insurance_type added").
ITEM: dict[str, str] = {
    "required_fields": "required field", "key_fields": "key field", "fields": "field", "stages": "stage",
    "applies_to_stages": "stage", "initial_fields": "initial field", "inputs": "input", "outputs": "output",
    "stage_changes": "stage change", "systems": "system", "logging": "logging requirement",
    "exceptions": "exception", "metrics": "metric", "templates": "template", "next": "next step",
    "specialty": "specialty", "region": "region", "passed": "passed field", "withheld": "withheld field",
    "merge_fields": "merge field", "utm_fields": "UTM field", "audience": "audience role",
    "conformance_rules": "conformance rule", "transitions": "transition to", "activity_types": "activity type",
    "channels_requiring_consent": "channel requiring consent", "allowed_values": "allowed value",
    "responsibilities": "responsibility", "decisions": "decision", "actions": "action", "criteria": "criterion",
    "outcomes": "outcome", "checklist": "checklist item", "escalations": "escalation", "steps": "step",
    "examples": "example", "privacy_preferences": "privacy preference", "collection_limits": "collection limit",
    "intake_steps": "intake step", "agenda": "agenda item", "dashboards": "dashboard",
    "success_criteria": "success criterion", "hours": "opening hours", "extra": "extra holiday",
    "observed": "observed holiday", "start_events": "start event", "end_events": "end event", "days": "day",
}

# Lists where the order is the meaning (first match wins), so a reorder is a change.
ORDERED = {("routing", "rules")}

# Natural keys of list items that have no id (a field name that is not unique, like a merge
# rule's `rule`, must not be one: those lists compare by position).
_KEYS: dict[type, str] = {
    RuleThreshold: "rule", MergeFieldRule: "field", Transition: "to", AllowedValue: "value", Holiday: "date",
}

TEXT_WIDTH = 80
"""Texts longer than this are shown as a word-level diff instead of "from A to B"."""


@dataclass(frozen=True)
class Change:
    """One semantic change: which entity, which attribute, from what to what."""

    entity_kind: str
    entity_id: str
    attribute: str
    old: Any
    new: Any
    section: str
    text: str
    words: tuple[Segment, ...] = ()
    """For a long text changed in place: the word-level diff (old and new stay whole in `old`/`new`)."""

    def as_dict(self) -> dict[str, Any]:
        d = {k: _jsonable(v) for k, v in asdict(self).items() if k != "words"}
        if self.words:
            d["word_diff"] = [{"op": op, "text": text} for op, text in self.words]
        return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, BaseModel):
        return v.model_dump(mode="json")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def show(value: Any) -> str:
    """A value as the playbook writes it: durations as text, items as "after 3 business days, notify ops".

    Never cut: a change log must not hide part of a value (long texts that change in
    place are shown as a word diff instead, see `_Differ.value`).
    """
    if value is None:
        s = "(none)"
    elif isinstance(value, Duration):
        s = str(value)
    elif isinstance(value, bool):
        s = "yes" if value else "no"
    elif isinstance(value, date):
        s = value.isoformat()
    elif isinstance(value, BaseModel):
        key = _key(value)
        s = str(key) if key is not None else _show_item(value)
    elif isinstance(value, dict):
        s = "; ".join(f"{_label((str(k),))} {show(v)}" for k, v in value.items()) or "(none)"
    elif isinstance(value, (list, tuple)):
        s = ", ".join(show(v) for v in value) or "(none)"
    else:
        s = str(value)
    return " ".join(s.split())


def _show_item(item: BaseModel) -> str:
    """An item without identity by its set attributes, each shown as written (not as Python data)."""
    parts = []
    for name, info in type(item).model_fields.items():
        v = getattr(item, name)
        if v == info.default or v in (None, "", [], {}):
            continue
        parts.append(f"{_label((name,))} {show(v)}")
    return ", ".join(parts)


def _key(item: Any) -> Any:
    if isinstance(item, BaseModel):
        name = _KEYS.get(type(item), "id")
        if name in type(item).model_fields:
            return getattr(item, name)
    return None


def entity_key(item: Any) -> Any:
    """What names an entity in a Change: its id, or its natural key (a threshold's `rule`).

    None for an item with neither (compared by position). Everything in history that
    indexes entities uses this, so an entity without an `id` is never a special case.
    """
    return _key(item)


def _unique_keys(items: list) -> bool:
    keys = [_key(x) for x in items]
    return None not in keys and len(set(map(str, keys))) == len(keys)


# Attribute names that read better under another word in a sentence.
_WORDS = {"when": "condition"}


def _label(path: tuple[str, ...]) -> str:
    return " ".join(_WORDS.get(p, p).replace("_", " ") for p in path)


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(self, kind: str, eid: str, attr: tuple[str, ...], old: Any, new: Any, section: str, text: str) -> None:
        self.changes.append(Change(kind, eid, ".".join(attr), old, new, section, text))

    def subject(self, kind: str, eid: str) -> str:
        return f"{kind} {eid}" if eid and eid != kind else kind

    def entity(self, kind: str, eid: str, a: BaseModel, b: BaseModel, section: str) -> None:
        """Attributes of one entity present on both sides."""
        for name in type(b).model_fields:
            self.value(kind, eid, (name,), getattr(a, name), getattr(b, name), section)

    def value(self, kind: str, eid: str, path: tuple[str, ...], old: Any, new: Any, section: str) -> None:
        if old == new:
            return
        who = self.subject(kind, eid)
        label = _label(path)
        if isinstance(old, BaseModel) and isinstance(new, BaseModel) and type(old) is type(new) \
                and not isinstance(new, Duration) and _key(new) is None:
            for name in type(new).model_fields:
                self.value(kind, eid, path + (name,), getattr(old, name), getattr(new, name), section)
            return
        if isinstance(old, list) and isinstance(new, list):
            self.list_attr(kind, eid, path, old, new, section)
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for k in sorted(set(old) | set(new)):
                self.value(kind, eid, path + (f"for {k}",), old.get(k), new.get(k), section)
            return
        if isinstance(new, Duration) and isinstance(old, Duration) and path == ("within",):
            text = f"{who}: {show(old)} -> {show(new)}"
        elif isinstance(old, str) and isinstance(new, str) and old.strip() and new.strip() \
                and max(len(old), len(new)) > TEXT_WIDTH:
            # "from A… to A…" would hide the change: show the words that changed, in context.
            words = tuple(word_diff(old, new))
            self.changes.append(Change(kind, eid, ".".join(path), old, new, section,
                                       f"{who}: {label} changed: {as_text(list(words))}", words))
            return
        elif old is None or old == [] or old == "":
            text = f"{who}: {label} set to {show(new)}"
        elif new is None or new == [] or new == "":
            text = f"{who}: {label} cleared (was {show(old)})"
        else:
            text = f"{who}: {label} changed from {show(old)} to {show(new)}"
        self.add(kind, eid, path, old, new, section, text)

    def list_attr(self, kind: str, eid: str, path: tuple[str, ...], old: list, new: list, section: str) -> None:
        who = self.subject(kind, eid)
        item = f"{_label(path)}:" if path[-1].startswith("for ") else ITEM.get(path[-1], _label(path))
        keyed = bool(old or new) and isinstance((old + new)[0], BaseModel) and _unique_keys(old) \
            and _unique_keys(new)
        if keyed:
            a = {_key(x): x for x in old}
            b = {_key(x): x for x in new}
            for k, x in b.items():
                if k not in a:
                    self.add(kind, eid, path, None, x, section, f"{who}: {item} {k} added")
                elif a[k] != x:
                    for name in type(x).model_fields:
                        self.value(kind, eid, path[:-1] + (f"{item} {k}", name), getattr(a[k], name),
                                   getattr(x, name), section)
            for k, x in a.items():
                if k not in b:
                    self.add(kind, eid, path, x, None, section, f"{who}: {item} {k} removed")
            return
        if any(isinstance(x, BaseModel) for x in old + new):
            # Items without identity (outreach steps, escalations): compare by position.
            for i in range(max(len(old), len(new))):
                o = old[i] if i < len(old) else None
                n = new[i] if i < len(new) else None
                if o == n:
                    continue
                if o is None:
                    self.add(kind, eid, path, None, n, section, f"{who}: {item} {i + 1} added ({show(n)})")
                elif n is None:
                    self.add(kind, eid, path, o, None, section, f"{who}: {item} {i + 1} removed ({show(o)})")
                else:
                    for name in type(n).model_fields:
                        self.value(kind, eid, path[:-1] + (f"{item} {i + 1}", name), getattr(o, name),
                                   getattr(n, name), section)
            return
        hashable = all(isinstance(x, (str, int, float, bool)) for x in old + new)
        if not hashable:
            self.add(kind, eid, path, old, new, section, f"{who}: {_label(path)} changed from {show(old)} to {show(new)}")
            return
        added = [x for x in new if x not in old]
        removed = [x for x in old if x not in new]
        for x in added:
            self.add(kind, eid, path, None, x, section, f"{who}: {item} {show(x)} added")
        for x in removed:
            self.add(kind, eid, path, x, None, section, f"{who}: {item} {show(x)} removed")
        if not added and not removed and old != new and sorted(map(str, old)) == sorted(map(str, new)):
            self.add(kind, eid, path, old, new, section, f"{who}: order of {_label(path)} changed")

    def id_list(self, section: str, sub: str, old: list, new: list) -> None:
        kind = KIND.get((section, sub), _label((sub or section,)))
        # Conformance thresholds are keyed by the rule they budget, not an id.
        a = {_key(x): x for x in old}
        b = {_key(x): x for x in new}
        for eid, x in b.items():
            if eid not in a:
                self.add(kind, eid, (), None, x, section, f"{kind} {eid} added")
            else:
                self.entity(kind, eid, a[eid], x, section)
        for eid, x in a.items():
            if eid not in b:
                self.add(kind, eid, (), x, None, section, f"{kind} {eid} removed")
        if (section, sub) in ORDERED:
            common_a = [i for i in a if i in b]
            common_b = [i for i in b if i in a]
            if common_a != common_b:
                # Name only the stretch that moved, so a long rule list stays readable.
                lo = next(i for i, (x, y) in enumerate(zip(common_a, common_b)) if x != y)
                hi = len(common_a) - next(i for i, (x, y) in enumerate(zip(common_a[::-1], common_b[::-1])) if x != y)
                self.add(kind, "", ("order",), common_a, common_b, section,
                         f"{kind}s: evaluation order at positions {lo + 1}-{hi} changed from "
                         f"{', '.join(common_a[lo:hi])} to {', '.join(common_b[lo:hi])}")

    def mapping(self, section: str, old: BaseModel | None, new: BaseModel | None) -> None:
        kind = _label((section,))
        if old is None or new is None:
            verb = "added" if old is None else "removed"
            self.add(kind, section, (), old, new, section, f"{kind} section {verb}")
            return
        for name in type(new).model_fields:
            o, n = getattr(old, name), getattr(new, name)
            if (section, name) in KIND and isinstance(n, list):
                self.id_list(section, name, o, n)
            else:
                self.value(kind, section, (name,), o, n, section)


def diff(a: Playbook | None, b: Playbook | None) -> list[Change]:
    """Changes from model `a` to model `b`; `None` means the playbook does not exist on that side."""
    if a is None and b is None:
        return []
    if a is None or b is None:
        pb = (b or a).playbook  # type: ignore[union-attr]
        verb = "created" if a is None else "deleted"
        return [Change("playbook", pb.id, "", None if a is None else pb.id, pb.id if a is None else None,
                       "playbook", f"playbook {pb.id} {verb}")]
    d = _Differ()
    for section in SECTIONS:
        old, new = getattr(a, section), getattr(b, section)
        if old == new:
            continue
        if section == "playbook":
            d.entity("playbook", new.id, old, new, section)
        elif isinstance(new, list) or isinstance(old, list):
            d.id_list(section, "", old or [], new or [])
        else:
            d.mapping(section, old, new)
    return d.changes


def sections(changes: list[Change]) -> list[str]:
    """Top-level sections touched by the changes, in document order."""
    touched = {c.section for c in changes}
    return [s for s in SECTIONS if s in touched]


def format_text(changes: list[Change]) -> str:
    """One line per change."""
    return "\n".join(c.text for c in changes)
