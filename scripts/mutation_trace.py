"""pytest plugin for scripts/mutate.py: which tests run which lines of the mutated modules.

Loaded with `-p mutation_trace` in the runner's one traced baseline run per test set.
MUTATION_TRACE_FILES lists (os.pathsep-separated) the module files to watch and
MUTATION_TRACE_OUT the JSON file to write: the tests in run order, for every
watched `file:line` the indexes of the tests that executed it, and the tests that
started a child process (whose lines no tracer here sees), and each test's time. Lines executed outside
any test (during collection) or by module or class bodies (import time, wherever
the import happens) are recorded under index -1: they may shape every test.

Only frames of the watched files get a line tracer, so the run stays usable.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import threading
import time

import pytest

_WATCH = {os.path.realpath(p) for p in os.environ.get("MUTATION_TRACE_FILES", "").split(os.pathsep) if p}
_OUT = os.environ.get("MUTATION_TRACE_OUT", "")
_known: dict[str, str | None] = {}  # co_filename -> watched real path, or None
_order: list[str] = []
_took: list[float] = []  # seconds per test, traced (so an upper bound), in _order's order
_current = [-1]
_hits: dict[str, set[int]] = {}
_spawners: set[int] = set()  # tests that started a child process


def _watched(filename: str) -> str | None:
    try:
        return _known[filename]
    except KeyError:
        real = os.path.realpath(filename)
        _known[filename] = real if real in _WATCH else None
        return _known[filename]


def _record(path: str, line: int, at_import: bool = False) -> None:
    _hits.setdefault(f"{path}:{line}", set()).add(-1 if at_import else _current[0])


def _global(frame, event, arg):
    path = _watched(frame.f_code.co_filename)
    if path is None:
        return None
    # Module and class bodies run once, at import: what they set up every later test sees.
    at_import = not frame.f_code.co_flags & inspect.CO_OPTIMIZED
    _record(path, frame.f_lineno, at_import)

    def local(frame, event, arg):
        if event == "line":
            _record(path, frame.f_lineno, at_import)
        return local

    return local


def _mark_spawn() -> None:
    if _current[0] >= 0:
        _spawners.add(_current[0])


def _wrap(owner, name):
    real = getattr(owner, name)

    def spawning(*args, **kwargs):
        _mark_spawn()
        return real(*args, **kwargs)

    setattr(owner, name, spawning)


if _WATCH and _OUT:
    sys.settrace(_global)
    threading.settrace(_global)
    # A child process (the CLI in a subprocess, a forked unprivileged reader) runs the watched
    # modules where no tracer sees it: the runner gives every mutant the tests that start one.
    _wrap(subprocess.Popen, "__init__")
    for _name in ("fork", "forkpty", "posix_spawn", "posix_spawnp"):
        if hasattr(os, _name):
            _wrap(os, _name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _order.append(item.nodeid)
    _current[0] = len(_order) - 1
    # CPython drops the trace function when it raises, as it does when a test recurses to the
    # limit (the deep-nesting tests do): put it back for every test.
    if _WATCH and _OUT and sys.gettrace() is None:
        sys.settrace(_global)
    start = time.perf_counter()
    try:
        yield
    finally:
        _current[0] = -1
        _took.append(time.perf_counter() - start)


def pytest_sessionfinish(session, exitstatus):
    if not _OUT:
        return
    sys.settrace(None)
    threading.settrace(None)
    with open(_OUT, "w", encoding="utf-8") as f:
        json.dump({"tests": _order, "lines": {k: sorted(v) for k, v in _hits.items()},
                   "spawners": sorted(_spawners), "seconds": _took}, f)
