"""The one module that talks to git (through gitpython).

Every revision and path a user types is checked here before it reaches git:
option-like values (`--output=/tmp/x`) and control characters are refused,
and revisions are passed after `--end-of-options`, paths after `--`, so git
can never read them as options. Failures become GitError carrying git's stderr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import ExternalToolError, UsageError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ARG = 256

# Fields of one commit in `git log`; NUL between fields, RS (0x1e) after each record.
_LOG_FIELDS = ("sha", "parents", "author_name", "author_email", "author_time", "committer_time",
               "signature", "signer", "trailers", "subject")
_LOG_FORMAT = "%x00".join(("%H", "%P", "%an", "%ae", "%at", "%ct", "%G?", "%GS",
                           "%(trailers:unfold,only)", "%s")) + "%x1e"


class GitError(ExternalToolError):
    """git failed; the message carries git's own stderr."""

    def __init__(self, message: str, stderr: str = ""):
        self.stderr = (stderr or "").strip()
        full = f"git: {message}" + (f"\n{self.stderr}" if self.stderr else "")
        super().__init__(full)


def check_rev(rev: str, what: str = "revision") -> str:
    """Refuse a user-given revision that git could read as an option or that hides characters."""
    if not isinstance(rev, str) or not rev:
        raise UsageError(f"{what} is empty")
    if rev.startswith("-"):
        raise UsageError(f"{what} {rev!r} looks like an option; refused (nothing was run)")
    if _CONTROL.search(rev) or any(c.isspace() for c in rev):
        raise UsageError(f"{what} {rev!r} contains control or space characters; refused")
    if len(rev) > MAX_ARG:
        raise UsageError(f"{what} is longer than {MAX_ARG} characters; refused")
    return rev


def check_path(path: str, what: str = "path") -> str:
    """Refuse a user-given repository path that is option-like, absolute or escapes the repository."""
    p = str(path)
    if not p or p.startswith("-"):
        raise UsageError(f"{what} {p!r} looks like an option; refused (nothing was run)")
    if _CONTROL.search(p):
        raise UsageError(f"{what} {p!r} contains control characters; refused")
    pp = PurePosixPath(p)
    if pp.is_absolute() or ".." in pp.parts:
        raise UsageError(f"{what} {p!r} must be relative to the repository and stay inside it")
    return p


@dataclass
class LogEntry:
    """One commit as `git log` reports it; times are epoch seconds."""

    sha: str
    parents: list[str]
    author_name: str
    author_email: str
    author_time: int
    committer_time: int
    signature: str  # git's %G? letter: G good, U good/unknown trust, N none, B bad, E unverifiable, ...
    signer: str
    trailers: list[tuple[str, str]] = field(default_factory=list)
    subject: str = ""


def _parse_trailers(block: str) -> list[tuple[str, str]]:
    out = []
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out.append((key.strip(), value.strip()))
    return out


class Git:
    """A repository found from a folder inside it."""

    def __init__(self, path: Path):
        import git as gitpython  # heavy; only commands that use git pay for it

        self._gp = gitpython
        try:
            self.repo = gitpython.Repo(Path(path), search_parent_directories=True)
        except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError) as exc:
            raise NotARepository(f"{path} is not inside a git repository") from exc
        if self.repo.bare or self.repo.working_tree_dir is None:
            raise NotARepository(f"{path}: a bare repository has no working tree")
        self.root = Path(self.repo.working_tree_dir).resolve()

    # ---- plumbing

    def run(self, *args: str, strip: bool = True) -> str:
        """Run `git ARGS` and return stdout; GitError with stderr on failure."""
        try:
            return self.repo.git.execute(["git", *args], strip_newline_in_stdout=strip)
        except self._gp.GitCommandError as exc:
            stderr = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
            stderr = stderr.strip().removeprefix("stderr:").strip().strip("'").strip()
            raise GitError(f"`git {args[0]}` failed (exit {exc.status})", stderr) from None

    def rel(self, path: Path) -> str:
        """`path` relative to the repository root, in git's posix form."""
        try:
            rel = Path(path).resolve().relative_to(self.root)
        except ValueError:
            raise UsageError(f"{path} is outside the repository at {self.root}") from None
        return check_path(rel.as_posix() or ".")

    def is_shallow(self) -> bool:
        """True for a shallow clone, whose history is cut short."""
        return self.run("rev-parse", "--is-shallow-repository") == "true"

    def shallow_boundary(self) -> set[str]:
        """Commits whose parents a shallow clone cut off (empty for a full clone)."""
        path = Path(self.repo.common_dir) / "shallow"
        return set(path.read_text().split()) if path.is_file() else set()

    def resolve(self, rev: str) -> str:
        """Full commit sha of a user-given revision (validated first)."""
        check_rev(rev)
        try:
            return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        except GitError:
            hint = " (the clone is shallow: fetch more history)" if self.is_shallow() else ""
            raise UnknownRevision(f"revision {rev!r} not found in {self.root}{hint}") from None

    def head(self) -> str | None:
        """Sha of HEAD, or None in a repository without commits."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", "HEAD")
        except GitError:
            return None

    # ---- objects

    def tree_at(self, sha: str, rel: str):
        """The gitpython Tree at `rel` in commit `sha`, or None when it does not exist there."""
        tree = self.repo.commit(sha).tree
        if rel in ("", "."):
            return tree
        try:
            obj = tree / rel
        except KeyError:
            return None
        return obj if obj.type == "tree" else None

    def subtrees(self, shas: list[str], rel: str) -> dict[str, str | None]:
        """Hash of the tree at `rel` in each commit (None where absent), in one `git cat-file` call."""
        import subprocess

        check_path(rel)
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        # `sha:.` names nothing in git: the repository root is the commit's own tree.
        spec = "{}^{{tree}}" if rel in ("", ".") else "{}:" + rel
        proc = subprocess.run(["git", "cat-file", "--batch-check=%(objectname) %(objecttype)"],
                              cwd=self.root, input="".join(spec.format(sha) + "\n" for sha in wanted),
                              capture_output=True, text=True)
        if proc.returncode:
            raise GitError("`git cat-file --batch-check` failed", proc.stderr)
        lines = proc.stdout.splitlines()
        if len(lines) != len(wanted):
            raise GitError("unexpected `git cat-file` output", proc.stderr)
        out: dict[str, str | None] = {}
        for sha, line in zip(wanted, lines):
            oid, _, kind = line.partition(" ")
            out[sha] = oid if kind == "tree" else None
        return out

    def objects(self, shas: list[str]) -> dict[str, bytes]:
        """Raw content of many objects (blobs, trees) by hash, from one `git cat-file --batch` call.

        Walking thousands of commits through gitpython costs a Python object per tree entry;
        one batch read is a single process and a byte string per object. Missing ones are left out.
        """
        import subprocess

        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        if any(not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha) for sha in wanted):
            raise UsageError("object names must be full hashes")
        proc = subprocess.run(["git", "cat-file", "--batch"], cwd=self.root,
                              input="".join(f"{sha}\n" for sha in wanted).encode(), capture_output=True)
        if proc.returncode:
            raise GitError("`git cat-file --batch` failed", proc.stderr.decode("utf-8", "replace"))
        out, data, pos = {}, proc.stdout, 0
        for sha in wanted:
            end = data.index(b"\n", pos)
            header = data[pos:end].split()
            pos = end + 1
            if len(header) != 3:  # "<sha> missing"
                continue
            size = int(header[2])
            out[sha] = data[pos:pos + size]
            pos += size + 1
        return out

    def tree(self, tree_sha: str, path: str):
        """A gitpython Tree by its hash, placed at `path` so its entries carry repository paths."""
        from git.objects import Tree

        return Tree(self.repo, bytes.fromhex(tree_sha), mode=Tree.tree_id << 12, path=path)

    def signed(self, path: str, since: str | None = None, until: str = "HEAD") -> set[str]:
        """Commits touching `path` that carry a signature (checked or not), from one `git log`."""
        check_path(path)
        rng = check_rev(until) if not since else f"{check_rev(since)}..{until}"
        out = self.run("log", "--no-show-signature", "--pretty=raw", "--end-of-options", rng, "--", path)
        found, current = set(), None
        for line in out.splitlines():
            if line.startswith("commit "):
                current = line.split()[1]
            elif line.startswith("gpgsig") and current:  # headers are not indented; messages are
                found.add(current)
        return found

    def has_signature(self, sha: str) -> bool:
        """True when the commit carries a signature, even one git could not check."""
        return bool(self.repo.commit(sha).gpgsig)

    def blob_bytes(self, blob) -> bytes:
        """Content of a gitpython Blob."""
        return blob.data_stream.read()

    def read_file(self, ref: str, path: str) -> bytes | None:
        """A file's bytes on a branch or tag (e.g. gh-pages), or None when absent."""
        check_rev(ref)
        check_path(path)
        try:
            commit = self.repo.commit(self.run("rev-parse", "--verify", "--quiet", "--end-of-options",
                                               f"{ref}^{{commit}}"))
        except GitError:
            return None
        try:
            obj = commit.tree / path
        except KeyError:
            return None
        return obj.data_stream.read() if obj.type == "blob" else None

    def list_files(self, ref: str, under: str = "") -> list[str]:
        """Paths of files on `ref` (optionally under a folder)."""
        check_rev(ref)
        args = ["ls-tree", "-r", "--name-only", "--end-of-options", ref]
        if under:
            args += ["--", check_path(under)]
        out = self.run(*args)
        return out.splitlines() if out else []

    # ---- history

    def log(self, path: str, since: str | None = None, until: str = "HEAD") -> list[LogEntry]:
        """Commits that touched `path`, oldest first, with signature status and trailers."""
        check_path(path)
        rng = check_rev(until)
        if since:
            check_rev(since, "--since revision")
            rng = f"{since}..{until}"
        out = self.run("log", "--reverse", "--no-color", "--no-show-signature", f"--format={_LOG_FORMAT}",
                       "--end-of-options", rng, "--", path, strip=False)
        entries = []
        for rec in out.split("\x1e"):
            rec = rec.lstrip("\n")
            if not rec:
                continue
            parts = rec.split("\x00")
            if len(parts) != len(_LOG_FIELDS):
                raise GitError("unexpected `git log` output", rec[:200])
            d = dict(zip(_LOG_FIELDS, parts))
            entries.append(LogEntry(
                sha=d["sha"], parents=d["parents"].split(), author_name=d["author_name"],
                author_email=d["author_email"], author_time=int(d["author_time"]),
                committer_time=int(d["committer_time"]), signature=d["signature"] or "N",
                signer=d["signer"], trailers=_parse_trailers(d["trailers"]), subject=d["subject"]))
        return entries

    def merge_times(self, until: str = "HEAD") -> dict[str, int]:
        """When each commit reached the first-parent line through a merge (committer time of the merge)."""
        check_rev(until)
        out = self.run("log", "--first-parent", "--merges", "--format=%H %P %ct", "--end-of-options", until)
        times: dict[str, int] = {}
        for line in reversed(out.splitlines()):  # oldest merge first: the first merge wins
            parts = line.split()
            merge, parents, ct = parts[0], parts[1:-1], int(parts[-1])
            for side in parents[1:]:
                for sha in self.run("rev-list", "--end-of-options", side, f"^{parents[0]}").splitlines():
                    times.setdefault(sha, ct)
            times.setdefault(merge, ct)
        return times

    # ---- tags

    def tags(self, pattern: str = "v*") -> list[tuple[str, str, str]]:
        """(tag name, commit sha, tag message) for matching tags, oldest tagged commit first."""
        out = self.run("for-each-ref", "--sort=creatordate", "--format=%(refname:short)%00%(objectname)%00"
                       "%(*objectname)%00%(contents)%1e", f"refs/tags/{pattern}", strip=False)
        tags = []
        for rec in out.split("\x1e"):
            rec = rec.lstrip("\n")
            if not rec:
                continue
            name, obj, peeled, message = rec.split("\x00", 3)
            tags.append((name, peeled or obj, message.strip()))
        return tags

    def create_tag(self, name: str, message: str, rev: str = "HEAD") -> None:
        """An annotated tag; refuses to move an existing one."""
        check_rev(name, "tag name")
        self.run("check-ref-format", f"refs/tags/{name}")
        sha = self.resolve(rev)
        self.run("tag", "--annotate", f"--message={message}", "--end-of-options", name, sha)

    def push(self, remote: str, *refs: str) -> None:
        """Push refs to a remote (the user's explicit choice: `--push`)."""
        check_rev(remote, "remote")
        for r in refs:
            check_rev(r, "ref")
        self.run("push", "--atomic", "--end-of-options", remote, *refs)


class NotARepository(GitError):
    """The folder is not inside a git work tree."""

    def __init__(self, message: str):
        super().__init__(message)


class UnknownRevision(GitError):
    """A revision, tag or branch that does not exist here."""

    def __init__(self, message: str):
        super().__init__(message)


TREE_MODE, SUBMODULE_MODE = "40000", "160000"


def parse_tree(raw: bytes, hash_bytes: int = 20) -> list[tuple[str, str, str]]:
    """(mode, name, object hash) of each entry of a raw git tree object, in git's order."""
    out = []
    pos = 0
    while pos < len(raw):
        sp = raw.index(b" ", pos)
        nul = raw.index(b"\0", sp)
        # Names decode as gitpython decodes them, so paths are the same either way.
        out.append((raw[pos:sp].decode("ascii"), raw[sp + 1:nul].decode("utf-8", "surrogateescape"),
                    raw[nul + 1:nul + 1 + hash_bytes].hex()))
        pos = nul + 1 + hash_bytes
    return out
