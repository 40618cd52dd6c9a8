"""Every rule runs, without failing, on playbooks that leave optional sections out.

Mutation testing showed a one-word change in R012 (`or` to `and`) crashing it on a
playbook without a `consent` section, unnoticed because every fixture had one.
So each rule runs on the base playbook with each optional part removed in turn
(a whole section, a key of a mapping section, a list emptied), and on the
smallest playbook the model accepts: none may fail with an exception.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pydantic import ValidationError

from generator.load import load_data
from generator.model import Playbook
from generator.validate.rules import REGISTRY, discover, run_rules

BASE = Path(__file__).parent / "fixtures" / "rules" / "base"
discover()


def _base_data() -> tuple[dict, object]:
    loaded = load_data(BASE, display_root=BASE)
    return loaded.data, loaded.source_map


def _removals(data: dict):
    """(label, path) of every optional part: top-level sections and the keys of mapping sections."""
    for key, value in data.items():
        yield key, (key,)
        if isinstance(value, dict):
            for sub in value:
                yield f"{key}.{sub}", (key, sub)


def _parent(data, path: tuple):
    """The mapping or list holding the item at `path`."""
    for p in path[:-1]:
        data = data[p]
    return data


def _without(data: dict, path: tuple[str, ...]) -> dict:
    out = copy.deepcopy(data)
    del _parent(out, path)[path[-1]]
    return out


def _valid(data: dict) -> Playbook | None:
    try:
        return Playbook.model_validate(data)
    except ValidationError:
        return None


def _crashes(model: Playbook, source_map) -> list[str]:
    problems = run_rules(model, source_map, sorted(REGISTRY))
    return [p.text() for p in problems if " failed: " in p.message]


DATA, SOURCE_MAP = _base_data()
OPTIONAL = [(label, path) for label, path in _removals(DATA) if _valid(_without(DATA, path)) is not None]


def test_some_sections_are_optional():
    labels = {label for label, _ in OPTIONAL}
    # The sections whose absence once went untested must be among them.
    assert {"consent", "routing", "scoring", "outreach", "templates"} <= labels, labels


@pytest.mark.parametrize("label, path", OPTIONAL, ids=[label for label, _ in OPTIONAL])
def test_every_rule_runs_without_a_section(label, path):
    model = _valid(_without(DATA, path))
    assert _crashes(model, SOURCE_MAP) == []


def test_every_rule_runs_with_lists_emptied():
    for key, value in DATA.items():
        if isinstance(value, list) and value:
            data = copy.deepcopy(DATA)
            data[key] = []
            model = _valid(data)
            if model is not None:
                assert _crashes(model, SOURCE_MAP) == [], key


def test_every_rule_runs_on_the_smallest_playbook():
    data = copy.deepcopy(DATA)
    changed = True
    while changed:  # drop optional parts until nothing more can go
        changed = False
        for _, path in list(_removals(data)):
            smaller = _without(data, path)
            if _valid(smaller) is not None:
                data, changed = smaller, True
                break
    model = _valid(data)
    assert model is not None and model.consent is None and model.routing is None
    assert _crashes(model, SOURCE_MAP) == []


def _field_references(data, path=()):
    """(path) of every `…_field: name` in the playbook: a reference to the data dictionary."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.endswith("_field") and isinstance(value, str):
                yield (*path, key)
            else:
                yield from _field_references(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _field_references(value, (*path, i))


FIELD_REFERENCES = list(_field_references(DATA))


def test_the_base_playbook_names_fields_by_reference():
    assert {("routing", "specialty_field"), ("routing", "region_field")} <= set(FIELD_REFERENCES)


@pytest.mark.parametrize("path", FIELD_REFERENCES, ids=[".".join(map(str, p)) for p in FIELD_REFERENCES])
def test_every_rule_runs_with_one_field_reference_dangling(path):
    """One reference to a field that does not exist, the others intact: R001 says so, no rule crashes
    on the half that still resolves."""
    data = copy.deepcopy(DATA)
    _parent(data, path)[path[-1]] = "no_such_field_zq"
    model = _valid(data)
    assert model is not None
    assert _crashes(model, SOURCE_MAP) == []
    problems = run_rules(model, SOURCE_MAP, sorted(REGISTRY))
    assert any("no_such_field_zq" in p.message for p in problems), path
