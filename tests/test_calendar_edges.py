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
    business_day_hours,
    business_hours_table,
    business_seconds_between,
    closed_dates,
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
