"""`playbook export salesforce|hubspot` and `playbook drift salesforce|hubspot`."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import click

from ..errors import UsageError

CONFORMANCE = ("generator.conformance.cli", "export_conformance")


def _playbooks(process_dir: str) -> list[Path]:
    from ..load import playbook_dirs

    return playbook_dirs(Path(process_dir))


def _spec(root: Path):
    from ..validate import load_playbook
    from .mapping import build_spec

    return build_spec(load_playbook(root))


def _export(kind: str, out: str, process_dir: str) -> None:
    from . import hubspot, salesforce
    from .writer import write_tree

    renderer, marker = {"salesforce": (salesforce.render, "sfdx-project.json"),
                        "hubspot": (hubspot.render, "MANUAL-STEPS.md")}[kind]
    roots = _playbooks(process_dir)
    # Gather every playbook's files first, so a bad playbook writes nothing.
    rendered = [(root, renderer(_spec(root))) for root in roots]
    for root, files in rendered:
        target = Path(out) if len(roots) == 1 else Path(out) / root.name
        write_tree(target, files, marker)
        click.echo(f"wrote {len(files)} files to {target}")


class ExportGroup(click.Group):
    """`export` subcommands; `conformance` comes from the conformance part when it exists."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Our subcommands plus `conformance` when that part is installed."""
        names = set(super().list_commands(ctx))
        if _conformance_available():
            names.add("conformance")
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Import `conformance` only when asked for."""
        if name == "conformance" and _conformance_available():
            module = importlib.import_module(CONFORMANCE[0])
            return getattr(module, CONFORMANCE[1], None)
        return super().get_command(ctx, name)


def _conformance_available() -> bool:
    try:
        return importlib.util.find_spec(CONFORMANCE[0]) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=ExportGroup)
def export() -> None:
    """Write CRM configuration compiled from the playbook."""


@export.command("salesforce")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the SFDX project.")
@click.argument("process_dir", required=False, default="process", type=click.Path(exists=True, file_okay=False))
def export_salesforce(out: str, process_dir: str) -> None:
    """Salesforce DX source project: value sets, fields, rules, queues, flows, path."""
    _export("salesforce", out, process_dir)


@export.command("hubspot")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the HubSpot files.")
@click.argument("process_dir", required=False, default="process", type=click.Path(exists=True, file_okay=False))
def export_hubspot(out: str, process_dir: str) -> None:
    """HubSpot Properties and Pipelines API bodies plus MANUAL-STEPS.md."""
    _export("hubspot", out, process_dir)


@export.command("dbt")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the dbt project.")
@click.argument("process_dir", required=False, default="process", type=click.Path(exists=True, file_okay=False))
def export_dbt(out: str, process_dir: str) -> None:
    """A complete dbt project (dbt-duckdb by default) running the conformance rules as singular tests."""
    from ..validate import load_playbook
    from . import dbt
    from .writer import write_tree

    roots = _playbooks(process_dir)
    rendered = [(root, dbt.render(load_playbook(root))) for root in roots]
    for root, files in rendered:
        target = Path(out) if len(roots) == 1 else Path(out) / root.name
        write_tree(target, {k: v.encode("utf-8") for k, v in files.items()}, "dbt_project.yml")
        click.echo(f"wrote {len(files)} files to {target}")


@click.command()
@click.argument("system", type=click.Choice(["salesforce", "hubspot"]))
@click.argument("process_dir", required=False, default="process", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def drift(system: str, process_dir: str, fmt: str) -> None:
    """Compare a live CRM's configuration with the playbook (0 none, 1 drift, 2 unreadable).

    Credentials come from SALESFORCE_INSTANCE_URL / SALESFORCE_ACCESS_TOKEN or
    HUBSPOT_ACCESS_TOKEN (HUBSPOT_BASE_URL optional).
    """
    from . import drift as d

    roots = _playbooks(process_dir)
    if len(roots) != 1:
        raise UsageError(f"{process_dir}: holds {len(roots)} playbooks; name the one to compare")
    spec = _spec(roots[0])
    if system == "salesforce":
        from ..crm.salesforce import SalesforceClient

        with SalesforceClient.from_env() as client:
            report = d.salesforce_drift(spec, client)
    else:
        from ..crm.hubspot import HubSpotClient

        with HubSpotClient.from_env() as client:
            report = d.hubspot_drift(spec, client)
    click.echo(report.as_json() if fmt == "json" else report.text())
    raise SystemExit(report.exit_code)


@click.group()
def deploy() -> None:
    """Apply an export to a live CRM through its API (create what is missing, update what differs)."""


@deploy.command("hubspot")
@click.argument("process_dir", required=False, default="process", type=click.Path(exists=True, file_okay=False))
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--prune", is_flag=True, help="Also delete properties of the playbook's group and pipeline stages "
              "the playbook does not define (never done without it).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def deploy_hubspot(process_dir: str, dry_run: bool, prune: bool, fmt: str) -> None:
    """The lead property group, properties and pipeline, idempotently.

    Credentials come from HUBSPOT_ACCESS_TOKEN (HUBSPOT_BASE_URL optional). Exit 0 when the portal
    matches (or was made to match), 1 when --dry-run found something to do, 2 on a usage or API error.
    """
    from ..crm.hubspot import HubSpotClient
    from . import deploy as d

    roots = _playbooks(process_dir)
    if len(roots) != 1:
        raise UsageError(f"{process_dir}: holds {len(roots)} playbooks; name the one to deploy")
    spec = _spec(roots[0])
    with HubSpotClient.from_env() as client:
        plan = d.plan_hubspot(spec, client, prune=prune)
        click.echo(plan.as_json() if fmt == "json" else plan.text())
        if dry_run:
            raise SystemExit(1 if plan.steps else 0)
        sent = d.apply(plan, client)
    if fmt == "text" and sent:
        click.echo(f"applied {sent} request{'s' if sent != 1 else ''}")
