"""Measure how readable the built site is, the figures of issue 12, in a real Chromium.

    .venv/bin/python tests/measure_site.py [PROCESS_DIR] [--json out.json]

Builds PROCESS_DIR (default: the default playbook, every contributed page
included), serves it on 127.0.0.1 and reports:

- diagrams: per viewport (1440x900, 390x844), how many diagrams are wider than
  their box (need sideways scrolling), and the home diagram's drawn width
  against its column, its height, and its smallest text in CSS px;
- edge labels cut with "…" (home page, and all pages);
- axe-core serious and critical violations (rules and nodes) on 8 page kinds,
  light and dark, at 1440 and 390;
- process texts (of this playbook and the test fixture) that reach no page, and
  titles, headings, nav entries or search titles that show an entity as text;
- per viewport, tables wider than their column on the data, CRM configuration,
  rules and data-contract pages;
- at 1440: overlapping labels in every diagram (text boxes from getBBox), the
  widest lane over the narrowest in each swim lane, and where three real staff
  queries put the page they should find (and the change log).

The browser tests assert the same things; this script prints the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from generator.site.build import build_site, resolve_playbook  # noqa: E402
from generator.site.serve import start_server  # noqa: E402
from site_text import missing_texts  # noqa: E402

AXE = HERE / "browser" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VIEWPORTS = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
FIXTURE = HERE / "fixtures" / "site" / "clinic"

DIAGRAM_JS = """() => [...document.querySelectorAll('.playbook-diagram')].map(box => {
  const svg = box.querySelector('svg');
  const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  let smallest = Infinity;
  if (svg) for (const t of svg.querySelectorAll('text')) {
    const b = t.getBoundingClientRect();
    if (b.height === 0) continue;
    // Rendered size: the font size scaled by the SVG's current transform.
    const ctm = t.getScreenCTM();
    const fs = parseFloat(t.getAttribute('font-size') || getComputedStyle(t).fontSize);
    if (ctm) smallest = Math.min(smallest, fs * Math.hypot(ctm.a, ctm.b));
  }
  return {box: box.clientWidth, scroll: box.scrollWidth, width: Math.round(r.width),
          height: Math.round(r.height), smallest: smallest === Infinity ? null : +smallest.toFixed(1),
          cut: svg ? [...svg.querySelectorAll('g.edge text')].filter(t => t.textContent.includes('…')).length : 0,
          vscroll: document.documentElement.scrollWidth > document.documentElement.clientWidth};
})"""


# Per diagram: lane widths (SVG units, left to right) and overlapping labels. A label's box is
# its <text> elements' getBBox() (SVG user units, the same for every element of one diagram);
# two boxes overlap when they share more than 1 unit both ways. Counted: text against text of
# another node, edge or lane; an edge's or lane's text against a box (drawn node shape) it does
# not belong to. Lines of one label (one <g>) are never counted against each other.
OVERLAP_JS = """() => [...document.querySelectorAll('.playbook-diagram svg')].map(svg => {
  const box = el => { const b = el.getBBox(); return {x1: b.x, y1: b.y, x2: b.x + b.width, y2: b.y + b.height}; };
  const hit = (a, b) => Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) > 1 && Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) > 1;
  const owner = el => el.closest('g.node, g.edge, g.cluster');
  const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => ({g: owner(t), kind: (owner(t) || {}).classList?.contains('node') ? 'node' : 'other',
                text: t.textContent.trim(), b: box(t)}));
  const shapes = [...svg.querySelectorAll('g.node')].flatMap(g =>
    [...g.querySelectorAll(':scope > polygon, :scope > path, :scope > ellipse, :scope > a > polygon, '
      + ':scope > a > path, :scope > a > ellipse, :scope > g > a > polygon, :scope > g > a > path')]
      .filter(s => s.getAttribute('stroke') !== 'transparent' || s.getAttribute('fill') !== 'none')
      .map(s => ({g, b: box(s)})));
  const pairs = [];
  for (let i = 0; i < texts.length; i++)
    for (let j = i + 1; j < texts.length; j++)
      if (texts[i].g !== texts[j].g && hit(texts[i].b, texts[j].b)) pairs.push([texts[i].text, texts[j].text]);
  for (const t of texts) if (t.kind !== 'node')
    for (const s of shapes) if (s.g !== t.g && hit(t.b, s.b)) pairs.push([t.text, 'box of ' + (s.g.id || '?')]);
  const lanes = [...svg.querySelectorAll('g.lane > polygon')].map(p => box(p))
    .sort((a, b) => a.x1 - b.x1).map(b => +(b.x2 - b.x1).toFixed(1));
  return {label: svg.closest('.playbook-diagram').getAttribute('aria-label'), lanes, overlaps: pairs};
})"""

# Tables wider than the article column hide columns behind a sideways scroll.
TABLES_JS = """() => { const col = document.querySelector('article').clientWidth;
  return [...document.querySelectorAll('article table')].map(t => ({width: Math.round(t.scrollWidth), column: col})); }"""

SEARCHES = {  # a real staff query -> the page section it must find
    "no-show": "stages/#event-appointment-no-show",
    "text message consent": "data/#field-sms_opt_in",
    "first call attempt": "rules/#sla-first-call-attempt",
}


def search(pg, url: str, query: str) -> list[dict]:
    """The result list as shown: per page, its link and the section links shown under it (the
    best-scoring ones) and those folded under "more on this page"."""
    pg.goto(url)
    pg.locator("label.md-search__icon, .md-search__input").first.click()
    pg.locator("input.md-search__input").press_sequentially(query)
    pg.locator(".md-search-result__item").first.wait_for(state="visible", timeout=15000)
    pg.wait_for_timeout(500)
    return pg.evaluate("""base => [...document.querySelectorAll('.md-search-result__item')].map(li => {
        const rel = a => a.getAttribute('href').replace(base, '').replace(/\\?h=[^#]*/, '');
        return {shown: [...li.querySelectorAll(':scope > a')].map(rel),
                folded: [...li.querySelectorAll(':scope > details a')].map(rel)}; })""", url)


def rank(results: list[dict], target: str) -> tuple[int | None, bool]:
    """The 1-based position of the page listing `target`, and whether it is shown (not folded)."""
    for i, r in enumerate(results, 1):
        if target in r["shown"] or target in r["folded"]:
            return i, target in r["shown"]
    return None, False


def page_kinds(site: Path) -> dict[str, str]:
    """One page of every kind: home, step, stages, role, data, rules, measurement, contributed."""
    kinds = {"home": "", "stages": "stages/", "data": "data/", "rules": "rules/", "measurement": "measurement/"}
    steps = sorted(p.parent.name for p in (site / "steps").glob("*/index.html"))
    roles = sorted(p.parent.name for p in (site / "roles").glob("*/index.html"))
    if steps:
        kinds["step"] = f"steps/{steps[0]}/"
    if roles:
        kinds["role"] = f"roles/{roles[0]}/"
    for name, rel in (("crm", "crm-configuration/"), ("conformance", "conformance/"),
                      ("changelog", "history/changelog/"), ("contract", "data-contract/")):
        if (site / rel / "index.html").is_file():
            kinds[name] = rel
    return kinds


def diagram_pages(site: Path) -> list[str]:
    return sorted(("" if p.parent == site else p.parent.relative_to(site).as_posix() + "/")
                  for p in site.rglob("index.html") if 'class="playbook-diagram' in p.read_text("utf-8"))


def axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
    }""")
    return result


def measure(process_dir: Path, out: dict) -> None:
    from playwright.sync_api import sync_playwright

    playbook = resolve_playbook(process_dir)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build_site(playbook, site, cache_dir=None)
        fixture_site = Path(tmp) / "fixture"
        build_site(FIXTURE, fixture_site, cache_dir=None)
        for name, (pdir, sdir) in {"default": (playbook, site), "fixture": (FIXTURE, fixture_site)}.items():
            texts, missing = missing_texts(pdir, sdir)
            out[f"texts_{name}"] = {"total": len(texts), "missing": len(missing),
                                    "examples": [f"{t.path}: {t.text[:60]}" for t in missing[:60]]}
        from test_site_text import entities_shown

        shown = entities_shown(site)
        out["entities_shown"] = {"count": len(shown), "examples": shown[:10]}
        server = start_server(site, 0)
        base = f"http://127.0.0.1:{server.server_port}/"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                pages = diagram_pages(site)
                for vname, vp in VIEWPORTS.items():
                    ctx = browser.new_context(viewport=vp)
                    pg = ctx.new_page()
                    wide, total, cut, per_page = 0, 0, 0, {}
                    for rel in pages:
                        pg.goto(base + rel)
                        boxes = pg.evaluate(DIAGRAM_JS)
                        per_page[rel or "home"] = boxes
                        total += len(boxes)
                        wide += sum(1 for b in boxes if b["width"] > b["box"] + 1)
                        cut += sum(b["cut"] for b in boxes)
                    if vname == "1440":
                        overlaps, ratios, examples = 0, [], []
                        for rel in pages:
                            pg.goto(base + rel)
                            for d in pg.evaluate(OVERLAP_JS):
                                overlaps += len(d["overlaps"])
                                examples += [[rel or "home", *o] for o in d["overlaps"][:3]]
                                if len(d["lanes"]) > 1:
                                    ratios.append(max(d["lanes"]) / min(d["lanes"]))
                        out["labels_1440"] = {"overlapping_pairs": overlaps, "examples": examples[:20]}
                        out["lanes_1440"] = {"diagrams": len(ratios), "widest_to_narrowest_max":
                                             round(max(ratios), 3) if ratios else None}
                        changelog = "history/changelog/"
                        found = {}
                        for query, target in SEARCHES.items():
                            res = search(pg, base, query)
                            pos, shown = rank(res, target)
                            log = next((i for i, r in enumerate(res, 1) if r["shown"] and
                                        r["shown"][0].startswith(changelog)), None)
                            found[query] = {"target": target, "page_rank": pos, "shown": shown,
                                            "changelog_rank": log, "top3": [r["shown"][:2] for r in res[:3]]}
                        out["search"] = found
                    tables = {}
                    for rel in ("data/", "crm-configuration/", "rules/", "data-contract/"):
                        if (site / rel / "index.html").is_file():
                            pg.goto(base + rel)
                            t = pg.evaluate(TABLES_JS)
                            tables[rel] = {"tables": len(t), "wider_than_column": sum(x["width"] > x["column"] + 1
                                                                                      for x in t),
                                           "widest": max((x["width"] for x in t), default=0),
                                           "column": t[0]["column"] if t else None}
                    out[f"tables_{vname}"] = tables
                    home = per_page.get("home", [{}])[0]
                    out[f"diagrams_{vname}"] = {"diagrams": total, "wider_than_column": wide,
                                                "home": home, "cut_edge_labels_all_pages": cut,
                                                "cut_edge_labels_home": home.get("cut")}
                    ctx.close()
                kinds = page_kinds(site)
                for scheme in ("light", "dark"):
                    for vname, vp in VIEWPORTS.items():
                        ctx = browser.new_context(viewport=vp, color_scheme=scheme)
                        pg = ctx.new_page()
                        found = {}
                        for kind, rel in kinds.items():
                            pg.goto(base + rel)
                            found[kind] = axe(pg)
                        rules = sum(len(v) for v in found.values())
                        nodes = sum(x["nodes"] for v in found.values() for x in v)
                        by_rule: dict[str, int] = {}
                        for v in found.values():
                            for x in v:
                                by_rule[x["id"]] = by_rule.get(x["id"], 0) + x["nodes"]
                        out[f"axe_{scheme}_{vname}"] = {"pages": len(kinds), "violations": rules,
                                                        "nodes": nodes, "by_rule": by_rule}
                        ctx.close()
                browser.close()
        finally:
            server.shutdown()
            server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("process_dir", nargs="?", default=str(ROOT / "process" / "lead-management"))
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    out: dict = {}
    measure(Path(args.process_dir), out)
    text = json.dumps(out, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    for key, val in out.items():
        if key.startswith("texts"):
            print(f"{key}: {val['missing']} of {val['total']} texts on no page")
        elif key.startswith("diagrams"):
            h = val["home"]
            print(f"{key}: {val['wider_than_column']} of {val['diagrams']} diagrams wider than their column; "
                  f"home {h.get('width')}x{h.get('height')} px in {h.get('box')} px, smallest text "
                  f"{h.get('smallest')} px; cut edge labels home {val['cut_edge_labels_home']}, "
                  f"all pages {val['cut_edge_labels_all_pages']}")
        elif key == "entities_shown":
            print(f"{key}: {val['count']} titles, headings, nav/TOC entries or search titles show an entity")
        elif key.startswith("tables"):
            print(f"{key}: " + "; ".join(f"{rel} {v['wider_than_column']} of {v['tables']} tables wider than "
                                         f"the {v['column']} px column (widest {v['widest']} px)"
                                         for rel, v in val.items()))
        elif key == "labels_1440":
            print(f"{key}: {val['overlapping_pairs']} overlapping label pairs in all diagrams")
        elif key == "lanes_1440":
            print(f"{key}: widest lane / narrowest lane, worst of {val['diagrams']} swim lanes: "
                  f"{val['widest_to_narrowest_max']}")
        elif key == "search":
            for q, r in val.items():
                print(f"search {q!r}: {r['target']} on result page {r['page_rank']} "
                      f"({'shown' if r['shown'] else 'folded under more'}); change log at {r['changelog_rank']}")
        elif key.startswith("axe"):
            print(f"{key}: {val['violations']} serious/critical violations ({val['nodes']} nodes) on "
                  f"{val['pages']} pages: {val['by_rule']}")


if __name__ == "__main__":
    main()
