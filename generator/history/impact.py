"""What a change does to the CRM and to reporting, derived from the exports and the checks (pure).

Nothing here lists by hand which playbook attributes matter: both models are
compiled with the export mapping (the Salesforce project and the HubSpot
files, exactly as `playbook export` writes them) and with the conformance
checks, and the differences are named. A change that alters an exported
component means the CRM must be redeployed; one that alters a check means
conformance results before and after it measure different rules.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..model import Playbook
from .diff import Change

SF_PREFIX = "force-app/main/default/"
# Files that only list or wrap the components: they change whenever a component does.
_WRAPPERS = {"manifest/package.xml", "sfdx-project.json"}
# Salesforce metadata file suffix -> the component's name in Setup (a CRM fact, not a playbook one).
_SF_KINDS = {
    "standardValueSet": "picklist value set", "field": "field", "object": "object settings",
    "validationRule": "validation rule", "queue": "queue", "assignmentRules": "assignment rules",
    "matchingRule": "matching rules", "matchingRules": "matching rules", "duplicateRule": "duplicate rule",
    "flow": "flow", "pathAssistant": "path",
}
_META = re.compile(r"^(?P<name>.+)\.(?P<kind>[A-Za-z]+)-meta\.xml$")


@dataclass(frozen=True)
class Impact:
    """The CRM components, conformance rules and metrics one change set affects."""

    components: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    error: str = ""

    @property
    def redeploy(self) -> bool:
        """The exported CRM configuration differs: the CRM must be redeployed to match."""
        return bool(self.components)

    def __bool__(self) -> bool:
        return bool(self.components or self.rules or self.metrics or self.error)

    def lines(self) -> list[str]:
        """Business sentences, one per kind of impact."""
        out = []
        if self.components:
            out.append("CRM configuration changes: " + "; ".join(self.components))
            out.append("the CRM must be redeployed before this takes effect (`playbook export salesforce` "
                       "or `playbook export hubspot`, then deploy)")
        if self.rules:
            out.append("conformance rules affected: " + ", ".join(self.rules)
                       + " (results before and after this change measure different rules)")
        if self.metrics:
            out.append("metrics affected: " + ", ".join(self.metrics))
        if self.error:
            out.append(f"CRM impact unknown: {self.error}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"components": list(self.components), "redeploy": self.redeploy, "conformance_rules": list(self.rules),
                "metrics": list(self.metrics), "error": self.error}


def _sf_component(path: str) -> str:
    rel = path[len(SF_PREFIX):] if path.startswith(SF_PREFIX) else path
    m = _META.match(rel.rsplit("/", 1)[-1])
    if not m:
        return f"Salesforce {rel}"
    kind = _SF_KINDS.get(m["kind"], m["kind"])
    folders = rel.split("/")
    owner = folders[1] + "." if folders[0] == "objects" and len(folders) > 3 else ""
    return f"Salesforce {kind} {owner}{m['name']}"


def _hs_items(name: str, data: bytes) -> dict[str, str]:
    """HubSpot files split into their named parts (one property, one pipeline stage), as JSON text."""
    if name == "properties.json":
        items = json.loads(data).get("inputs", [])
        return {f"HubSpot property {p.get('name')}": json.dumps(p, sort_keys=True) for p in items}
    if name == "pipeline.json":
        body = json.loads(data)
        stages = body.pop("stages", [])
        out = {f"HubSpot pipeline stage {s.get('label')}": json.dumps(s, sort_keys=True) for s in stages}
        out["HubSpot lead pipeline settings"] = json.dumps(body, sort_keys=True)
        return out
    if name == "MANUAL-STEPS.md":
        return {"HubSpot manual steps (MANUAL-STEPS.md)": data.decode("utf-8")}
    return {f"HubSpot {name}": data.decode("utf-8", "replace")}


def components(model: Playbook | None) -> dict[str, str]:
    """Every exported component of a model by business name -> its exact content (digest input)."""
    if model is None:
        return {}
    from ..export import hubspot, salesforce
    from ..export.mapping import build_spec

    spec = build_spec(model)
    out: dict[str, str] = {}
    for path, data in salesforce.render(spec).items():
        if path not in _WRAPPERS:
            out[_sf_component(path)] = data.decode("utf-8", "replace")
    for name, data in hubspot.render(spec).items():
        out.update(_hs_items(name, data))
    return out


def checks(model: Playbook | None) -> dict[str, Any]:
    """Conformance rules by id: each check (what and how it counts), and each rule the data cannot
    support yet (its wording, e.g. an SLA's limit, still changes what the rule means)."""
    if model is None:
        return {}
    from ..conformance.checks import build_checks, not_checkable

    out: dict[str, Any] = {c.id: c for c in build_checks(model)}
    for u in not_checkable(model):
        out.setdefault(u.id, u)
    return out


@dataclass
class Compiled:
    """What one model compiles to, as digests (name -> sha256 of the component or check), once per tree."""

    components: dict[str, str]
    checks: dict[str, str]
    error: str = ""


def _digest(value: Any) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def compile_model(model: Playbook | None) -> Compiled:
    """Exports and checks of a model; a model the exporters refuse is reported, not fatal."""
    from ..errors import PlaybookError

    try:
        return Compiled({k: _digest(v) for k, v in components(model).items()},
                        {k: _digest(repr(v)) for k, v in checks(model).items()})
    except PlaybookError as exc:
        return Compiled({}, {}, exc.message().splitlines()[0])


@functools.lru_cache(maxsize=1)
def code_key() -> str:
    """A hash of the code that compiles a model (exports, checks, model, this module): cache entries of
    another version of that code are never read."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for part in ("export", "conformance", "model.py", "history/impact.py"):
        for f in sorted((root / part).rglob("*.py")) if (root / part).is_dir() else [root / part]:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


PARALLEL_MIN = 32
"""Trees to compile before a process pool pays for itself: a tree compiles in about 8 ms, a forked
worker starts in a few (benchmarks.history)."""

_FORKED: dict[str, Playbook | None] = {}
"""The models a pool compiles, set before it forks: workers read them from their copy of this
process's memory instead of receiving a pickled model each."""


def _compile_forked(tree: str) -> tuple[str, Compiled]:
    return tree, compile_model(_FORKED[tree])


class CompiledCache:
    """Compiled digests by playbook tree id, in memory and (when given a folder) on disk."""

    def __init__(self, root: Path | None):
        self.root = root
        self.memory: dict[str | None, Compiled] = {}

    def _path(self, tree: str | None) -> Path | None:
        return self.root / "impact" / code_key() / f"{tree}.digests" if self.root and tree else None

    def _read(self, tree: str | None) -> Compiled | None:
        path = self._path(tree)
        if path is None or not path.is_file():
            return None
        try:
            return Compiled(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def _store(self, tree: str | None, found: Compiled) -> None:
        path = self._path(tree)
        if path is not None and not found.error:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(asdict(found), sort_keys=True), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass  # a cache that cannot be written only costs time
        self.memory[tree] = found

    def get(self, tree: str | None, model: Playbook | None) -> Compiled:
        if tree in self.memory:
            return self.memory[tree]
        found = self._read(tree)
        if found is None:
            found = compile_model(model)
            self._store(tree, found)
        else:
            self.memory[tree] = found
        return found

    def prefetch(self, items: list[tuple[str | None, Playbook | None]]) -> None:
        """Compile the trees not cached yet, in a process pool when there are many (a cold history).

        The pool forks, so it is used only when this is the process's one thread. Fewer trees, one
        core, other threads or a pool that cannot start: nothing is compiled here and `get` compiles
        each tree when it is asked for.
        """
        todo: dict[str, Playbook | None] = {}
        for tree, model in items:
            if tree is None or model is None or tree in self.memory or tree in todo:
                continue  # no model compiles to nothing, at once
            found = self._read(tree)
            if found is not None:
                self.memory[tree] = found
            else:
                todo[tree] = model
        workers = min(os.cpu_count() or 1, 8)
        # A fork copies locks other threads may hold (serve's watcher and server threads, say): only a
        # process with no other thread forks.
        if len(todo) < PARALLEL_MIN or workers < 2 or threading.active_count() > 1 \
                or "fork" not in multiprocessing.get_all_start_methods():
            return
        _FORKED.update(todo)
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
                chunk = max(1, len(todo) // (workers * 4))
                for tree, found in pool.map(_compile_forked, list(todo), chunksize=chunk):
                    self._store(tree, found)
        except (OSError, BrokenProcessPool):
            pass  # what the pool did not compile, `get` does
        finally:
            _FORKED.clear()


def _changed(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def _metrics(before: Playbook | None, after: Playbook | None, changes: list[Change]) -> list[str]:
    touched = {(c.entity_kind, c.entity_id) for c in changes}
    out = []
    for model in (after, before):
        if model is None:
            continue
        for m in model.metrics:
            if m.id in out:
                continue
            if ("metric", m.id) in touched or any(("field", f) in touched for f in m.fields) \
                    or (m.stage and ("stage", m.stage) in touched):
                out.append(m.id)
    return sorted(out)


def impact(before: Playbook | None, after: Playbook | None, changes: list[Change],
           compiled_before: Compiled | None = None, compiled_after: Compiled | None = None) -> Impact:
    """The CRM and reporting impact of going from `before` to `after` (pass compiled forms to reuse them)."""
    if not changes:
        return Impact()
    cb = compiled_before or compile_model(before)
    ca = compiled_after or compile_model(after)
    return Impact(
        components=tuple(_changed(cb.components, ca.components)),
        rules=tuple(_changed(cb.checks, ca.checks)),
        metrics=tuple(_metrics(before, after, changes)),
        error=ca.error or cb.error,
    )
