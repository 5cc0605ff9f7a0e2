"""Events -> occurrences: month ends, 29 February, `until`, daylight saving, and what validate renders."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from campaigner.calendar import Event, load_calendar
from campaigner.recurrence import dates, local_instant, next_or_last, occurrences

PP = ZoneInfo("Asia/Phnom_Penh")
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def event(start: date, repeat: str = "none", until: date | None = None, at: time = time(9, 0)) -> Event:
    """An event as the loader would build it."""
    return Event(id="e", kind="k", template="k", date=start, time=at, repeat=repeat, until=until,
                 accounts=("a",), goal=None, vars={})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------- dates


def test_yearly_on_29_february_falls_on_28_february_in_common_years():
    got = list(dates(event(date(2024, 2, 29), "yearly"), date(2024, 1, 1), date(2029, 12, 31)))
    assert got == [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28),
                   date(2028, 2, 29), date(2029, 2, 28)]


def test_monthly_on_the_31st_falls_on_each_months_last_day():
    got = list(dates(event(date(2026, 1, 31), "monthly"), date(2026, 1, 1), date(2026, 6, 30)))
    assert got == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
                   date(2026, 5, 31), date(2026, 6, 30)]
    leap = list(dates(event(date(2027, 12, 31), "monthly"), date(2028, 2, 1), date(2028, 2, 29)))
    assert leap == [date(2028, 2, 29)]


def test_until_is_inclusive():
    e = event(date(2026, 1, 5), "weekly", until=date(2026, 1, 26))
    assert list(dates(e, date(2026, 1, 1), date(2026, 12, 31))) == [
        date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19), date(2026, 1, 26)]
    yearly = event(date(2010, 8, 1), "yearly", until=date(2026, 8, 1))
    assert list(dates(yearly, date(2025, 1, 1), date(2030, 12, 31))) == [date(2025, 8, 1), date(2026, 8, 1)]


def test_weekly_keeps_the_start_dates_weekday_inside_a_later_window():
    e = event(date(2026, 11, 2), "weekly")  # a Monday
    got = list(dates(e, date(2026, 11, 20), date(2026, 12, 10)))
    assert got == [date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert {d.weekday() for d in got} == {0}
    assert list(dates(e, date(2026, 10, 1), date(2026, 11, 2))) == [date(2026, 11, 2)]  # never before its start


def test_none_happens_only_once():
    e = event(date(2026, 9, 14))
    assert list(dates(e, date(2020, 1, 1), date(2035, 12, 31))) == [date(2026, 9, 14)]
    assert list(dates(e, date(2026, 9, 15), date(2035, 12, 31))) == []


def test_window_bounds_are_inclusive():
    e = event(date(2010, 8, 1), "yearly")
    assert list(dates(e, date(2026, 8, 1), date(2026, 8, 1))) == [date(2026, 8, 1)]
    assert list(dates(e, date(2026, 8, 2), date(2027, 7, 31))) == []


# ---------------------------------------------------------------- instants


def test_daylight_saving_moves_the_utc_instant_of_a_local_time():
    e = event(date(2026, 3, 1), "weekly")  # Sundays, 09:00 New York time
    due = {o.date: o.due for o in occurrences(e, NY, date(2026, 3, 1), date(2026, 11, 8))}
    # US clocks go forward on 8 March 2026 and back on 1 November 2026.
    assert due[date(2026, 3, 1)].astimezone(UTC) == utc("2026-03-01T14:00")
    assert due[date(2026, 3, 8)].astimezone(UTC) == utc("2026-03-08T13:00")
    assert due[date(2026, 10, 25)].astimezone(UTC) == utc("2026-10-25T13:00")
    assert due[date(2026, 11, 1)].astimezone(UTC) == utc("2026-11-01T14:00")
    assert all(d.hour == 9 and d.minute == 0 for d in due.values())  # wall clock unchanged
    assert due[date(2026, 3, 1)].isoformat() == "2026-03-01T09:00:00-05:00"
    assert due[date(2026, 3, 8)].isoformat() == "2026-03-08T09:00:00-04:00"


def test_london_summer_time_changes_the_instant_too():
    e = event(date(2026, 3, 22), "weekly", at=time(9, 0))
    due = [o.due.astimezone(UTC) for o in occurrences(e, LONDON, date(2026, 3, 22), date(2026, 3, 29))]
    assert due == [utc("2026-03-22T09:00"), utc("2026-03-29T08:00")]


def test_a_time_in_the_spring_forward_gap_moves_forward_to_a_real_instant():
    # 02:30 on 8 March 2026 does not exist in New York: clocks jump from 02:00 to 03:00.
    due = local_instant(date(2026, 3, 8), time(2, 30), NY)
    assert due.astimezone(UTC) == utc("2026-03-08T07:30")
    assert (due.hour, due.minute, due.utcoffset().total_seconds()) == (3, 30, -4 * 3600)
    assert due.astimezone(UTC).astimezone(NY) == due  # a real instant: it round-trips
    london = local_instant(date(2026, 3, 29), time(1, 30), LONDON)
    assert london.astimezone(UTC) == utc("2026-03-29T01:30") and london.hour == 2


def test_the_occurrence_keeps_its_local_date_when_utc_is_the_day_before():
    e = event(date(2026, 8, 1), at=time(6, 0))
    (occ,) = occurrences(e, PP, date(2026, 8, 1), date(2026, 8, 1))
    assert occ.date == date(2026, 8, 1)
    assert occ.due.astimezone(UTC) == utc("2026-07-31T23:00")
    assert occ.due.isoformat() == "2026-08-01T06:00:00+07:00"


def test_years_is_the_anniversary_number():
    e = event(date(2010, 8, 1), "yearly")
    assert [o.years for o in occurrences(e, PP, date(2010, 1, 1), date(2026, 12, 31))][::8] == [0, 8, 16]


def test_leap_day_fixture_uses_the_campaign_default_time(fixture_calendar):
    cal = load_calendar(fixture_calendar("good"))
    occs = list(occurrences(cal.event("leap-day"), cal.campaign.tz, date(2027, 1, 1), date(2031, 12, 31)))
    assert [o.date for o in occs] == [date(2027, 2, 28), date(2028, 2, 29), date(2029, 2, 28), date(2030, 2, 28)]
    assert occs[0].due.isoformat() == "2027-02-28T09:00:00+07:00"


# ---------------------------------------------------------------- next_or_last


@pytest.mark.parametrize(
    "now, expected",
    [
        ("2026-07-31T12:00", date(2026, 8, 1)),   # later this year
        ("2026-08-01T01:00", date(2026, 8, 1)),   # 08:00 local = 01:00 UTC: due exactly now
        ("2026-08-01T01:01", date(2027, 8, 1)),   # a minute late: the next one
    ],
)
def test_next_or_last_takes_the_first_occurrence_at_or_after_now(now, expected):
    e = event(date(2010, 8, 1), "yearly", at=time(8, 0))
    assert next_or_last(e, PP, utc(now)).date == expected


def test_next_or_last_falls_back_to_the_last_occurrence():
    ended = event(date(2010, 8, 1), "yearly", until=date(2020, 12, 31))
    occ = next_or_last(ended, PP, utc("2026-07-01T00:00"))
    assert (occ.date, occ.years) == (date(2020, 8, 1), 10)
    once = event(date(2001, 5, 1))  # long before the search window
    assert next_or_last(once, PP, utc("2026-07-01T00:00")).date == date(2001, 5, 1)
    today_passed = event(date(2026, 7, 1), at=time(6, 0))
    assert next_or_last(today_passed, PP, utc("2026-07-01T05:00")).date == date(2026, 7, 1)
