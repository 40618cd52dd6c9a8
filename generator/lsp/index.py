"""Where every id of a playbook is defined and referenced, from the loader's source map.

Pure: built from merged plain data and its SourceMap (no I/O), so it works even
when the schema check fails (an index of what could be read is more use to an
editor than none). Which section a reference points to comes from
`validate.refs.REFS`, the same table the R001 rule uses.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterator, NamedTuple

from pydantic import BaseModel

from ..load import Loc, SourceMap
from ..model import Playbook
from ..validate.refs import REFS, _flat, _models_in, plan


class Occurrence(NamedTuple):
    """One id written in a file: where, which id, and what it names."""

    file: str  # as in the source map (relative to the playbook folder)
    line: int  # 1-based, as Loc
    column: int  # 1-based, start of the scalar (a quote included)
    id: str
    targets: tuple[str, ...]  # sections the id is looked up in; one for a definition
    definition: bool
    path: tuple[Any, ...]  # data path of the scalar
    owner: str  # "Stage.transitions" style: the model field holding it (the section for a definition)


@dataclass
class Index:
    """Definitions and references of every id, in file order."""

    definitions: dict[tuple[str, str], Occurrence] = field(default_factory=dict)  # (section, id) -> first one
    entities: dict[tuple[str, str], dict] = field(default_factory=dict)  # (section, id) -> its raw data
    occurrences: list[Occurrence] = field(default_factory=list)
    _by_key: dict[tuple[str, str], list[Occurrence]] | None = None

    def ids(self, section: str) -> list[str]:
        """Ids defined in a section (`stages`, `routing.queues`, ...), in document order."""
        return [i for (s, i) in self.definitions if s == section]

    def resolve(self, occ: Occurrence) -> tuple[str, str] | None:
        """The (section, id) an occurrence names, if it is defined."""
        for section in occ.targets:
            if (section, occ.id) in self.definitions:
                return section, occ.id
        return None

    def references_to(self, key: tuple[str, str]) -> list[Occurrence]:
        """Every reference (not the definition) that names the entity `key`."""
        if self._by_key is None:
            by_key: dict[tuple[str, str], list[Occurrence]] = {}
            for o in self.occurrences:
                if not o.definition:
                    found = self.resolve(o)
                    if found is not None:
                        by_key.setdefault(found, []).append(o)
            self._by_key = by_key
        return list(self._by_key.get(key, []))

    def in_file(self, file: str) -> list[Occurrence]:
        return [o for o in self.occurrences if o.file == file]


def _section_key(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path if not isinstance(p, int))


def _definitions(data: Any, path: tuple[Any, ...]) -> Iterator[tuple[str, tuple[Any, ...], dict]]:
    """(section key, path of the id, entity) for every list entry with a text `id`, at any depth."""
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, (dict, list)):
                yield from _definitions(v, path + (k,))
    else:
        for i, item in enumerate(data):
            if isinstance(item, dict):
                if isinstance(item.get("id"), str):
                    yield _section_key(path), path + (i, "id"), item
                yield from _definitions(item, path + (i,))
            elif isinstance(item, list):
                yield from _definitions(item, path + (i,))


def _container(annotation: Any) -> Any:
    """list, dict or None (a single value) for a field holding models."""
    for a in (annotation, *typing.get_args(annotation)):
        origin = typing.get_origin(a)
        if origin in (list, dict):
            return origin
    return None


@lru_cache(maxsize=None)
def _walk_plan(cls: type[BaseModel]) -> tuple[tuple[str, str, Any, Any, tuple[str, ...] | None], ...]:
    """Per field worth visiting: (kind, name, sub-model, container, REFS targets)."""
    out = []
    for kind, name in plan(cls):
        if kind == "model":
            annotation = cls.model_fields[name].annotation
            models = _models_in(annotation)
            if models:
                out.append((kind, name, models[0], _container(annotation), None))
        else:
            out.append((kind, name, None, None, REFS.get((cls, name))))
    return tuple(out)


def _refs(data: Any, cls: type[BaseModel], path: tuple[Any, ...]) -> Iterator[tuple[type[BaseModel], str, tuple, str, bool, tuple]]:
    """walk_refs over raw data: what the model would hold, walked by the model's classes."""
    if not isinstance(data, dict):
        return
    for kind, name, sub, shape, targets in _walk_plan(cls):
        value = data.get(name)
        if value is None:
            continue
        if kind == "ref":
            if targets:
                for p, ref in _flat(value, path + (name,)):
                    yield cls, name, p, ref, False, targets
        elif kind == "refkey":
            if targets and isinstance(value, dict):
                for k in value:
                    if isinstance(k, str):
                        yield cls, name, path + (name, k), k, True, targets
        elif shape is list:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield from _refs(item, sub, path + (name, i))
        elif shape is dict:
            if isinstance(value, dict):
                for k, item in value.items():
                    yield from _refs(item, sub, path + (name, k))
        else:
            yield from _refs(value, sub, path + (name,))


def build_index(data: dict[str, Any], smap: SourceMap) -> Index:
    """Every id's definition and references, located through the source map."""
    index = Index()
    for section, path, entity in _definitions(data, ()):
        loc = smap.values.get(path)
        if loc is None:
            continue
        occ = Occurrence(loc.file, loc.line, loc.column, entity["id"], (section,), True, path, section)
        index.definitions.setdefault((section, entity["id"]), occ)
        index.entities.setdefault((section, entity["id"]), entity)
        index.occurrences.append(occ)
    for cls, name, path, ref, is_key, targets in _refs(data, Playbook, ()):
        loc: Loc | None = (smap.keys if is_key else smap.values).get(path)
        if loc is None:
            continue
        index.occurrences.append(Occurrence(loc.file, loc.line, loc.column, ref, targets, False, path,
                                            f"{cls.__name__}.{name}"))
    index.occurrences.sort(key=lambda o: (o.file, o.line, o.column))
    return index
