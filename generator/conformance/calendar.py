"""Business time on the playbook calendar, as an hour table every SQL engine can join.

Engines disagree on time zones and DST, so none of that logic goes into SQL.
Python (zoneinfo + the `holidays` package) builds one row per UTC hour with:

- `hour_start`: the hour's start, epoch seconds UTC;
- `cum_business_seconds`: business seconds from the table's first hour up to this hour's start;
- `open_offset`, `close_offset`: the part of this hour that is open, in seconds into the hour
  (fully open 0/3600, closed 0/0, opening at :30 1800/3600).

- `day_closes_before`: business-day closes strictly before this hour's start (a close is the
  end of a business day's last open span, local time, holidays skipped);
- `day_close_offset`: seconds into this hour of a business-day close, -1 when none (a close on the
  hour, e.g. 18:00, sits at offset 0 of the hour it starts).

Business time of an instant t (epoch seconds) is then

    B(t) = cum + clamp(t - hour_start, open_offset, close_offset) - open_offset

joining on `hour_start = t - t % 3600`; "within N business seconds" is
`B(stop) - B(start) <= N`. "Within N business days" is by the close of the Nth business
day after the day the clock started (DATA-CONTRACT.md): with C<=(t) / C<(t) the number of
closes at-or-before / before t, the stop is late when `C<(stop) - C<=(start) > N`.
Only integer epochs cross into SQL.

`business_seconds_between` is a direct Python reference used to test the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import UsageError
from ..model import Calendar

HOUR = 3600
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Instant = datetime | int | float


class CalendarError(UsageError):
    """The playbook calendar cannot be turned into business time."""


def to_epoch(value: Instant) -> int:
    """Epoch seconds UTC of an aware datetime (naive means UTC) or a number."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp() // 1)
    return int(value // 1)


def _zone(calendar: Calendar) -> ZoneInfo:
    try:
        return ZoneInfo(calendar.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {calendar.time_zone!r} in the playbook calendar") from exc


def _parse_hhmm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def closed_dates(calendar: Calendar, years: Iterable[int]) -> set[date]:
    """Local dates the network is closed: observed public holidays plus extra closures."""
    years = sorted(set(years))
    out: set[date] = {h.date for h in calendar.holidays.extra if h.date.year in years}
    hol = calendar.holidays
    if hol.country:
        import holidays as holidays_pkg

        try:
            public = holidays_pkg.country_holidays(hol.country, subdiv=hol.subdivision, years=years)
        except NotImplementedError as exc:
            where = hol.country + (f"-{hol.subdivision}" if hol.subdivision else "")
            raise CalendarError(f"the holidays package has no calendar for {where}") from exc
        wanted = {_base_name(n) for n in hol.observed}
        for day, names in public.items():
            # One date may carry several holidays joined by "; ".
            if not wanted or any(_base_name(n) in wanted for n in names.split("; ")):
                out.add(day)
    return out


def _base_name(name: str) -> str:
    # "Independence Day (observed)" closes the network when "Independence Day" does.
    name = name.strip()
    for suffix in (" (observed)", " (Observed)"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.casefold()


def open_intervals(calendar: Calendar, start_utc: Instant, end_utc: Instant) -> list[tuple[int, int]]:
    """Merged, sorted open intervals [open, close) in epoch seconds overlapping the range."""
    start, end = to_epoch(start_utc), to_epoch(end_utc)
    if end <= start:
        return []
    return list(_open_spans(calendar, start, end))


def _open_spans(calendar: Calendar, start: int, end: int) -> tuple[tuple[int, int], ...]:
    tz = _zone(calendar)
    # Local dates that can touch the range, with a day of slack each side for
    # overnight hours and any UTC offset.
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, tz).date() + timedelta(days=1)
    closed = closed_dates(calendar, range(first.year, last.year + 1))
    spans: list[tuple[int, int]] = []
    day = first
    while day <= last:
        if day not in closed:
            wd = _WEEKDAYS[day.weekday()]
            for oh in calendar.hours:
                if wd not in oh.days:
                    continue
                o, c = _parse_hhmm(oh.open), _parse_hhmm(oh.close)
                close_day = day if c > o else day + timedelta(days=1)  # close <= open: overnight
                a = _local_epoch(day, o, tz)
                b = _local_epoch(close_day, c, tz)
                if b > a:
                    spans.append((a, b))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple((max(a, start), min(b, end)) for a, b in merged if b > start and a < end)


def business_day_closes(calendar: Calendar, start: int, end: int) -> list[int]:
    """Epochs of the close of every business day (its last open span's end) within [start, end]."""
    tz = _zone(calendar)
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, tz).date() + timedelta(days=1)
    closed = closed_dates(calendar, range(first.year, last.year + 1))
    out = []
    day = first
    while day <= last:
        if day not in closed:
            wd = _WEEKDAYS[day.weekday()]
            ends = []
            for oh in calendar.hours:
                if wd in oh.days:
                    o, c = _parse_hhmm(oh.open), _parse_hhmm(oh.close)
                    ends.append(_local_epoch(day if c > o else day + timedelta(days=1), c, tz))
            if ends and start <= max(ends) <= end:
                out.append(max(ends))
        day += timedelta(days=1)
    return sorted(out)


def closes_between(closes: list[int], a: int, b: int) -> int:
    """Business-day closes c with a < c < b (the reference reading of the SQL's day count)."""
    import bisect

    return max(0, bisect.bisect_left(closes, b) - bisect.bisect_right(closes, a))


def _local_epoch(day: date, t: time, tz: ZoneInfo) -> int:
    # fold=0: a wall time skipped by spring-forward maps forward (09:30 in a gap
    # becomes 10:30 after the change); a repeated wall time takes its first
    # occurrence. Opening hours rarely sit in the 01:00-03:00 window anyway.
    return int(datetime.combine(day, t, tzinfo=tz).timestamp())


def business_hours_table(calendar: Calendar, start_utc: Instant, end_utc: Instant):
    """The UTC hour table (pyarrow.Table) covering [start_utc, end_utc], hours rounded outwards."""
    import pyarrow as pa

    start, end = to_epoch(start_utc), to_epoch(end_utc)
    if end < start:
        raise CalendarError("the business-hours range ends before it starts")
    first = start - start % HOUR
    last = end - end % HOUR  # the hour that contains `end` is included
    spans = open_intervals(calendar, first, last + HOUR)
    hours = list(range(first, last + HOUR, HOUR))
    opens = [0] * len(hours)
    closes = [0] * len(hours)
    seen = [False] * len(hours)
    for a, b in spans:
        h = a - a % HOUR
        while h < b:
            i = (h - first) // HOUR
            lo, hi = max(a, h) - h, min(b, h + HOUR) - h
            if seen[i]:
                # Two open spans in one UTC hour (e.g. a 12:00-12:30 break) cannot be a clamp.
                raise CalendarError(
                    "opening hours close and reopen within one hour "
                    f"(around {datetime.fromtimestamp(h, timezone.utc):%Y-%m-%d %H:00} UTC); "
                    "business time is measured per hour, so breaks must span whole hours"
                )
            seen[i] = True
            opens[i], closes[i] = lo, hi
            h += HOUR
    cum: list[int] = []
    total = 0
    for o, c in zip(opens, closes):
        cum.append(total)
        total += c - o
    day_offset = [-1] * len(hours)
    day_before = [0] * len(hours)
    ends = business_day_closes(calendar, first - 2 * 86400, last + HOUR)
    for c in ends:
        i = (c - c % HOUR - first) // HOUR
        if 0 <= i < len(hours):
            day_offset[i] = c % HOUR
    k = 0
    for i, h in enumerate(hours):
        while k < len(ends) and ends[k] < h:
            k += 1
        day_before[i] = k
    i64 = pa.int64()
    return pa.table(
        {
            "hour_start": pa.array(hours, i64),
            "cum_business_seconds": pa.array(cum, i64),
            "open_offset": pa.array(opens, i64),
            "close_offset": pa.array(closes, i64),
            "day_closes_before": pa.array(day_before, i64),
            "day_close_offset": pa.array(day_offset, i64),
        }
    )


def business_seconds_between(calendar: Calendar, a: Instant, b: Instant) -> int:
    """Business seconds from a to b (negative when b is before a), computed directly."""
    x, y = to_epoch(a), to_epoch(b)
    if y < x:
        return -business_seconds_between(calendar, y, x)
    return sum(hi - lo for lo, hi in open_intervals(calendar, x, y))


def business_day_hours(calendar: Calendar) -> float:
    """Average open hours per open weekday: what one "business day" of an SLA lasts."""
    per_day: dict[str, int] = {}
    for oh in calendar.hours:
        o, c = _parse_hhmm(oh.open), _parse_hhmm(oh.close)
        secs = (c.hour * 60 + c.minute - o.hour * 60 - o.minute) * 60
        if secs <= 0:
            secs += 24 * HOUR
        for d in oh.days:
            per_day[d] = per_day.get(d, 0) + secs
    return sum(per_day.values()) / len(per_day) / HOUR if per_day else 0.0
