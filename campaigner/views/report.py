"""What the campaign did for each of its goals: the ledger joined with the calendar, for a period.

`build()` is pure: from the calendar, the posts it plans in the period, the ledger's records and
`now` it counts, per goal and per (platform, account), the posts published, missed, failed,
unknown, skipped and held, the briefings sent per contact group, and what is planned but not yet
due. The ledger decides what happened: a record whose event was renamed or removed from the
calendar still counts, under its ledger event id, in a group of its own. A post counts in the
period when it went out (published) or when it was due (everything else), so the published
counts agree with `campaigner history` over the same days.

The renderers (`markdown`, `csv_text`, `as_json`) are pure too; the terminal table is drawn by the
CLI with the house table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from campaigner.calendar import Calendar
from campaigner.ledger import PostRecord
from campaigner.render import Post
from campaigner.views.labels import platform_label
from campaigner.views.state import order, state_of

NO_GOAL = "(no goal)"
REMOVED = "(no longer in the calendar)"
PLANNED = "planned"  # due after now, nothing recorded yet
UNRECORDED = "unrecorded"  # due before now, nothing in the ledger: no run sent it or marked it missed
# The columns every report has, in this order; any other state met (claimed, draft, stale...) is added after them.
COLUMNS = ("published", "missed", "failed", "unknown", "skipped", "held", PLANNED, UNRECORDED)
SENT = "published"  # a briefing the mail server accepted is recorded as published


class Line(NamedTuple):
    """The counts of one (platform, account) under one goal."""

    platform: str
    account: str
    counts: dict[str, int]


class Published(NamedTuple):
    """One post that went out."""

    id: str
    event: str
    account: str
    platform: str
    language: str
    at: datetime  # when it went out, in the campaign's zone
    url: str | None


class Goal(NamedTuple):
    """Everything under one goal."""

    name: str
    lines: tuple[Line, ...]
    totals: dict[str, int]
    published: tuple[Published, ...]
    briefings: dict[str, dict[str, int]]  # contact group -> state -> count
    removed_events: tuple[str, ...]  # ledger event ids no longer in the calendar


class Report(NamedTuple):
    """A period's report."""

    campaign: str
    timezone: str
    start: date
    end: date
    now: datetime
    columns: tuple[str, ...]
    goals: tuple[Goal, ...]
    channels: dict[str, str]  # contact group -> the channel (platform) of its briefings


def build(calendar: Calendar, posts: Sequence[Post], records: Iterable[PostRecord], now: datetime, start: date, end: date,
          accounts: Iterable[str] | None = None) -> Report:
    """The report for local dates start..end: `posts` are the calendar's posts due then, `records` any
    ledger records; with `accounts`, only their posts (briefings, sent by no account, stay)."""
    from campaigner.brief import briefing_of

    tz = calendar.campaign.tz
    events = {e.id: e for e in calendar.events}
    planned = {p.id: p for p in posts}

    def in_period(moment: datetime | None) -> bool:
        return moment is not None and start <= moment.astimezone(tz).date() <= end

    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    published: dict[str, list[Published]] = {}
    briefings: dict[str, dict[str, dict[str, int]]] = {}
    removed: dict[str, set[str]] = {}
    channels: dict[str, str] = {}  # contact group -> the channel its briefings went by
    wanted = set(accounts) if accounts else None
    records = list(records)
    recorded = {r.id for r in records}

    def goal_of(event_id: str) -> str:
        event = events.get(event_id)
        if event is None:
            removed.setdefault(REMOVED, set()).add(event_id)
            return REMOVED
        return event.goal or NO_GOAL

    def count(goal: str, platform: str, account: str, state: str) -> None:
        bucket = counts.setdefault((goal, platform, account), {})
        bucket[state] = bucket.get(state, 0) + 1

    for r in records:
        if "#" in r.id:
            continue  # one part of a thread (publish.meta_for): the post's own row counts
        brief = briefing_of(r.id)
        when = r.published_at if r.state == SENT and r.published_at else r.due
        if not in_period(when) or (wanted is not None and brief is None and r.account not in wanted):
            continue
        goal = goal_of(brief[0] if brief else r.event)
        if brief is not None:
            group = briefings.setdefault(goal, {}).setdefault(brief[1], {})
            group[r.state] = group.get(r.state, 0) + 1
            channels[brief[1]] = r.platform
            continue
        post = planned.get(r.id)
        state = state_of(post, r, calendar.quiet).name if post is not None else r.state
        count(goal, r.platform, r.account, state)
        if state == SENT:
            at = (r.published_at or r.due).astimezone(tz)
            published.setdefault(goal, []).append(Published(r.id, r.event, r.account, r.platform, r.language, at, r.url))
    for p in posts:
        if p.id in recorded or not start <= p.date <= end or (wanted is not None and p.account not in wanted):
            continue  # the ledger's word counts, in the period it says
        state = state_of(p, None, calendar.quiet).name
        if state == "pending":
            state = PLANNED if p.due > now else UNRECORDED
        count(p.event.goal or NO_GOAL, p.platform, p.account, state)

    names = {name for name, _, _ in counts} | set(briefings)
    extra = set().union(*(c.keys() for c in counts.values())) - set(COLUMNS) if counts else set()
    columns = COLUMNS + tuple(order(extra))
    goals = []
    for name in _goal_order(calendar, names):
        lines = tuple(Line(platform, account, dict(c)) for (g, platform, account), c in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][2])) if g == name)
        totals = {col: sum(line.counts.get(col, 0) for line in lines) for col in columns}
        goals.append(Goal(name, lines, totals, tuple(sorted(published.get(name, []), key=lambda p: (p.at, p.id))),
                          {group: dict(states) for group, states in sorted(briefings.get(name, {}).items())},
                          tuple(sorted(removed.get(name, set())))))
    return Report(calendar.campaign.name, calendar.campaign.timezone, start, end, now.astimezone(tz), columns, tuple(goals), channels)


def _goal_order(calendar: Calendar, names: set[str]) -> list[str]:
    """The calendar's goals in the order it first names them, then no goal, then what it no longer holds."""
    ordered = list(dict.fromkeys(e.goal for e in calendar.events if e.goal))
    return [g for g in ordered if g in names] + sorted(names - set(ordered) - {NO_GOAL, REMOVED}) + [g for g in (NO_GOAL, REMOVED) if g in names]


# ---------------------------------------------------------------- renderings


def shown_columns(report: Report) -> tuple[str, ...]:
    """The columns a person needs: published always, the others where some count is not zero."""
    return tuple(c for c in report.columns if c == SENT or any(g.totals.get(c, 0) for g in report.goals))


def briefing_summary(groups: Mapping[str, Mapping[str, int]]) -> str:
    """'journalists: 12 sent, 1 failed' for each contact group."""
    parts = []
    for group, states in groups.items():
        said = [f"{n} {'sent' if state == SENT else state}" for state, n in sorted(states.items(), key=lambda kv: (kv[0] != SENT, kv[0]))]
        parts.append(f"{group}: {', '.join(said)}")
    return "; ".join(parts)


def markdown(report: Report) -> str:
    """What a coordinator pastes into a donor report: a heading per goal, a short table, the posts that went out."""
    report = report._replace(columns=shown_columns(report))
    out = [f"# {report.campaign}: what the campaign did, {_day(report.start)} to {_day(report.end)}", "",
           f"Counted from the campaign's ledger and calendar on {report.now:%Y-%m-%d %H:%M} ({report.timezone}). "
           "Published posts count on the day they went out, the others on the day they were due; "
           f"*{PLANNED}* is due later in the period; *{UNRECORDED}* was due but is not in the ledger.", ""]
    if not report.goals:
        out.append("Nothing was planned or posted in this period.")
    else:
        out += ["| Goal | " + " | ".join(c.capitalize() for c in report.columns) + " |", "|---|" + "---:|" * len(report.columns)]
        out += ["| " + _md(g.name) + " | " + " | ".join(str(g.totals.get(c, 0)) for c in report.columns) + " |" for g in report.goals]
    for g in report.goals:
        out += ["", f"## {_md(g.name)}", ""]
        if g.removed_events:
            out += [f"Events no longer in the calendar, counted from the ledger: {', '.join(f'`{e}`' for e in g.removed_events)}.", ""]
        if g.lines:
            out += ["| Account | Platform | " + " | ".join(c.capitalize() for c in report.columns) + " |", "|---|---|" + "---:|" * len(report.columns)]
            out += [f"| {_md(line.account)} | {platform_label(line.platform)} | " + " | ".join(str(line.counts.get(c, 0)) for c in report.columns) + " |"
                    for line in g.lines]
        if g.briefings:
            out += ["", f"Briefings: {briefing_summary(g.briefings)}."]
        if g.published:
            out += ["", "Published:", ""]
            for p in g.published:
                what = f"[{_md(p.event)}]({p.url})" if p.url else _md(p.event)
                out.append(f"- {p.at:%Y-%m-%d} {what} ({_md(p.account)}, {platform_label(p.platform)}, {p.language})")
    return "\n".join(out) + "\n"


def csv_text(report: Report) -> str:
    """One row per goal and (platform, account), and per goal and contact group for briefings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["goal", "platform", "account", *report.columns])
    for g in report.goals:
        for line in g.lines:
            writer.writerow([g.name, line.platform, line.account, *(line.counts.get(c, 0) for c in report.columns)])
        for group, states in g.briefings.items():
            writer.writerow([g.name, report.channels.get(group, ""), f"briefings: {group}", *(states.get(c, 0) for c in report.columns)])
    return buffer.getvalue()


def as_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON values."""
    return {
        "campaign": report.campaign, "timezone": report.timezone, "from": report.start.isoformat(), "to": report.end.isoformat(),
        "generated": report.now.isoformat(), "columns": list(report.columns),
        "goals": [{
            "goal": g.name, "in_calendar": g.name != REMOVED, "totals": g.totals,
            "accounts": [{"platform": line.platform, "account": line.account, "counts": {c: line.counts.get(c, 0) for c in report.columns}} for line in g.lines],
            "briefings": g.briefings,
            "published": [{"id": p.id, "event": p.event, "account": p.account, "platform": p.platform, "language": p.language,
                           "published_at": p.at.isoformat(), "url": p.url} for p in g.published],
            "events_no_longer_in_calendar": list(g.removed_events),
        } for g in report.goals],
    }


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _md(text: str) -> str:
    """Text safe in a markdown table cell or link label."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("[", "\\[").replace("]", "\\]").replace("*", "\\*").replace("_", "\\_")
