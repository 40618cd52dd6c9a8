"""One small error hierarchy, mapped to exit codes at the CLI boundary.

User errors print a message, never a traceback. Each external tool (git,
graphviz, mkdocs, a database, a CRM API) raises its own subclass, defined
beside the module that wraps it, so the message can say which part failed.
"""

from __future__ import annotations

import errno
import json
from dataclasses import asdict, dataclass, field

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in the process files, with its location."""

    file: str
    line: int
    column: int
    code: str
    message: str
    level: str = "error"  # "error" | "warning"
    hint: str = ""

    def text(self) -> str:
        """`path:line:col: error[CODE]: message (hint)`."""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.column}: {self.level}[{self.code}]: {self.message}{hint}"

    def github(self) -> str:
        """A GitHub Actions workflow command, so problems annotate the diff."""
        kind = "error" if self.level == "error" else "warning"
        msg = _github_data(self.message + (f" ({self.hint})" if self.hint else ""))
        props = ",".join(f"{k}={_github_property(str(v))}" for k, v in
                         (("file", self.file), ("line", self.line), ("col", self.column), ("title", self.code)))
        return f"::{kind} {props}::{msg}"

    def as_dict(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in ("file", "line", "column", "code", "level", "message", "hint")}


def _github_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it (% first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which end a value."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def format_problems(problems: list[Problem], fmt: str = "text") -> str:
    """Render problems as `text`, `json` or `github` output."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.code, p.message))
    if fmt == "json":
        return json.dumps([p.as_dict() for p in ordered], indent=2)
    if fmt == "github":
        return "\n".join(p.github() for p in ordered)
    return "\n".join(p.text() for p in ordered)


class PlaybookError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = EXIT_PROBLEMS

    def message(self) -> str:
        return str(self)


class UsageError(PlaybookError):
    """The command was called wrongly: bad option, missing folder, unsafe value."""

    exit_code = EXIT_USAGE


@dataclass
class ProcessErrors(PlaybookError):
    """Problems in the process files; all of them, found in one pass."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message())

    def message(self) -> str:
        return format_problems(self.problems)


class ExternalToolError(PlaybookError):
    """An external tool (git, dot, mkdocs, a database, a CRM API) failed."""

    exit_code = EXIT_USAGE


class FileSystemError(PlaybookError):
    """The operating system refused a file operation: disk full, read-only, busy, gone.

    Raised at the CLI boundary from any OSError, so every command says what
    happened in one line instead of a traceback, whatever call failed.
    """

    exit_code = EXIT_USAGE

    HINTS = {
        errno.ENOSPC: "the disk is full: free some space and run again",
        errno.EDQUOT: "the disk quota is used up: free some space and run again",
        errno.EROFS: "the file system is read-only: write somewhere else (e.g. --site/--out)",
        errno.EACCES: "permission denied: write somewhere you may, or fix the folder's permissions",
        errno.EPERM: "not permitted: write somewhere you may, or fix the folder's permissions",
        errno.EBUSY: "it is busy or a mount point: a mount point cannot be replaced; write into a folder inside it",
        errno.EXDEV: "it is on another file system than its staging folder; write into a plain folder",
        errno.ENOENT: "it is missing (removed while playbook ran?); run again",
        errno.ENOTEMPTY: "it changed while playbook ran (another build at the same time?); run again",
        errno.EEXIST: "it appeared while playbook ran (another build at the same time?); run again",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "it is a folder, not a file",
        errno.ENAMETOOLONG: "the path is too long",
        errno.EMFILE: "too many open files: raise the limit (ulimit -n) and run again",
    }

    def __init__(self, message: str, errno_: int | None = None):
        super().__init__(message)
        self.errno = errno_

    @classmethod
    def from_os_error(cls, exc: OSError) -> "FileSystemError":
        paths = [str(p) for p in (exc.filename, exc.filename2) if p not in (None, "")]
        where = " -> ".join(paths)
        reason = exc.strerror or type(exc).__name__
        hint = cls.HINTS.get(exc.errno or -1, "")
        text = f"cannot {('use ' + where) if where else 'complete the command'}: {reason}"
        return cls(text + (f" ({hint})" if hint else "") + "; nothing was replaced", exc.errno)
