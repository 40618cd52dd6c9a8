"""`playbook trend` and `playbook audit-pack`: thin commands over the evidence part."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError


@click.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option("--rule", "rule", default=None, metavar="ID", help="One rule's runs, oldest first.")
@click.option("--playbook", "playbook", default=None, metavar="ID", help="Only runs of this playbook id.")
def trend(results_dir: Path, rule: str | None, playbook: str | None) -> None:
    """Print the recorded conformance series from a results history (see `conform --record`)."""
    from .results import load
    from .trend import rule_ids, trend_text

    runs = load(results_dir, playbook)
    if rule is not None and rule not in rule_ids(runs):
        known = ", ".join(rule_ids(runs)[:8])
        raise UsageError(f"--rule {rule}: no recorded run has this rule" + (f" (rules: {known}, ...)" if known else ""))
    click.echo(trend_text(runs, rule))


@click.command("audit-pack")
@click.option("--date", "day", required=True, metavar="YYYY-MM-DD", help="The date the auditor asks about.")
@click.option("--results", "results_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Results history recorded with `playbook conform --record DIR`.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The HTML pack to write.")
@click.option("--pdf", "pdf", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also print the pack to this PDF with headless Chromium.")
@click.option("--process", "process", metavar="DIR", default=None,
              help="Playbook folder (default: the one under process/).")
def audit_pack(day: str, results_dir: Path | None, out: Path, pdf: Path | None, process: str | None) -> None:
    """One self-contained HTML (and PDF) file: the version in effect on DATE, its changes and approvals,
    the conformance runs recorded while it was in effect, and a manifest of file hashes."""
    from ..history.cli import _process_dir
    from .pack import build_pack, pack_files, print_pdf, render_html, write_file

    import hashlib

    pack = build_pack(_process_dir(process), day, results_dir)
    html = render_html(pack).encode("utf-8")
    write_file(out, html)
    if pdf is not None:
        print_pdf(out, pdf)
    n = pack_files(pack)
    click.echo(f"wrote {out}{f' and {pdf}' if pdf else ''}: version {pack.version} (effective {pack.effective}), "
               f"{n['entries']} change(s), {n['runs']} conformance run(s), {n['files']} file(s) in the manifest; "
               f"sha256 of the HTML {hashlib.sha256(html).hexdigest()}")
