"""Benchmark: load + validate a playbook 20x the default size, against parsing its YAML alone.

    .venv/bin/python -m benchmarks.validate [--factor 20] [--source process/lead-management]

The scaled playbook is generated (generator.validate.scale): every list entity
copied with suffixed ids and references that follow the copy. The reference is
ruamel.yaml's own pure-Python safe parser reading the same files into plain
data, measured in the same run; the goal is a ratio under 3x. The loader composes
with libyaml when ruamel.yaml.clib is installed, so ruamel's C safe parser is
measured too, as a second reference.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import best_of, goal, median, spread

GOAL = 3.0

ROOT = Path(__file__).resolve().parents[1]
FALLBACK = ROOT / "tests" / "fixtures" / "rules" / "base"


def main(argv: list[str] | None = None) -> int:
    """Print timings and ratios; exit 1 if the scaled playbook does not validate clean."""
    ap = argparse.ArgumentParser(prog="benchmarks.validate")
    ap.add_argument("--factor", type=int, default=20)
    ap.add_argument("--source", type=Path, default=ROOT / "process" / "lead-management")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each part (>= 3)")
    args = ap.parse_args(argv)

    from ruamel.yaml import YAML

    from generator.errors import PlaybookError
    from generator.load import load_data, playbook_files
    from generator.validate import check
    from generator.validate.rules import discover, run_rules
    from generator.validate.scale import write_scaled
    from generator.validate.schema_errors import schema_problems

    discover()
    source = args.source
    try:
        if not check(source).model:
            raise PlaybookError("not schema-valid")
    except PlaybookError as exc:
        print(f"{source} cannot be scaled ({exc}); using {FALLBACK.relative_to(ROOT)}")
        source = FALLBACK
    with tempfile.TemporaryDirectory(prefix="playbook-bench-") as tmp:
        dest = Path(tmp) / "scaled"
        files = write_scaled(source, dest, args.factor)
        texts = [f.read_text(encoding="utf-8") for f in playbook_files(dest)]
        size = sum(len(t.encode()) for t in texts)

        def parse_only():
            for text in texts:
                YAML(typ="safe", pure=True).load(text)

        def parse_c():
            for text in texts:
                YAML(typ="safe", pure=False).load(text)

        def load_only():
            load_data(dest, display_root=dest)

        loaded = load_data(dest, display_root=dest)
        model, schema = schema_problems(loaded)
        result = check(dest, display_root=dest)

        # Interleaved: each run times every part once, so run k's ratios compare like with like.
        keys = ("parse", "c", "all", "load", "schema", "rules")
        t: dict[str, list[float]] = {k: [] for k in keys}
        for _ in range(max(3, args.repeat)):
            t["parse"].append(best_of(parse_only, 1))
            t["c"].append(best_of(parse_c, 1))
            t["all"].append(best_of(lambda: check(dest, display_root=dest), 1))
            t["load"].append(best_of(load_only, 1))
            t["schema"].append(best_of(lambda: schema_problems(loaded), 1))
            t["rules"].append(best_of(lambda: run_rules(model, loaded.source_map), 1))

    def ratio(key: str, ref: str = "parse") -> list[float]:
        return [a / b for a, b in zip(t[key], t[ref])]

    print(f"source {source.relative_to(ROOT) if source.is_relative_to(ROOT) else source} x{args.factor}: "
          f"{len(files)} files, {size / 1e6:.2f} MB, {len(model.stages) if model else '?'} stages, "
          f"{len(model.fields) if model else '?'} fields, {len(model.steps) if model else '?'} steps; "
          f"medians of {len(t['parse'])} runs, ratios per run: median (range)")
    from generator import load

    print(f"parse YAML alone (ruamel safe, pure Python): {median(t['parse']):.3f}s  (reference)")
    print(f"parse YAML alone (ruamel safe, libyaml C):   {median(t['c']):.3f}s  {spread(ratio('c'))}")
    print(f"load (compose + locate + merge):              {median(t['load']):.3f}s  {spread(ratio('load'))}"
          f"  ({median(ratio('load', 'c')):.2f}x the C parse; composing with "
          f"{'libyaml' if load.USE_C else 'the pure parser: ruamel.yaml.clib is missing'})")
    print(f"schema (pydantic):                            {median(t['schema']):.3f}s  {spread(ratio('schema'))}")
    print(f"{'rules (all ' + str(len(discover())) + ')':<46}{median(t['rules']):.3f}s  {spread(ratio('rules'))}")
    print(f"validate total (load + schema + rules):       {median(t['all']):.3f}s  {spread(ratio('all'))}  "
          + goal(median(ratio("all")) < GOAL, f"< {GOAL:g}x the pure-Python parse"))
    if result.problems:
        print(f"the scaled playbook has {len(result.problems)} problem(s), e.g. {result.problems[0].text()}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
