"""The data contract: the four logical tables conformance checks read, from the model.

A data team produces these tables from its own CRM export. Column names come
from the data dictionary (`names.warehouse`, else the field id); every time is
UTC; the stage columns hold each stage's CRM value (else its id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Playbook
from ..text import md_text

TABLES: tuple[tuple[str, str, str, str], ...] = (
    ("leads", "lead", "lead", "One row per lead (person interested in care), as it is now."),
    ("activities", "activity", "activity", "One row per outreach activity (call, email, text, ...)."),
    ("stage_history", "stage_history", "stage-history row", "One row per stage change of a lead."),
    ("appointments", "appointment", "appointment", "One row per appointment record."),
)

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


def code(text: str) -> str:
    """Inline code for identifiers; anything unusual falls back to escaped text."""
    text = "" if text is None else str(text)
    if re.fullmatch(r"[A-Za-z0-9_.\-]+", text):
        return f"`{text}`"
    return md_text(text)


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


def render_markdown(model: Playbook, heading: str = "#", checks=None) -> str:
    """The contract as Markdown: one table per logical table, then how each check counts."""
    contract = build_contract(model)
    out = [
        f"{heading} Data contract",
        "",
        "Conformance checks read four tables. Produce them from your CRM export with exactly these "
        "table and column names (CSV or Parquet files named `<table>.csv` / `<table>.parquet` in one "
        "folder, or tables of these names in PostgreSQL or Spark). Every time is a UTC timestamp "
        "without a time zone; `--as-of` fixes the clock of a run. Stage columns hold each stage's CRM "
        "value (or its id when it has none); activity types hold the playbook's activity kinds "
        "(`call`, `email`, `sms`, ...). Columns the checks do not use may be left out or empty.",
        "",
    ]
    for t in contract.tables:
        out += [f"{heading}# `{t.name}`", "", md_text(t.description), ""]
        if not t.columns:
            out += ["_No fields of this record kind in the data dictionary._", ""]
            continue
        out += ["| column | type | meaning | field | tag |", "| --- | --- | --- | --- | --- |"]
        for c in t.columns:
            flags = ", ".join(x for x, on in (("PII", c.pii), ("PHI", c.phi)) if on)
            tag = md_text(c.semantic or "") + (f" ({flags})" if flags else "")
            out.append(
                f"| {code(c.name)} | {md_text(c.sql_type)} | {md_text(c.meaning)} | "
                f"{md_text(c.label)} | {tag} |"
            )
        out.append("")
    from .checks import unmeasurable_slas

    skipped = unmeasurable_slas(model)
    if skipped:
        names = {s.id: s.name for s in model.slas}
        out += [f"{heading}# SLAs these tables cannot time", ""]
        out += [f"- {md_text(names[sid])} ({code(sid)}): {md_text(why)}" for sid, why in skipped]
        out.append("")
    from .checks import not_checkable

    timed = {f"sla.{sid}" for sid, _ in skipped}
    missing = [u for u in not_checkable(model) if u.id not in timed]
    if missing:
        out += [f"{heading}# Rules these tables cannot check", "",
                "The playbook asks for these rules, but its data dictionary has no fields to check them "
                "with; reports list them as not checkable until the fields are added.", ""]
        out += [f"- {code(u.id)} ({md_text(u.title)}): not checkable ({md_text(u.reason)})" for u in missing]
        out.append("")
    if checks:
        out += [f"{heading}# How each check counts", "", "| rule | table | counts |", "| --- | --- | --- |"]
        for ch in checks:
            out.append(f"| {code(ch.id)} | {code(ch.table)} | {md_text(ch.counts)} |")
        out.append("")
    return "\n".join(out)
