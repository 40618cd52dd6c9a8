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
from ...redact import redact_url, url_secrets
from .engine_errors import engine_message

if TYPE_CHECKING:  # pragma: no cover
    import psycopg
    import pyarrow

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_PG_TYPES = {"boolean": "boolean", "integer": "bigint", "number": "double precision", "date": "date",
             "datetime": "timestamp"}
_PG_INTS = ("smallint", "integer", "bigint")
_PG_ACCEPTED = {
    "boolean": ("boolean",),
    "integer": _PG_INTS,
    "number": _PG_INTS + ("real", "double precision", "numeric"),
    "date": ("date", "timestamp"),
    "datetime": ("timestamp", "date"),
}


def _pg_cast(expr: str, ftype: str) -> str:
    if ftype == "datetime":  # an offset in the text is honoured, the result is UTC like every engine's
        return f"(CAST({expr} AS timestamptz) AT TIME ZONE 'UTC')"
    return f"CAST({expr} AS {_PG_TYPES[ftype]})"


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
    """psycopg's error text through the one engine-error mapping: no password, no values."""
    return engine_message(exc, *url_secrets(url))


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
        # Given the model, columns the contract types but the database holds as text are checked
        # (value-free, located by table and column) and cast; columns of another type are refused.
        self.url = url
        self.description = f"PostgreSQL {redact_url(url)}"
        self.complete = True
        self.schema = _split_url(url)[1]
        self.conn = connect(url)
        self._inline: dict[str, str] = {}
        # `tables` maps a logical name to a (schema-qualified) table: expose it under its logical name.
        for name, target in (tables or {}).items():
            self._inline[name] = f"SELECT * FROM {'.'.join(_ident(p) for p in target.split('.'))}"
        if model is not None:
            from .duckdb_dir import _contract_types

            try:
                self._check_types(_contract_types(model))
            except BaseException:
                self.close()
                raise

    def _column_types(self, name: str) -> dict[str, str] | None:
        import psycopg

        source = self._inline.get(name) or f"SELECT * FROM {_ident(name)}"
        try:
            with self.conn.cursor() as cur:
                cur.execute(f"SELECT * FROM ({source}) AS t LIMIT 0")
                oids = [(d.name, d.type_code) for d in cur.description or []]
                cur.execute("SELECT oid, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)",
                            [[o for _, o in oids]])
                names = dict(cur.fetchall())
        except psycopg.Error:
            return None  # a missing table is reported where the checks need it
        return {c: names.get(o, "") for c, o in oids}

    def _check_types(self, declared: dict[str, dict[str, str]]) -> None:
        """Refuse contract-typed columns of a wrong type; check and cast text ones, never showing a value."""
        from ..source import LOGICAL_TABLES
        from .checked_read import classify_columns

        for table in LOGICAL_TABLES:
            cols = {c: t for c, t in declared.get(table, {}).items() if t in _PG_TYPES}
            have = self._column_types(table) if cols else None
            if not have:
                continue
            wrong, text = classify_columns(cols, have, _PG_ACCEPTED,
                                           ("text", "character varying", "character", "bpchar", "unknown"))
            if wrong:
                raise PostgresError(f"{self.description}: table {table!r}: wrong column type: " + "; ".join(wrong))
            if text:
                self._check_text(table, text, list(have))

    def _check_text(self, table: str, text: dict[str, str], columns: list[str]) -> None:
        import psycopg

        from .checked_read import EXPECTED

        source = self._inline.get(table) or f"SELECT * FROM {_ident(table)}"
        try:
            with self.conn.transaction():
                with self.conn.cursor() as cur:
                    cur.execute("SET TRANSACTION READ WRITE")
                    for t in sorted(set(text.values())):
                        # PostgreSQL 15 has no TRY_CAST: a temp function that swallows the cast error.
                        cur.execute(f"CREATE OR REPLACE FUNCTION pg_temp.playbook_ok_{t}(v text) RETURNS boolean "
                                    f"LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM {_pg_cast('v', t)}; RETURN true; "
                                    "EXCEPTION WHEN others THEN RETURN false; END $$")
        except psycopg.Error:
            return  # a standby or a role without TEMP: the engine's own (value-free) error stays the fallback
        bad = {c: f"(NULLIF(btrim({_ident(c)}), '') IS NOT NULL AND NOT pg_temp.playbook_ok_{t}(btrim({_ident(c)})))"
               for c, t in text.items()}
        counts = self.query(f"SELECT {', '.join(f'COUNT(*) FILTER (WHERE {b})' for b in bad.values())} "
                            f"FROM ({source}) AS t")[0]
        problems = [f"table {table!r}, column {c!r}: {n} value{' is' if n == 1 else 's are'} not {EXPECTED[text[c]]}"
                    for c, n in zip(bad, counts) if n]
        if problems:
            raise PostgresError(f"{self.description}: " + "; ".join(problems) +
                                " (rows have no order in PostgreSQL, so none is named; values are not shown)")
        exprs = [f"{_pg_cast(f'NULLIF(btrim({_ident(c)}), {chr(39)}{chr(39)})', text[c])} AS {_ident(c)}"
                 if c in text else _ident(c) for c in columns]
        self._inline[table] = f"SELECT {', '.join(exprs)} FROM ({source}) AS t"

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
