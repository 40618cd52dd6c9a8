"""A local static server for the built site (loopback only)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

from ..errors import UsageError


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - signature from the base class
        pass


def start_server(site_dir: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """Serve site_dir on 127.0.0.1 in a daemon thread; port 0 picks a free one.

    The directory is looked up per request, so a rebuild's swap is served at once.
    """
    handler = functools.partial(_Quiet, directory=str(Path(site_dir).resolve()))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise UsageError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}; pick another --port") from exc
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
