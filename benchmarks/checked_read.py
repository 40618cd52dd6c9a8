"""Benchmark: the checked CSV read (text, TRY_CAST check, typed copy) against DuckDB's typed read_csv.

    .venv/bin/python -m benchmarks.checked_read [--leads 100000] [--repeat 3]

Demo data is generated for the conformance fixture playbook. The reference is
what the folder source did before it checked values: one `read_csv` per table
with the contract's types, measured in the same run on the same files. The
checked read parses every column as text, counts unparseable values per typed
column in the engine, then builds the typed table; the goal is a ratio under 1.5x.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import best_of, goal, median, spread

GOAL = 1.5

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "playbook"
TABLES = ("leads", "activities", "stage_history", "appointments")


def main(argv: list[str] | None = None) -> int:
    """Print both timings and their ratio; exit 1 if the two reads disagree on a row count."""
    ap = argparse.ArgumentParser(prog="benchmarks.checked_read")
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each read (>= 3)")
    args = ap.parse_args(argv)

    import duckdb

    from generator.conformance.demo import default_as_of, write_demo
    from generator.conformance.sources.checked_read import SQL_TYPES, read_csv_checked
    from generator.conformance.sources.duckdb_dir import _contract_types
    from generator.validate import load_playbook

    model = load_playbook(FIXTURE)
    declared = _contract_types(model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        write_demo(model, str(folder), leads=args.leads, seed=1, as_of=default_as_of(model), fmt="csv")
        counts: dict[str, dict[str, int]] = {}

        def reference() -> None:
            con = duckdb.connect()
            for t in TABLES:
                path = folder / f"{t}.csv"
                have = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{path}', header = true)").fetchall()]
                types = ", ".join(f"'{c}': '{SQL_TYPES.get(declared[t][c], 'VARCHAR')}'"
                                  for c in have if c in declared.get(t, {}))
                con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_csv('{path}', header = true, types = {{{types}}})")
            counts["reference"] = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
            con.close()

        def checked() -> None:
            con = duckdb.connect()
            for t in TABLES:
                read_csv_checked(con, t, folder / f"{t}.csv", declared.get(t, {}))
            counts["checked"] = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
            con.close()

        refs, checks, ratios = [], [], []
        for _ in range(max(3, args.repeat)):
            # Interleaved: run k of one against run k of the other, under the same machine load.
            refs.append(best_of(reference, 1))
            checks.append(best_of(checked, 1))
            ratios.append(checks[-1] / refs[-1])
    print(f"rows: {counts['checked']}")
    print(f"DuckDB typed read_csv (reference): {median(refs):.2f} s median of {len(refs)}")
    print(f"checked read (text + TRY_CAST check + typed copy): {median(checks):.2f} s median of {len(checks)}")
    print(f"ratio checked / reference: {spread(ratios)} " + goal(median(ratios) < GOAL, f"< {GOAL}x"))
    if counts["checked"] != counts["reference"]:
        print(f"row counts differ: {counts}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
