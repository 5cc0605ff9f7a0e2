"""The calendar's records: what calendar.yaml and rapid.yaml describe, once loaded and checked.

Plain NamedTuples with no YAML in sight: everything downstream of the loader (recurrence,
rendering, scheduling, the ledger's keys) imports these and never pays for the YAML reader.
"""

from __future__ import annotations

import datetime as dt
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from campaigner.calendar.quiet import QuietWindow

RAPID_FILE = "rapid.yaml"
REPEATS = ("none", "yearly", "monthly", "weekly")
DEFAULT_GRACE = timedelta(hours=6)


class Media(NamedTuple):
    """An image attached to an event; `path` is resolved against the calendar's folder."""

    path: Path
    alt: str | None
    written: str  # the path as written in the calendar, for messages


class Feed(NamedTuple):
    """A monitor's RSS or Atom feed to watch for reports of new use."""

    name: str
    url: str
    keywords: tuple[str, ...]


class Contact(NamedTuple):
    """Someone the campaign briefs by email (a journalist, an official, a partner), in their languages."""

    name: str
    email: str
    languages: tuple[str, ...]
    role: str | None = None  # e.g. "Minister of Foreign Affairs": templates may address them by it


Journalist = Contact  # the name from before contact groups

JOURNALISTS = "journalists"  # the group `journalists:` stands for, and `brief`'s default


class Campaign(NamedTuple):
    """The campaign-wide settings."""

    name: str
    timezone: str
    tz: ZoneInfo  # ZoneInfo(timezone): one instance per zone, so equality is unchanged
    default_time: time
    languages: tuple[str, ...]
    # The campaign's stable key (lowercase letters, digits, '-'): every ledger row carries it, so
    # calendars of a coalition can share one database. Defaults to the name, slugified.
    id: str
    hashtags: tuple[str, ...] = ()
    grace: timedelta = DEFAULT_GRACE
    approval: tuple[str, ...] = ()
    contact: str | None = None
    fact_max_age: Age | None = None  # a fact older than this by a post's date is stale (default 12 months)


class Age(NamedTuple):
    """A length of calendar time, as `max_age: 12 months` writes it: months and days, and the text."""

    months: int
    days: int
    written: str


class Fact(NamedTuple):
    """A named figure the templates cite as `facts.<name>`, with the date it was true and its source.

    `value` is the value itself, or one per language (`per_language`: a dict language -> value).
    `as_of` is as written: a date, "YYYY-MM" or a year; `until` is the last day it covers, from
    which its age is counted. `file:line:col` is where it is defined, for messages.
    """

    name: str
    value: Any
    per_language: bool
    as_of: Any
    until: dt.date
    source: str
    max_age: Age | None  # None: the campaign's fact_max_age
    file: Path
    line: int
    col: int

    def value_in(self, lang: str) -> Any:
        """The value a post in this language shows."""
        return self.value[lang] if self.per_language else self.value


class Account(NamedTuple):
    """One publishing account: its platform, languages and platform options (page_id, ...)."""

    name: str
    platform: str
    languages: tuple[str, ...]
    options: dict[str, Any]


class Event(NamedTuple):
    """One calendar entry, before recurrence; `file`/`line` say where it is written.

    The model's records are NamedTuples, not frozen dataclasses: creating a dataclass costs ~1 ms
    at every start (its methods are generated and compiled), and these are on every path. Those
    holding a dict (Event.vars, Account.options, Calendar.accounts) are not hashable.
    """

    id: str
    kind: str
    template: str
    date: dt.date  # (dt.: a field named date would hide the type from the annotations after it)
    time: dt.time
    repeat: str
    until: dt.date | None
    accounts: tuple[str, ...]
    goal: str | None
    vars: dict[str, Any]
    link: str | None = None
    media: tuple[Media, ...] = ()
    draft: bool = False
    thread: bool = False
    grace: timedelta | None = None
    file: Path = Path("calendar.yaml")
    line: int = 0
    approved_by: str | None = None
    approved_at: str | None = None
    rejected_by: str | None = None  # a rejected event is a draft whatever its draft: line says

    @property
    def rejected(self) -> bool:
        """Rejected by a reviewer (`campaigner reject`): never published."""
        return self.rejected_by is not None


class Calendar(NamedTuple):
    """The loaded calendar: campaign, accounts, events (calendar.yaml then rapid.yaml), feeds."""

    path: Path
    campaign: Campaign
    accounts: dict[str, Account]
    events: tuple[Event, ...]
    feeds: tuple[Feed, ...] = ()
    contacts: dict[str, tuple[Contact, ...]] = {}  # group name -> its contacts, in the calendar's order
    warnings: tuple[Problem, ...] = ()
    # Every file the calendar was built from: calendar.yaml, rapid.yaml, contacts CSVs, facts.yaml, media.
    sources: tuple[Path, ...] = ()
    quiet: tuple[QuietWindow, ...] = ()  # quiet periods (calendar/quiet.py), in order, none overlapping
    facts: dict[str, Fact] = {}  # name -> Fact (facts: in the calendar, or the file it names)

    @property
    def journalists(self) -> tuple[Contact, ...]:
        """The `journalists` group (what `journalists:` declares)."""
        return self.contacts.get(JOURNALISTS, ())

    @property
    def root(self) -> Path:
        """The calendar's folder: templates, media and .env paths are relative to it."""
        return self.path.parent

    def event(self, event_id: str) -> Event:
        """The event with this id; KeyError if there is none."""
        for e in self.events:
            if e.id == event_id:
                return e
        raise KeyError(event_id)

    def require(self, event_id: str) -> Event:
        """The event with this id; a ConfigError with a suggestion if there is none."""
        try:
            return self.event(event_id)
        except KeyError:
            raise ConfigError(f"no event '{event_id}'{suggest(event_id, [e.id for e in self.events])}; 'campaigner plan' lists them") from None

    def grace_for(self, event: Event) -> timedelta:
        """How long after its due time an event's post may still be sent."""
        return event.grace if event.grace is not None else self.campaign.grace

    def languages_for(self, account: Account) -> tuple[str, ...]:
        """An account posts in its own languages, else the campaign's."""
        return account.languages or self.campaign.languages



def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    import difflib  # only when a name is wrong

    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
