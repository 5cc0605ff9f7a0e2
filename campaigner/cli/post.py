"""`campaigner post` (publish what is due, at most once) and `campaigner resolve` (settle a post by hand)."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, JsonOpt, NowOpt, VerboseOpt, check_accounts, ledger_url, load, resolve_now

if TYPE_CHECKING:
    from campaigner.publish import RunReport


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
    from campaigner import runtime
    from campaigner.ledger import ledger_exists, open_ledger
    from campaigner.publish import Publisher, dry_run as rehearse, preflight

    cal = load(calendar)
    moment = resolve_now(now, cal)
    accounts = check_accounts(cal, account)
    url = ledger_url(calendar, db)
    if dry_run:
        report, _ = rehearse(cal, open_ledger(url, readonly=True), moment, accounts=accounts)
        _print_dry_run(report, as_json, verbose)
        raise typer.Exit(0)
    if not ledger_exists(url):
        # The first run checks everything before creating the ledger: a configuration error leaves no file.
        # (Not by opening it: a read-only open of a ledger another run is creating can fail.)
        preflight(cal, None, moment, accounts=accounts)
    ledger = open_ledger(url)
    try:
        report = Publisher(cal, ledger, runtime.adapter_factory(cal)).run(moment, accounts=accounts)
    finally:
        ledger.close()
    print_report(report, as_json, verbose)
    raise typer.Exit(report.exit_code)


def print_report(report: RunReport, as_json: bool, verbose: bool) -> None:
    """Cron-friendly: nothing on stdout when nothing happened; problems on stderr."""
    from campaigner.credentials import redact

    if as_json:
        typer.echo(redact(json.dumps([r.as_json() for r in report.results], ensure_ascii=False, indent=2)))
        return
    for r in report.results:
        if r.status == "published":
            typer.echo(f"published {r.id} {r.url}")
        elif r.status == "waiting":
            if verbose:
                typer.echo(f"waiting {r.id}: {r.error}")
        else:
            sys.stderr.write(redact(f"{r.status} {r.id}: {r.error}") + "\n")
    counts = report.counts()
    if report.results or verbose:
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("published", "failed", "unknown", "missed") if counts.get(s) or s == "published")
        typer.echo(f"run {report.run_id}: {summary}" + (f"; {len(report.drafts)} draft(s) held" if report.drafts else ""))
    elif verbose:
        typer.echo("nothing due")


def _print_dry_run(report: RunReport, as_json: bool, verbose: bool) -> None:
    from rich.console import Console
    from rich.text import Text

    if as_json:
        rows = []
        for r in report.results:
            row = r.as_json()
            if r.post is not None:
                row.update(text=r.post.text, parts=list(r.post.parts), due=r.post.due.isoformat(), length=r.post.length, limit=r.post.limit)
            row["requests"] = [{"method": w.method, "url": w.url, "body": dict(w.body), "files": list(w.files)} for w in r.wire]
            rows.append(row)
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    console = Console(highlight=False, soft_wrap=True)
    sends = [r for r in report.results if r.status == "would-send"]
    if not report.results and not report.drafts:
        if verbose:
            console.print("dry run: nothing due")
        return
    for r in sends:
        p = r.post
        console.print(Text(f"\n== would send {r.id}  (due {p.due.strftime('%Y-%m-%d %H:%M %Z')}, {p.length}/{p.limit})", style="bold"))
        for i, part in enumerate(p.parts, 1):
            if len(p.parts) > 1:
                console.print(f"part {i}/{len(p.parts)}:")
            console.print(Text(part))
        for w in r.wire:
            console.print(Text(f"-> {w}", style="dim"))
    for r in report.results:
        if r.status != "would-send":
            console.print(Text(f"{'would become missed' if r.status == 'would-miss' else r.status}: {r.id} ({r.error})"))
    for p in report.drafts:
        console.print(Text(f"held draft: {p.id} (approve it to publish)"))
    console.print(f"dry run: {len(sends)} post(s) would be sent, {sum(r.status == 'would-miss' for r in report.results)} would become missed; nothing was sent or recorded")


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
    from campaigner.ledger import open_ledger

    if sum([published is not None, not_published, skip]) != 1:
        raise ConfigError("resolve: give exactly one of --published URL, --not-published or --skip")
    if published is not None and not published.startswith(("http://", "https://")):
        raise ConfigError(f"resolve --published: '{published}' is not a URL; paste the post's link")
    ledger = open_ledger(ledger_url(calendar, db), readonly=True)
    if ledger is None:
        raise ConfigError(f"no ledger yet for {calendar}: nothing has been posted")
    ledger.close()
    ledger = open_ledger(ledger_url(calendar, db))
    moment = resolve_now(now)
    remote_id = published.rstrip("/").rsplit("/", 1)[-1] if published else None
    rec = ledger.resolve(post_id, published_url=published, remote_id=remote_id, skip=skip, now=moment, who=_who())
    if rec.id.rfind("#") < 0 and not_published:
        # A thread's unknown parts are settled with it, so the next run resumes after the published ones.
        for part in ledger.records(states=["unknown"]):
            if part.id.startswith(post_id + "#"):
                ledger.resolve(part.id, published_url=None, remote_id=None, skip=False, now=moment, who=_who())
    ledger.close()
    typer.echo(f"{post_id}: now {rec.state}" + (f" ({rec.url})" if rec.url else "") + (" — the next 'campaigner post' sends it if it is still within grace" if rec.state == "pending" else ""))


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers; the record still needs a name
        return "unknown user"
