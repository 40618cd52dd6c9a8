"""No command can drive the reader's terminal (issue 9 items 11 and 12).

Commit messages, process text and file names are data: every control character in
them reaches stdout/stderr as an escape (`\\x1b`), through the one sanitiser all
output passes (generator/text.py), piped or not. GitHub workflow commands escape
their values as the runner documents.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import run
from generator.errors import Problem, format_problems
from generator.text import SafeStream, terminal_safe
from test_history import BEN, FIXTURE, PB, Repo

ROOT = Path(__file__).resolve().parents[1]
OSC52 = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"  # write the clipboard
CLEAR = "\x1b[2J\x1b[H"
HIDDEN = "\x1b[8m"
C1_CSI = "\x9b2J"
BIDI = "\u202e"
HOSTILE = (OSC52, CLEAR, HIDDEN, C1_CSI, BIDI, "\r", "\x07", "\x7f")


def raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f
            or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]


@pytest.fixture
def hostile_repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    shutil.copytree(FIXTURE, r.root / PB)
    r.commit("Create the clinic playbook", reason="First written version", approved=[BEN])
    r.edit("stages.yaml", "guidance: Check the form is complete.",
           'guidance: "Check\\e[2J\\e]52;c;ZXZpbA==\\a the form\\e[8m hidden \\x9b text \\u202e"')
    r.commit("Tighten guidance" + CLEAR + OSC52, reason="Review" + HIDDEN + "x", approved=[BEN])
    return r


def cli(monkeypatch, capsys, root: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.chdir(root)
    capsys.readouterr()
    code = run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [
    ("history", "--process", PB),
    ("history", "--process", PB, "--format", "markdown"),
    ("diff", "HEAD~1", "HEAD", "--process", PB),
    ("diff", "HEAD~1", "HEAD", "--process", PB, "--format", "markdown"),
    ("validate", PB),
])
def test_history_diff_validate_print_no_control_characters(hostile_repo, monkeypatch, capsys, argv):
    code, out, err = cli(monkeypatch, capsys, hostile_repo.root, *argv)
    assert raw_controls(out + err) == []
    if argv[0] != "validate":
        assert code == 0 and "\\x1b" in out  # shown, not dropped silently


def test_validate_reports_control_characters_in_process_text(hostile_repo, monkeypatch, capsys):
    code, out, _ = cli(monkeypatch, capsys, hostile_repo.root, "validate", PB)
    assert code == 1 and "error[R030]: text contains the control character U+001B" in out
    assert "stages.yaml:7:" in out


def test_piped_history_in_a_real_process(hostile_repo):
    """The installed command, stdout a pipe: what `playbook history | less -R` would get."""
    proc = subprocess.run([sys.executable, "-m", "generator", "history", "--process", PB], cwd=hostile_repo.root,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                               "HOME": str(hostile_repo.root.parent)})
    assert proc.returncode == 0, proc.stderr
    assert raw_controls(proc.stdout + proc.stderr) == [] and "Tighten guidance\\x1b" in proc.stdout


def test_sanitiser_escapes_every_control_but_tab_and_newline():
    for c in [chr(i) for i in range(32)] + ["\x7f"] + [chr(i) for i in range(0x80, 0xA0)]:
        expected = c if c in "\n\t" else f"\\x{ord(c):02x}"
        assert terminal_safe(f"a{c}b") == f"a{expected}b"
    assert terminal_safe("\u202e\u2066") == "\\u202e\\u2066"
    assert terminal_safe("naïve – ok ✓") == "naïve – ok ✓"


def test_colour_passes_to_a_terminal_but_concealed_text_does_not():
    class Tty:
        def __init__(self):
            self.parts = []

        def write(self, s):
            self.parts.append(s)

        def isatty(self):
            return True

    tty = Tty()
    stream = SafeStream(tty)
    stream.write("\x1b[1;31mred\x1b[0m" + HIDDEN + "x" + CLEAR + OSC52)
    assert "".join(tty.parts) == "\x1b[1;31mred\x1b[0m\\x1b[8mx\\x1b[2J\\x1b[H\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07"
    piped = Tty()
    piped.isatty = lambda: False
    SafeStream(piped).write("\x1b[1mbold\x1b[0m")
    assert "".join(piped.parts) == "\\x1b[1mbold\\x1b[0m"


def test_github_format_escapes_values_as_documented():
    p = Problem("process/a\n::error file=x::injected,b:c.yaml", 3, 4, "R001", "50% off\r\nnext line", hint="h")
    line = format_problems([p], "github")
    assert line.count("\n") == 0 and "::error file=x" not in line
    assert line == ("::error file=process/a%0A%3A%3Aerror file=x%3A%3Ainjected%2Cb%3Ac.yaml,line=3,col=4,"
                    "title=R001::50%25 off%0D%0Anext line (h)")


def test_github_format_with_a_newline_in_a_file_name(tmp_path, monkeypatch, capsys):
    pb = tmp_path / "process" / "clinic"
    shutil.copytree(FIXTURE, pb)
    (pb / "evil\n::error file=README.md::pwned.yaml").write_text("stagez: []\n")
    code, out, _ = cli(monkeypatch, capsys, tmp_path, "validate", "process/clinic", "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert lines and all(line.startswith("::") for line in lines)
    assert not any(line.startswith("::error file=README.md") for line in lines)
    assert any("evil%0A%3A%3Aerror file=README.md%3A%3Apwned.yaml" in line for line in lines)
