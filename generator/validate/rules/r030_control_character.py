from __future__ import annotations

from typing import Any, Iterator

from pydantic import BaseModel

from ...text import CONTROL_CHARACTERS
from . import Finding, rule


def _texts(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), path + (name,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _texts(v, path + (i,))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, path + (k,))


@rule("R030", "control-character")
def check(model, ctx):
    """Process text holds no control characters.

    Text in a process file reaches terminals (`playbook history`, `diff`,
    `validate`), CRM exports and the site. An escape sequence written in a
    double-quoted string (`"\\e[2J"`, `"\\x1b]52;..."`) can clear a reviewer's
    screen, write their clipboard or hide text, and bidirectional overrides
    reorder what a reviewer sees. Playbook output shows such characters as
    escapes; this rule finds them where they were written. Tabs and line
    breaks are fine.

    Bad:

        stages:
          - id: new
            guidance: "Call back\\e[8m and never mind the SLA"

    Good:

        stages:
          - id: new
            guidance: Call back within the SLA.
    """
    for path, text in _texts(model, ()):
        m = CONTROL_CHARACTERS.search(text)
        if m:
            c = ord(m.group(0))
            yield Finding(path, f"text contains the control character U+{c:04X}",
                          "remove it (only tabs and line breaks belong in process text)")
