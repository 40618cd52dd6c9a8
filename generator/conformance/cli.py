"""`playbook conform`, `playbook demo-data` and `playbook export conformance`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from ..writer import write_file


def _load(playbook: str):
    from ..load import playbook_dirs
    from ..validate import load_playbook

    dirs = playbook_dirs(Path(playbook))
    if len(dirs) != 1:
        names = ", ".join(d.name for d in dirs)
        raise UsageError(f"{playbook} holds several playbooks ({names}): pass --playbook with one of them")
    return load_playbook(dirs[0])


def _as_of(text: str | None, default: int | None = None) -> int | None:
    from .run import parse_time

    if text is None:
        return default
    try:
        return parse_time(text)
    except ValueError:
        raise UsageError(f"--as-of: expected an ISO date or date-time like 2026-03-01T12:00:00Z, got {text!r}") from None


def _tables(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    from .sources import parse_table_map

    return parse_table_map(text)


PLAYBOOK_OPT = click.option("--playbook", default="process", show_default=True,
                            type=click.Path(exists=True, file_okay=False),
                            help="Playbook folder (or a process folder holding exactly one playbook).")


@click.command()
@click.option("--source", "source_spec", required=True,
              help="Folder of CSV/Parquet exports, postgresql://..., spark, salesforce or hubspot.")
@PLAYBOOK_OPT
@click.option("--as-of", "as_of", default=None, help="Clock of the run (UTC ISO time); default: now.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the JSON report here.")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False), help="Write a Markdown report here.")
@click.option("--ids", is_flag=True, help="Also list violating record ids (never field values).")
@click.option("--tables", "tables_text", default=None,
              help="name=location,... to override where logical tables are read from.")
@click.option("--spark-tables", "spark_tables", default=None, help="name=path,... for --source spark.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False), default=None,
              help="Append this run (rule counts only) to the results history in DIR; see `playbook trend`.")
@click.option("--fail-on-no-data", is_flag=True, default=False,
              help="Exit 1 when a checkable rule found 0 rows to check (default: reported as no_data, exit unchanged).")
@click.pass_context
def conform(ctx: click.Context, source_spec: str, playbook: str, as_of: str | None, json_out: str | None,
            junit_out: str | None, md_out: str | None, ids: bool, tables_text: str | None,
            spark_tables: str | None, record_dir: str | None, fail_on_no_data: bool) -> None:
    """Check CRM data against the playbook. Exit 0: all rules within threshold; 1: a rule fails
    (or, with --fail-on-no-data, a rule had no rows to check); 2: the source could not be read completely."""
    import time

    from rich.console import Console

    from . import report
    from .run import run_checks
    from .sources import open_source

    model = _load(playbook)
    clock = _as_of(as_of, int(time.time()))
    import sys

    from ..text import terminal_safe

    # The spinner's cursor codes are ours: it writes past the output sanitiser, its text through it.
    err = Console(stderr=True, file=getattr(sys.stderr, "raw", sys.stderr))
    tables = _tables(spark_tables if source_spec.strip().lower() == "spark" and spark_tables else tables_text)
    # Every source gets the model: folders are then read with the contract's types and checked.
    options = {"model": model}
    with err.status("opening source…") as status:
        def progress(message: str, done=None, total=None) -> None:
            # messages come from sources and name tables/pages, never values
            count = f" {done}/{total}" if done is not None and total else (f" {done}" if done is not None else "")
            status.update(terminal_safe(f"{message}{count}"))

        source = open_source(source_spec, tables=tables, progress=progress, **options)
        try:
            result = run_checks(model, source, as_of=clock, with_ids=ids, progress=progress)
        finally:
            source.close()
    result.fail_on_no_data = fail_on_no_data

    # CI logs are not terminals: a fixed wide table, so counts are never cut short.
    report.print_table(result, Console() if sys.stdout.isatty() else Console(width=160))
    for path, text in ((json_out, report.to_json), (junit_out, report.to_junit), (md_out, report.to_markdown)):
        if path:
            write_file(Path(path), text(result))
    if record_dir:
        from ..evidence.results import record_result  # the results history is the evidence part's

        click.echo(f"recorded the run in {record_result(record_dir, result, model, playbook, source_spec)}", err=True)
    ctx.exit(result.exit_code)


@click.command("demo-data")
@click.option("--out", required=True, help="Folder to write, or a postgresql://... URL.")
@click.option("--leads", default=2000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--activities-per-lead", default=3.0, show_default=True, type=click.FloatRange(0, 50),
              help="Average outreach activities per lead.")
@click.option("--as-of", "as_of", default=None,
              help="Clock the data is generated for (default: 30 days after the playbook took effect).")
@PLAYBOOK_OPT
def demo_data(out: str, leads: int, seed: int, fmt: str, activities_per_lead: float, as_of: str | None,
              playbook: str) -> None:
    """Write a synthetic CRM export with a known number of violations of every rule (truth.json)."""
    from .demo import default_as_of, write_demo
    from .run import iso
    from ..redact import redact_url

    model = _load(playbook)
    clock = _as_of(as_of, default_as_of(model))
    truth = write_demo(model, out, leads=leads, seed=seed, as_of=clock, fmt=fmt,
                       activities_per_lead=activities_per_lead)
    where = redact_url(out) if "://" in out else out
    click.echo(f"wrote {leads} leads with {sum(truth.values())} known violations (truth.json) of {len(truth)} rules "
               f"to {where}; check with --as-of {iso(clock)}")
    if "://" in out:
        import json

        click.echo(json.dumps(truth, indent=2, sort_keys=True))


@click.command("conformance")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the SQL files.")
@click.argument("process_dir", required=False, default="process", type=click.Path(exists=True, file_okay=False))
def export_conformance(out: str, process_dir: str) -> None:
    """Write the checks as plain SQL per dialect (a dbt project: `playbook export dbt`)."""
    from ..load import playbook_dirs
    from ..validate import load_playbook
    from ..writer import replace_tree
    from .export import render_export

    roots = playbook_dirs(Path(process_dir))
    rendered = [(root, render_export(load_playbook(root))) for root in roots]
    for root, files in rendered:
        target = Path(out) if len(roots) == 1 else Path(out) / root.name
        replace_tree(target, files, marker="DATA-CONTRACT.md", what="export")
        click.echo(f"wrote {len(files)} files to {target}")
