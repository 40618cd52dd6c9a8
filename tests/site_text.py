"""Every human-readable text of a playbook, and whether a built site shows it.

Used by `tests/test_site_text.py` (fails when a text reaches no page) and by
`tests/measure_site.py` (the before/after figure). Like datasette's
`test_docs.py`, it reads the source independently of the templates: the YAML
as plain data, not the model the templates use, so a new kind of text is
covered the day it appears in a process file.

A text is human-readable when it is a string of several words (it holds a
space) under a key that is not machine data: ids and references are slugs
without spaces, and the keys below hold names for other systems, patterns or
template bodies that staff read in the CRM, not on the site.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from generator.load import load_data

# Keys whose values are for machines or other systems, never prose for staff.
MACHINE_KEYS = {"names", "crm_name", "crm_value", "timezone", "pattern", "signal", "api_name", "email",
                "url", "format", "schema"}


@dataclass(frozen=True)
class Text:
    path: str  # where in the YAML, e.g. events[3].description
    text: str


def _walk(value, path: str, out: list[Text]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if str(k) in MACHINE_KEYS:
                continue
            _walk(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", out)
    elif isinstance(value, str) and " " in value.strip():
        out.append(Text(path, value))


def process_texts(playbook_dir: Path) -> list[Text]:
    """Every multi-word string of a playbook's YAML, with its path."""
    out: list[Text] = []
    _walk(load_data(Path(playbook_dir)).data, "", out)
    return out


def normalise(text: str) -> str:
    """Whitespace collapsed, as a browser shows it."""
    return re.sub(r"\s+", " ", text).strip()


class _TextOf(HTMLParser):
    """Visible text of an HTML page: no scripts, styles, or SVG (diagram labels are wrapped)."""

    SKIP = {"script", "style", "svg", "title", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1
        elif tag in ("p", "li", "td", "th", "dd", "dt", "br", "div", "h1", "h2", "h3", "h4", "tr", "blockquote"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1
        elif tag in ("p", "li", "td", "th", "dd", "dt", "div", "h1", "h2", "h3", "h4", "tr"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def page_text(html_source: str) -> str:
    """The normalised visible text of one built page."""
    parser = _TextOf()
    parser.feed(html_source)
    return normalise(html.unescape("".join(parser.parts)).replace("¶", " "))


def site_text(site_dir: Path) -> str:
    """All pages' visible text, one page per line."""
    return "\n".join(page_text(p.read_text("utf-8")) for p in sorted(Path(site_dir).rglob("*.html")))


def missing_texts(playbook_dir: Path, site_dir: Path) -> tuple[list[Text], list[Text]]:
    """(every text, those that appear on no page)."""
    texts = process_texts(playbook_dir)
    shown = site_text(site_dir)
    return texts, [t for t in texts if normalise(t.text) not in shown]
