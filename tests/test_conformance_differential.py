"""Differential test: the SQL counts equal a plain reading of the data contract (tests/contract_oracle.py).

Independent of the demo generator: hypothesis builds small contract-shaped tables for the
default playbook (America/Chicago, Mon-Fri 07:30-18:00, Sat 08:00-12:00, US holidays):
a handful of leads whose times sit on edges (opening and closing, a second either side,
the March and November DST weekends, Memorial Day weekend), stops before, at and after
their start, activities of the wrong kind, ties. DuckDB on every example; a small sample
also on PostgreSQL and Spark (slow).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_oracle import Oracle, epoch
from generator.conformance.run import parse_time, run_checks
from generator.conformance.sources import open_source
from generator.validate import load_playbook
from test_conformance_bugs import source

DEFAULT = Path(__file__).resolve().parent.parent / "process" / "lead-management"
MODEL = load_playbook(DEFAULT)
AS_OF = "2026-11-10T12:00:00Z"
# Fri, Sat, DST Sun, Mon (March); Memorial Day weekend; DST end weekend (November)
DAYS = ["2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-05-22", "2026-05-23", "2026-05-25",
        "2026-05-26", "2026-10-30", "2026-10-31", "2026-11-01", "2026-11-02"]
STAGES = ["new", "qualified", "routed", "attempting_contact", "appointment_scheduled", "closed_lost"]
QUEUES = ["LSP_Ortho_Chicago", "LSP_Cardiology", "LSP_Patient_Access_General", "LSP_Sleep", "", None]

instant = st.builds(
    lambda d, half_hours, nudge: datetime.fromisoformat(d).replace(tzinfo=timezone.utc)
    + timedelta(seconds=half_hours * 1800 + nudge),
    st.sampled_from(DAYS), st.integers(0, 55), st.sampled_from([-1, 0, 0, 0, 1]))


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


@st.composite
def tables(draw):
    n = draw(st.integers(1, 4))
    leads, hist, acts, appts = [], [], [], []
    for i in range(n):
        lid = f"L{i}"
        created = draw(instant)
        stage = draw(st.sampled_from(STAGES))
        later = lambda: created + timedelta(seconds=draw(st.sampled_from(  # noqa: E731
            [0, 1, 3600, 4 * 3600, 4 * 3600 + 1, 86400, 2 * 86400, 3 * 86400 + 7, 5 * 86400])))
        lead = {"lead_id": lid, "created_at": _ts(created), "stage": stage,
                "qualification_decided_at": draw(st.sampled_from([None, "later", "same"])),
                "escalated_at": draw(st.sampled_from([None, "2026-11-01 00:00:00"])),
                "specialty": draw(st.sampled_from(["orthopedics", "cardiology", "sleep_medicine", None])),
                "region": draw(st.sampled_from(["chicago_north", "milwaukee", None])),
                "lead_score": draw(st.sampled_from([None, 10, 69, 70, 95])),
                "queue": draw(st.sampled_from(QUEUES)),
                "referral_received_at": None, "contacted_at": None}
        if lead["qualification_decided_at"] == "later":
            lead["qualification_decided_at"] = _ts(later())
        elif lead["qualification_decided_at"] == "same":
            lead["qualification_decided_at"] = _ts(created)
        if draw(st.booleans()):
            lead["contacted_at"] = _ts(later())
        if draw(st.booleans()):
            lead["referral_received_at"] = _ts(draw(instant))
        leads.append(lead)
        for k in range(draw(st.integers(0, 3))):
            hist.append({"lead_id": lid, "from_stage": None, "to_stage": draw(st.sampled_from(STAGES)),
                         "changed_at": _ts(draw(st.one_of(instant, st.just(created))))})
        for k in range(draw(st.integers(0, 3))):
            acts.append({"activity_id": f"A{i}{k}", "lead_id": lid,
                         "activity_type": draw(st.sampled_from(["call", "sms", "portal_message", "letter", "email"])),
                         "occurred_at": _ts(draw(st.one_of(instant, st.just(created))))})
        for k in range(draw(st.integers(0, 2))):
            appts.append({"appointment_id": f"P{i}{k}", "lead_id": lid,
                          "appointment_stage": draw(st.sampled_from(["scheduled", "confirmed", "completed_intake"])),
                          "appointment_at": _ts(draw(instant))})
    return {"leads": leads, "stage_history": hist, "activities": acts, "appointments": appts}


def _sql_counts(src, wanted):
    try:
        result = run_checks(MODEL, src, as_of=parse_time(AS_OF))
    finally:
        src.close()
    return {r.id: (r.checked, r.violations) for r in result.rules if r.id in wanted}


def _oracle(data):
    return Oracle(MODEL, data, epoch(AS_OF.replace("Z", "").replace("T", " "))).counts()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_sql_counts_equal_the_contract_reading_on_duckdb(data):
    expected = _oracle(data)
    assert _sql_counts(source(MODEL, data), expected) == expected


def test_the_oracle_is_not_vacuous():
    """Fixed tables where the oracle finds breaches of both kinds of SLA and a misrouted lead."""
    data = {"leads": [{"lead_id": "L1", "created_at": "2026-03-06 22:00:00", "stage": "routed",
                       "qualification_decided_at": "2026-03-09 15:00:00", "queue": "LSP_Sleep",
                       "specialty": "orthopedics", "region": "chicago_north"}],
            "stage_history": [{"lead_id": "L1", "to_stage": "new", "changed_at": "2026-03-06 22:00:00"},
                              {"lead_id": "L1", "to_stage": "routed", "changed_at": "2026-03-09 15:00:00"}],
            "activities": [{"activity_id": "A1", "lead_id": "L1", "activity_type": "call",
                            "occurred_at": "2026-03-06 22:00:00"}]}
    expected = _oracle(data)
    assert expected["sla.qualification-decision"] == (1, 1)
    assert expected["sla.first-call-attempt"] == (1, 1)
    assert expected["routing-consistent"] == (1, 1)
    assert _sql_counts(source(MODEL, data), expected) == expected


def on_postgres_and_spark(data, folder, postgres_server):
    """The same tables as a PostgreSQL schema and as Spark tables (Parquet written by DuckDB)."""
    from generator.conformance.sources.postgres import load_dir
    from generator.conformance.sources.spark import dir_table_map

    src = source(MODEL, data)
    for t in ("leads", "activities", "stage_history", "appointments"):
        src.con.execute(f"COPY \"{t}\" TO '{folder / (t + '.parquet')}' (FORMAT PARQUET)")
    src.close()
    url = f"{postgres_server}?schema=diff_{folder.name.replace('-', '_')}"
    load_dir(folder, url)
    return [open_source(url), open_source("spark", tables=dir_table_map(folder))]


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=tables())
def test_postgres_and_spark_agree_with_the_contract_reading(data, tmp_path_factory, postgres_server, spark_session):
    expected = _oracle(data)
    for src in on_postgres_and_spark(data, tmp_path_factory.mktemp("diff"), postgres_server):
        assert _sql_counts(src, expected) == expected
