"""Several playbooks, one site: each under its own path with its own nav, a landing page listing all.

`playbook build` over a process folder holding several playbooks renders each one as
it would alone (`build.generate`), moves its pages under `<playbook id>/` (every link
the renderer writes is relative, so they keep working), and adds an `index.md` listing
each playbook's title, owner, version and effective date. mkdocs builds them as one
site, so its search index covers every playbook. A single playbook never comes here:
its site stays exactly what it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import UsageError
from ..text import html_text
from .render import TEMPLATES_DIR, environment, front_matter

LANDING_TITLE = "Playbooks"


@dataclass(frozen=True)
class Entry:
    """One playbook as the landing page lists it."""

    slug: str
    path: str  # its home page, docs-relative
    title: str
    owner: str
    version: str
    effective: str
    description: str


def _prefix_nav(nav: list, prefix: str) -> list:
    """The same nav with every page path under `prefix/`."""
    out: list = []
    for item in nav:
        if isinstance(item, str):
            out.append(prefix + "/" + item)
        elif isinstance(item, dict):
            out.append({k: (_prefix_nav(v, prefix) if isinstance(v, list) else prefix + "/" + v)
                        for k, v in item.items()})
        else:
            out.append(item)
    return out


def combine(built: list[tuple[Path, dict[str, str], list, object]],
            templates_dir: Path = TEMPLATES_DIR) -> tuple[dict[str, str], list, date]:
    """One docs tree, nav and sitemap date from each playbook's (folder, files, nav, model)."""
    seen: dict[str, Path] = {}
    files: dict[str, str] = {}
    nav: list = [{LANDING_TITLE: "index.md"}]
    entries: list[Entry] = []
    for folder, tree, own_nav, model in built:
        slug = model.playbook.id
        if slug == "assets" or slug in seen:
            other = seen.get(slug)
            raise UsageError(f"{folder}: playbook id {slug!r} is also the id of {other}; each playbook of one "
                             "site needs its own id (its pages go under /<id>/)" if other else
                             f"{folder}: playbook id {slug!r} is reserved for the site's own files; rename it")
        seen[slug] = folder
        for rel, text in tree.items():
            # Shared files (the stylesheet) once at the root, where mkdocs.yml's extra_css points.
            files[rel if rel.startswith("assets/") else f"{slug}/{rel}"] = text
        owner_role = model.by_id("roles").get(model.playbook.owner)
        entries.append(Entry(slug, f"{slug}/index.md", model.playbook.title,
                             owner_role.name if owner_role is not None else model.playbook.owner,
                             model.playbook.version, model.playbook.effective.isoformat(),
                             model.playbook.description))
        # A section title is printed by the theme as it is: escaped here like page titles.
        nav.append({html_text(model.playbook.title): _prefix_nav(own_nav, slug)})
    page = environment(templates_dir).get_template("playbooks.md.j2").render(playbooks=entries)
    files["index.md"] = front_matter(LANDING_TITLE) + page
    newest = max(model.playbook.effective for _, _, _, model in built)
    return files, nav, newest
