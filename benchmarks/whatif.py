"""Benchmark: `whatif` for a routing change on 1M leads against one `conform` run of HEAD alone.

In one run, on the same Parquet files (generated as `benchmarks.conformance` does, for the
frozen benchmark playbook) and a temporary git repository whose HEAD commit moves the
cardiology rule behind a minimum score:

1. conform: load HEAD's playbook, open the folder, run every check (one fused query per table);
2. whatif: load BASE and HEAD from git, open the folder, run HEAD's checks with BASE's changed
   ones fused in, plus the queue x queue GROUP BY.

    .venv/bin/python -m benchmarks.whatif [--leads 1000000] [--activities-per-lead 10] [--repeat 3]

Goal: whatif / conform <= 1.5x. The moved count is checked against a direct DuckDB count.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import best_of, goal, median, spread
from .conformance import AS_OF, FIXTURE, ROOT, generate

PB = "process/bench"


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent)}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def make_repo(root: Path) -> None:
    """BASE: the benchmark playbook; HEAD: hot cardiology only (min score 50), the rest to general."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "Bench")
    _git(root, "config", "user.email", "bench@example.org")
    shutil.copytree(FIXTURE, root / PB)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "--no-gpg-sign", "-m", "base")
    _git(root, "tag", "base")
    p = root / PB / "routing.yaml"
    text = p.read_text()
    assert "when: {specialty: [cardiology]}" in text
    p.write_text(text.replace("when: {specialty: [cardiology]}", "when: {specialty: [cardiology], min_score: 50}", 1))
    _git(root, "commit", "-q", "--no-gpg-sign", "-am", "Only hot cardiology leads to the cardiology queue")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--activities-per-lead", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, help="reuse (or keep) generated data in this folder")
    args = ap.parse_args(argv)

    import duckdb

    from generator.conformance.run import run_checks
    from generator.conformance.sources import open_source
    from generator.validate import load_playbook
    from generator.whatif.revisions import load_pair
    from generator.whatif.run import run_whatif

    tmp = Path(tempfile.mkdtemp(prefix="playbook-bench-whatif-"))
    data = args.data or tmp / "data"
    try:
        if not (data / "leads.parquet").exists():
            rows = generate(data, args.leads, args.activities_per_lead)
            print(f"generated {rows}")
        repo = tmp / "repo"
        make_repo(repo)
        folder = repo / PB
        results = {}

        def conform() -> None:
            model = load_playbook(folder)
            src = open_source(str(data))
            try:
                results["conform"] = run_checks(model, src, as_of=AS_OF, generated_at=AS_OF)
            finally:
                src.close()

        def whatif() -> None:
            base, head = load_pair(folder, "base", "main")
            src = open_source(str(data))
            try:
                results["whatif"] = run_whatif(base, head, src, as_of=AS_OF, generated_at=AS_OF)
            finally:
                src.close()

        # Alternate, so both see the same page cache and machine load.
        t_conform = t_whatif = float("inf")
        ratios = []
        for _ in range(max(3, args.repeat)):
            c, w_ = best_of(conform, 1), best_of(whatif, 1)
            t_conform, t_whatif = min(t_conform, c), min(t_whatif, w_)
            ratios.append(w_ / c)  # run k of one against run k of the other
        w = results["whatif"]
        lp = data / "leads.parquet"
        moved_direct = duckdb.sql(
            f"SELECT COUNT(*) FROM read_parquet('{lp}') WHERE specialty = 'cardiology' "
            "AND NOT coalesce(score >= 50, false) AND queue IS NOT NULL AND trim(queue) <> ''").fetchall()[0][0]
        head_counts = {r.id: r.violations for r in results["conform"].checked_rules}
        same = all(head_counts[r.id] == r.head for r in w.rules if r.head is not None)
        print(f"leads: {duckdb.sql(f'SELECT COUNT(*) FROM read_parquet({chr(39)}{lp}{chr(39)})').fetchall()[0][0]:,}; "
              f"routed leads moved: {w.routing['moved']:,} (direct count {moved_direct:,})")
        print(f"conform HEAD alone: {t_conform:.2f}s best of {len(ratios)}")
        print(f"whatif BASE -> HEAD: {t_whatif:.2f}s best of {len(ratios)}")
        print(f"ratio whatif / conform: {t_whatif / t_conform:.2f}x best/best; per run {spread(ratios)} "
              + goal(median(ratios) <= 1.5, "issue 15: whatif <= 1.5x of conform"))
        print("HEAD counts: " + ("identical to conform's" if same else "DIFFER from conform's"))
        return 0 if same and moved_direct == w.routing["moved"] else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
