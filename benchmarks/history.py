"""Benchmark: `playbook history` over 2,000 commits touching process/, against `git log --stat`.

The repository is generated with `git fast-import` (seconds, not minutes):
one commit adds the history fixture playbook, then each commit edits one
process file (alternating a stage's guidance, a scoring rule's points and an
SLA's deadline) with `Change-Reason:` and `Approved-by:` trailers. Both
commands run on the same repository in the same run, interleaved, 3 times;
the ratios' median and range are printed. In-process, the cold history is
also timed without its CRM impact (generator/history/impact.py), which is
what the printed goal is measured against.

    .venv/bin/python -m benchmarks.history [--commits N] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "history" / "playbook"
PB = "process/clinic"
EPOCH = 1767261600  # 2026-01-01 10:00 UTC
RUNS = 3


def _data(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return b"data %d\n" % len(raw) + raw + b"\n"


def fast_import_stream(commits: int) -> bytes:
    """A fast-import stream: the playbook, then `commits - 1` one-file edits."""
    files = {p.name: p.read_text() for p in sorted(FIXTURE.glob("*.yaml"))}
    out = []
    people = ["Ana Ops <ana@example.org>", "Ben Lead <ben@example.org>", "Cy Score <cy@example.org>"]
    for n in range(commits):
        author = people[n % 3]
        approver = people[(n + 1) % 3]
        if n == 0:
            changed = dict(files)
            subject = "Create the clinic playbook"
        else:
            kind = n % 3
            if kind == 0:
                name = "stages.yaml"
                files[name] = _replace_line(files[name], "guidance: Check the form", f"    guidance: Check the form (rev {n}).")
            elif kind == 1:
                name = "routing.yaml"
                files[name] = _replace_line(files[name], "points:", f"      points: {n % 50 + 1}")
            else:
                name = "routing.yaml"
                files[name] = _replace_line(files[name], "within:", f"    within: {n % 8 + 1} business hours")
            changed = {name: files[name]}
            subject = f"Change {n}"
        msg = f"{subject}\n\nChange-Reason: benchmark edit {n}\nApproved-by: {approver}\n"
        stamp = f"{EPOCH + n * 600} +0000"
        out.append(b"commit refs/heads/main\n")
        out.append(b"mark :%d\n" % (n + 1))
        out.append(f"author {author} {stamp}\ncommitter {author} {stamp}\n".encode())
        out.append(_data(msg))
        if n:
            out.append(b"from :%d\n" % n)
        for name, text in sorted(changed.items()):
            out.append(f"M 100644 inline {PB}/{name}\n".encode())
            out.append(_data(text))
        out.append(b"\n")
    out.append(b"done\n")
    return b"".join(out)


def _replace_line(text: str, marker: str, new_line: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if marker in line:
            lines[i] = new_line
            return "\n".join(lines)
    raise ValueError(f"{marker!r} not found")


def make_repo(root: Path, commits: int) -> None:
    """A repository with `commits` commits touching process/, built by git fast-import."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "fast-import", "--quiet", "--done"], cwd=root, input=fast_import_stream(commits),
                   check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True)


def timed(cmd: list[str], cwd: Path) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stderr.decode()}")
    return elapsed, proc.stdout


def _in_process(with_impact: bool) -> tuple[float, float, int, int, list]:
    """A cold history in this process (no disk cache): total and blob-parsing seconds, counts, impacts."""
    from generator.history.changelog import History

    hist = History(Path(PB), cache=False)
    try:
        t0 = time.perf_counter()
        logs = hist.git.log(hist.rel)
        hist.snapshots.prefetch([sha for log in logs for sha in [log.sha, *log.parents[:1]]])
        parse_s = time.perf_counter() - t0
        entries = hist.entries(with_impact=with_impact)
        total = time.perf_counter() - t0
        impacts = [e.impact.as_dict() if e.impact else None for e in entries]
        return total, parse_s, hist.snapshots.parses, len(hist.snapshots._models), impacts
    finally:
        hist.close()


IMPACT_GOAL = 1.5
"""Cold history with CRM impact against the same history without it: the impact (two exports and the
conformance checks compiled per distinct tree) may add at most half (issue 15, the evidence item)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=RUNS, help="runs of each measurement (>= 3)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import goal, median, spread
    from generator import load
    from generator.history import impact, snapshot

    env_python = sys.executable
    runs = max(3, args.runs)
    gits, colds, warms, with_i, without, ratios_cold, ratios_warm, ratios_impact = ([] for _ in range(8))
    with tempfile.TemporaryDirectory(prefix="playbook-bench-history-") as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        make_repo(root, args.commits)
        setup = time.perf_counter() - t0
        cmd = [env_python, "-m", "generator", "history", "--process", PB, "--format", "json"]
        cwd = os.getcwd()
        for _ in range(runs):
            # Interleaved: git log, then a cold and a warm `playbook history`, so each ratio compares runs
            # that saw the same machine load.
            git_s, _ = timed(["git", "log", "--stat", "--", "process/"], root)
            shutil.rmtree(root / ".cache", ignore_errors=True)
            cold_s, out = timed(cmd, root)  # cold: nothing parsed or compiled yet
            warm_s, _ = timed(cmd, root)  # warm: parsed file versions and compiled digests in .cache/history
            gits.append(git_s)
            colds.append(cold_s)
            warms.append(warm_s)
            ratios_cold.append(cold_s / git_s)
            ratios_warm.append(warm_s / git_s)
            commits = out.count(b'"commit": "')
            # In-process, no disk cache: the history itself without interpreter start-up, with and without
            # the CRM impact (the same entries; the impact is the difference).
            os.chdir(root)
            try:
                plain, _, _, _, _ = _in_process(False)
                full, parse_s, parses, models, impacts = _in_process(True)
            finally:
                os.chdir(cwd)
            without.append(plain)
            with_i.append(full)
            ratios_impact.append(full / plain)
    workers = min(os.cpu_count() or 1, 8)
    pool = f"process pool of {workers}" if parses >= snapshot.PARALLEL_MIN and workers >= 2 else "in-process"
    compiled = sum(1 for i in impacts if i is not None)
    ipool = (f"process pool of {workers}" if models >= impact.PARALLEL_MIN and workers >= 2 else "in-process")
    parser_name = "libyaml (C)" if load.USE_C else "pure Python"
    print(f"history benchmark: {args.commits} commits touching process/ (repository built in {setup:.2f}s), "
          f"{runs} runs each, median of the runs")
    print(f"  git log --stat (reference) {median(gits):8.3f}s")
    print(f"  playbook history (CLI)     {median(colds):8.3f}s  ({commits} commits listed; cold, nothing cached)")
    print(f"  playbook history (CLI)     {median(warms):8.3f}s  (warm: parsed file versions and compiled "
          "digests from .cache/history)")
    print(f"  history in-process, cold   {median(with_i):8.3f}s  (with CRM impact: {compiled} entries with one, "
          f"{models} distinct models compiled, {ipool})")
    print(f"  history in-process, cold   {median(without):8.3f}s  (without CRM impact; of which parsing "
          f"{parses} blobs {parse_s:.3f}s, {pool}, {parser_name} parser)")
    print(f"  ratio playbook history / git log --stat: cold {spread(ratios_cold)}, warm {spread(ratios_warm)}")
    print(f"  ratio cold history with / without CRM impact: {spread(ratios_impact)}   "
          + goal(median(ratios_impact) <= IMPACT_GOAL, f"CRM impact adds <= {IMPACT_GOAL - 1:.1f}x to a cold history"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
