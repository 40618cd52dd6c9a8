"""pytest plugin for scripts/mutate.py: which tests run which lines of the mutated modules.

Loaded with `-p mutation_trace` in the runner's one traced baseline run per test set.
MUTATION_TRACE_FILES lists (os.pathsep-separated) the module files to watch and
MUTATION_TRACE_OUT the JSON file to write: the tests in run order, and for every
watched `file:line` the indexes of the tests that executed it. Lines executed
outside any test (at import, during collection) are recorded under index -1.

Only frames of the watched files get a line tracer, so the run stays near full
speed. The runner uses this to run each mutant against the tests that reach its
line first, and confirms every survivor against the whole test set, so the map
only saves time and can never turn a kill into a survival or back.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import pytest

_WATCH = {os.path.realpath(p) for p in os.environ.get("MUTATION_TRACE_FILES", "").split(os.pathsep) if p}
_OUT = os.environ.get("MUTATION_TRACE_OUT", "")
_known: dict[str, str | None] = {}  # co_filename -> watched real path, or None
_order: list[str] = []
_current = [-1]
_hits: dict[str, set[int]] = {}


def _watched(filename: str) -> str | None:
    try:
        return _known[filename]
    except KeyError:
        real = os.path.realpath(filename)
        _known[filename] = real if real in _WATCH else None
        return _known[filename]


def _record(path: str, line: int) -> None:
    _hits.setdefault(f"{path}:{line}", set()).add(_current[0])


def _global(frame, event, arg):
    path = _watched(frame.f_code.co_filename)
    if path is None:
        return None
    _record(path, frame.f_lineno)

    def local(frame, event, arg):
        if event == "line":
            _record(path, frame.f_lineno)
        return local

    return local


if _WATCH and _OUT:
    sys.settrace(_global)
    threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _order.append(item.nodeid)
    _current[0] = len(_order) - 1
    # CPython drops the trace function when it raises, as it does when a test recurses to the
    # limit (the deep-nesting tests do): put it back for every test.
    if _WATCH and _OUT and sys.gettrace() is None:
        sys.settrace(_global)
    try:
        yield
    finally:
        _current[0] = -1


def pytest_sessionfinish(session, exitstatus):
    if not _OUT:
        return
    sys.settrace(None)
    threading.settrace(None)
    with open(_OUT, "w", encoding="utf-8") as f:
        json.dump({"tests": _order, "lines": {k: sorted(v) for k, v in _hits.items()}}, f)
