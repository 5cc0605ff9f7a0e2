"""`campaigner post` (publish what is due, at most once) and `campaigner resolve` (settle a post by hand)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Optional

import typer

from campaigner.cli import _print
from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, JsonOpt, NowOpt, VerboseOpt, check_accounts, session


def post(
    calendar: CalendarOpt = Path("calendar.yaml"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent now, in full, and what would be missed; send nothing, write nothing.")] = False,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    db: DbOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Publish every post that is due and still within its grace; meant to run from cron every few minutes."""
    from campaigner.publish import Publisher, dry_run as rehearse, preflight
    from campaigner.runtime import Stop

    with session(calendar, db=db, now=now, write=not dry_run) as rt:
        accounts = check_accounts(rt.calendar, account)
        if dry_run:
            ledger = rt.ledger  # read-only: an empty view when there is no ledger yet
            report = rehearse(rt.calendar, ledger, rt.now, lambda name: rt.adapter(name, credentials=False), accounts=accounts, renderer=rt.renderer)
            _print.dry_run(report, as_json, verbose)
            raise typer.Exit(0)
        if not rt.ledger_exists():
            # The first run checks everything before creating the ledger: a configuration error leaves no file.
            preflight(rt.calendar, None, rt.now, accounts=accounts, renderer=rt.renderer)
        with Stop() as stop:
            report = Publisher(rt.calendar, rt.ledger, rt.adapter, renderer=rt.renderer, stop=stop).run(rt.now, accounts=accounts)
    _print.run_report(report, as_json, verbose)
    raise typer.Exit(report.exit_code)


def resolve(
    post_id: Annotated[str, typer.Argument(help="The post id, e.g. ccm-entry-into-force/2026-08-01/ccbl_x/en.")],
    published: Annotated[Optional[str], typer.Option("--published", help="It went out: the URL where it is.", show_default=False)] = None,
    not_published: Annotated[bool, typer.Option("--not-published", help="It did not go out: make it eligible again (if still within grace).")] = False,
    skip: Annotated[bool, typer.Option("--skip", help="Cancel it: never send it.")] = False,
    calendar: CalendarOpt = Path("calendar.yaml"),
    db: DbOpt = None,
    now: NowOpt = None,
) -> None:
    """Settle an unknown (or failed) post by hand after checking the account."""
    from campaigner.errors import ConfigError

    if sum([published is not None, not_published, skip]) != 1:
        raise ConfigError("resolve: give exactly one of --published URL, --not-published or --skip")
    if published is not None and not published.startswith(("http://", "https://")):
        raise ConfigError(f"resolve --published: '{published}' is not a URL; paste the post's link")
    with session(calendar, db=db, now=now, write=True) as rt:
        if not rt.ledger_exists():
            raise ConfigError(f"no ledger yet for {calendar}: nothing has been posted")
        ledger = rt.ledger
        remote_id = published.rstrip("/").rsplit("/", 1)[-1] if published else None
        rec = ledger.resolve(post_id, published_url=published, remote_id=remote_id, skip=skip, now=rt.now, who=_who())
        if rec.id.rfind("#") < 0 and not_published:
            # A thread's unknown parts are settled with it, so the next run resumes after the published ones.
            for part in ledger.records(states=["unknown"]):
                if part.id.startswith(post_id + "#"):
                    ledger.resolve(part.id, published_url=None, remote_id=None, skip=False, now=rt.now, who=_who())
    typer.echo(f"{post_id}: now {rec.state}" + (f" ({rec.url})" if rec.url else "") + (" — the next 'campaigner post' sends it if it is still within grace" if rec.state == "pending" else ""))


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers; the record still needs a name
        return "unknown user"
