"""mkdocs: the one place the site runs it.

mkdocs runs in a child process so its plugins, logging and global state never
leak into ours and its stderr can be carried in the error. The project's
`mkdocs.yml` is reused through `INHERIT`, with the docs folder, output folder
and nav of this build layered on top.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ..errors import ExternalToolError

MKDOCS_TIMEOUT = 600
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NOTICE_SHOWN: set[str] = set()


def eol_notice(stderr_text: str) -> str | None:
    """mkdocs-material's own end-of-life notice (Zensical as its successor) from mkdocs' stderr, plain text."""
    lines = _ANSI.sub("", stderr_text).splitlines()
    start = next((i for i, ln in enumerate(lines) if "reaches end of life" in ln), None)
    if start is None:
        return None
    end = next((i for i in range(start, len(lines)) if "NO_MKDOCS_2_WARNING" in lines[i]), len(lines) - 1)
    return "\n".join(ln.rstrip() for ln in lines[start:end + 1] if ln.strip())


def show_notice_once(stderr_text: str) -> None:
    """Pass the theme's end-of-life notice on to our stderr, once per process (one `playbook build`)."""
    notice = eol_notice(stderr_text)
    if notice and notice not in _NOTICE_SHOWN:
        _NOTICE_SHOWN.add(notice)
        print(notice, file=sys.stderr)


class MkdocsError(ExternalToolError):
    """mkdocs failed (or warned under --strict); the message carries its output."""


SEARCH_HOOK = Path(__file__).with_name("search_hook.py")


def project_hooks(base_config: Path) -> list[str]:
    """The `hooks:` of the project's mkdocs.yml, as absolute paths resolved against its folder."""
    from mkdocs.utils.yaml import yaml_load

    base = Path(base_config).resolve()
    with open(base, "rb") as f:
        data = yaml_load(f) or {}
    hooks = (data.get("hooks") or []) if isinstance(data, dict) else []
    return [str((base.parent / h).resolve()) for h in hooks if isinstance(h, str)]


def write_config(base_config: Path, docs_dir: Path, nav: list, path: Path) -> Path:
    """A config that inherits the project's mkdocs.yml and points at this build's docs."""
    # JSON is valid YAML and needs no quoting rules of its own. Hooks are set here, by absolute
    # path, because mkdocs resolves an inherited file's relative paths against the child config,
    # and a list set here replaces the inherited one: the project's own hooks come first, then ours.
    cfg = {"INHERIT": str(Path(base_config).resolve()), "docs_dir": str(Path(docs_dir).resolve()), "nav": nav,
           "hooks": project_hooks(base_config) + [str(SEARCH_HOOK)]}
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
    # --quiet keeps mkdocs' INFO lines out, and its output is captured: the theme's own end-of-life
    # notice would be lost, so it is shown here (once, however many times mkdocs runs in this build).
    show_notice_once(proc.stderr)
