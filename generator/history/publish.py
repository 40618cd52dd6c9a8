"""mike: the one place versioned sites are written to the `gh-pages` branch.

mike's API runs git in the current directory, so each call runs inside the
repository root and restores the caller's directory afterwards. A deploy is
one commit made by `git fast-import`: it lands whole or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import ExternalToolError

BRANCH = "gh-pages"
LATEST = "latest"


class MikeError(ExternalToolError):
    """mike (or the git it drives) failed; the message carries git's stderr."""


@contextlib.contextmanager
def _in(root: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def deploy(root: Path, version: str, site_dir: Path, build: Callable[[], None],
           properties: dict[str, Any], branch: str = BRANCH) -> None:
    """`mike deploy --update-aliases VERSION latest` (redirect alias) then `mike set-default latest`."""
    from mike import commands, git_utils

    cfg = {"site_dir": str(site_dir), "use_directory_urls": True}
    try:
        with _in(root):
            with commands.deploy(cfg, version, aliases=[LATEST], update_aliases=True,
                                 alias_type=commands.AliasType.redirect, branch=branch,
                                 message=f"Deploy playbook site {version}",
                                 set_props=sorted(properties.items())):
                build()
            commands.set_default(LATEST, branch=branch, message=f"Default version: {LATEST} ({version})",
                                 allow_empty=True)
    except git_utils.GitError as exc:
        raise MikeError(f"mike: deploying {version} to {branch} failed: {exc}") from None
    except ValueError as exc:  # mike's own checks (e.g. an alias that names a version)
        raise MikeError(f"mike: {exc}") from None


def versions(read: Callable[[str], bytes | None]) -> list[dict[str, Any]]:
    """Entries of `versions.json` on the branch, via a reader of branch files."""
    raw = read("versions.json")
    if raw is None:
        return []
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MikeError(f"versions.json on {BRANCH} is not valid JSON: {exc}") from None
    return data if isinstance(data, list) else []
