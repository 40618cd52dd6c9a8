"""Render the site's Markdown pages from Jinja2 templates in `templates/`.

Pure: model in, {docs-relative path: Markdown} and {diagram key: DOT} out.
Process text is data: the Jinja environment's `finalize` escapes every value
that is not already trusted Markdown (`Md`) with `generator.text.md_text`, so a
template that forgets a filter still cannot let markup through. Helpers that
build links return `Md` with their text escaped.
"""

from __future__ import annotations

import functools
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ..model import Playbook
from ..text import html_text, md_block, md_text
from . import diagrams
from .contrib import Contribution

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
DIAGRAM_TOKEN = "@@diagram:{}@@"


class Md(str):
    """Markdown our own code produced from escaped parts: emitted as is."""


def _md_text(value: Any) -> str:
    # text.md_text keeps quotes as typed, so no heading or table-of-contents entry shows
    # an entity (tests/test_site_text.py checks every built page).
    return md_text(value)


def _finalize(value: Any) -> str:
    if isinstance(value, Md):
        return value
    if value is None:
        return ""
    return _md_text(value)


def md(value: Any) -> Md:
    """Jinja filter: process text escaped for inline Markdown."""
    return value if isinstance(value, Md) else Md(_md_text(value))


def block(value: Any) -> Md:
    """Jinja filter: multi-line process text escaped as Markdown paragraphs."""
    return Md(md_block(value))


def quote(value: Any) -> Md:
    """Jinja filter: process text escaped as a Markdown block quote."""
    return Md("> " + md_block(value).replace("\n\n", "\n>\n> "))


OPS = {"equals": "is", "in": "is one of", "not_in": "is none of", "is_set": "is set", "is_not_set": "is empty",
       "gte": "is at least", "lte": "is at most"}


def op_text(op: str) -> str:
    """Jinja filter: a condition operator in words."""
    return OPS.get(op, op)


def join(items, sep: str = ", ") -> Md:
    """Jinja filter: join already-escaped pieces (or escape plain ones)."""
    return Md(sep.join(md(i) for i in items))


def page_url(md_path: str) -> str:
    """The URL mkdocs gives a page with directory URLs: `a/b.md` -> `a/b/`."""
    p = md_path[:-3]
    if p == "index" or p.endswith("/index"):
        p = p[: -len("index")]
    elif p:
        p += "/"
    return p


def html_href(from_md: str, to_md: str, anchor: str = "") -> str:
    """An href from one built page to another, for raw HTML that mkdocs does not rewrite."""
    frm = page_url(from_md).rstrip("/") or "."
    to = page_url(to_md).rstrip("/") or "."
    rel = posixpath.relpath(to, frm)
    rel = "./" if rel == "." else rel + "/"
    return rel + (f"#{anchor}" if anchor else "")


@functools.lru_cache(maxsize=4096)
def _relpath(to: str, start: str) -> str:
    return posixpath.relpath(to, start)


# kind -> (page, anchor prefix); steps and roles have a page each
TARGETS: dict[str, tuple[str, str]] = {
    "field": ("data.md", "field-"),
    "source": ("data.md", "source-"),
    "system": ("data.md", "system-"),
    "stage": ("stages.md", "stage-"),
    "status": ("stages.md", "status-"),
    "reason": ("stages.md", "reason-"),
    "event": ("stages.md", "event-"),
    "template": ("rules.md", "template-"),
    "sla": ("rules.md", "sla-"),
    "queue": ("rules.md", "queue-"),
    "handoff": ("rules.md", "handoff-"),
    "logging": ("rules.md", "logging-"),
    "sequence": ("rules.md", "sequence-"),
    "topic": ("rules.md", "topic-"),
    "review": ("rules.md", "review-"),
    "metric": ("measurement.md", "metric-"),
    "exception": ("measurement.md", "exception-"),
    "person": ("measurement.md", "person-"),
    "check": ("measurement.md", "check-"),
    "lane": ("index.md", "lane-"),
}
SECTION_OF = {
    "field": "fields", "source": "sources", "system": "systems", "stage": "stages", "status": "statuses",
    "reason": "closure_reasons", "event": "events", "template": "templates", "sla": "slas",
    "handoff": "handoffs", "logging": "logging", "sequence": "outreach", "topic": "sensitive_topics",
    "metric": "metrics", "exception": "exceptions", "person": "people", "check": "quality_checks",
    "lane": "lanes", "step": "steps", "role": "roles",
}


@dataclass
class Links:
    """Markdown links from one page to the entities of the model."""

    model: Playbook
    page: str
    _index: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _entity(self, kind: str, ident: str) -> Any:
        if kind not in self._index:
            if kind == "queue":
                self._index[kind] = {q.id: q for q in (self.model.routing.queues if self.model.routing else [])}
            elif kind == "review":
                self._index[kind] = {r.id: r for r in self.model.qualification.manual_reviews}
            else:
                self._index[kind] = self.model.by_id(SECTION_OF[kind])
        return self._index[kind].get(ident)

    def target(self, kind: str, ident: str) -> str:
        """Docs-relative link target (`../data.md#field-email`) for mkdocs to resolve."""
        if kind == "step":
            to, anchor = f"steps/{ident}.md", ""
        elif kind == "role":
            to, anchor = f"roles/{ident}.md", ""
        else:
            to, prefix = TARGETS[kind]
            anchor = prefix + ident
        rel = _relpath(to, posixpath.dirname(self.page) or ".")
        return rel + (f"#{anchor}" if anchor else "")

    def to(self, kind: str, ident: str | None, text: Any = None) -> Md:
        """`[Name](target)` for an entity, named by its name/label; plain escaped id if unknown."""
        if not ident:
            return Md("")
        ent = self._entity(kind, ident)
        if ent is None:
            return Md(md_text(ident))
        name = text if text is not None else getattr(ent, "name", None) or getattr(ent, "label", None) or ident
        return Md(f"[{_md_text(name)}]({self.target(kind, ident)})")

    def many(self, kind: str, idents, sep: str = ", ") -> Md:
        """Links to several entities, or an em dash when there are none."""
        parts = [self.to(kind, i) for i in idents]
        return Md(sep.join(parts) if parts else "—")

    def __getattr__(self, kind: str):
        if kind in SECTION_OF or kind in ("queue", "review"):
            return lambda ident, text=None: self.to(kind, ident, text)
        raise AttributeError(kind)


def front_matter(title: str, meta: dict[str, Any] | None = None) -> str:
    """YAML front matter giving a page its title, HTML-escaped.

    Without it mkdocs takes the title from the H1 and the theme prints it in
    <title> after `striptags`, which unescapes entities: a name holding
    `</title><script>` would become markup there. The theme prints a meta
    title as is, so the escaped text shows literally in the tab and the nav.
    """
    extra = "".join(f"{k}: {json.dumps(v)}\n" for k, v in (meta or {}).items())
    return "---\ntitle: " + json.dumps(html_text(title), ensure_ascii=False) + "\n" + extra + "---\n\n"


# One environment per templates folder and process: its templates compile once (half of a warm
# render), and Jinja's auto_reload still recompiles a template whose file changed (`playbook serve`).
@functools.lru_cache(maxsize=8)
def environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """Jinja for Markdown: no autoescape (it is HTML's), escaping by `finalize` instead."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # `{#id}` is attr_list syntax for heading anchors, so Jinja comments use another marker.
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.filters.update(md=md, block=block, join=join, quote=quote, op=op_text)
    env.tests["contains"] = lambda seq, item: item in seq
    env.globals.update(Md=Md)
    return env


WIDE = {"hide": ["navigation", "toc"]}
# Search ranks what staff look up (steps, roles, fields) above the record of how the playbook
# changed and above the pages for analysts (check results on example data, the warehouse
# contract): mkdocs-material's per-page `search: boost:`, which lunr multiplies into every
# section's score. tests/test_browser.py checks three staff queries against these numbers.
STAFF = {"search": {"boost": 2}}
SEARCH_BOOST = {"history/changelog.md": 0.2, "conformance.md": 0.5, "data-contract.md": 0.5, "evidence/": 0.5}


def search_boost(path: str) -> float | None:
    """The boost of a contributed page: by its path, else by its folder (a key ending in /)."""
    if path in SEARCH_BOOST:
        return SEARCH_BOOST[path]
    return next((b for k, b in SEARCH_BOOST.items() if k.endswith("/") and path.startswith(k)), None)


@dataclass
class Rendered:
    """Everything a build writes, in memory: pages and the DOT of every diagram."""

    pages: dict[str, str]
    diagrams: dict[str, str]
    nav: list


def _role_context(model: Playbook, role) -> dict[str, Any]:
    steps_owned = [s for s in model.steps if s.owner == role.id]
    transitions = [(s, t) for s in model.stages for t in s.transitions if t.owner == role.id]
    slas = [s for s in model.slas if s.owner == role.id]
    escalations = [(s, e) for s in model.slas for e in s.escalations if e.notify == role.id]
    seqs = [q for q in model.outreach if q.owner == role.id]
    tmpl_ids: list[str] = []
    for s in steps_owned:
        tmpl_ids += s.templates
    for q in seqs:
        tmpl_ids += [o.template for o in q.steps if o.template]
    tmpl_ids = list(dict.fromkeys(tmpl_ids))
    handoffs_out = [h for h in model.handoffs if h.from_role == role.id]
    handoffs_in = [h for h in model.handoffs if h.to_role == role.id]
    queues = [q for q in (model.routing.queues if model.routing else []) if q.owner == role.id]
    reviews = [r for r in model.qualification.manual_reviews if r.role == role.id]
    metrics = [m for m in model.metrics if m.owner == role.id]
    return dict(role=role, steps_owned=steps_owned, transitions=transitions, slas=slas,
                escalations=escalations, sequences=seqs, template_ids=tmpl_ids, handoffs_out=handoffs_out,
                handoffs_in=handoffs_in, queues=queues, reviews=reviews, metrics=metrics,
                stages_owned=[s for s in model.stages if s.owner == role.id])


def render(model: Playbook, contribution: Contribution | None = None,
           templates_dir: Path = TEMPLATES_DIR) -> Rendered:
    """Every page of the site as Markdown, diagrams as DOT placeholders."""
    contribution = contribution or Contribution()
    env = environment(templates_dir)
    pages: dict[str, str] = {}
    dots: dict[str, str] = {}
    lanes = model.by_id("lanes")

    index: dict[str, dict[str, Any]] = {}  # entity look-ups shared by every page's Links

    def page(path: str, template: str, title: str | None = None, meta: dict[str, Any] | None = None,
             **ctx: Any) -> None:
        links = Links(model, path, index)
        text = env.get_template(template).render(m=model, link=links, page=path, **ctx)
        pages[path] = (front_matter(title, meta) + text) if title is not None else text

    flow = diagrams.Flow.of(model)

    def figure(key: str, name: str, kind: str) -> Md:
        """A diagram's box: its accessible name, focusable so the keyboard can scroll it."""
        return Md(f'<div class="playbook-diagram {kind}" role="figure" aria-label="{html_text(name)}" '
                  f'tabindex="0">\n{DIAGRAM_TOKEN.format(key)}\n</div>')

    phase_list = diagrams.phases(model)
    phase_figures = []
    for ph in phase_list:
        key = f"swimlane-phase-{ph}"
        dots[key] = diagrams.swimlane(
            model, lambda step, anchor: html_href("index.md", f"steps/{step}.md", anchor), flow=flow, phase=ph,
            phase_url=lambda p: f"#phase-{p}")
        steps_in = [s for s in model.steps if s.phase == ph]
        phase_figures.append((ph, steps_in, diagrams.legend(model, flow, ph), figure(key, f"Swim lane of the {ph} phase: "
                                                   + ", ".join(s.name for s in steps_in), "swimlane")))
    # Diagram pages use the whole width: mkdocs-material hides the sidebars per page.
    page("index.md", "index.md.j2", title=model.playbook.title, meta=WIDE, phases=phase_figures)
    boosted = {"search": {"boost": 1.5}}

    for step in model.steps:
        page(f"steps/{step.id}.md", "step.md.j2", title=step.name, meta=STAFF, step=step,
             prev_steps=[s for s in model.steps if step.id in s.next
                         or any(o.next_step == step.id for d in s.decisions for o in d.outcomes)])

    dots["stages"] = diagrams.stage_graph(model, lambda sid: html_href("stages.md", "stages.md", f"stage-{sid}"))
    page("stages.md", "stages.md.j2", title="Stages", meta={**WIDE, **boosted},
         state_diagram=figure("stages", "Stages and the allowed changes between them, with the role making each",
                              "stages"),
         sections=contribution.stage_sections)

    for role in model.roles:
        ctx = _role_context(model, role)
        key = f"lane-{role.id}"
        dots[key] = diagrams.lane_focus(
            model, role.lane, lambda step, anchor, r=role: html_href(f"roles/{r.id}.md", f"steps/{step}.md", anchor),
            flow)
        lane = lanes.get(role.lane)
        page(f"roles/{role.id}.md", "role.md.j2", title=role.name, meta=STAFF,
             swimlane=figure(key, f"The {lane.name if lane else role.lane} lane: its steps, where work comes "
                             "from and where it goes", "swimlane lane-focus"),
             lane=lane, contributed=Md(contribution.role_sections.get(role.id, "")), **ctx)
        page(f"checklists/{role.id}.md", "checklist.md.j2", title=f"Checklist: {role.name}",
             meta={"hide": ["navigation", "toc"], "search": {"exclude": True}}, **ctx)

    page("data.md", "data.md.j2", title="Data", meta=STAFF)
    page("rules.md", "rules.md.j2", title="Rules", meta=boosted, sla_sections=contribution.sla_sections)
    page("measurement.md", "measurement.md.j2")

    for path, text in sorted(contribution.pages.items()):
        boost = search_boost(path)
        if boost is not None and not text.startswith("---\n"):
            text = "---\n" + f"search: {json.dumps({'boost': boost})}\n---\n\n" + text
        pages[path] = text

    nav: list = [
        {"Home": "index.md"},
        # Paths only: mkdocs titles each page from its (escaped) heading, so no
        # process text reaches the nav unescaped.
        {"Steps": [f"steps/{s.id}.md" for s in model.steps]},
        {"Stages": "stages.md"},
        {"Roles": [f"roles/{r.id}.md" for r in model.roles]},
        {"Checklists": [f"checklists/{r.id}.md" for r in model.roles]},
        {"Data": "data.md"},
        {"Rules": "rules.md"},
        {"Measurement and upkeep": "measurement.md"},
    ]
    nav += [{title: path} for title, path in contribution.nav]
    return Rendered(pages=pages, diagrams=dots, nav=nav)
