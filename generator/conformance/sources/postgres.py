"""A read-only PostgreSQL session as a conformance source, and a fast loader for demo data.

The session is read-only twice over (`SET SESSION CHARACTERISTICS AS
TRANSACTION READ ONLY` and `default_transaction_read_only`), so a compiled
check can never change CRM data. PostgreSQL refuses every CREATE inside a
read-only transaction, temporary tables included, so `register_table` opens
one explicit READ WRITE transaction that only creates and fills a TEMP table
(it lives in the session's own pg_temp schema and vanishes on close). Where
even that is refused (a hot standby, a role without TEMP) the helper table is
inlined into each query as a VALUES CTE instead.

Every message shows the URL redacted and strips values PostgreSQL quotes in
data errors.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..source import SourceError
from ...redact import redact, redact_url, url_secrets

if TYPE_CHECKING:  # pragma: no cover
    import psycopg
    import pyarrow

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUOTED = re.compile(r"\"(?:[^\"]|\"\")*\"|'(?:[^']|'')*'")


class PostgresError(SourceError):
    """PostgreSQL refused a connection or a query; the message is redacted."""


def _split_url(url: str) -> tuple[str, str | None]:
    """The libpq URL without our `schema` parameter, and that schema."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in params if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in params if k != "schema"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), schema


def pg_message(exc: BaseException, url: str) -> str:
    """psycopg's error text, redacted: no password, no quoted values from data errors."""
    diag = getattr(exc, "diag", None)
    sqlstate = getattr(exc, "sqlstate", None) or ""
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    # Class 42 (syntax, undefined column/table) quotes identifiers; others may quote data.
    if not sqlstate.startswith("42"):
        text = _QUOTED.sub("\"…\"", text)
    text = redact(text, *url_secrets(url))
    return f"{text} [SQLSTATE {sqlstate}]" if sqlstate else text


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise PostgresError(f"invalid table or schema name {name!r}")
    return f'"{name}"'


def connect(url: str, *, read_only: bool = True) -> "psycopg.Connection":
    """A psycopg connection; PostgresError (exit 2) with a redacted message on failure."""
    import psycopg

    dsn, schema = _split_url(url)
    try:
        conn = psycopg.connect(dsn, connect_timeout=10, autocommit=True, application_name="playbook")
    except psycopg.Error as exc:
        raise PostgresError(f"cannot connect to {redact_url(url)}: {pg_message(exc, url)}") from None
    try:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            if schema:
                cur.execute(f"SET search_path TO {_ident(schema)}, public")
            if read_only:
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                cur.execute("SET default_transaction_read_only = on")
    except psycopg.Error as exc:
        conn.close()
        raise PostgresError(f"{redact_url(url)}: {pg_message(exc, url)}") from None
    return conn


class PostgresSource:
    """A Source on one read-only PostgreSQL session."""

    dialect = "postgres"

    def __init__(self, url: str, *, tables: dict[str, str] | None = None, model: object = None) -> None:
        # `model` is accepted so callers can pass it to every source; PostgreSQL columns are typed already.
        self.url = url
        self.description = f"PostgreSQL {redact_url(url)}"
        self.complete = True
        self.schema = _split_url(url)[1]
        self.conn = connect(url)
        self._inline: dict[str, str] = {}
        # `tables` maps a logical name to a (schema-qualified) table: expose it under its logical name.
        for name, target in (tables or {}).items():
            self._inline[name] = f"SELECT * FROM {'.'.join(_ident(p) for p in target.split('.'))}"

    def _with_inline(self, sql: str) -> str:
        if not self._inline:
            return sql
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="postgres")
        for name, body in sorted(self._inline.items()):
            tree = tree.with_(name, as_=body, dialect="postgres", append=True)
        # CTEs must precede their use; ours reference only real tables, so put them first.
        with_ = tree.args.get("with_")
        if isinstance(with_, exp.With):
            ours = [c for c in with_.expressions if c.alias in self._inline]
            others = [c for c in with_.expressions if c.alias not in self._inline]
            with_.set("expressions", ours + others)
        return tree.sql(dialect="postgres")

    def query(self, sql: str) -> list[tuple]:
        """Run one SELECT in a read-only transaction and return all rows."""
        import psycopg

        try:
            with self.conn.cursor() as cur:
                cur.execute(self._with_inline(sql))
                return cur.fetchall()
        except psycopg.Error as exc:
            raise PostgresError(f"{self.description}: {pg_message(exc, self.url)}") from None

    def columns(self, name: str) -> list[str] | None:
        """Column names of a table visible on the search path, or None."""
        if name in self._inline:
            with self.conn.cursor() as cur:
                cur.execute(f"SELECT * FROM ({self._inline[name]}) AS t LIMIT 0")
                return [d.name for d in cur.description or []] or None
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) "
                "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                [_ident(name)],
            )
            return [r[0] for r in cur.fetchall()] or None

    def register_table(self, name: str, table: "pyarrow.Table") -> None:
        """Make a helper table queryable as `name`: a TEMP table, else an inline VALUES CTE."""
        import psycopg

        ident = _ident(name)
        try:
            with self.conn.transaction():
                with self.conn.cursor() as cur:
                    cur.execute("SET TRANSACTION READ WRITE")
                    cur.execute(f"DROP TABLE IF EXISTS pg_temp.{ident}")
                    cur.execute(f"CREATE TEMP TABLE {ident} ({_columns_ddl(table)})")
                    _copy(cur, ident, table)
                    cur.execute(f"ANALYZE pg_temp.{ident}")
            self._inline.pop(name, None)
        except psycopg.Error:
            self._inline[name] = _values_sql(table)

    def close(self) -> None:
        """Close the session (temp tables go with it); safe to call twice."""
        conn, self.conn = getattr(self, "conn", None), None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "PostgresSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pg_type(t: "pyarrow.DataType") -> str:
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "bigint" if t.bit_width > 32 or (pa.types.is_unsigned_integer(t) and t.bit_width == 32) else "integer"
    if pa.types.is_floating(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        return "text"
    raise PostgresError(f"cannot store Arrow type {t} in PostgreSQL")


def _columns_ddl(table: "pyarrow.Table") -> str:
    return ", ".join(f"{_ident(f.name)} {_pg_type(f.type)}" for f in table.schema)


def _copy(cur: "psycopg.Cursor", ident: str, table: "pyarrow.Table") -> None:
    import pyarrow.csv as pacsv

    buf = io.BytesIO()
    # Arrow's CSV writer quotes every string, so "" is an empty string and an empty field is NULL.
    pacsv.write_csv(table, buf)
    cols = ", ".join(_ident(n) for n in table.column_names)
    with cur.copy(f"COPY {ident} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true)") as cp:
        view = buf.getbuffer()
        for i in range(0, len(view), 1 << 20):
            cp.write(view[i : i + (1 << 20)])


def _values_sql(table: "pyarrow.Table") -> str:
    # Only used for small integer helper tables (the calendar); other types are quoted as text.
    cols = table.column_names
    rows = []
    for rec in table.to_pylist():
        vals = []
        for c in cols:
            v = rec[c]
            if v is None:
                vals.append("NULL")
            elif isinstance(v, bool):
                vals.append("TRUE" if v else "FALSE")
            elif isinstance(v, int):
                vals.append(f"CAST({v} AS BIGINT)")
            elif isinstance(v, float):
                vals.append(repr(v))
            else:
                vals.append("'" + str(v).replace("'", "''") + "'")
        rows.append("(" + ", ".join(vals) + ")")
    if not rows:
        return f"SELECT {', '.join('NULL AS ' + _ident(c) for c in cols)} WHERE FALSE"
    return f"SELECT * FROM (VALUES {', '.join(rows)}) AS v({', '.join(_ident(c) for c in cols)})"


def write_tables(url: str, tables: "dict[str, pyarrow.Table]", *, replace: bool = True) -> None:
    """Create and fill tables from Arrow (demo data) with COPY, in one transaction."""
    import psycopg

    dsn, schema = _split_url(url)
    conn = connect(url, read_only=False)
    try:
        with conn.transaction():
            with conn.cursor() as cur:
                if schema:
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
                prefix = f"{_ident(schema)}." if schema else ""
                for name, table in tables.items():
                    target = prefix + _ident(name)
                    if replace:
                        cur.execute(f"DROP TABLE IF EXISTS {target}")
                    cur.execute(f"CREATE TABLE {target} ({_columns_ddl(table)})")
                    _copy(cur, target, table)
                    cur.execute(f"ANALYZE {target}")
    except psycopg.Error as exc:
        raise PostgresError(f"cannot write to {redact_url(url)}: {pg_message(exc, url)}") from None
    finally:
        conn.close()


def load_dir(directory, url: str) -> dict[str, int]:
    """Copy every logical table of an export folder into PostgreSQL; returns row counts."""
    import duckdb

    from .duckdb_dir import DuckDBSource

    src = DuckDBSource(directory)
    try:
        arrow = {}
        for name in sorted(set(_tables_of(src))):
            arrow[name] = src.con.sql(f'SELECT * FROM "{name}"').to_arrow_table()
    except duckdb.Error as exc:  # pragma: no cover - DuckDBSource already validated the files
        raise SourceError(str(exc)) from None
    finally:
        src.close()
    write_tables(url, arrow)
    return {k: v.num_rows for k, v in arrow.items()}


def _tables_of(src) -> list[str]:
    from ..source import LOGICAL_TABLES

    return [t for t in LOGICAL_TABLES if t not in src.missing_tables]
