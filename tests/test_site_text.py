"""Every process text reaches the site (as datasette's test_docs.py does for its docs).

The texts come from the YAML read as plain data (tests/site_text.py), not
from the model the templates use, so a new description, note or answer
that no template shows fails here the day it is added.
"""

from __future__ import annotations

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
