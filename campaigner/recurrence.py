"""Events -> occurrences: local dates and aware due instants in the campaign's time zone."""

from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Iterator, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # annotations only: recurrence sits below the calendar package, which uses it
    from campaigner.calendar.records import Event


class Occurrence(NamedTuple):
    """One dated instance of an event: its local date and the aware instant it is due."""

    event: Event
    date: date
    due: datetime

    @property
    def years(self) -> int:
        """Whole years since the event's first date (the anniversary number)."""
        return self.date.year - self.event.date.year


def clamp(year: int, month: int, day: int) -> date:
    """The date, or the month's last day when the month is shorter (29 Feb -> 28 Feb, 31st -> 30th)."""
    return date(year, month, min(day, _cal.monthrange(year, month)[1]))


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The aware instant of a wall-clock time; a time skipped by a DST change moves forward."""
    naive = datetime.combine(day, at)
    # Round-trip through UTC so that a non-existent wall time (spring forward) becomes a real one.
    return naive.replace(tzinfo=tz).astimezone(timezone.utc).astimezone(tz)


def dates(event: Event, start: date, end: date) -> Iterator[date]:
    """The event's local dates within [start, end], inclusive, in order."""
    first = event.date
    last = min(end, event.until) if event.until else end
    if event.repeat == "none":
        if start <= first <= last:
            yield first
        return
    lo = max(start, first)
    if lo > last:
        return
    if event.repeat == "yearly":
        for year in range(lo.year, last.year + 1):
            d = clamp(year, first.month, first.day)
            if lo <= d <= last:
                yield d
    elif event.repeat == "monthly":
        y, m = lo.year, lo.month
        while (y, m) <= (last.year, last.month):
            d = clamp(y, m, first.day)
            if lo <= d <= last:
                yield d
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    elif event.repeat == "weekly":
        offset = (lo - first).days
        d = first + timedelta(days=-(-offset // 7) * 7)
        while d <= last:
            yield d
            d += timedelta(days=7)
    else:  # the loader only lets the four known values through
        raise ValueError(f"unknown repeat {event.repeat!r}")


def occurrences(event: Event, tz: ZoneInfo, start: date, end: date) -> Iterator[Occurrence]:
    """The event's occurrences with local dates in [start, end]."""
    for d in dates(event, start, end):
        yield Occurrence(event, d, local_instant(d, event.time, tz))


def next_or_last(event: Event, tz: ZoneInfo, now: datetime) -> Occurrence:
    """The first occurrence at or after `now`, else the last one (what `validate` renders)."""
    today = now.astimezone(tz).date()
    for occ in occurrences(event, tz, today, today + timedelta(days=800)):
        if occ.due >= now:
            return occ
    last = None
    end = event.until or today
    for occ in occurrences(event, tz, max(event.date, end - timedelta(days=800)), end):
        last = occ
    if last is None:
        last = Occurrence(event, event.date, local_instant(event.date, event.time, tz))
    return last
