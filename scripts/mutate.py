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

Equivalent mutants (no test can tell them apart from the original) are listed,
one a line with the reason, in scripts/mutation-equivalents.txt as
`module:line:col:operator  # why`; they are excluded from the score.

Usage: python scripts/mutate.py [--module NAME ...] [--jobs N] [--report FILE]
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
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
    "generator/conformance/compile.py": ["tests/test_conformance.py", "tests/test_conformance_cases.py"],
    "generator/crm/http.py": ["tests/test_crm_http.py", "tests/test_crm_client.py", "tests/test_crm_limits.py",
                              "tests/test_redact.py"],
    "generator/load.py": ["tests/test_load.py", "tests/test_load_c.py"],
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


def _run_tests(workdir: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    env = dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests], cwd=workdir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    took = time.monotonic() - start
    if proc.returncode == 0:
        return "survived", took
    if proc.returncode in (1, 2, 3):  # failed, interrupted (e.g. import error), internal error
        return "killed", took
    return f"error (pytest exit {proc.returncode})", took


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
    args = ap.parse_args(argv)

    plan: list[tuple[str, list[str]]] = []
    for pattern, tests in TARGETS.items():
        for path in sorted(ROOT.glob(pattern)):
            rel = str(path.relative_to(ROOT))
            if path.name == "__init__.py" or (args.module and not any(s in rel for s in args.module)):
                continue
            plan.append((rel, [t for t in tests if (ROOT / t).exists()]))
    equivalents = load_equivalents()
    work = Path(tempfile.mkdtemp(prefix="playbook-mutation-"))
    slots = []
    for j in range(args.jobs):
        d = work / f"w{j}"
        d.mkdir()
        _copy_tree(d)
        slots.append(d)
    started = time.monotonic()
    results: dict[str, list[tuple[Mutant, str]]] = {}
    try:
        # One baseline per test set: the unmutated tree must pass, and it sets the time limit.
        baselines: dict[tuple[str, ...], float] = {}
        for _, tests in plan:
            key = tuple(tests)
            if key not in baselines:
                outcome, took = _run_tests(slots[0], tests, timeout=1800)
                if outcome != "survived":
                    raise SystemExit(f"the tests {' '.join(tests)} do not pass on the unmutated tree ({outcome})")
                baselines[key] = took
        free = list(slots)

        def run_one(m: Mutant, tests: list[str]) -> tuple[Mutant, str]:
            d = free.pop()
            try:
                target = d / m.module
                original = target.read_text(encoding="utf-8")
                target.write_text(mutated_source(m, original), encoding="utf-8")
                try:
                    outcome, _ = _run_tests(d, tests, timeout=baselines[tuple(tests)] * 3 + 20)
                finally:
                    target.write_text(original, encoding="utf-8")
            finally:
                free.append(d)
            print(f"  {outcome:9} {m.key}", flush=True)  # progress, so a long run can be followed
            return m, outcome

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for module, tests in plan:
                ms = mutants_of(module, slots[0])  # the copy: edits to the tree during a run do not matter
                print(f"{module}: {len(ms)} mutants against {' '.join(tests)}", flush=True)
                results[module] = list(pool.map(lambda m: run_one(m, tests), ms))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return _report(results, equivalents, Path(args.report), time.monotonic() - started, args.goal)


def _group(module: str) -> str:
    return "generator/validate/rules" if "/validate/rules/" in module else module


def _report(results, equivalents, path: Path, elapsed: float, goal: float) -> int:
    groups: dict[str, dict[str, int]] = {}
    survivors: list[str] = []
    used_equivalents: set[str] = set()
    for module, outcomes in results.items():
        g = groups.setdefault(_group(module), {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0})
        for m, outcome in outcomes:
            g["mutants"] += 1
            if outcome in ("killed", "timeout"):
                g["killed"] += 1
            elif m.key in equivalents:
                g["equivalent"] += 1
                used_equivalents.add(m.key)
            else:
                g["survived"] += 1
                survivors.append(f"- `{m.key}` ({outcome})")
    lines = ["# Mutation testing report", "",
             f"Run time: {elapsed:.0f} s. Goal: {goal:.0f}% per module, equivalent mutants excluded.", "",
             "| module | mutants | killed | equivalent | survived | score |", "| --- | --- | --- | --- | --- | --- |"]
    below = []
    for name, g in groups.items():
        counted = g["mutants"] - g["equivalent"]
        score = 100.0 * g["killed"] / counted if counted else 100.0
        if score < goal:
            below.append(name)
        lines.append(f"| {name} | {g['mutants']} | {g['killed']} | {g['equivalent']} | {g['survived']} | {score:.1f}% |")
    lines += ["", f"## Survivors ({len(survivors)})", "", *(survivors or ["none"])]
    stale = sorted(k for k in equivalents if k not in used_equivalents and any(k.startswith(m + ":") for m in results))
    if stale:
        lines += ["", "## Listed as equivalent but killed or gone (remove from the list)", "",
                  *(f"- `{k}`" for k in stale)]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {path}")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
