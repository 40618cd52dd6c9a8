"""Counting over grouped inputs (compile.py `_counts`): the same counts as row by row.

A table's checks are counted over the distinct combinations of what they read when every input
is categorical (a boolean, an enum with listed or implied values) or only asked a yes/no question
(is it NULL? is it blank?). That is an optimisation: no count may change. These tests compare it
with the row-by-row query on data full of what breaks naive grouping (NULLs, blanks, stray enum
values, leads missing from the leads table), and check which inputs become group keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from generator.conformance import compile as compile_mod
from generator.conformance.checks import build_checks
from generator.conformance.compile import compile_checks
from generator.conformance.run import run_checks
from generator.validate import load_playbook
from tests.test_conformance_cases import _source, lead

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conformance" / "playbook"
AS_OF = 1769860800  # 2026-01-31T12:00:00Z


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


def _group_keys(sql: str) -> set[str] | None:
    """The GROUP BY expressions of the `g` CTE of a fused query, or None when it has none."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for cte in tree.find_all(exp.CTE):
        if cte.alias == "g":
            return {e.sql(dialect="duckdb") for e in cte.this.args["group"].expressions}
    return None


def test_keys_are_the_categorical_inputs_and_the_questions_asked_of_the_others(model):
    # Read off the fixture's data dictionary: activity type and call outcome are enums, consent and
    # do-not-contact booleans (joined from leads), the follow-up time is only asked whether it is
    # NULL; stage history's stages are enums whose values are the stages.
    queries = {q.table: q.sql for q in compile_checks(model, build_checks(model), "duckdb", as_of=AS_OF).queries}
    assert _group_keys(queries["activities"]) == {
        't."activity_type"', 't."call_outcome"', 't."next_follow_up" IS NULL',
        "l.f0_consent_to_contact", "l.f1_do_not_contact"}
    assert _group_keys(queries["stage_history"]) == {'t."from_stage"', 't."to_stage"'}
    assert _group_keys(queries["appointments"]) == {'t."appointment_stage"'}


def test_a_time_used_in_arithmetic_keeps_row_by_row_counting(model):
    # The SLA checks subtract one time from another: no yes/no question of one column replaces that.
    queries = {q.table: q.sql for q in compile_checks(model, build_checks(model), "duckdb", as_of=AS_OF).queries}
    assert _group_keys(queries["leads"]) is None
    sla_only = [c for c in build_checks(model) if c.id == "sla.first-call"]
    assert _group_keys(compile_checks(model, sla_only, "duckdb", as_of=AS_OF).queries[0].sql) is None


def test_lead_row_checks_without_times_are_grouped_too(model):
    # Allowed values, presence and routing read enums and ask whether free text is blank.
    row_checks = [c for c in build_checks(model) if c.table == "leads" and not c.id.startswith(("sla", "duplicates"))]
    keys = _group_keys(compile_checks(model, row_checks, "duckdb", as_of=AS_OF).queries[0].sql)
    assert keys is not None
    assert not any("utm_source" in k and "IS NULL" not in k and "TRIM" not in k for k in keys), keys


def test_a_bare_boolean_beside_a_question_becomes_its_group_column():
    # `t.flag AND t.note IS NULL`: the boolean is read by value (a g key), the free text only through
    # its question (an a key); the rewritten condition keeps both operands, reading the groups.
    grouping = compile_mod._Grouping(lambda col: col.name == "flag")
    cond = sqlglot.parse_one("t.flag AND t.note IS NULL", read="duckdb")
    out = grouping.rewrite(cond)
    assert out is not None and out.sql(dialect="duckdb") == "g.g0 AND g.a1"
    assert {alias: e.sql(dialect="duckdb") for alias, e in grouping.keys.values()} == {
        "g0": "t.flag", "a1": "t.note IS NULL"}
    assert cond.sql(dialect="duckdb") == "t.flag AND t.note IS NULL"  # the input is left as it was
    # A time in arithmetic beside them: the condition cannot be grouped at all.
    late = sqlglot.parse_one("t.flag AND t.done - t.start > 3600", read="duckdb")
    assert compile_mod._Grouping(lambda col: col.name == "flag").rewrite(late) is None


def _counts(model, tables, grouped: bool, monkeypatch) -> dict[str, tuple[int, int]]:
    with monkeypatch.context() as m:
        if not grouped:
            m.setattr(compile_mod._Grouping, "rewrite", lambda self, e: None)
        result = run_checks(model, _source(model, tables), as_of=AS_OF, generated_at=AS_OF)
    return {r.id: (r.checked, r.violations) for r in result.rules}


ENUMISH = st.sampled_from([None, "", "  ", "call", "email", "sms", "CALL", "fax", "reached", "voicemail",
                           "no-answer", "new", "qualified", "scheduled", "Closed - Lost", "booked", "completed"])
TRI = st.sampled_from([None, True, False])
STAMP = st.sampled_from([None, "2026-01-26 15:00:00", "2026-01-27 09:30:00"])


@st.composite
def _tables(draw):
    n = draw(st.integers(1, 4))
    leads = [lead(f"L{i:04d}", consent=draw(TRI), do_not_contact=draw(TRI), stage=draw(ENUMISH),
                  closure_reason=draw(ENUMISH), utm_source=draw(st.sampled_from([None, "", " ", "news"])))
             for i in range(n)]
    refs = st.sampled_from([f"L{i:04d}" for i in range(n)] + ["L9999", None])  # L9999: no such lead
    activities = [{"activity_id": f"A{j}", "lead_id": draw(refs), "activity_type": draw(ENUMISH),
                   "occurred_at": "2026-01-26 15:00:00", "call_outcome": draw(ENUMISH), "next_follow_up": draw(STAMP)}
                  for j in range(draw(st.integers(0, 12)))]
    history = [{"lead_id": draw(refs), "from_stage": draw(ENUMISH), "to_stage": draw(ENUMISH),
                "changed_at": "2026-01-26 15:00:00"} for _ in range(draw(st.integers(0, 8)))]
    appointments = [{"appointment_id": f"P{j}", "lead_id": draw(refs), "appointment_stage": draw(ENUMISH),
                     "appointment_at": "2026-01-28 15:00:00"} for j in range(draw(st.integers(0, 4)))]
    return {"leads": leads, "activities": activities, "stage_history": history, "appointments": appointments}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables=_tables())
def test_grouped_counts_equal_row_by_row_counts(model, tables, monkeypatch):
    assert _counts(model, tables, True, monkeypatch) == _counts(model, tables, False, monkeypatch)


def test_row_by_row_path_is_really_taken_when_grouping_is_off(model, monkeypatch):
    # The comparison above is only worth something if the two runs differ in how they count.
    with monkeypatch.context() as m:
        m.setattr(compile_mod._Grouping, "rewrite", lambda self, e: None)
        plain = compile_checks(model, build_checks(model), "duckdb", as_of=AS_OF)
    assert all(_group_keys(q.sql) is None for q in plain.queries)


def test_grouped_counts_by_hand(model, monkeypatch):
    # Worked out from DATA-CONTRACT.md for these five activities:
    #   A1 call, reached, follow-up set          -> fine
    #   A2 call, no outcome, no follow-up        -> call-logging violation
    #   A3 'CALL'                                -> not an allowed type; not a call, so no logging rule
    #   A4 blank type                            -> not checked by allowed values
    #   A5 sms to L0002 (consent NULL, DNC true) -> outreach before consent and to a do-not-contact lead
    tables = {
        "leads": [lead("L0001"), lead("L0002", consent=None, do_not_contact=True)],
        "activities": [
            {"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 15:00:00",
             "call_outcome": "reached", "next_follow_up": "2026-01-27 15:00:00"},
            {"activity_id": "A2", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 16:00:00",
             "call_outcome": None, "next_follow_up": None},
            {"activity_id": "A3", "lead_id": "L0001", "activity_type": "CALL", "occurred_at": "2026-01-26 17:00:00",
             "call_outcome": "reached", "next_follow_up": None},
            {"activity_id": "A4", "lead_id": "L0001", "activity_type": " ", "occurred_at": "2026-01-26 18:00:00",
             "call_outcome": None, "next_follow_up": None},
            {"activity_id": "A5", "lead_id": "L0002", "activity_type": "sms", "occurred_at": "2026-01-26 19:00:00",
             "call_outcome": None, "next_follow_up": None},
        ],
    }
    counts = _counts(model, tables, True, monkeypatch)
    assert counts["allowed-values.activity-type"] == (4, 1)
    assert counts["allowed-values.call-outcome"] == (2, 0)
    assert counts["call-logging"] == (2, 1)
    assert counts["outreach-before-consent"] == (1, 1)
    assert counts["outreach-do-not-contact"] == (5, 1)
