"""Pages other parts of playbook add to the site (history, export, conformance).

Each contributor is a module exposing `contribute(model, process_dir) -> Contribution`.
The site imports the ones that exist, so a part can land before or after the site.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PlaybookError

CONTRIBUTORS = ("generator.history.pages", "generator.export.pages", "generator.conformance.pages",
                "generator.evidence.pages")


# The one label for figures computed on generated demo data wherever they sit beside
# the playbook (stage and SLA entries): staff must never read them as their CRM's.
EXAMPLE_DATA_TITLE = "Example data: figures from generated demo data, not from your CRM"
EXAMPLE_DATA_NOTE = ("The demo data breaks every rule on purpose, so these figures show what a check "
                     "reports, not how your team is doing.")


def example_data(markdown_lines: list[str]) -> str:
    """Markdown lines shown inside the site's one example-data notice (an admonition)."""
    body = [EXAMPLE_DATA_NOTE, ""] + markdown_lines
    return f'!!! example "{EXAMPLE_DATA_TITLE}"\n\n' + "\n".join(("    " + x) if x else "" for x in body)


@dataclass
class Contribution:
    """Markdown a part adds: whole pages, nav entries, and sections appended to existing entries."""

    pages: dict[str, str] = field(default_factory=dict)  # docs-relative .md path -> Markdown
    nav: list[tuple[str, str]] = field(default_factory=list)  # (title, docs-relative path), shown in nav
    role_sections: dict[str, str] = field(default_factory=dict)  # role id -> Markdown appended to role page
    stage_sections: dict[str, str] = field(default_factory=dict)  # stage id -> Markdown appended to stage entry
    sla_sections: dict[str, str] = field(default_factory=dict)  # sla id -> Markdown appended to SLA entry

    def merge(self, other: "Contribution") -> None:
        """Add another contribution to this one; sections for the same id are concatenated."""
        self.pages.update(other.pages)
        self.nav.extend(other.nav)
        for mine, theirs in (
            (self.role_sections, other.role_sections),
            (self.stage_sections, other.stage_sections),
            (self.sla_sections, other.sla_sections),
        ):
            for key, text in theirs.items():
                mine[key] = (mine[key] + "\n\n" + text) if key in mine else text


def collect(model, process_dir: Path, contributors: tuple[str, ...] = CONTRIBUTORS,
            options: dict | None = None) -> Contribution:
    """Import each contributor, call it, and merge what it returns.

    The list is explicit: a name that does not import is an error naming it, never
    a silent skip (a misspelt contributor would otherwise drop its pages unnoticed).

    `options` are build options (e.g. `results`, a results history folder); a contributor
    whose `contribute` takes an `options` parameter receives them.

    A contributor raising PlaybookError fails the build with its own message.
    """
    merged = Contribution()
    for name in contributors:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            raise PlaybookError(f"site contributor {name!r} cannot be imported ({exc.msg})") from None
        takes = "options" in inspect.signature(module.contribute).parameters
        part = module.contribute(model, Path(process_dir), **({"options": options or {}} if takes else {}))
        if part is not None:
            merged.merge(part)
    return merged
