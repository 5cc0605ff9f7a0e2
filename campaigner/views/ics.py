"""The iCalendar feed (RFC 5545): one VEVENT per occurrence, for the team's own calendar apps.

`feed()` is pure: from the calendar, the rendered posts, their ledger records and `revised` (when
the calendar's inputs last changed) it makes the bytes of a .ics file. The same inputs give the
same bytes: UIDs come from the campaign key, the event id and the date; DTSTAMP is `revised`, not
the clock; events are in due order. So an app that subscribes, or a person who imports the file
again, gets the events updated in place, never duplicated.

Imports icalendar (~110 ms): only `campaigner ics` pays for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone

from campaigner.calendar import Calendar, Event
from campaigner.ledger import PostRecord, campaign_key
from campaigner.render import Post
from campaigner.views.labels import platform_label
from campaigner.views.state import State, state_of

PRODID = "-//campaigner//campaign calendar//EN"
LENGTH = timedelta(minutes=15)  # a post is a moment; calendar apps show a zero-length event poorly
MARKS = {"draft": "draft", "held": "held"}  # post states that mark an occurrence's summary


def uid(campaign: str, event_id: str, day: date) -> str:
    """The UID of an occurrence: stable across runs and hosts, unique across campaigns."""
    digest = hashlib.sha256(f"{campaign}\n{event_id}\n{day.isoformat()}".encode("utf-8")).hexdigest()[:32]
    return f"{digest}@campaigner"


def feed(calendar: Calendar, posts: Sequence[Post], records: Mapping[str, PostRecord], revised: datetime, start: date, end: date) -> bytes:
    """The .ics bytes of the occurrences of `posts` (local dates start..end); `revised` becomes DTSTAMP."""
    import icalendar

    key = campaign_key(calendar.campaign)
    tz = calendar.campaign.tz
    stamp = revised.astimezone(timezone.utc).replace(microsecond=0)
    occurrences: dict[tuple[str, date], list[Post]] = {}
    for p in posts:
        occurrences.setdefault((p.event.id, p.date), []).append(p)

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar.campaign.name)
    cal.add("x-wr-timezone", calendar.campaign.timezone)
    ordered = sorted(occurrences.items(), key=lambda item: (item[1][0].due, item[0][0]))
    for (event_id, day), group in ordered:
        event = group[0].event
        states = [state_of(p, records.get(p.id), calendar.quiet) for p in group]
        due = group[0].due.astimezone(tz)
        vevent = icalendar.Event()
        vevent.add("uid", uid(key, event_id, day))
        vevent.add("dtstamp", stamp)
        vevent.add("dtstart", due)
        vevent.add("dtend", due + LENGTH)
        vevent.add("summary", _summary(event, states))
        vevent.add("description", _description(calendar, event, group, states))
        vevent.add("categories", [c for c in (event.kind, event.goal) if c])
        if event.link:
            vevent.add("url", event.link)
        vevent.add("transp", "TRANSPARENT")  # a post going out does not make anyone busy
        vevent.add("status", "TENTATIVE" if any(s.name in MARKS for s in states) else "CONFIRMED")
        cal.add_component(vevent)
    # The zone's rules for the years shown, from the tz database: apps that lack the zone still
    # show local times right on both sides of a daylight-saving change.
    cal.add_missing_timezones(first_date=date(start.year, 1, 1), last_date=date(end.year + 1, 12, 31))
    return bytes(cal.to_ical())


def _summary(event: Event, states: Sequence[State]) -> str:
    marks = sorted({MARKS[s.name] for s in states if s.name in MARKS})
    return "".join(f"[{m}] " for m in marks) + f"{event.kind}: {event.id}"


def _description(calendar: Calendar, event: Event, group: Sequence[Post], states: Sequence[State]) -> str:
    used = {p.account for p in group}
    accounts = [a for a in event.accounts if a in used] + sorted(used - set(event.accounts))  # in the calendar's order
    languages = list(dict.fromkeys(p.language for p in group))
    lines = [f"Accounts: {', '.join(f'{a} ({platform_label(calendar.accounts[a].platform)})' if a in calendar.accounts else a for a in accounts)}",
             f"Languages: {', '.join(languages)}"]
    if event.goal:
        lines.append(f"Goal: {event.goal}")
    english = next((p for p in group if p.language == "en"), None)
    if english is not None:
        lines += ["", english.text]
    lines += ["", "Posts:"]
    for p, s in zip(group, states):
        extra = f" {s.url}" if s.url else f" ({s.detail})" if s.detail else ""
        over = "" if p.fits else f", {p.length}/{p.limit}: over the limit"
        lines.append(f"- {p.account} {p.language}: {s.name}{extra}{over}")
    return "\n".join(lines)
