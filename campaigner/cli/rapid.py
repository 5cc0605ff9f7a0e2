"""`campaigner condemn`, `praise`, `approve`, `reject`, `brief` and `diff`: rapid response, reviewed."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from campaigner.cli._options import CalendarOpt, DbOpt, JsonOpt, NowOpt, ledger_url, load, parse_day, resolve_now
from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:
    from campaigner.calendar import Calendar, Event
    from campaigner.rapid import Written
    from campaigner.render import Post

AtOpt = Annotated[Optional[str], typer.Option("--at", help="When it is due: an ISO date-time (local campaign time without an offset); default now.", show_default=False)]
DraftOpt = Annotated[bool, typer.Option("--draft", help="Write it as a draft: shown by plan, published only after 'campaigner approve ID'.")]
PostNowOpt = Annotated[bool, typer.Option("--post", help="Publish it at once through the same engine as 'campaigner post' (same ledger, at most once).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the event, its posts (and emails) without writing or sending anything.")]
ReviewerOpt = Annotated[Optional[str], typer.Option("--reviewer", help="Who approves it when its kind needs approval (default: your user name).", show_default=False)]
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
    weapon: Annotated[Optional[str], typer.Option("--weapon", help='What was used (default in the templates: "cluster munitions").', show_default=False)] = None,
    weapon_km: Annotated[Optional[str], typer.Option("--weapon-km", help="The weapon in Khmer, when the templates cannot name it.", show_default=False)] = None,
    where: Annotated[Optional[str], typer.Option("--where", help='Where, as the report says it, e.g. "in Kharkiv".', show_default=False)] = None,
    by: Annotated[Optional[str], typer.Option("--by", help="By whom, only as the report says it.", show_default=False)] = None,
    title: Annotated[Optional[str], typer.Option("--title", help="The report's title.", show_default=False)] = None,
    at: AtOpt = None,
    draft: DraftOpt = False,
    post_now: PostNowOpt = False,
    brief: Annotated[bool, typer.Option("--brief", help="Also email each journalist in the calendar, once, in their language (SMTP from CAMPAIGNER_SMTP_*).")] = False,
    dry_run: DryRunOpt = False,
    reviewer: ReviewerOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Condemn a report of new use: one event in rapid.yaml, rendered for every account and language."""
    from campaigner import rapid

    if not report.strip().startswith(("http://", "https://")):
        raise ConfigError([Problem("--report", 0, 0, f"'{report}' is not an http(s) URL; paste the report's link")])
    cal = load(calendar)
    moment = resolve_now(now, cal)
    due = _at(at, cal, moment)
    entry = rapid.condemnation_entry(cal, due, report=report, source=source, weapon=weapon, weapon_km=weapon_km, where=where, by=by, title=title)
    _rapid_command(cal, calendar, rapid.review(entry, cal, draft=draft, who=_who(reviewer), now=moment), moment, due,
                   post_now=post_now, brief=brief, dry_run=dry_run, db=db, as_json=as_json)


def praise(
    country: Annotated[str, typer.Argument(help="The country that joined, in English.")],
    joined: Annotated[str, typer.Option("--joined", help="The date it joined (YYYY-MM-DD).", show_default=False)],
    treaty: Annotated[str, typer.Option("--treaty", help="ccm (Convention on Cluster Munitions) or mine-ban.")] = "ccm",
    party_number: Annotated[Optional[int], typer.Option("--as-party-number", min=1, help="It is the treaty's Nth State Party.", show_default=False)] = None,
    country_km: Annotated[Optional[str], typer.Option("--country-km", help="The country's name in Khmer.", show_default=False)] = None,
    at: AtOpt = None,
    draft: DraftOpt = False,
    post_now: PostNowOpt = False,
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
    cal = load(calendar)
    moment = resolve_now(now, cal)
    due = _at(at, cal, moment)
    entry = rapid.accession_entry(cal, due, country=country.strip(), joined=parse_day(joined, "--joined"), treaty=treaty,
                                  party_number=party_number, country_km=country_km)
    _rapid_command(cal, calendar, rapid.review(entry, cal, draft=draft, who=_who(reviewer), now=moment), moment, due,
                   post_now=post_now, brief=False, dry_run=dry_run, db=db, as_json=as_json)


def _rapid_command(cal: Calendar, calendar: Path, entry: dict, moment: datetime, due: datetime, *, post_now: bool, brief: bool,
                   dry_run: bool, db: str | None, as_json: bool) -> None:
    from campaigner import rapid
    from campaigner.publish import credentials_problems

    if post_now and entry.get("draft"):
        raise ConfigError("--post and --draft contradict each other: a draft is never published")
    if post_now and due > moment:
        raise ConfigError("--post publishes now, but --at is in the future: leave out --post and the 'campaigner post' run after that time sends it")
    if brief and entry.get("draft"):
        raise ConfigError("--brief and --draft contradict each other: journalists get the statement once it is approved ('campaigner brief ID')")
    settings = None
    if not dry_run:
        # Check what sending needs before writing, so a missing credential does not leave a half-done command.
        if post_now and (problems := credentials_problems(cal, cal.accounts)):
            raise ConfigError(problems)
        if brief:
            from campaigner.brief import SMTPSettings

            settings = SMTPSettings.from_env(cal)
    written = rapid.add_event(calendar, entry, dry_run=dry_run)
    out: dict[str, Any] = {"event": written.event.id, "created": written.created, "draft": written.event.draft,
                           "file": str(written.event.file), "posts": [_post_json(p) for p in written.posts]}
    exit_code = 0
    if not as_json:
        _say_written(written, dry_run)
        _print_posts(written.posts)
    live = written.calendar or cal
    if post_now and not dry_run:
        exit_code = max(exit_code, _publish(live, calendar, written, moment, db, as_json, out))
    if brief:
        exit_code = max(exit_code, _brief(live, calendar, written.event, written.posts, moment, db, dry_run, as_json, out, settings))
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    raise typer.Exit(exit_code)


def _say_written(written: Written, dry_run: bool) -> None:
    from campaigner.errors import display_path

    e = written.event
    where = display_path(e.file)
    due = f"{e.date.isoformat()} {e.time.strftime('%H:%M')}"
    if dry_run and written.created:
        typer.echo(f"dry run: would add {e.id} to {where} (due {due}{', draft' if e.draft else ''}); nothing was written")
    elif not written.created:
        state = "a draft: approve it with 'campaigner approve " + e.id + "'" if e.draft else f"due {due}"
        typer.echo(f"{e.id} already exists in {where} ({state}); nothing added")
    elif e.draft:
        typer.echo(f"added {e.id} to {where} as a draft: review it, then 'campaigner approve {e.id}' (or 'campaigner reject {e.id}')")
    else:
        who = f", approved by {e.approved_by}" if e.approved_by else ""
        typer.echo(f"added {e.id} to {where} (due {due}{who}); the next 'campaigner post' publishes it")


def _print_posts(posts: list[Post]) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    for p in posts:
        # Text(): report titles come from outside and may contain [markup] that rich must not interpret.
        console.rule(Text(f"{p.id}  {p.length}/{p.limit}" + ("" if p.fits else "  TOO LONG") + (f"  {len(p.parts)} parts" if len(p.parts) > 1 else "")))
        console.print(Text(p.text))


def _post_json(p: Post) -> dict:
    return {"id": p.id, "account": p.account, "platform": p.platform, "language": p.language, "due": p.due.isoformat(),
            "text": p.text, "length": p.length, "limit": p.limit, "fits": p.fits, "draft": p.draft}


def _publish(cal: Calendar, calendar: Path, written: Written, moment: datetime, db: str | None, as_json: bool, out: dict) -> int:
    from campaigner import runtime
    from campaigner.cli.post import print_report
    from campaigner.ledger import open_ledger
    from campaigner.publish import Publisher

    if written.event.draft:
        sys.stderr.write(f"{written.event.id} is a draft: not published; 'campaigner approve {written.event.id}' first\n")
        return 0
    ledger = open_ledger(ledger_url(calendar, db))
    try:
        report = Publisher(cal, ledger, runtime.adapter_factory(cal)).run(moment, posts=written.posts)
    finally:
        ledger.close()
    out["published"] = [r.as_json() for r in report.results]
    if not as_json:
        print_report(report, as_json=False, verbose=True)
    return report.exit_code


def _brief(cal: Calendar, calendar: Path, event: Event, posts: list[Post], moment: datetime, db: str | None, dry_run: bool,
           as_json: bool, out: dict, settings: Any = None) -> int:
    from campaigner import brief as briefing
    from campaigner.credentials import redact
    from campaigner.ledger import open_ledger

    if not cal.journalists:
        sys.stderr.write("no journalists: in the calendar: nobody to brief\n")
        return 0
    if event.draft and not dry_run:
        sys.stderr.write(f"{event.id} is a draft: journalists are briefed once it is approved ('campaigner brief {event.id}')\n")
        return 0
    if dry_run:
        import os

        emails = briefing.compose(cal, event, posts, moment, sender=os.environ.get("CAMPAIGNER_SMTP_FROM", ""))
        out["briefs"] = [{"id": e.id, "to": e.journalist.email, "language": e.language, "subject": e.subject, "body": e.body} for e in emails]
        if not as_json:
            for e in emails:
                typer.echo(f"--- would email {e.journalist.name} <{e.journalist.email}> ({e.language})")
                typer.echo(f"Subject: {e.subject}\n")
                typer.echo(e.body)
        return 0
    settings = settings or briefing.SMTPSettings.from_env(cal)
    emails = briefing.compose(cal, event, posts, moment, sender=settings.sender)
    ledger = open_ledger(ledger_url(calendar, db))
    try:
        results = briefing.send(ledger, emails, settings, moment)
    finally:
        ledger.close()
    out["briefs"] = [r.as_json() for r in results]
    if not as_json:
        for r in results:
            if r.status == "sent":
                typer.echo(f"emailed {r.to} ({r.language}) {r.message_id}")
            elif r.status == "already":
                typer.echo(f"already briefed {r.to}")
            else:
                sys.stderr.write(redact(f"{r.status} {r.id}: {r.error}") + "\n")
    return 1 if any(r.status in ("failed", "unknown") for r in results) else 0


def brief(
    event_id: Annotated[str, typer.Argument(help="The event to brief journalists about, e.g. condemn-2026-11-30-hrw-3f2a1c.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the emails instead of sending them.")] = False,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Email each journalist the event's report link and statement in their language, once (e.g. after approving a draft)."""
    from campaigner.rapid import event_posts

    cal = load(calendar)
    moment = resolve_now(now, cal)
    event = cal.require(event_id)
    out: dict[str, Any] = {"event": event.id}
    code = _brief(cal, calendar, event, event_posts(cal, event), moment, db, dry_run, as_json, out)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    raise typer.Exit(code)


def approve(
    event_id: Annotated[str, typer.Argument(help="The rapid.yaml event to approve.")],
    by: ByNameOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
) -> None:
    """Approve a draft in rapid.yaml: record who and when; if its time has passed it becomes due now."""
    from campaigner import rapid

    cal = load(calendar)
    moment = resolve_now(now, cal)
    written = rapid.approve(calendar, event_id, who=_who(by), now=moment)
    for change in written.changes:
        typer.echo(f"{event_id}: {change}")
    if written.created:
        e = written.event
        typer.echo(f"approved {e.id} (by {e.approved_by}); due {e.date.isoformat()} {e.time.strftime('%H:%M')}: the next 'campaigner post' publishes it")
        _print_posts(written.posts)


def reject(
    event_id: Annotated[str, typer.Argument(help="The rapid.yaml event to reject.")],
    by: ByNameOpt = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Reject an event in rapid.yaml: it stays there, marked rejected, and is never published."""
    from campaigner import rapid
    from campaigner.ledger import open_ledger

    cal = load(calendar)
    moment = resolve_now(now, cal)
    written = rapid.reject(calendar, event_id, who=_who(by), now=moment)
    for change in written.changes:
        typer.echo(f"{event_id}: {change}")
    if written.created:
        typer.echo(f"rejected {event_id}: it stays in {rapid.RAPID_FILE} as a draft and will not be published")
    ledger = open_ledger(ledger_url(calendar, db), readonly=True)
    if ledger is not None:
        out = [r for r in ledger.states(p.id for p in written.posts).values() if r.state == "published"]
        ledger.close()
        for r in out:
            sys.stderr.write(f"already published before the rejection: {r.id} {r.url} (delete it on the platform by hand)\n")


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

    cal = load(calendar)
    moment = resolve_now(now, cal)
    start = parse_day(from_, "--from") if from_ else moment.astimezone(cal.campaign.tz).date()
    end = parse_day(to, "--to") if to else start + timedelta(days=days)
    if end < start:
        raise ConfigError([Problem("--to", 0, 0, f"{end} is before the first date {start}")])
    report = run_diff(calendar, cal, base_ref, start, end)
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
