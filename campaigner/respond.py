"""Rapid response, the use case: condemn or praise in one step, checked before written, then
(optionally) published through the engine and briefed to contact groups (journalists, officials...).

`rapid.py` keeps rapid.yaml (entries, the lock, byte-exact edits); this module decides, for one
`condemn` or `praise`, what may be written, published and sent, in that order, so that a refusal
leaves nothing half done. The CLI only parses options and prints a `Response`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from campaigner import rapid
from campaigner.calendar import JOURNALISTS
from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:
    from campaigner.brief import Briefing, BriefResult
    from campaigner.calendar import Event
    from campaigner.publish import RunReport
    from campaigner.rapid import Written
    from campaigner.render import Post
    from campaigner.runtime import Session


@dataclass
class Response:
    """What one condemn/praise (or brief) did: the event written, what was published and briefed."""

    written: Written | None = None
    published: RunReport | None = None
    briefs: list[BriefResult] | None = None
    emails: list[Briefing] | None = None  # a dry run's briefings, composed and not sent
    notes: list[str] = field(default_factory=list)  # said on stderr: why something was not done
    refused: bool = False  # something asked for could not be done: exit 1

    @property
    def exit_code(self) -> int:
        """0 when everything asked for was done; 1 when a post or briefing failed or was refused."""
        codes = [self.published.exit_code if self.published else 0]
        if self.briefs and any(b.status in ("failed", "unknown") for b in self.briefs):
            codes.append(1)
        return max(codes + [1 if self.refused else 0])


def respond(rt: Session, entry: dict[str, Any], due: datetime, *, post_now: bool, brief: bool, dry_run: bool,
            despite_quiet: bool = False, groups: tuple[str, ...] = (JOURNALISTS,)) -> Response:
    """Write one condemnation or accession event to rapid.yaml (unless it exists), then publish and brief
    the contact `groups` as asked.

    During a quiet window that holds its kind or goal, `--post` is refused unless `despite_quiet`
    (a person decided it cannot wait); without `--post` the event is written and `post` holds it."""
    from campaigner import accounts
    from campaigner.schedule import held_at

    if post_now and entry.get("draft"):
        raise ConfigError("--post and --draft contradict each other: a draft is never published")
    if post_now and due > rt.now:
        raise ConfigError("--post publishes now, but --at is in the future: leave out --post and the 'campaigner post' run after that time sends it")
    if brief and entry.get("draft"):
        raise ConfigError("--brief and --draft contradict each other: contacts get the statement once it is approved ('campaigner brief ID')")
    window = held_at(str(entry.get("kind")), entry.get("goal"), due, rt.calendar.quiet)
    if window is not None and post_now and not despite_quiet:
        fate = "skipped, never sent" if window.after == "skip" else "sent when the window ends"
        raise ConfigError(f"--post: quiet window '{window.name}' ({window.span()}) holds {entry.get('kind')} posts, by {window.by(str(entry.get('kind')), entry.get('goal'))}"
                          + (f" ({window.note})" if window.note else "")
                          + f": nothing was written or sent; leave out --post and 'campaigner post' holds it ({fate}), "
                            "or give --despite-quiet to publish it now anyway")
    if brief:
        known_groups(rt, groups)
    settings = None
    if not dry_run:
        # What sending needs is checked before writing, so that a missing credential leaves nothing half done.
        if post_now and (problems := accounts.credential_problems(rt.calendar, rt.calendar.accounts)):
            raise ConfigError(list(problems.values()))
        if brief:
            from campaigner.adapters.email import SMTPSettings

            settings = SMTPSettings.from_env(rt.calendar.root)
    written = rapid.add_event(rt.calendar_path, entry, dry_run=dry_run, load=rt.reload)
    response = Response(written=written)
    if window is not None and not post_now:
        fate = "record it as skipped, never sent" if window.after == "skip" else "send it when the window ends"
        response.notes.append(f"{written.event.id} falls in quiet window '{window.name}' ({window.span()}): 'campaigner post' will {fate}")
    elif window is not None and not dry_run:
        response.notes.append(f"{written.event.id}: published despite quiet window '{window.name}' ({window.span()}), as --despite-quiet asked")
    if post_now and not dry_run:
        if written.event.draft:
            response.notes.append(f"{written.event.id} is a draft: not published; 'campaigner approve {written.event.id}' first")
        else:
            response.published = publish(rt, written.posts, despite_quiet=despite_quiet)
    if brief:
        briefing(rt, written.event, written.posts, groups=groups, dry_run=dry_run, response=response, settings=settings)
    return response


def publish(rt: Session, posts: list[Post], *, despite_quiet: bool = False) -> RunReport:
    """Publish these posts now, through the same engine and ledger as `campaigner post` (past any quiet window with `despite_quiet`)."""
    from campaigner.publish import Publisher
    from campaigner.runtime import Stop

    with Stop() as stop:
        return Publisher(rt.calendar, rt.ledger, rt.adapter, renderer=rt.renderer, stop=stop).run(
            rt.now, posts=posts, quiet=() if despite_quiet else None)


def known_groups(rt: Session, groups: tuple[str, ...]) -> None:
    """Every group asked for is in the calendar (the journalists may be absent: then nobody is briefed, and it is said)."""
    cal = rt.calendar
    unknown = [g for g in groups if g not in cal.contacts and g != JOURNALISTS]
    if unknown:
        have = ", ".join(sorted(cal.contacts)) or "none"
        raise ConfigError([Problem("--to", 0, 0, f"no contact group '{g}' in the calendar (its groups: {have}); add it under contacts:")
                           for g in unknown])


def briefing(rt: Session, event: Event, posts: list[Post], *, groups: tuple[str, ...] = (JOURNALISTS,), dry_run: bool,
             response: Response | None = None, settings: Any = None) -> Response:
    """Brief each contact of each group about an event once (or, in a dry run, compose the emails and send nothing)."""
    from campaigner import brief as briefs

    response = response or Response()
    known_groups(rt, groups)
    groups = tuple(dict.fromkeys(groups))
    present = [g for g in groups if rt.calendar.contacts.get(g)]
    for g in groups:
        if g not in present:
            response.notes.append(f"no {g} in the calendar (contacts: {{{g}: ...}}): nobody to brief")
    if not present:
        return response
    if event.draft:
        response.notes.append(f"{event.id} is a draft: contacts are briefed once it is approved ('campaigner brief {event.id}')")
        response.refused = not dry_run
        if not dry_run:
            return response
    emails = [b for g in present for b in briefs.compose(rt.calendar, event, posts, rt.now, group=g, renderer=rt.renderer)]
    if dry_run:
        response.emails = emails
        return response
    settings = settings or briefs.SMTPSettings.from_env(rt.calendar.root)
    response.briefs = briefs.send(rt.calendar, rt.ledger, emails, settings, rt.now)
    return response


def published_posts(rt: Session, event: Event) -> list[Any]:
    """The ledger records of an event's posts that are already out."""
    if not rt.ledger_exists():
        return []
    ids = [p.id for p in rapid.event_posts(rt.calendar, event, renderer=rt.renderer)]
    return [r for r in rt.ledger.states(ids).values() if r.state == "published"]


def approve(rt: Session, event_id: str, *, who: str) -> Written:
    """Approve a rapid.yaml event; an event with posts already out keeps its date (and so its post ids)."""
    event = rt.calendar.require(event_id)
    return rapid.approve(rt.calendar_path, event_id, who=who, now=rt.now, published=bool(published_posts(rt, event)), load=rt.reload)


def quiet_note(calendar: Any, posts: list[Post]) -> str | None:
    """What a quiet window will do with these posts (an event just approved), or None when none holds them."""
    from campaigner.schedule import fate

    for p in posts:
        f = fate(p, calendar.quiet)
        if f.first is not None:
            then = "record them as skipped, never sent" if not f.sent else f"send them when it ends ({f.at.astimezone(calendar.campaign.tz):%Y-%m-%d %H:%M})"
            return f"they fall in quiet window '{f.first.name}' ({f.first.span()}): 'campaigner post' will {then}"
    return None


def reject(rt: Session, event_id: str, *, who: str) -> tuple[Written, list[Any]]:
    """Reject a rapid.yaml event; also the records of its posts that were already out (which it cannot take back)."""
    out = published_posts(rt, rt.calendar.require(event_id))
    return rapid.reject(rt.calendar_path, event_id, who=who, now=rt.now, published=bool(out), load=rt.reload), out
