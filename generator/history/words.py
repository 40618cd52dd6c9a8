"""Word-level diff of two texts, so a change log never hides what changed in a long text (pure).

The result is a list of segments `(op, text)`: `=` unchanged words, `-` removed
words, `+` added words, and `…` where unchanged words were left out. A few
unchanged words stay on each side of every change, enough to read it in place.
"""

from __future__ import annotations

import difflib

CONTEXT = 5
"""Unchanged words kept on each side of a change."""

GLUE = 2
"""Unchanged runs this short between two changes join them: a rewritten sentence reads as one change."""

Segment = tuple[str, str]


def word_diff(old: str, new: str, context: int = CONTEXT) -> list[Segment]:
    """Segments that turn `old` into `new`, word by word, with `context` words around each change."""
    a, b = old.split(), new.split()
    out: list[Segment] = []
    ops = _coalesce(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            words = a[i1:i2]
            first, last = n == 0, n == len(ops) - 1
            keep_head = 0 if first else context
            keep_tail = 0 if last else context
            if len(words) <= keep_head + keep_tail + 1:
                out.append(("=", " ".join(words)))
                continue
            if keep_head:
                out.append(("=", " ".join(words[:keep_head])))
            out.append(("…", ""))
            if keep_tail:
                out.append(("=", " ".join(words[-keep_tail:])))
            continue
        if tag in ("delete", "replace"):
            out.append(("-", " ".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            out.append(("+", " ".join(b[j1:j2])))
    return out


def _coalesce(ops: list[tuple[str, int, int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """Merge changes separated by at most GLUE unchanged words into one replacement."""
    out: list[tuple[str, int, int, int, int]] = []
    for i, op in enumerate(ops):
        tag, i1, i2, j1, j2 = op
        inner = 0 < i < len(ops) - 1
        if tag == "equal" and inner and i2 - i1 <= GLUE:
            tag = "replace"
        if tag != "equal" and out and out[-1][0] != "equal":
            _, a1, _, b1, _ = out.pop()
            out.append(("replace", a1, i2, b1, j2))
        else:
            out.append((tag, i1, i2, j1, j2))
    return out


def as_text(segments: list[Segment]) -> str:
    """Plain-text form in git's word-diff style: `[-removed-]{+added+}`, `…` for left-out words."""
    parts = []
    for op, text in segments:
        if op == "=":
            parts.append(text)
        elif op == "-":
            parts.append(f"[-{text}-]")
        elif op == "+":
            parts.append(f"{{+{text}+}}")
        else:
            parts.append("…")
    return " ".join(parts)


def as_markup(segments: list[Segment], escape, removed: str = "del", added: str = "ins") -> str:
    """HTML-ish form for Markdown and HTML: `<del>` and `<ins>` around changed words, text escaped."""
    parts = []
    for op, text in segments:
        if op == "=":
            parts.append(escape(text))
        elif op == "-":
            parts.append(f"<{removed}>{escape(text)}</{removed}>")
        elif op == "+":
            parts.append(f"<{added}>{escape(text)}</{added}>")
        else:
            parts.append("…")
    return " ".join(parts)
