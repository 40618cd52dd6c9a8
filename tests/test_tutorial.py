"""README's "Your first playbook", run as written: every `sh` block in order, in a temporary folder.

A `text` block right after a `sh` block lists lines its output must contain; `# exits N`
on a block's last command says the block must exit N (default 0). `playbook serve` is
started, fetched over HTTP and stopped. The `text` block after `<!-- editor -->` is what
the editor shows: it is checked through a real `playbook lsp` session.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lsp_session import Session

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def tutorial_blocks() -> list[tuple[str, str, bool]]:
    """(language, text, is the editor's) of every fenced block of the tutorial section."""
    text = README.read_text()
    start = text.index("\n## Your first playbook\n")
    end = text.index("\n## ", start + 1)
    section = text[start:end]
    out = []
    for m in re.finditer(r"(<!-- editor -->\n)?```(\w+)\n(.*?)\n```", section, re.S):
        out.append((m.group(2), m.group(3), bool(m.group(1))))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Sam Author", GIT_AUTHOR_EMAIL="sam@example.org",
               GIT_COMMITTER_NAME="Sam Author", GIT_COMMITTER_EMAIL="sam@example.org", COLUMNS="200")
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def _serve(cmd: str, cwd: Path, env: dict[str, str]) -> str:
    """Start `playbook serve` on a free port, return the home page, stop it with Ctrl+C."""
    port = _free_port()
    cmd = re.sub(r"--port \d+", f"--port {port}", cmd)
    proc = subprocess.Popen(["bash", "-c", f"exec {cmd}"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    return r.read().decode()
            except OSError:
                time.sleep(0.5)
        raise AssertionError("playbook serve did not answer")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _editor_check(expected: str, cwd: Path) -> None:
    """The diagnostic `CODE: message` is shown by `playbook lsp` on the mistyped value."""
    code, message = expected.split(": ", 1)
    stages = cwd / "process" / "cardiology" / "stages.yaml"

    async def main() -> None:
        s = Session(cwd)
        await s.start()
        try:
            s.open(stages)
            await s.sync(stages)
            found = [d for d in s.diagnostics[stages.resolve()] if d.code == code and d.message == message]
            assert found, [f"{d.code}: {d.message}" for d in s.diagnostics[stages.resolve()]]
            r = found[0].range
            line = s.texts[stages.resolve()].split("\n")[r.start.line]
            assert line[r.start.character:r.end.character] == "bookd"
        finally:
            await s.stop()

    asyncio.run(main())


@pytest.mark.slow
def test_readme_tutorial_runs_as_written(tmp_path):
    blocks = tutorial_blocks()
    assert sum(lang == "sh" for lang, _, _ in blocks) >= 7
    env = _env(tmp_path)
    cwd = tmp_path
    cwd_file = tmp_path / ".cwd"
    last_output = None
    for lang, text, editor in blocks:
        if lang == "sh":
            if text.startswith("playbook serve"):
                page = _serve(text.strip(), cwd, env)
                assert "Acme Heart - lead management" in page
                last_output = None
                continue
            expected = 0
            m = re.search(r"#\s*exits (\d+)\s*$", text.strip())
            if m:
                expected = int(m.group(1))
            script = f"set -e -o pipefail\ntrap 'pwd > {cwd_file}' EXIT\n{text}\n"
            proc = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=600)
            last_output = proc.stdout + proc.stderr
            assert proc.returncode == expected, f"{text}\n-> exit {proc.returncode}\n{last_output}"
            assert "Traceback" not in last_output
            cwd = Path(cwd_file.read_text().strip())
        elif lang == "text" and editor:
            _editor_check(text.strip(), cwd)
        elif lang == "text":
            assert last_output is not None, f"an output block follows no command: {text!r}"
            for line in text.splitlines():
                assert line.strip() in last_output, f"README shows {line!r}; the command printed:\n{last_output}"
    # What the last steps say happened, happened.
    assert cwd == tmp_path / "acme-playbooks"
    changelog = (cwd / "site" / "history" / "changelog" / "index.html").read_text()
    assert "2 business hours" in changelog
    assert (cwd / "demo" / "report.json").is_file()
    tags = subprocess.run(["git", "tag"], cwd=cwd, env=env, capture_output=True, text=True).stdout.split()
    assert tags == ["v0.1"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=cwd, env=env, capture_output=True, text=True)
    assert status.stdout == ""  # .gitignore keeps the site, caches and demo data out


def test_tutorial_is_found_and_parsed():
    """Guards the parser: a renamed section or a changed fence would skip the whole tutorial."""
    blocks = tutorial_blocks()
    langs = [lang for lang, _, _ in blocks]
    assert langs.count("sh") >= 7 and langs.count("text") >= 5
    assert sum(editor for _, _, editor in blocks) == 1
    assert any("playbook init" in text for _, text, _ in blocks)
