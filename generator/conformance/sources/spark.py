"""A Spark session as a conformance source: the path for data that outgrows one machine.

`--spark-tables leads=/data/leads.parquet,activities=...` registers Parquet or
CSV files as temporary views; without it the logical tables are read from the
session's catalog (`leads`, `activities`, ... or the names `tables` maps them
to). Locally the session is `local[2]` in UTC with the UI off; on a cluster,
`spark-submit` provides the session and this module reuses it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..source import LOGICAL_TABLES, SourceError
from ...redact import redact
from . import dir_tables
from .engine_errors import engine_message

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow
    from pyspark.sql import SparkSession

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


_SPARK_TYPES = {"boolean": "BOOLEAN", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE",
                "datetime": "TIMESTAMP"}
_SPARK_INTS = ("tinyint", "smallint", "int", "bigint")
_SPARK_ACCEPTED = {
    "boolean": ("boolean",),
    "integer": _SPARK_INTS,
    "number": _SPARK_INTS + ("float", "double", "decimal"),
    "date": ("date", "timestamp"),
    "datetime": ("timestamp", "date"),
}


class SparkError(SourceError):
    """Spark could not start, read a table or run a query."""


def local_session(app_name: str = "playbook-conformance", cores: int = 2) -> "SparkSession":
    """The active Spark session, else a quiet local one (UTC, UI off, few shuffle partitions)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Bind the driver to loopback: tests and local runs never need the network.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.default.parallelism", str(max(2, cores * 2)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_message(exc: BaseException) -> str:
    """A Spark error through the one engine-error mapping: first line, no quoted values."""
    return engine_message(exc)


class SparkSource:
    """A Source on a Spark session, with the logical tables as temporary views."""

    dialect = "spark"

    def __init__(
        self,
        *,
        tables: dict[str, str] | None = None,
        session: "SparkSession | None" = None,
        directory: str | Path | None = None,
        model: Any = None,  # given, contract-typed columns read as text are checked and cast
    ) -> None:
        from pyspark.sql import SparkSession

        self.complete = True
        self._owns_session = session is None and SparkSession.getActiveSession() is None
        try:
            self.spark = session or local_session()
        except Exception as exc:  # Py4J/JVM start-up failures have no common base class
            raise SparkError(f"cannot start a local Spark session: {spark_message(exc)}") from None
        locations: dict[str, str] = {}
        if directory is not None:
            locations.update({k: str(v) for k, v in dir_tables(Path(directory)).items()})
        locations.update(tables or {})
        self.description = "spark " + (
            ", ".join(f"{k}={_display(v)}" for k, v in sorted(locations.items())) if locations else "catalog"
        )
        self._views: list[str] = []
        for name, loc in sorted(locations.items()):
            self._register_location(name, loc)
        if "leads" not in locations and not self.spark.catalog.tableExists("leads"):
            raise SparkError(f"{self.description}: no leads table (pass --spark-tables leads=PATH,... or create it in the catalog)")
        if model is not None:
            from .duckdb_dir import _contract_types

            for name in self._views:
                self._check_types(name, _contract_types(model).get(name, {}))

    def _check_types(self, name: str, declared: dict[str, str]) -> None:
        """Refuse contract-typed columns of a wrong type; check and cast text ones, never showing a value."""
        from .checked_read import EXPECTED, classify_columns

        have = dict(self.spark.table(name).dtypes)
        wrong, text = classify_columns({c: t for c, t in declared.items() if t in _SPARK_TYPES}, have,
                                       _SPARK_ACCEPTED, ("string",))
        if wrong:
            raise SparkError(f"{self.description}: table {name!r}: wrong column type: " + "; ".join(wrong))
        if not text:
            return
        value = {c: f"NULLIF(trim(`{c}`), '')" for c in text}
        bad = {c: f"({value[c]} IS NOT NULL AND try_cast({value[c]} AS {_SPARK_TYPES[t]}) IS NULL)"
               for c, t in text.items()}
        counts = self.query(f"SELECT {', '.join(f'count_if({b})' for b in bad.values())} FROM `{name}`")[0]
        problems = [f"table {name!r}, column {c!r}: {n} value{' is' if n == 1 else 's are'} not {EXPECTED[text[c]]}"
                    for c, n in zip(bad, counts) if n]
        if problems:
            raise SparkError(f"{self.description}: " + "; ".join(problems) + " (values are not shown)")
        exprs = [f"CAST({value[c]} AS {_SPARK_TYPES[text[c]]}) AS `{c}`" if c in text else f"`{c}`" for c in have]
        # A DataFrame view keeps its analysed plan, so the typed view may replace the one it reads.
        self.spark.sql(f"SELECT {', '.join(exprs)} FROM `{name}`").createOrReplaceTempView(name)

    def _register_location(self, name: str, loc: str) -> None:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise SparkError(f"invalid table name {name!r}")
        path = Path(loc)
        try:
            if path.exists():
                is_parquet = path.suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet")))
                reader = self.spark.read
                df = reader.parquet(str(path)) if is_parquet else reader.csv(str(path), header=True, inferSchema=True)
            elif _IDENT.match(loc):
                df = self.spark.table(loc)  # a catalog table under another name
            else:
                raise SparkError(f"table {name!r}: {loc} does not exist")
            df.createOrReplaceTempView(name)
        except SparkError:
            raise
        except Exception as exc:
            raise SparkError(f"cannot read table {name!r} from {_display(loc)}: {spark_message(exc)}") from None
        self._views.append(name)

    def query(self, sql: str) -> list[tuple]:
        """Run one SELECT on Spark and return all rows as tuples."""
        try:
            return [tuple(r) for r in self.spark.sql(sql).collect()]
        except Exception as exc:
            raise SparkError(f"{self.description}: {spark_message(exc)}") from None

    def columns(self, name: str) -> list[str] | None:
        """Column names of a view or catalog table, or None."""
        if not self.spark.catalog.tableExists(name):
            return None
        return list(self.spark.table(name).columns)

    def register_table(self, name: str, table: "pyarrow.Table") -> None:
        """Expose a small Arrow table as a temporary view."""
        df = self.spark.createDataFrame(table)
        df.createOrReplaceTempView(name)
        self._views.append(name)

    def close(self) -> None:
        """Drop our views; stop the session only if this source started it."""
        spark, self.spark = getattr(self, "spark", None), None
        if spark is None:
            return
        for v in getattr(self, "_views", []):
            try:
                spark.catalog.dropTempView(v)
            except Exception:  # pragma: no cover - best effort on a dying session
                pass
        if self._owns_session:
            spark.stop()

    def __enter__(self) -> "SparkSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _display(loc: Any) -> str:
    return redact(str(loc))


def dir_table_map(directory: str | Path) -> dict[str, str]:
    """`--spark-tables` for an export folder (demo data): logical name -> file path."""
    found = dir_tables(Path(directory))
    return {k: str(v) for k, v in found.items() if k in LOGICAL_TABLES}
