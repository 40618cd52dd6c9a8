"""`playbook diff | history | release | at | owners`: thin commands over the history part."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import EXIT_PROBLEMS, PlaybookError, UsageError

class Flagged(PlaybookError):
    """`history --strict` found flagged commits."""

    exit_code = EXIT_PROBLEMS


FORMATS = click.Choice(["text", "json", "markdown"])


def _process_dir(value: str | None) -> Path:
    from ..load import playbook_dirs

    root = Path(value) if value else Path("process")
    if not root.is_dir():
        raise UsageError(f"{value}: not a folder" if value else "no process/ folder here; pass --process DIR")
    dirs = playbook_dirs(root)
    if len(dirs) > 1:
        names = ", ".join(str(d) for d in dirs)
        raise UsageError(f"{root} holds several playbooks ({names}); pick one with --process DIR")
    return dirs[0]


process_option = click.option("--process", "process", metavar="DIR", default=None,
                              help="Playbook folder (default: the one under process/).")


@click.command()
@click.argument("rev_a")
@click.argument("rev_b")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@process_option
def diff(rev_a: str, rev_b: str, fmt: str, process: str | None) -> None:
    """Semantic changes to the playbook between two revisions, in business terms."""
    from .changelog import History
    from .diff import diff as semantic_diff
    from .git import check_rev
    from ..text import md_text

    # Refuse unsafe values before anything touches git.
    check_rev(rev_a)
    check_rev(rev_b)
    hist = History(_process_dir(process))
    try:
        sha_a, sha_b = hist.git.resolve(rev_a), hist.git.resolve(rev_b)
        changes = semantic_diff(hist.model(sha_a, rev_a), hist.model(sha_b, rev_b))
    finally:
        hist.close()
    if fmt == "json":
        click.echo(json.dumps({"from": {"rev": rev_a, "commit": sha_a}, "to": {"rev": rev_b, "commit": sha_b},
                               "changes": [c.as_dict() for c in changes]}, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(f"### Changes from {md_text(rev_a)} to {md_text(rev_b)}\n")
        click.echo("\n".join(f"* {md_text(c.text)}" for c in changes) or "No semantic changes.")
    else:
        click.echo("\n".join(c.text for c in changes) or "no semantic changes")


@click.command()
@click.option("--since", metavar="REV", default=None, help="Only commits after REV.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 when any commit is flagged (for CI on pull requests).")
@process_option
def history(since: str | None, fmt: str, strict: bool, process: str | None) -> None:
    """Every commit that touched the playbook: who, when, why, who approved, what changed, flags."""
    from .changelog import History, render
    from .git import check_rev

    if since is not None:
        check_rev(since, "--since revision")
    hist = History(_process_dir(process))
    try:
        shallow = hist.git.is_shallow()
        entries = hist.entries(since)
    finally:
        hist.close()
    click.echo(render(entries, fmt, shallow))
    if shallow:
        click.echo("warning: shallow clone: commits before the cut are missing from this history", err=True)
    flagged = sum(1 for e in entries if e.flags)
    if strict and flagged:
        raise Flagged(f"history --strict: {flagged} commit(s) flagged")


@click.command()
@click.argument("version")
@click.option("--push", "push", is_flag=True, help="Also push the tag and gh-pages to origin.")
@click.option("--remote", default="origin", show_default=True, help="Remote for --push.")
@process_option
def release(version: str, push: bool, remote: str, process: str | None) -> None:
    """Validate, build, tag v{VERSION} and deploy the site for VERSION with mike (gh-pages)."""
    from .release import release as do_release

    result = do_release(_process_dir(process), version, push=push, remote=remote)
    click.echo(f"released {result.version} (tag {result.tag}, effective {result.effective}) "
               f"on {result.branch}; latest -> {result.version}")


@click.command()
@click.argument("date")
@process_option
def at(date: str, process: str | None) -> None:
    """The released version in effect on DATE (YYYY-MM-DD)."""
    from .release import version_at

    rel = version_at(_process_dir(process), date)
    click.echo(f"{rel.version} (tag {rel.tag}, effective {rel.effective}, commit {rel.commit[:12]})")


@click.command()
@click.option("--out", "out", default=".github/CODEOWNERS", show_default=True, metavar="FILE",
              help="Where to write; `-` prints it.")
@process_option
def owners(out: str, process: str | None) -> None:
    """Write CODEOWNERS from the section approvers, so the git host asks the same reviewers."""
    from .owners import codeowners

    text = codeowners(_process_dir(process))
    if out == "-":
        click.echo(text, nl=False)
        return
    from ..writer import write_file

    path = Path(out)
    write_file(path, text)
    click.echo(f"wrote {path}")
