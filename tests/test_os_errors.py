"""OS errors end in one clear line and exit 2, never a traceback (issue 9 item 2).

Disk full and read-only use a small real tmpfs (tests run as root in CI, where
permission bits do not stop root); they skip when mounting is not allowed.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import writer
from generator.cli import run
from generator.errors import EXIT_USAGE, FileSystemError

FIXTURE = Path(__file__).parent / "fixtures" / "export" / "clinic"
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def mount(tmp_path):
    """mount(path, options) mounts a tmpfs there (unmounted after the test); skips when not allowed."""
    mounted: list[Path] = []

    def do(path: Path, options: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        mounted.append(path)
        return path

    yield do
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def build(capsys, site: Path, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["build", str(FIXTURE), "--site-dir", str(site), "--cache-dir", str(site.parent / ".cache"), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def one_clear_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_disk_full_while_writing_docs(tmp_path, mount, capsys):
    disk = mount(tmp_path / "small", "size=96k")
    code, _, err = build(capsys, disk / "site")
    assert code == EXIT_USAGE
    assert "No space left on device" in one_clear_line(err) and "the disk is full" in err
    assert [p.name for p in disk.iterdir() if p.name.startswith(".playbook-build-")] == []  # nothing half-written


def test_read_only_site_parent(tmp_path, mount, capsys):
    ro = mount(tmp_path / "ro", "size=1m")
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
    code, _, err = build(capsys, ro / "site", "--cache-dir", str(tmp_path / "cache"))
    assert code == EXIT_USAGE
    assert "Read-only file system" in one_clear_line(err)


def test_site_is_a_mount_point(tmp_path, mount, capsys):
    site = mount(tmp_path / "site", "size=1m")
    (site / "keep.txt").write_text("served by another process")
    code, _, err = build(capsys, site)
    assert code == EXIT_USAGE
    assert "is a mount point" in one_clear_line(err)
    assert (site / "keep.txt").read_text() == "served by another process"


def test_lost_swap_race(tmp_path, monkeypatch, capsys):
    """Another process removes site/ between the check and the exchange."""
    site = tmp_path / "site"
    assert build(capsys, site)[0] == 0
    real = writer._exchange

    def racing(a, b):
        shutil.rmtree(b)
        return real(a, b)

    monkeypatch.setattr(writer, "_exchange", racing)
    code, _, err = build(capsys, site)
    assert code == EXIT_USAGE
    assert "No such file or directory" in one_clear_line(err) and "run again" in err


def test_any_os_error_maps_to_one_message():
    exc = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/srv/site/index.html")
    error = FileSystemError.from_os_error(exc)
    assert error.exit_code == EXIT_USAGE
    assert error.message().startswith("cannot use /srv/site/index.html: No space left on device (the disk is full")


@pytest.mark.parametrize("kind, prefix", [("salesforce", "/services/data/"), ("hubspot", "/crm/v3/")])
def test_wrong_shape_crm_json_is_a_clear_error(kind, prefix, monkeypatch, capsys, tmp_path):
    """A number where an object belongs, from every endpoint: exit 2, a message per check, no traceback."""
    from fakecrm import FakeCRM
    from generator.export import hubspot, salesforce
    from generator.export.mapping import build_spec
    from generator.export.writer import write_tree
    from generator.validate import load_playbook

    clinic = Path(__file__).parent / "fixtures" / "export" / "clinic"
    spec = build_spec(load_playbook(clinic))
    write_tree(tmp_path / "sf", salesforce.render(spec), "sfdx-project.json")
    write_tree(tmp_path / "hs", hubspot.render(spec), "MANUAL-STEPS.md")
    monkeypatch.setattr("generator.crm.http._default_sleep", lambda s: None)
    with FakeCRM(page_size=2) as fake:
        fake.load_salesforce_export(tmp_path / "sf")
        fake.load_hubspot_export(tmp_path / "hs")
        for k, v in {**fake.sf_env(), **fake.hs_env()}.items():
            monkeypatch.setenv(k, v)
        fake.fail_next(prefix, 200, 42, times=1000)
        capsys.readouterr()
        code = run(["drift", kind, str(clinic)])
        out, err = capsys.readouterr()
    assert code == EXIT_USAGE
    assert "Traceback" not in out + err and "could not read" in out + err
