"""Semantic rules. One module per rule, each with a stable code.

A rule is a function `(playbook, ctx) -> iterable of Finding`, registered
with `@rule(CODE, name, level)`; its docstring is its documentation (what it
checks, a bad example and a good example) and is rendered by `playbook rules`.
`ctx` is a `Context`: cached id indexes and the source map, so rules stay
linear in the size of the playbook.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterable

from ...errors import Problem
from ...load import Loc, SourceMap
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
    func: Callable[[Playbook, "Context"], Iterable[Finding]]

    @property
    def doc(self) -> str:
        """The rule's documentation: its docstring, dedented."""
        import inspect

        return inspect.cleandoc(self.func.__doc__ or "")


REGISTRY: dict[str, Rule] = {}


def rule(code: str, name: str, level: str = "error"):
    """Register a rule function under a stable code."""

    def wrap(func):
        if code in REGISTRY and REGISTRY[code].func.__qualname__ != func.__qualname__:
            raise RuntimeError(f"rule code {code} registered twice")
        REGISTRY[code] = Rule(code, name, level, func)
        return func

    return wrap


class Context:
    """What rules share: the source map and id indexes built once per run."""

    def __init__(self, model: Playbook, smap: SourceMap | None = None):
        self.model = model
        self.smap = smap or SourceMap()
        self._ids: dict[str, dict[str, tuple]] = {}

    def locate(self, path: tuple) -> Loc:
        """Where `path` was written."""
        return self.smap.locate(path)

    def where(self, path: tuple) -> str:
        """`file:line` of `path`, for hints that point at a first definition."""
        loc = self.locate(path)
        return f"{loc.file}:{loc.line}"

    def ids(self, section: str) -> dict[str, tuple]:
        """Ids of a section ('stages', 'routing.queues', ...) -> path of the first entity."""
        if section not in self._ids:
            items, base = entities(self.model, section)
            out: dict[str, tuple] = {}
            for i, item in enumerate(items):
                out.setdefault(item.id, base + (i,))
            self._ids[section] = out
        return self._ids[section]

    @cached_property
    def fields(self) -> dict[str, Any]:
        """Data-dictionary fields by id."""
        return self.model.by_id("fields")


def entities(model: Playbook, section: str) -> tuple[list, tuple]:
    """The entity list of a dotted section name and its data path."""
    obj: Any = model
    path: tuple = ()
    for part in section.split("."):
        obj = getattr(obj, part, None) if obj is not None else None
        path += (part,)
    return (list(obj) if obj else []), path


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean ...?' hint, or ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


_discovered = False


def discover() -> dict[str, Rule]:
    """Import every rule module once; return the registry."""
    global _discovered
    if not _discovered:
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            importlib.import_module(f"{__name__}.{info.name}")
        _discovered = True
    return REGISTRY


def run_rules(model: Playbook, smap: SourceMap, codes: Iterable[str] | None = None) -> list[Problem]:
    """Run every registered rule (or only `codes`); findings become located problems."""
    discover()
    ctx = Context(model, smap)
    wanted = sorted(REGISTRY) if codes is None else sorted(codes)
    problems: list[Problem] = []
    for code in wanted:
        r = REGISTRY[code]
        try:
            for f in r.func(model, ctx):
                loc = smap.locate(f.path, key=f.key)
                problems.append(Problem(loc.file, loc.line, loc.column, r.code, f.message, r.level, f.hint))
        except Exception as exc:  # a rule bug must not hide the other rules' problems behind a traceback
            loc = smap.locate(())
            problems.append(Problem(loc.file, 1, 1, r.code, f"rule {r.code} failed: {type(exc).__name__}",
                                    "error", "this is a bug in playbook; please report it with the process files"))
    return problems
