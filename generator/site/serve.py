"""A local static server for the built site (loopback only)."""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

from ..errors import UsageError


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - signature from the base class
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A browser that moves on mid-page closes its connection: nothing went wrong. Anything else
        # is one line, not socketserver's traceback on the author's terminal.
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            print(f"serve: a request failed ({type(exc).__name__}: {exc})", file=sys.stderr)


def start_server(site_dir: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """Serve site_dir on 127.0.0.1 in a daemon thread; port 0 picks a free one.

    The directory is looked up per request, so a rebuild's swap is served at once.
    """
    handler = functools.partial(_Quiet, directory=str(Path(site_dir).resolve()))
    try:
        server = _Server(("127.0.0.1", port), handler)
    except OSError as exc:
        raise UsageError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}; pick another --port") from exc
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
