"""The built site in a real headless Chromium, served on localhost.

Checks what a reader sees: the swim lane with every lane, step nodes that
navigate, search that finds a field by its label, and a role page with its
own lane highlighted. Screenshots land in each test's tmp_path.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.site.build import build_site
from generator.site.serve import start_server
from generator.validate import load_playbook

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "fixtures" / "site" / "clinic"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    site = tmp_path_factory.mktemp("browser") / "site"
    build_site(FIXTURE, site, cache_dir=None, contributors=())
    server = start_server(site, 0)
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (make test installs it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    # The site must work offline: any request that is not loopback is refused and recorded.
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    pg.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"), refuse)
    try:
        yield pg
    finally:
        context.close()
    assert outside == [], "the site fetched outside resources"


def test_home_shows_swim_lane_with_every_lane(page, base_url, model, tmp_path):
    page.goto(base_url)
    diagram = page.locator(".playbook-diagram.swimlane svg")
    diagram.wait_for(state="visible")
    for lane in model.lanes:
        title = page.locator(".playbook-diagram.swimlane svg g.lane > text", has_text=lane.name)
        assert title.count() == 1, lane.name
        title.first.scroll_into_view_if_needed()
        assert title.first.is_visible(), lane.name
    assert page.locator(".playbook-diagram.swimlane svg g.node.decision").count() >= 1
    assert page.locator(".playbook-diagram.swimlane svg g.edge.handoff").count() >= 1
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert (tmp_path / "home.png").stat().st_size > 0


def test_clicking_a_step_node_opens_its_page(page, base_url, model, tmp_path):
    step = model.steps[1]
    page.goto(base_url)
    node = page.locator(".playbook-diagram.swimlane svg g.node.step", has_text=step.name)
    node.first.click()
    page.wait_for_url(re.compile(rf"/steps/{re.escape(step.id)}/$"))
    assert page.locator("h1").first.inner_text().replace("¶", "").strip() == step.name
    page.screenshot(path=str(tmp_path / "step.png"), full_page=True)


def test_search_finds_a_field_by_its_label(page, base_url, model, tmp_path):
    field = next(f for f in model.fields if f.semantic == "specialty")
    page.goto(base_url)
    page.locator("label.md-search__icon, .md-search__input").first.click()
    # Typed key by key: the theme searches on key events.
    page.locator("input.md-search__input").press_sequentially(field.label)
    hit = page.locator(".md-search-result__item", has_text=field.label)
    hit.first.wait_for(state="visible", timeout=15000)
    page.screenshot(path=str(tmp_path / "search.png"))
    hit.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/data/"))


def test_role_page_highlights_its_lane(page, base_url, model, tmp_path):
    role = next(r for r in model.roles if r.id == "sdr")
    lane = next(lane for lane in model.lanes if lane.id == role.lane)
    page.goto(f"{base_url}roles/{role.id}/")
    highlighted = page.locator(".playbook-diagram.swimlane svg g.lane.lane-highlight")
    assert highlighted.count() == 1
    highlighted.scroll_into_view_if_needed()
    assert highlighted.locator("text").first.text_content() == lane.name
    styles = page.evaluate(
        """() => [...document.querySelectorAll('.playbook-diagram.swimlane svg g.lane > polygon')]
                 .map(p => ({cls: p.parentElement.getAttribute('class'),
                             fill: getComputedStyle(p).fill, width: getComputedStyle(p).strokeWidth}))""")
    hi = [s for s in styles if "lane-highlight" in s["cls"]]
    others = [s for s in styles if "lane-highlight" not in s["cls"]]
    assert len(hi) == 1 and others
    assert all(o["fill"] != hi[0]["fill"] for o in others)
    assert all(float(o["width"].rstrip("px")) < float(hi[0]["width"].rstrip("px")) for o in others)
    page.screenshot(path=str(tmp_path / "role.png"), full_page=True)
