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

from benchmarks import best_of

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "playbook"
TABLES = ("leads", "activities", "stage_history", "appointments")


def main(argv: list[str] | None = None) -> int:
    """Print both timings and their ratio; exit 1 if the two reads disagree on a row count."""
    ap = argparse.ArgumentParser(prog="benchmarks.checked_read")
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
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

        t_ref = best_of(reference, args.repeat)
        t_checked = best_of(checked, args.repeat)
    print(f"rows: {counts['checked']}")
    print(f"DuckDB typed read_csv (reference): {t_ref:.2f} s")
    print(f"checked read (text + TRY_CAST check + typed copy): {t_checked:.2f} s")
    print(f"ratio checked / reference: {t_checked / t_ref:.2f} (goal < 1.5)")
    if counts["checked"] != counts["reference"]:
        print(f"row counts differ: {counts}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
