"""The data contract: the four logical tables conformance checks read, from the model.

A data team produces these tables from its own CRM export. Column names come
from the data dictionary (`names.warehouse`, else the field id); every time is
UTC; the stage columns hold each stage's CRM value (else its id). A pure data
model: the contract's page is rendered in `pages.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Playbook
from ..text import md_code as code  # noqa: F401  (older callers import it here; it lives in text.py)

TABLES: tuple[tuple[str, str, str, str], ...] = (
    ("leads", "lead", "lead", "One row per lead (person interested in care), as it is now."),
    ("activities", "activity", "activity", "One row per outreach activity (call, email, text, ...)."),
    ("stage_history", "stage_history", "stage-history row", "One row per stage change of a lead."),
    ("appointments", "appointment", "appointment", "One row per appointment record."),
)

LOGICAL_TABLES: tuple[str, ...] = tuple(t[0] for t in TABLES)
"""The tables of the data contract, in documentation order (the one list every module reads)."""

SQL_TYPES = {
    "string": "text",
    "text": "text",
    "email": "text",
    "phone": "text",
    "enum": "text",
    "multi_enum": "text (values separated by `;`)",
    "boolean": "boolean",
    "integer": "bigint",
    "number": "double",
    "date": "date",
    "datetime": "timestamp (UTC, no time zone)",
    "url": "text",
    "reference": "text (record id)",
}


@dataclass(frozen=True)
class Column:
    name: str  # physical column name in the table
    field_id: str
    type: str  # data-dictionary type
    semantic: str | None
    label: str
    meaning: str
    pii: bool
    phi: bool

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    record: str
    row: str  # "lead", "activity", ... for wording
    description: str
    columns: tuple[Column, ...]

    def column(self, field_id: str) -> Column | None:
        return next((c for c in self.columns if c.field_id == field_id), None)


@dataclass(frozen=True)
class Contract:
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def by_semantic(self, table: str, semantic: str) -> Column | None:
        """The first column of `table` that carries `semantic`."""
        return next((c for c in self.table(table).columns if c.semantic == semantic), None)

    def column_of(self, field_id: str) -> tuple[Table, Column]:
        for t in self.tables:
            c = t.column(field_id)
            if c:
                return t, c
        raise KeyError(field_id)


def build_contract(model: Playbook) -> Contract:
    """The logical schema the model implies, tables and columns in dictionary order."""
    tables = []
    for name, record, row, desc in TABLES:
        cols = tuple(
            Column(
                name=f.names.warehouse or f.id,
                field_id=f.id,
                type=f.type,
                semantic=f.semantic,
                label=f.label,
                meaning=f.description,
                pii=f.pii,
                phi=f.phi,
            )
            for f in model.fields
            if f.record == record
        )
        tables.append(Table(name, record, row, desc, cols))
    return Contract(tuple(tables))
