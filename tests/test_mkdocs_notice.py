"""mkdocs-material's own end-of-life notice (Zensical as its successor) reaches the user once per build,
although mkdocs runs with --quiet and its output is captured. (The Zensical smoke build stays in
tests/test_site.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.site import mkdocs

HERE = Path(__file__).resolve().parent
NOTICE = "Material for MkDocs reaches end of life"


@pytest.mark.slow
def test_playbook_build_shows_the_theme_notice_once(tmp_path):
    exe = Path(sys.executable).parent / "playbook"
    proc = subprocess.run([str(exe), "build", str(HERE / "fixtures" / "site" / "clinic"), "--site-dir",
                           str(tmp_path / "site"), "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count(NOTICE) == 1
    assert "Zensical" in proc.stderr and "\x1b[" not in proc.stderr  # plain text, colours removed


def test_notice_is_passed_on_once_per_process(capsys, monkeypatch):
    monkeypatch.setattr(mkdocs, "_NOTICE_SHOWN", set())
    raw = ("\n\x1b[33m │  \x1b[1mMaterial for MkDocs reaches end of life on May 5, 2027.\x1b[0m\n"
           "\x1b[33m │\x1b[0m  Zensical is its maintained successor, built by the same team.\n\n"
           "\x1b[90m  To disable this warning, set NO_MKDOCS_2_WARNING=1.\x1b[0m\nWARNING - other\n")
    mkdocs.show_notice_once(raw)
    mkdocs.show_notice_once(raw)
    mkdocs.show_notice_once("nothing to see")
    err = capsys.readouterr().err
    assert err.count(NOTICE) == 1 and "WARNING - other" not in err and "\x1b" not in err
