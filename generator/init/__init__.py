"""`playbook init`: a new playbook folder from a shipped template, valid from the start.

Templates are package data (`generator/init/templates/<name>/`). `render_template`
is pure: it returns the new folder's files as text; `create_playbook` checks them
with the same validation as `playbook validate --strict` in a staging folder and
only then renames the folder into place, so a refused or failed init leaves nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from ..errors import Problem, UsageError

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATES = ("minimal", "lead-management")
DEFAULT_ORG = "Example Health"
DEFAULT_ORIGINAL_ORG = "Lakeshore Specialty Partners"
"""The organisation the default playbook is written for; `--org` replaces it."""

MODELINE = "# yaml-language-server: $schema="
SCHEMA_NAME = "playbook.schema.json"

# Names go into YAML text as written (plain and double-quoted scalars), so characters
# that mean something to YAML or to the templates' placeholders are refused up front.
_ORG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,&'()/-]{0,79}$")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


class InitError(UsageError):
    """`playbook init` was refused: the folder exists, or a name cannot be used."""


def playbook_id(folder: Path) -> str:
    """A slug id from the folder's name (`process/Cardiology Leads` -> `cardiology-leads`)."""
    slug = _SLUG_RE.sub("-", folder.name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = "playbook" + ("-" + slug if slug else "")
    return slug[:64].rstrip("-")


def check_org(org: str) -> str:
    """The organisation name, or InitError saying what is not allowed."""
    if not _ORG_RE.match(org):
        raise InitError(f"--org {org[:80]!r}: use letters, digits, spaces and . , & ' ( ) / - "
                        "(at most 80 characters, starting with a letter or digit)")
    return org


def schema_ref(folder: Path) -> str | None:
    """The modeline target: a `schema/playbook.schema.json` above the folder, relative to it."""
    folder = Path(os.path.abspath(folder))
    for parent in folder.parents:
        candidate = parent / "schema" / SCHEMA_NAME
        if candidate.is_file():
            return Path(os.path.relpath(candidate, folder)).as_posix()
    return None


def _template_files(template: str) -> dict[str, str]:
    root = TEMPLATES_DIR / template
    return {p.name: p.read_text("utf-8") for p in sorted(root.glob("*.yaml"))}


def render_template(template: str, org: str, pid: str, schema: str) -> dict[str, str]:
    """The new playbook's files (name -> text): org and id filled in, modeline pointing at `schema`."""
    if template not in TEMPLATES:
        raise InitError(f"unknown template {template!r}; choose one of: {', '.join(TEMPLATES)}")
    org = check_org(org)
    out: dict[str, str] = {}
    for name, text in _template_files(template).items():
        first, _, rest = text.partition("\n")
        if not first.startswith(MODELINE):
            raise AssertionError(f"template {template}/{name} lacks the schema modeline")  # shipped data, not input
        if template == "minimal":
            rest = rest.replace("{org}", org)
        else:
            rest = rest.replace(DEFAULT_ORIGINAL_ORG, org)
            rest = re.sub(r"\bLakeshore\b", org, rest)
        if name == "playbook.yaml":
            rest, n = re.subn(r"(?m)^(playbook:\n  id: )[a-z0-9_-]+$", lambda m: m.group(1) + pid, rest, count=1)
            if n != 1:
                raise AssertionError(f"template {template}/playbook.yaml: no playbook id line")
        out[name] = MODELINE + schema + "\n" + rest
    return out


def create_playbook(folder: Path, template: str = "minimal", org: str = DEFAULT_ORG) -> tuple[Path, list[str]]:
    """Write a new playbook folder whole, or nothing; return it and the files written.

    Refuses a folder that exists with anything in it. The files are validated (warnings
    count) before the folder appears; a template that does not validate is our bug and
    is reported as such, with the problems.
    """
    from ..validate import check

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InitError(f"{folder}: already exists; playbook init never overwrites a folder "
                        "(choose a new folder, or remove this one first)")
    pid = playbook_id(folder)
    schema = schema_ref(folder)
    files = render_template(template, org, pid, schema or SCHEMA_NAME)
    if schema is None:
        # No project schema above the folder: ship one beside the files so editors still complete.
        from ..validate.cli import schema_text

        files_extra = {SCHEMA_NAME: schema_text()}
    else:
        files_extra = {}
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.init-", dir=folder.parent))
    try:
        for name, text in {**files, **files_extra}.items():
            (stage / name).write_text(text, encoding="utf-8")
        result = check(stage, display_root=stage)
        if result.problems:
            raise _TemplateInvalid(result.problems)
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.rename(stage, folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return folder, sorted(files) + sorted(files_extra)


class _TemplateInvalid(UsageError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(p.text() for p in problems)
        super().__init__(f"the generated playbook does not validate (a bug in the template):\n{lines}")
