"""A build killed at any point leaves the old site or the new one, whole; its leftovers are ignored
by git and removed by the next build (issue 9 item 13). One writer for every tree (issue 17 item 4).

The build runs in a child process that stops itself at a chosen point (before mkdocs,
after mkdocs, right after any rename touching the site, right after the exchange);
the test then kills its whole process group with SIGKILL, as an OOM killer or a
cancelled CI job would, and looks at what is on disk.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from generator import writer
from generator.errors import UsageError
from generator.site.build import build_site

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "history" / "playbook"

CHILD = r"""
import os, signal, sys
from pathlib import Path
point, process_dir, site_dir = sys.argv[1:4]
from generator.site import build, mkdocs
from generator import writer

def stop(name):
    if name == point:
        print("AT " + name, flush=True)
        signal.pause()

real_mkdocs = mkdocs.build
def fake_mkdocs(*a, **k):
    stop("before-mkdocs")
    real_mkdocs(*a, **k)
    stop("after-mkdocs")
mkdocs.build = fake_mkdocs

site = os.path.abspath(site_dir)
for name in ("rename", "replace"):
    real = getattr(os, name)
    def wrapped(src, dst, *a, _real=real, **k):
        _real(src, dst, *a, **k)
        if site in (os.path.abspath(src), os.path.abspath(dst)):
            stop("after-rename")
    setattr(os, name, wrapped)

real_exchange = getattr(writer, "_exchange", None)
if real_exchange is not None:
    def exchange(a, b):
        done = real_exchange(a, b)
        stop("after-exchange")
        return done
    writer._exchange = exchange

build.build_site(Path(process_dir), Path(site_dir), cache_dir=None, contributors=())
print("DONE", flush=True)
"""

POINTS = ("before-mkdocs", "after-mkdocs", "after-rename", "after-exchange")


def tree(path: Path) -> dict[str, str]:
    """Relative path -> content hash of every file under path (following the site link, if any)."""
    base = path.resolve()
    return {p.relative_to(base).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(base.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Two playbooks (old and new) and the complete site of each, built once."""
    base = tmp_path_factory.mktemp("sites")
    old_pb, new_pb = base / "old" / "process", base / "new" / "process"
    shutil.copytree(FIXTURE, old_pb)
    shutil.copytree(FIXTURE, new_pb)
    pb = new_pb / "playbook.yaml"
    text = pb.read_text()
    assert "name: " in text
    pb.write_text(text.replace("name: ", "name: Revised ", 1))
    build_site(old_pb, base / "old" / "site", cache_dir=None, contributors=())
    build_site(new_pb, base / "new" / "site", cache_dir=None, contributors=())
    old, new = tree(base / "old" / "site"), tree(base / "new" / "site")
    assert old != new and "index.html" in old
    return {"old_pb": old_pb, "new_pb": new_pb, "old_site": base / "old" / "site", "old": old, "new": new}


def workdir(tmp_path: Path, sites) -> Path:
    """A repository whose site/ holds the old site; only site/ is ignored, as in a user's repo."""
    work = tmp_path / "repo"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / ".gitignore").write_text("site/\n")
    subprocess.run(["git", "-C", str(work), "add", ".gitignore"], check=True)
    subprocess.run(["git", "-C", str(work), "-c", "user.name=T", "-c", "user.email=t@example.org", "commit",
                    "-q", "--no-gpg-sign", "-m", "Ignore the site"], check=True)
    shutil.copytree(sites["old_site"], work / "site", symlinks=True)
    return work


def run_until(point: str, process_dir: Path, site_dir: Path) -> bool:
    """Run the child build; kill its process group at `point`. True when the point was reached."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, point, str(process_dir), str(site_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line == f"AT {point}":
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            return True
        proc.wait(timeout=120)
        assert line == "DONE", proc.stderr.read() if proc.stderr else line
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def leftovers(work: Path) -> list[str]:
    return sorted(p.name for p in work.iterdir() if p.name.startswith(".playbook-build-"))


def git_status(work: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=work,
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("point", POINTS)
def test_killed_build_leaves_old_or_new_site_whole(point, tmp_path, sites):
    work = workdir(tmp_path, sites)
    reached = run_until(point, sites["new_pb"], work / "site")
    if not reached:
        assert point == "after-rename", f"the build never reached {point}"
        # An exchange (or a symlink flip) renames nothing onto site/: nothing to kill here.
    found = tree(work / "site")
    assert found in (sites["old"], sites["new"]), f"killed at {point}: site/ is neither the old nor the new site"
    # What the killed build left is invisible to git...
    assert git_status(work) == "", git_status(work)
    # ...and the next build removes it and puts the new site in place.
    build_site(sites["new_pb"], work / "site", cache_dir=None, contributors=())
    assert leftovers(work) == []
    assert tree(work / "site") == sites["new"]


def test_readers_always_find_a_whole_site_during_the_swap(tmp_path, sites):
    """A reader polling site/index.html during rebuilds never finds it missing."""
    work = workdir(tmp_path, sites)
    site = work / "site"
    misses, reads, stop = [], [0], threading.Event()

    def poll():
        while not stop.is_set():
            try:
                (site / "index.html").read_bytes()
                reads[0] += 1
            except OSError as exc:
                misses.append(exc)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for pb in (sites["new_pb"], sites["old_pb"], sites["new_pb"]):
            build_site(pb, site, cache_dir=None, contributors=())
    finally:
        stop.set()
        reader.join()
    assert reads[0] > 0 and misses == []
    assert tree(site) == sites["new"]


def test_swap_without_exchange_flips_a_symbolic_link(tmp_path, monkeypatch, sites):
    """Where RENAME_EXCHANGE is missing, site/ becomes a link flipped in one rename."""
    monkeypatch.setattr(writer, "_exchange", lambda a, b: False)
    work = workdir(tmp_path, sites)
    build_site(sites["new_pb"], work / "site", cache_dir=None, contributors=())
    assert (work / "site").is_symlink() and tree(work / "site") == sites["new"]
    build_site(sites["old_pb"], work / "site", cache_dir=None, contributors=())
    assert tree(work / "site") == sites["old"]
    # One link target at a time: the previous one went with the staging folder.
    assert len([p for p in work.iterdir() if p.name.startswith(writer.LINK_PREFIX)]) == 1
    assert leftovers(work) == []


def test_stale_staging_folder_is_removed_but_a_running_one_is_kept(tmp_path):
    with writer.staging(tmp_path) as running:
        stale = tmp_path / ".playbook-build-stale"
        stale.mkdir()
        (stale / writer.LOCK).write_text("")  # its build died: nobody holds the lock
        assert writer.clean_stale(tmp_path) == [stale]
        assert running.is_dir()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("rel", ["../escape.txt", "/etc/passwd", "a/../../b", "", "a//b", "a\\..\\b"])
def test_writer_refuses_paths_outside_the_tree(tmp_path, rel):
    with pytest.raises(UsageError, match="leaves the output folder"):
        writer.replace_tree(tmp_path / "out", {"ok.txt": "fine", rel: "bad"})
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape.txt").exists()
    assert leftovers(tmp_path) == []


def test_writer_is_deterministic_and_replaces_whole(tmp_path):
    out = tmp_path / "out"
    writer.replace_tree(out, {"b/x.sql": "select 1;\n", "MARK": "", "a.txt": b"\x00bytes"}, marker="MARK")
    first = tree(out)
    writer.replace_tree(out, {"MARK": "", "a.txt": b"\x00bytes", "b/x.sql": "select 1;\n"}, marker="MARK")
    assert tree(out) == first
    writer.replace_tree(out, {"MARK": ""}, marker="MARK")
    assert tree(out) == {"MARK": hashlib.sha256(b"").hexdigest()}  # nothing of the old tree stays
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "keep.txt").write_text("theirs")
    with pytest.raises(UsageError, match="holds no MARK"):
        writer.replace_tree(tmp_path / "theirs", {"MARK": ""}, marker="MARK")
    assert (tmp_path / "theirs" / "keep.txt").read_text() == "theirs"


def test_a_site_that_links_elsewhere_is_replaced_where_it_points(tmp_path, sites):
    """site/ -> /srv/www/site (the user's link): the folder it names gets the new site, the link stays."""
    served = tmp_path / "srv" / "site"
    shutil.copytree(sites["old_site"], served)
    (tmp_path / "repo").mkdir()
    os.symlink(served, tmp_path / "repo" / "site")
    build_site(sites["new_pb"], tmp_path / "repo" / "site", cache_dir=None, contributors=())
    assert os.readlink(tmp_path / "repo" / "site") == str(served)
    assert tree(served) == sites["new"] and leftovers(served.parent) == []
