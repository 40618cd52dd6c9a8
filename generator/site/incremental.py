"""Incremental preview for `playbook serve`: after a change, rebuild only the pages that changed.

Every page's inputs (the model entities it reads, its template, the diagrams it embeds)
end up in its rendered Markdown, and rendering the whole docs tree in memory is cheap
next to mkdocs (diagrams come from the content-hash cache). So the tracker is the
rendered tree itself: render again, compare each page's text with the last build's,
and hand mkdocs only the pages whose text differs. mkdocs' own `dirty` build then
renders just those (`File.is_modified` answers from that list, not from mtimes) into
the served site in place; every other file there is left untouched.

What a dirty build cannot keep right, a full build does: a changed nav, an added or
removed page, a changed `mkdocs.yml` or sitemap date, or a failed incremental build
all run `build_site` (clean, atomic). mkdocs' search plugin only indexes the pages it
renders, so the child merges the new entries into the previous index in page order:
the result is the index a full build would write.

mkdocs runs in a child process (as for `playbook build`, generator/site/mkdocs.py):
`python -m generator.site.incremental` reads its job as JSON on stdin. A job gets
`JOB_TIMEOUT` seconds: a worker stuck past that is killed and the preview says so
(`JobTimeout`) instead of blocking every later rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import mkdocs

# The child imports this module too: what it needs is kept light (no model, no renderer).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = PROJECT_ROOT / "mkdocs.yml"
TEMPLATES_DIR = PROJECT_ROOT / "templates"

SEARCH_INDEX = Path("search") / "search_index.json"

JOB_TIMEOUT = 120.0
"""Seconds one incremental build may take before serve stops it. A dirty build of the 20x playbook
takes a few seconds; one that is still running after this is stuck (a plugin or hook in a loop)."""


@dataclass
class Outcome:
    """What one preview build did: "full", "incremental" or "unchanged", and which docs files it rebuilt."""

    kind: str
    changed: list[str] = field(default_factory=list)
    pages: int = 0


class JobTimeout(mkdocs.MkdocsError):
    """An incremental build ran past the preview's timeout; its worker was stopped."""


def _front_matter(text: str) -> str:
    """A page's leading YAML block (render.front_matter): its title and page-wide meta."""
    if not text.startswith("---\n"):
        return ""
    end = text.find("\n---\n", 4)
    return text[: end + 5] if end >= 0 else text


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Preview:
    """The builds of one `serve` session: the first one full, later ones as small as the change."""

    def __init__(self, process_dir: Path, site_dir: Path, work_dir: Path, cache_dir: Path | None,
                 config: Path = DEFAULT_CONFIG, templates_dir: Path = TEMPLATES_DIR,
                 contributors: tuple[str, ...] | None = None, strict: bool = True,
                 timeout: float = JOB_TIMEOUT):
        from .contrib import CONTRIBUTORS

        self.process_dir, self.site_dir, self.cache_dir = Path(process_dir), Path(site_dir), cache_dir
        self.work_dir, self.config, self.templates_dir = Path(work_dir), Path(config), templates_dir
        self.contributors = CONTRIBUTORS if contributors is None else contributors
        self.strict, self.timeout = strict, timeout
        self._files: dict[str, str] | None = None  # the docs tree the served site was built from
        self._nav: list | None = None
        self._key: tuple | None = None  # what forces a full build when it changes
        self._worker: subprocess.Popen | None = None
        self._warming: subprocess.Popen | None = None  # the worker that owes a warm-up's answer
        # Each process file's last parse, by path: a rebuild re-parses only the files whose text changed.
        self._parses: dict = {}

    @property
    def docs_dir(self) -> Path:
        return self.work_dir / "docs"

    def rebuild(self) -> Outcome:
        """Bring the served site up to date with the process files, templates and mkdocs.yml."""
        from .build import BuildReport, docs_tree, sitemap_epoch

        report = BuildReport()
        files, nav, effective = docs_tree(self.process_dir, self.cache_dir, self.templates_dir, report,
                                          self.contributors, parse_cache=self._parses)
        key = (_digest(self.config), sitemap_epoch(effective), self.strict)
        if self._files is None or key != self._key or nav != self._nav or files.keys() != self._files.keys():
            return self._full(files, nav, effective, key, report)
        changed = sorted(p for p, text in files.items() if self._files[p] != text)
        if not changed:
            return Outcome("unchanged", pages=report.pages)
        if any(_front_matter(files[p]) != _front_matter(self._files[p]) for p in changed):
            # A page's title (its front matter) shows in every page's nav and tab.
            return self._full(files, nav, effective, key, report)
        try:
            self._incremental(files, changed, key[1])
        except JobTimeout:
            # A full build would most likely hang the same way (and for longer): say so and keep serving.
            # The served site may be half updated, so the next change builds in full.
            self._files = None
            raise
        except mkdocs.MkdocsError:
            # The served site may be half updated: a clean build either fixes it or says what is wrong.
            self._files = None
            return self._full(files, nav, effective, key, report)
        self._files = files
        return Outcome("incremental", changed, report.pages)

    def _full(self, files: dict[str, str], nav: list, effective, key: tuple, report) -> Outcome:
        from .build import build_site

        self._files = None  # until it succeeded
        self.wait_warm()  # the warm-up reads the docs tree this build writes again
        build_site(self.process_dir, self.site_dir, docs_dir=self.docs_dir, cache_dir=self.cache_dir,
                   config=self.config, templates_dir=self.templates_dir, strict=self.strict,
                   contributors=self.contributors, tree=(files, nav, effective), report=report)
        mkdocs.write_config(self.config, self.docs_dir, nav, self.work_dir / "mkdocs.yml")
        self._files, self._nav, self._key = files, nav, key
        self._warm_up(files, key[1])  # while the author edits
        return Outcome("full", sorted(files), report.pages)

    def _incremental(self, files: dict[str, str], changed: list[str], epoch: str) -> None:
        # The warm-up reads the docs tree: finished before it changes, and its answer read before this
        # job is sent (one answer in the pipe at a time).
        self._finish_warm_up()
        # Same paths as the last full build, which checked them (writer.safe_rel): rewritten in place.
        for rel in changed:
            (self.docs_dir / rel).write_bytes(files[rel].encode("utf-8"))
        result = self._ask(self._job(changed, epoch), ", ".join(changed))
        if not result["ok"]:
            raise mkdocs.MkdocsError(f"mkdocs incremental build failed:\n{result['log'].strip()}")

    def _job(self, changed: list[str], epoch: str, site_dir: Path | None = None) -> dict:
        return {"config": str(self.work_dir / "mkdocs.yml"), "changed": changed, "strict": self.strict,
                "site_dir": str(Path(site_dir or self.site_dir).resolve()), "epoch": epoch}

    def _warm_up(self, files: dict[str, str], epoch: str) -> None:
        """Right after a full build, have the worker build one page into a scratch folder.

        The first dirty build of a session imports mkdocs' plugins and Markdown extensions and
        compiles the theme's templates: half a second or more that would otherwise land on the
        author's first edit. The served site is not touched; the answer is read (and dropped)
        before the next job is sent."""
        if not files:
            return
        page = "index.md" if "index.md" in files else sorted(files)[0]
        worker = self._start_worker()
        try:
            assert worker.stdin is not None
            worker.stdin.write(json.dumps(self._job([page], epoch, self.work_dir / "warm-up")) + "\n")
            worker.stdin.flush()
            self._warming = worker
        except OSError:
            self.close()  # the next build starts a new worker and says what is wrong, if anything

    def wait_warm(self) -> None:
        """Wait until the worker's warm-up (after a full build) is done, e.g. before timing something
        else on the same machine; a warm-up that fails or hangs shows again in the next build."""
        try:
            self._finish_warm_up()
        except mkdocs.MkdocsError:
            pass

    def _finish_warm_up(self) -> None:
        owed, self._warming = self._warming, None
        if owed is not None and owed is self._worker:  # a worker since stopped or replaced owes nothing
            self._ask(None, "the warm-up page")  # a failed warm-up shows again in the job itself

    def _ask(self, job: dict | None, what: str) -> dict:
        """Send `job` (None: only read the answer the current worker owes) and wait for its one-line answer."""
        # A worker that died owes its answer as end of file, read below; only a new job starts a new one.
        worker = self._start_worker() if job is not None else self._worker
        try:
            assert worker.stdin is not None and worker.stdout is not None
            if job is not None:
                worker.stdin.write(json.dumps(job) + "\n")
                worker.stdin.flush()
            # One answer line per job, and nothing read ahead: the pipe is readable once the answer
            # (or end of file) is there. A job that never answers is stopped, not waited for forever.
            ready, _, _ = select.select([worker.stdout], [], [], self.timeout)
            if not ready:
                self._kill_worker()
                raise JobTimeout(
                    f"mkdocs incremental build of {what} did not finish within {self.timeout:g}s "
                    "and was stopped (a plugin or hook in mkdocs.yml may be stuck); the served site may be "
                    "out of date: the next change rebuilds it in full")
            answer = worker.stdout.readline()
        except OSError as exc:
            answer = ""
            self.close()
            raise mkdocs.MkdocsError(f"mkdocs could not run: {exc}") from exc
        if not answer:
            self.close()
            raise mkdocs.MkdocsError("mkdocs incremental build: the worker process ended")
        return json.loads(answer)

    def _start_worker(self) -> subprocess.Popen:
        """The mkdocs process of this session, started once: its imports and theme templates stay warm."""
        if self._worker is None or self._worker.poll() is not None:
            cmd = [sys.executable, "-m", "generator.site.incremental", str(self.work_dir / "jinja")]
            # Its stderr is mkdocs-material's notice (shown by the first, full build): each job's log
            # comes back in its answer.
            self._worker = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, text=True, cwd=PROJECT_ROOT)
        return self._worker

    def _kill_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()
            worker.wait()
            for pipe in (worker.stdin, worker.stdout):
                try:
                    if pipe is not None:
                        pipe.close()
                except OSError:
                    pass

    def close(self) -> None:
        """End the session's mkdocs process (it also ends when its input closes)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            try:
                if worker.stdin is not None:
                    worker.stdin.close()
                worker.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                worker.kill()
                worker.wait()


# ---- the child: mkdocs' dirty build of the listed docs files ----

def _page_of(location: str) -> str:
    return location.split("#", 1)[0]


def merge_search_index(previous: dict, current: dict, order: list[str], rebuilt: set[str]) -> dict:
    """The full index: entries of rebuilt pages from `current`, of the others from `previous`, in page order."""
    def by_page(index: dict) -> dict[str, list]:
        out: dict[str, list] = {}
        for entry in index.get("docs", []):
            out.setdefault(_page_of(entry["location"]), []).append(entry)
        return out

    old, new = by_page(previous), by_page(current)
    docs = [e for url in order for e in (new if url in rebuilt else old).get(url, [])]
    return {"config": current.get("config", previous.get("config")), "docs": docs}


def _install(jinja_cache: Path, changed: set[str]) -> None:
    """Make mkdocs' `dirty` build rebuild exactly `changed` (a set the jobs refill), keeping the rest."""
    import logging

    import jinja2
    from mkdocs.commands import build as mkbuild
    from mkdocs.structure.files import File
    from mkdocs.theme import Theme

    # Which files are "modified" is known exactly, not guessed from modification times.
    File.is_modified = lambda self: self.src_uri in changed  # type: ignore[method-assign]
    populate = mkbuild._populate_page

    def _populate_page(page, config, files, dirty=False):
        # An unchanged page is not rendered, but its title (front matter) still names it in the nav,
        # the previous/next links and the tab of every page that is rendered.
        if dirty and not page.file.is_modified():
            page.read_source(config)
            return None
        return populate(page, config, files, dirty)

    mkbuild._populate_page = _populate_page
    # 404.html and sitemap.xml hold the nav, titles and page urls, none of which changed (else serve
    # builds in full): the previous ones stay.
    mkbuild._build_theme_template = lambda *args, **kwargs: None
    # The theme's templates compile once per session, not once per rebuild.
    jinja_cache.mkdir(parents=True, exist_ok=True)
    get_env = Theme.get_env

    theme_files: dict[tuple, list[str]] = {}

    def _get_env(self):
        env = get_env(self)
        env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(jinja_cache))
        # Every build lists the theme's static files (mkdocs-material: some 14,000, its icons
        # included) to copy them; a dirty build copies none of them, and the installed theme does
        # not change during a session. The filter mkdocs passes is the same function each build,
        # its only inputs the theme's static templates (in the key) and mkdocs' fixed extensions.
        key = (tuple(self.dirs), tuple(sorted(self.static_templates)))
        list_templates = env.list_templates

        def listed(extensions=None, filter_func=None):
            k = (key, tuple(extensions or ()), getattr(filter_func, "__code__", filter_func))
            if k not in theme_files:
                theme_files[k] = list_templates(extensions=extensions, filter_func=filter_func)
            return list(theme_files[k])

        env.list_templates = listed
        return env

    Theme.get_env = _get_env  # type: ignore[method-assign]

    class _NoDirtyWarning(logging.Filter):
        # mkdocs warns that a dirty build may leave nav and links stale; here nav and page set are
        # unchanged (else serve builds in full), so the warning would only fail --strict.
        def filter(self, record: logging.LogRecord) -> bool:
            return "'dirty' build" not in record.getMessage()

    logging.getLogger("mkdocs.commands.build").addFilter(_NoDirtyWarning())
    logging.getLogger("mkdocs").setLevel(logging.WARNING)


def _run(job: dict, changed: set[str]) -> dict:
    """One dirty build; its warnings and errors come back as the answer's log."""
    import io
    import logging

    from mkdocs.commands import build as mkbuild
    from mkdocs.config import load_config

    changed.clear()
    changed.update(job["changed"])
    os.environ["SOURCE_DATE_EPOCH"] = job["epoch"]
    site_dir = Path(job["site_dir"])
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    index_path = site_dir / SEARCH_INDEX
    try:
        previous = json.loads(index_path.read_text("utf-8")) if index_path.is_file() else {}
        cfg = load_config(job["config"], site_dir=str(site_dir), strict=job["strict"])
        cfg.plugins.on_startup(command="build", dirty=True)
        try:
            mkbuild.build(cfg, dirty=True)
            files = mkbuild.get_files(cfg)
        finally:
            cfg.plugins.on_shutdown()
        if index_path.is_file():
            pages = files.documentation_pages()
            # A page's url as its search entries give it: the home page's file url is "./", its page url "".
            urls = {f.src_uri: ("" if f.url in (".", "./") else f.url) for f in pages}
            order = [urls[f.src_uri] for f in pages]
            rebuilt = {urls[f.src_uri] for f in pages if f.src_uri in changed}
            current = json.loads(index_path.read_text("utf-8"))
            merged = merge_search_index(previous, current, order, rebuilt)
            # Written as the search plugin writes it, so it is the file a full build would write.
            index_path.write_text(json.dumps(merged, separators=(",", ":"), default=str), encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - any failure is reported, and serve falls back to a full build
        return {"ok": False, "log": f"{log.getvalue()}\n{type(exc).__name__}: {exc}"}
    finally:
        logger.removeHandler(handler)
    return {"ok": True, "log": log.getvalue()}


def _child(argv: list[str]) -> int:
    """The worker: one JSON job a line on stdin, one JSON answer a line on stdout, until stdin closes."""
    answers = sys.stdout
    sys.stdout = sys.stderr  # whatever mkdocs or a plugin prints stays out of the answers
    changed: set[str] = set()
    _install(Path(argv[0]), changed)
    for line in sys.stdin:
        answers.write(json.dumps(_run(json.loads(line), changed)) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
