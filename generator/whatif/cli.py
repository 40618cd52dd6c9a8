"""`playbook whatif BASE HEAD --source SPEC`: what a playbook change would do to past leads."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from ..errors import EXIT_PROBLEMS, PlaybookError, UsageError

_FAIL_ON = re.compile(r"^\s*([a-z-]+)\s*>\s*(\d+)\s*$")


class LimitExceeded(PlaybookError):
    """A `--fail-on` limit was exceeded (exit 1, for CI)."""

    exit_code = EXIT_PROBLEMS


def parse_fail_on(values: tuple[str, ...]) -> list[tuple[str, int]]:
    """`moved>100` -> [("moved", 100)]; a clear usage error for anything else."""
    from .run import METRICS

    out = []
    for v in values:
        m = _FAIL_ON.match(v)
        if not m or m.group(1) not in METRICS:
            raise UsageError(f"--fail-on {v!r}: expected METRIC>N with METRIC one of {', '.join(METRICS)}")
        out.append((m.group(1), int(m.group(2))))
    return out


def _write(path: str, text: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)  # a reader never sees half a report


def _clock(text: str) -> int:
    from ..conformance.run import parse_time

    try:
        return parse_time(text)
    except ValueError:
        raise UsageError(f"--as-of: expected an ISO date or date-time like 2026-03-01T12:00:00Z, got {text!r}") from None


def _process_dir(value: str | None) -> Path:
    """The one playbook folder to compare (`--process`, else the one under process/)."""
    from ..load import playbook_dirs

    root = Path(value) if value else Path("process")
    if not root.is_dir():
        raise UsageError(f"{value}: not a folder" if value else "no process/ folder here; pass --process DIR")
    dirs = playbook_dirs(root)
    if len(dirs) != 1:
        names = ", ".join(str(d) for d in dirs) or "none"
        raise UsageError(f"{root} holds {len(dirs)} playbooks ({names}); pick one with --process DIR")
    return dirs[0]


@click.command()
@click.argument("base")
@click.argument("head")
@click.option("--source", "source_spec", required=True,
              help="Data snapshot: folder of CSV/Parquet exports, postgresql://..., spark, salesforce or hubspot.")
@click.option("--process", "process", metavar="DIR", default=None,
              help="Playbook folder (default: the one under process/).")
@click.option("--as-of", "as_of", default=None, help="Clock for SLAs (UTC ISO time); default: now.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the JSON result here.")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False), help="Write the pull-request comment here.")
@click.option("--ids", is_flag=True, help="Also list record ids of leads that move or change (never values).")
@click.option("--fail-on", "fail_on", multiple=True, metavar="METRIC>N",
              help="Exit 1 when a total exceeds N: moved, band-changes, newly-violating, sla-breaches-added, "
                   "violations-added (repeatable).")
@click.option("--tables", "tables_text", default=None,
              help="name=location,... to override where logical tables are read from.")
@click.option("--spark-tables", "spark_tables", default=None, help="name=path,... for --source spark.")
@click.pass_context
def whatif(ctx: click.Context, base: str, head: str, source_spec: str, process: str | None, as_of: str | None,
           json_out: str | None, md_out: str | None, ids: bool, fail_on: tuple[str, ...], tables_text: str | None,
           spark_tables: str | None) -> None:
    """Replay BASE's and HEAD's playbook on one data snapshot: leads that would move queue or band,
    newly violate or pass a stage's requirements, SLA breaches, every rule side by side.
    Exit 0; 1 when a --fail-on limit is exceeded; 2 when the source could not be read completely."""
    import time

    from ..conformance.sources import open_source, parse_table_map
    from . import report
    from .plan import union_model
    from .revisions import load_pair
    from .run import run_whatif

    limits = parse_fail_on(fail_on)
    clock = _clock(as_of) if as_of is not None else int(time.time())
    rev_b, rev_h = load_pair(_process_dir(process), base, head)
    spec = source_spec.strip().lower()
    table_text = spark_tables if spec == "spark" and spark_tables else tables_text
    tables = parse_table_map(table_text) if table_text else None
    # CRM pulls fetch the fields of both versions' data dictionaries.
    options = {"model": union_model(rev_b.model, rev_h.model)} if spec in ("salesforce", "hubspot") else {}
    source = open_source(source_spec, tables=tables, **options)
    try:
        result = run_whatif(rev_b, rev_h, source, as_of=clock, with_ids=ids)
    finally:
        source.close()
    for path, render in ((json_out, report.to_json), (md_out, report.to_markdown)):
        if path:
            _write(path, render(result))
    sys.stdout.write(report.to_text(result))
    if not result.complete:
        click.echo("the source was read incompletely: counts are not a result", err=True)
        ctx.exit(2)
    over = [(m, n, result.metric(m)) for m, n in limits if result.metric(m) > n]
    if over:
        raise LimitExceeded("whatif --fail-on: " + "; ".join(f"{m} = {v:,} > {n:,}" for m, n, v in over))
    ctx.exit(0)
