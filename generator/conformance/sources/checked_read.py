"""Read an export table into DuckDB with the data contract's types, or say exactly what is wrong.

Malformed data must end in one clear message naming the table, the column and
where known the row, never a value and never a raw engine error (exit 2,
`SourceError`). So a CSV is parsed strictly as RFC 4180 with every column as
text (a 0-byte file, a ragged row or an unterminated quote is reported by file
and line), then each column the contract types (boolean, integer, number,
date, datetime) is checked in the engine with `TRY_CAST`: the number of values
that do not parse and the data row of the first one are counted without ever
selecting a value, and only then is the typed table built. Parquet columns of
the right type are used as they are; text columns are checked the same way;
columns of another type are refused (wrong-schema Parquet).

A `leads` table with a header but no rows is refused: every rule would check
nothing. Other tables may be empty (a practice with no appointments yet); their
rules report that they checked no rows.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import TYPE_CHECKING

from ..source import SourceError
from .engine_errors import csv_problem, engine_message

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

SQL_TYPES = {
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}
"""Data-dictionary type -> the DuckDB type its column is read as."""

EXPECTED = {
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date-time (YYYY-MM-DD HH:MM:SS, UTC or with an offset)",
}

_INTS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
         "UHUGEINT")
_ACCEPTED = {
    "boolean": ("BOOLEAN",),
    "integer": _INTS,
    "number": _INTS + ("FLOAT", "DOUBLE", "DECIMAL"),
    "date": ("DATE", "TIMESTAMP"),
    "datetime": ("TIMESTAMP", "DATE"),
}
"""Physical DuckDB types (by prefix) that already hold a contract type."""


def classify_columns(declared: dict[str, str], physical: dict[str, str], accepted: dict[str, tuple[str, ...]],
                     text_types: tuple[str, ...], where: str = "") -> tuple[list[str], dict[str, str]]:
    """Split the contract-typed columns an engine holds into (wrong-type problems, text columns to check).

    One rule for every engine: a column whose physical type already holds its contract type
    (by prefix, from `accepted`) is fine, a text column is checked value by value, any
    other type is a problem. Columns the engine does not have are left to the binder.
    """
    wrong, text = [], {}
    for c, t in declared.items():
        kind = physical.get(c)
        if t not in accepted or kind is None or kind.startswith(accepted[t]):
            continue
        if kind in text_types:
            text[c] = t
        else:
            wrong.append(f"column {c!r} is {kind}{where} where the data contract says {t} ({EXPECTED[t]})")
    return wrong, text

FILE_COL = "__playbook_file"
ROW_COL = "__playbook_row"
_EMPTY_OK = frozenset({"activities", "stage_history", "appointments"})


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def _header(path: Path, table: str) -> list[str]:
    opener = gzip.open if _is_gz(path) else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="", errors="replace") as fh:
            row = next(csv.reader(io.StringIO(fh.readline())), [])
    except (OSError, EOFError) as exc:
        raise SourceError(f"table {table!r}: cannot read {path.name} ({type(exc).__name__})") from None
    names = [c.strip() for c in row]
    if not names or all(not n for n in names):
        raise SourceError(f"table {table!r}: {path.name} has no header line naming the columns")
    if any(not n for n in names):
        raise SourceError(f"table {table!r}: {path.name} has a header with an empty column name "
                          f"(column {names.index('') + 1})")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SourceError(f"table {table!r}: {path.name} names column(s) {', '.join(map(repr, dupes))} twice")
    return names


def _csv_files(loc: Path) -> list[Path]:
    if loc.is_file():
        return [loc]
    return sorted(p for p in loc.iterdir() if p.name.endswith((".csv", ".csv.gz")))


def read_csv_checked(con: "duckdb.DuckDBPyConnection", table: str, loc: Path, declared: dict[str, str]) -> None:
    """Create table `table` from the CSV file or folder `loc`, typed by `declared` (column -> type)."""
    import duckdb

    files = _csv_files(loc)
    header: list[str] | None = None
    for f in files:
        if f.stat().st_size == 0:
            raise SourceError(f"table {table!r}: {f.name} is empty (0 bytes); expected at least a header line "
                              "naming the columns")
        names = _header(f, table)
        if header is not None and names != header:
            raise SourceError(f"table {table!r}: {f.name} has other columns than {files[0].name}")
        header = names
    assert header is not None
    columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header) + "}"
    paths = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
    scan = (f"read_csv({paths}, auto_detect = false, header = true, delim = ',', quote = '\"', escape = '\"', "
            f"strict_mode = true, columns = {columns}, filename = {_lit(FILE_COL)})")
    raw = _q(f"__raw_{table}")
    try:
        con.execute(f"CREATE TEMP TABLE {raw} AS SELECT * FROM {scan}")
    except duckdb.Error as exc:
        problem = csv_problem(exc)
        if problem is not None:
            where = Path(problem[1]).name if problem[1] else files[0].name
            raise SourceError(f"table {table!r}: {where} {problem[0]}") from None
        raise SourceError(f"table {table!r}: cannot read {loc.name}: {engine_message(exc)}") from None
    try:
        typed = {c: declared[c] for c in header if declared.get(c) in SQL_TYPES}
        _check_values(con, table, raw, typed, row_sql=None)
        sniffed = _sniffed_types(con, paths) if any(c not in declared for c in header) else {}
        exprs = []
        for c in header:
            if c in typed:
                exprs.append(_typed(c, typed[c]))
            elif c not in declared and sniffed.get(c, "VARCHAR") != "VARCHAR":
                # Not in the contract: no check reads it, so keep DuckDB's sniffed type as before.
                exprs.append(f"TRY_CAST({_q(c)} AS {sniffed[c]}) AS {_q(c)}")
            else:
                exprs.append(_q(c))
        con.execute(f"CREATE TABLE {_q(table)} AS SELECT {', '.join(exprs)} FROM {raw} ORDER BY rowid")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {raw}")


def _sniffed_types(con: "duckdb.DuckDBPyConnection", paths: str) -> dict[str, str]:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_csv({paths}, header = true, delim = ',', quote = '\"', "
                           "escape = '\"')").fetchall()
    except duckdb.Error:
        return {}
    return {r[0]: str(r[1]) for r in rows}


def _typed(column: str, ftype: str) -> str:
    return f"CAST(NULLIF(TRIM({_q(column)}), '') AS {SQL_TYPES[ftype]}) AS {_q(column)}"


def _bad(column: str, ftype: str) -> str:
    value = f"NULLIF(TRIM({_q(column)}), '')"
    return f"({value} IS NOT NULL AND TRY_CAST({value} AS {SQL_TYPES[ftype]}) IS NULL)"


def _check_values(con: "duckdb.DuckDBPyConnection", table: str, relation: str, typed: dict[str, str],
                  *, row_sql: str | None) -> None:
    """Raise SourceError if `relation` has no rows (leads) or text that does not parse as its type.

    Only counts, file names and row numbers are selected, never a value.
    `row_sql` is a 0-based row number within each file (Parquet's
    file_row_number); None means `relation` is a table in file order, whose
    rowid is counted per file.
    """
    parts = ["COUNT(*)"] + [f"COUNT(*) FILTER (WHERE {_bad(c, t)})" for c, t in typed.items()]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchone()
    if row[0] == 0 and table not in _EMPTY_OK:
        raise SourceError(f"table {table!r} has a header but no rows: there is nothing to check")
    problems = []
    for (c, t), count in zip(typed.items(), row[1:]):
        if not count:
            continue
        order = f"{FILE_COL}, {row_sql}" if row_sql else "rowid"
        pos = row_sql or "rowid"
        file, first = con.execute(
            f"SELECT {FILE_COL}, {pos} FROM {relation} WHERE {_bad(c, t)} ORDER BY {order} LIMIT 1").fetchone()
        if row_sql is None:  # rowid runs across files: count this file's rows up to it
            first = con.execute(f"SELECT COUNT(*) - 1 FROM {relation} WHERE {FILE_COL} = ? AND rowid <= ?",
                                [file, first]).fetchone()[0]
        values = "value is" if count == 1 else "values are"
        problems.append(f"table {table!r}, column {c!r}: {count} {values} not {EXPECTED[t]}; the first is in "
                        f"data row {int(first) + 1} of {Path(file).name}")
    if problems:
        raise SourceError("; ".join(problems) + " (values are not shown: they may be personal data)")


def parquet_view_checked(con: "duckdb.DuckDBPyConnection", table: str, loc: Path, declared: dict[str, str]) -> None:
    """Create view `table` over the Parquet file or folder `loc`, checked against `declared`."""
    import duckdb

    pattern = f"{loc}/*.parquet" if loc.is_dir() else str(loc)
    scan = f"read_parquet({_lit(pattern)})"
    try:
        schema = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"table {table!r}: {loc.name} cannot be read as Parquet: {engine_message(exc)}") from None
    types = {r[0]: str(r[1]).upper() for r in schema}
    wrong, text = classify_columns({c: t for c, t in declared.items() if t in SQL_TYPES}, types, _ACCEPTED,
                                   ("VARCHAR",), where=f" in {loc.name}")
    if wrong:
        raise SourceError(f"table {table!r}: wrong Parquet schema: " + "; ".join(wrong))
    checked = (f"read_parquet({_lit(pattern)}, filename = true, file_row_number = true)")
    rel = f"(SELECT *, filename AS {FILE_COL} FROM {checked})"
    try:
        _check_values(con, table, rel, text, row_sql="file_row_number")
    except duckdb.Error as exc:
        raise SourceError(f"table {table!r}: cannot read {loc.name}: {engine_message(exc)}") from None
    replace = ", ".join(_typed(c, t) for c, t in text.items())
    select = f"* REPLACE ({replace})" if replace else "*"
    con.execute(f"CREATE VIEW {_q(table)} AS SELECT {select} FROM {scan}")


__all__ = ["SQL_TYPES", "parquet_view_checked", "read_csv_checked"]
