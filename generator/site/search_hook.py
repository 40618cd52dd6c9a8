"""mkdocs hook: the search box splits a query where the index splits text (`search.separator`).

mkdocs-material 9's search worker bundles lunr, whose query lexer copies lunr's
own separator (`[\\s-]+`) once, when lunr loads (`lunr.QueryLexer.termSeparator`).
The worker sets the configured `search.separator` on the tokenizer only later,
so the index keeps "no-show" and "opt-in" whole (mkdocs.yml drops the hyphen)
while a query "no-show" is still lexed as "no" (a stop word, dropped) and
"show", and finds "Show rate". Page scripts cannot reach the worker, so the
built copy of the worker gets one statement: the lexer reads the tokenizer's
separator whenever it lexes, and both sides split alike.

mkdocs loads this file by path (`hooks:`, set by site/mkdocs.py's write_config);
it imports nothing from the project. The theme's source files are not touched,
only the copy in the site being built.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError

MARKER = "/* playbook: query lexer uses search.separator */"
PATCH = (MARKER + "\nObject.defineProperty(self.lunr.QueryLexer,\"termSeparator\","
         "{configurable:true,get:function(){return self.lunr.tokenizer.separator}});\n")
WORKERS = "assets/javascripts/workers"


def patch_worker(site_dir: Path) -> Path:
    """Append the lexer fix to the site's one search worker; idempotent. Raises PluginError if
    the theme no longer ships the worker where mkdocs-material 9 puts it (the fix would be lost)."""
    found = sorted(Path(site_dir, WORKERS).glob("search.*.min.js"))
    if len(found) != 1:
        raise PluginError(f"search hook: expected one mkdocs-material search worker in {WORKERS}/, found "
                          f"{len(found)}; the theme changed, so check that hyphenated queries still work "
                          f"and update generator/site/search_hook.py")
    worker = found[0]
    text = worker.read_text("utf-8")
    if "self.lunr=" not in text.replace(" ", "") or "QueryLexer" not in text:
        raise PluginError(f"search hook: {worker.name} no longer exposes lunr's QueryLexer as self.lunr; "
                          f"update generator/site/search_hook.py")
    if MARKER not in text:
        # Before the source-map comment, which stays the file's last line.
        head, sep, tail = text.rpartition("//# sourceMappingURL=")
        text = head + PATCH + sep + tail if sep else text.rstrip("\n") + "\n" + PATCH
        worker.write_text(text, "utf-8")
    return worker


def on_post_build(config, **kwargs) -> None:
    patch_worker(Path(config["site_dir"]))
