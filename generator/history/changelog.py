"""The audit trail: every commit that touched a playbook, its approvals and its semantic diff.

Flags follow the rules an auditor checks: a reason and an approval on every
change, no self-approval, an approver allowed for each section changed (the
approvers in force *before* the change, so nobody approves their own
promotion), and signed commits when the playbook requires them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parseaddr as _parseaddr
from pathlib import Path
from typing import Any

from ..errors import ProcessErrors, UsageError
from ..model import Person, Playbook
from .diff import Change, diff, sections
from .git import Git, LogEntry
from .impact import Compiled, CompiledCache, Impact, impact
from .snapshot import ProcessMissing, Snapshots

SIGNATURE = {
    "G": "good signature",
    "U": "good signature, signer not trusted",
    "X": "good signature, expired",
    "Y": "good signature, expired key",
    "R": "good signature, revoked key",
    "E": "signed, cannot be verified (key missing)",
    "B": "bad signature",
    "N": "unsigned",
}
SIGNED_OK = {"G", "U", "X", "Y"}

REASON, APPROVED, EFFECTIVE = "change-reason", "approved-by", "effective"

CACHE_DIR = ".cache/history"
"""Parsed file versions, under the repository root (git-ignored like every .cache)."""


@dataclass(frozen=True)
class Flag:
    """Something an auditor must look at, with a stable code."""

    code: str
    message: str


@dataclass
class Approver:
    raw: str
    person: Person | None


@dataclass
class Entry:
    """One commit of the change log."""

    log: LogEntry
    merged_time: int | None
    reasons: list[str]
    approvers: list[Approver]
    effective: list[str]
    changes: list[Change] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    error: str = ""
    impact: Impact = field(default_factory=Impact)
    required: dict[str, list[str]] = field(default_factory=dict)
    """Section -> person ids allowed to approve it, as they stood before this commit."""

    def approved_sections(self) -> dict[str, bool]:
        """Section -> whether an approver allowed for it (not the author) approved this commit."""
        valid = {a.person.id for a in self.approvers if a.person is not None and not _is_author(self.log, a)}
        return {s: bool(valid & set(allowed)) if allowed else bool(valid)
                for s, allowed in self.required.items()}

    @property
    def time(self) -> tuple[int, str]:
        """When the change landed, and how much to trust it."""
        if self.merged_time is not None:
            return self.merged_time, "merge time"
        return self.log.committer_time, "author-set commit time"

    def as_dict(self) -> dict[str, Any]:
        t, label = self.time
        return {
            "commit": self.log.sha,
            "subject": self.log.subject,
            "author": {"name": self.log.author_name, "email": self.log.author_email},
            "time": _iso(t),
            "time_kind": label,
            "signature": {"status": self.log.signature, "meaning": SIGNATURE.get(self.log.signature, "unknown"),
                          "signer": self.log.signer},
            "reasons": self.reasons,
            "approved_by": [{"as_written": a.raw, "person": a.person.id if a.person else None}
                            for a in self.approvers],
            "effective": self.effective,
            "sections": sections(self.changes),
            "changes": [c.as_dict() for c in self.changes],
            "flags": [{"code": f.code, "message": f.message} for f in self.flags],
            "crm_impact": self.impact.as_dict() if self.impact else None,
            "required_approvers": self.required,
            "error": self.error,
        }


# The same few approvers appear on thousands of commits; parsing an address is pure,
# and the tuples it returns are immutable, so each distinct string is parsed once.
parseaddr = functools.lru_cache(maxsize=4096)(_parseaddr)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _trailer(entry: LogEntry, key: str) -> list[str]:
    return [v for k, v in entry.trailers if k.lower() == key and v]


def match_person(raw: str, people: list[Person]) -> Person | None:
    """The person an `Approved-by:` value names, by email first, then by name or id."""
    name, email = parseaddr(raw)
    email = email.lower() if "@" in email else ""
    for p in people:
        if email and p.email.lower() == email:
            return p
    wanted = (name or raw).strip().lower()
    for p in people:
        if wanted in (p.name.lower(), p.id):
            return p
    return None


def _is_author(entry: LogEntry, approver: Approver) -> bool:
    name, email = parseaddr(approver.raw)
    author_email = entry.author_email.lower()
    if approver.person is not None:
        if approver.person.email.lower() == author_email:
            return True
        if approver.person.name.lower() == entry.author_name.lower():
            return True
    return (bool(email) and email.lower() == author_email) or \
        (bool(name or approver.raw) and (name or approver.raw).strip().lower() == entry.author_name.lower())


def flags_for(entry: Entry, rules_model: Playbook | None, require_signed: bool) -> list[Flag]:
    """The audit flags of one commit; `rules_model` holds the approvers in force before it."""
    flags: list[Flag] = []
    log = entry.log
    if not entry.reasons:
        flags.append(Flag("missing-reason", "no `Change-Reason:` trailer"))
    if entry.changes:
        if not entry.approvers:
            flags.append(Flag("missing-approval", "no `Approved-by:` trailer"))
        valid: set[str] = set()
        for a in entry.approvers:
            if _is_author(log, a):
                flags.append(Flag("self-approval", f"approver {a.raw} is the author"))
            elif a.person is None:
                flags.append(Flag("unknown-approver", f"approver {a.raw} is not in `people`"))
            else:
                valid.add(a.person.id)
        if entry.approvers and rules_model is not None:
            for section in sections(entry.changes):
                allowed = rules_model.approvers_for(section)
                if allowed and not (valid & set(allowed)):
                    flags.append(Flag("approver-not-allowed",
                                      f"changes to {section} need approval by one of: {', '.join(allowed)}"))
    if require_signed:
        if log.signature == "N":
            flags.append(Flag("unsigned", "the playbook requires signed commits"))
        elif log.signature not in SIGNED_OK:
            flags.append(Flag("signature-not-verified", SIGNATURE.get(log.signature, "signature not verified")))
    if entry.error:
        flags.append(Flag("model-error", "the playbook does not load at this commit"))
    return flags


class History:
    """Reads the change log of one playbook folder from its repository."""

    def __init__(self, process_dir: Path, cache: bool = True):
        self.git = Git(process_dir)
        self.rel = self.git.rel(process_dir)
        self.snapshots = Snapshots(self.git, self.rel, self.git.root / CACHE_DIR if cache else None)
        self._compiled = CompiledCache(self.git.root / CACHE_DIR if cache else None)

    def compiled(self, tree: str | None, model: Playbook | None) -> Compiled:
        """Exports and checks of the model at a tree, compiled once per tree (kept in .cache/history)."""
        return self._compiled.get(tree, model)

    def impact(self, tree_a: str | None, a: Playbook | None, tree_b: str | None, b: Playbook | None,
               changes: list[Change]) -> Impact:
        """CRM and reporting impact of the changes between two trees."""
        if not changes:
            return Impact()
        return impact(a, b, changes, self.compiled(tree_a, a), self.compiled(tree_b, b))

    def close(self) -> None:
        self.snapshots.close()

    def model(self, sha: str, label: str | None = None) -> Playbook:
        return self.snapshots.model(sha, label)

    def _model_or_none(self, sha: str | None) -> tuple[Playbook | None, str]:
        if sha is None:
            return None, ""
        try:
            return self.snapshots.model(sha), ""
        except ProcessMissing:
            return None, ""
        except ProcessErrors as exc:
            return None, exc.message()

    def entries(self, since: str | None = None, until: str = "HEAD", with_impact: bool = True) -> list[Entry]:
        """Change-log entries, oldest first (with their CRM impact unless `with_impact` is false)."""
        if self.git.head() is None:
            raise UsageError(f"{self.git.root}: the repository has no commits yet")
        if since:
            self.git.resolve(since)
        self.git.resolve(until)
        logs = self.git.log(self.rel, since, until)
        merges = self.git.merge_times(until)
        self.snapshots.prefetch([sha for log in logs for sha in [log.sha, *log.parents[:1]]])
        out: list[Entry] = []
        diffs: dict[tuple[str | None, str | None], list[Change]] = {}
        impacts: dict[tuple[str | None, str | None], Impact] = {}
        pending: list[tuple[Entry, tuple[str | None, str | None], Playbook | None, Playbook | None]] = []
        cut = self.git.shallow_boundary()
        signed = self.git.signed(self.rel, since, until) if logs else set()
        for log in logs:
            parent = log.parents[0] if log.parents else None
            if log.sha in cut:
                # A shallow clone hides this commit's parent: its changes cannot be known.
                out.append(Entry(log=log, merged_time=merges.get(log.sha), reasons=_trailer(log, REASON),
                                 approvers=[], effective=_trailer(log, EFFECTIVE),
                                 error="shallow clone: the parent of this commit is missing, so its "
                                       "changes are unknown"))
                out[-1].flags = [Flag("history-cut", "shallow clone: changes and approvals not checked")]
                continue
            before, _ = self._model_or_none(parent)
            after, error = self._model_or_none(log.sha)
            ta = self.snapshots.tree_id(parent) if parent else None
            tb = self.snapshots.tree_id(log.sha)
            key = (ta, tb)
            if key not in diffs:
                # An unloadable side yields no diff rather than a misleading "created".
                parent_error = parent is not None and ta is not None and before is None
                diffs[key] = [] if error or parent_error else diff(before, after)
            rules_model = before or after
            people = rules_model.people if rules_model else []
            entry = Entry(
                log=log,
                merged_time=merges.get(log.sha),
                reasons=_trailer(log, REASON),
                approvers=[Approver(raw, match_person(raw, people)) for raw in _trailer(log, APPROVED)],
                effective=_trailer(log, EFFECTIVE),
                changes=diffs[key],
                error=error,
            )
            if with_impact and entry.changes:
                pending.append((entry, key, before, after))
            if rules_model is not None:
                entry.required = {sec: list(rules_model.approvers_for(sec)) for sec in sections(entry.changes)}
            require = any(m is not None and m.playbook.require_signed_commits for m in (before, after))
            if log.signature == "N" and log.sha in signed:
                # git says N when it has no way to verify (e.g. no allowed-signers file for SSH keys).
                log.signature = "E"
            entry.flags = flags_for(entry, rules_model, require)
            out.append(entry)
        if pending:
            # Every tree's exports and checks at once: a cold history compiles them on every core.
            self.snapshots.disk.close()  # no cache-writer thread may run while the pool forks
            self._compiled.prefetch([(t, m) for _, (ta, tb), a, b in pending for t, m in ((ta, a), (tb, b))])
        for entry, key, before, after in pending:
            if key not in impacts:
                impacts[key] = self.impact(key[0], before, key[1], after, entry.changes)
            entry.impact = impacts[key]
        return out


# ------------------------------------------------------------------ output


def render(entries: list[Entry], fmt: str, shallow: bool = False) -> str:
    """The change log as text, json or markdown."""
    if fmt == "json":
        return json.dumps({"shallow": shallow, "commits": [e.as_dict() for e in entries]}, indent=2,
                          ensure_ascii=False)
    if fmt == "markdown":
        return render_markdown(entries, shallow)
    lines: list[str] = []
    if shallow:
        lines.append("warning: shallow clone; history before the cut is missing")
    for e in entries:
        t, label = e.time
        lines.append(f"commit {e.log.sha[:12]}  {e.log.subject}")
        lines.append(f"  author:    {e.log.author_name} <{e.log.author_email}>")
        lines.append(f"  time:      {_iso(t)} ({label})")
        lines.append(f"  signature: {SIGNATURE.get(e.log.signature, e.log.signature)}")
        lines.append(f"  reason:    {'; '.join(e.reasons) or '(none)'}")
        lines.append(f"  approved:  {'; '.join(_approver_text(a) for a in e.approvers) or '(none)'}")
        if e.effective:
            lines.append(f"  effective: {'; '.join(e.effective)}")
        for c in e.changes:
            lines.append(f"  * {c.text}")
        for line in e.impact.lines() if e.impact else []:
            lines.append(f"  > {line}")
        if e.error:
            lines.extend("  ! " + line for line in e.error.splitlines())
        for f in e.flags:
            lines.append(f"  FLAG {f.code}: {f.message}")
        lines.append("")
    flagged = sum(1 for e in entries if e.flags)
    lines.append(f"{len(entries)} commit(s), {flagged} flagged")
    return "\n".join(lines)


def _approver_text(a: Approver) -> str:
    return a.raw + (f" [{a.person.id}]" if a.person else " [unknown]")


def render_markdown(entries: list[Entry], shallow: bool = False, heading: str = "##") -> str:
    """Markdown for the site and for pull-request comments; all commit text escaped."""
    from ..text import md_text

    out: list[str] = []
    if shallow:
        out.append("!!! warning \"Shallow clone\"\n    History before the cut is missing.\n")
    for e in reversed(entries):
        t, label = e.time
        out.append(f"{heading} {md_text(e.log.subject) or md_text(e.log.sha[:12])}\n")
        out.append(f"- Commit: `{e.log.sha[:12]}`")
        out.append(f"- Author: {md_text(e.log.author_name)}")
        out.append(f"- When: {_iso(t)} ({label})")
        out.append(f"- Signature: {SIGNATURE.get(e.log.signature, md_text(e.log.signature))}")
        out.append(f"- Reason: {md_text('; '.join(e.reasons)) or '*(none)*'}")
        out.append(f"- Approved by: {md_text('; '.join(_approver_text(a) for a in e.approvers)) or '*(none)*'}")
        if e.effective:
            out.append(f"- Effective: {md_text('; '.join(e.effective))}")
        for f in e.flags:
            out.append(f"- **Flag {md_text(f.code)}**: {md_text(f.message)}")
        out.append("")
        if e.changes:
            out.extend(f"* {change_markdown(c)}" for c in e.changes)
            out.append("")
        if e.impact:
            out.append(impact_markdown(e.impact))
            out.append("")
    if not entries:
        out.append("No commits touched the playbook in this range.\n")
    return "\n".join(out).rstrip() + "\n"


def change_markdown(c: Change) -> str:
    """One change as inline Markdown: a long text's removed and added words marked in place."""
    from ..text import md_text
    from .words import as_markup

    if not c.words:
        return md_text(c.text)
    head = c.text.split(" changed: ", 1)[0]
    return f"{md_text(head)} changed: {as_markup(list(c.words), md_text)}"


def impact_markdown(imp: Impact) -> str:
    """The CRM and reporting impact as a Markdown list (readable on the site and in a pull request)."""
    from ..text import md_text

    body = "\n".join(f"- {_md_code_spans(md_text, line)}" for line in imp.lines())
    return f"**Changes the CRM or reporting:**\n\n{body}"


def _md_code_spans(escape, line: str) -> str:
    # The only backticks in impact lines are our own command names.
    parts = line.split("`")
    out = []
    for i, p in enumerate(parts):
        if i % 2:
            out.append(f"`{p}`")
        else:  # escape() trims; the spaces around a code span are part of the sentence
            out.append((" " if p[:1].isspace() else "") + escape(p) + (" " if p[-1:].isspace() and p.strip() else ""))
    return "".join(out)
