"""`campaigner reconcile`: ask the platforms about the posts whose outcome is unknown."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, JsonOpt, NowOpt, check_accounts, session


def reconcile(
    calendar: CalendarOpt = Path("calendar.yaml"),
    account: AccountOpt = None,
    as_json: JsonOpt = False,
    x_reads: Annotated[bool, typer.Option("--x-reads", help="Also read X accounts' posts back (X bills reads under pay-per-use pricing).")] = False,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Look up each unknown post on its platform: found is published, a safe retry is sent, the rest say what to check."""
    from campaigner.credentials import redact
    from campaigner.publish import Publisher
    from campaigner.runtime import Stop

    with session(calendar, db=db, now=now, write=True) as rt:
        accounts = check_accounts(rt.calendar, account)
        if not rt.ledger_exists():
            typer.echo("Nothing has been posted yet (no ledger): nothing to reconcile.")
            raise typer.Exit(0)
        with Stop() as stop:
            done = Publisher(rt.calendar, rt.ledger, rt.adapter, renderer=rt.renderer, stop=stop).reconcile(rt.now, accounts=accounts, paid_reads=x_reads)
    sent = done.run.results if done.run is not None else []
    if as_json:
        import json

        typer.echo(redact(json.dumps({"settled": [s.as_json() for s in done.settled], "sent": [r.as_json() for r in sent]},
                                     ensure_ascii=False, indent=2)))
        raise typer.Exit(done.exit_code)
    if not done.settled:
        typer.echo("No unknown posts.")
    for s in done.settled:
        if s.outcome == "published":
            typer.echo(f"published {s.id} {s.url} ({s.detail})")
        elif s.outcome == "retry":
            typer.echo(f"retrying {s.id}: {s.detail}")
        else:
            sys.stderr.write(redact(f"unknown {s.id}: {s.detail}\n  {s.command}") + "\n")
    for r in sent:
        if r.status == "published":
            typer.echo(f"published {r.id} {r.url}")
        else:
            sys.stderr.write(redact(f"{r.status} {r.id}: {r.error}") + "\n")
    raise typer.Exit(done.exit_code)
