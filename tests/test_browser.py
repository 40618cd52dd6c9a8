"""The built site in a real headless Chromium, served on localhost.

Checks what a reader sees: phase swim lanes with every lane, in order and of
equal width, that fit a 1440 px window with readable text; step nodes that
navigate; a role page led by what the role does, with its own lane fitting a
phone; search that keeps hyphenated terms whole and ranks the playbook above
the change log; axe-core on every page kind in light and dark, at 1440 and
390 px. Screenshots of every page kind at both widths, light and dark, are saved for
review in .cache/screenshots/ (or $PLAYBOOK_SCREENSHOTS).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from generator.site.build import build_site
from generator.site.serve import start_server
from generator.validate import load_playbook
from measure_site import OVERLAP_JS, SEARCHES, TABLES_JS, diagram_pages, rank, search

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "site" / "clinic"
DEFAULT = HERE.parent / "process" / "lead-management"
AXE = HERE / "browser" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
WIDTHS = (1440, 390)


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where screenshots are kept for review: outside pytest's rotating tmp folders."""
    folder = Path(os.environ.get("PLAYBOOK_SCREENSHOTS") or HERE.parent / ".cache" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


def _serve(site: Path):
    server = start_server(site, 0)
    return server, f"http://127.0.0.1:{server.server_port}/"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    site = tmp_path_factory.mktemp("browser") / "site"
    build_site(FIXTURE, site, cache_dir=None, contributors=())
    server, url = _serve(site)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def default_site(tmp_path_factory):
    """The default playbook with every contributed page (change log, CRM, conformance)."""
    site = tmp_path_factory.mktemp("browser-default") / "site"
    build_site(DEFAULT, site, cache_dir=None)
    server, url = _serve(site)
    try:
        yield site, url
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


def _offline(pg) -> list[str]:
    # The site must work offline: any request that is not loopback is refused and recorded.
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    pg.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"), refuse)
    return outside


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    outside = _offline(pg)
    try:
        yield pg
    finally:
        context.close()
    assert outside == [], "the site fetched outside resources"


def page_kinds(site: Path) -> dict[str, str]:
    """One page of every kind the site has."""
    first = lambda folder: sorted(p.parent.name for p in (site / folder).glob("*/index.html"))[0]  # noqa: E731
    kinds = {"home": "", "step": f"steps/{first('steps')}/", "stages": "stages/", "role": f"roles/{first('roles')}/",
             "checklist": f"checklists/{first('checklists')}/", "data": "data/", "rules": "rules/",
             "measurement": "measurement/"}
    for name, rel in (("crm", "crm-configuration/"), ("conformance", "conformance/"),
                      ("changelog", "history/changelog/"), ("contract", "data-contract/")):
        if (site / rel / "index.html").is_file():
            kinds[name] = rel
    return kinds


DIAGRAMS_JS = """() => [...document.querySelectorAll('.playbook-diagram')].map(box => {
  const svg = box.querySelector('svg');
  const r = svg.getBoundingClientRect();
  let smallest = Infinity;
  for (const t of svg.querySelectorAll('text')) {
    const ctm = t.getScreenCTM();
    if (ctm) smallest = Math.min(smallest, parseFloat(t.getAttribute('font-size')) * Math.hypot(ctm.a, ctm.b));
  }
  const lanes = [...svg.querySelectorAll('g.lane > polygon')].map(p => {
    const b = p.getBoundingClientRect(); return {x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.width)}; });
  const names = [...svg.querySelectorAll('g.lane')].map(g => g.id.replace(/^swimlane-/, ''));
  return {cls: box.className, box: box.clientWidth, width: r.width, smallest, lanes, names,
          label: box.getAttribute('aria-label'),
          cut: [...svg.querySelectorAll('text')].filter(t => t.textContent.includes('…')).length};
})"""


def test_home_phase_swim_lanes_fit_1440_with_readable_text(browser, default_site, shots):
    site, url = default_site
    lanes = [lane.id for lane in load_playbook(DEFAULT).lanes]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.goto(url)
    boxes = pg.evaluate(DIAGRAMS_JS)
    assert len(boxes) >= 3  # one per phase
    for b in boxes:
        assert b["label"], "a diagram has no accessible name"
        assert b["width"] <= b["box"] + 1, b  # no sideways scroll
        assert b["smallest"] >= 9, b  # CSS px
        assert b["cut"] == 0
        # Every lane, in the playbook's order left to right, all of one width (to the pixel:
        # answers are xlabels, which never widen a lane, and arrows that would bend around
        # a box are routed after the layout).
        xs = sorted(b["lanes"], key=lambda lane: lane["x"])
        order = [b["names"][b["lanes"].index(x)] for x in xs]
        assert [n.rsplit("-", 1)[0] for n in order] == lanes
        widths = [x["w"] for x in xs]
        assert max(widths) - min(widths) <= 1, widths
        tops = [x["y"] for x in xs]  # titles padded to one height: the lanes start level
        assert max(tops) - min(tops) <= 1, tops
    assert pg.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    pg.screenshot(path=str(shots / "home-default-1440.png"), full_page=True)
    ctx.close()


def test_no_label_overlaps_another_in_any_diagram(browser, default_site):
    # Every diagram of every page (phase swim lanes, role lanes, stages), measured in the
    # browser: no two labels share more than 1 SVG unit both ways, and no arrow's or lane's
    # label lies on a box (measure_site.OVERLAP_JS).
    site, url = default_site
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    found, diagrams = {}, 0
    for rel in diagram_pages(site):
        pg.goto(url + rel)
        for d in pg.evaluate(OVERLAP_JS):
            diagrams += 1
            if d["overlaps"]:
                found[f"{rel or 'home'}: {d['label'][:40]}"] = d["overlaps"]
    ctx.close()
    assert diagrams >= 20  # 7 phases, every role's lane, the stages
    assert found == {}


def test_overlap_check_can_fail(browser, base_url):
    # The same count on a page where one edge label is moved onto a box must find it.
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.goto(base_url)
    assert sum(len(d["overlaps"]) for d in pg.evaluate(OVERLAP_JS)) == 0
    moved = pg.evaluate("""() => { for (const svg of document.querySelectorAll('.playbook-diagram svg')) {
        const t = svg.querySelector('g.edge text'), box = svg.querySelector('g.node.step text');
        if (!t || !box) continue;
        t.setAttribute('x', box.getAttribute('x')); t.setAttribute('y', box.getAttribute('y')); return true; }
        return false; }""")
    assert moved
    assert sum(len(d["overlaps"]) for d in pg.evaluate(OVERLAP_JS)) >= 1
    ctx.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_is_wider_than_its_column(browser, default_site, width):
    # Cells wrap at 1440 (the theme's 5rem minimum per header cell is lifted); on a phone a
    # table of four or more columns becomes one card per row, each value under its column.
    site, url = default_site
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    wide, tables = {}, 0
    for rel in ("data/", "rules/", "crm-configuration/", "data-contract/", "conformance/"):
        pg.goto(url + rel)
        found = pg.evaluate(TABLES_JS)
        tables += len(found)
        over = [t for t in found if t["width"] > t["column"] + 1]
        if over:
            wide[rel] = over
        if width == 390 and rel == "data/":
            # The data dictionary's first row as a card: every system name under its column's name.
            labels = pg.evaluate("() => [...document.querySelector('article table tbody tr').children]"
                                 ".map(td => td.dataset.label)")
            assert labels == ["Field", "Record", "Type", "PHI", "PII", "Salesforce", "HubSpot"], labels
    ctx.close()
    assert tables >= 20
    assert wide == {}


def test_home_shows_every_lane_and_handoffs(page, base_url, model):
    page.goto(base_url)
    page.locator(".playbook-diagram.swimlane svg").first.wait_for(state="visible")
    lane_text = page.evaluate("""() => [...document.querySelectorAll('.playbook-diagram.swimlane svg g.lane')]
        .map(g => [...g.querySelectorAll(':scope > text')].map(t => t.textContent).join(' '))""")
    for lane in model.lanes:
        assert lane.name in lane_text, lane.name
    assert page.locator(".playbook-diagram.swimlane svg g.node.decision").count() >= 1
    assert page.locator(".playbook-diagram.swimlane svg g.edge.handoff").count() >= 1


def test_clicking_a_step_node_opens_its_page(page, base_url, model):
    step = model.steps[1]
    page.goto(base_url)
    node = page.locator(".playbook-diagram.swimlane svg g.node.step", has_text=step.name)
    node.first.click()
    page.wait_for_url(re.compile(rf"/steps/{re.escape(step.id)}/$"))
    assert page.locator("h1").first.inner_text().replace("¶", "").strip() == step.name


def test_diagram_links_are_reachable_by_keyboard(page, base_url, model):
    page.goto(base_url)
    reached = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        href = page.evaluate("() => { const a = document.activeElement; "
                             "return a && a.closest('svg') ? (a.getAttribute('href') || a.getAttribute('xlink:href')) : null }")
        if href:
            reached.add(href)
    assert any("steps/" in h for h in reached), reached


def test_role_page_leads_with_its_steps_and_its_lane_fits_a_phone(browser, base_url, model, shots):
    role = next(r for r in model.roles if r.id == "sdr")
    lane = next(lane for lane in model.lanes if lane.id == role.lane)
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.goto(f"{base_url}roles/{role.id}/")
    headings = pg.locator("article h2").all_inner_texts()
    assert headings[0].replace("¶", "").strip() == "What I do"
    owned = [s.name for s in model.steps if s.owner == role.id]
    items = pg.locator("#what-i-do ~ h3").all_inner_texts()
    assert [re.sub(r"^\d+\.\s*", "", t.replace("¶", "").strip()) for t in items[:len(owned)]] == owned
    assert "None on this role's steps" not in pg.locator("article").inner_text()
    box = pg.evaluate(DIAGRAMS_JS)
    assert len(box) == 1 and "lane-focus" in box[0]["cls"]
    assert box[0]["width"] <= box[0]["box"] + 1 and box[0]["smallest"] >= 9, box
    highlighted = pg.locator(".playbook-diagram svg g.lane.lane-highlight")
    assert highlighted.count() == 1
    assert lane.name in " ".join(highlighted.locator(":scope > text").all_text_contents())
    pg.screenshot(path=str(shots / "role-fixture-390.png"), full_page=True)
    ctx.close()


def test_search_finds_a_field_by_its_label(page, base_url, model, shots):
    field = next(f for f in model.fields if f.semantic == "specialty")
    results = search(page, base_url, field.label)  # typed key by key: the theme searches on key events
    page.screenshot(path=str(shots / "search-fixture-1440.png"))
    assert rank(results, f"data/#field-{field.id}")[0] == 1, results[:3]


@pytest.mark.parametrize("query", sorted(SEARCHES))
def test_real_queries_find_the_staff_page_above_the_change_log(browser, default_site, query):
    # Hyphenated terms stay whole in the index and in the query (site/search_hook.py); staff
    # pages are boosted and the change log and analysts' pages lowered (`search: boost:`).
    site, url = default_site
    target = SEARCHES[query]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    results = search(pg, url, query)
    ctx.close()
    top = [r["shown"] for r in results[:3]]
    assert not any(h.startswith("history/changelog/") for shown in top for h in shown), top
    position, shown = rank(results, target)
    assert position is not None and position <= 3, (target, top)
    if query == "no-show":
        # The no-show event itself, first: not "Show rate" (the query once lost its hyphen).
        assert results[0]["shown"][1:2] == [target], top
        assert not any("show-rate" in h for shown in top for h in shown), top
    elif query == "first call attempt":
        assert shown, top  # the SLA's own section, listed under its page
    else:
        # "text message consent": the consent rules, which name and link the SMS opt-in
        # field, come first; the field's page follows in the top 3, the field listed under
        # it (folded under "more on this page": a heading with "consent" in it, Consent to
        # contact, outranks a section whose text alone matches, as Material weighs titles).
        assert results[0]["shown"][1:2] == ["rules/#consent"], top


def _axe(pg) -> list[dict]:
    pg.add_script_tag(path=str(AXE))
    return pg.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_serious_violation_on_any_page_kind(browser, default_site, scheme, width, shots):
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make test` installs axe-core from tests/browser/package-lock.json")
    site, url = default_site
    ctx = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    pg = ctx.new_page()
    outside = _offline(pg)
    found = {}
    for kind, rel in page_kinds(site).items():
        pg.goto(url + rel)
        shot = shots / f"{kind}-{width}-{scheme}.png"
        # Whole long pages (the change log, the conformance results): on a loaded machine
        # a full-page capture can take longer than Playwright's 30 s default.
        pg.screenshot(path=str(shot), full_page=True, timeout=180_000)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot
        violations = _axe(pg)
        if violations:
            found[kind] = violations
    ctx.close()
    assert outside == []
    assert found == {}


def test_axe_check_can_fail(browser, base_url):
    # The same check on a page given an unnamed diagram link must report it.
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.goto(base_url)
    pg.evaluate("""() => { const a = document.createElement('a'); a.href = '#x';
                   a.innerHTML = '<svg width="10" height="10"></svg>'; document.body.prepend(a); }""")
    assert any(v["id"] == "link-name" for v in _axe(pg))
    ctx.close()


def test_print_hides_navigation_and_scales_diagrams(browser, default_site, shots):
    site, url = default_site
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    pg.goto(url)
    pg.emulate_media(media="print")
    hidden = pg.evaluate("""() => ['.md-header', '.md-sidebar--primary', '.md-footer']
        .map(s => document.querySelector(s)).filter(Boolean).map(e => getComputedStyle(e).display)""")
    assert hidden and all(d == "none" for d in hidden)
    pdf = shots / "home-print-a4.pdf"
    pg.pdf(path=str(pdf), format="A4")
    assert pdf.stat().st_size > 0
    # Each diagram fits an A4 page's printable width (186 mm at 96 px/in = 703 px).
    widths = pg.evaluate("() => [...document.querySelectorAll('.playbook-diagram svg')]"
                         ".map(s => s.getBoundingClientRect().width)")
    pg.set_viewport_size({"width": 703, "height": 1000})
    widths = pg.evaluate("() => [...document.querySelectorAll('.playbook-diagram svg')]"
                         ".map(s => s.getBoundingClientRect().width)")
    assert widths and max(widths) <= 704, widths
    ctx.close()


def test_role_checklists_print_on_one_a4_sheet_without_navigation(browser, default_site, shots):
    site, url = default_site
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    for rel in sorted(p.parent.name for p in (site / "checklists").glob("*/index.html")):
        pg.goto(f"{url}checklists/{rel}/")
        assert pg.locator("article input[type=checkbox]").count() >= 1 or "owns no step" in pg.content()
        pg.emulate_media(media="print")
        assert pg.evaluate("getComputedStyle(document.querySelector('.md-header')).display") == "none"
        pdf = shots / f"checklist-{rel}-a4.pdf"
        pg.pdf(path=str(pdf), format="A4")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
        assert pages == 1, (rel, pages)  # one A4 sheet per role
        pg.emulate_media(media="screen")
    ctx.close()
