"""`campaigner watch`: check the monitors' feeds and draft a condemnation for each new matching item."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from campaigner.cli._options import CalendarOpt, DbOpt, JsonOpt, NowOpt, VerboseOpt, session


def watch(
    calendar: CalendarOpt = Path("calendar.yaml"),
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each feed before giving up on it.")] = 20.0,
    max_age: Annotated[int, typer.Option("--max-age", min=1, help="Items dated more than this many days ago are old news: remembered, not drafted.")] = 30,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    db: DbOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch every feed in the calendar; each new item matching a keyword becomes one draft in rapid.yaml. Silent when nothing is new; meant for cron."""
    from campaigner.credentials import redact
    from campaigner.watch import watch as run_watch

    with session(calendar, db=db, now=now, write=True) as rt:
        if not rt.calendar.feeds:
            if verbose or as_json:
                typer.echo("[]" if as_json else "no feeds: in the calendar; add {name, url, keywords} entries to watch")
            raise typer.Exit(0)
        results = run_watch(rt.calendar_path, rt.calendar, rt.ledger, rt.now, timeout=timeout, max_age=timedelta(days=max_age), load=rt.reload)
    failed = any(r.status == "failed" or r.problems for r in results)
    if as_json:
        typer.echo(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2))
        raise typer.Exit(1 if failed else 0)
    for r in results:
        for event_id, item in r.drafted:
            typer.echo(f"drafted {event_id}: {item.title} ({item.link}) — review with 'campaigner plan', then 'campaigner approve {event_id}'")
        if r.status == "failed":
            sys.stderr.write(redact(f"feed {r.feed}: {r.error}") + "\n")
        for problem in r.problems:
            sys.stderr.write(redact(f"feed {r.feed}: {problem}") + "\n")
        if verbose:
            state = "not modified" if r.status == "not-modified" else r.status
            typer.echo(f"{r.feed}: {state}; {r.items} item(s), {r.matched} matched, {len(r.drafted)} new, {r.known} seen before")
    raise typer.Exit(1 if failed else 0)
