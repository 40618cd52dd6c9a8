"""Worked examples of DATA-CONTRACT.md's definitions, on the default playbook.

The default calendar is America/Chicago, Mon-Fri 07:30-18:00 and Sat 08:00-12:00, US
holidays observed (Memorial Day 2026-05-25 among them); DST starts 2026-03-08. Times
below are UTC. `sla.qualification-decision` is "within 1 business day" from creation:
by the close of the first business day after the day the clock started.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.conformance.run import parse_time, run_checks
from generator.conformance.sources import open_source
from generator.validate import load_playbook
from test_conformance_bugs import source

DEFAULT = Path(__file__).resolve().parent.parent / "process" / "lead-management"
AS_OF = "2026-06-01T12:00:00Z"

# (lead, created_at, decided_at, late?)  local time in the comment
BUSINESS_DAY_EXAMPLES = [
    ("E1", "2026-03-02 13:30:00", "2026-03-02 23:00:00", False),  # Mon 07:30 -> Mon 17:00 (the case)
    ("E2", "2026-03-06 22:00:00", "2026-03-07 17:00:00", False),  # Fri 16:00 -> Sat 11:00 (Sat closes 12:00)
    ("E3", "2026-03-06 22:00:00", "2026-03-09 15:00:00", True),   # Fri 16:00 -> Mon 09:00: Sat was the day
    ("E4", "2026-05-23 15:00:00", "2026-05-26 22:00:00", False),  # Sat 10:00 -> Tue 17:00 (Mon is a holiday)
    ("E5", "2026-05-23 15:00:00", "2026-05-27 14:00:00", True),   # Sat 10:00 -> Wed 09:00
    ("E6", "2026-03-07 17:00:00", "2026-03-09 22:30:00", False),  # Sat 11:00 CST -> Mon 17:30 CDT
    ("E7", "2026-03-07 17:00:00", "2026-03-09 23:30:00", True),   # Sat 11:00 CST -> Mon 18:30 CDT (after close)
    ("E8", "2026-03-02 01:00:00", "2026-03-03 23:30:00", False),  # Sun 19:00 -> Tue 17:30: the clock starts Mon
    ("E9", "2026-03-02 13:30:00", "2026-03-04 00:00:00", False),  # Mon 07:30 -> Tue 18:00 exactly: on time
    ("E10", "2026-03-02 13:30:00", "2026-03-04 00:00:01", True),  # one second after Tuesday's close
]
LATE = sorted(e[0] for e in BUSINESS_DAY_EXAMPLES if e[3])


@pytest.fixture(scope="module")
def model():
    return load_playbook(DEFAULT)


def _tables():
    return {"leads": [{"lead_id": lid, "created_at": c, "qualification_decided_at": d, "stage": "new"}
                      for lid, c, d, _ in BUSINESS_DAY_EXAMPLES]}


def _result(model, src):
    try:
        return run_checks(model, src, as_of=parse_time(AS_OF), with_ids=True)
    finally:
        src.close()


def _qd(result):
    r = next(r for r in result.rules if r.id == "sla.qualification-decision")
    return r.checked, r.violations, r.ids


def test_n_business_days_means_by_close_of_the_nth_business_day(model):
    assert _qd(_result(model, source(model, _tables()))) == (len(BUSINESS_DAY_EXAMPLES), len(LATE), LATE)


@pytest.mark.slow
def test_business_day_examples_agree_on_postgres_and_spark(model, tmp_path, postgres_server, spark_session):
    from generator.conformance.sources.postgres import load_dir
    from generator.conformance.sources.spark import dir_table_map

    src = source(model, _tables())
    for t in ("leads", "activities", "stage_history", "appointments"):
        src.con.execute(f"COPY \"{t}\" TO '{tmp_path / (t + '.parquet')}' (FORMAT PARQUET)")
    src.close()
    expected = (len(BUSINESS_DAY_EXAMPLES), len(LATE), LATE)
    assert _qd(_result(model, open_source(str(tmp_path)))) == expected
    url = f"{postgres_server}?schema=business_days"
    load_dir(tmp_path, url)
    assert _qd(_result(model, open_source(url))) == expected
    assert _qd(_result(model, open_source("spark", tables=dir_table_map(tmp_path)))) == expected


def test_consent_and_do_not_contact_as_timestamps_judge_each_activity_at_its_time(tmp_path):
    """The call in which the person consented, or asked to stop, is not a violation."""
    import shutil

    fixture = Path(__file__).resolve().parent / "fixtures" / "conformance" / "playbook"
    shutil.copytree(fixture, tmp_path / "pb")
    fields = tmp_path / "pb" / "fields.yaml"
    text = fields.read_text()
    for fid in ("consent-to-contact", "do-not-contact"):
        old = f"{{id: {fid}, label:"
        start = text.index(old)
        line = text[start:text.index("\n", start)]
        text = text.replace(line, line.replace("type: boolean", "type: datetime"))
    fields.write_text(text)
    m = load_playbook(tmp_path / "pb")
    acts = [("A1", "L1", "email", "2026-01-26 15:00:00"),  # before consent: breaks consent
            ("A2", "L1", "email", "2026-01-26 16:00:00"),  # the contact in which consent was given: fine
            ("A3", "L1", "email", "2026-01-26 17:00:00"),  # after consent: fine
            ("A4", "L2", "call", "2026-01-26 15:00:00"),   # the call in which L2 asked to stop: fine
            ("A5", "L2", "email", "2026-01-26 15:00:01")]  # after the request: blocked (and no consent)
    tables = {"leads": [{"lead_id": "L1", "consent": "2026-01-26 16:00:00", "do_not_contact": None},
                        {"lead_id": "L2", "consent": None, "do_not_contact": "2026-01-26 15:00:00"}],
              "activities": [{"activity_id": a, "lead_id": lead, "activity_type": t, "occurred_at": at}
                             for a, lead, t, at in acts]}
    result = _result(m, source(m, tables))
    by = {r.id: (r.checked, r.violations, r.ids) for r in result.rules}
    assert by["outreach-before-consent"] == (4, 2, ["A1", "A5"])  # calls need no consent in the fixture
    assert by["outreach-do-not-contact"] == (5, 1, ["A5"])
