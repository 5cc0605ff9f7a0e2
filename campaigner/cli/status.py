"""`campaigner status` (what needs a person, what is next, the last run) and `campaigner history`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, JsonOpt, NowOpt, check_accounts, session

if TYPE_CHECKING:
    from campaigner.ledger import Ledger, RunRecord

CRON_SILENCE = timedelta(hours=1)


def status(
    calendar: CalendarOpt = Path("calendar.yaml"),
    as_json: JsonOpt = False,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Posts that need a decision (unknown first), failures and their fixes, what is next, and the last run."""
    from campaigner.render import expand
    from campaigner.schedule import status as state_of

    with session(calendar, db=db, now=now) as rt:
        cal, moment = rt.calendar, rt.now
        ledger = rt.ledger if rt.ledger_exists() else None
        counts = ledger.counts() if ledger else {}
        unknown = ledger.records(states=["unknown"]) if ledger else []
        failed = ledger.records(states=["failed"]) if ledger else []
        missed = ledger.records(states=["missed"], since=moment - timedelta(days=30)) if ledger else []
        last = ledger.last_run("post") if ledger else None
        where, hosts = _ledger_and_hosts(rt.ledger_url, ledger, moment)
        today = moment.astimezone(cal.campaign.tz).date()
        upcoming = [p for p in expand(cal, today, today + timedelta(days=30), renderer=rt.renderer) if p.due >= moment]
        records = ledger.states(p.id for p in upcoming) if ledger else {}
    upcoming = [p for p in upcoming if state_of(p, records.get(p.id)) == "pending"][:10]
    tz = cal.campaign.tz

    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else "-"

    if as_json:
        typer.echo(json.dumps({
            "counts": counts,
            "unknown": [{"id": r.id, "account": r.account, "error": r.error, "resolve": _resolve_hint(r.id)} for r in unknown],
            "failed": [{"id": r.id, "account": r.account, "transient": r.transient, "error": r.error,
                        "next_attempt": r.next_attempt.isoformat() if r.next_attempt else None} for r in failed],
            "missed": [{"id": r.id, "account": r.account, "due": r.due.isoformat(), "error": r.error} for r in missed],
            "next": [{"id": p.id, "due": p.due.isoformat(), "draft": p.draft} for p in upcoming],
            "last_run": None if last is None else {"id": last.id, "started_at": last.started_at.isoformat(), "ended_at": last.ended_at.isoformat() if last.ended_at else None,
                                                   "counts": last.counts, "exit_code": last.exit_code},
            "ledger": where,
            "hosts": [{"host": r.host, "last_run": r.started_at.isoformat(), "command": r.command, "exit_code": r.exit_code} for r in hosts],
        }, ensure_ascii=False, indent=2))
        return

    out = []
    if ledger is None:
        out.append("Nothing has been posted yet (no ledger). Run 'campaigner post --dry-run' to see what is due now, and 'campaigner cron' to schedule it.")
    else:
        out.append("Posts by state: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none yet"))
    if unknown:
        out.append(f"\n{len(unknown)} post(s) may or may not have gone out. Check the account, then settle each:")
        for r in unknown:
            out += [f"  {r.id}: {r.error}", f"    {_resolve_hint(r.id)}"]
    permanent = [r for r in failed if not r.transient]
    transient = [r for r in failed if r.transient]
    if permanent:
        out.append(f"\n{len(permanent)} post(s) failed and will not be retried:")
        out += [f"  {r.id}: {r.error}" for r in permanent]
        out.append("  Fix the cause, then 'campaigner resolve ID --not-published' to send again while within grace, or '--skip'.")
    if transient:
        out.append(f"\n{len(transient)} post(s) failed for now and will be retried:")
        out += [f"  {r.id}: next attempt {local(r.next_attempt)}: {r.error}" for r in transient]
    if missed:
        out.append(f"\n{len(missed)} post(s) were missed in the last 30 days (not sent within grace, never posted late):")
        out += [f"  {r.id} (due {local(r.due)})" for r in missed]
    out.append("\nNext posts due:" if upcoming else "\nNothing due in the next 30 days.")
    out += [f"  {local(p.due)}  {p.id}" + ("  (draft: needs approval)" if p.draft else "") for p in upcoming]
    if last is not None:
        result = "running or interrupted" if last.exit_code is None else ("ok" if last.exit_code == 0 else f"exit {last.exit_code}")
        done = ", ".join(f"{k} {v}" for k, v in sorted(last.counts.items())) or "nothing due"
        out.append(f"\nLast run: {local(last.started_at)} on {last.host}: {result} ({done})")
        if moment - last.started_at > CRON_SILENCE:
            out.append(f"  No run for {_ago(moment - last.started_at)}: is cron running? See 'campaigner cron'.")
    elif ledger is not None:
        out.append("\nNo 'campaigner post' run recorded yet. See 'campaigner cron'.")
    out.append(f"\nLedger: {where}")
    if hosts:
        out.append("Hosts that ran in the last day: " + ", ".join(
            f"{r.host} (last run {local(r.started_at)}: {_result(r.exit_code)})" for r in hosts))
    typer.echo("\n".join(out))


def _ledger_and_hosts(url: str, ledger: Ledger | None, moment: datetime) -> tuple[str, list[RunRecord]]:
    """The ledger's URL (password masked) and, on a shared ledger, each host's last run of the last day."""
    from campaigner.ledger import mask_url, scheme_of

    if ledger is None:
        return mask_url(url), []
    hosts = ledger.hosts_since(moment - timedelta(days=1))
    shared = scheme_of(url) != "sqlite" or len(hosts) > 1
    return ledger.url, hosts if shared else []


def _result(exit_code: int | None) -> str:
    return "running or interrupted" if exit_code is None else ("ok" if exit_code == 0 else f"exit {exit_code}")


def _resolve_hint(post_id: str) -> str:
    return f"campaigner resolve {post_id} --published URL   # or --not-published"


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.0f} days"


def history(
    calendar: CalendarOpt = Path("calendar.yaml"),
    days: Annotated[int, typer.Option("--days", min=1, help="How many days back from now.")] = 30,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """What was published, when, and where to see it."""
    with session(calendar, db=db, now=now) as rt:
        cal, moment = rt.calendar, rt.now
        accounts = check_accounts(cal, account)
        found = rt.ledger.records(states=["published"], since=moment - timedelta(days=days)) if rt.ledger_exists() else []
    since = moment - timedelta(days=days)
    posts = {r.id for r in found}
    # A thread is listed once, by its post (whose link is its first part's); its parts are in the ledger too.
    rows = sorted(((r.published_at, r) for r in found
                   if r.published_at and since <= r.published_at <= moment and (accounts is None or r.account in accounts)
                   and ("#" not in r.id or r.id.partition("#")[0] not in posts)), key=lambda pair: (pair[0], pair[1].id))
    if as_json:
        typer.echo(json.dumps([{"id": r.id, "account": r.account, "platform": r.platform, "language": r.language,
                                "published_at": at.isoformat(), "remote_id": r.remote_id, "url": r.url} for at, r in rows],
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(f"Nothing published in the last {days} days.")
        return
    tz = cal.campaign.tz
    for at, r in rows:
        typer.echo(f"{at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}  {r.account:<16} {r.language:<3} {r.id}\n    {r.url}")
