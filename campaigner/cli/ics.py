"""`campaigner ics`: the campaign's days as an iCalendar file for the team's calendar apps."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, NowOpt, check_accounts, session
from campaigner.cli._window import DaysOpt, FromOpt, ToOpt, window


def ics(
    calendar: CalendarOpt = Path("calendar.yaml"),
    from_: FromOpt = None,
    to: ToOpt = None,
    days: DaysOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the .ics here instead of to standard output.", show_default=False)] = None,
    account: AccountOpt = None,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Write an iCalendar (.ics) file: one event per occurrence, from 30 days ago to a year ahead by default."""
    from campaigner.render import expand
    from campaigner.views.ics import feed

    with session(calendar, db=db, now=now) as rt:
        cal = rt.calendar
        accounts = check_accounts(cal, account)
        start, end = window(rt.now.astimezone(cal.campaign.tz).date(), from_=from_, to=to, days=days, default=(30, 365))
        posts = expand(cal, start, end, accounts=accounts, renderer=rt.renderer)
        records = rt.ledger.states(p.id for p in posts)
        data = feed(cal, posts, records, _revised(cal.sources, rt.calendar_path), start, end)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)
    typer.echo(f"Wrote {out}: {data.count(b'BEGIN:VEVENT')} event(s) from {start} to {end}.", err=True)


def _revised(sources: tuple[Path, ...], calendar_path: Path) -> datetime:
    """When the calendar's inputs (templates included) last changed: the feed's DTSTAMP, the same while nothing is edited."""
    templates = calendar_path.parent / "templates"
    files = [*sources, calendar_path, *(templates.rglob("*") if templates.is_dir() else ())]
    times = [p.stat().st_mtime for p in files if p.is_file()]
    return datetime.fromtimestamp(int(max(times)), timezone.utc)
