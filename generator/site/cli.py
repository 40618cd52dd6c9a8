"""`playbook build` and `playbook serve`."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import click

from ..errors import PlaybookError

SETTLE = 0.05
SETTLE_MAX = 2.0


@click.command()
@click.argument("process_dir", type=click.Path(path_type=Path), default=Path("process"))
@click.option("--site-dir", type=click.Path(path_type=Path), default=Path("site"), show_default=True,
              help="Where the built site goes (replaced whole, only on success).")
@click.option("--docs-dir", type=click.Path(path_type=Path), default=None,
              help="Also keep the generated Markdown and SVG here (for review or other builders).")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=Path(".cache/diagrams"), show_default=True,
              help="Rendered diagrams, keyed by content hash.")
@click.option("--results", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="Results history (`playbook conform --record DIR`): show recorded runs, not only demo data.")
def build(process_dir: Path, site_dir: Path, docs_dir: Path | None, cache_dir: Path, results: Path | None) -> None:
    """Build the playbook site (Markdown, diagrams, mkdocs) into SITE_DIR."""
    from .build import build_site

    report = build_site(process_dir, site_dir, docs_dir=docs_dir, cache_dir=cache_dir,
                        options={"results": results} if results else None)
    t = report.timings
    click.echo(f"built {site_dir}: {report.pages} pages, {report.diagrams} diagrams "
               f"(render {t.get('render', 0):.2f}s, diagrams {t.get('diagrams', 0):.2f}s, "
               f"mkdocs {t.get('mkdocs', 0):.2f}s)")


@click.command()
@click.argument("process_dir", type=click.Path(path_type=Path), default=Path("process"))
@click.option("--site-dir", type=click.Path(path_type=Path), default=Path("site"), show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=Path(".cache/diagrams"), show_default=True)
@click.option("--templates-dir", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None,
              help="Page templates to render with and watch (default: the project's templates/).")
def serve(process_dir: Path, site_dir: Path, port: int, cache_dir: Path, templates_dir: Path | None) -> None:
    """Build, serve on localhost, and rebuild when process files or templates change."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    from .build import PROJECT_ROOT
    from .incremental import Preview
    from .render import TEMPLATES_DIR
    from .serve import start_server

    # The docs tree the served site was built from lives for the session: later builds rebuild
    # only the pages whose rendered text changed (generator/site/incremental.py).
    session = tempfile.TemporaryDirectory(prefix="playbook-serve-")
    templates = (templates_dir or TEMPLATES_DIR).resolve()
    preview = Preview(process_dir, site_dir, Path(session.name), cache_dir, templates_dir=templates)

    def rebuild() -> None:
        try:
            t0 = time.perf_counter()
            outcome = preview.rebuild()
            took = time.perf_counter() - t0
            if outcome.kind == "incremental":
                click.echo(f"rebuilt {len(outcome.changed)} of {outcome.pages} pages' files in {took:.2f}s: "
                           + ", ".join(outcome.changed))
            elif outcome.kind == "unchanged":
                click.echo("no page changed")
            else:
                click.echo(f"rebuilt: {outcome.pages} pages in {took:.2f}s")
        except PlaybookError as exc:
            # Keep serving the last good site; show what is wrong.
            click.echo(exc.message(), err=True)

    rebuild()
    server = start_server(site_dir, port)
    click.echo(f"serving {site_dir} on http://127.0.0.1:{server.server_port}/ (Ctrl+C to stop)")

    changed = threading.Event()

    config = (PROJECT_ROOT / "mkdocs.yml").resolve()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                return
            paths = [Path(str(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
            # Only process YAML, templates and the site config count; the root folder is
            # watched for mkdocs.yml alone (other files there change all the time).
            if any(p.suffix in (".yaml", ".yml") or templates in p.resolve().parents or p.resolve() == config
                   for p in paths):
                changed.set()

    observer = Observer()
    observer.schedule(Handler(), str(Path(process_dir)), recursive=True)
    observer.schedule(Handler(), str(templates), recursive=True)
    observer.schedule(Handler(), str(config.parent), recursive=False)
    observer.start()
    try:
        while True:
            if changed.wait(0.5):
                # A save is a burst of events (write, rename, chmod) within milliseconds: build once
                # the files have been quiet for SETTLE seconds, not a fixed wait after the first event
                # (that wait was a fifth of the time to show a change). A file written without pause
                # still gets a build every SETTLE_MAX seconds.
                first = time.monotonic()
                changed.clear()
                while changed.wait(SETTLE) and time.monotonic() - first < SETTLE_MAX:
                    changed.clear()
                changed.clear()
                rebuild()
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join()
        server.shutdown()
        preview.close()
        session.cleanup()
