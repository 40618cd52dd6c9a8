"""The one routing resolver on the model: first matching rule wins, else the fallback.

The check IR, the demo generator and validation rules R010/R026 all read routing
through `Routing.order()` / `Routing.resolve()`; these tests pin its meaning and
that the SQL check agrees with it lead by lead.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from generator.conformance.checks import build_checks, queue_value
from generator.conformance.compile import compile_checks
from generator.model import RouteCondition, Routing
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "process" / "lead-management"

ROUTING = Routing.model_validate({
    "specialty_field": "specialty",
    "region_field": "region",
    "queues": [],
    "rules": [
        {"id": "hot-cardio", "name": "Hot cardiology", "when": {"specialty": ["cardiology"], "min_score": 70},
         "queue": "cardio-rapid"},
        {"id": "cardio-north", "name": "Cardiology north", "when": {"specialty": ["cardiology"], "region": ["north"]},
         "queue": "cardio-north"},
        {"id": "any-south", "name": "Anything south", "when": {"region": ["south"]}, "queue": "south"},
    ],
    "fallback": {"queue": "general", "when_full": "x", "when_no_owner": "y"},
})


@pytest.mark.parametrize(("values", "queue"), [
    ({"specialty": "cardiology", "region": "north", "score": 80}, "cardio-rapid"),  # first match wins
    ({"specialty": "cardiology", "region": "north", "score": 69}, "cardio-north"),  # below the minimum
    ({"specialty": "cardiology", "region": "north", "score": None}, "cardio-north"),  # NULL score: no minimum met
    ({"specialty": "cardiology", "region": "north"}, "cardio-north"),
    ({"specialty": "cardiology", "region": "south", "score": 10}, "south"),
    ({"specialty": "orthopedics", "region": "east"}, "general"),  # nothing matches: the fallback
    ({"specialty": None, "region": None}, "general"),
    ({"specialty": "cardiology", "region": "north", "score": "high"}, "cardio-north"),  # not a number: no minimum
])
def test_resolve_first_match_else_fallback(values, queue):
    assert ROUTING.resolve(values, score_field="score") == queue


def test_min_score_without_a_score_field_never_matches():
    assert ROUTING.resolve({"specialty": "cardiology", "region": "south", "score": 99}) == "south"


def test_order_describes_every_rule_then_the_fallback():
    order = ROUTING.order("score")
    assert [(e.position, e.rule, e.queue, e.fallback) for e in order] == [
        (1, "hot-cardio", "cardio-rapid", False), (2, "cardio-north", "cardio-north", False),
        (3, "any-south", "south", False), (4, None, "general", True)]
    assert order[0].conditions == (RouteCondition("specialty", "in", ("cardiology",)),
                                   RouteCondition("score", ">=", (70,)))
    assert order[-1].conditions == ()


def test_sql_routing_check_agrees_with_the_resolver_lead_by_lead(tmp_path):
    """Every specialty x region x score of the default playbook: the lead sitting in the queue the
    resolver picks passes `routing-consistent`; in any other queue (but the fallback) it fails."""
    model = load_playbook(DEFAULT)
    r = model.routing
    score_f = model.score_field()
    specs = model.field(r.specialty_field).values + [None]
    regions = model.field(r.region_field).values + [None]
    queues = [queue_value(model, q.id) for q in r.queues]
    fallback = queue_value(model, r.fallback.queue)
    rows, expected = [], 0
    for s in specs:
        for g in regions:
            for score in (None, 0, 69, 70, 100):
                values = {r.specialty_field: s, r.region_field: g, score_f: score}
                right = queue_value(model, model.resolve_queue(values))
                for q in queues:
                    rows.append((f"L{len(rows):05d}", s, g, score, q))
                    expected += q not in (right, fallback)
    check = next(c for c in build_checks(model) if c.id == "routing-consistent")
    con = duckdb.connect()
    names = _names(model, ("record_id", "specialty", "region", "score", "queue"))
    other = [(c.name, c.type) for c in _lead_columns(model) if c.name not in names]
    ddl = ", ".join([f'"{names[0]}" TEXT', f'"{names[1]}" TEXT', f'"{names[2]}" TEXT', f'"{names[3]}" BIGINT',
                     f'"{names[4]}" TEXT'] + [f'"{n}" {_sql(t)}' for n, t in other])
    con.execute(f"CREATE TABLE leads ({ddl})")
    con.executemany(f"INSERT INTO leads ({', '.join(chr(34) + n + chr(34) for n in names)}) VALUES (?, ?, ?, ?, ?)",
                    rows)
    compiled = compile_checks(model, [check], "duckdb", as_of=0)
    (q,) = compiled.queries
    checked, violations, _ = con.execute(q.sql).fetchone()
    assert checked == len(rows)
    assert violations == expected > 0


def _lead_columns(model):
    from generator.conformance.contract import build_contract

    return build_contract(model).table("leads").columns


def _names(model, semantics):
    """Physical column names of the lead fields carrying these meanings (routing fields by id)."""
    r = model.routing
    by_sem = {c.semantic: c.name for c in _lead_columns(model) if c.semantic}
    by_id = {c.field_id: c.name for c in _lead_columns(model)}
    fixed = {"specialty": by_id[r.specialty_field], "region": by_id[r.region_field],
             "score": by_id[model.score_field()]}
    return [fixed.get(s) or by_sem[s] for s in semantics]


def _sql(t):
    return {"boolean": "BOOLEAN", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE",
            "datetime": "TIMESTAMP"}.get(t, "TEXT")
