"""Where CRM data lives: open a `--source` spec as a read-only SQL `Source`.

    DIR | FILE.duckdb        embedded DuckDB over CSV/Parquet exports (the default)
    postgresql://...         a read-only PostgreSQL session (`?schema=` picks the schema)
    spark                    a local PySpark session (`tables` = name -> parquet/csv path, else the catalog)
    salesforce | hubspot     read-only REST pulls into a local DuckDB, resumable

Every message names a source through `generator.redact` (the one redactor), so
passwords and tokens never reach a log, a report or an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...redact import redact_url
from ..source import LOGICAL_TABLES, Progress, Source, SourceError

__all__ = [
    "LOGICAL_TABLES",
    "Source",
    "SourceError",
    "dir_tables",
    "open_folder_on",
    "open_source",
    "parse_table_map",
    "require_columns",
]

_TABLE_EXTS = (".parquet", ".csv", ".csv.gz")


def dir_tables(directory: Path) -> dict[str, Path]:
    """The logical tables found in an export folder: `leads.parquet`, `leads.csv`, or a `leads/` folder."""
    directory = Path(directory)
    found: dict[str, Path] = {}
    for name in LOGICAL_TABLES:
        for ext in _TABLE_EXTS:
            p = directory / f"{name}{ext}"
            if p.is_file():
                found[name] = p
                break
        else:
            sub = directory / name
            if sub.is_dir() and (any(sub.glob("*.parquet")) or any(sub.glob("*.csv"))):
                found[name] = sub
    return found


def parse_table_map(text: str | None) -> dict[str, str]:
    """`name=path,name=path` (the `--spark-tables` / `--tables` option) as a dict."""
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise SourceError(f"expected name=path in the table list, got {item!r}")
        out[name.strip()] = path.strip()
    return out


def require_columns(source: Any, required: dict[str, list[str]]) -> None:
    """Raise SourceError naming every missing table and column (names only, never values)."""
    problems: list[str] = []
    for table, cols in required.items():
        have = source.columns(table)
        if have is None:
            problems.append(f"table {table!r} is missing")
            continue
        lower = {c.lower() for c in have}
        missing = [c for c in cols if c.lower() not in lower]
        if missing:
            problems.append(f"table {table!r} has no column(s) {', '.join(repr(c) for c in missing)}")
    if problems:
        raise SourceError(f"{source.description}: " + "; ".join(problems))


def open_folder_on(engine: str, directory: Path | str, *, postgres_url: str | None = None, **options: Any) -> Source:
    """Open an export folder (e.g. demo data) on "duckdb", "postgres" (copied into `postgres_url`,
    `?schema=` honoured) or "spark" - what parity tests need to run one folder on every engine."""
    if engine == "duckdb":
        return open_source(str(directory), **options)
    if engine == "postgres":
        if not postgres_url:
            raise SourceError("open_folder_on('postgres', ...) needs postgres_url")
        from .postgres import load_dir

        load_dir(Path(directory), postgres_url)
        return open_source(postgres_url, **options)
    if engine == "spark":
        from .spark import dir_table_map

        return open_source("spark", tables=dir_table_map(directory), **options)
    raise SourceError(f"unknown engine {engine!r}: expected duckdb, postgres or spark")


def open_source(
    spec: str,
    *,
    tables: dict[str, str] | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> Source:
    """Open a `--source` spec; raises SourceError (exit 2) with a redacted message."""
    spec = (spec or "").strip()
    if not spec:
        raise SourceError("no source given: pass a folder of CSV/Parquet exports, postgresql://..., spark, salesforce or hubspot")
    lowered = spec.lower()
    if lowered.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresSource

        return PostgresSource(spec, tables=tables, **options)
    if lowered == "spark":
        from .spark import SparkSource

        return SparkSource(tables=tables, **options)
    if lowered in ("salesforce", "hubspot"):
        if lowered == "salesforce":
            from .salesforce_pull import open_salesforce as opener
        else:
            from .hubspot_pull import open_hubspot as opener
        return opener(tables=tables, progress=progress, **options)
    if "://" in spec:
        raise SourceError(f"unsupported source {redact_url(spec)!r}: use a folder, postgresql://..., spark, salesforce or hubspot")
    from .duckdb_dir import DuckDBSource

    return DuckDBSource(Path(spec), tables=tables, **options)
