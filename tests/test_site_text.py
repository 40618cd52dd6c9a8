"""Every process text reaches the site (as datasette's test_docs.py does for its docs).

The texts come from the YAML read as plain data (tests/site_text.py), not
from the model the templates use, so a new description, note or answer
that no template shows fails here the day it is added.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.site.build import build_site
from site_text import missing_texts, page_text

HERE = Path(__file__).parent
PLAYBOOKS = {"default": HERE.parent / "process" / "lead-management", "fixture": HERE / "fixtures" / "site" / "clinic"}


@pytest.fixture(scope="module", params=sorted(PLAYBOOKS))
def built(request, tmp_path_factory):
    site = tmp_path_factory.mktemp(f"text-{request.param}") / "site"
    build_site(PLAYBOOKS[request.param], site, cache_dir=None)
    return PLAYBOOKS[request.param], site


def test_every_process_text_is_on_some_page(built):
    playbook, site = built
    texts, missing = missing_texts(playbook, site)
    assert len(texts) > 150  # the collector found the playbook's prose at all
    assert [f"{t.path}: {t.text}" for t in missing] == []


def test_coverage_check_catches_a_text_on_no_page(built, tmp_path):
    # The check can fail: drop one event description from the built pages.
    playbook, site = built
    texts, _ = missing_texts(playbook, site)
    victim = next(t for t in texts if t.path.endswith(".description") and not set(t.text) & set("&<>'\"\n"))
    copy = tmp_path / "site"
    for page in site.rglob("*.html"):
        target = copy / page.relative_to(site)
        target.parent.mkdir(parents=True, exist_ok=True)
        html = page.read_text("utf-8")
        target.write_text(html.replace(victim.text, "") if victim.text in html else html, "utf-8")
    _, missing = missing_texts(playbook, copy)
    assert victim in missing


def test_page_text_ignores_markup_and_diagrams():
    html = '<p>Call &amp; log</p><svg><text>Cut …</text></svg><script>x = "hidden text"</script>'
    assert page_text(html) == "Call & log"


# An entity a reader would see as itself (`patient&#x27;s`): what is left of one after the
# browser has decoded the page once.
ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
LABELS = {"title", "h1", "h2", "h3", "h4", "h5", "h6", "nav"}


class _Labels(HTMLParser):
    """Text of the page title, headings and every nav (site nav and table of contents), decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in LABELS

    def handle_endtag(self, tag):
        self.depth -= tag in LABELS and self.depth > 0

    def handle_data(self, data):
        if self.depth and data.strip():
            self.texts.append(data.strip())


def entities_shown(site: Path) -> list[str]:
    """Titles, headings, nav and table-of-contents entries, and search result titles, that
    would show an entity as text."""
    found = []
    for page in sorted(site.rglob("*.html")):
        p = _Labels()
        p.feed(page.read_text("utf-8"))
        found += [f"{page.relative_to(site)}: {t}" for t in p.texts if ENTITY.search(t)]
    index = site / "search" / "search_index.json"
    if index.is_file():  # result titles are inserted as HTML: decoded once, tags dropped
        for doc in json.loads(index.read_text("utf-8"))["docs"]:
            title = html.unescape(re.sub(r"<[^>]+>", "", doc["title"]))
            if ENTITY.search(title):
                found.append(f"search index {doc['location']}: {title}")
    return found


def test_no_entity_shows_in_a_title_heading_nav_or_search_result(built):
    # Contributed pages too (change log subjects, conformance rule names): every part
    # writes its Markdown with text.md_text.
    _, site = built
    assert entities_shown(site) == []


def test_entity_check_can_fail(tmp_path):
    site = tmp_path / "site"
    (site / "search").mkdir(parents=True)
    (site / "index.html").write_text('<nav><a class="md-nav__link">the patient&amp;#x27;s consent</a></nav>'
                                     "<p>body &amp;quot; is not checked</p>")
    (site / "search" / "search_index.json").write_text(json.dumps(
        {"docs": [{"location": "x/", "title": "CallRail&amp;#x27;s calls"}]}))
    assert entities_shown(site) == ["index.html: the patient&#x27;s consent",
                                    "search index x/: CallRail&#x27;s calls"]
