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
- process texts (of this playbook and the test fixture) that reach no page.

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
        elif key.startswith("axe"):
            print(f"{key}: {val['violations']} serious/critical violations ({val['nodes']} nodes) on "
                  f"{val['pages']} pages: {val['by_rule']}")


if __name__ == "__main__":
    main()
