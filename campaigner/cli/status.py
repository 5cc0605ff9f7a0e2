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



def status(
    calendar: CalendarOpt = Path("calendar.yaml"),
    as_json: JsonOpt = False,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Posts that need a decision (unknown first), failures and their fixes, what is next, and the last run."""
    from campaigner.overview import SOON, overview

    with session(calendar, db=db, now=now) as rt:
        cal, moment = rt.calendar, rt.now
        ledger = rt.ledger
        view = overview(cal, ledger, moment, renderer=rt.renderer)
        where, hosts = _ledger_and_hosts(rt.ledger_url, ledger, moment)
    tz = cal.campaign.tz
    last = view.last_run

    def local(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else "-"

    if as_json:
        typer.echo(json.dumps({
            "counts": view.posts,
            "briefings": view.briefings,
            "unknown": [{"id": r.id, "account": r.account, "error": r.error, "resolve": _resolve_hint(r.id), "reconcile": view.settle.get(r.id)} for r in view.unknown],
            "failed": [{"id": r.id, "account": r.account, "transient": r.transient, "error": r.error,
                        "next_attempt": r.next_attempt.isoformat() if r.next_attempt else None} for r in view.failed],
            "missed": [{"id": r.id, "account": r.account, "due": r.due.isoformat(), "error": r.error} for r in view.missed],
            "due": [{"id": d.post.id, "due": d.post.due.isoformat(), "missed_at": d.missed_at.isoformat()} for d in view.due],
            "next": [{"id": p.id, "due": p.due.isoformat(), "draft": p.draft} for p in view.upcoming],
            "last_run": None if last is None else {"id": last.id, "started_at": last.started_at.isoformat(), "ended_at": last.ended_at.isoformat() if last.ended_at else None,
                                                   "counts": last.counts, "exit_code": last.exit_code, "error": last.error},
            "failing_runs": len(view.failing_runs),
            "quiet": [{"name": w.name, "from": w.start.isoformat(), "to": w.end.isoformat(), "holds": w.what(), "after": w.after,
                       "note": w.note, "held": n} for w, n in view.quiet],
            "warnings": list(view.horizon),
            "ledger": where,
            "hosts": [{"host": r.host, "last_run": r.started_at.isoformat(), "command": r.command, "exit_code": r.exit_code} for r in hosts],
        }, ensure_ascii=False, indent=2))
        return

    out = []
    if not view.ledger_exists:
        out.append("Nothing has been posted yet (no ledger). Run 'campaigner post --dry-run' to see what is due now, and 'campaigner cron' to schedule it.")
    else:
        out.append("Posts by state: " + (", ".join(f"{k} {v}" for k, v in sorted(view.posts.items())) or "none yet"))
        if view.briefings:
            out.append("Briefings by state: " + ", ".join(f"{k} {v}" for k, v in sorted(view.briefings.items())))
    if view.failing_runs:
        n, latest = len(view.failing_runs), view.failing_runs[0]
        out.append(f"\nThe last {n} 'campaigner post' run(s) failed before sending anything (the latest at {local(latest.started_at)} on {latest.host}):"
                   if n > 1 else f"\nThe last 'campaigner post' run ({local(latest.started_at)} on {latest.host}) failed before sending anything:")
        out.append(f"  {latest.error or 'a configuration error (exit 2); run campaigner post --dry-run to see it'}")
        out.append("  Fix that, then check with 'campaigner post --dry-run'; until then nothing is published and due posts become missed.")
    if view.unknown:
        out.append(f"\n{len(view.unknown)} post(s) may or may not have gone out. Check the account, then settle each:")
        for r in view.unknown:
            out += [f"  {r.id}: {r.error}", f"    {_resolve_hint(r.id)}"] + ([f"    or: {view.settle[r.id]}"] if r.id in view.settle else [])
    permanent = [r for r in view.failed if not r.transient]
    transient = [r for r in view.failed if r.transient]
    if permanent:
        out.append(f"\n{len(permanent)} post(s) failed and will not be retried:")
        out += [f"  {r.id}: {r.error}" for r in permanent]
        out.append("  Fix the cause, then 'campaigner resolve ID --not-published' to send again while within grace, or '--skip'.")
    if transient:
        out.append(f"\n{len(transient)} post(s) failed for now and will be retried:")
        out += [f"  {r.id}: next attempt {local(r.next_attempt)}: {r.error}" for r in transient]
    if view.due:
        out.append(f"\n{len(view.due)} post(s) are due now and not sent yet (the next 'campaigner post' run sends them):")
        out += [f"  {d.post.id}: due {local(d.post.due)}" + (f"; missed at {local(d.missed_at)} unless a run sends it first"
                                                            if d.missed_at - moment <= SOON else "") for d in view.due]
    if view.missed:
        out.append(f"\n{len(view.missed)} post(s) were missed in the last 30 days (not sent within grace, never posted late):")
        out += [f"  {r.id} (due {local(r.due)})" for r in view.missed]
    out.append("\nNext posts due:" if view.upcoming else "\nNothing due in the next 30 days.")
    out += [f"  {local(p.due)}  {p.id}" + ("  (draft: needs approval)" if p.draft else "") for p in view.upcoming]
    for w, n in view.quiet:
        when = "now" if w.start <= moment else f"from {local(w.start)}"
        out.append(f"\nQuiet window {w.name} ({w.span()}, {when}) holds {w.what()}: {n} post(s) in the next 30 days "
                   + ("will be skipped, never sent" if w.after == "skip" else "go out when it ends") + f" (after: {w.after})")
    out += [f"warning: {line}" for line in view.horizon]
    if last is not None:
        done = ", ".join(f"{k} {v}" for k, v in sorted(last.counts.items())) or ("nothing sent" if last.exit_code == 2 else "nothing due")
        out.append(f"\nLast run: {local(last.started_at)} on {last.host}: {_result(last.exit_code)} ({done})")
        if view.silent_for is not None:
            out.append(f"  No run for {_ago(view.silent_for)}: is cron running? See 'campaigner cron'.")
    elif view.ledger_exists:
        out.append("\nNo 'campaigner post' run recorded yet. See 'campaigner cron'.")
    out.append(f"\nLedger: {where}")
    if hosts:
        out.append("Hosts that ran in the last day: " + ", ".join(
            f"{r.host} (last run {local(r.started_at)}: {_result(r.exit_code)})" for r in hosts))
    typer.echo("\n".join(out))


def _ledger_and_hosts(url: str, ledger: Ledger, moment: datetime) -> tuple[str, list[RunRecord]]:
    """The ledger's URL (password masked) and, on a shared ledger, each host's last run of the last day."""
    from campaigner.ledger import mask_url, scheme_of

    if not ledger.exists:
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
        found = rt.ledger.records(states=["published"], since=moment - timedelta(days=days))
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
