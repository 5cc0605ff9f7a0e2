"""The end of the calendar: an account with nothing planned for the coming weeks is a warning for
`validate` and `status`, naming its last planned post (the event to extend, or to follow with new ones).

Works on dates alone (recurrence, no rendering), and looks back only for an account that has
nothing ahead, so a large calendar pays one short look per event at most.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from campaigner.calendar.quiet import held_by
from campaigner.errors import Problem, problem_at
from campaigner.recurrence import dates, local_instant

if TYPE_CHECKING:
    from campaigner.calendar import Calendar, Event

HORIZON_DAYS = 60


class LastPost(NamedTuple):
    """The last post planned for an account up to now."""

    event: Event
    date: date
    due: datetime


def horizon_problems(calendar: Calendar, now: datetime, days: int = HORIZON_DAYS) -> list[Problem]:
    """A warning for each account with no post planned in the `days` from `now`, naming its last planned post."""
    tz = calendar.campaign.tz
    today = now.astimezone(tz).date()
    end = today + timedelta(days=days)
    waiting = set(calendar.accounts)
    for event in calendar.events:
        if not waiting:
            return []
        mine = waiting.intersection(event.accounts)
        if mine and _planned(calendar, event, today, end, now):
            waiting -= mine
    problems = []
    for name in sorted(waiting):
        last = last_post(calendar, name, now)
        ahead = f"nothing is planned in the {days} days to {end.isoformat()}"
        if last is None:
            problems.append(problem_at(calendar.path, 0, 0, f"account {name}: {ahead}, and nothing was planned before either: add events for it", "warning"))
            continue
        lang = calendar.languages_for(calendar.accounts[name])[0]
        problems.append(problem_at(last.event.file, last.event.line, 1,
            f"account {name}: {ahead}; its last planned post is {last.event.id}/{last.date.isoformat()}/{name}/{lang} "
            f"({last.due.strftime('%Y-%m-%d %H:%M')}): add events, or extend this event's until:", "warning"))
    return problems


def _planned(calendar: Calendar, event: Event, start: date, end: date, now: datetime) -> bool:
    """Whether the event has a post that will go out from `now` to `end` (not a draft, not held by a skipping window)."""
    if event.draft:
        return False
    tz = calendar.campaign.tz
    for d in dates(event, start, end):
        due = local_instant(d, event.time, tz)
        if due >= now and not _skipped(event, due, calendar):
            return True
    return False


def _skipped(event: Event, due: datetime, calendar: Calendar) -> bool:
    """Held by a window that skips: never going out."""
    window = held_by(event, due, calendar.quiet) if calendar.quiet else None
    return window is not None and window.after == "skip"


def last_post(calendar: Calendar, account: str, now: datetime) -> LastPost | None:
    """The account's last planned post due before `now` (a draft or a skipped one is not planned)."""
    tz = calendar.campaign.tz
    today = now.astimezone(tz).date()
    best: LastPost | None = None
    for event in calendar.events:
        if event.draft or account not in event.accounts:
            continue
        stop = min(today, event.until) if event.until else today
        if stop < event.date:
            continue
        # The last occurrence up to `stop` is within a year of it, whatever the repeat.
        for d in reversed(list(dates(event, max(event.date, stop - timedelta(days=367)), stop))):
            due = local_instant(d, event.time, tz)
            if due < now and not _skipped(event, due, calendar):
                if best is None or (due, event.id) > (best.due, best.event.id):
                    best = LastPost(event, d, due)
                break
    return best
