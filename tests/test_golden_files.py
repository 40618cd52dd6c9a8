"""The golden helpers fail on a missing, extra or different golden, and write only under `make golden`."""

from __future__ import annotations

import importlib
import os

import pytest

import golden_files


@pytest.fixture
def compare(monkeypatch):
    """Compare mode, even when the suite runs under `make golden`."""
    monkeypatch.setattr(golden_files, "UPDATE", False)
    return golden_files


def test_only_exactly_1_means_update(monkeypatch):
    saved = os.environ.get("PLAYBOOK_UPDATE_GOLDEN")
    try:
        for value, update in (("0", False), ("", False), ("true", False), ("yes", False), ("1", True)):
            monkeypatch.setenv("PLAYBOOK_UPDATE_GOLDEN", value)
            assert importlib.reload(golden_files).UPDATE is update, value
        monkeypatch.delenv("PLAYBOOK_UPDATE_GOLDEN")
        assert importlib.reload(golden_files).UPDATE is False
    finally:
        monkeypatch.undo()
        assert os.environ.get("PLAYBOOK_UPDATE_GOLDEN") == saved
        importlib.reload(golden_files)


def test_a_missing_golden_file_fails_and_is_not_written(tmp_path, compare):
    with pytest.raises(AssertionError, match="is missing; run `make golden`"):
        compare.check_file(tmp_path / "out.txt", "text")
    assert not (tmp_path / "out.txt").exists()


def test_a_different_golden_file_fails(tmp_path, compare):
    (tmp_path / "out.txt").write_text("old", encoding="utf-8")
    with pytest.raises(AssertionError, match="differs from its golden"):
        compare.check_file(tmp_path / "out.txt", "new")
    compare.check_file(tmp_path / "out.txt", "old")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "old"


def test_a_golden_tree_must_hold_exactly_the_outputs(tmp_path, compare):
    folder = tmp_path / "pages"
    with pytest.raises(AssertionError, match="golden folder .* is missing"):
        compare.check_tree(folder, {"a.md": "A"})
    assert not folder.exists()
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("A", encoding="utf-8")
    (folder / "sub" / "b.md").write_text("B", encoding="utf-8")
    compare.check_tree(folder, {"a.md": "A", "sub/b.md": "B"})
    with pytest.raises(AssertionError, match=r"missing \[\], not produced \['sub/b.md'\]"):
        compare.check_tree(folder, {"a.md": "A"})  # a page that disappeared
    with pytest.raises(AssertionError, match=r"missing \['c.md'\]"):
        compare.check_tree(folder, {"a.md": "A", "sub/b.md": "B", "c.md": "C"})  # a page never reviewed
    with pytest.raises(AssertionError, match="sub/b.md differs"):
        compare.check_tree(folder, {"a.md": "A", "sub/b.md": "changed"})


def test_a_folder_of_single_file_goldens_holds_exactly_the_checked_names(tmp_path, compare):
    (tmp_path / "one.txt").write_text("1", encoding="utf-8")
    compare.check_names(tmp_path, {"one.txt"})
    (tmp_path / "stale.txt").write_text("2", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"not checked by any test \['stale.txt'\]"):
        compare.check_names(tmp_path, {"one.txt"})
    with pytest.raises(AssertionError, match=r"missing \['two.txt'\]"):
        compare.check_names(tmp_path, {"one.txt", "stale.txt", "two.txt"})


def test_make_golden_rewrites_the_tree(tmp_path, monkeypatch):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "gone.md").write_text("old page", encoding="utf-8")
    monkeypatch.setattr(golden_files, "UPDATE", True)
    golden_files.check_tree(folder, {"new.md": "N"})
    assert sorted(p.name for p in folder.iterdir()) == ["new.md"]
    golden_files.check_file(tmp_path / "one.txt", b"bytes")
    assert (tmp_path / "one.txt").read_bytes() == b"bytes"
