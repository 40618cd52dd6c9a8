"""Calendar edges that mutation testing found unexercised (issue 18).

Each test pins one behaviour a one-character change to calendar.py would break
while every other test still passed: opening hours that touch or overlap, a
close time with minutes, an unsupported holiday country, equal bounds.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from generator.conformance.calendar import (
    HOUR,
    CalendarError,
    business_day_closes,
    business_day_hours,
    business_hours_table,
    business_seconds_between,
    closed_dates,
    closes_between,
    open_intervals,
    to_epoch,
)
from generator.model import Calendar

MON = datetime(2024, 3, 4, tzinfo=timezone.utc)  # a Monday, no US holiday
TUE = datetime(2024, 3, 5, tzinfo=timezone.utc)


def _cal(hours: list[dict], **extra) -> Calendar:
    return Calendar.model_validate({"time_zone": "UTC", "hours": hours, **extra})


def _at(h: int, m: int = 0) -> int:
    return to_epoch(MON) + h * HOUR + m * 60


def test_touching_hours_merge_into_one_span():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "12:30"},
                {"days": ["mon"], "open": "12:30", "close": "18:00"}])
    assert open_intervals(cal, MON, TUE) == [(_at(8), _at(18))]
    table = business_hours_table(cal, MON, TUE).to_pydict()
    noon = table["hour_start"].index(_at(12))
    # The 12:00 hour is open throughout: touching spans are one span, not a break within the hour.
    assert (table["open_offset"][noon], table["close_offset"][noon]) == (0, HOUR)
    assert business_seconds_between(cal, MON, TUE) == 10 * HOUR


def test_overlapping_hours_merge_to_their_union():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "13:00"},
                {"days": ["mon"], "open": "12:00", "close": "18:00"}])
    assert open_intervals(cal, MON, TUE) == [(_at(8), _at(18))]
    assert business_seconds_between(cal, MON, TUE) == 10 * HOUR
    table = business_hours_table(cal, MON, TUE).to_pydict()
    assert table["cum_business_seconds"][-1] + table["close_offset"][-1] - table["open_offset"][-1] == 10 * HOUR


def test_a_span_inside_another_keeps_the_outer_close():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"},
                {"days": ["mon"], "open": "09:00", "close": "10:00"}])
    assert open_intervals(cal, MON, TUE) == [(_at(8), _at(18))]


def test_separate_spans_stay_separate():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "12:00"},
                {"days": ["mon"], "open": "13:00", "close": "17:00"}])
    assert open_intervals(cal, MON, TUE) == [(_at(8), _at(12)), (_at(13), _at(17))]
    assert business_seconds_between(cal, _at(11), _at(14)) == 2 * HOUR


def test_intervals_are_clipped_to_the_range():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"}])
    assert open_intervals(cal, _at(9, 15), _at(17, 45)) == [(_at(9, 15), _at(17, 45))]
    assert open_intervals(cal, _at(18), TUE) == []  # the close instant is not open
    assert open_intervals(cal, MON, _at(8)) == []  # nor anything before the open instant


def test_equal_or_reversed_bounds():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"}])
    assert open_intervals(cal, _at(10), _at(10)) == []
    assert open_intervals(cal, _at(11), _at(10)) == []
    assert business_seconds_between(cal, _at(10), _at(10)) == 0
    assert business_seconds_between(cal, _at(12), _at(10)) == -2 * HOUR
    one = business_hours_table(cal, _at(10), _at(10)).to_pydict()
    assert one["hour_start"] == [_at(10)]  # equal bounds: the one hour that holds them
    with pytest.raises(CalendarError, match="ends before it starts"):
        business_hours_table(cal, _at(11), _at(10))


def test_close_time_with_minutes_counts_them():
    cal = _cal([{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:45"}])
    assert business_day_hours(cal) == pytest.approx(8.75)
    assert business_seconds_between(cal, MON, TUE) == 8 * HOUR + 45 * 60
    table = business_hours_table(cal, MON, TUE).to_pydict()
    last = table["hour_start"].index(_at(17))
    assert (table["open_offset"][last], table["close_offset"][last]) == (0, 45 * 60)


def test_open_time_with_minutes_counts_them():
    cal = _cal([{"days": ["mon"], "open": "08:20", "close": "17:00"}])
    assert business_day_hours(cal) == pytest.approx(8 + 40 / 60)
    table = business_hours_table(cal, MON, TUE).to_pydict()
    first = table["hour_start"].index(_at(8))
    assert (table["open_offset"][first], table["close_offset"][first]) == (20 * 60, HOUR)


def test_business_day_hours_averages_over_open_days_only():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"},
                {"days": ["mon"], "open": "19:00", "close": "20:00"},
                {"days": ["tue"], "open": "09:00", "close": "12:00"}])
    assert business_day_hours(cal) == pytest.approx((11 + 3) / 2)


def test_unsupported_holiday_country_is_a_clear_error():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"}], holidays={"country": "ZZ"})
    with pytest.raises(CalendarError, match="no calendar for ZZ"):
        closed_dates(cal, [2024])
    sub = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"}],
               holidays={"country": "US", "subdivision": "XX"})
    with pytest.raises(CalendarError, match="no calendar for US-XX"):
        closed_dates(sub, [2024])


def test_extra_closures_only_in_the_years_asked():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "18:00"}],
               holidays={"extra": [{"date": "2024-03-04", "name": "Inventory day"},
                                   {"date": "2025-03-03", "name": "Inventory day"}]})
    assert closed_dates(cal, [2024]) == {MON.date()}
    assert open_intervals(cal, MON, TUE) == []
    assert business_seconds_between(cal, MON, TUE) == 0


def test_observed_suffix_closes_the_day_of_the_named_holiday():
    # 4 July 2026 is a Saturday: the US observes it on Friday 3 July.
    cal = _cal([{"days": ["fri"], "open": "08:00", "close": "18:00"}],
               holidays={"country": "US", "observed": ["Independence Day"]})
    closed = closed_dates(cal, [2026])
    assert datetime(2026, 7, 3).date() in closed and datetime(2026, 7, 4).date() in closed
    assert datetime(2026, 12, 25).date() not in closed  # not in `observed`: stays open


def test_to_epoch_of_naive_aware_and_numbers():
    assert to_epoch(datetime(1970, 1, 1, 1)) == HOUR  # naive means UTC
    assert to_epoch(1.9) == 1 and to_epoch(-0.5) == -1  # floor, not truncation
    assert to_epoch(datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=timezone.utc)) == 1


# -- business-day closes: what "within N business days" counts (issue 18, second pass)

WEEKDAYS_8_TO_18 = [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "08:00", "close": "18:00"}]


def _day(n: int, h: int = 0, m: int = 0) -> int:
    """Epoch of day n of the week that starts Monday 4 March 2024 (UTC), at h:m."""
    return _at(h, m) + n * 86400


def test_business_day_closes_cover_the_first_day_and_skip_closures():
    # Wednesday 6 March is an extra closure: its 18:00 is no business-day close.
    cal = _cal(WEEKDAYS_8_TO_18, holidays={"extra": [{"date": "2024-03-06", "name": "Inventory day"}]})
    assert business_day_closes(cal, _day(0), _day(7)) == [_day(0, 18), _day(1, 18), _day(3, 18), _day(4, 18)]


def test_business_day_closes_include_both_bounds():
    cal = _cal(WEEKDAYS_8_TO_18)
    assert business_day_closes(cal, _day(0, 18), _day(0, 18)) == [_day(0, 18)]
    assert business_day_closes(cal, _day(0, 18), _day(1, 18)) == [_day(0, 18), _day(1, 18)]
    assert business_day_closes(cal, _day(0, 18, 1), _day(1, 17, 59)) == []


def test_a_business_day_closes_at_its_last_span_even_overnight():
    cal = _cal([{"days": ["mon"], "open": "08:00", "close": "12:00"},
                {"days": ["mon"], "open": "20:00", "close": "02:00"}])
    # Monday's day ends with the overnight span, at 02:00 on Tuesday, not at 12:00.
    assert business_day_closes(cal, _day(0), _day(2)) == [_day(1, 2)]


def test_closes_between_counts_strictly_inside():
    closes = [10, 20, 30]
    assert closes_between(closes, 9, 31) == 3
    assert closes_between(closes, 10, 30) == 1  # a close at either end is not between
    assert closes_between(closes, 10, 20) == 0
    assert closes_between(closes, 30, 10) == 0  # reversed: none, never negative
    assert closes_between([], 0, 100) == 0


def test_hour_table_counts_closes_strictly_before_each_hour():
    # The SQL only ever subtracts two of these counts, so compare each with the first hour's.
    cal = _cal(WEEKDAYS_8_TO_18)
    table = business_hours_table(cal, _day(0), _day(0, 23)).to_pydict()
    before = table["day_closes_before"]
    assert [c - before[0] for c in before] == [0] * 19 + [1] * 5  # 18:00 is not before the 18:00 hour
    assert table["day_close_offset"] == [-1] * 18 + [0] + [-1] * 5


def test_hour_table_marks_a_close_in_its_first_and_last_hour():
    cal = _cal([{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "08:00", "close": "17:45"}])
    first = business_hours_table(cal, _day(0, 17), _day(0, 19)).to_pydict()
    assert first["day_close_offset"] == [45 * 60, -1, -1]
    last = business_hours_table(cal, _day(0, 16), _day(0, 17, 50)).to_pydict()
    assert last["day_close_offset"] == [-1, 45 * 60]
    assert last["day_closes_before"][1] == last["day_closes_before"][0]


def test_hour_table_ignores_a_close_just_past_its_last_hour():
    # 18:00 is the start of the hour after the table: counted nowhere, and no error.
    cal = _cal(WEEKDAYS_8_TO_18)
    table = business_hours_table(cal, _day(0, 16), _day(0, 17, 59)).to_pydict()
    assert table["hour_start"] == [_day(0, 16), _day(0, 17)]
    assert table["day_close_offset"] == [-1, -1]


def test_hour_table_ends_with_the_hour_holding_the_end():
    cal = _cal(WEEKDAYS_8_TO_18)
    assert business_hours_table(cal, _at(10), _at(10, 40)).to_pydict()["hour_start"] == [_at(10)]
    assert business_hours_table(cal, _at(10, 20), _at(11, 40)).to_pydict()["hour_start"] == [_at(10), _at(11)]


def test_open_equal_to_close_is_open_all_day():
    cal = _cal([{"days": ["mon"], "open": "00:00", "close": "00:00"}])
    assert business_day_hours(cal) == 24
    assert business_seconds_between(cal, MON, TUE) == 24 * HOUR
    assert business_day_closes(cal, to_epoch(MON), to_epoch(TUE)) == [to_epoch(TUE)]  # the day closes at the next midnight


def test_to_epoch_floors_fractions_before_1970():
    assert to_epoch(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc)) == -1


def test_opening_hours_wholly_in_the_spring_forward_gap_are_no_open_time():
    # New York skips 02:00-03:00 on Sunday 10 March 2024: both ends map to 03:00 EDT,
    # an empty span that must not appear (nor be taken for a second span in that hour).
    cal = Calendar.model_validate({"time_zone": "America/New_York",
                                   "hours": [{"days": ["sun"], "open": "02:00", "close": "03:00"}]})
    gap_day = datetime(2024, 3, 10, 5, tzinfo=timezone.utc)  # 00:00 EST
    assert open_intervals(cal, gap_day, gap_day.replace(day=11)) == []
    week_before = datetime(2024, 3, 3, 5, tzinfo=timezone.utc)
    assert open_intervals(cal, week_before, week_before.replace(day=4)) == [
        (to_epoch(week_before) + 2 * HOUR, to_epoch(week_before) + 3 * HOUR)]
