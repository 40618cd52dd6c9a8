"""site/search_hook.py: the built search worker lexes queries with the index's separator.

The behaviour itself ("no-show" finds the no-show event, not "Show rate") is checked in
a real browser by tests/test_browser.py; these check the patch is applied once, where the
theme puts the worker, and that a theme that moved it fails the build instead of
silently losing the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from generator.site.search_hook import MARKER, WORKERS, patch_worker

MINIFIED = ('(()=>{var Y={};Y.QueryLexer=function(){};self.lunr=Y.default;})();\n'
            '//# sourceMappingURL=search.abc123.min.js.map\n')


def _site(tmp_path: Path, text: str = MINIFIED) -> Path:
    worker = tmp_path / WORKERS / "search.abc123.min.js"
    worker.parent.mkdir(parents=True)
    worker.write_text(text)
    return worker


def test_patch_is_appended_once_before_the_source_map_comment(tmp_path):
    worker = _site(tmp_path)
    patch_worker(tmp_path)
    patch_worker(tmp_path)  # a second build into the same folder
    text = worker.read_text()
    assert text.count(MARKER) == 1
    assert text.rstrip().endswith("//# sourceMappingURL=search.abc123.min.js.map")
    assert text.index("self.lunr=Y.default") < text.index(MARKER)
    assert 'Object.defineProperty(self.lunr.QueryLexer,"termSeparator"' in text


def test_a_theme_without_the_worker_fails_the_build(tmp_path):
    with pytest.raises(PluginError, match="expected one mkdocs-material search worker"):
        patch_worker(tmp_path)


def test_a_worker_without_lunr_in_scope_fails_the_build(tmp_path):
    _site(tmp_path, "(()=>{})();\n")
    with pytest.raises(PluginError, match="no longer exposes lunr"):
        patch_worker(tmp_path)


def test_the_installed_theme_worker_is_patchable(tmp_path):
    # The worker mkdocs-material ships (copied as a build copies it) has what the patch needs.
    import shutil

    import material

    src = Path(material.__file__).parent / "templates" / WORKERS
    shutil.copytree(src, tmp_path / WORKERS)
    worker = patch_worker(tmp_path)
    assert MARKER in worker.read_text()
    assert MARKER not in next(src.glob("search.*.min.js")).read_text()  # the theme's own file untouched
