"""The stage graph: successors and reachability, linear in stages + transitions."""

from __future__ import annotations

from typing import Iterable

from ..model import Playbook


def successors(model: Playbook) -> dict[str, list[str]]:
    """Stage id -> ids its transitions lead to (merging duplicate stage ids)."""
    out: dict[str, list[str]] = {}
    for s in model.stages:
        out.setdefault(s.id, []).extend(t.to for t in s.transitions)
    return out


def reachable(model: Playbook, start: Iterable[str], blocked: set[str] = frozenset()) -> set[str]:
    """Stages reachable from `start`; `blocked` stages are entered but not left."""
    succ = successors(model)
    seen = set(start)
    todo = list(seen)
    while todo:
        here = todo.pop()
        if here in blocked:
            continue
        for nxt in succ.get(here, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
