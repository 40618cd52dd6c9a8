"""Semantic rules. One module per rule, each with a stable code.

A rule is a function `(playbook, index) -> iterable of Finding`, registered
with `@rule(CODE, level)`; its docstring is its documentation (what it
checks, a bad example and a good example) and is rendered by `playbook rules`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ...errors import Problem
from ...load import SourceMap
from ...model import Playbook


@dataclass(frozen=True)
class Finding:
    """A rule's finding: a message, the data path it is about, and a hint."""

    path: tuple[Any, ...]
    message: str
    hint: str = ""
    key: bool = False


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    level: str
    func: Callable[[Playbook], Iterable[Finding]]

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, level: str = "error"):
    """Register a rule function under a stable code."""

    def wrap(func):
        if code in REGISTRY:
            raise RuntimeError(f"rule code {code} registered twice")
        REGISTRY[code] = Rule(code, name, level, func)
        return func

    return wrap


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def run_rules(model: Playbook, smap: SourceMap) -> list[Problem]:
    """Run every registered rule; findings become located problems."""
    _discover()
    problems: list[Problem] = []
    for code in sorted(REGISTRY):
        r = REGISTRY[code]
        for f in r.func(model):
            loc = smap.locate(f.path, key=f.key)
            problems.append(Problem(loc.file, loc.line, loc.column, r.code, f.message, r.level, f.hint))
    return problems
