"""`playbook build`: process files in, a whole site out, or nothing changed.

Reads top to bottom as its stages: load and validate, gather contributions,
render Markdown, draw diagrams, write the docs tree to a temporary folder,
run mkdocs into another, then swap the result into place in one step
(generator/writer.py). Everything that can fail happens before the swap, so a
failed or killed build leaves the previous site as it was.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UsageError
from ..load import playbook_dirs
from ..writer import LINK_PREFIX, staging, swap, write_files
from . import graphviz, mkdocs
from .contrib import CONTRIBUTORS, collect
from .render import DIAGRAM_TOKEN, TEMPLATES_DIR, Rendered, render

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = PROJECT_ROOT / "mkdocs.yml"


@dataclass
class BuildReport:
    """What a build did and how long each stage took (seconds)."""

    pages: int = 0
    diagrams: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def resolve_playbook(process_dir: Path) -> Path:
    """The one playbook folder at `process_dir` (itself, or its only sub-folder with YAML)."""
    dirs = playbook_dirs(Path(process_dir))
    if len(dirs) > 1:
        names = ", ".join(str(d) for d in dirs)
        raise UsageError(f"{process_dir}: holds several playbooks ({names}); pass the one to build")
    return dirs[0]


def generate(playbook_dir: Path, cache_dir: Path | None, templates_dir: Path = TEMPLATES_DIR,
             report: BuildReport | None = None,
             contributors: tuple[str, ...] = CONTRIBUTORS,
             options: dict | None = None, parse_cache: dict | None = None) -> tuple[dict[str, str], Rendered, object]:
    """Load, validate and render: the finished docs tree in memory (path -> text).

    `parse_cache` (load.ParseCache) keeps each file's parse between calls: serve re-parses only the
    files that changed."""
    from ..validate import load_playbook

    report = report if report is not None else BuildReport()
    t0 = time.perf_counter()
    model = load_playbook(playbook_dir, cache=parse_cache)
    contribution = collect(model, playbook_dir, contributors, options)
    rendered = render(model, contribution, templates_dir)
    t1 = time.perf_counter()
    # dot runs in child processes, so threads render diagrams in parallel.
    keys = sorted(rendered.diagrams)
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        svgs = dict(zip(keys, pool.map(lambda k: graphviz.render_svg(rendered.diagrams[k], cache_dir), keys)))
    t2 = time.perf_counter()
    files: dict[str, str] = {}
    for path, text in rendered.pages.items():
        for key, svg in svgs.items():
            text = text.replace(DIAGRAM_TOKEN.format(key), svg.rstrip("\n"))
        files[path] = text
    for asset in sorted(p for p in Path(templates_dir, "assets").rglob("*") if p.is_file()):
        files["assets/" + asset.relative_to(Path(templates_dir, "assets")).as_posix()] = asset.read_text("utf-8")
    report.pages = len(rendered.pages)
    report.diagrams = len(rendered.diagrams)
    report.timings["render"] = t1 - t0
    report.timings["diagrams"] = t2 - t1
    return files, rendered, model


def _generate_many(dirs: list[Path], cache_dir: Path | None, templates_dir: Path, report: BuildReport,
                   contributors: tuple[str, ...], options: dict | None,
                   parse_cache: dict | None = None) -> tuple[dict[str, str], list, object]:
    """Each playbook rendered as alone, then combined under one landing page (site/multi.py)."""
    from ..errors import ProcessErrors
    from .multi import combine

    built = []
    problems = []
    pages = diagrams = 0
    for d in dirs:
        part = BuildReport()
        try:
            files, rendered, model = generate(d, cache_dir, templates_dir, part, contributors, options, parse_cache)
        except ProcessErrors as exc:  # every playbook's problems at once, as `validate` reports them
            problems.extend(exc.problems)
            continue
        built.append((d, files, rendered.nav, model))
        pages, diagrams = pages + part.pages, diagrams + part.diagrams
        for k, v in part.timings.items():
            report.timings[k] = report.timings.get(k, 0.0) + v
    if problems:
        raise ProcessErrors(problems)
    files, nav, effective = combine(built, templates_dir)
    report.pages, report.diagrams = pages + 1, diagrams
    return files, nav, effective


def write_tree(files: dict[str, str], root: Path) -> None:
    """Write a docs tree into the new folder `root`; paths are ours (ids are slugs), never outside root."""
    write_files(root, files, what="docs")


def _absolute(path: Path) -> Path:
    """The folder's absolute path; a link the writer flips (see generator/writer.py) stays a link.

    Any other symbolic link (site/ -> /var/www/site) is followed, so the folder it
    names is the one replaced, as a web server reading it expects.
    """
    path = Path(path).absolute()
    if path.is_symlink() and not Path(os.readlink(path)).name.startswith(LINK_PREFIX):
        return path.resolve()
    return path.parent.resolve() / path.name


def docs_tree(process_dir: Path, cache_dir: Path | None, templates_dir: Path = TEMPLATES_DIR,
              report: BuildReport | None = None, contributors: tuple[str, ...] = CONTRIBUTORS,
              options: dict | None = None, parse_cache: dict | None = None) -> tuple[dict[str, str], list, object]:
    """The whole docs tree in memory (path -> text), its nav and the newest effective date."""
    report = report if report is not None else BuildReport()
    dirs = playbook_dirs(Path(process_dir))
    if len(dirs) == 1:
        files, rendered, model = generate(dirs[0], cache_dir, templates_dir, report, contributors, options,
                                          parse_cache)
        return files, rendered.nav, model.playbook.effective
    return _generate_many(dirs, cache_dir, templates_dir, report, contributors, options, parse_cache)


def sitemap_epoch(effective) -> str:
    """Same input, same bytes: sitemap dates come from the playbook's effective date (the newest one)."""
    return os.environ.get("SOURCE_DATE_EPOCH") or str(int(datetime.combine(
        effective, datetime.min.time(), tzinfo=timezone.utc).timestamp()))


def build_site(process_dir: Path = Path("process"), site_dir: Path = Path("site"), docs_dir: Path | None = None,
               cache_dir: Path | None = Path(".cache/diagrams"), config: Path = DEFAULT_CONFIG,
               templates_dir: Path = TEMPLATES_DIR, strict: bool = True,
               contributors: tuple[str, ...] = CONTRIBUTORS,
               options: dict | None = None, tree: tuple | None = None,
               report: BuildReport | None = None) -> BuildReport:
    """Build the whole site into site_dir atomically; return counts and timings.

    `tree` is an already generated `docs_tree(...)` (serve renders before it decides what to rebuild).
    """
    report = report if report is not None else BuildReport()
    for dest in (site_dir, docs_dir):
        if dest is not None and os.path.ismount(dest):
            raise UsageError(f"{dest}: is a mount point; a build replaces its output folder whole, which a "
                             f"mount point cannot be: build into a folder inside it instead; nothing was changed")
    files, nav, effective = tree if tree is not None else docs_tree(process_dir, cache_dir, templates_dir, report,
                                                                    contributors, options)
    site_dir = _absolute(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    epoch = sitemap_epoch(effective)
    # Killed builds leave staging folders behind; each build removes those no build holds.
    with staging(site_dir.parent) as work:
        docs = work / "docs"
        write_tree(files, docs)
        cfg = mkdocs.write_config(config, docs, nav, work / "mkdocs.yml")
        t0 = time.perf_counter()
        mkdocs.build(cfg, work / "site", strict=strict, build_epoch=epoch)
        report.timings["mkdocs"] = time.perf_counter() - t0
        if docs_dir is not None:
            docs_dir = _absolute(docs_dir)
            # Staged beside its destination: a rename cannot cross file systems.
            with staging(docs_dir.parent) as dwork:
                write_tree(files, dwork / "docs")
                swap(dwork / "docs", docs_dir)
        swap(work / "site", site_dir)
    return report
