"""Check families: one module per kind of conformance rule, like `validate/rules/`.

Each module registers one function with `@family("<id pattern>", ...)`. Given a
model and its data contract, the function returns, for every rule the playbook
asks for, either the `Check` that counts it or an `Unchecked` saying why the
data dictionary cannot ("not checkable, because ..."): the id, title and
section are written once, so a rule and its not-checkable entry cannot drift.

The function's docstring is the rule's documentation: its first line names the
family, then one paragraph per id pattern, "`pattern`: how it counts". The data
contract's "How each check counts" table (`Check.counts`) and the README's rule
table are rendered from those paragraphs; `{name}` placeholders are filled per
check (e.g. `{row}` with "lead") and shown as `` `<name>` `` in the README.
tests/test_conformance_families.py fails when code, docstrings and README disagree.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from ...model import Playbook
from ..contract import Contract
from ..ir import Check, Unchecked

# Imported explicitly, in this order (a misspelled name is an ImportError, never a silent skip).
MODULES = ("required_fields", "reason_notes", "closure", "allowed_values", "transitions", "slas", "duplicates",
           "attribution", "consent", "activity_logging", "routing", "appointments")

_PARA = re.compile(r"^`(?P<pattern>[^`]+)`: (?P<text>.+)$", re.S)


@dataclass(frozen=True)
class Family:
    """One registered check family."""

    name: str  # module name
    patterns: tuple[str, ...]  # rule id patterns, `<x>` for a part taken from the model
    build: Callable[[Playbook, Contract], Iterable[Check | Unchecked]]

    @property
    def title(self) -> str:
        return (inspect.getdoc(self.build) or "").split("\n", 1)[0].rstrip(".")

    def counting(self) -> dict[str, str]:
        """Id pattern -> counting text (with `{placeholders}`), from the docstring."""
        return counting(self.build)

    def matches(self, rule_id: str) -> str | None:
        """The pattern `rule_id` is an instance of, or None (a literal pattern wins over a `<part>` one)."""
        if rule_id in self.patterns:
            return rule_id
        for p in self.patterns:
            rx = "".join("[a-z0-9_-]+" if part.startswith("<") else re.escape(part)
                         for part in re.split(r"(<[^>]+>)", p))
            if re.fullmatch(rx, rule_id):
                return p
        return None


def counting(fn) -> dict[str, str]:
    """Id pattern -> counting text of a family function, from its docstring paragraphs."""
    out = {}
    for para in re.split(r"\n\s*\n", inspect.getdoc(fn) or "")[1:]:
        m = _PARA.match(para.strip())
        if m:
            out[m["pattern"]] = " ".join(m["text"].split())
    return out


def counts(fn, pattern: str, **terms: str) -> str:
    """How a rule of `pattern` counts (the docstring paragraph of `fn`), placeholders filled from `terms`."""
    return counting(fn)[pattern].format(**terms)


_REGISTRY: dict[str, Family] = {}


def family(*patterns: str):
    """Register the decorated `build(model, contract)` as the family of its module."""
    def deco(fn):
        name = fn.__module__.rsplit(".", 1)[-1]
        _REGISTRY[name] = Family(name, patterns, fn)
        return fn
    return deco


def families() -> list[Family]:
    """Every family, in MODULES order."""
    for m in MODULES:
        importlib.import_module(f"{__name__}.{m}")
    return [_REGISTRY[m] for m in MODULES]


def by_name(name: str) -> Family:
    families()
    return _REGISTRY[name]


def readme_table() -> str:
    """The README's rule table: every id pattern and how it counts, from the docstrings."""
    lines = ["| rule id | counts |", "| --- | --- |"]
    for f in families():
        for pattern, text in f.counting().items():
            shown = re.sub(r"{(\w+)}", r"`<\1>`", text)
            lines.append(f"| `{pattern}` | {shown} |")
    return "\n".join(lines)
