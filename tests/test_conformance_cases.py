"""Table-driven rule cases: tiny hand-written tables, exact checked/violation counts per rule.

One YAML file per check family under tests/fixtures/conformance/cases/ (like
tests/fixtures/rules/ for validation rules); lead rows start from `lead()`.

Times are UTC. The fixture calendar is America/New_York, Mon-Fri 08:00-18:00, so
Friday 2026-01-23 22:00 UTC is 17:00 local, one business hour before closing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator.conformance.contract import build_contract
from generator.conformance.families import by_name, families
from generator.conformance.run import parse_time, run_checks
from generator.conformance.sources.duckdb_dir import DuckDBSource
from generator.validate import load_playbook

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "conformance" / "playbook"
AS_OF = "2026-01-31T12:00:00Z"
TYPES = {"boolean": "BOOLEAN", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "datetime": "TIMESTAMP"}


def lead(lead_id, **values):
    """A lead that breaks no lead rule unless `values` says otherwise."""
    row = {"lead_id": lead_id, "created_at": "2026-01-26 14:00:00", "stage": "new", "email": f"{lead_id}@example.org",
           "phone": f"+1 555 000 {lead_id[-4:]}", "first_name": "Avery", "last_name": f"Test{lead_id}",
           "location": "uptown", "lead_source": "web", "attribution_channel": "organic", "utm_source": "(none)",
           "utm_campaign": "(none)", "consent": True, "do_not_contact": False, "is_duplicate": False}
    row.update(values)
    return row


CASES_DIR = Path(__file__).resolve().parent / "fixtures" / "conformance" / "cases"


def _load_cases():
    """(family, case) for every case in tests/fixtures/conformance/cases/<family>.yml."""
    yaml = YAML(typ="safe", pure=True)
    out = []
    for path in sorted(CASES_DIR.glob("*.yml")):
        doc = yaml.load(path.read_text(encoding="utf-8"))
        assert doc["family"] == path.stem, path
        for case in doc["cases"]:
            tables = dict(case["tables"])
            tables["leads"] = [lead(r["lead_id"], **{k: v for k, v in r.items() if k != "lead_id"})
                               for r in tables.get("leads", [])]
            out.append((doc["family"], {**case, "tables": tables}))
    return out


CASES = _load_cases()


def _source(model, tables: dict[str, list[dict]]):
    import duckdb

    con = duckdb.connect()
    for t in build_contract(model).tables:
        cols = [(c.name, TYPES.get(c.type, "VARCHAR")) for c in t.columns]
        con.execute(f'CREATE TABLE "{t.name}" (' + ", ".join(f'"{n}" {typ}' for n, typ in cols) + ")")
        for row in tables.get(t.name, []):
            unknown = set(row) - {n for n, _ in cols}
            assert not unknown, unknown
            names = list(row)
            con.execute(f'INSERT INTO "{t.name}" (' + ", ".join(f'"{n}"' for n in names) + ") VALUES ("
                        + ", ".join("?" for _ in names) + ")", [row[n] for n in names])
    return DuckDBSource(Path("."), connection=con, description="cases")


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.mark.parametrize("fam, case", CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CASES)])
def test_rule_case(model, fam, case):
    assert by_name(fam).matches(case["rule"]), f"{case['rule']} is not a rule of the {fam} family"
    src = _source(model, case["tables"])
    try:
        result = run_checks(model, src, as_of=parse_time(case.get("as_of", AS_OF)))
    finally:
        src.close()
    r = next(r for r in result.rules if r.id == case["rule"])
    assert (r.checked, r.violations) == (case["checked"], case["violations"]), case["name"]
    assert r.status == ("pass" if r.threshold.get("max_rate") is not None or case["violations"] == 0 else "fail")


def test_every_family_has_a_case_that_finds_a_violation():
    found = {f for f, case in CASES if case["violations"] > 0}
    assert found == {f.name for f in families()}


def test_ir_forms_no_fixture_family_emits(model):
    """The compiler takes any IR check: a lead's time field in epoch seconds, "an event happened"
    for an activity event, and wall-clock (not business) elapsed time, counted on hand-made rows."""
    from generator.conformance import checks as ir

    def check(cid, violates, applies=ir.TRUE):
        return ir.Check(id=cid, title=cid, section="test", table="leads", applies=applies, violates=violates,
                        counts="")

    called = ir.EventHappened("first-call")
    checks = [
        check("t.created-late", ir.Cmp(">", ir.Epoch("created-at"), ir.Lit(parse_time("2026-01-25T00:00:00Z")))),
        check("t.called", called),
        check("t.call-after-an-hour", ir.Cmp(">", ir.Elapsed(ir.EventTime("form-submitted"), ir.EventTime("first-call"),
                                                             business=False), ir.Lit(3600)), applies=called),
        # an event the model does not have has no time and never happened; no value is one of an empty list
        check("t.unknown-event-untimed", ir.IsNull(ir.EventTime("no-such-event"))),
        check("t.unknown-event-happened", ir.EventHappened("no-such-event")),
        check("t.in-no-values", ir.InValues(ir.Col("lead-stage"), ())),
    ]
    src = _source(model, {
        "leads": [lead("L0001", created_at="2026-01-20 10:00:00"), lead("L0002"), lead("L0003")],
        "activities": [
            {"activity_id": "A1", "lead_id": "L0001", "activity_type": "call", "occurred_at": "2026-01-20 10:30:00"},
            {"activity_id": "A2", "lead_id": "L0002", "activity_type": "call", "occurred_at": "2026-01-26 16:00:00"},
            {"activity_id": "A3", "lead_id": "L0003", "activity_type": "email", "occurred_at": "2026-01-26 16:00:00"},
        ],
    })
    try:
        result = run_checks(model, src, as_of=parse_time(AS_OF), checks=checks)
    finally:
        src.close()
    got = {r.id: (r.checked, r.violations) for r in result.rules if r.id.startswith("t.")}
    # created after Jan 25: L0002, L0003; a call: L0001, L0002 (an email is not a call);
    # the call came more than an hour after creation: L0002 only (2 h; L0001 after 30 min)
    assert got == {"t.created-late": (3, 2), "t.called": (3, 2), "t.call-after-an-hour": (2, 1),
                   "t.unknown-event-untimed": (3, 3), "t.unknown-event-happened": (3, 0),
                   "t.in-no-values": (3, 0)}


def _entered_qualified(model, table: str, semantic: str) -> tuple[int, int]:
    """(checked, violations) of "entered qualified" over three leads, L0002 currently qualified and
    L0001 qualified in stage_history only, with `table`'s column of `semantic` left out of the contract."""
    import dataclasses

    from generator.conformance import checks as ir
    from generator.conformance.compile import Compiler

    contract = build_contract(model)
    tables = tuple(dataclasses.replace(t, columns=tuple(c for c in t.columns if c.semantic != semantic))
                   if t.name == table else t for t in contract.tables)
    check = ir.Check(id="t.entered", title="t", section="test", table="leads", applies=ir.TRUE,
                     violates=ir.Entered("qualified"), counts="")
    sql = Compiler(model, "duckdb", contract=dataclasses.replace(contract, tables=tables)).compile(
        [check], as_of=parse_time(AS_OF)).queries[0].sql
    src = _source(model, {
        "leads": [lead("L0001"), lead("L0002", stage="qualified"), lead("L0003")],
        "stage_history": [{"history_id": "H1", "lead_id": "L0001", "from_stage": "new", "to_stage": "qualified",
                           "changed_at": "2026-01-26 15:00:00"}],
    })
    try:
        return tuple(src.query(sql)[0][:2])
    finally:
        src.close()


def test_stage_entry_without_a_stage_column_is_read_from_history_only(model):
    """A data dictionary without the leads stage column: "entered qualified" can only come from
    stage_history, so a lead whose current stage would say so (L0002) is not counted: L0001 is."""
    assert _entered_qualified(model, "leads", "stage") == (3, 1)


@pytest.mark.parametrize("missing", ["to_stage", "lead_ref"])
def test_stage_entry_without_history_linked_to_leads_is_the_current_stage_only(model, missing):
    """stage_history without its to_stage or its lead_ref column cannot say which lead entered
    which stage: "entered qualified" falls back to the lead's current stage (DATA-CONTRACT: stage
    history or current stage), so the history row of L0001 counts for nothing: L0002 is counted."""
    assert _entered_qualified(model, "stage_history", missing) == (3, 1)


@pytest.fixture(scope="module")
def untimed_stops(tmp_path_factory):
    """The fixture with two SLAs whose stop is a field being set, on fields with no time of their
    own and of no stage's entry: a text note and the consent boolean."""
    import shutil

    play = tmp_path_factory.mktemp("untimed") / "play"
    shutil.copytree(FIXTURE, play)
    with (play / "events.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  - id: note-written\n    name: Note written\n    signal: {kind: field_set, field: reason-note}\n"
                 "  - id: consent-given\n    name: Consent given\n"
                 "    signal: {kind: field_set, field: consent-to-contact}\n")
    with (play / "routing.yaml").open("a", encoding="utf-8") as fh:
        for sla, stop in (("note-soon", "note-written"), ("consent-soon", "consent-given")):
            fh.write(f"  - id: {sla}\n    name: {sla}\n    start_event: form-submitted\n    stop_event: {stop}\n"
                     "    within: 2 hours\n    owner: agent\n")
    return load_playbook(play)


def test_an_sla_stopped_by_a_field_without_a_time_skips_leads_where_it_is_set(untimed_stops):
    """A stop recorded only as a field value has no time, so such a lead cannot be measured and is
    not checked; a lead where the field is empty is still open and judged at --as-of (created
    Jan 26, as of Jan 31: far past 2 hours); a closed lead without a stop is not checked.
    "Set" is DATA-CONTRACT's "Empty values": spaces only is empty text, while `false` is a value."""
    src = _source(untimed_stops, {"leads": [
        lead("L0001", reason_note="Called back", consent=True),
        lead("L0002", reason_note="   ", consent=False),
        lead("L0003", reason_note=None, consent=None),
        lead("L0004", reason_note=None, consent=None, stage="Closed - Lost", closure_reason="no-response"),
    ]})
    try:
        result = run_checks(untimed_stops, src, as_of=parse_time(AS_OF))
    finally:
        src.close()
    got = {r.id: (r.checked, r.violations) for r in result.rules if r.id in ("sla.note-soon", "sla.consent-soon")}
    assert got == {"sla.note-soon": (2, 2), "sla.consent-soon": (1, 1)}
