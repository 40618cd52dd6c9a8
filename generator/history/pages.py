"""The history part's pages: a change log of every version, and "what changed for you" per role.

Without git (an exported folder, a CI tarball) or with a shallow clone the
pages still build and say plainly what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import PlaybookError
from ..model import SECTIONS, Playbook
from ..text import md_text
from .diff import KIND, Change, diff, entity_key

PAGE = "history/changelog.md"
TITLE = "Change log"

# Attributes whose value names a role: a change to such an entity matters to that role.
ROLE_KEYS = {"owner", "role", "from_role", "to_role", "notify", "escalate_to", "approver", "audience"}


def _contribution(**kw: Any):
    from ..site.contrib import Contribution

    return Contribution(**kw)


def _roles_in(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ROLE_KEYS:
                if isinstance(v, str):
                    found.add(v)
                elif isinstance(v, list):
                    found.update(x for x in v if isinstance(x, str))
            else:
                _roles_in(v, found)
    elif isinstance(value, list):
        for v in value:
            _roles_in(v, found)


def role_index(model: Playbook | None) -> dict[tuple[str, str], set[str]]:
    """(entity kind, entity id) -> role ids the entity names (owner, notify, ...)."""
    index: dict[tuple[str, str], set[str]] = {}
    if model is None:
        return index

    def add(kind: str, item: BaseModel) -> None:
        key = entity_key(item)  # an id, or a natural key such as a threshold's rule
        if key is None:
            return
        found: set[str] = set()
        _roles_in(item.model_dump(), found)
        if kind == "role":
            found.add(key)
        index.setdefault((kind, key), set()).update(found)

    for section in SECTIONS:
        value = getattr(model, section)
        if isinstance(value, list):
            kind = KIND.get((section, ""))
            for item in value:
                if kind:
                    add(kind, item)
        elif isinstance(value, BaseModel):
            for (sec, sub), kind in KIND.items():
                if sec == section and sub:
                    for item in getattr(value, sub, []) or []:
                        add(kind, item)
            whole: set[str] = set()
            _roles_in(value.model_dump(), whole)
            index.setdefault((section.replace("_", " "), section), set()).update(whole)
    return index


def changes_for_role(changes: list[Change], role_id: str, before: Playbook | None,
                     after: Playbook | None) -> list[Change]:
    """The changes that touch an entity naming `role_id`, on either side."""
    a, b = role_index(before), role_index(after)
    # Ids of entities the role owns or is named in (its queues, stages, SLAs...): a change that
    # points something at one of them, or away from it, matters to the role too.
    mine = {role_id} | {eid for index in (a, b) for (_, eid), roles in index.items() if role_id in roles}
    out = []
    for c in changes:
        key = (c.entity_kind, c.entity_id)
        values = {v for v in (c.old, c.new) if isinstance(v, str)}
        if role_id in a.get(key, set()) | b.get(key, set()) or values & mine:
            out.append(c)
    return out


def _unavailable(reason: str):
    text = (f"# {TITLE}\n\nThe version history is not available for this build: {md_text(reason)}\n\n"
            "Build the site from a full git clone of the repository to include it.\n")
    return _contribution(pages={PAGE: text}, nav=[(TITLE, PAGE)])


@dataclass
class VersionView:
    """One section of the change-log page: a released version, or the unreleased work after the last one."""

    title: str
    effective: str = ""
    tag: str = ""
    commit: str = ""
    previous: str = ""
    changes: list[Any] = field(default_factory=list)  # Md lines (word diffs marked)
    load_errors: list[tuple[str, str]] = field(default_factory=list)  # (which side, why it did not load)
    commits: Any = ""  # Md: the commits' change log, from changelog.render_markdown


@dataclass
class ChangelogView:
    """Everything the change-log template shows."""

    shallow: bool
    pb_version: str
    pb_effective: str
    released: bool
    unreleased: VersionView | None
    versions: list[VersionView]


def changelog_page(view: ChangelogView) -> str:
    """The change-log page from its template (templates/changelog.md.j2)."""
    from ..site.render import environment

    return environment().get_template("changelog.md.j2").render(v=view, title=TITLE).rstrip() + "\n"


def contribute(model: Playbook, process_dir: Path):
    """The change-log page and per-role "what changed for you" sections."""
    from ..site.render import Md
    from .changelog import History, change_markdown, render_markdown
    from .release import releases

    try:
        hist = History(Path(process_dir))
    except PlaybookError as exc:
        return _unavailable(exc.message().splitlines()[0])
    try:
        if hist.git.head() is None:
            return _unavailable("the repository has no commits yet")
        shallow = hist.git.is_shallow()
        found = releases(hist.git)
        load_errors: dict[str, str] = {}

        def model_at(sha: str | None) -> Playbook | None:
            if sha is None:
                return None
            try:
                return hist.model(sha)
            except PlaybookError as exc:
                load_errors[sha] = exc.message().splitlines()[0]
                return None

        def fill(v: VersionView, a_sha: str | None, b_sha: str | None, b_model: Playbook | None = None) -> VersionView:
            """The version's changes, or why they cannot be shown (never "playbook created" for a load error)."""
            before = model_at(a_sha)
            after = b_model if b_model is not None else model_at(b_sha)
            v.load_errors = [(label, load_errors[sha]) for label, sha in
                             (("the previous version", a_sha), ("this version", b_sha))
                             if sha is not None and sha in load_errors]
            if not v.load_errors:
                v.changes = [Md(change_markdown(c)) for c in diff(before, after)]
            return v

        head = hist.git.head()
        unreleased = hist.entries(since=found[-1].tag) if found else []
        pb = model.playbook
        pending = None
        if unreleased or not found:
            pending = VersionView("Unreleased: not yet in effect",
                                  commits=Md(render_markdown(unreleased if found else hist.entries(), heading="####")))
            if found:
                pending.previous = found[-1].version
                fill(pending, found[-1].commit, None, model)
        versions = []
        for i in range(len(found) - 1, -1, -1):
            r = found[i]
            prev = found[i - 1] if i > 0 else None
            entries = hist.entries(since=prev.tag, until=r.tag) if prev else hist.entries(until=r.tag)
            # Dates and commit ids are ours (ISO, hex): trusted; versions and tags are escaped by the template.
            v = VersionView(r.version, Md(r.effective.isoformat()), r.tag, r.commit[:12],
                            Md(f"{md_text(prev.version)} (effective {prev.effective.isoformat()})") if prev else "",
                            commits=Md(render_markdown(entries, heading="####")))
            versions.append(fill(v, prev.commit if prev else None, r.commit))
        page = changelog_page(ChangelogView(shallow, str(pb.version), Md(pb.effective.isoformat()), bool(found), pending,
                                            versions))

        # "What changed for you": from the previous version to the one this site shows.
        role_sections: dict[str, str] = {}
        stage_sections: dict[str, str] = {}
        sla_sections: dict[str, str] = {}
        base: Any = None
        if found:
            at_head = found[-1].commit == head and not unreleased and model == model_at(head)
            base = found[-2] if at_head and len(found) > 1 else (None if at_head else found[-1])
        if base is not None:
            before = model_at(base.commit)
            changes = diff(before, model)
            for role in model.roles:
                mine = changes_for_role(changes, role.id, before, model)
                body = "\n".join(f"* {change_markdown(c)}" for c in mine) if mine else \
                    "Nothing that names this role changed."
                role_sections[role.id] = (f"## What changed for you\n\nSince version {md_text(base.version)} "
                                          f"(effective {base.effective.isoformat()}):\n\n{body}\n")
            for kind, target in (("stage", stage_sections), ("SLA", sla_sections)):
                for c in changes:
                    if c.entity_kind == kind and c.entity_id:
                        target.setdefault(c.entity_id, f"**Changed since version {md_text(base.version)}:**\n")
                        target[c.entity_id] += f"\n* {change_markdown(c)}"
            for target in (stage_sections, sla_sections):
                for key in target:
                    target[key] += "\n"
        return _contribution(pages={PAGE: page}, nav=[(TITLE, PAGE)], role_sections=role_sections,
                             stage_sections=stage_sections, sla_sections=sla_sections)
    finally:
        hist.close()
