"""The audit pack: what the process was on a date, who approved it, what changed, and whether data followed it.

`build_pack` gathers a view model from the repository (releases, the change log,
approvers) and a results history; `render_html` turns it into one
self-contained HTML file (inline CSS, no script, no outside reference, no time
of generation, so the same inputs give the same bytes); `print_pdf` prints that
file with headless Chromium. Lead data never enters: counts and rule ids only.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..errors import ExternalToolError
from ..history.changelog import SIGNATURE, SIGNED_OK, Entry, History
from ..history.diff import Change, diff
from ..history.release import Release, releases, version_at
from ..history.words import as_markup
from ..text import html_text
from . import results as results_mod
from .results import Run

TEMPLATE_DIR = Path(__file__).parent / "templates"
CHROMIUM = os.environ.get("PLAYBOOK_CHROMIUM", "/usr/bin/chromium")


class PdfError(ExternalToolError):
    """Chromium could not print the pack."""


@dataclass
class ChangeView:
    text: str
    markup: str  # HTML: a long text's removed and added words marked


@dataclass
class EntryView:
    commit: str
    subject: str
    author: str
    time: str
    time_kind: str
    signature: str
    reasons: list[str]
    approvers: list[str]
    changes: list[ChangeView]
    impact: list[str]
    sections: list[tuple[str, str, bool]]  # (section, allowed approvers, approved)
    flags: list[tuple[str, str]]


@dataclass
class RunView:
    file: str
    as_of: str
    version: str
    tree: str
    tree_matches: bool
    source: str
    complete: bool
    summary: str
    failed: list[tuple[str, int, int]]  # (rule id, violations, checked)


@dataclass
class Pack:
    playbook: str
    title: str
    day: str
    version: str
    tag: str
    effective: str
    commit: str
    tree: str
    signature: str
    signed_required: bool
    previous: str
    next_effective: str
    version_changes: list[ChangeView]
    entries: list[EntryView]
    approvers: list[tuple[str, str]]  # (section, people)
    runs: list[RunView]
    results_note: str
    manifest: list[tuple[str, str, str]] = field(default_factory=list)  # (path, git blob id, sha256)


def _sig(git, sha: str) -> str:
    letter = git.run("log", "-1", "--format=%G?", "--end-of-options", sha).strip() or "N"
    if letter == "N" and git.has_signature(sha):
        letter = "E"
    return f"{SIGNATURE.get(letter, letter)} ({'verified' if letter in SIGNED_OK else 'not verified'})"


def _change(c: Change) -> ChangeView:
    if c.words:
        head = c.text.split(" changed: ", 1)[0]
        return ChangeView(c.text, f"{html_text(head)} changed: {as_markup(list(c.words), html_text)}")
    return ChangeView(c.text, html_text(c.text))


# Approvers are named by name and person id; the addresses in trailers stay out of the pack.
_EMAIL = re.compile(r"\s*<[^<>@\s]+@[^<>\s]+>")


def _code_spans(line: str) -> str:
    """HTML of an impact line: its backticked command names as <code> (the only backticks in it are ours)."""
    parts = line.split("`")
    return "".join(f"<code>{html_text(x)}</code>" if i % 2 else html_text(x) for i, x in enumerate(parts))


def _entry(e: Entry, names: dict[str, str]) -> EntryView:
    t, kind = e.time
    from ..history.changelog import _iso

    approved = e.approved_sections()
    return EntryView(
        commit=e.log.sha, subject=e.log.subject, author=e.log.author_name, time=_iso(t), time_kind=kind,
        signature=SIGNATURE.get(e.log.signature, e.log.signature), reasons=e.reasons,
        approvers=[(a.person.name if a.person else a.raw.split("<")[0].strip()) + (f" [{a.person.id}]" if a.person
                   else " [not in people]") for a in e.approvers],
        changes=[_change(c) for c in e.changes], impact=[_code_spans(x) for x in e.impact.lines()] if e.impact else [],
        sections=[(s, ", ".join(names.get(p, p) for p in allowed) or "any listed person", approved.get(s, False))
                  for s, allowed in e.required.items()],
        flags=[(f.code, _EMAIL.sub("", f.message)) for f in e.flags],
    )


def _summary(run: Run) -> str:
    ran = [r for r in run.rules if r.status not in ("not_checkable", "no_data")]
    ok = sum(r.status == "pass" for r in ran)
    return f"{ok} of {len(ran)} checked rules within threshold"


def _runs(results_dir: Path | None, playbook: str, start: date, end: date | None, tree: str) -> tuple[list[RunView], list[Path], str]:
    if results_dir is None:
        return [], [], "No results history was given (--results DIR), so no conformance runs are included."
    runs = results_mod.load(results_dir, playbook)
    inside = [r for r in runs if date.fromisoformat(r.day) >= start and (end is None or date.fromisoformat(r.day) < end)]
    views = [RunView(file=r.file, as_of=r.as_of, version=r.version, tree=r.tree or "(not in git)",
                     tree_matches=r.tree == tree and not r.dirty, source=r.source, complete=r.complete,
                     summary=_summary(r), failed=[(x.id, x.violations, x.checked) for x in r.failed])
             for r in inside]
    window = f"from {start}" + (f" until before {end}" if end else " on")
    note = (f"{len(inside)} of {len(runs)} recorded run(s) of this playbook fall in the period this version was "
            f"in effect ({window}).")
    return views, [Path(results_dir) / r.file for r in inside], note


def build_pack(process_dir: Path, day: str, results_dir: Path | None = None) -> Pack:
    """The audit pack's view model for the release in effect on `day` (YYYY-MM-DD)."""
    process_dir = Path(process_dir)
    rel = version_at(process_dir, day)  # UsageError (exit 2): bad date, no tags, before the first release
    hist = History(process_dir)
    try:
        git = hist.git
        tagged = releases(git)
        # Effective order; the same date keeps tag order (the later release supersedes), as `at` decides.
        found = sorted(tagged, key=lambda r: (r.effective, tagged.index(r)))
        idx = next(i for i, r in enumerate(found) if r.tag == rel.tag)
        prev: Release | None = found[idx - 1] if idx > 0 else None
        nxt = next((r for r in found[idx + 1:] if r.effective > rel.effective), None)
        model = hist.model(rel.commit, rel.tag)
        before = hist.model(prev.commit, prev.tag) if prev else None
        entries = hist.entries(since=prev.tag, until=rel.tag) if prev else hist.entries(until=rel.tag)
        tree = git.run("rev-parse", "--verify", "--end-of-options", f"{rel.commit}:{hist.rel}")
        names = {p.id: p.name for p in model.people}
        approvers = sorted(model.playbook.approvers.items())
        files = [p for p in git.list_files(rel.commit, hist.rel)]
        manifest = []
        for path in sorted(files):
            data = git.read_file(rel.commit, path) or b""
            blob = git.run("rev-parse", "--verify", "--end-of-options", f"{rel.commit}:{path}")
            manifest.append((path, blob, hashlib.sha256(data).hexdigest()))
        runs, run_files, note = _runs(results_dir, model.playbook.id, rel.effective,
                                      nxt.effective if nxt else None, tree)
        for p in run_files:
            manifest.append((f"results/{p.name}", "", hashlib.sha256(p.read_bytes()).hexdigest()))
        return Pack(
            playbook=model.playbook.id, title=model.playbook.title, day=day, version=rel.version, tag=rel.tag,
            effective=rel.effective.isoformat(), commit=rel.commit, tree=tree, signature=_sig(git, rel.commit),
            signed_required=model.playbook.require_signed_commits,
            previous=f"{prev.version} (tag {prev.tag}, effective {prev.effective})" if prev else "",
            next_effective=nxt.effective.isoformat() if nxt else "",
            version_changes=[_change(c) for c in diff(before, model)],
            entries=[_entry(e, names) for e in entries],
            approvers=[(s, ", ".join(f"{names.get(p, p)} [{p}]" for p in people)) for s, people in approvers],
            runs=runs, results_note=note, manifest=manifest,
        )
    finally:
        hist.close()


def render_html(pack: Pack) -> str:
    """The pack as one self-contained HTML document (same pack, same bytes)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["trusted"] = Markup  # our own markup: process text in it is escaped already
    return env.get_template("pack.html.j2").render(p=pack)


def write_file(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: the one writer's write_file (generator/writer.py)."""
    from ..writer import write_file as write_whole

    write_whole(path, data)


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML file to PDF with headless Chromium (no header or footer with a date or path)."""
    if not Path(CHROMIUM).exists():
        raise PdfError(f"{CHROMIUM} not found: install chromium (scripts/system-deps.sh) or set PLAYBOOK_CHROMIUM")
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="playbook-pdf-") as tmp:
        out = Path(tmp) / "pack.pdf"
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               "--print-to-pdf-no-header", f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
               Path(html_path).resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise PdfError("chromium did not finish printing the pack within 120 s") from None
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            raise PdfError(f"chromium could not print the pack (exit {proc.returncode}): "
                           f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'no output'}")
        write_file(pdf_path, out.read_bytes())


def pack_files(pack: Pack) -> dict[str, Any]:
    """Counts for the command's one-line summary."""
    return {"entries": len(pack.entries), "runs": len(pack.runs), "files": len(pack.manifest)}
