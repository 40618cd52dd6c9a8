"""What the cursor is on, read from the text alone, so it works mid-edit on broken YAML.

An editor asks for completion while the line is half typed (`lane: mar`, `- to: `,
`required_fields: [phone, sp`), when the file may not parse. The key chain above
the cursor is found by indentation: each parent is the nearest line above whose key
starts further left. The chain is then followed through the model's classes to the
(model, field) it names, which `validate.refs.REFS` maps to the sections an id is
looked up in.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..model import Playbook

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dashes>(?:-\s+)*)(?P<key>[A-Za-z_][\w-]*)\s*:(?:\s+|$)(?P<value>.*)$")
_DASH_ONLY = re.compile(r"^(?P<indent>\s*)-(?:\s+(?P<value>.*))?$")
_WORD = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Context:
    """The key chain at the cursor (outermost first) and what is being typed."""

    keys: tuple[str, ...]
    on_key: bool  # the cursor is on the key itself, not on its value
    prefix: str  # the part of the word before the cursor
    word_start: int  # 0-based column where the word under the cursor starts
    word_end: int


def _strip_comment(text: str) -> str:
    # A '#' after a space starts a comment (inside quotes it would not, but ids are never quoted with '#').
    m = re.search(r"(^|\s)#", text)
    return text[: m.start()] if m else text


def _key_column(line: str) -> tuple[int, str, str] | None:
    """(column of the key, key, value text) of a `key: value` or `- key: value` line."""
    m = _KEY_LINE.match(line)
    if not m:
        return None
    return m.start("key"), m.group("key"), _strip_comment(m.group("value")).strip()


def _parents(lines: list[str], row: int, column: int) -> list[str]:
    """Keys of the mappings enclosing a key that starts at `column` on `row`, innermost first."""
    out: list[str] = []
    cur = column
    for r in range(row - 1, -1, -1):
        line = lines[r]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(("---", "...", "%")):
            break
        found = _key_column(line)
        if found is None:
            continue  # a list item of scalars, a continuation line
        col, key, _ = found
        if col < cur:
            out.append(key)
            cur = col
            if col == 0:
                break
    return out


def _flow_key(value: str) -> tuple[str | None, str]:
    """Inside an unclosed flow mapping (`{field: sp`): the inner key and what follows it."""
    depth = 0
    start = -1
    for i, ch in enumerate(value):
        if ch == "{":
            depth += 1
            start = i
        elif ch == "}":
            depth -= 1
    if depth <= 0 or start < 0:
        return None, value
    inner = value[start + 1:]
    parts = re.split(r",", inner)
    last = parts[-1]
    m = re.match(r"\s*([A-Za-z_][\w-]*)\s*:\s*(.*)$", last)
    if not m:
        return None, last
    return m.group(1), m.group(2)


def context_at(text: str, line: int, character: int) -> Context | None:
    """The cursor's context (0-based line and column), or None on a blank or comment line."""
    lines = text.split("\n")
    if line >= len(lines):
        return None
    full = lines[line].rstrip("\r")
    character = max(0, min(character, len(full)))
    before = full[:character]
    # The word under the cursor.
    start = character
    while start > 0 and _WORD.match(full[start - 1]):
        start -= 1
    end = character
    while end < len(full) and _WORD.match(full[end]):
        end += 1
    prefix = full[start:character]
    if full.strip().startswith("#"):
        return None
    found = _key_column(full)
    if found is not None and found[0] <= character:
        col, key, _ = found
        colon = full.index(":", col)
        parents = _parents(lines, line, col)
        keys = tuple(reversed(parents)) + (key,)
        if character <= colon:
            return Context(keys, True, prefix, start, end)
        value_before = before[colon + 1:]
        inner, _ = _flow_key(value_before)
        if inner is not None:
            keys = keys + (inner,)
        return Context(keys, False, prefix, start, end)
    dash = _DASH_ONLY.match(full)
    if dash is not None or (found is None and full.strip()):
        # A list item of ids under a `key:` line above (or a continuation of a flow list).
        indent = len(dash.group("indent")) if dash is not None else len(full) - len(full.lstrip())
        for r in range(line - 1, -1, -1):
            above = lines[r]
            if not above.strip() or above.strip().startswith("#"):
                continue
            k = _key_column(above)
            if k is None:
                continue
            col, key, value = k
            if col <= indent and (value == "" or value.startswith("[")):
                parents = _parents(lines, r, col)
                return Context(tuple(reversed(parents)) + (key,), False, prefix, start, end)
            if col < indent:
                break
        return None
    return None


def _unwrap(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model class in list[X] / X | None / dict[str, X], and whether it sits in a dict."""
    todo = [annotation]
    in_dict = False
    while todo:
        a = todo.pop(0)
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a, in_dict
        if typing.get_origin(a) is dict:
            in_dict = True
            todo.extend(typing.get_args(a)[1:])
        else:
            todo.extend(typing.get_args(a))
    return None, False


def field_at(keys: tuple[str, ...]) -> tuple[type[BaseModel], str] | None:
    """The (model class, field name) a key chain names, starting at the whole playbook."""
    cls: type[BaseModel] = Playbook
    i = 0
    while i < len(keys):
        key = keys[i]
        info = cls.model_fields.get(key)
        if info is None:
            return None
        if i == len(keys) - 1:
            return cls, key
        sub, in_dict = _unwrap(info.annotation)
        if sub is None:
            # A dict of ids (`approvers: {default: [ana]}`): the value under any key is the field's.
            if typing.get_origin(info.annotation) is dict and i == len(keys) - 2:
                return cls, key
            return None
        i += 1
        if in_dict:
            i += 1  # skip the dict's own key (a section name, a rule id)
            if i >= len(keys):
                return None
        cls = sub
    return None
