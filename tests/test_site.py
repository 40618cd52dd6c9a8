"""The playbook site: goldens, hostile text, atomic and deterministic builds, links, Zensical.

Builds are real: real `dot`, a real `mkdocs build --strict`. The fixture
playbook in tests/fixtures/site/clinic carries hostile text (raw HTML,
`<script>`, `javascript:` links, snippet markers, Jinja syntax) in many fields.
"""

from __future__ import annotations

import html
import posixpath
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from golden_files import check_tree

from generator.errors import PlaybookError, ProcessErrors
from generator.site import diagrams, graphviz
from generator.site.build import build_site
from generator.site.contrib import Contribution, collect
from generator.site.mkdocs import MkdocsError
from generator.site.render import render
from generator.validate import check, load_playbook

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "site" / "clinic"
GOLDEN = HERE / "golden" / "site"

HOSTILE = [
    "<script>alert('x')</script>",
    "[x](javascript:alert(1))",
    '--8<-- "/etc/passwd"',
    "{{ 7*7 }}",
    "{% raw %}",
    "<img src=x onerror=alert(1)>",
    "<b>Welcome</b>",
    "{{ first_name }}",
    "Close the lead </title><script>alert('title')</script> & co",
    "Reason note <img src=x onerror=alert(2)> </title>",
]


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real build of the fixture, shared by the read-only tests.

    Other parts' contributors are left out here so these tests check the site
    alone; test_build_with_every_contributor runs them all.
    """
    root = tmp_path_factory.mktemp("site")
    build_site(FIXTURE, root / "site", docs_dir=root / "docs", cache_dir=root / "cache", contributors=())
    return root


# ------------------------------------------------------------------ goldens


def _compare_tree(actual: dict[str, str], golden_dir: Path) -> None:
    check_tree(golden_dir, actual)


def test_pages_match_golden(model):
    # Contributions of other parts are left out: their pages have their own goldens.
    rendered = render(model, Contribution())
    _compare_tree(rendered.pages, GOLDEN / "pages")


def test_dot_matches_golden(model):
    rendered = render(model, Contribution())
    _compare_tree({f"{k}.dot": v for k, v in rendered.diagrams.items()}, GOLDEN / "dot")


# ------------------------------------------------------------ hostile text


class _Dom(HTMLParser):
    """Tags, attributes and text of a page, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def _dom(path: Path) -> _Dom:
    d = _Dom()
    d.feed(path.read_text("utf-8"))
    return d


def test_hostile_text_is_literal_in_built_html(built):
    site = built / "site"
    pages = sorted(site.rglob("*.html"))
    text = ""
    for page in pages:
        d = _dom(page)
        text += " ".join(d.text)
        for tag, attrs in d.tags:
            for name, value in attrs.items():
                assert not (value or "").strip().lower().startswith("javascript:"), (page, tag, name)
                assert not name.startswith("onerror"), (page, tag)
            if tag == "img":
                assert attrs.get("src") != "x", page
            if tag == "b":
                pytest.fail(f"process text became a <b> element in {page}")
        # The theme prints page titles raw in <title>: it must hold text only.
        raw = page.read_text("utf-8")
        title = raw[raw.index("<title>") + 7: raw.index("</title>")]
        assert "<" not in title, (page, title)
        # Inline scripts are the theme's own; none carries process text.
        assert not [x for x in d.scripts if "alert" in x], page
    flat = " ".join(text.split())
    for s in HOSTILE:
        assert " ".join(s.split()) in flat, f"{s!r} is not shown literally"
    assert "49" not in flat.split("{{ 7*7 }}")[0][-5:]
    assert "root:x:0" not in flat  # no snippet was included


def test_each_phase_draws_one_box_per_stub():
    # Several answers leading to one step of another phase share one stub box; a box per
    # answer once pushed the phase's first step three empty rows down.
    import re as _re

    model = load_playbook(HERE.parent / "process" / "lead-management")
    flow = diagrams.Flow.of(model)
    for ph in diagrams.phases(model):
        src = diagrams.swimlane(model, lambda s, a: f"{s}#{a}", flow=flow, phase=ph, phase_url=lambda p: "#" + p)
        declared = _re.findall(r'^\s*"?(stub__[\w-]+)"? \[label=', src, _re.M)
        assert declared and len(declared) == len(set(declared)), (ph, declared)


def test_svg_labels_escape_dot_and_html(model, tmp_path):
    evil = 'Call <b>now</b>"] evil [label="x" \\l'
    steps = list(model.steps)
    steps[0] = steps[0].model_copy(update={"name": evil})
    lanes = list(model.lanes)
    lanes[0] = lanes[0].model_copy(update={"name": "<i>Marketing</i> & co"})
    hostile = model.model_copy(update={"steps": steps, "lanes": lanes})
    dot = diagrams.swimlane(hostile, lambda s, a: f"steps/{s}/")
    svg = graphviz.render_svg(dot, tmp_path)
    d = _Dom()
    d.feed(svg)
    texts = [" ".join(t.split()) for t in d.text if t.strip()]
    assert any("<b>now</b>" in t for t in texts), texts
    # Lane names wrap over lines: the words follow each other, literally.
    assert "<i>Marketing</i> & co" in " ".join(texts)
    assert not any(tag in ("b", "i") for tag, _ in d.tags)
    assert "evil" not in {n for _, a in d.tags for n in a}  # no injected attribute


# ------------------------------------------------------------- build rules


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_is_deterministic(built, tmp_path):
    other = tmp_path / "again"
    build_site(FIXTURE, other, cache_dir=None, contributors=())  # no cache: dot runs again
    first, second = _tree(built / "site"), _tree(other)
    assert sorted(first) == sorted(second)
    # Byte-identical, sitemap included (its dates come from the playbook's effective date).
    assert [k for k in first if first[k] != second[k]] == []


def test_failed_build_leaves_previous_site_untouched(built, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built / "site", site)
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}

    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    (broken / "steps.yaml").write_text(
        (broken / "steps.yaml").read_text().replace("owner: scheduler", "owner: nobody"))
    with pytest.raises(ProcessErrors) as bad_process:
        build_site(broken, site, cache_dir=None, contributors=())
    assert any("nobody" in p.text() for p in bad_process.value.problems), bad_process.value.problems

    bad_config = tmp_path / "mkdocs.yml"
    bad_config.write_text("site_name: x\ntheme:\n  name: no-such-theme\n")
    with pytest.raises(MkdocsError) as exc:
        build_site(FIXTURE, site, cache_dir=None, config=bad_config, contributors=())
    assert "no-such-theme" in exc.value.message()

    after = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".playbook-build-")]


def test_validation_errors_match_validate(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    (broken / "steps.yaml").write_text(
        (broken / "steps.yaml").read_text().replace("owner: scheduler", "owner: nobody"))
    expected = [p.text() for p in check(broken).errors()]
    assert expected
    with pytest.raises(ProcessErrors) as exc:
        build_site(broken, tmp_path / "site", cache_dir=None)
    assert sorted(exc.value.message().splitlines()) == sorted(expected)
    proc = subprocess.run([sys.executable, "-m", "generator", "build", str(broken), "--site-dir",
                           str(tmp_path / "site")], capture_output=True, text=True)
    assert proc.returncode == 1
    assert sorted(proc.stderr.strip().splitlines()) == sorted(expected)
    assert "Traceback" not in proc.stderr


def test_diagrams_are_cached_by_content(model, tmp_path):
    dot = diagrams.stage_graph(model, lambda s: f"#stage-{s}")
    first = graphviz.render_svg(dot, tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    files[0].write_text(first.replace("<svg", "<svg data-from-cache=\"1\"", 1))
    assert "data-from-cache" in graphviz.render_svg(dot, tmp_path)
    graphviz.render_svg(dot + "\n", tmp_path)  # any change in the source is a new entry
    assert len(list(tmp_path.iterdir())) == 2


def test_dot_failure_carries_stderr(tmp_path):
    with pytest.raises(graphviz.GraphvizError) as exc:
        graphviz.render_svg("digraph { a -> }", tmp_path)
    assert "syntax error" in exc.value.message()


# ----------------------------------------------------------- contributions


def test_contributions_are_merged_and_errors_stop_the_build(model, tmp_path, monkeypatch):
    pkg = tmp_path / "contribs"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text(
        "from generator.site.contrib import Contribution\n"
        "def contribute(model, process_dir):\n"
        "    return Contribution(pages={'extra/page.md': '# Extra\\n\\nSee [data](../data.md).\\n'},\n"
        "                        nav=[('Extra', 'extra/page.md')], role_sections={'sdr': '## Added\\n\\nhello-role'},\n"
        "                        stage_sections={'new': 'hello-stage'}, sla_sections={'first-call': 'hello-sla'})\n")
    (pkg / "bad.py").write_text(
        "from generator.errors import PlaybookError\n"
        "def contribute(model, process_dir):\n"
        "    raise PlaybookError('history: the git repository is unreadable')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    merged = collect(model, FIXTURE, ("contribs.good",))
    rendered = render(model, merged)
    assert "extra/page.md" in rendered.pages
    assert {"Extra": "extra/page.md"} in rendered.nav
    assert "hello-role" in rendered.pages["roles/sdr.md"]
    assert "hello-stage" in rendered.pages["stages.md"]
    assert "hello-sla" in rendered.pages["rules.md"]
    with pytest.raises(PlaybookError, match="git repository is unreadable"):
        collect(model, FIXTURE, ("contribs.good", "contribs.bad"))
    # A misspelt or missing contributor is an error naming it, not a silent skip.
    for missing in ("contribs.missing", "no_such_pkg.pages"):
        with pytest.raises(PlaybookError, match=f"site contributor '{missing}' cannot be imported"):
            collect(model, FIXTURE, ("contribs.good", missing))


def test_build_with_every_contributor(tmp_path):
    """The real build: every part that contributes pages does, and the result is strict-clean."""
    import importlib

    from generator.site.contrib import CONTRIBUTORS

    site = tmp_path / "site"
    build_site(FIXTURE, site, cache_dir=tmp_path / "cache")
    assert (site / "index.html").is_file()
    assert broken_links(site) == []
    for name in CONTRIBUTORS:  # every listed part exists and contributes
        assert callable(importlib.import_module(name).contribute), name


# ------------------------------------------------------------------- links


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "xlink:href", "src"):
            if a.get(key):
                self.hrefs.append(a[key])


def broken_links(site: Path) -> list[str]:
    """Internal links (pages, anchors, assets, SVG node links) that lead nowhere."""
    parsed: dict[Path, _Links] = {}

    def parse(p: Path) -> _Links:
        if p not in parsed:
            parsed[p] = _Links()
            parsed[p].feed(p.read_text("utf-8"))
        return parsed[p]

    bad: list[str] = []
    for page in sorted(site.rglob("*.html")):
        for href in parse(page).hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "data:")):
                continue
            # 404.html links from the site root (there is no site_url to make them relative).
            rel = "." if parts.path.startswith("/") else page.parent.relative_to(site).as_posix()
            target_path = posixpath.normpath(posixpath.join(rel, unquote(parts.path).lstrip("/"))) if parts.path else \
                page.relative_to(site).as_posix()
            target = site / target_path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists() or site.resolve() not in target.resolve().parents:
                bad.append(f"{page.relative_to(site)}: {href}")
                continue
            if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                bad.append(f"{page.relative_to(site)}: {href} (no such anchor)")
    return bad


def test_no_broken_internal_links(built):
    assert broken_links(built / "site") == []


def test_link_checker_finds_broken_links(built, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built / "site", site)
    page = site / "data" / "index.html"
    page.write_text(page.read_text().replace("</body>", '<a href="../nowhere/">x</a><a href="#no-anchor">y</a></body>'))
    assert len(broken_links(site)) == 2


def test_every_step_field_role_and_stage_has_a_page_or_anchor(built, model):
    site = built / "site"
    for s in model.steps:
        assert (site / "steps" / s.id / "index.html").is_file()
    for r in model.roles:
        assert (site / "roles" / r.id / "index.html").is_file()
    data_ids = _Links()
    data_ids.feed((site / "data" / "index.html").read_text())
    assert {f"field-{f.id}" for f in model.fields} <= data_ids.ids
    stage_ids = _Links()
    stage_ids.feed((site / "stages" / "index.html").read_text())
    assert {f"stage-{s.id}" for s in model.stages} <= stage_ids.ids


def test_swim_lane_nodes_link_to_step_pages(built, model):
    page = built / "site" / "index.html"
    links = _Links()
    links.feed(page.read_text())
    for s in model.steps:
        assert f"steps/{s.id}/" in links.hrefs

    def highlighted(path: Path) -> list[str]:
        return [a.get("id") for t, a in _dom(path).tags if "lane-highlight" in (a.get("class") or "").split()]

    assert highlighted(page) == []
    for role in model.roles:
        assert highlighted(built / "site" / "roles" / role.id / "index.html") == [f"swimlane-{role.lane}"]


# ---------------------------------------------------------------- Zensical


def test_generated_docs_build_under_zensical(built, tmp_path):
    exe = Path(sys.executable).parent / "zensical"
    if not exe.exists():
        pytest.skip("zensical is not installed (pip install -e '.[test]' pins it)")
    import yaml

    project = tmp_path / "z"
    shutil.copytree(built / "docs", project / "docs")
    cfg = yaml.safe_load((HERE.parent / "mkdocs.yml").read_text())
    cfg.update(docs_dir="docs", site_dir="site",
               nav=[{"Home": "index.md"}, {"Stages": "stages.md"}, {"Data": "data.md"}, {"Rules": "rules.md"}])
    (project / "mkdocs.yml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([str(exe), "build", "-f", str(project / "mkdocs.yml")], cwd=project,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    home = (project / "site" / "index.html").read_text()
    assert 'class="cluster lane"' in home and "steps/capture/" in home
    capture = _dom(project / "site" / "steps" / "capture" / "index.html")
    assert "<script>alert('x')</script>" in " ".join(capture.text)
    assert html.escape("<script>") not in " ".join(capture.text)  # escaped once, not twice


# --------------------------------------------------------------- benchmark


def test_benchmark_scaled_playbook_is_valid(tmp_path):
    """The benchmark's generated playbook must stay a valid one, or it measures nothing."""
    sys.path.insert(0, str(HERE.parent))
    try:
        from benchmarks.site import scaled_data, write_playbook
    finally:
        sys.path.remove(str(HERE.parent))
    from generator.load import load_data

    write_playbook(scaled_data(load_data(FIXTURE).data, 3), tmp_path / "big")
    big = load_playbook(tmp_path / "big")
    small = load_playbook(FIXTURE)
    assert len(big.steps) == 3 * len(small.steps) and len(big.lanes) == 3 * len(small.lanes)
    assert len(render(big, Contribution()).pages) > 2 * len(render(small, Contribution()).pages)


def test_built_search_worker_lexes_queries_with_the_index_separator(built):
    from generator.site.search_hook import MARKER, WORKERS

    workers = list((built / "site" / WORKERS).glob("search.*.min.js"))
    assert len(workers) == 1 and MARKER in workers[0].read_text("utf-8")


def test_mkdocs_config_is_plain_data_without_include_features():
    """mkdocs.yml is read with PyYAML's full loader: keep it safe-loadable and free of include features."""
    import yaml

    cfg = yaml.safe_load((HERE.parent / "mkdocs.yml").read_text())  # raises on python tags
    names = [next(iter(e)) if isinstance(e, dict) else e for e in cfg["markdown_extensions"]]
    assert "pymdownx.escapeall" in names and {"tables", "attr_list", "toc"} <= set(names)
    assert not [n for n in names if "snippets" in n or "macros" in n]
    plugins = [next(iter(p)) if isinstance(p, dict) else p for p in cfg.get("plugins", [])]
    assert "macros" not in plugins and "search" in plugins
    assert cfg["theme"]["name"] == "material" and cfg["theme"]["font"] is False
    assert {p["scheme"] for p in cfg["theme"]["palette"]} == {"default", "slate"}


def test_the_projects_own_mkdocs_hooks_still_run(tmp_path):
    # The build's generated config sets `hooks:` (search), and mkdocs replaces an inherited list:
    # the project's hooks, relative to its own mkdocs.yml, must be kept alongside ours.
    project = tmp_path / "project"
    (project / "hooks").mkdir(parents=True)
    (project / "hooks" / "mark.py").write_text(
        "from pathlib import Path\n\n\ndef on_post_build(config):\n"
        "    Path(config['site_dir'], 'project-hook-ran.txt').write_text('yes')\n")
    config = project / "mkdocs.yml"
    config.write_text(f"INHERIT: {Path(__file__).resolve().parent.parent / 'mkdocs.yml'}\nhooks:\n  - hooks/mark.py\n")
    site = tmp_path / "site"
    build_site(FIXTURE, site, cache_dir=None, config=config, contributors=())
    assert (site / "project-hook-ran.txt").read_text() == "yes"
    # Ours still ran too: the built search worker splits queries like the index.
    from generator.site.search_hook import MARKER, WORKERS

    assert [w for w in (site / WORKERS).glob("search.*.min.js") if MARKER in w.read_text("utf-8")]
