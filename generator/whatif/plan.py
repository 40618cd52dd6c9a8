"""What differs between two versions' checks, and what the data can answer: pure, no I/O.

A check of BASE whose IR, columns and reading of the data are those of HEAD's check
with the same id gives the same count, so it runs once. A changed BASE check whose
reading of the data (semantic columns, stage values, events, calendar, matching rules)
is HEAD's is compiled into HEAD's fused queries; any other runs on its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..conformance import checks as ir
from ..conformance.contract import Contract, build_contract
from ..model import Playbook

_EVENT_TABLES = {
    "stage": ("stage_history", ("lead_ref", "to_stage", "changed_at")),
    "flag": ("stage_history", ("lead_ref", "to_stage", "changed_at")),
    "activity": ("activities", ("lead_ref", "activity_type", "occurred_at")),
    "appointment": ("appointments", ("lead_ref", "appointment_stage", "appointment_at")),
}


def walk(node):
    """Every IR node under `node` (itself included)."""
    yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            yield from _walk_value(getattr(node, f.name))


def _walk_value(v):
    if dataclasses.is_dataclass(v) and isinstance(v, ir.Expr):
        yield from walk(v)
    elif isinstance(v, tuple):
        for item in v:
            yield from _walk_value(item)


def _nodes(check: ir.Check) -> list:
    return [*walk(check.applies), *walk(check.violates)]


def _sem_cols(contract: Contract, table: str, *semantics: str) -> set[tuple[str, str]]:
    out = set()
    for s in semantics:
        c = contract.by_semantic(table, s)
        if c:
            out.add((table, c.name))
    return out


def needed_columns(model: Playbook, contract: Contract, check: ir.Check) -> set[tuple[str, str]]:
    """(table, physical column) pairs the compiled check reads."""
    out = _sem_cols(contract, check.table, "record_id")
    fields: set[str] = set()
    for node in _nodes(check):
        if isinstance(node, (ir.Col, ir.Epoch)):
            fields.add(node.field)
            if node.lead and check.table != "leads":
                out |= _sem_cols(contract, check.table, "lead_ref") | _sem_cols(contract, "leads", "record_id")
        elif isinstance(node, ir.Entered):
            out |= _sem_cols(contract, "leads", "stage") | _sem_cols(contract, "stage_history", "lead_ref", "to_stage")
        elif isinstance(node, (ir.EventTime, ir.EventHappened)):
            src = ir.event_source(model, node.event)
            if src and src[0] == "field":
                fields.add(src[1])
            elif src and src[0] == "flag":
                fields.add(src[1][0])
            if src and src[0] in _EVENT_TABLES:
                table, sems = _EVENT_TABLES[src[0]]
                out |= _sem_cols(contract, table, *sems)
        elif isinstance(node, ir.HasAppointment):
            out |= _sem_cols(contract, "appointments", "lead_ref", "appointment_stage")
        elif isinstance(node, ir.DupRank):
            rule = next(r for r in model.matching.rules if r.id == node.rule)
            fields |= set(rule.match_on)
            out |= _sem_cols(contract, "leads", "created_at")
    for f in fields:
        try:
            t, c = contract.column_of(f)
        except KeyError:
            continue
        out.add((t.name, c.name))
    return out


def field_columns(contract: Contract, check: ir.Check) -> dict[str, tuple[str, str, str]]:
    """field id -> (table, column, type) for the fields the check's predicates name."""
    out = {}
    for node in _nodes(check):
        if isinstance(node, (ir.Col, ir.Epoch)):
            try:
                t, c = contract.column_of(node.field)
            except KeyError:
                continue
            out[node.field] = (t.name, c.name, c.type)
    return out


def uses_business_time(check: ir.Check) -> bool:
    return any(isinstance(n, ir.Elapsed) and n.business for n in _nodes(check))


def reading(model: Playbook, contract: Contract) -> tuple:
    """Everything besides a check's own IR that decides how the compiler reads the data."""
    sems = tuple(sorted((t.name, c.semantic, c.name, c.type) for t in contract.tables for c in t.columns if c.semantic))
    stages = tuple((s.id, ir.stage_value(model, s.id), s.entry_event) for s in model.stages)
    events = tuple(sorted((e.id, repr(ir.event_source(model, e.id))) for e in model.events))
    matching = tuple(r.model_dump_json() for r in model.matching.rules)
    return sems, stages, events, matching


def calendar_key(model: Playbook) -> str:
    return model.playbook.calendar.model_dump_json()


@dataclass
class Plan:
    """Which checks run where, and what cannot be answered."""

    head: list[ir.Check]
    base: list[ir.Check]
    same: set[str]  # ids whose BASE count is HEAD's
    fused_base: list[ir.Check]  # changed BASE checks compiled into HEAD's queries
    alone_base: list[ir.Check]  # changed BASE checks run with BASE's own compiler
    fusable: bool  # BASE predicates can be compiled with HEAD's reading of the data
    missing: dict[tuple[str, str], str]  # (side, check id) -> why the data cannot answer it


def union_model(base: Playbook, head: Playbook) -> Playbook:
    """HEAD with BASE's data-dictionary fields it lacks added (without their meaning, so they
    cannot change how HEAD's checks read the data), so BASE predicates compile next to HEAD's."""
    have = {f.id for f in head.fields}
    extra = [f.model_copy(update={"semantic": None}) for f in base.fields if f.id not in have]
    return head.model_copy(update={"fields": list(head.fields) + extra}) if extra else head


def missing_reason(model: Playbook, contract: Contract, check: ir.Check, have: dict[str, set[str] | None]) -> str | None:
    """Why the data cannot answer `check` (a table or column it reads is absent), else None."""
    gone = []
    for table, col in sorted(needed_columns(model, contract, check)):
        cols = have.get(table)
        if cols is None:
            gone.append(f"no {table} table")
        elif col.lower() not in cols:
            gone.append(f"no column {col} in {table}")
    return "the data has " + ", ".join(dict.fromkeys(gone)) if gone else None


def make_plan(base: Playbook, head: Playbook, have: dict[str, set[str] | None]) -> Plan:
    """Compare both versions' checks against each other and against the columns the data has."""
    cb, ch = build_contract(base), build_contract(head)
    checks_b, checks_h = ir.build_checks(base, cb), ir.build_checks(head, ch)
    missing: dict[tuple[str, str], str] = {}
    for side, model, contract, checks in (("base", base, cb, checks_b), ("head", head, ch, checks_h)):
        for c in checks:
            why = missing_reason(model, contract, c, have)
            if why:
                missing[(side, c.id)] = why
    same_reading = reading(base, cb) == reading(head, ch)
    same_calendar = calendar_key(base) == calendar_key(head)
    by_h = {c.id: c for c in checks_h}
    same, fused, alone = set(), [], []
    for c in checks_b:
        if ("base", c.id) in missing:
            continue
        h = by_h.get(c.id)
        cols_same = h is not None and field_columns(cb, c) == field_columns(ch, h)
        business = uses_business_time(c)
        if (h is not None and ("head", c.id) not in missing and (h.table, h.applies, h.violates) ==
                (c.table, c.applies, c.violates) and same_reading and cols_same and (same_calendar or not business)):
            same.add(c.id)
        elif same_reading and (same_calendar or not business) and _compiles_in_union(cb, ch, c):
            fused.append(c)
        else:
            alone.append(c)
    return Plan(head=checks_h, base=checks_b, same=same, fused_base=fused, alone_base=alone,
                fusable=same_reading, missing=missing)


def _compiles_in_union(cb: Contract, ch: Contract, check: ir.Check) -> bool:
    """Whether every field the BASE check names has the same column in HEAD's dictionary (or none there)."""
    mine = field_columns(cb, check)
    theirs = field_columns(ch, check)
    return all(theirs.get(f, v) == v for f, v in mine.items())
