"""The what-if SQL pieces, table-driven against a plain Python reading: scoring conditions and
score bands (each op, NULLs and empty text included) and routing by the model's one resolver."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from generator.conformance.checks import queue_value
from generator.model import Condition
from generator.validate import load_playbook
from generator.whatif import sql

FIXTURE = Path(__file__).parent / "fixtures" / "conformance" / "playbook"
ROWS = [("cardiology", 5), ("orthopedics", 70), (None, None), ("", 50), ("  ", 9), ("dermatology", 10)]


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


# (op, field, value, plain reading on (specialty, score))
CONDITIONS = [
    ("equals", "specialty", "cardiology", lambda s, n: s == "cardiology"),
    ("in", "specialty", ["cardiology", "orthopedics"], lambda s, n: s in ("cardiology", "orthopedics")),
    ("not_in", "specialty", ["cardiology"], lambda s, n: s != "cardiology"),  # empty is none of them
    ("is_set", "specialty", None, lambda s, n: not _blank(s)),
    ("is_not_set", "specialty", None, lambda s, n: _blank(s)),
    ("gte", "score", 10, lambda s, n: n is not None and n >= 10),
    ("lte", "score", 9, lambda s, n: n is not None and n <= 9),
    ("is_set", "score", None, lambda s, n: n is not None),
]


def _eval(expr: exp.Expression) -> list:
    con = duckdb.connect()
    con.execute("CREATE TABLE leads (specialty VARCHAR, score BIGINT)")
    con.executemany("INSERT INTO leads VALUES (?, ?)", ROWS)
    sel = exp.select(exp.alias_(expr, "v")).from_("leads")
    # keep insertion order: the rows are compared position by position
    return [r[0] for r in con.execute(sel.sql(dialect="duckdb")).fetchall()]


@pytest.mark.parametrize("op,field,value,plain", CONDITIONS, ids=[f"{c[0]}-{c[1]}" for c in CONDITIONS])
def test_scoring_condition(model, op, field, value, plain):
    cols = sql.LeadColumns.of(model)
    got = _eval(sql.condition_sql(model, Condition(field=field, op=op, value=value), cols))
    assert got == [plain(s, n) for s, n in ROWS]


def test_computed_score_and_bands(model):
    cols = sql.LeadColumns.of(model)
    scores = _eval(sql.computed_score(model, cols))
    points = {r.when.value: r.points for r in model.scoring.rules}  # the fixture's rules are all `equals`
    assert scores == [points.get(s, 0) for s, _ in ROWS]
    bands = _eval(sql.band_case(model, sql._col("score")))
    plain = [next((b.id for b in model.scoring.bands if n is not None and b.min <= n <= b.max), None) for _, n in ROWS]
    assert bands == plain and None in plain


def test_routing_case_is_the_model_resolver(model):
    cols = sql.LeadColumns.of(model)
    rules = list(model.routing.rules)
    hot = rules[0].model_copy(update={"when": rules[0].when.model_copy(update={"min_score": 50})})
    m = model.model_copy(update={"routing": model.routing.model_copy(update={"rules": [hot, *rules[1:]]})})
    con = duckdb.connect()
    con.execute("CREATE TABLE leads (specialty VARCHAR, region VARCHAR, score BIGINT)")
    rows = [(s, r, n) for s in ("cardiology", "orthopedics", None, "") for r in ("north", "south", None)
            for n in (None, 10, 50, 90)]
    con.executemany("INSERT INTO leads VALUES (?, ?, ?)", rows)
    case = sql.routing_case(m, cols)
    got = [r[0] for r in con.execute(exp.select(case).from_("leads").sql(dialect="duckdb")).fetchall()]
    want = [queue_value(m, m.resolve_queue({"specialty": s, "region": r, "score": n})) for s, r, n in rows]
    assert got == want and len(set(want)) == 2
