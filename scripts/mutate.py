"""Mutation testing for playbook's core modules: `make mutation`.

Why our own mutator: mutmut 3 rewrites functions into trampolines and cannot see
functions behind decorators (every `@rule` check in validate/rules is one), and
cosmic-ray needs a session database and a server of its own. This file makes
each small change with `ast`, writes the mutated module into a private copy of
the tree, runs the tests that cover that module there, and counts the mutant as
killed when they fail (or run past a time limit) and as survived when they pass.

Mutation operators (one change per mutant):
  compare     == <-> !=, < <-> <=, > <-> >=, in <-> not in, is <-> is not
  boolop      and <-> or
  binop       + <-> -, * <-> /, // -> /, % -> *
  augassign   += <-> -=
  not         `not x` -> `x`
  number      n -> n + 1 (integers; 0 -> 1, 1 -> 2, ...)
  bool        True <-> False
  return      `return x` -> `return None` (x not already None)
  loopctl     break <-> continue
String constants are not mutated: message wording is checked by the tests that
need it, and mutating every literal floods the report with text mutants.

Speed: one traced baseline run per test set (scripts/mutation_trace.py) maps
each line of the mutated modules to the tests that execute it. A mutant runs
against those tests plus every test that starts a child process (the tracer
cannot see into one), quickest first; a mutant on a line run at import time
(module or class body, default values) or on a line no test reaches runs against
the whole test set. A mutant changes nothing where its line does not run, so
this gives the whole set's verdict, short of one test leaving state behind for
another (`--confirm` re-runs each survivor on the whole set; `--all-tests`
skips the map). Bytecode stays cached; only the mutated module's .pyc is
removed around each run.

Equivalent mutants (no test can tell them apart from the original) are listed,
one a line with the reason, in scripts/mutation-equivalents.txt as
`module:line:col:operator  # why`; they are excluded from the score.

Usage: python scripts/mutate.py [--module NAME ...] [--jobs N] [--report FILE] [--goal PCT]
                                [--all-tests | --confirm] [--recheck RESULTS] [--report-from RESULTS ...]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutation-equivalents.txt"

# module (glob under generator/) -> the tests that cover it
TARGETS: dict[str, list[str]] = {
    "generator/validate/rules/r*.py": ["tests/test_rules.py", "tests/test_rules_sections.py"],
    "generator/history/diff.py": ["tests/test_history_diff.py", "tests/test_history_diff_edges.py",
                                  "tests/test_history.py"],
    "generator/conformance/calendar.py": ["tests/test_calendar_edges.py", "tests/test_calendar.py"],
    "generator/conformance/compile.py": ["tests/test_conformance.py", "tests/test_conformance_cases.py",
                                         "tests/test_conformance_grouping.py", "tests/test_conformance_compile_edges.py"],
    "generator/crm/http.py": ["tests/test_crm_http.py", "tests/test_crm_client.py", "tests/test_crm_limits.py",
                              "tests/test_redact.py"],
    "generator/load.py": ["tests/test_load.py", "tests/test_load_c.py", "tests/test_load_edges.py"],
}
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", "--no-header", "-o", "addopts="]

_CMP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
        ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
        ast.Mod: ast.Mult}


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to ROOT
    line: int
    col: int
    operator: str  # e.g. "compare Lt->LtE"
    index: int  # which mutation point in the module, in walk order

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line}:{self.col}:{self.operator}"


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _points(tree: ast.AST):
    """Yield (node, operator name, apply) for every mutation point, in a stable order."""
    skip = _docstring_nodes(tree)
    annotations: set[int] = set()
    for node in ast.walk(tree):
        # Type annotations never run (from __future__ import annotations): mutating them is noise.
        for ann in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if ann is not None:
                annotations.update(id(n) for n in ast.walk(ann))
    for node in ast.walk(tree):
        if id(node) in annotations:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                new = _CMP.get(type(op))
                if new:
                    yield node, f"compare {type(op).__name__}->{new.__name__}", _set_list(node.ops, i, new())
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield node, f"boolop {type(node.op).__name__}->{new.__name__}", _set_attr(node, "op", new())
        elif isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            if isinstance(node.op, ast.Mod) and isinstance(node.left, (ast.Constant, ast.JoinedStr)):
                continue  # "%"-formatting of a string, not arithmetic
            new = _BIN[type(node.op)]
            yield node, f"binop {type(node.op).__name__}->{new.__name__}", _set_attr(node, "op", new())
        elif isinstance(node, ast.AugAssign) and type(node.op) in (ast.Add, ast.Sub):
            new = ast.Sub if isinstance(node.op, ast.Add) else ast.Add
            yield node, f"augassign {type(node.op).__name__}->{new.__name__}", _set_attr(node, "op", new())
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not removed", ("unary_not", node)
        elif isinstance(node, ast.Constant) and id(node) not in skip:
            if isinstance(node.value, bool):
                yield node, f"bool {node.value}->{not node.value}", _set_attr(node, "value", not node.value)
            elif isinstance(node.value, int):
                yield node, f"number {node.value}->{node.value + 1}", _set_attr(node, "value", node.value + 1)
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            yield node, "return ->None", _set_attr(node, "value", ast.Constant(None))
        elif isinstance(node, ast.Break):
            yield node, "loopctl break->continue", ("replace_stmt", node, ast.Continue)
        elif isinstance(node, ast.Continue):
            yield node, "loopctl continue->break", ("replace_stmt", node, ast.Break)


def _set_list(lst, i, value):
    return ("set_item", lst, i, value)


def _set_attr(node, attr, value):
    return ("set_attr", node, attr, value)


class _Unnot(ast.NodeTransformer):
    def __init__(self, target):
        self.target = target

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return node.operand if node is self.target else node


class _ReplaceStmt(ast.NodeTransformer):
    def __init__(self, target, cls):
        self.target, self.cls = target, cls

    def generic_visit(self, node):
        if node is self.target:
            return ast.copy_location(self.cls(), node)
        return super().generic_visit(node)


def mutants_of(module: str, root: Path = ROOT) -> list[Mutant]:
    tree = ast.parse((root / module).read_text(encoding="utf-8"))
    return [Mutant(module, n.lineno, n.col_offset, op, i) for i, (n, op, _) in enumerate(_points(tree))]


def mutated_source(m: Mutant, original: str) -> str:
    """The module's source with mutant m applied (re-parsed so node identities are fresh)."""
    tree = ast.parse(original)
    for i, (node, op, change) in enumerate(_points(tree)):
        if i != m.index:
            continue
        assert op == m.operator and node.lineno == m.line, "mutation points moved while running"
        kind = change[0]
        if kind == "set_item":
            change[1][change[2]] = change[3]
        elif kind == "set_attr":
            setattr(change[1], change[2], change[3])
        elif kind == "unary_not":
            tree = _Unnot(change[1]).visit(tree)
        elif kind == "replace_stmt":
            tree = _ReplaceStmt(change[1], change[2]).visit(tree)
        return ast.unparse(ast.fix_missing_locations(tree))
    raise LookupError(m.key)


def _copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "site", ".cache", ".git", "node_modules")
    for name in ("generator", "tests", "templates", "process", "schema", "scripts", "benchmarks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore, symlinks=True)
    for name in ("pyproject.toml", "mkdocs.yml", "README.md", "Makefile", ".gitignore"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)


_LIVE: set[subprocess.Popen] = set()  # test runs under way, stopped if the runner is stopped


def _stop(signum, frame):
    for proc in list(_LIVE):
        proc.kill()
    raise SystemExit(128 + signum)


def _drop_bytecode(module: Path) -> None:
    """Remove a module's cached bytecode, so the next import compiles the source on disk.

    A .pyc is trusted when the source's mtime (in whole seconds) and size match,
    which a mutant written and undone within one second can do.
    """
    for pyc in (module.parent / "__pycache__").glob(module.stem + ".*.pyc"):
        pyc.unlink(missing_ok=True)


def _run_tests(workdir: Path, tests: list[str], timeout: float, extra_env: dict[str, str] | None = None,
               plugins: tuple[str, ...] = ()) -> tuple[str, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(workdir), str(workdir / "scripts")]),
               PYTHONHASHSEED="0", **(extra_env or {}))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    args = [sys.executable, "-m", "pytest", *PYTEST_ARGS]
    for p in plugins:
        args += ["-p", p]
    start = time.monotonic()
    proc = subprocess.Popen([*args, *tests], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _LIVE.add(proc)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "timeout", time.monotonic() - start
    finally:
        _LIVE.discard(proc)
    took = time.monotonic() - start
    if proc.returncode == 0:
        return "survived", took
    if proc.returncode in (1, 2, 3):  # failed, interrupted (e.g. import error), internal error
        return "killed", took
    return f"error (pytest exit {proc.returncode})", took


def _traced_baseline(workdir: Path, tests: list[str], modules: list[str]) -> tuple[str, float, dict, dict]:
    """Run the unmutated tests once with mutation_trace: (outcome, seconds, line -> the tests to
    run, test -> its traced seconds).

    The map gives every line run by a test its tests plus those that start a child
    process; a line no test runs gets just the latter (maybe none); a line run at
    import is left out, so its mutants face the whole set.
    """
    out = workdir / ".mutation-trace.json"
    env = {"MUTATION_TRACE_FILES": os.pathsep.join(str(workdir / m) for m in modules),
           "MUTATION_TRACE_OUT": str(out)}
    outcome, took = _run_tests(workdir, tests, timeout=3600, extra_env=env, plugins=("mutation_trace",))
    if outcome != "survived" or not out.exists():
        return outcome, took, {}, {}
    data = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    names = data["tests"]
    seconds = dict(zip(names, data.get("seconds", [])))
    spawners = set(data["spawners"])
    real = {os.path.realpath(workdir / m): m for m in modules}
    lines: dict[tuple[str, int], list[str]] = {}
    at_import: set[tuple[str, int]] = set()
    for key, idx in data["lines"].items():
        path, _, line = key.rpartition(":")
        if path not in real:
            continue
        if -1 in idx:  # a line run at import may shape every test
            at_import.add((real[path], int(line)))
        else:
            lines[(real[path], int(line))] = [names[i] for i in sorted(set(idx) | spawners)]
    for m in modules:
        for n in range(1, len((workdir / m).read_text(encoding="utf-8").splitlines()) + 1):
            if (m, n) not in lines and (m, n) not in at_import:  # no test runs it here
                lines[(m, n)] = [names[i] for i in sorted(spawners)]
    return outcome, took, lines, seconds


def load_equivalents() -> dict[str, str]:
    out: dict[str, str] = {}
    if EQUIVALENTS.exists():
        for raw in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, _, why = line.partition("#")
            if not why.strip():
                raise SystemExit(f"{EQUIVALENTS}: {key.strip()} lists no reason")
            out[key.strip()] = why.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", action="append", help="only modules whose path contains this text")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report", default=str(ROOT / ".cache" / "mutation" / "report.md"))
    ap.add_argument("--goal", type=float, default=90.0, help="score per module the report checks against")
    ap.add_argument("--all-tests", action="store_true",
                    help="run every mutant against its module's whole test set (slow)")
    ap.add_argument("--confirm", action="store_true",
                    help="re-run every survivor against its module's whole test set")
    ap.add_argument("--recheck", metavar="RESULTS",
                    help="a results.json of an earlier run: its kills stand for modules whose source is unchanged "
                         "(tests only added since), and only its other mutants run again")
    ap.add_argument("--survivors-only", action="store_true",
                    help="with --recheck: run only its survivors again; mutants it never ran stay 'not run'")
    ap.add_argument("--report-from", metavar="RESULTS", nargs="+",
                    help="write the report of one or more results.json again (after editing the equivalents list), "
                         "running nothing; several runs (e.g. one per module) merge into one report")
    args = ap.parse_args(argv)
    if args.report_from:
        return _report_again([Path(r) for r in args.report_from], Path(args.report), args.goal)

    plan: list[tuple[str, list[str]]] = []
    for pattern, tests in TARGETS.items():
        for path in sorted(ROOT.glob(pattern)):
            rel = str(path.relative_to(ROOT))
            if path.name == "__init__.py" or (args.module and not any(s in rel for s in args.module)):
                continue
            plan.append((rel, [t for t in tests if (ROOT / t).exists()]))
    equivalents = load_equivalents()
    signal.signal(signal.SIGTERM, _stop)  # stopped runs leave no test process or copy behind
    work = Path(tempfile.mkdtemp(prefix="playbook-mutation-"))
    slots = []
    for j in range(args.jobs):
        d = work / f"w{j}"
        d.mkdir()
        _copy_tree(d)
        slots.append(d)
    started = time.monotonic()
    results: dict[str, list[tuple[Mutant, str]]] = {}
    earlier = json.loads(Path(args.recheck).read_text(encoding="utf-8")) if args.recheck else {}
    rechecked: dict[str, int] = {}
    durations: dict[str, float] = {}
    sources: dict[str, list[str]] = {}
    try:
        # One baseline per test set: the unmutated tree must pass, it sets the time limit, and
        # (traced) it maps each line of the set's modules to the tests that execute it.
        baselines: dict[tuple[str, ...], float] = {}
        covering: dict[tuple[str, int], list[str]] = {}
        test_seconds: dict[str, float] = {}
        for _, tests in plan:
            key = tuple(tests)
            if key not in baselines:
                modules = [m for m, t in plan if tuple(t) == key]
                if args.all_tests:
                    outcome, took = _run_tests(slots[0], tests, timeout=3600)
                    lines, seconds = {}, {}
                else:
                    outcome, took, lines, seconds = _traced_baseline(slots[0], tests, modules)
                if outcome != "survived":
                    raise SystemExit(f"the tests {' '.join(tests)} do not pass on the unmutated tree ({outcome})")
                print(f"baseline {took:.0f} s, {len(lines)} lines mapped to their tests: {' '.join(tests)}",
                      flush=True)
                baselines[key] = took
                covering.update(lines)
                test_seconds.update(seconds)
        free = list(slots)

        def run_one(m: Mutant, tests: list[str]) -> tuple[Mutant, str]:
            d = free.pop()
            try:
                target = d / m.module
                original = target.read_text(encoding="utf-8")
                target.write_text(mutated_source(m, original), encoding="utf-8")
                _drop_bytecode(target)
                limit = baselines[tuple(tests)] * 3 + 20
                try:
                    outcome = "survived"  # by a line that no test runs, in process or in a child
                    selected = covering.get((m.module, m.line)) if covering else None
                    if selected:
                        # Quickest first: with -x the first failure ends the run, and most mutants die
                        # in any of many tests (a survivor runs them all either way).
                        selected = sorted(selected, key=lambda t: test_seconds.get(t, 0.0))
                        # Their traced time bounds their own: a mutant that makes them loop or blow
                        # up (an alias bomb let through) is stopped in minutes, not at the set's limit.
                        own = sum(test_seconds.get(t, baselines[tuple(tests)]) for t in selected)
                        outcome, _ = _run_tests(d, selected, timeout=min(limit, own * 3 + 60))
                    if selected is None or (args.confirm and outcome not in ("killed", "timeout")):
                        outcome, _ = _run_tests(d, tests, timeout=limit)
                finally:
                    target.write_text(original, encoding="utf-8")
                    _drop_bytecode(target)
            finally:
                free.append(d)
            print(f"  {outcome:9} {m.key}", flush=True)  # progress, so a long run can be followed
            return m, outcome

        pool = ThreadPoolExecutor(max_workers=args.jobs)
        try:
            for module, tests in plan:
                ms = mutants_of(module, slots[0])  # the copy: edits to the tree during a run do not matter
                source = (slots[0] / module).read_text(encoding="utf-8")
                kept = _earlier_kills(earlier, module, source, equivalents, keep_unrun=args.survivors_only)
                todo = [m for m in ms if _slot(m, ms) not in kept]
                print(f"{module}: {len(ms)} mutants against {' '.join(tests)}"
                      + (f" ({len(ms) - len(todo)} settled in {args.recheck})" if kept else ""), flush=True)
                t0 = time.monotonic()
                ran = dict(zip(todo, pool.map(lambda m: run_one(m, tests), todo)))
                results[module] = [ran[m] if m in ran else (m, kept[_slot(m, ms)]) for m in ms]
                rechecked[module] = len(ms) - len(todo)
                durations[module] = time.monotonic() - t0
                sources[module] = source
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # a stopped run starts no more mutants
    finally:
        shutil.rmtree(work, ignore_errors=True)

    _save_results(Path(args.report).with_name("results.json"), results, sources, _command(argv),
                  time.monotonic() - started, durations)
    return _report(results, equivalents, Path(args.report), time.monotonic() - started, args.goal,
                   durations=durations, sources=sources, command=_command(argv),
                   recheck=(args.recheck, earlier.get("when", "?"), rechecked) if args.recheck else None)


def _report_again(results_paths: list[Path], report: Path, goal: float) -> int:
    """The report of earlier runs' results.json files, with today's equivalents list; runs nothing.

    Several files merge into one report (a module in more than one: the later file's run counts);
    the run time is the sum of the runs', each module's time is its own run's.
    """
    results, sources, durations, commands, seconds = {}, {}, {}, [], 0.0
    for results_path in results_paths:
        data = json.loads(results_path.read_text(encoding="utf-8"))
        seconds += float(data.get("seconds", 0))
        commands.append(f"{data.get('command', '?')} (run {data.get('when', '?')}, {results_path})")
        for module, entry in data["modules"].items():
            outs = []
            for i, (key, outcome) in enumerate(_outcome_pairs(entry)):
                mod, line, col, operator = key.split(":", 3)
                outs.append((Mutant(mod, int(line), int(col), operator, i), outcome))
            results[module] = outs
            durations.pop(module, None)
            if "seconds" in entry:
                durations[module] = float(entry["seconds"])
            sources.pop(module, None)
            if (ROOT / module).exists() and _sha((ROOT / module).read_text(encoding="utf-8")) == entry["sha256"]:
                sources[module] = (ROOT / module).read_text(encoding="utf-8")
    return _report(results, load_equivalents(), report, seconds, goal, durations=durations, sources=sources,
                   command="; ".join(commands) + " (report written again from these results)")


def _sha(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _slot(m: Mutant, ms: list[Mutant]) -> tuple[str, int]:
    """m's key and which of the mutants with that key it is: a chain like `a - b - c` gives two
    mutants of one line, column and operator (both BinOps start at `a`)."""
    return m.key, sum(1 for n in ms[:ms.index(m)] if n.key == m.key)


def _outcome_pairs(entry: dict) -> list[tuple[str, str]]:
    """A results.json module's (key, outcome) list, in mutant order (older files hold a dict,
    which kept one outcome per key)."""
    outcomes = entry["outcomes"]
    return [tuple(o) for o in outcomes] if isinstance(outcomes, list) else list(outcomes.items())


def _earlier_kills(earlier: dict, module: str, source: str, equivalents: dict[str, str],
                   keep_unrun: bool = False) -> dict[tuple[str, int], str]:
    """Outcomes of an earlier run that stand, if `module`'s source is the same: its kills, and its
    survivors now listed as equivalent (no new test can kill those); keyed like `_slot`."""
    entry = earlier.get("modules", {}).get(module)
    if not entry or entry.get("sha256") != _sha(source):
        return {}
    out, seen = {}, {}
    for k, o in _outcome_pairs(entry):
        n = seen[k] = seen.get(k, -1) + 1
        if o in ("killed", "timeout") or k in equivalents or (keep_unrun and o == NOT_RUN):
            out[(k, n)] = o
    return out


def _save_results(path: Path, results, sources, command: str, seconds: float = 0.0,
                  durations: dict[str, float] | None = None) -> None:
    """Every mutant's outcome, per module with its source's hash (for `--recheck`) and the
    seconds its mutants took (for a merged `--report-from`)."""
    durations = durations or {}
    data = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command, "seconds": round(seconds), "modules": {
        module: {"sha256": _sha(sources[module]) if module in sources else "",
                 **({"seconds": round(durations[module], 1)} if module in durations else {}),
                 "outcomes": [[m.key, o] for m, o in outcomes]}
        for module, outcomes in results.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def _command(argv: list[str] | None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python scripts/mutate.py", *args])


RULES = "generator/validate/rules/"
NOT_RUN = "not run"  # a stopped run's mutants that never ran (results rebuilt from its log)


def _tally(outcomes, equivalents, used: set[str]) -> dict[str, int]:
    g = {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0, "not run": 0}
    for m, outcome in outcomes:
        if outcome == NOT_RUN:
            g["not run"] += 1
            continue
        g["mutants"] += 1
        if outcome in ("killed", "timeout"):
            g["killed"] += 1
        elif m.key in equivalents:
            g["equivalent"] += 1
            used.add(m.key)
        else:
            g["survived"] += 1
    return g


def _score(g: dict[str, int]) -> float:
    counted = g["mutants"] - g["equivalent"]
    return 100.0 * g["killed"] / counted if counted else 100.0


def _report(results, equivalents, path: Path, elapsed: float, goal: float, durations=None, sources=None,
            command: str = "", recheck=None) -> int:
    """Write the report: a score row per module (and the rules together), then every survivor.

    Returns 1 when any module scores under the goal, so `make mutation` fails then.
    """
    durations, sources = durations or {}, sources or {}
    used: set[str] = set()
    rows, below = [], []
    for module, outcomes in results.items():
        g = _tally(outcomes, equivalents, used)
        score = _score(g)
        ok = score >= goal and not g["not run"]  # a partial run proves nothing about the rest
        if not ok:
            below.append(module)
        took = f"{durations[module]:.0f} s" if module in durations else ""
        count = f"{g['mutants']} of {g['mutants'] + g['not run']}" if g["not run"] else str(g["mutants"])
        verdict = "ok" if ok else ("PARTIAL" if g["not run"] else "BELOW")
        rows.append(f"| {module} | {count} | {g['killed']} | {g['equivalent']} | {g['survived']} "
                    f"| {score:.1f}% | {verdict} | {took} |")
    rules = [o for module, outs in results.items() if module.startswith(RULES) for o in outs]
    if len({m for m in results if m.startswith(RULES)}) > 1:
        g = _tally(rules, equivalents, set())
        took = [d for m, d in durations.items() if m.startswith(RULES)]
        rows.append(f"| {RULES}r*.py (together) | {g['mutants']} | {g['killed']} | {g['equivalent']} "
                    f"| {g['survived']} | {_score(g):.1f}% | | {f'{sum(took):.0f} s' if took else ''} |")
    survivors = []
    for module, outcomes in results.items():
        for m, outcome in outcomes:
            if outcome in ("killed", "timeout", NOT_RUN) or m.key in equivalents:
                continue
            src = sources.get(module, "").splitlines()
            text = src[m.line - 1].strip() if 0 < m.line <= len(src) else ""
            survivors.append(f"- `{m.key}` ({outcome}): `{text}`")
    lines = ["# Mutation testing report", "",
             f"Run time: {elapsed:.0f} s ({elapsed / 60:.1f} min) for {sum(len(o) for o in results.values())} "
             f"mutants. Goal: {goal:.0f}% per module, equivalent mutants excluded.", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    if recheck:
        where, when, counts = recheck
        lines += [f"Re-check of {where} (run {when}): its {sum(counts.values())} kills and listed equivalents in "
                  f"{sum(1 for n in counts.values() if n)} unchanged modules stand; every other mutant ran again.", ""]
    lines += ["| module | mutants | killed | equivalent | survived | score | goal | time |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |", *rows]
    lines += ["", f"## Survivors ({len(survivors)})", "", *(survivors or ["none"])]
    stale = sorted(k for k in equivalents if k not in used and any(k.startswith(m + ":") for m in results))
    if stale:
        lines += ["", "## Listed as equivalent but killed or gone (remove from the list)", "",
                  *(f"- `{k}`" for k in stale)]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {path}")
    if below:
        print(f"below {goal:.0f}%: {', '.join(below)}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
