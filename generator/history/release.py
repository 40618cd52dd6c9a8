"""Releases: validate, build, deploy the versioned site with mike, tag; and "which version on date D".

Each release records its effective date (from `playbook.effective`) twice: in
the annotated tag's message (`Effective: YYYY-MM-DD`) and as a property of the
version in mike's `versions.json` on `gh-pages`, which is the releases record
the site's version selector reads.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from ..errors import UsageError
from .git import Git, GitError, check_rev
from .publish import BRANCH, LATEST, deploy, versions

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+]{0,62}$")
_EFFECTIVE = re.compile(r"^Effective:\s*(\d{4}-\d{2}-\d{2})\s*$", re.MULTILINE)

SiteBuilder = Callable[[Path, Path], None]
"""(process_dir, site_dir) -> writes the built site into site_dir."""


@dataclass(frozen=True)
class Release:
    version: str
    tag: str
    effective: date
    commit: str
    branch: str = BRANCH


def check_version(version: str) -> str:
    """A version name safe as a tag, a folder and a URL segment."""
    if version.startswith("-"):
        raise UsageError(f"version {version!r} looks like an option; refused (nothing was run)")
    if not _VERSION.match(version) or ".." in version or version.endswith(".") or version == LATEST:
        raise UsageError(f"version {version!r} is not allowed: use letters, digits and . _ + "
                         f"(e.g. 1.4.0), not {LATEST!r}")
    return version


THEME_DIR = Path(__file__).parent / "theme"


def build_site(process_dir: Path, site_dir: Path) -> None:
    """Build the site for this release with the site part's build, plus mike's version selector."""
    from ..site.build import DEFAULT_CONFIG, build_site as site_build

    with tempfile.TemporaryDirectory(prefix="playbook-release-cfg-") as tmp:
        # Layered over the project's mkdocs.yml: the version selector reads mike's versions.json,
        # and the theme override shows the "outdated" banner on every version but `latest`.
        cfg = Path(tmp) / "mkdocs.yml"
        cfg.write_text(json.dumps({
            "INHERIT": str(DEFAULT_CONFIG),
            "theme": {"name": "material", "custom_dir": str(THEME_DIR)},
            "extra": {"version": {"provider": "mike", "default": LATEST, "alias": True}},
        }, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        site_build(process_dir, site_dir, cache_dir=None, config=cfg)


def tag_message(playbook_id: str, version: str, effective: date, commit: str) -> str:
    return f"playbook {playbook_id} {version}\n\nEffective: {effective.isoformat()}\nCommit: {commit}\n"


def _ref(git: Git, ref: str) -> str | None:
    try:
        return git.run("rev-parse", "--verify", "--quiet", ref)
    except GitError:
        return None


def _is_ancestor(git: Git, older: str, newer: str) -> bool:
    try:
        git.run("merge-base", "--is-ancestor", older, newer)
        return True
    except GitError:
        return False


def _check_remote(git: Git, remote: str, tag: str, local_pages: str | None) -> None:
    """Everything about a push that can be known before anything is changed."""
    check_rev(remote, "remote")
    if remote not in git.run("remote").split():
        raise UsageError(f"no remote named {remote!r} (`git remote -v` lists them); nothing was changed")
    try:
        out = git.run("ls-remote", "--end-of-options", remote, f"refs/tags/{tag}", f"refs/heads/{BRANCH}")
    except GitError as exc:
        raise GitError(f"cannot reach remote {remote!r}; nothing was changed", exc.stderr) from None
    found = dict(reversed(line.split("\t", 1)) for line in out.splitlines() if "\t" in line)
    if f"refs/tags/{tag}" in found:
        raise UsageError(f"tag {tag} already exists on {remote}; releases are immutable, pick a new version")
    theirs = found.get(f"refs/heads/{BRANCH}")
    if theirs and (local_pages is None or not _ref(git, f"{theirs}^{{commit}}")
                   or not _is_ancestor(git, theirs, local_pages)):
        raise UsageError(f"{BRANCH} on {remote} has commits the local {BRANCH} lacks: "
                         f"`git fetch {remote} {BRANCH}:{BRANCH}` first; nothing was changed")


def _check_pages(git: Git, remote: str, local_pages: str | None) -> None:
    """The local gh-pages must not be behind or diverged from the remote-tracking one."""
    tracking = _ref(git, f"refs/remotes/{remote}/{BRANCH}") if not remote.startswith("-") else None
    if tracking and (local_pages is None or not _is_ancestor(git, tracking, local_pages)):
        raise UsageError(f"the local {BRANCH} is behind or diverged from {remote}/{BRANCH}: "
                         f"update it (`git fetch {remote} {BRANCH}:{BRANCH}`) first; nothing was changed")


@contextlib.contextmanager
def _tagged_tree(git: Git, commit: str) -> Iterator[Path]:
    """A checkout of exactly `commit` (a detached worktree): what the tag holds, nothing else."""
    with tempfile.TemporaryDirectory(prefix="playbook-release-tree-") as tmp:
        tree = Path(tmp) / "tree"
        git.run("worktree", "add", "--quiet", "--detach", "--end-of-options", str(tree), commit)
        try:
            yield tree
        finally:
            try:
                git.run("worktree", "remove", "--force", "--end-of-options", str(tree))
            except GitError:
                shutil.rmtree(tree, ignore_errors=True)
                git.run("worktree", "prune")


def release(process_dir: Path, version: str, push: bool = False, remote: str = "origin",
            builder: SiteBuilder | None = None) -> Release:
    """Validate, build, deploy with mike, then tag `v{VERSION}`; push only when asked.

    All or nothing: everything that can be checked is checked before the first change,
    and any failure after it (build, deploy, push, an interrupt) puts the tag and the
    `gh-pages` branch (so `versions.json`) back exactly as they were.
    """
    from ..validate import load_playbook

    check_version(version)
    process_dir = Path(process_dir)
    git = Git(process_dir)
    rel = git.rel(process_dir)
    head = git.head()
    if head is None:
        raise UsageError("nothing to release: the repository has no commits")
    tag = f"v{version}"
    if any(name == tag for name, _, _ in git.tags(tag)):
        raise UsageError(f"tag {tag} already exists; releases are immutable, pick a new version")
    if git.run("status", "--porcelain", "--untracked-files=all", "--", rel):
        raise UsageError(f"{rel} has uncommitted changes: commit them so the release matches its tag")
    pages_before = _ref(git, f"refs/heads/{BRANCH}")
    if push:
        _check_remote(git, remote, tag, pages_before)
    _check_pages(git, remote, pages_before)
    with _tagged_tree(git, head) as tree:
        # Built from the commit the tag names, so a git-ignored or untracked file is never published.
        tagged_dir = tree / rel
        model = load_playbook(tagged_dir)
        effective = model.playbook.effective
        for name, _, message in git.tags("v*"):
            m = _EFFECTIVE.search(message)
            if m and date.fromisoformat(m.group(1)) > effective:
                raise UsageError(f"effective date {effective} is before that of {name} ({m.group(1)}): "
                                 "a later release cannot take effect earlier; update `playbook.effective`")
        props = {"effective": effective.isoformat(), "commit": head, "tag": tag}
        # Tag first so the change log built into this version's site lists it as released.
        git.create_tag(tag, tag_message(model.playbook.id, version, effective, head), head)
        try:
            with tempfile.TemporaryDirectory(prefix="playbook-release-") as tmp:
                site_dir = Path(tmp) / "site"
                build = builder or build_site
                deploy(git.root, version, site_dir, lambda: build(tagged_dir, site_dir), props)
            if push:
                # --atomic: the remote takes both refs or neither.
                git.push(remote, f"refs/tags/{tag}", f"refs/heads/{BRANCH}")
        except BaseException:
            _restore(git, tag, pages_before)
            raise
    return Release(version, tag, effective, head)


def _restore(git: Git, tag: str, pages_before: str | None) -> None:
    """Undo a release that failed half way: no tag, gh-pages where it was."""
    with contextlib.suppress(GitError):
        git.run("tag", "--delete", "--end-of-options", tag)
    now = _ref(git, f"refs/heads/{BRANCH}")
    if now == pages_before:
        return
    if pages_before is None:
        git.run("update-ref", "-d", f"refs/heads/{BRANCH}")
    else:
        git.run("update-ref", f"refs/heads/{BRANCH}", pages_before)


def releases(git: Git) -> list[Release]:
    """Every tagged release with an effective date, in tag order."""
    out = []
    for name, sha, message in git.tags("v*"):
        m = _EFFECTIVE.search(message)
        if m:
            out.append(Release(name[1:], name, date.fromisoformat(m.group(1)), sha))
    return out


def published(git: Git) -> list[Release]:
    """Releases recorded in mike's versions.json on gh-pages (when the tags were not fetched)."""
    out = []
    for ref in (BRANCH, f"origin/{BRANCH}"):
        entries = versions(lambda path: git.read_file(ref, path))
        for v in reversed(entries):  # mike lists newest first
            props = v.get("properties") or {}
            try:
                out.append(Release(str(v["version"]), str(props.get("tag", "")), date.fromisoformat(props["effective"]),
                                   str(props.get("commit", ""))))
            except (KeyError, TypeError, ValueError):
                continue
        if out:
            return out
    return out


def version_at(process_dir: Path, when: str) -> Release:
    """The release in effect on a date: the latest effective date on or before it."""
    try:
        day = date.fromisoformat(when)
    except ValueError:
        raise UsageError(f"date {when!r} is not YYYY-MM-DD") from None
    git = Git(process_dir)
    found = releases(git) or published(git)
    if not found:
        hint = " (the clone is shallow or tags were not fetched: `git fetch --tags`)" if git.is_shallow() else \
            " (fetch tags with `git fetch --tags` if they live on the remote)"
        raise UsageError(f"no release tags (v*) with an effective date found{hint}")
    in_effect = [r for r in found if r.effective <= day]
    if not in_effect:
        first = min(found, key=lambda r: r.effective)
        raise UsageError(f"no release was in effect on {day}: the first, {first.version}, "
                         f"took effect on {first.effective}")
    # Same effective date: the later release supersedes the earlier one.
    best = max(in_effect, key=lambda r: (r.effective, found.index(r)))
    return best
