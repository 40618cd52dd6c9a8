"""Business time: the hour table joined in SQL equals a direct Python computation."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.conformance.calendar import (
    CalendarError,
    business_day_hours,
    business_hours_table,
    business_seconds_between,
    closed_dates,
    open_intervals,
    to_epoch,
)
from generator.model import Calendar

NY = Calendar.model_validate(
    {
        "time_zone": "America/New_York",
        "hours": [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "open": "08:00", "close": "18:00"},
            {"days": ["sat"], "open": "09:30", "close": "13:00"},
        ],
        "holidays": {
            "country": "US",
            "subdivision": "NY",
            "observed": ["Independence Day", "Thanksgiving Day", "Christmas Day", "New Year's Day"],
            "extra": [{"date": "2024-11-29", "name": "Day after Thanksgiving"}],
        },
    }
)

# A half-hour UTC offset makes every opening fall at :30 UTC.
KOLKATA = Calendar.model_validate(
    {
        "time_zone": "Asia/Kolkata",
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:45"}],
        "holidays": {"country": "IN"},
    }
)

LONDON_NIGHTS = Calendar.model_validate(
    {
        "time_zone": "Europe/London",
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "open": "20:00", "close": "02:00"}],
    }
)

CALENDARS = {"new_york": NY, "kolkata": KOLKATA, "london_nights": LONDON_NIGHTS}

RANGE_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
RANGE_END = datetime(2025, 1, 15, tzinfo=timezone.utc)

B_SQL = """
WITH pts AS (SELECT * FROM (VALUES {values}) v(i, a, b)),
bt AS (
  SELECT p.i,
    ha.cum_business_seconds + LEAST(GREATEST(p.a - ha.hour_start, ha.open_offset), ha.close_offset)
      - ha.open_offset AS ba,
    hb.cum_business_seconds + LEAST(GREATEST(p.b - hb.hour_start, hb.open_offset), hb.close_offset)
      - hb.open_offset AS bb
  FROM pts p
  JOIN business_hours ha ON ha.hour_start = p.a - p.a % 3600
  JOIN business_hours hb ON hb.hour_start = p.b - p.b % 3600
)
SELECT i, bb - ba FROM bt ORDER BY i
"""


def _ny(*args: int) -> int:
    return to_epoch(datetime(*args, tzinfo=ZoneInfo("America/New_York")))


@pytest.fixture(scope="module")
def engines():
    """One DuckDB connection per calendar with its hour table registered."""
    out = {}
    for name, cal in CALENDARS.items():
        con = duckdb.connect()
        con.register("business_hours", business_hours_table(cal, RANGE_START, RANGE_END))
        out[name] = con
    yield out
    for con in out.values():
        con.close()


def _sql_between(con, pairs: list[tuple[int, int]]) -> list[int]:
    values = ", ".join(f"({i}, {a}, {b})" for i, (a, b) in enumerate(pairs))
    return [r[1] for r in con.execute(B_SQL.format(values=values)).fetchall()]


def test_table_shape_and_types():
    t = business_hours_table(NY, datetime(2024, 3, 4, 13, 20, tzinfo=timezone.utc), _ny(2024, 3, 4, 20, 0))
    assert t.column_names == ["hour_start", "cum_business_seconds", "open_offset", "close_offset",
                              "day_closes_before", "day_close_offset"]
    assert all(str(f.type) == "int64" for f in t.schema)
    hours = t.column("hour_start").to_pylist()
    assert hours[0] == to_epoch(datetime(2024, 3, 4, 13, tzinfo=timezone.utc))
    assert hours[-1] == to_epoch(datetime(2024, 3, 5, 1, tzinfo=timezone.utc))  # 20:00 EST = 01:00 UTC
    assert all(b - a == 3600 for a, b in zip(hours, hours[1:]))
    rows = t.to_pylist()
    # 08:00-18:00 EST is 13:00-23:00 UTC: fully open hours, then closed.
    assert {k: rows[0][k] for k in ("hour_start", "cum_business_seconds", "open_offset", "close_offset")} == {
        "hour_start": hours[0], "cum_business_seconds": 0, "open_offset": 0, "close_offset": 3600}
    assert rows[10]["open_offset"] == rows[10]["close_offset"] == 0
    assert rows[10]["cum_business_seconds"] == 10 * 3600
    # Monday's close (18:00 EST = 23:00 UTC) sits at offset 0 of the 23:00 hour; Tuesday's is later
    assert [r["day_close_offset"] for r in rows] == [-1] * 10 + [0] + [-1] * 2
    assert rows[11]["day_closes_before"] == rows[10]["day_closes_before"] + 1


def test_half_hour_offsets():
    t = business_hours_table(KOLKATA, datetime(2024, 3, 5, 3, tzinfo=timezone.utc), datetime(2024, 3, 5, 13, tzinfo=timezone.utc))
    rows = {r["hour_start"] % 86400 // 3600: r for r in t.to_pylist()}
    # 09:00 IST = 03:30 UTC, 17:45 IST = 12:15 UTC.
    assert (rows[3]["open_offset"], rows[3]["close_offset"]) == (1800, 3600)
    assert (rows[4]["open_offset"], rows[4]["close_offset"]) == (0, 3600)
    assert (rows[12]["open_offset"], rows[12]["close_offset"]) == (0, 900)
    assert (rows[13]["open_offset"], rows[13]["close_offset"]) == (0, 0)


@pytest.mark.parametrize(
    ("a", "b", "expected_hours"),
    [
        # Spring forward (Sun 10 March 2024): Friday 17:00 -> Monday 09:00 is 1h Fri + 3.5h Sat + 1h Mon.
        (_ny(2024, 3, 8, 17), _ny(2024, 3, 11, 9), 5.5),
        # Whole weekday across the fall-back weekend: local hours, not UTC hours.
        (_ny(2024, 11, 1, 8), _ny(2024, 11, 4, 18), 10 + 3.5 + 10),
        # Independence Day (Thu) closed; Friday open.
        (_ny(2024, 7, 3, 17), _ny(2024, 7, 5, 9), 2),
        # Thanksgiving and the extra closure the day after.
        (_ny(2024, 11, 27, 17), _ny(2024, 11, 30, 10), 1 + 0.5),
        # Election Day is a NY public holiday but not in `observed`: open.
        (_ny(2024, 11, 5, 8), _ny(2024, 11, 5, 18), 10),
        # Backwards is negative.
        (_ny(2024, 3, 11, 9), _ny(2024, 3, 8, 17), -5.5),
    ],
)
def test_reference_known_values(a, b, expected_hours):
    assert business_seconds_between(NY, a, b) == expected_hours * 3600


def test_overnight_hours_cross_midnight_and_dst():
    # The UK springs forward at 01:00 on Sunday 31 March 2024 and falls back at 02:00 on
    # Sunday 27 October: Saturday night's 20:00-02:00 lasts 5 and 7 hours respectively.
    london = ZoneInfo("Europe/London")
    spring = (datetime(2024, 3, 30, 19, tzinfo=london), datetime(2024, 3, 31, 3, tzinfo=london))
    fall = (datetime(2024, 10, 26, 19, tzinfo=london), datetime(2024, 10, 27, 3, tzinfo=london))
    assert business_seconds_between(LONDON_NIGHTS, *spring) == 5 * 3600
    assert business_seconds_between(LONDON_NIGHTS, *fall) == 7 * 3600


def test_observed_names_filter_holidays():
    assert any(d.month == 11 and d.day == 5 for d in closed_dates(NY.model_copy(update={"holidays": NY.holidays.model_copy(update={"observed": []})}), [2024]))
    closed = closed_dates(NY, [2024])
    assert datetime(2024, 7, 4).date() in closed
    assert datetime(2024, 11, 5).date() not in closed
    assert datetime(2024, 11, 29).date() in closed


def test_break_within_an_hour_is_refused():
    cal = Calendar.model_validate(
        {
            "time_zone": "UTC",
            "hours": [
                {"days": ["mon"], "open": "09:00", "close": "12:15"},
                {"days": ["mon"], "open": "12:45", "close": "17:00"},
            ],
        }
    )
    with pytest.raises(CalendarError, match="within one hour"):
        business_hours_table(cal, datetime(2024, 3, 4, tzinfo=timezone.utc), datetime(2024, 3, 5, tzinfo=timezone.utc))


def test_unknown_time_zone_is_a_clear_error():
    cal = Calendar.model_validate({"time_zone": "Mars/Olympus", "hours": [{"days": ["mon"], "open": "09:00", "close": "17:00"}]})
    with pytest.raises(CalendarError, match="Mars/Olympus"):
        open_intervals(cal, 0, 86400 * 7)


def test_business_day_hours():
    assert business_day_hours(NY) == pytest.approx((5 * 10 + 3.5) / 6)
    assert business_day_hours(LONDON_NIGHTS) == 6


instants = st.integers(min_value=to_epoch(RANGE_START), max_value=to_epoch(RANGE_END) - 1)


@pytest.mark.parametrize("name", sorted(CALENDARS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(instants, instants), min_size=1, max_size=20))
def test_sql_hour_table_equals_python_reference(engines, name, pairs):
    expected = [business_seconds_between(CALENDARS[name], a, b) for a, b in pairs]
    assert _sql_between(engines[name], pairs) == expected


@pytest.mark.parametrize("name", sorted(CALENDARS))
def test_sql_equals_reference_at_every_dst_change(engines, name):
    # Instants on both sides of each transition of 2024, at awkward minutes.
    tz = ZoneInfo(CALENDARS[name].time_zone)
    pts = []
    for month, day in [(3, 10), (3, 30), (3, 31), (11, 3), (10, 26), (10, 27), (7, 4), (12, 25)]:
        for hour in range(0, 24, 3):
            pts.append(to_epoch(datetime(2024, month, day, hour, 17, 31, tzinfo=tz)))
    pairs = [(a, b) for a in pts[::5] for b in pts]
    expected = [business_seconds_between(CALENDARS[name], a, b) for a, b in pairs]
    assert _sql_between(engines[name], pairs) == expected
