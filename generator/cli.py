"""The `playbook` command: a thin layer that maps commands to functions.

Commands live beside the code they drive (`generator/<part>/cli.py`) and are
imported only when called, so `playbook validate` never pays for Spark.
Every PlaybookError becomes a message on stderr and its exit code; bad input
never shows a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from . import __version__
from .errors import EXIT_USAGE, FileSystemError, PlaybookError
from .redact import redact

# command name -> "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "validate": "generator.validate.cli:validate",
    "schema": "generator.validate.cli:schema",
    "rules": "generator.validate.cli:rules",
    "build": "generator.site.cli:build",
    "serve": "generator.site.cli:serve",
    "diff": "generator.history.cli:diff",
    "history": "generator.history.cli:history",
    "release": "generator.history.cli:release",
    "at": "generator.history.cli:at",
    "owners": "generator.history.cli:owners",
    "export": "generator.export.cli:export",
    "drift": "generator.export.cli:drift",
    "deploy": "generator.export.cli:deploy",
    "conform": "generator.conformance.cli:conform",
    "demo-data": "generator.conformance.cli:demo_data",
    "trend": "generator.evidence.cli:trend",
    "audit-pack": "generator.evidence.cli:audit_pack",
    "init": "generator.init.cli:init",
    "whatif": "generator.whatif.cli:whatif",
    "lsp": "generator.lsp.cli:lsp",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="playbook")
def main() -> None:
    """Healthcare lead-management process as code: validate, build, export, check."""


def run(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map errors to exit codes.

    Everything the command prints goes through one sanitiser (generator/text.py):
    control characters from commit messages, process text or CRM answers are shown
    as escapes, never sent to the terminal, whether it is a terminal or a pipe.
    """
    from .text import SafeStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        return _run(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdout, sys.stderr = saved


def _run(argv: list[str] | None) -> int:
    try:
        # Without standalone mode click returns ctx.exit(code)'s code instead of raising.
        result = main.main(args=argv, prog_name="playbook", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_USAGE
    except PlaybookError as exc:
        # The last line of defence: no message leaves without the one redactor.
        click.echo(redact(exc.message()), err=True)
        return exc.exit_code
    except BrokenPipeError:  # `playbook history | head`: the reader has gone, nothing to say
        return 141
    except OSError as exc:  # disk full, read-only, a mount point, a lost race: one line, exit 2
        error = FileSystemError.from_os_error(exc)
        click.echo(redact(error.message()), err=True)
        return error.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def entry() -> None:
    sys.exit(run())
