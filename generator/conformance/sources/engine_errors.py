"""One mapping from engine exceptions (DuckDB, PostgreSQL, Spark) to messages that hold no value.

Engines quote the offending value in data errors (DuckDB's `Conversion Error:
invalid timestamp field format: "<value>"`, PostgreSQL's `invalid input syntax
for type boolean: "<value>"`, Spark's `The value '<value>' ... cannot be cast`)
and print a whole CSV line when parsing fails. Those values are personal data.
`engine_message` keeps the first line, drops quoted literals (identifiers stay
only in binder/catalog/syntax errors, where quotes hold names), turns a CSV
parse error into its line number and kind, and redacts credentials. Every
source maps its engine's exceptions through it.
"""

from __future__ import annotations

import re

from ...redact import redact

_SINGLE = re.compile(r"'(?:[^'\\]|''|\\.)*'")
_DOUBLE = re.compile(r"\"(?:[^\"]|\"\")*\"")
_CSV_LINE = re.compile(r"CSV Error on Line:\s*(\d+)")
_CSV_COLUMNS = re.compile(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)")
_CSV_FILE = re.compile(r"^\s*file\s*=\s*(.+?)\s*$", re.MULTILINE)
MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
"""DuckDB's binder error for a column the source lacks (the name is an identifier, not a value)."""


def csv_problem(exc: BaseException) -> tuple[str, str | None] | None:
    """(what is wrong, file) for a DuckDB CSV parse error; never the line's content."""
    text = str(exc)
    m = _CSV_LINE.search(text)
    if not m:
        return None
    line = int(m.group(1))
    if "unterminated quote" in text.lower():
        what = f"line {line} opens a quoted value that is never closed (unterminated quote)"
    elif (c := _CSV_COLUMNS.search(text)) is not None:
        what = f"line {line} has {c.group(2)} fields where the header has {c.group(1)} (a ragged row)"
    else:
        what = f"line {line} cannot be read as CSV (RFC 4180: comma-separated, double quotes)"
    f = _CSV_FILE.search(text)
    return what, (f.group(1) if f else None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _duckdb(exc: BaseException) -> str:
    import duckdb

    problem = csv_problem(exc)
    if problem is not None:
        return problem[0]
    text = _first_line(exc)
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException)):
        return _SINGLE.sub("'…'", text)  # double quotes hold identifiers here
    return _DOUBLE.sub('"…"', _SINGLE.sub("'…'", text))


def _postgres(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    sqlstate = getattr(exc, "sqlstate", None) or ""
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or _first_line(exc)
    # Class 42 (syntax, undefined column/table) quotes identifiers; others may quote data.
    if not sqlstate.startswith("42"):
        text = _DOUBLE.sub('"…"', _SINGLE.sub("'…'", text))
    return f"{text} [SQLSTATE {sqlstate}]" if sqlstate else text


def _spark(exc: BaseException) -> str:
    text = _first_line(exc)
    # Spark quotes values in single quotes and type names in double quotes.
    return _SINGLE.sub("'…'", text)


def engine_message(exc: BaseException, *secrets: str | None) -> str:
    """The engine's error as one line without values or credentials."""
    module = type(exc).__module__ or ""
    if module.startswith(("duckdb", "_duckdb")):
        text = _duckdb(exc)
    elif module.startswith("psycopg"):
        text = _postgres(exc)
    else:
        text = _spark(exc)
    return redact(text, *secrets)


__all__ = ["MISSING_COLUMN", "csv_problem", "engine_message"]
