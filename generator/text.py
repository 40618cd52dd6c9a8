"""Process text is data, never markup: escape it for each output it reaches.

Every string that comes from a process file passes through one of these
before it lands in Markdown, HTML, a DOT label or XML, so raw HTML, script
tags, `javascript:` links, snippet markers (`--8<--`) and template syntax in a
description all show up as the literal text the author typed.
"""

from __future__ import annotations

import html
import re

# Python-Markdown and pymdownx treat these as syntax; the site enables
# pymdownx.escapeall so a backslash makes any of them literal.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~^=:$%@])")


def md_text(value: object) -> str:
    """Escape text for inline use in Markdown (tables, lists, headings)."""
    s = "" if value is None else str(value)
    s = html.escape(s, quote=True)  # & < > " ' become entities: no raw HTML
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # Newlines would end a table row or list item: keep the text on one line.
    return re.sub(r"\s*\n\s*", " ", s).strip()


def md_code(value: object) -> str:
    """Inline code for an identifier (rule id, column, table); anything unusual falls back to escaped text."""
    text = "" if value is None else str(value)
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", text):
        return f"`{text}`"
    return md_text(text)


def md_block(value: object) -> str:
    """Escape multi-line text as Markdown paragraphs."""
    s = "" if value is None else str(value)
    paras = [p for p in re.split(r"\n\s*\n", s) if p.strip()]
    return "\n\n".join(md_text(p) for p in paras)


def html_text(value: object) -> str:
    """Escape text for HTML content or attributes."""
    return html.escape("" if value is None else str(value), quote=True)
