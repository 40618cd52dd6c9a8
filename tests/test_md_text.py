"""`md_text` round trip: whatever the author typed, the reader sees, as text, never as markup.

The site's own Markdown extensions render the escaped text; the visible text of the HTML must be the
input (a line break becomes a space), and no tag the input spelled out may appear. Also read as
CommonMark would (GitHub shows DATA-CONTRACT.md and MANUAL-STEPS.md that way): no entity may lose its
`#` to a backslash, which showed apostrophes as "&#x27;".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
from markdown_it import MarkdownIt
from hypothesis import given, settings, strategies as st

from generator.text import md_text

EXTENSIONS = ["pymdownx.escapeall", "tables", "attr_list", "toc", "admonition", "def_list", "pymdownx.tasklist"]
EXT_CONFIG = {"pymdownx.escapeall": {"hardbreak": False, "nbsp": False}}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _seen(html: str) -> tuple[str, list[str]]:
    p = _Text()
    p.feed(html)
    p.close()
    return "".join(p.text), p.tags


printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(printable.filter(lambda s: s.strip()))
def test_rendered_text_is_what_was_typed(value):
    html = markdown.markdown(md_text(value), extensions=EXTENSIONS, extension_configs=EXT_CONFIG)
    text, tags = _seen(html)
    assert tags in ([], ["p"]), (value, html)  # one paragraph, no markup of the author's
    assert text == re.sub(r"\s*\n\s*", " ", value).strip(), (value, html)


def test_typical_hostile_and_quoted_texts():
    for value in ("the practice's physician", 'Clinic <b>leads</b> & "intake"', "</title><script>alert('x')</script>",
                  "[a](javascript:alert(1))", "--8<-- snippet", "{{ template }} {% x %}", "# not a heading", "- [ ] task"):
        html = markdown.markdown(md_text(value), extensions=EXTENSIONS, extension_configs=EXT_CONFIG)
        assert _seen(html) == (value, ["p"]), html


@settings(max_examples=300, deadline=None)
@given(printable.filter(lambda s: s.strip()))
def test_commonmark_readers_see_what_was_typed(value):
    # `&\#x27;` is an entity to nobody: CommonMark (GitHub) and a table of contents showed "&#x27;".
    html = MarkdownIt("commonmark").render(md_text(value)).strip()
    text, tags = _seen(html)
    assert tags in ([], ["p"]), (value, html)
    assert text == re.sub(r"\s*\n\s*", " ", value).strip(), (value, html)
