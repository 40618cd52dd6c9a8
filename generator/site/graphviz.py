"""Graphviz `dot`: the one place the site talks to it.

DOT is built with the `graphviz` package so every label and attribute goes
through its quoting; process text is wrapped in `graphviz.escape` so a label
can never become an HTML-like label or a record/escape sequence. SVG output
is cached by a hash of the DOT source and the dot version, so an edit
re-renders only the diagrams it touches.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ExternalToolError

DOT_TIMEOUT = 60


class GraphvizError(ExternalToolError):
    """`dot` is missing or failed; the message carries its stderr."""


def label(text: object) -> str:
    """Process text made safe for a DOT label or tooltip (never HTML-like, escapes literal)."""
    import graphviz

    return graphviz.escape("" if text is None else str(text))


_version_cache: dict[str, str] = {}


def dot_version(dot: str = "dot") -> str:
    """The `dot -V` banner; part of the cache key so an upgrade re-renders."""
    if dot not in _version_cache:
        exe = shutil.which(dot)
        if exe is None:
            raise GraphvizError(
                f"graphviz `{dot}` was not found on PATH; install graphviz (scripts/system-deps.sh site)"
            )
        proc = subprocess.run([exe, "-V"], capture_output=True, text=True, timeout=DOT_TIMEOUT)
        _version_cache[dot] = (proc.stderr or proc.stdout).strip()
    return _version_cache[dot]


# A diagram may end with this line and edge statements after it: those edges are
# added once dot has placed every node, and routed around the boxes by
# `neato -n2` (which keeps the positions), so they cannot change the layout.
AFTER_LAYOUT = "// after layout\n"


# Obstacle-avoiding splines in `neato -n2` grow much faster than the diagram: a phase of
# the default playbook (64 boxes, 7 handoffs) routes in about a second, three times that
# (192 boxes, 21 handoffs) in 22 s, twenty times never within DOT_TIMEOUT. Past this many
# boxes x routed edges the handoffs are drawn as straight lines instead, so a large
# playbook still builds; the boxes stay where dot put them.
ROUTE_BUDGET = 1500


def routing_splines(layout: str, later: str) -> str:
    """The `splines` setting for the routing pass: curves around boxes, or lines when too large."""
    boxes = len(re.findall(r"^\s*\S+ \[label=", layout, re.M))
    routed = later.count("->")
    return "spline" if boxes * routed <= ROUTE_BUDGET else "line"


def _run(cmd: list[str], source: str) -> str:
    try:
        proc = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=DOT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphvizError(f"graphviz `{cmd[0]}` could not run: {exc}") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise GraphvizError(f"graphviz `{Path(cmd[0]).name}` failed (exit {proc.returncode}): {err}")
    return proc.stdout.decode("utf-8")


def render_svg(source: str, cache_dir: Path | None = None, dot: str = "dot") -> str:
    """Render DOT to SVG text ready to inline in a page; cached by content hash."""
    key = hashlib.sha256((dot_version(dot) + "\0" + source).encode("utf-8")).hexdigest()
    cached = Path(cache_dir) / f"{key}.svg" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8")
    exe = shutil.which(dot) or dot
    if AFTER_LAYOUT in source:
        layout, later = source.split(AFTER_LAYOUT, 1)
        placed = _run([exe, "-Tdot"], layout).rstrip()
        if not placed.endswith("}"):
            raise GraphvizError(f"graphviz `{dot}` wrote an unexpected layout")
        neato = str(Path(exe).with_name("neato")) if Path(exe).is_absolute() else "neato"
        if routing_splines(layout, later) == "line":
            placed = re.sub(r"\bsplines=\w+", "splines=line", placed, count=1)
        out = _run([neato, "-n2", "-Tsvg"], placed[:-1] + later + "}\n")
    else:
        out = _run([exe, "-Tsvg"], source)
    svg = clean_svg(out)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename so a concurrent build never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(svg)
        os.replace(tmp, cached)
    return svg


_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_OPEN = re.compile(r"<svg\b")
_TITLE = re.compile(r"<title>[^<]*</title>\n?")


def clean_svg(svg: str) -> str:
    """Strip the XML prologue and comments so the SVG can sit inline in HTML.

    Blank lines are removed too: Markdown ends a raw HTML block at one.
    """
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _COMMENT.sub("", svg)
    # <title> holds DOT node names (step__x): noise in tooltips and in the search index.
    svg = _TITLE.sub("", svg)
    # No role="img": that would hide the step links inside from screen readers. The
    # page's figure around the SVG carries the diagram's accessible name.
    svg = _OPEN.sub('<svg', svg, count=1)
    return "\n".join(line for line in svg.splitlines() if line.strip()) + "\n"
