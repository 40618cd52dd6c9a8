"""`playbook init`."""

from __future__ import annotations

from pathlib import Path

import click

from . import DEFAULT_ORG, TEMPLATES


@click.command()
@click.argument("folder", default=Path("process/my-playbook"), type=click.Path(path_type=Path))
@click.option("--org", default=DEFAULT_ORG, show_default=True, help="Your organisation's name, used in titles and texts.")
@click.option("--template", type=click.Choice(TEMPLATES), default="minimal", show_default=True,
              help="minimal: the smallest real process; lead-management: a copy of the full default playbook.")
def init(folder: Path, org: str, template: str) -> None:
    """Start a new playbook in FOLDER (default: process/my-playbook); never overwrites."""
    from . import create_playbook

    created, names = create_playbook(folder, template, org)
    click.echo(f"created {created} from the {template} template: {', '.join(names)}")
    click.echo(f"next: playbook validate {created} --strict; playbook build {created}")
