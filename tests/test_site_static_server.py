"""The preview's static server (generator/site/serve.py): quiet when a browser hangs up, one line otherwise."""

from __future__ import annotations

import socket
import struct
import sys
import time

from generator.site.serve import start_server


def _hang_up_mid_page(port: int, path: str) -> None:
    """Ask for a page and reset the connection before reading it, as a browser moving on does."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sock.recv(1)  # the server is writing the answer now
        # Linger 0: close sends a reset, so the server's next write fails (EPIPE or ECONNRESET).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_client_that_hangs_up_mid_page_leaves_no_traceback(tmp_path, capfd):
    (tmp_path / "big.html").write_bytes(b"x" * (32 * 1024 * 1024))  # far more than the socket buffers hold
    server = start_server(tmp_path, 0)
    try:
        for _ in range(3):
            _hang_up_mid_page(server.server_port, "/big.html")
        time.sleep(0.5)  # the handler threads meet the reset
    finally:
        server.shutdown()
        server.server_close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err


def test_any_other_request_failure_is_one_line_without_traceback(tmp_path, capfd):
    server = start_server(tmp_path, 0)
    try:
        try:
            raise ValueError("bad header zqvk")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError:
            server.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.shutdown()
        server.server_close()
    err = capfd.readouterr().err
    assert err.strip().splitlines() == ["serve: a request failed (ValueError: bad header zqvk)"]
    assert sys.exc_info() == (None, None, None)
