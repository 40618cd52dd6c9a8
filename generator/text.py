"""Process text is data, never markup: escape it for each output it reaches.

Every string that comes from a process file passes through one of these
before it lands in Markdown, HTML, a DOT label or XML, so raw HTML, script
tags, `javascript:` links, snippet markers (`--8<--`) and template syntax in a
description all show up as the literal text the author typed.
"""

from __future__ import annotations

import html
import re

# Python-Markdown and pymdownx treat these as syntax; the site enables
# pymdownx.escapeall so a backslash makes any of them literal.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~^=:$%@])")


def md_text(value: object) -> str:
    """Escape text for inline use in Markdown (tables, lists, headings)."""
    s = "" if value is None else str(value)
    # & < > become entities: no raw HTML. Quotes stay as typed: Markdown text is never an attribute
    # value (html_text is for those), and an entity like &#x27; would have its `#` escaped below,
    # so readers of the Markdown (a table of contents, GitHub) would see "&#x27;" for an apostrophe.
    s = html.escape(s, quote=False)
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # Newlines would end a table row or list item: keep the text on one line.
    return re.sub(r"\s*\n\s*", " ", s).strip()


def md_code(value: object) -> str:
    """Inline code for an identifier (rule id, column, table); anything unusual falls back to escaped text."""
    text = "" if value is None else str(value)
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", text):
        return f"`{text}`"
    return md_text(text)


def md_block(value: object) -> str:
    """Escape multi-line text as Markdown paragraphs."""
    s = "" if value is None else str(value)
    paras = [p for p in re.split(r"\n\s*\n", s) if p.strip()]
    return "\n\n".join(md_text(p) for p in paras)


def html_text(value: object) -> str:
    """Escape text for HTML content or attributes."""
    return html.escape("" if value is None else str(value), quote=True)


# ------------------------------------------------------------------ terminals

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that
# reorder what a reader sees ("Trojan source"). Written to a terminal, these clear the
# screen, set the clipboard (OSC 52), hide text or retitle the window.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Colour only (SGR), never "concealed" (8): what our own styling (click, rich) writes to a terminal.
_SGR = re.compile(r"\x1b\[([0-9;]{0,40})m")
CONTROL_CHARACTERS = _TERMINAL_UNSAFE
"""What `terminal_safe` escapes (and `playbook validate` reports in process text)."""


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


def _colour_only(params: str) -> bool:
    """SGR parameters that set colours and weights, none "concealed" (8)."""
    items = [p for p in params.split(";")] if params else []
    i = 0
    while i < len(items):
        p = items[i]
        if p in ("38", "48", "58"):  # extended colour: 5;n or 2;r;g;b
            i += 3 if i + 1 < len(items) and items[i + 1] == "5" else 5
            continue
        if p in ("8", "08"):
            return False
        i += 1
    return True


def terminal_safe(text: str, allow_colour: bool = False) -> str:
    """Text with every control character shown as an escape (`\\x1b`), so output cannot drive a terminal.

    With `allow_colour`, well-formed colour sequences (SGR, without "concealed")
    pass: the styling click and rich add when they write to a terminal.
    """
    if not allow_colour:
        return _TERMINAL_UNSAFE.sub(_escape, text)
    out, pos = [], 0
    for m in _SGR.finditer(text):
        if not _colour_only(m.group(1)):
            continue
        out.append(_TERMINAL_UNSAFE.sub(_escape, text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_TERMINAL_UNSAFE.sub(_escape, text[pos:]))
    return "".join(out)


class SafeStream:
    """A text stream that writes through `terminal_safe`: the output layer every command prints to.

    Colour passes only when the stream is a terminal (piped output is plain text).
    Text written to it is sanitised; its `buffer` stays the raw binary stream, for
    protocols such as the language server's, which are not text for a reader.
    """

    def __init__(self, raw):
        self.raw = raw
        self._colour = bool(getattr(raw, "isatty", lambda: False)())

    def write(self, text: str) -> int:
        self.raw.write(terminal_safe(text, allow_colour=self._colour))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self._colour

    def fileno(self) -> int:
        return self.raw.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.raw, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:
        return getattr(self.raw, "errors", None)

    def __getattr__(self, name: str):
        # `buffer` included: binary protocols (the language server's JSON-RPC) write there, not text.
        return getattr(self.raw, name)
