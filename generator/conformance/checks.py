"""Every conformance check a playbook implies, and the rules it asks for that cannot be checked.

The checks come from the check families in `families/` (one module per kind of
rule, each with the docstring that documents how it counts); the IR they are
written in is `ir.py`, the model look-ups they share are `lookups.py`. Both are
re-exported here, so `from generator.conformance import checks as ir` reads
the whole IR.

Public API (stable; what-if and evidence build on it, keyed by rule id):

    from generator.conformance.checks import build_checks, not_checkable
    from generator.conformance.compile import compile_checks
    from generator.conformance.run import count_rules, run_checks
    from generator.conformance.sources import open_source

    checks = build_checks(model)                      # list[Check], sorted by Check.id
    sql = compile_checks(model, checks, "duckdb", as_of=t)   # Compiled: .queries[i].sql per table
    src = open_source("exports/")                     # or postgresql://..., spark, salesforce, hubspot
    try:
        counts = count_rules(model, src, as_of=t)     # {rule id: RuleCount(checked, violations, status)}
        result = run_checks(model, src, as_of=t)      # RunResult with titles, thresholds, not-checkable
    finally:
        src.close()

`as_of` is epoch seconds UTC (`run.parse_time("2026-03-01T12:00")`). Rule ids are
stable across revisions of a playbook as long as the entity they name keeps its
id, so two revisions' counts can be compared key by key; a rule present in only
one revision is new or gone. Not-checkable rules appear with status
`not_checkable` and zero counts. Routing, for a single lead's values, is
`model.resolve_queue(values)` (first matching rule, else the fallback).
"""

from __future__ import annotations

from ..model import Playbook
from .contract import Contract, build_contract
from .families import families
from .ir import (TRUE, And, AsOf, Blank, Check, Cmp, Coalesce, Col, DupRank, Elapsed, Entered, Epoch,  # noqa: F401
                 EventHappened, EventTime, Expr, HasAppointment, InValues, IsNull, IsTrue, Lit, Not, Or, Pred,
                 Threshold, Unchecked, all_of, any_of)
from .lookups import event_source, implied_values, queue_value, stage_value, unmeasurable_slas  # noqa: F401
from .lookups import thresholds


def _built(model: Playbook, contract: Contract) -> tuple[list[Check], list[Unchecked]]:
    checks: list[Check] = []
    unchecked: list[Unchecked] = []
    for fam in families():
        for item in fam.build(model, contract):
            (checks if isinstance(item, Check) else unchecked).append(item)
    return checks, unchecked


def build_checks(model: Playbook, contract: Contract | None = None) -> list[Check]:
    """Every check the model implies, in a stable order (by id), each with its threshold."""
    checks, _ = _built(model, contract or build_contract(model))
    th = thresholds(model)
    return [Check(**{**c.__dict__, "threshold": th.get(c.id, Threshold())}) for c in sorted(checks, key=lambda c: c.id)]


def not_checkable(model: Playbook, contract: Contract | None = None) -> list[Unchecked]:
    """Rules the playbook asks for but its data dictionary cannot support, by id; they get no
    check and every report lists them as "not checkable (reason)" instead of a silent gap."""
    checks, unchecked = _built(model, contract or build_contract(model))
    built = {c.id for c in checks}
    out: dict[str, Unchecked] = {}
    for u in unchecked:
        if u.reason and u.id not in built:
            out.setdefault(u.id, u)
    return [out[k] for k in sorted(out)]
