"""mkdocs: the one place the site runs it.

mkdocs runs in a child process so its plugins, logging and global state never
leak into ours and its stderr can be carried in the error. The project's
`mkdocs.yml` is reused through `INHERIT`, with the docs folder, output folder
and nav of this build layered on top.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..errors import ExternalToolError

MKDOCS_TIMEOUT = 600


class MkdocsError(ExternalToolError):
    """mkdocs failed (or warned under --strict); the message carries its output."""


def write_config(base_config: Path, docs_dir: Path, nav: list, path: Path) -> Path:
    """A config that inherits the project's mkdocs.yml and points at this build's docs."""
    # JSON is valid YAML and needs no quoting rules of its own.
    cfg = {"INHERIT": str(Path(base_config).resolve()), "docs_dir": str(Path(docs_dir).resolve()), "nav": nav}
    path.write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def build(config_file: Path, site_dir: Path, strict: bool = True, build_epoch: str | None = None) -> None:
    """Run `mkdocs build` into site_dir; raise MkdocsError with mkdocs' output on failure."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file", str(config_file),
           "--site-dir", str(site_dir)]
    if strict:
        cmd.append("--strict")
    env = dict(os.environ)
    if build_epoch is not None:
        # mkdocs dates the sitemap (and its gzip header) from this, so builds repeat byte for byte.
        env["SOURCE_DATE_EPOCH"] = build_epoch
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=MKDOCS_TIMEOUT, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MkdocsError(f"mkdocs could not run: {exc}") from exc
    if proc.returncode != 0:
        out = "\n".join(x for x in (proc.stderr.strip(), proc.stdout.strip()) if x)
        raise MkdocsError(f"mkdocs build failed (exit {proc.returncode}):\n{out}")
