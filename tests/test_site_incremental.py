"""Incremental preview (`playbook serve`): only changed pages are rebuilt, and the result is a full build's."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.site.build import build_site
from generator.site.incremental import JobTimeout, Preview, merge_search_index
from generator.site.render import TEMPLATES_DIR
from test_site_serve import _free_port, _get, _wait_for

FIXTURE = Path(__file__).parent / "fixtures" / "site" / "clinic"
STEP_PAGE = Path("steps") / "book" / "index.html"
OTHER_PAGE = Path("steps") / "close" / "index.html"


def _stamps(site: Path) -> dict[str, tuple[int, int]]:
    """Every file's (inode, mtime in ns): a rewritten file shows in one or the other."""
    return {p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in site.rglob("*") if p.is_file()}


def _tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def _search_text(site: Path) -> str:
    index = json.loads((site / "search" / "search_index.json").read_text("utf-8"))
    return " ".join(d["text"] for d in index["docs"])


def _edit_purpose(playbook: Path, new: str) -> None:
    steps = playbook / "steps.yaml"
    text = steps.read_text("utf-8")
    assert "purpose: Find a slot and book it." in text
    steps.write_text(text.replace("purpose: Find a slot and book it.", f"purpose: {new}"), "utf-8")


def test_merge_search_index_keeps_page_order():
    previous = {"config": {"a": 1}, "docs": [{"location": ""}, {"location": "#top"}, {"location": "x/"},
                                             {"location": "y/"}, {"location": "y/#s"}]}
    current = {"config": {"a": 2}, "docs": [{"location": "x/", "text": "new"}, {"location": "x/#n"}]}
    merged = merge_search_index(previous, current, ["", "x/", "y/"], {"x/"})
    assert merged["config"] == {"a": 2}
    assert [d["location"] for d in merged["docs"]] == ["", "#top", "x/", "x/#n", "y/", "y/#s"]
    assert merged["docs"][2]["text"] == "new"


@pytest.mark.slow
def test_incremental_build_equals_full_build_and_leaves_other_files_alone(tmp_path):
    playbook, templates = tmp_path / "pb", tmp_path / "templates"
    shutil.copytree(FIXTURE, playbook)
    shutil.copytree(TEMPLATES_DIR, templates)
    cache = tmp_path / "cache"
    site = tmp_path / "site"
    preview = Preview(playbook, site, tmp_path / "work", cache, templates_dir=templates, contributors=())
    try:
        _check_preview(preview, playbook, templates, site, cache, tmp_path)
    finally:
        preview.close()


def _check_preview(preview, playbook, templates, site, cache, tmp_path):
    assert preview.rebuild().kind == "full"
    assert preview.rebuild().kind == "unchanged"

    before = _stamps(site)
    _edit_purpose(playbook, "Find a slot zqxjv and book it.")
    outcome = preview.rebuild()
    assert outcome.kind == "incremental"
    assert "steps/book.md" in outcome.changed and "steps/close.md" not in outcome.changed
    assert "zqxjv" in (site / STEP_PAGE).read_text("utf-8")
    assert "zqxjv" in _search_text(site)
    after = _stamps(site)
    assert after[STEP_PAGE.as_posix()] != before[STEP_PAGE.as_posix()]
    assert after[OTHER_PAGE.as_posix()] == before[OTHER_PAGE.as_posix()]
    untouched = [p for p in before if p.endswith(".html") and after[p] == before[p]]
    assert len(untouched) > len(outcome.changed)  # most pages were left alone
    # What the dirty build left is exactly what a clean build of the same input writes.
    clean = tmp_path / "clean"
    build_site(playbook, clean, cache_dir=cache, templates_dir=templates, contributors=())
    assert _tree(site) == _tree(clean)

    # A template change rebuilds the pages made from it (the step pages), not the others.
    step_template = templates / "step.md.j2"
    step_template.write_text(step_template.read_text("utf-8") + "\nTemplate marker kvwpz.\n", "utf-8")
    before = _stamps(site)
    outcome = preview.rebuild()
    assert outcome.kind == "incremental"
    assert {"steps/book.md", "steps/close.md"} <= set(outcome.changed)
    assert "kvwpz" in (site / OTHER_PAGE).read_text("utf-8") and "kvwpz" in _search_text(site)
    after = _stamps(site)
    assert after["index.html"] == before["index.html"]
    shutil.rmtree(clean)
    build_site(playbook, clean, cache_dir=cache, templates_dir=templates, contributors=())
    assert _tree(site) == _tree(clean)
    assert preview.rebuild().kind == "unchanged"

    # A renamed step changes a page title, which every page's nav shows: that is a full build.
    steps = playbook / "steps.yaml"
    steps.write_text(steps.read_text("utf-8").replace("name: Book the appointment", "name: Book a visit"), "utf-8")
    assert preview.rebuild().kind == "full"
    assert "Book a visit" in (site / OTHER_PAGE).read_text("utf-8")
    shutil.rmtree(clean)
    build_site(playbook, clean, cache_dir=cache, templates_dir=templates, contributors=())
    assert _tree(site) == _tree(clean)

    # mkdocs.yml is every page's input.
    config = tmp_path / "mkdocs.yml"
    shutil.copy(preview.config, config)
    preview.config = config
    config.write_text(config.read_text("utf-8").replace("site_name: ", "site_name: Edited "), "utf-8")
    assert preview.rebuild().kind == "full"
    assert "Edited " in (site / OTHER_PAGE).read_text("utf-8")


def test_the_worker_warms_up_after_a_full_build_without_touching_the_served_site(tmp_path):
    playbook = tmp_path / "pb"
    shutil.copytree(FIXTURE, playbook)
    site, work = tmp_path / "site", tmp_path / "work"
    preview = Preview(playbook, site, work, tmp_path / "cache", contributors=())
    try:
        assert preview.rebuild().kind == "full"
        before = _stamps(site)
        worker = preview._worker
        assert worker is not None and preview._warming is worker
        preview.wait_warm()
        assert preview._warming is None and preview._worker is worker and worker.poll() is None
        # It rendered a real page, with the theme, into its own folder...
        assert "<nav" in (work / "warm-up" / "index.html").read_text("utf-8")
        # ...and the served site is byte for byte and stamp for stamp what the full build wrote.
        assert _stamps(site) == before
        _edit_purpose(playbook, "Find a slot wrmqz and book it.")
        assert preview.rebuild().kind == "incremental"  # the same, warmed worker builds the change
        assert preview._worker is worker and "wrmqz" in (site / STEP_PAGE).read_text("utf-8")
    finally:
        preview.close()


def test_a_worker_that_dies_during_its_warm_up_does_not_hold_up_the_next_change(tmp_path):
    # The warm-up's answer is owed by that worker only: a new worker is not waited on for it.
    playbook = tmp_path / "pb"
    shutil.copytree(FIXTURE, playbook)
    site = tmp_path / "site"
    preview = Preview(playbook, site, tmp_path / "work", tmp_path / "cache", contributors=(), timeout=5)
    try:
        assert preview.rebuild().kind == "full"
        worker = preview._worker
        assert worker is not None and preview._warming is worker
        worker.kill()
        worker.wait()
        _edit_purpose(playbook, "Find a slot dzwkq and book it.")
        assert preview.rebuild().kind in ("incremental", "full")  # no JobTimeout after waiting 5 s
        assert "dzwkq" in (site / STEP_PAGE).read_text("utf-8")
    finally:
        preview.close()


@pytest.mark.slow
def test_serve_session_rebuilds_only_the_changed_pages(tmp_path):
    playbook, templates = tmp_path / "pb", tmp_path / "templates"
    shutil.copytree(FIXTURE, playbook)
    shutil.copytree(TEMPLATES_DIR, templates)
    site = tmp_path / "site"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", str(playbook), "--site-dir", str(site), "--port", str(port),
         "--cache-dir", str(tmp_path / "cache"), "--templates-dir", str(templates)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/steps/book/"
        first = _wait_for(lambda: _get(url))
        assert first and "Find a slot and book it." in first
        time.sleep(1)  # the first build's files are older than the next build's
        before = _stamps(site.resolve())
        _edit_purpose(playbook, "Find a slot ykwqz and book it.")
        assert _wait_for(lambda: "ykwqz" in (_get(url) or ""))
        assert _wait_for(lambda: "ykwqz" in (_get(f"http://127.0.0.1:{port}/search/search_index.json") or ""))
        after = _stamps(site.resolve())
        assert after[OTHER_PAGE.as_posix()] == before[OTHER_PAGE.as_posix()]
        assert after["index.html"] == before["index.html"]
        assert after[STEP_PAGE.as_posix()] != before[STEP_PAGE.as_posix()]

        step_template = templates / "step.md.j2"
        step_template.write_text(step_template.read_text("utf-8") + "\nTemplate marker wqpvj.\n", "utf-8")
        assert _wait_for(lambda: "wqpvj" in (_get(f"http://127.0.0.1:{port}/steps/close/") or ""))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "rebuilt 1 of" in out and "steps/book.md" in out
    assert "Traceback" not in out


# An mkdocs hook that never returns on a page holding the marker: a stuck plugin, as serve meets one.
HANG_HOOK = '''
import time

def on_page_markdown(markdown, page, config, files):
    if "hangqzx" in markdown:
        time.sleep(3600)
    return markdown
'''


@pytest.mark.slow
def test_a_stuck_incremental_build_is_stopped_with_a_message_and_the_next_change_builds_in_full(tmp_path,
                                                                                             monkeypatch):
    from generator.site import mkdocs

    playbook = tmp_path / "pb"
    shutil.copytree(FIXTURE, playbook)
    hook = tmp_path / "hang_hook.py"
    hook.write_text(HANG_HOOK, "utf-8")
    write_config = mkdocs.write_config

    def with_hang_hook(*args, **kwargs):
        # The build's own config names its hooks (a list, which replaces the inherited one): one more.
        path = write_config(*args, **kwargs)
        cfg = json.loads(path.read_text("utf-8"))
        cfg["hooks"] = [*cfg.get("hooks", []), str(hook)]
        path.write_text(json.dumps(cfg), "utf-8")
        return path

    monkeypatch.setattr(mkdocs, "write_config", with_hang_hook)
    site = tmp_path / "site"
    preview = Preview(playbook, site, tmp_path / "work", tmp_path / "cache", contributors=(), timeout=5)
    try:
        assert preview.rebuild().kind == "full"
        worker = preview._worker
        assert worker is not None and worker.poll() is None
        _edit_purpose(playbook, "Find a slot hangqzx and book it.")
        with pytest.raises(JobTimeout) as caught:
            preview.rebuild()  # without a timeout this waits out the hook's hour
        message = caught.value.message()
        assert "did not finish within 5s and was stopped" in message and "steps/book.md" in message
        assert "next change rebuilds it in full" in message
        # The stuck worker was ended, not left running.
        assert worker.poll() is not None and preview._worker is None
        # The author fixes the page: the next build is a full one, and the site shows the fix.
        steps = playbook / "steps.yaml"
        steps.write_text(steps.read_text("utf-8").replace("hangqzx", "fixedqzx"), "utf-8")
        assert preview.rebuild().kind == "full"
        assert "fixedqzx" in (site / STEP_PAGE).read_text("utf-8")
        assert "hangqzx" not in (site / STEP_PAGE).read_text("utf-8")
    finally:
        preview.close()
