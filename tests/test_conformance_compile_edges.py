"""Compiler paths the fixture's goldens and cases do not reach (issue 18, mutation testing of
generator/conformance/compile.py): data dictionaries missing a column a check would read,
checks on one table only, id listings, the calendar range, and SQL of other dialects.

Each test pins what a user gets (counts, listed ids, the range business hours are built for,
a clear error); the expected values come from DATA-CONTRACT and the check's meaning, on rows
small enough to count by hand. Times are UTC; AS_OF is 2026-01-31 12:00.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from generator.conformance import checks as ir
from generator.conformance.checks import build_checks
from generator.conformance.compile import EXPORT_DIALECTS, CompileError, Compiler, compile_checks
from generator.conformance.contract import build_contract
from generator.conformance.run import parse_time
from generator.validate import load_playbook
from tests.test_conformance_cases import _source, lead

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conformance" / "playbook"
AS_OF = parse_time("2026-01-31T12:00:00Z")


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


def _check(cid, violates, table="leads", applies=ir.TRUE):
    return ir.Check(id=cid, title=cid, section="test", table=table, applies=applies, violates=violates, counts="")


def _without(model, table, *semantics):
    """The model's contract with `table`'s columns of these semantics left out of the dictionary."""
    contract = build_contract(model)
    tables = tuple(dataclasses.replace(t, columns=tuple(c for c in t.columns if c.semantic not in semantics))
                   if t.name == table else t for t in contract.tables)
    return dataclasses.replace(contract, tables=tables)


def _counts(model, sql_of, tables):
    """{check id: (checked, violations)} of compiled queries run on hand-made tables."""
    src = _source(model, tables)
    try:
        out = {}
        for q in sql_of.queries:
            row = src.query(q.sql)[0]
            out.update({cid: tuple(row[2 * i:2 * i + 2]) for i, cid in enumerate(q.check_ids)})
        return out
    finally:
        src.close()


HISTORY = [{"history_id": "H1", "lead_id": "L0001", "from_stage": "new", "to_stage": "qualified",
            "changed_at": "2026-01-26 15:00:00"}]
CALLS = [{"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-26 16:00:00"}]


def test_event_times_of_a_table_missing_its_time_column_are_unknown(model):
    """Without activities.occurred_at no call has a time; without stage_history.changed_at no
    stage entry has one: such events read as "no time" (NULL), on every lead, while the times
    the dictionary does have are still read (the qualified entry after creation, from history)."""
    checks = [
        _check("t.call-untimed", ir.IsNull(ir.EventTime("first-call"))),
        _check("t.call-after-untimed", ir.IsNull(ir.EventTime("first-call", after=ir.EventTime("form-submitted")))),
        _check("t.qualified-after-untimed",
               ir.IsNull(ir.EventTime("lead-qualified", after=ir.EventTime("form-submitted")))),
    ]
    tables = {"leads": [lead("L0001"), lead("L0002"), lead("L0003")], "stage_history": HISTORY, "activities": CALLS}
    no_call_times = Compiler(model, "duckdb", contract=_without(model, "activities", "occurred_at")).compile(
        checks, as_of=AS_OF)
    # L0001's call has no time; its qualified entry (15:00, after creation at 14:00) does
    assert _counts(model, no_call_times, tables) == {
        "t.call-untimed": (3, 3), "t.call-after-untimed": (3, 3), "t.qualified-after-untimed": (3, 2)}

    stage_check = [_check("t.qualified-untimed", ir.IsNull(ir.EventTime("lead-qualified")))]
    no_change_times = Compiler(model, "duckdb", contract=_without(model, "stage_history", "changed_at")).compile(
        stage_check, as_of=AS_OF)
    assert _counts(model, no_change_times, tables) == {"t.qualified-untimed": (3, 3)}


def test_lead_values_on_activities_need_the_activity_lead_link(model):
    """The consent checks read the lead's consent for each activity: without activities.lead_ref
    (or without the leads' record id) that join cannot be written, and the compiler says so
    instead of writing broken SQL."""
    consent = [c for c in build_checks(model) if c.id == "outreach-before-consent"]
    with pytest.raises(CompileError, match="activities checks need lead_ref and the lead record id fields"):
        Compiler(model, "duckdb", contract=_without(model, "activities", "lead_ref")).compile(consent, as_of=AS_OF)


def test_checks_of_one_later_table_only_still_compile(model):
    """A run of only the stage_history checks (no lead or activity check before it in table
    order) gets exactly the stage_history query."""
    checks = [c for c in build_checks(model) if c.table == "stage_history"]
    comp = compile_checks(model, checks, "duckdb", as_of=AS_OF)
    assert [(q.table, q.check_ids) for q in comp.queries] == [("stage_history", [c.id for c in checks])]


def test_id_listings_only_when_asked(model):
    checks = build_checks(model)
    assert compile_checks(model, checks, "duckdb", as_of=AS_OF).ids_sql == {}
    assert Compiler(model, "duckdb").compile(checks, as_of=AS_OF).ids_sql == {}
    assert set(compile_checks(model, checks, "duckdb", as_of=AS_OF, with_ids=True).ids_sql) == {c.id for c in checks}


def test_rows_that_cannot_be_named_are_listed_once_per_violation(model):
    """An activities table with neither a record id nor a lead link: its violating rows still come
    back one each (as NULL ids), so an id listing's length is the violation count."""
    check = _check("t.email", ir.InValues(ir.Col("activity-type"), ("email",)), table="activities")
    contract = _without(model, "activities", "record_id", "lead_ref")
    comp = Compiler(model, "duckdb", contract=contract).compile([check], as_of=AS_OF, with_ids=True)
    acts = [{"activity_id": f"A{i}", "lead_id": "L0001", "activity_type": t, "occurred_at": "2026-01-26 16:00:00"}
            for i, t in enumerate(["email", "call", "email"])]
    src = _source(model, {"leads": [lead("L0001")], "activities": acts})
    try:
        assert src.query(comp.ids_sql["t.email"]) == [(None,), (None,)]
    finally:
        src.close()


def test_id_listings_name_the_record(model):
    """With a record id, the listing names the violating records, in order."""
    check = _check("t.in-new", ir.InValues(ir.Col("lead-stage"), ("new",)))
    comp = compile_checks(model, [check], "duckdb", as_of=AS_OF, with_ids=True)
    src = _source(model, {"leads": [lead("L0003"), lead("L0001"), lead("L0002", stage="qualified")]})
    try:
        assert src.query(comp.ids_sql["t.in-new"]) == [("L0001",), ("L0003",)]
    finally:
        src.close()


def _business_sla_model(model):
    """The fixture with a plain-hours SLA listed before its business-time SLAs."""
    plain = model.slas[0].model_copy(update={"id": "plain-first", "within": model.slas[0].within.model_copy(
        update={"business": False})})
    return model.model_copy(update={"slas": [plain, *model.slas]})


def test_the_calendar_range_covers_every_business_sla_time_column(model):
    """Business time is needed for the instants business SLAs start and stop at: qualify-fast
    (form submitted: leads.created_at; qualified: stage_history.changed_at) and first-call
    (qualified; a call: activities.occurred_at). A plain-hours SLA listed first changes nothing."""
    m = _business_sla_model(model)
    assert not m.slas[0].within.business and all(s.within.business for s in m.slas[1:])
    comp = compile_checks(m, build_checks(m), "duckdb", as_of=AS_OF)
    expected = [("activities", "occurred_at"), ("leads", "created_at"), ("stage_history", "changed_at")]
    assert comp.time_columns == expected

    # The range is the earliest and latest instant over all three: here the earliest is a call,
    # the latest a lead's creation, and the stage change lies between them.
    sql = Compiler(m, "duckdb").range_sql(expected)
    src = _source(m, {"leads": [lead("L0001", created_at="2026-01-29 08:00:00")],
                      "stage_history": [{**HISTORY[0], "changed_at": "2026-01-28 09:00:00"}],
                      "activities": [{**CALLS[0], "occurred_at": "2026-01-02 10:00:00"}]})
    try:
        assert src.query(sql) == [(parse_time("2026-01-02T10:00:00Z"), parse_time("2026-01-29T08:00:00Z"))]
    finally:
        src.close()


def test_the_compilers_own_names_are_never_quoted(model):
    """Snowflake folds unquoted names to upper case: an alias the compiler defines unquoted (`ev0`,
    `dup0`, `f0_lead_id`) and then refers to quoted (`"ev0"`) is not found there. Only physical
    table columns are quoted, in every dialect and every form the compiler writes: fused counts,
    id listings, an activity event's time, a duplicate rank, the calendar range."""
    checks = [
        *build_checks(model),
        _check("t.called-late", ir.Cmp(">", ir.Elapsed(ir.EventTime("form-submitted"), ir.EventTime("first-call"),
                                                       business=False), ir.Lit(3600))),
        _check("t.dup-rank", ir.Cmp(">", ir.DupRank("email"), ir.Lit(2))),
        _check("t.created-after-qualified", ir.IsNull(ir.EventTime("form-submitted", after=ir.EventTime("lead-qualified")))),
    ]
    physical = {c.name for t in build_contract(model).tables for c in t.columns}
    for dialect in EXPORT_DIALECTS:
        comp = compile_checks(model, checks, dialect, as_of=AS_OF, with_ids=True)
        texts = [q.sql for q in comp.queries] + list(comp.ids_sql.values())
        texts.append(Compiler(model, dialect).range_sql(comp.time_columns))
        for sql in texts:
            quoted = {i.name for i in sqlglot.parse_one(sql, read=dialect).find_all(exp.Identifier) if i.quoted}
            assert quoted <= physical, (dialect, sorted(quoted - physical))


def test_an_appointment_event_is_timed_by_its_first_row_in_that_status(model, tmp_path):
    """An appointment event that is no stage's entry event is timed by the first appointments row
    in its status (DATA-CONTRACT, "When an event happened"); without appointments.appointment_at
    it has no time on any lead."""
    import shutil

    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    with (play / "events.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  - id: visit-booked\n    name: Visit booked\n"
                 "    signal: {kind: appointment, appointment_stage: booked}\n")
    m = load_playbook(play)
    checks = [_check("t.booked-untimed", ir.IsNull(ir.EventTime("visit-booked"))),
              _check("t.booked-late", ir.Cmp(">", ir.EventTime("visit-booked"), ir.Lit(parse_time("2026-01-27T00:00:00Z"))))]
    tables = {"leads": [lead("L0001"), lead("L0002"), lead("L0003")], "appointments": [
        {"appointment_id": "P1", "lead_id": "L0001", "appointment_stage": "booked", "appointment_at": "2026-01-28 09:00:00"},
        {"appointment_id": "P2", "lead_id": "L0001", "appointment_stage": "booked", "appointment_at": "2026-01-26 09:00:00"},
        {"appointment_id": "P3", "lead_id": "L0002", "appointment_stage": "completed", "appointment_at": "2026-01-27 09:00:00"},
    ]}
    # L0001: first booked row Jan 26 (not after Jan 27); L0002's only row is completed, not booked
    assert _counts(m, compile_checks(m, checks, "duckdb", as_of=AS_OF), tables) == {
        "t.booked-untimed": (3, 2), "t.booked-late": (3, 0)}
    untimed = Compiler(m, "duckdb", contract=_without(m, "appointments", "appointment_at")).compile(checks, as_of=AS_OF)
    assert _counts(m, untimed, tables) == {"t.booked-untimed": (3, 3), "t.booked-late": (3, 0)}


def test_an_enum_without_values_is_not_grouped_by_value(model, tmp_path):
    """Grouped counting groups by value only what the model bounds: an enum whose values are not
    listed (nor implied by its meaning) could hold a different value in every row, so the checks
    only ask whether it is blank, and that question is what the rows are grouped by."""
    import shutil

    from tests.test_conformance_grouping import _group_keys

    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    fields = play / "fields.yaml"
    text = fields.read_text(encoding="utf-8")
    listed = ("    allowed_values:\n      - {value: reached, label: Reached}\n"
              "      - {value: voicemail, label: Left voicemail}\n      - {value: no-answer, label: No answer}\n")
    assert listed in text
    fields.write_text(text.replace(listed, ""), encoding="utf-8")
    m = load_playbook(play)
    logging = [c for c in build_checks(m) if c.id == "call-logging"]
    keys = _group_keys(compile_checks(m, logging, "duckdb", as_of=AS_OF).queries[0].sql)
    assert 't."activity_type"' in keys  # the bounded enum: by value
    assert 't."call_outcome"' not in keys and any("call_outcome" in k for k in keys), keys


def test_a_field_flag_event_with_an_entry_stage_is_timed_by_that_stage_after_another_time(model, tmp_path):
    """An event observed as a field being set (here the score), with no time of its own, that is a
    stage's entry event: its time is the entry into that stage, and "first at or after the form
    was submitted" reads stage_history (L0001 entered qualified an hour after creation)."""
    import shutil

    play = tmp_path / "play"
    shutil.copytree(FIXTURE, play)
    events = play / "events.yaml"
    stage_signal = "    signal:\n      kind: stage_entered\n      stage: qualified\n"
    assert stage_signal in events.read_text(encoding="utf-8")
    events.write_text(events.read_text(encoding="utf-8").replace(
        stage_signal, "    signal:\n      kind: field_set\n      field: score\n"), encoding="utf-8")
    m = load_playbook(play)
    checks = [_check("t.qualified-after-untimed",
                     ir.IsNull(ir.EventTime("lead-qualified", after=ir.EventTime("form-submitted"))))]
    tables = {"leads": [lead("L0001"), lead("L0002", score=80), lead("L0003")], "stage_history": HISTORY}
    assert _counts(m, compile_checks(m, checks, "duckdb", as_of=AS_OF), tables) == {"t.qualified-after-untimed": (3, 2)}


def test_a_run_without_a_clock_is_refused_not_judged_as_of_1970(model):
    """The SLA checks judge open leads at `as_of`. Left out, the compiler used to judge them as of
    epoch 0 (1970): an open lead created in 2026 then has a clock that has not started, so no SLA
    is ever breached and the run looks clean. Every caller says which clock it means (a time, or
    None for the warehouse's own clock), so leaving it out is an error."""
    checks = build_checks(model)
    with pytest.raises(TypeError, match="as_of"):
        compile_checks(model, checks, "duckdb")
    with pytest.raises(TypeError, match="as_of"):
        Compiler(model, "duckdb").compile(checks)
