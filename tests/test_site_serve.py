"""`playbook serve`: builds, serves on loopback, rebuilds when a process file changes."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "fixtures" / "site" / "clinic"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.read().decode("utf-8")
    except OSError:
        return None


def _wait_for(predicate, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return None


def test_serve_rebuilds_on_change(tmp_path):
    playbook = tmp_path / "pb"
    shutil.copytree(FIXTURE, playbook)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", str(playbook), "--site-dir", str(tmp_path / "site"),
         "--port", str(port), "--cache-dir", str(tmp_path / "cache")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:  # serve's output, line by line as it comes
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        url = f"http://127.0.0.1:{port}/steps/book/"
        first = _wait_for(lambda: _get(url))
        assert first and "Book the appointment" in first
        steps = playbook / "steps.yaml"
        steps.write_text(steps.read_text().replace("name: Book the appointment", "name: Book the first visit"))
        assert _wait_for(lambda: "Book the first visit" in (_get(url) or ""))
        # A broken edit keeps the last good site and says what is wrong.
        steps.write_text(steps.read_text().replace("owner: scheduler", "owner: nobody"))
        # Wait for serve to report the problem (not a fixed sleep), then check the old site still serves.
        assert _wait_for(lambda: any("nobody" in line for line in lines)), "".join(lines)
        assert "Book the first visit" in (_get(url) or "")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
    out = "".join(lines)
    assert "nobody" in out and "steps.yaml" in out
    assert "Traceback" not in out
