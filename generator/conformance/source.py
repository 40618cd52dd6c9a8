"""The interface between conformance checks and the places CRM data lives.

Agreed between the checks side (compile/run/report) and the sources side
(`generator.conformance.sources`). A source only runs SQL that the compiler
produced for its `dialect`; it never sees Python predicates. Every source
exposes the four logical tables of the data contract (`leads`, `activities`,
`stage_history`, `appointments`) under those names, with the column names of
the data dictionary (`names.warehouse`, else the field id) and times in UTC.

    from generator.conformance.sources import open_source
    src = open_source("exports/", progress=callback)   # or postgresql://..., spark, salesforce, hubspot
    try:
        src.register_table("business_hours", calendar_table)
        rows = src.query(sql)
    finally:
        src.close()

`open_source(spec, *, tables=None, progress=None) -> Source` lives in
`generator/conformance/sources/__init__.py`. `tables` maps a logical table name
to a physical location (a file, a schema-qualified table, a Spark table);
`progress(message: str, done: int | None, total: int | None)` is called while
pulling so the CLI can show a progress display. Open errors raise a subclass
of `SourceError` whose message names the source redacted (never a password,
token or field value).

`complete` is False when a read or pull was partial (a page failed, a table was
missing): the runner then reports the run as incomplete (exit 2), never a pass.

Business-hours helper table (`generator.conformance.calendar.business_hours_table
(calendar, start_utc, end_utc) -> pyarrow.Table`), registered as
`business_hours`: columns `hour_start` (int epoch seconds UTC, on the hour),
`cum_business_seconds` (business seconds before this hour), `open_offset`,
`close_offset` (seconds into the hour when business opens/closes; 0/0 when
closed), `day_closes_before`, `day_close_offset` (business-day closes before the hour / a
close's offset in it, -1 for none; "N business days" counts closes). Business time
B(t) = cum + clamp(t - hour_start, open, close) - open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

from ..errors import ExternalToolError

if TYPE_CHECKING:  # pragma: no cover - typing only; pyarrow is imported lazily
    import pyarrow

from .contract import LOGICAL_TABLES  # noqa: E402,F401  (the tables of the data contract, defined once)

BUSINESS_HOURS_TABLE = "business_hours"
"""Name under which the calendar helper table is registered on a source."""

Progress = Callable[[str, "int | None", "int | None"], None]
"""progress(message, done, total): called while a source reads or pulls."""


class SourceError(ExternalToolError):
    """A source could not be opened or read; the message is already redacted."""


@runtime_checkable
class Source(Protocol):
    """A read-only place where the four logical tables can be queried with SQL."""

    dialect: str
    """sqlglot dialect of the SQL this source runs: "duckdb" | "postgres" | "spark"."""
    description: str
    """Human text naming the source, credentials redacted."""
    complete: bool
    """False if the pull/read was partial: a run on it never reports a pass."""

    def query(self, sql: str) -> list[tuple]:
        """Run one SELECT and return all rows."""
        ...

    def register_table(self, name: str, table: "pyarrow.Table") -> None:
        """Make a small helper table (e.g. the business-hours calendar) queryable as `name`."""
        ...

    def close(self) -> None:
        """Release connections and sessions; safe to call twice."""
        ...
