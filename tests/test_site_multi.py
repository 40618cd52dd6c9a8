"""Several playbooks, one site: a landing page, each playbook under its own path and nav, one search."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.cli import run
from generator.errors import ProcessErrors, UsageError
from generator.init import create_playbook
from generator.load import load_data
from generator.site.build import build_site
from test_site import FIXTURE, broken_links

HERE = Path(__file__).parent


class _Cells(HTMLParser):
    """Text of each table row, and each link's (href, text)."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[tuple[str, str]] = []
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self._href, self._text = dict(attrs).get("href"), ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, self._text.strip()))
            self._href = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._href is not None:
            self._text += data


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """process/ with the site fixture (hostile text included) and a playbook made by `playbook init`."""
    root = tmp_path_factory.mktemp("multi")
    process = root / "process"
    shutil.copytree(FIXTURE, process / "clinic")
    create_playbook(process / "cardiology", "minimal", "Acme Heart")
    build_site(process, root / "site", docs_dir=root / "docs", cache_dir=root / "cache", contributors=())
    return root


def _meta(folder: Path) -> dict:
    return load_data(folder).data["playbook"]


def test_landing_page_lists_every_playbook(two):
    parser = _Cells()
    parser.feed((two / "site" / "index.html").read_text())
    rows = [r for r in parser.rows if r]
    assert rows[0] == ["Playbook", "Owner", "Version", "Effective"]
    data = {"clinic": _meta(two / "process" / "clinic"), "cardiology": _meta(two / "process" / "cardiology")}
    roles = {k: {r["id"]: r["name"] for r in load_data(two / "process" / k).data["roles"]} for k in data}
    # Listed in folder order, with the values the playbooks hold (read here from the YAML).
    want = [[data[k]["title"], roles[k][data[k]["owner"]], str(data[k]["version"]), str(data[k]["effective"])]
            for k in ("cardiology", "clinic")]
    assert rows[1:] == want
    hrefs = [h for h, text in parser.links
             if text in (data["cardiology"]["title"], data["clinic"]["title"]) and not h.startswith("#")]
    assert hrefs[:2] == ["cardiology/", "clinic/"]


def test_each_playbook_under_its_own_path_with_its_own_nav(two):
    site = two / "site"
    for slug in ("cardiology", "clinic"):
        assert (site / slug / "index.html").is_file()
        assert (site / slug / "stages" / "index.html").is_file()
        steps = load_data(two / "process" / slug).data["steps"]
        for step in steps:
            assert (site / slug / "steps" / step["id"] / "index.html").is_file()
    # One stylesheet for all, where mkdocs.yml points.
    assert (site / "assets" / "playbook.css").is_file()
    assert not (site / "clinic" / "assets").exists()
    # The nav: the landing page, then one section per playbook holding only that playbook's pages.
    docs = two / "docs"
    assert sorted(p.name for p in docs.iterdir()) == ["assets", "cardiology", "clinic", "index.md"]
    page = (site / "cardiology" / "index.html").read_text()
    nav = re.findall(r'<a href="([^"#]+)" class="md-nav__link', page)
    assert "../clinic/" in nav and "./" in nav  # both playbooks' sections in the sidebar
    # Each section holds exactly that playbook's own nav, moved under its path.
    from generator.site.build import generate
    from generator.site.multi import combine

    built = []
    for slug in ("cardiology", "clinic"):
        files, rendered, model = generate(two / "process" / slug, None, contributors=())
        built.append((two / "process" / slug, files, rendered.nav, model))
    files, combined, _ = combine(built)
    assert combined[0] == {"Playbooks": "index.md"}
    for (folder, _, own, model), section in zip(built, combined[1:]):
        (title, pages), = section.items()
        assert json.dumps(pages) == json.dumps(own).replace('": "', f'": "{folder.name}/').replace(
            '["', f'["{folder.name}/').replace('", "', f'", "{folder.name}/')
    assert set(files) == {p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()}
    # Every internal link and anchor of the combined site resolves (relative links survive the move).
    assert broken_links(site) == []


def test_search_covers_all_playbooks(two):
    index = json.loads((two / "site" / "search" / "search_index.json").read_text())
    locations = [d["location"] for d in index["docs"]]
    assert any(loc.startswith("cardiology/") for loc in locations)
    assert any(loc.startswith("clinic/") for loc in locations)
    texts = " ".join(d["text"] for d in index["docs"])
    assert "Offer an appointment on the first call." in texts  # a stage's guidance in the init playbook


def test_titles_in_nav_are_escaped(two):
    """A playbook title is process text: it reaches the nav section and the landing page as text."""
    title = _meta(two / "process" / "clinic")["title"]
    html = (two / "site" / "clinic" / "index.html").read_text()
    if "<" in title:
        assert title not in html  # never as markup
    # The landing page's Markdown escapes it like every page does.
    assert "<script" not in (two / "docs" / "index.md").read_text()


def test_problems_of_every_playbook_at_once_and_nothing_written(tmp_path):
    process = tmp_path / "process"
    a, _ = create_playbook(process / "a", "minimal", "A")
    b, _ = create_playbook(process / "b", "minimal", "B")
    for folder in (a, b):
        f = folder / "steps.yaml"
        f.write_text(f.read_text().replace("    lane: contact-center\n", "    lane: nowhere\n"))
    with pytest.raises(ProcessErrors) as exc:
        build_site(process, tmp_path / "site", cache_dir=None, contributors=())
    files = {p.file for p in exc.value.problems}
    assert any("a/steps.yaml" in f for f in files) and any("b/steps.yaml" in f for f in files)
    assert not (tmp_path / "site").exists()


def test_duplicate_playbook_ids_are_refused(tmp_path, capsys, monkeypatch):
    process = tmp_path / "process"
    a, _ = create_playbook(process / "a", "minimal", "A")
    b, _ = create_playbook(process / "b", "minimal", "B")
    f = b / "playbook.yaml"
    f.write_text(f.read_text().replace("  id: b\n", "  id: a\n"))
    monkeypatch.chdir(tmp_path)
    assert run(["build", "process", "--site-dir", "site"]) == 2
    err = capsys.readouterr().err
    assert "playbook id 'a' is also the id of process/a" in err
    assert not (tmp_path / "site").exists()


def test_validate_still_takes_one_or_all(two, capsys):
    process = two / "process"
    assert run(["validate", str(process)]) == 0
    assert "in 2 playbook(s)" in capsys.readouterr().err
    assert run(["validate", str(process / "cardiology")]) == 0
    assert "in 1 playbook(s)" in capsys.readouterr().err
