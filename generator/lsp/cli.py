"""`playbook lsp`."""

from __future__ import annotations

import click


@click.command()
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default and only transport).")
def lsp(stdio: bool) -> None:
    """Language server for process files: diagnostics, go to definition, references, completion, hover."""
    from .server import serve

    serve()
