"""`campaigner facts`: every fact, how old it is today, whether it is stale, and the posts that cite it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer

from campaigner.cli._options import CalendarOpt, JsonOpt, NowOpt, parse_day, session


def facts(
    calendar: CalendarOpt = Path("calendar.yaml"),
    days: Annotated[int, typer.Option("--days", min=1, help="Look for the posts that cite each fact this many days ahead of now.")] = 365,
    from_: Annotated[Optional[str], typer.Option("--from", help="First local date (YYYY-MM-DD) of the posts to look at, inclusive.", show_default=False)] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last local date (YYYY-MM-DD) of the posts to look at, inclusive.", show_default=False)] = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
) -> None:
    """List every fact with its value, as_of, source and age today, and the posts that cite it (default: the next 365 days)."""
    from campaigner.errors import ConfigError, Problem
    from campaigner.views.facts import usage
    from campaigner.render import expand

    with session(calendar, now=now) as rt:
        cal = rt.calendar
        today = rt.now.astimezone(cal.campaign.tz).date()
        start = parse_day(from_, "--from") if from_ else today
        try:
            end = parse_day(to, "--to") if to else start + timedelta(days=days - (1 if from_ else 0))
        except OverflowError:
            raise ConfigError([Problem("--days", 0, 0, f"{days} days from {start} is past the year 9999: give fewer days")]) from None
        if end < start:
            raise ConfigError([Problem("--to", 0, 0, f"{end} is before {start}: --to must not be earlier than --from")])
        posts = expand(cal, start, end, renderer=rt.renderer)
        rows = usage(cal, posts, today, rt.renderer.folder)
    if as_json:
        typer.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2, default=str))
        return
    _print(cal.campaign.name, rows, today, start, end)


def _print(name: str, rows: list, today, start, end) -> None:
    from campaigner.cli._table import Out

    out = Out()
    out.line(f"{name}: {len(rows)} fact(s) on {today}; posts from {start} to {end}", "bold")
    if not rows:
        out.line("No facts: add facts: to the calendar (see README: Facts).")
    for r in rows:
        out.line()
        out.line(f"{r.name}: {r.shown}", "bold")
        state = f"STALE since {r.fresh_until + timedelta(days=1)}" if r.stale_today else f"fresh until {r.fresh_until}"
        out.line(f"  as of {r.as_of}, {r.age} old today (max_age {r.max_age}): {state}", *(("red",) if r.stale_today else ()))
        out.line(f"  source: {r.source} (defined at {r.defined_at})")
        if r.posts:
            stale = sum(1 for p in r.posts if p.stale)
            out.line(f"  cited by {len(r.posts)} post(s)" + (f", stale in {stale}" if stale else "") + ":")
            for occurrence, where, is_stale in r.occurrences():
                out.line(f"    {occurrence} ({', '.join(where)})" + ("  stale" if is_stale else ""), *(("yellow",) if is_stale else ()))
        else:
            out.line(f"  cited by no post from {start} to {end}" + (f" (templates: {', '.join(r.templates)})" if r.templates else "; no template cites it"), "dim")
