"""SQL for the questions the check IR does not ask: which queue and which score band a lead
gets under a version of the playbook, as CASE expressions evaluated in the engine.

Routing is "first matching rule, else the fallback", written as one CASE in the rule order
(a CASE picks its first true branch, and a NULL condition is not true, exactly as the
`routing-consistent` check reads it). Values compared against come from the model; nothing
read from the data is ever put into SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ..conformance.checks import queue_value
from ..conformance.contract import Contract, build_contract
from ..conformance.sqlbits import literal as _lit
from ..model import Condition, Playbook


def _col(name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True))


def _true(cond: exp.Expression) -> exp.Expression:
    """The condition with NULL read as false."""
    return exp.EQ(this=exp.Coalesce(this=exp.Paren(this=cond), expressions=[exp.false()]), expression=exp.true())


def _blank(c: exp.Expression, text: bool) -> exp.Expression:
    isnull = exp.Is(this=c, expression=exp.Null())
    if not text:
        return isnull
    empty = exp.EQ(this=exp.Trim(this=exp.Cast(this=c.copy(), to=exp.DataType.build("text"))),
                   expression=exp.Literal.string(""))
    return exp.Paren(this=exp.or_(isnull, empty))


TEXT_TYPES = ("string", "text", "email", "phone", "enum", "multi_enum", "url", "reference")


@dataclass(frozen=True)
class LeadColumns:
    """Physical lead columns of one version, by field id (absent fields are missing from the map)."""

    by_field: dict[str, str]

    @classmethod
    def of(cls, model: Playbook, contract: Contract | None = None) -> "LeadColumns":
        contract = contract or build_contract(model)
        return cls({c.field_id: c.name for c in contract.table("leads").columns})


def routing_fields(model: Playbook) -> list[str]:
    """Field ids the routing of `model` reads (from the model's one routing order)."""
    if model.routing is None:
        return []
    fields = [c.field for e in model.routing.order(model.score_field()) for c in e.conditions if c.field]
    return list(dict.fromkeys(fields))


def routing_case(model: Playbook, cols: LeadColumns) -> exp.Expression | None:
    """The queue value each lead gets under `model`'s routing, or None without routing.

    Compiled from `Routing.order()`, the one description of "first matching rule, else the
    fallback" that `Routing.resolve()` applies to a single lead: its entries become the
    branches of one CASE, in order, and the fallback entry its ELSE.
    """
    if model.routing is None:
        return None
    *rules, fallback = model.routing.order(model.score_field())
    ifs = []
    for entry in rules:
        conds: list[exp.Expression] = []
        for c in entry.conditions:
            if c.field is None:  # a minimum score without any score field never holds
                conds.append(exp.false())
            elif c.op == "in":
                conds.append(exp.In(this=_col(cols.by_field[c.field]), expressions=[_lit(v) for v in c.values]))
            else:
                conds.append(exp.GTE(this=_col(cols.by_field[c.field]), expression=_lit(c.values[0])))
        cond = exp.and_(*conds) if conds else exp.true()
        ifs.append(exp.If(this=_true(cond), true=_lit(queue_value(model, entry.queue))))
    default = _lit(queue_value(model, fallback.queue))
    return exp.Case(ifs=ifs, default=default) if ifs else default


def condition_sql(model: Playbook, cond: Condition, cols: LeadColumns) -> exp.Expression:
    """A scoring condition as a predicate (NULL values never score, except for `is_not_set`/`not_in`)."""
    c = _col(cols.by_field[cond.field])
    f = model.field(cond.field)
    text = f.type in TEXT_TYPES
    v = cond.value
    if cond.op == "equals":
        return _true(exp.EQ(this=c, expression=_lit(v)))
    if cond.op == "in":
        return _true(exp.In(this=c, expressions=[_lit(x) for x in (v or [])])) if v else exp.false()
    if cond.op == "not_in":
        # an empty value is none of the listed ones
        return exp.Not(this=_true(exp.In(this=c, expressions=[_lit(x) for x in v]))) if v else exp.true()
    if cond.op == "is_set":
        return exp.Not(this=_blank(c, text))
    if cond.op == "is_not_set":
        return _blank(c, text)
    if cond.op == "gte":
        return _true(exp.GTE(this=c, expression=_lit(v)))
    if cond.op == "lte":
        return _true(exp.LTE(this=c, expression=_lit(v)))
    raise ValueError(f"unknown condition op {cond.op!r}")


def score_fields(model: Playbook) -> list[str]:
    """Field ids the scoring rules of `model` read."""
    return list(dict.fromkeys(r.when.field for r in model.scoring.rules)) if model.scoring else []


def computed_score(model: Playbook, cols: LeadColumns) -> exp.Expression:
    """The lead score as the scoring rules of `model` assign it: the sum of matching rules' points."""
    terms = [exp.Case(ifs=[exp.If(this=condition_sql(model, r.when, cols), true=exp.Literal.number(r.points))],
                      default=exp.Literal.number(0)) for r in model.scoring.rules]
    if not terms:
        return exp.Literal.number(0)
    total = terms[0]
    for t in terms[1:]:
        total = exp.Add(this=total, expression=t)
    return exp.Paren(this=total)


def band_case(model: Playbook, score: exp.Expression) -> exp.Expression | None:
    """The score band id of each lead under `model` (NULL: no band holds the score)."""
    if not model.scoring or not model.scoring.bands:
        return None
    ifs = [exp.If(this=exp.and_(exp.GTE(this=score.copy(), expression=_lit(b.min)),
                                exp.LTE(this=score.copy(), expression=_lit(b.max))),
                  true=_lit(b.id)) for b in model.scoring.bands]
    return exp.Case(ifs=ifs)
