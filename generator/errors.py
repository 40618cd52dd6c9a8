"""One small error hierarchy, mapped to exit codes at the CLI boundary.

User errors print a message, never a traceback. Each external tool (git,
graphviz, mkdocs, a database, a CRM API) raises its own subclass, defined
beside the module that wraps it, so the message can say which part failed.
"""

from __future__ import annotations

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
        msg = self.message + (f" ({self.hint})" if self.hint else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{kind} file={self.file},line={self.line},col={self.column},title={self.code}::{msg}"

    def as_dict(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in ("file", "line", "column", "code", "level", "message", "hint")}


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
