"""A tiny deterministic XML writer for Salesforce metadata files.

Elements are built as `E(tag, *children)` or `E(tag, text)`; serialization
escapes all text, drops characters XML 1.0 cannot carry, and orders child
elements the way a Salesforce retrieve does (`fullName` first, then by tag
name, keeping the order of repeated tags), so output bytes are stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


def _ordered(children: list[E]) -> list[E]:
    return sorted(children, key=lambda e: (e.tag != "fullName", e.tag))


def _write(e: E, depth: int, out: list[str]) -> None:
    pad = "    " * depth
    if e.children:
        out.append(f"{pad}<{e.tag}>")
        for c in _ordered(e.children):
            _write(c, depth + 1, out)
        out.append(f"{pad}</{e.tag}>")
    elif e.text is None or e.text == "":
        out.append(f"{pad}<{e.tag}/>")
    else:
        out.append(f"{pad}<{e.tag}>{escape(e.text)}</{e.tag}>")


def document(root: E, ordered: bool = True) -> bytes:
    """A metadata file: XML declaration, namespaced root, 4-space indent, trailing newline."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root.tag} xmlns="{MD_NS}">']
    kids = _ordered(root.children) if ordered else root.children
    for c in kids:
        _write(c, 1, out)
    out.append(f"</{root.tag}>")
    return ("\n".join(out) + "\n").encode("utf-8")
