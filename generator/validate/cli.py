"""`playbook validate`, `playbook schema` and `playbook rules`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_PROBLEMS, format_problems


@click.command()
@click.argument("process_dir", default="process", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="text: path:line:col: level[CODE]: message; json: a list of objects; github: annotations.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(process_dir: Path, fmt: str, strict: bool) -> None:
    """Check every playbook under PROCESS_DIR (default: process/); report all problems at once."""
    from ..load import playbook_dirs
    from . import check

    problems = []
    dirs = playbook_dirs(process_dir)
    for root in dirs:
        problems.extend(check(root).problems)
    if strict:
        problems = [dataclasses.replace(p, level="error") for p in problems]
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    if problems or fmt == "json":
        click.echo(format_problems(problems, fmt))
    names = ", ".join(str(d) for d in dirs)
    click.echo(f"{errors} error(s), {warnings} warning(s) in {len(dirs)} playbook(s): {names}", err=True)
    click.get_current_context().exit(EXIT_PROBLEMS if errors else EXIT_OK)


def schema_document() -> dict:
    """The JSON Schema editors use: the model's schema, shaped for split files."""
    from ..model import Duration, Playbook

    doc = Playbook.model_json_schema()
    # Any file holds any subset of the sections, so no section is required per file.
    doc.pop("required", None)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["description"] = (doc.get("description", "") + " Each YAML file of a playbook folder holds some of"
                          " these sections; list sections merge across files.").strip()
    # Durations are usually written as text ('4 business hours'); the object form stays valid.
    defs = doc.get("$defs", {})
    if "Duration" in defs:
        obj = defs["Duration"]
        defs["Duration"] = {
            "title": obj.get("title", "Duration"),
            "description": obj.get("description", Duration.__doc__ or ""),
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+\s+(business\s+)?(minute|hour|day)s?\s*$"},
                {k: v for k, v in obj.items() if k not in ("title", "description")},
            ],
        }
    return doc


def schema_text() -> str:
    """The schema as the byte-stable text shipped in schema/playbook.schema.json."""
    return json.dumps(schema_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file instead.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of process files (for editor completion)."""
    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        from ..writer import write_file

        write_file(output, text)


def rules_markdown() -> str:
    """A Markdown table of every code: loader, schema and rule codes."""
    from .codes import all_codes

    lines = ["| code | level | name | checks |", "| --- | --- | --- | --- |"]
    for c in all_codes():
        lines.append(f"| {c.code} | {c.level} | {c.name} | {c.summary} |")
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.argument("codes", nargs=-1)
def rules(fmt: str, codes: tuple[str, ...]) -> None:
    """List every problem code with its name and documentation (or only CODES)."""
    from ..errors import UsageError
    from .codes import all_codes

    entries = all_codes()
    if codes:
        wanted = {c.upper() for c in codes}
        unknown = wanted - {e.code for e in entries}
        if unknown:
            raise UsageError(f"unknown code(s): {', '.join(sorted(unknown))}; see `playbook rules`")
        entries = [e for e in entries if e.code in wanted]
    if fmt == "markdown":
        click.echo(rules_markdown(), nl=False)
    elif fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(e) for e in entries], indent=2))
    else:
        for i, e in enumerate(entries):
            if i:
                click.echo()
            click.echo(f"{e.code} {e.name} ({e.level})")
            click.echo("\n".join("    " + line if line else "" for line in e.doc.splitlines()))
