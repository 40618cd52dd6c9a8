"""Where CRM data lives: open a `--source` spec as a read-only SQL `Source`.

    DIR | FILE.duckdb        embedded DuckDB over CSV/Parquet exports (the default)
    postgresql://...         a read-only PostgreSQL session (`?schema=` picks the schema)
    spark                    a local PySpark session (`tables` = name -> parquet/csv path, else the catalog)
    salesforce | hubspot     read-only REST pulls into a local DuckDB, resumable

Every message names a source through `redact()`, so passwords and tokens never
reach a log, a report or an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..source import LOGICAL_TABLES, Progress, Source, SourceError

__all__ = [
    "LOGICAL_TABLES",
    "Source",
    "SourceError",
    "dir_tables",
    "open_folder_on",
    "open_source",
    "parse_table_map",
    "redact",
    "require_columns",
]

_SECRET_PARAMS = {"password", "pass", "pwd", "token", "access_token", "api_key", "apikey", "secret", "sslpassword"}
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@")
_KV_SECRET = re.compile(r"\b(password|pwd|token|access_token|api_key|secret)\s*=\s*('[^']*'|\"[^\"]*\"|[^\s&]+)", re.I)
_BEARER = re.compile(r"(Bearer|OAuth)\s+[A-Za-z0-9._~+/=!-]+", re.I)


def redact(text: str, *secrets: str | None) -> str:
    """Text with URL passwords, key=value secrets, bearer tokens and the given secrets removed."""
    out = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    out = _KV_SECRET.sub(lambda m: f"{m.group(1)}=***", out)
    out = _BEARER.sub(lambda m: f"{m.group(1)} ***", out)
    for s in secrets:
        if s and len(s) >= 4:
            out = out.replace(s, "***")
    return out


def redact_url(url: str) -> str:
    """A connection URL for display: password and secret query parameters replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = urlencode(
        [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


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
