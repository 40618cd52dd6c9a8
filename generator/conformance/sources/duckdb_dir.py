"""Embedded DuckDB over a folder of CSV or Parquet exports: the default source.

Parquet files become views (DuckDB scans only the columns a check uses). CSV
files are parsed once into in-memory tables: a fused check run reads each
table several times and re-parsing text each time would dominate the run.
Given the model, CSV columns are read with the data contract's types, so ids
and phone numbers stay text (leading zeros kept) instead of being sniffed.
A `.duckdb` file is opened read-only and used as is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..source import LOGICAL_TABLES, SourceError
from . import dir_tables
from .checked_read import parquet_view_checked, read_csv_checked
from .engine_errors import MISSING_COLUMN, engine_message

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pyarrow

def duckdb_message(exc: Exception) -> str:
    """DuckDB's error through the one engine-error mapping: no quoted literals, no CSV lines."""
    return engine_message(exc)


# Data-dictionary type -> the DuckDB type a CSV column is read as when the model is known.
CSV_TYPES = {
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}


def _scan_sql(path: Path, types: dict[str, str] | None = None) -> str:
    p = str(path).replace("'", "''")
    if path.is_dir():
        if any(path.glob("*.parquet")):
            return f"read_parquet('{p}/*.parquet')"
        return _read_csv(f"{p}/*.csv", types)
    if path.name.endswith(".parquet"):
        return f"read_parquet('{p}')"
    return _read_csv(p, types)


def _read_csv(pattern: str, types: dict[str, str] | None) -> str:
    if not types:
        return f"read_csv('{pattern}', header = true)"
    spec = ", ".join(f"'{k.replace(chr(39), chr(39) * 2)}': '{v}'" for k, v in sorted(types.items()))
    return f"read_csv('{pattern}', header = true, types = {{{spec}}})"


def _csv_types(con: "duckdb.DuckDBPyConnection", loc: Path, declared: dict[str, str]) -> dict[str, str]:
    """Contract types for the columns this CSV has: text stays text (ids, phones with leading zeros)."""
    p = str(loc).replace("'", "''")
    pattern = f"{p}/*.csv" if loc.is_dir() else p
    have = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{pattern}', header = true)").fetchall()]
    return {c: CSV_TYPES.get(declared[c], "VARCHAR") for c in have if c in declared}


def _contract_types(model: Any) -> dict[str, dict[str, str]]:
    # Without the model, CSV types are sniffed (a numeric id column then reads as a number).
    if model is None:
        return {}
    from ..contract import build_contract

    return {t.name: {c.name: c.type for c in t.columns} for t in build_contract(model).tables}


class DuckDBSource:
    """A Source on an embedded DuckDB connection."""

    dialect = "duckdb"

    def __init__(
        self,
        path: Path,
        *,
        tables: dict[str, str] | None = None,
        connection: "duckdb.DuckDBPyConnection | None" = None,
        description: str | None = None,
        complete: bool = True,
        threads: int | None = None,
        model: Any = None,
    ) -> None:
        import duckdb

        self.path = Path(path)
        self.complete = complete
        self.missing_tables: list[str] = []
        if connection is not None:
            self.con = connection
            self.description = description or f"duckdb {self.path}"
            return
        if self.path.is_file() and self.path.suffix in (".duckdb", ".db"):
            try:
                self.con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise SourceError(f"cannot open DuckDB file {self.path}: {duckdb_message(exc)}") from None
            self.description = description or f"duckdb file {self.path}"
            self._session_settings(threads)
            return
        if not self.path.is_dir():
            raise SourceError(f"source folder {self.path} does not exist (expected CSV or Parquet exports)")
        found = {k: Path(v) for k, v in dir_tables(self.path).items()}
        for name, loc in (tables or {}).items():
            loc_path = Path(loc) if Path(loc).is_absolute() else self.path / loc
            if not loc_path.exists():
                raise SourceError(f"table {name!r}: {loc_path} does not exist")
            found[name] = loc_path
        if "leads" not in found:
            raise SourceError(
                f"source folder {self.path} has no leads table (expected leads.parquet, leads.csv or a leads/ folder)"
            )
        self.missing_tables = [t for t in LOGICAL_TABLES if t not in found]
        self.description = description or f"folder {self.path}"
        self.con = duckdb.connect()
        self._session_settings(threads)
        declared = _contract_types(model)
        self.missing_columns: dict[str, list[str]] = {}
        for name, loc in sorted(found.items()):
            is_parquet = loc.name.endswith(".parquet") or (loc.is_dir() and any(loc.glob("*.parquet")))
            if declared:
                # With the contract known, every table is read checked: located, value-free errors.
                if is_parquet:
                    parquet_view_checked(self.con, name, loc, declared.get(name, {}))
                else:
                    read_csv_checked(self.con, name, loc, declared.get(name, {}))
                have = set(self.columns(name) or [])
                self.missing_columns[name] = [c for c in declared.get(name, {}) if c not in have]
                continue
            try:
                is_csv = not (loc.name.endswith(".parquet") or (loc.is_dir() and any(loc.glob("*.parquet"))))
                types = _csv_types(self.con, loc, declared.get(name, {})) if is_csv and declared else None
                scan = _scan_sql(loc, types)
                kind = "VIEW" if "read_parquet" in scan else "TABLE"
                self.con.execute(f'CREATE {kind} "{name}" AS SELECT * FROM {scan}')
            except duckdb.Error as exc:
                raise SourceError(f"cannot read table {name!r} from {loc.name}: {duckdb_message(exc)}") from None

    def _session_settings(self, threads: int | None) -> None:
        # Times are UTC in the data contract; never let the machine's zone leak in.
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def query(self, sql: str) -> list[tuple]:
        """Run one SELECT and return all rows."""
        import duckdb

        try:
            return self.con.execute(sql).fetchall()
        except duckdb.CatalogException as exc:
            missing = [t for t in self.missing_tables if re.search(rf'\b{t}\b', str(exc))]
            if missing:
                raise SourceError(
                    f"{self.description}: table {missing[0]!r} is missing "
                    f"(expected {missing[0]}.parquet, {missing[0]}.csv or a {missing[0]}/ folder)"
                ) from None
            raise SourceError(f"{self.description}: {duckdb_message(exc)}") from None
        except duckdb.BinderException as exc:
            m = MISSING_COLUMN.search(str(exc))
            if m:
                raise SourceError(f"{self.description}: {self._missing_column(m.group(1))}") from None
            raise SourceError(f"{self.description}: {duckdb_message(exc)}") from None
        except duckdb.Error as exc:
            raise SourceError(f"{self.description}: {duckdb_message(exc)}") from None

    def _missing_column(self, column: str) -> str:
        tables = [t for t, cols in getattr(self, "missing_columns", {}).items() if column in cols]
        if tables:
            return (f"table {tables[0]!r} has no column {column!r}, which the data contract defines and the checks "
                    f"need (add it to {tables[0]}'s export, or set names.warehouse for that field)")
        return f"a check needs a column {column!r} that the source does not have"

    def columns(self, name: str) -> list[str] | None:
        """Column names of a table or view, or None when it does not exist."""
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        return [r[0] for r in rows] or None

    def register_table(self, name: str, table: "pyarrow.Table") -> None:
        """Expose an Arrow table (e.g. the business-hours calendar) as `name`."""
        self.con.register(name, table)

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        con, self.con = getattr(self, "con", None), None
        if con is not None:
            con.close()

    def __enter__(self) -> "DuckDBSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
