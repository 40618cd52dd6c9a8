"""A tiny deterministic XML writer for Salesforce metadata files.

Elements are built as `E(tag, *children)` or `E(tag, text)`; serialization
escapes all text, drops characters XML 1.0 cannot carry, and orders child
elements in the Metadata WSDL's `xsd:sequence` order (a type's inherited
elements first, then its own), keeping the order of repeated tags, so the
Metadata API accepts the file and output bytes are stable.

The order comes from `sf_order.json`, extracted from Salesforce's own
`@salesforce/types` by `python -m tests.sf_shapes` (tests/test_sfdx.py fails
when the two disagree). An element the table does not know for its type is a
bug in the exporter and raises instead of being placed anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

MD_NS = "http://soap.sforce.com/2006/04/metadata"
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class E:
    """An element: a tag with either text or child elements."""

    tag: str
    text: str | None = None
    children: list[E] = field(default_factory=list)

    def __init__(self, tag: str, *content: E | str | bool | int | None):
        self.tag = tag
        self.text = None
        self.children = []
        for c in content:
            if c is None:
                continue
            if isinstance(c, E):
                self.children.append(c)
            elif isinstance(c, bool):
                self.text = "true" if c else "false"
            else:
                self.text = str(c)


def escape(text: str) -> str:
    """Escape element text; characters XML 1.0 forbids are dropped."""
    text = _INVALID.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace(
        "'", "&apos;")


@cache
def _order() -> dict[str, dict[str, tuple[int, str]]]:
    """`{type: {element: (position, element type)}}` from the WSDL order table."""
    raw = json.loads(resources.files(__package__).joinpath("sf_order.json").read_text(encoding="utf-8"))
    return {t: {name: (i, child) for i, (name, child) in enumerate(els)} for t, els in raw.items()}


def _ordered(kind: str, children: list[E]) -> list[tuple[E, str]]:
    """Children in `kind`'s sequence order (stable: repeated tags keep their order), each with its type."""
    shape = _order().get(kind)
    if shape is None:
        raise ValueError(f"no Metadata API shape for type {kind}")
    for c in children:
        if c.tag not in shape:
            raise ValueError(f"<{c.tag}> is not an element of the Metadata API type {kind}")
    return [(c, shape[c.tag][1]) for c in sorted(children, key=lambda c: shape[c.tag][0])]


def _write(e: E, kind: str, depth: int, out: list[str]) -> None:
    pad = "    " * depth
    if e.children:
        out.append(f"{pad}<{e.tag}>")
        for c, child_kind in _ordered(kind, e.children):
            _write(c, child_kind, depth + 1, out)
        out.append(f"{pad}</{e.tag}>")
    elif e.text is None or e.text == "":
        out.append(f"{pad}<{e.tag}/>")
    else:
        out.append(f"{pad}<{e.tag}>{escape(e.text)}</{e.tag}>")


def document(root: E) -> bytes:
    """A metadata file: XML declaration, namespaced root, 4-space indent, trailing newline."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root.tag} xmlns="{MD_NS}">']
    for c, kind in _ordered(root.tag, root.children):
        _write(c, kind, 1, out)
    out.append(f"</{root.tag}>")
    return ("\n".join(out) + "\n").encode("utf-8")
