"""Benchmark: `playbook history` over 2,000 commits touching process/, against `git log --stat`.

The repository is generated with `git fast-import` (seconds, not minutes):
one commit adds the history fixture playbook, then each commit edits one
process file (alternating a stage's guidance, a scoring rule's points and an
SLA's deadline) with `Change-Reason:` and `Approved-by:` trailers. Both
commands run on the same repository in the same run; the ratio is printed.

    .venv/bin/python -m benchmarks.history [--commits N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "history" / "playbook"
PB = "process/clinic"
EPOCH = 1767261600  # 2026-01-01 10:00 UTC


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    args = parser.parse_args(argv)
    env_python = sys.executable
    with tempfile.TemporaryDirectory(prefix="playbook-bench-history-") as tmp:
        root = Path(tmp) / "repo"
        t0 = time.perf_counter()
        make_repo(root, args.commits)
        setup = time.perf_counter() - t0
        git_s, _ = timed(["git", "log", "--stat", "--", "process/"], root)
        cmd = [env_python, "-m", "generator", "history", "--process", PB, "--format", "json"]
        hist_s, out = timed(cmd, root)  # cold: nothing parsed yet
        warm_s, _ = timed(cmd, root)  # warm: every file version is in .cache/history
        commits = out.count(b'"commit": "')
        # In-process: the cost of the history itself, without interpreter start-up, and the cache effect.
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from generator.history.changelog import History

        cwd = os.getcwd()
        os.chdir(root)
        try:
            hist = History(Path(PB), cache=False)
            t1 = time.perf_counter()
            logs = hist.git.log(hist.rel)
            hist.snapshots.prefetch([sha for log in logs for sha in [log.sha, *log.parents[:1]]])
            parse_s = time.perf_counter() - t1
            entries = hist.entries()
            inproc = time.perf_counter() - t1
            parses, models = hist.snapshots.parses, len(hist.snapshots._models)
            hist.close()
        finally:
            os.chdir(cwd)
    print(f"history benchmark: {args.commits} commits touching process/ (repository built in {setup:.2f}s)")
    print(f"  git log --stat            {git_s:8.3f}s")
    print(f"  playbook history (CLI)    {hist_s:8.3f}s  ({commits} commits listed; cold, nothing cached)")
    print(f"  playbook history (CLI)    {warm_s:8.3f}s  (warm: parsed file versions from .cache/history)")
    print(f"  history in-process, cold {inproc:8.3f}s  ({len(entries)} entries, {parses} blobs parsed, "
          f"{models} distinct models)")
    from generator import load
    from generator.history import snapshot

    workers = min(os.cpu_count() or 1, 8)
    pool = f"process pool of {workers}" if parses >= snapshot.PARALLEL_MIN and workers >= 2 else "in-process"
    parser = "libyaml (C)" if load.USE_C else "pure Python"
    print(f"    of which parsing blobs {parse_s:8.3f}s  ({pool}, {parser} parser)")
    print(f"  ratio playbook history / git log --stat: {hist_s / git_s:.1f}x cold, {warm_s / git_s:.1f}x warm")


if __name__ == "__main__":
    main()
