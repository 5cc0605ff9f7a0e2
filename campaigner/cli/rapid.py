"""`campaigner condemn`, `praise`, `approve`, `reject`, `brief` and `diff`: rapid response, reviewed."""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from campaigner.cli import _print
from campaigner.cli._options import CalendarOpt, DbOpt, JsonOpt, NowOpt, parse_day, session
from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.rapid import Written
    from campaigner.render import Post
    from campaigner.respond import Response
    from campaigner.runtime import Session

AtOpt = Annotated[Optional[str], typer.Option("--at", help="When it is due: an ISO date-time (local campaign time without an offset); default now.", show_default=False)]
DraftOpt = Annotated[bool, typer.Option("--draft", help="Write it as a draft: shown by plan, published only after 'campaigner approve ID'.")]
PostNowOpt = Annotated[bool, typer.Option("--post", help="Publish it at once through the same engine as 'campaigner post' (same ledger, at most once).")]
BriefOpt = Annotated[bool, typer.Option("--brief", help="Also email each contact of the groups given with --to (default: journalists), once, in their language (SMTP from CAMPAIGNER_SMTP_*).")]
ToOpt = Annotated[Optional[list[str]], typer.Option("--to", metavar="GROUP", help="A contact group to brief (repeatable; default: journalists), e.g. --to officials.", show_default=False)]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the event, its posts (and emails) without writing or sending anything.")]
ReviewerOpt = Annotated[Optional[str], typer.Option("--reviewer", help="Who approves it when its kind needs approval (default: your user name).", show_default=False)]
DespiteQuietOpt = Annotated[bool, typer.Option("--despite-quiet", help="With --post: publish even during a quiet window that holds this kind (see the calendar's quiet:).")]
ByNameOpt = Annotated[Optional[str], typer.Option("--by", help="Who decides (default: your user name).", show_default=False)]


def _who(name: str | None = None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers; the record still needs a name
        return "unknown user"


def _at(value: str | None, cal: Calendar, now: datetime) -> datetime:
    if not value:
        return now
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError([Problem("--at", 0, 0, f"'{value}' is not an ISO date-time; write e.g. 2026-12-03T09:00")]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=cal.campaign.tz)
    return parsed.astimezone(timezone.utc)


def condemn(
    report: Annotated[str, typer.Option("--report", help="The report's URL (it is the post's link and keys the event).", show_default=False)],
    source: Annotated[str, typer.Option("--source", help='Who reported it, e.g. "Human Rights Watch".', show_default=False)],
    weapon: Annotated[Optional[str], typer.Option("--weapon", help='What was used, as the report says: "landmines", "cluster munitions" or both (the shipped templates need it).', show_default=False)] = None,
    weapon_km: Annotated[Optional[str], typer.Option("--weapon-km", help="The weapon in Khmer, when the templates cannot name it.", show_default=False)] = None,
    where: Annotated[Optional[str], typer.Option("--where", help='Where, as the report says it, e.g. "in Kharkiv".', show_default=False)] = None,
    where_km: Annotated[Optional[str], typer.Option("--where-km", help="Where, in Khmer (without it the Khmer posts give --where as written).", show_default=False)] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="By whom, only as the report says it.", show_default=False)] = None,
    by_km: Annotated[Optional[str], typer.Option("--by-km", help="By whom, in Khmer (without it the Khmer posts give --by as written).", show_default=False)] = None,
    alleged: Annotated[bool, typer.Option("--alleged", help='The report is of alleged use: the posts say "alleged".')] = False,
    title: Annotated[Optional[str], typer.Option("--title", help="The report's title.", show_default=False)] = None,
    at: AtOpt = None,
    draft: DraftOpt = False,
    post_now: PostNowOpt = False,
    despite_quiet: DespiteQuietOpt = False,
    brief: BriefOpt = False,
    to: ToOpt = None,
    dry_run: DryRunOpt = False,
    reviewer: ReviewerOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Condemn a report of new use: one event in rapid.yaml, rendered for every account and language."""
    from campaigner import rapid

    import re

    if not re.fullmatch(r"https?://\S+", report.strip()):
        raise ConfigError([Problem("--report", 0, 0, f"{report!r} is not an http(s) URL (no spaces or line breaks); paste the report's link")])
    with session(calendar, db=db, now=now, write=not dry_run) as rt:
        due = _at(at, rt.calendar, rt.now)
        entry = rapid.condemnation_entry(rt.calendar, due, report=report, source=source, weapon=weapon, weapon_km=weapon_km, where=where, by=by, title=title,
                                           where_km=where_km, by_km=by_km, alleged=alleged)
        _respond(rt, rapid.review(entry, rt.calendar, draft=draft, who=_who(reviewer), now=rt.now), due,
                 post_now=post_now, brief=brief or bool(to), dry_run=dry_run, as_json=as_json, despite_quiet=despite_quiet,
                 groups=_groups(to))


def praise(
    country: Annotated[str, typer.Argument(help="The country that joined, in English.")],
    joined: Annotated[str, typer.Option("--joined", help="The date it joined (YYYY-MM-DD).", show_default=False)],
    treaty: Annotated[str, typer.Option("--treaty", help="ccm (Convention on Cluster Munitions) or mine-ban.")] = "ccm",
    party_number: Annotated[Optional[int], typer.Option("--as-party-number", min=1, help="It is the treaty's Nth State Party.", show_default=False)] = None,
    country_km: Annotated[Optional[str], typer.Option("--country-km", help="The country's name in Khmer.", show_default=False)] = None,
    at: AtOpt = None,
    draft: DraftOpt = False,
    post_now: PostNowOpt = False,
    despite_quiet: DespiteQuietOpt = False,
    brief: BriefOpt = False,
    to: ToOpt = None,
    dry_run: DryRunOpt = False,
    reviewer: ReviewerOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Praise a country for joining a treaty, the day we learn of it: one event in rapid.yaml."""
    from campaigner import rapid

    if treaty not in ("ccm", "mine-ban"):
        raise ConfigError([Problem("--treaty", 0, 0, f"'{treaty}' is not ccm or mine-ban")])
    joined_day = parse_day(joined, "--joined")
    with session(calendar, db=db, now=now, write=not dry_run) as rt:
        due = _at(at, rt.calendar, rt.now)
        entry = rapid.accession_entry(rt.calendar, due, country=country.strip(), joined=joined_day, treaty=treaty,
                                      party_number=party_number, country_km=country_km)
        _respond(rt, rapid.review(entry, rt.calendar, draft=draft, who=_who(reviewer), now=rt.now), due,
                 post_now=post_now, brief=brief or bool(to), dry_run=dry_run, as_json=as_json, despite_quiet=despite_quiet,
                 groups=_groups(to))


def _groups(to: list[str] | None) -> tuple[str, ...]:
    from campaigner.calendar import JOURNALISTS

    return tuple(g.strip() for item in to or [JOURNALISTS] for g in item.split(",") if g.strip()) or (JOURNALISTS,)


def _respond(rt: Session, entry: dict, due: datetime, *, post_now: bool, brief: bool, dry_run: bool, as_json: bool,
             despite_quiet: bool = False, groups: tuple[str, ...] = ()) -> None:
    from campaigner.respond import respond

    response = respond(rt, entry, due, post_now=post_now, brief=brief, dry_run=dry_run, despite_quiet=despite_quiet,
                       groups=groups or _groups(None))
    written = response.written
    assert written is not None
    if as_json:
        out: dict[str, Any] = {"event": written.event.id, "created": written.created, "draft": written.event.draft,
                               "file": str(written.event.file), "posts": [_post_json(p) for p in written.posts]}
        if response.published is not None:
            out["published"] = [r.as_json() for r in response.published.results]
        _briefs_json(response, out)
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        _say_written(written, dry_run, post_now)
        _print.posts(written.posts)
        if response.published is not None:
            _print.run_report(response.published, as_json=False, verbose=True)
        _print_briefs(response)
    _print.error_lines(response.notes)
    raise typer.Exit(response.exit_code)


def _briefs_json(response: Response, out: dict) -> None:
    if response.emails is not None:
        out["briefs"] = [{"id": e.id, "group": e.group, "to": e.contact.email, "language": e.language, "subject": e.subject, "body": e.body}
                         for e in response.emails]
    elif response.briefs is not None:
        out["briefs"] = [r.as_json() for r in response.briefs]


def _print_briefs(response: Response) -> None:
    for e in response.emails or []:
        typer.echo(f"--- would email {e.contact.name} <{e.contact.email}> ({e.group}, {e.language})")
        typer.echo(f"Subject: {e.subject}\n")
        typer.echo(e.body)
    for r in response.briefs or []:
        if r.status == "sent":
            typer.echo(f"emailed {r.to} ({r.group}, {r.language}) {r.message_id}")
        elif r.status == "already":
            typer.echo(f"already briefed {r.to} ({r.group})")
        else:
            _print.error_lines([f"{r.status} {r.id}: {r.error}"])


def _say_written(written: Written, dry_run: bool, post_now: bool) -> None:
    from campaigner import rapid
    from campaigner.errors import display_path

    e = written.event
    where = display_path(e.file)
    due = f"{e.date.isoformat()} {e.time.strftime('%H:%M')}"
    if dry_run and written.created:
        typer.echo(f"dry run: would add {e.id} to {where} (due {due}{', draft' if e.draft else ''}); nothing was written")
    elif not written.created:
        if e.rejected:
            state = f"rejected by {e.rejected_by}; 'campaigner approve {e.id}' overrides the rejection"
        elif e.draft and e.file.name == rapid.RAPID_FILE:
            state = f"a draft: approve it with 'campaigner approve {e.id}'"
        elif e.draft:
            state = f"a draft in {e.file.name}: set draft: false there (or add approved_by) to publish it"
        else:
            state = f"due {due}"
        typer.echo(f"{e.id} already exists in {where} ({state}); nothing added")
    elif e.draft:
        typer.echo(f"added {e.id} to {where} as a draft: review it, then 'campaigner approve {e.id}' (or 'campaigner reject {e.id}')")
    else:
        who = f", approved by {e.approved_by}" if e.approved_by else ""
        when = "publishing it now" if post_now else "the next 'campaigner post' publishes it"
        typer.echo(f"added {e.id} to {where} (due {due}{who}); {when}")


def _post_json(p: Post) -> dict:
    return {"id": p.id, "account": p.account, "platform": p.platform, "language": p.language, "due": p.due.isoformat(),
            "text": p.text, "length": p.length, "limit": p.limit, "fits": p.fits, "draft": p.draft}


def brief(
    event_id: Annotated[str, typer.Argument(help="The event to brief contacts about, e.g. condemn-2026-11-30-hrw-3f2a1c.")],
    to: ToOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the emails instead of sending them.")] = False,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Email each contact of a group (--to, default journalists) the event's letter in their language, once (e.g. after approving a draft)."""
    from campaigner.rapid import event_posts
    from campaigner.respond import briefing

    with session(calendar, db=db, now=now, write=not dry_run) as rt:
        event = rt.calendar.require(event_id)
        response = briefing(rt, event, event_posts(rt.calendar, event, renderer=rt.renderer), groups=_groups(to), dry_run=dry_run)
    if as_json:
        out: dict[str, Any] = {"event": event.id}
        _briefs_json(response, out)
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _print_briefs(response)
    _print.error_lines(response.notes)
    raise typer.Exit(response.exit_code)


def approve(
    event_id: Annotated[str, typer.Argument(help="The rapid.yaml event to approve.")],
    by: ByNameOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Approve a draft in rapid.yaml: record who and when; if its time has passed it becomes due now."""
    from campaigner import respond

    with session(calendar, db=db, now=now) as rt:
        written = respond.approve(rt, event_id, who=_who(by))
        held = respond.quiet_note(rt.calendar, written.posts)
    for change in written.changes:
        typer.echo(f"{event_id}: {change}")
    if written.created:
        e = written.event
        typer.echo(f"approved {e.id} (by {e.approved_by}); due {e.date.isoformat()} {e.time.strftime('%H:%M')}: "
                   + (held or "the next 'campaigner post' publishes it"))
        _print.posts(written.posts)


def reject(
    event_id: Annotated[str, typer.Argument(help="The rapid.yaml event to reject.")],
    by: ByNameOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Reject an event in rapid.yaml: it stays there, marked rejected, and is never published."""
    from campaigner import rapid, respond

    with session(calendar, db=db, now=now) as rt:
        written, out = respond.reject(rt, event_id, who=_who(by))
    for change in written.changes:
        typer.echo(f"{event_id}: {change}")
    if written.created and out:
        typer.echo(f"rejected {event_id}: the rejection is recorded in {rapid.RAPID_FILE}, and its posts not yet out will not be published;"
                   " campaigner cannot unpublish what is already out:")
    elif written.created:
        typer.echo(f"rejected {event_id}: it stays in {rapid.RAPID_FILE}, marked rejected, and will not be published")
    _print.error_lines(f"already published before the rejection: {r.id} {r.url} (delete it on the platform by hand if it must go)" for r in out)


def diff(
    base_ref: Annotated[str, typer.Argument(help="The git revision to compare with, e.g. origin/main.")],
    days: Annotated[int, typer.Option("--days", min=1, help="How many days ahead of now to compare.")] = 365,
    from_: Annotated[Optional[str], typer.Option("--from", help="First local date (YYYY-MM-DD), inclusive.", show_default=False)] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last local date (YYYY-MM-DD), inclusive.", show_default=False)] = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the posts this calendar adds, removes or changes compared with a git revision; exit 1 when any differ."""
    from campaigner.diff import diff as run_diff

    with session(calendar, now=now) as rt:
        cal = rt.calendar
        start = parse_day(from_, "--from") if from_ else rt.now.astimezone(cal.campaign.tz).date()
        end = parse_day(to, "--to") if to else start + timedelta(days=days)
        if end < start:
            raise ConfigError([Problem("--to", 0, 0, f"{end} is before the first date {start}")])
        report = run_diff(rt.calendar_path, cal, base_ref, start, end, renderer=rt.renderer)
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        raise typer.Exit(1 if report.differs else 0)
    _print_diff(report, cal)
    raise typer.Exit(1 if report.differs else 0)


def _print_diff(report: Any, cal: Calendar) -> None:
    tz = cal.campaign.tz

    def when(p: Post) -> str:
        return p.due.astimezone(tz).strftime("%Y-%m-%d %H:%M") + ("  (draft)" if p.draft else "")

    def block(prefix: str, text: str) -> list[str]:
        return [f"    {prefix} {line}" if line else f"    {prefix}" for line in text.splitlines()]

    lines = []
    for p in report.added:
        lines += [f"+ {p.id}  {when(p)}  {p.length}/{p.limit}", *block("+", p.text)]
    for p in report.removed:
        lines += [f"- {p.id}  {when(p)}", *block("-", p.text)]
    for old, new in report.changed:
        lines.append(f"~ {new.id}  {when(new)}  {new.length}/{new.limit}")
        if old.due != new.due or old.draft != new.draft:
            lines.append(f"    was due {when(old)}")
        if old.text != new.text:
            lines += ["    old:", *block("-", old.text), "    new:", *block("+", new.text)]
    summary = (f"{len(report.added)} added, {len(report.removed)} removed, {len(report.changed)} changed "
               f"compared with {report.base} ({report.start} to {report.end})")
    typer.echo("\n".join(lines + [summary]) if report.differs else f"no post changes compared with {report.base} ({report.start} to {report.end})")
