"""mike: the one place versioned sites are written to the `gh-pages` branch.

mike's API runs git in the current directory. Rather than change this
process's working directory (which every thread shares), the deploy runs in a
child process started in the repository root. A deploy is one commit made by
`git fast-import`: it lands whole or not at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from ..errors import ExternalToolError

BRANCH = "gh-pages"
LATEST = "latest"
DEPLOY_TIMEOUT = 600
"""Seconds a mike deploy may take (it writes the site into one git commit)."""


class MikeError(ExternalToolError):
    """mike (or the git it drives) failed; the message carries git's stderr."""


def deploy(root: Path, version: str, site_dir: Path, build: Callable[[], None],
           properties: dict[str, Any], branch: str = BRANCH) -> None:
    """Build, then `mike deploy --update-aliases VERSION latest` (redirect alias) and `mike set-default latest`."""
    build()
    job = {"site_dir": str(Path(site_dir).resolve()), "version": version, "branch": branch,
           "properties": sorted(properties.items())}
    try:
        proc = subprocess.run([sys.executable, "-m", "generator.history.publish"], input=json.dumps(job),
                              cwd=root, capture_output=True, text=True, timeout=DEPLOY_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MikeError(f"mike: deploying {version} to {branch} could not run: {exc}") from None
    if proc.returncode != 0:
        raise MikeError(proc.stderr.strip() or f"mike: deploying {version} to {branch} failed "
                        f"(exit {proc.returncode})")


def _deploy_here(job: dict[str, Any]) -> None:
    """The child's part: mike's API in the current directory (the repository root)."""
    from mike import commands, git_utils

    version, branch = job["version"], job["branch"]
    cfg = {"site_dir": job["site_dir"], "use_directory_urls": True}
    try:
        with commands.deploy(cfg, version, aliases=[LATEST], update_aliases=True,
                             alias_type=commands.AliasType.redirect, branch=branch,
                             message=f"Deploy playbook site {version}",
                             set_props=[tuple(p) for p in job["properties"]]):
            pass  # built by the parent already
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


if __name__ == "__main__":  # the child process of deploy()
    try:
        _deploy_here(json.loads(sys.stdin.read()))
    except MikeError as exc:
        print(exc.message(), file=sys.stderr)
        sys.exit(2)
