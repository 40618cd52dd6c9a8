"""Hover text: the model's description of a key, and of the entity an id names."""

from __future__ import annotations

import typing
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from ..model import Playbook
from ..validate.refs import REFS
from .index import Index, Occurrence

SINGULAR = {
    "stages": "stage", "fields": "field", "lanes": "lane", "roles": "role", "people": "person",
    "events": "event", "templates": "template", "routing.queues": "queue", "systems": "system",
    "slas": "SLA", "steps": "step", "statuses": "status", "closure_reasons": "closure reason",
    "appointments.stages": "appointment stage", "handoffs": "handoff", "logging": "logging requirement",
    "exceptions": "exception", "metrics": "metric", "outreach": "outreach sequence",
}


@lru_cache(maxsize=1)
def schema_descriptions() -> dict[str, Any]:
    """The JSON Schema's definitions by model name (computed once: it takes a while)."""
    doc = Playbook.model_json_schema()
    defs = dict(doc.get("$defs", {}))
    defs["Playbook"] = doc
    return defs


def _type_text(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "").replace("generator.model.", "")
    return text.replace("<class '", "").replace("'>", "")


def describe_key(cls: type[BaseModel], name: str) -> str:
    """Markdown: what a key means, from the pydantic field and the JSON Schema."""
    info = cls.model_fields[name]
    prop = schema_descriptions().get(cls.__name__, {}).get("properties", {}).get(name, {})
    required = info.is_required()
    lines = [f"**`{name}`** in {cls.__name__}" + (" (required)" if required else "")]
    title = prop.get("title")
    if title:
        lines.append(title)
    if info.description:
        lines.append(info.description)
    targets = REFS.get((cls, name))
    if targets:
        names = " or ".join(f"`{t}`" for t in targets)
        lines.append(f"The id of an entry in {names}.")
    else:
        sub = [a for a in _flat_args(info.annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        if sub and sub[0].__doc__:
            lines.append(f"{sub[0].__name__}: {sub[0].__doc__.strip()}")
        elif not sub:
            enum = prop.get("enum") or (prop.get("items") or {}).get("enum")
            lines.append(f"One of: {', '.join(map(str, enum))}." if enum else f"Type: `{_type_text(info.annotation)}`.")
    if cls.__doc__ and cls is not Playbook:
        lines.append(f"{cls.__name__}: {cls.__doc__.strip()}")
    return "\n\n".join(lines)


def _flat_args(annotation: Any) -> list[Any]:
    out = [annotation]
    for a in typing.get_args(annotation):
        out.extend(_flat_args(a))
    return out


def describe_entity(index: Index, key: tuple[str, str]) -> str:
    """Markdown: the entity an id names, with where it is defined and how often it is used."""
    section, ident = key
    entity = index.entities.get(key, {})
    kind = SINGULAR.get(section, section)
    title = next((entity[k] for k in ("name", "label", "title") if isinstance(entity.get(k), str)), "")
    lines = [f"**{kind} `{ident}`**" + (f": {title}" if title else "")]
    for k in ("description", "purpose", "meaning", "guidance"):
        if isinstance(entity.get(k), str) and entity[k].strip():
            lines.append(entity[k].strip())
            break
    occ: Occurrence = index.definitions[key]
    uses = len(index.references_to(key))
    lines.append(f"Defined in `{occ.file}:{occ.line}` · {uses} reference{'s' if uses != 1 else ''}")
    return "\n\n".join(lines)
