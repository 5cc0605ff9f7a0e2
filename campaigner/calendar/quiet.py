"""Quiet periods: the calendar's `quiet:` windows, during which some posts are held (never published).

A window holds the kinds and goals its `hold:` names; with no `hold:` it holds everything but
condemnations (a condemnation of new use must not wait for an election; naming `kind:
condemnation` holds it too). `after: skip` (the default) records a held post as skipped, never
sent; `after: defer` makes it due when the window ends, at the same local time of day.

The record and its tests of a post are plain (no YAML): schedule.py, which alone decides what is
due, asks them. `load_quiet` reads the section through the loader's Checker, so each problem is
located; it is called once by the loader and keeps everything about `quiet:` in this module.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from campaigner.calendar.records import suggest

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from campaigner.calendar.checker import Checker
    from campaigner.calendar.records import Campaign, Event
    from campaigner.calendar.yaml_reader import MarkedDict

QUIET_KEYS = ("name", "from", "to", "hold", "note", "after")
AFTER = ("skip", "defer")
HOLD_KEYS = ("kind", "goal")
NEVER_BY_DEFAULT = "condemnation"  # the kind a window without hold: lets through


class QuietWindow(NamedTuple):
    """One quiet period: [start, end) in the campaign's time zone, what it holds, and what happens after."""

    name: str
    start: datetime  # aware, local: the first instant held
    end: datetime  # aware, local: the first instant no longer held (the day after `to`, or a minute after a time)
    first: str  # `from` as a person reads it: 2027-05-23 or 2027-05-23 08:00
    last: str  # `to`, likewise
    kinds: frozenset[str] = frozenset()
    goals: frozenset[str] = frozenset()
    after: str = "skip"
    note: str | None = None
    file: Path = Path("calendar.yaml")
    line: int = 0

    @property
    def everything(self) -> bool:
        """No hold: given, so it holds every kind but condemnation."""
        return not self.kinds and not self.goals

    def holds(self, event: Event) -> bool:
        """Whether this window holds the event's kind or goal (wherever its posts fall)."""
        return self.holds_kind(event.kind, event.goal)

    def holds_kind(self, kind: str, goal: str | None) -> bool:
        """Whether this window holds posts of this kind and goal."""
        if self.everything:
            return kind != NEVER_BY_DEFAULT
        return kind in self.kinds or (goal is not None and goal in self.goals)

    def covers(self, due: datetime) -> bool:
        """Whether an instant falls in the window."""
        return self.start <= due < self.end

    def deferred(self, due: datetime) -> datetime:
        """With after: defer, when a post due at `due` becomes due: at its local time of day, the first time the window is over."""
        tz = self.end.tzinfo
        at = due.astimezone(tz).timetz().replace(tzinfo=None)
        day = self.end.astimezone(tz).date()
        for offset in (0, 1, 2):  # (2: a time skipped by a daylight-saving change moves past the end)
            candidate = _local(day + timedelta(days=offset), at, tz)
            if candidate >= self.end:
                return candidate
        return self.end

    def span(self) -> str:
        """'2027-05-23 to 2027-06-06', as written."""
        return f"{self.first} to {self.last}"

    def what(self) -> str:
        """What it holds, for people: 'goal universalization, kind un-vote'."""
        if self.everything:
            return "every kind but condemnation"
        return ", ".join([*(f"goal {g}" for g in sorted(self.goals)), *(f"kind {k}" for k in sorted(self.kinds))])

    def by(self, kind: str, goal: str | None) -> str:
        """Which of what it holds holds this kind and goal: 'kind un-vote', 'goal universalization'."""
        if self.everything:
            return self.what()
        return f"kind {kind}" if kind in self.kinds else f"goal {goal}"

    def reason(self) -> str:
        """Why a post is held, as recorded with it and shown beside it."""
        return f"held by quiet window '{self.name}' ({self.span()})"


def held_by(event: Event, due: datetime, windows: Iterable[QuietWindow]) -> QuietWindow | None:
    """The window that holds a post of this event due at `due`, if any (windows never overlap: at most one)."""
    return window_for(event.kind, event.goal, due, windows)


def window_for(kind: str, goal: str | None, due: datetime, windows: Iterable[QuietWindow]) -> QuietWindow | None:
    """The window that holds a post of this kind and goal due at `due`, if any."""
    for w in windows:
        if w.start <= due < w.end and w.holds_kind(kind, goal):
            return w
    return None


def _local(day: date, at: time, tz: Any) -> datetime:
    from campaigner.recurrence import local_instant

    return local_instant(day, at, tz)


# ---------------------------------------------------------------- reading `quiet:`


def load_quiet(c: Checker, doc: MarkedDict, campaign: Campaign | None, events: Iterable[Event]) -> tuple[QuietWindow, ...]:
    """The `quiet:` windows, checked: names unique, ends after starts, no two overlapping; kinds and goals that no event has are warnings."""
    if "quiet" not in doc or campaign is None:
        return ()
    events = list(events)
    kinds = {e.kind for e in events}
    goals = {e.goal for e in events if e.goal}
    out: list[QuietWindow] = []
    seen: dict[str, int] = {}
    for i, m in c.mappings(doc, "quiet", "windows, each {name, from, to, hold, note, after}"):
        w = _window(c, m, i, campaign.tz, kinds, goals)
        if w is None:
            continue
        if w.name in seen:
            c.error(c.at_value(m, "name"), f"quiet[{i}].name: '{w.name}' is already the name of quiet[{seen[w.name]}]: give each window its own name")
            continue
        seen[w.name] = i
        for other in out:
            if w.start < other.end and other.start < w.end:
                c.error(m.mark, f"quiet window '{w.name}' ({w.span()}) overlaps '{other.name}' ({other.span()}, line {other.line}): "
                                "windows must not overlap; end one before the other starts, or merge them into one window")
                break
        else:
            out.append(w)
    return tuple(out)


def _window(c: Checker, m: MarkedDict, i: int, tz: ZoneInfo, kinds: set[str], goals: set[str]) -> QuietWindow | None:
    label = f"quiet[{i}]"
    name = c.string(m, "name", label)
    if name is not None and not name.strip():
        c.error(c.at_value(m, "name"), f"{label}.name: empty: name the window, e.g. name: commune-elections-2027")
        name = None
    if name:
        label = f"quiet window '{name}'"
    c.keys(m, QUIET_KEYS, label, required=("name", "from", "to"))
    start = _instant(c, m, "from", label, tz, end=False)
    end = _instant(c, m, "to", label, tz, end=True)
    after = c.string(m, "after", label, "skip")
    if after not in AFTER:
        c.error(c.at_value(m, "after"), f"{label}.after: '{after}' is not skip or defer{suggest(str(after), AFTER)} "
                                        "(skip: a held post is never sent; defer: it is sent when the window ends)")
        after = None
    note = c.string(m, "note", label)
    held = _hold(c, m, label, kinds, goals)
    if start is not None and end is not None and end[0] <= start[0]:
        c.error(c.at_value(m, "to"), f"{label}.to: {end[1]} is before its from: {start[1]}: a window ends on or after the day it starts")
        return None
    if name is None or start is None or end is None or after is None or held is None:
        return None
    return QuietWindow(name.strip(), start[0], end[0], start[1], end[1], held[0], held[1], after, note, c.path, m.mark[0])


def _instant(c: Checker, m: MarkedDict, key: str, label: str, tz: ZoneInfo, *, end: bool) -> tuple[datetime, str] | None:
    """from/to as a local instant and as written: a date is its whole day (to: up to its midnight), a
    date-time its minute (to: inclusive, so up to a minute after)."""
    if key not in m:
        return None
    v = m[key]
    parsed: date | datetime | None = v if isinstance(v, (date, datetime)) else None
    if isinstance(v, str):
        try:
            parsed = datetime.fromisoformat(v.strip()) if len(v.strip()) > 10 else date.fromisoformat(v.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        from campaigner.calendar.checker import describe

        c.error(c.at_value(m, key), f'{label}.{key}: expected a local date (2027-05-23) or date-time ("2027-05-23 08:00"), got {describe(v)}')
        return None
    if isinstance(parsed, datetime):
        local = parsed.astimezone(tz) if parsed.tzinfo else _local(parsed.date(), parsed.time(), tz)
        local = local.replace(second=0, microsecond=0)
        written = local.strftime("%Y-%m-%d %H:%M")
        return (local + timedelta(minutes=1) if end else local), written
    day = parsed + timedelta(days=1) if end else parsed
    return _local(day, time(0, 0), tz), parsed.isoformat()


def _hold(c: Checker, m: MarkedDict, label: str, kinds: set[str], goals: set[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    """hold: as (kinds, goals): a list of {kind: ...} / {goal: ...} entries, or one mapping; each value a name or a list."""
    from campaigner.calendar.yaml_reader import MarkedDict, MarkedList

    if "hold" not in m:
        return frozenset(), frozenset()
    value = m["hold"]
    example = "e.g. hold: [goal: universalization, kind: un-vote]"
    if isinstance(value, MarkedDict):
        entries: list[tuple[MarkedDict, str]] = [(value, f"{label}.hold")]
    elif isinstance(value, MarkedList):
        entries = []
        for j, item in enumerate(value):
            if isinstance(item, MarkedDict):
                entries.append((item, f"{label}.hold[{j}]"))
            else:
                from campaigner.calendar.checker import describe

                c.error(value.item_marks[j], f"{label}.hold[{j}]: expected kind: NAME or goal: NAME, got {describe(item)} ({example})")
    else:
        from campaigner.calendar.checker import describe

        c.error(c.at_value(m, "hold"), f"{label}.hold: expected a list of kind: and goal: entries, got {describe(value)} ({example})")
        return None
    held: dict[str, set[str]] = {"kind": set(), "goal": set()}
    for entry, where in entries:
        c.keys(entry, HOLD_KEYS, where)
        for key in HOLD_KEYS:
            names = c.string_list(entry, key, where) or ()
            known = kinds if key == "kind" else goals
            marks = getattr(entry[key], "item_marks", []) if key in entry else []
            for n, name in enumerate(names):
                if name not in known:
                    at = marks[n] if n < len(marks) else c.at_value(entry, key)
                    c.error(at, f"{where}.{key}: no event has {key} '{name}'{suggest(name, known)}: the window holds nothing by it", "warning")
                held[key].add(name)
    if not held["kind"] and not held["goal"]:
        if not entries or all(all(k not in HOLD_KEYS for k in e) for e, _ in entries):
            c.error(c.at_value(m, "hold"), f"{label}.hold: names no kind or goal: name what it holds ({example}), "
                                           "or leave hold: out to hold everything but condemnations")
        return None
    return frozenset(held["kind"]), frozenset(held["goal"])


# ---------------------------------------------------------------- what `validate` says about them


def held_events(calendar: Any) -> list[Any]:
    """A warning for each event whose posts fall in a window that holds them, at the event's line,
    so the editor sees it while writing the calendar rather than when the post is not sent."""
    from campaigner.errors import problem_at
    from campaigner.recurrence import occurrences

    tz = calendar.campaign.tz
    problems = []
    for w in calendar.quiet:
        first, last = w.start.astimezone(tz).date(), (w.end - timedelta(microseconds=1)).astimezone(tz).date()
        for event in calendar.events:
            if event.rejected or not w.holds(event):
                continue
            held = [o.due for o in occurrences(event, tz, first, last) if w.covers(o.due)]
            if not held:
                continue
            when = ", ".join(d.strftime("%Y-%m-%d %H:%M") for d in held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            fate = "recorded as skipped, never sent (after: skip)" if w.after == "skip" else "sent when the window ends (after: defer)"
            problems.append(problem_at(event.file, event.line, 1,
                f"event '{event.id}': its post(s) on {when} fall in quiet window '{w.name}' ({w.span()}), which holds {w.by(event.kind, event.goal)}: "
                f"they will be {fate}; move the event, or change the window, if that is not what you want", "warning"))
    return problems
