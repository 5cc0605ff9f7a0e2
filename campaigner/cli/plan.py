"""`campaigner plan`: what will be posted, when, where, in which state, and whether it fits."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterable, Optional

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, JsonOpt, NowOpt, check_accounts, parse_day, session

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.render import Post

DEFAULT_PRICES = {"post": 0.015, "post_with_url": 0.20}  # X's pay-per-use prices as published in 2026
X_WINDOW, X_WINDOW_LIMIT = timedelta(minutes=15), 100
_URL = re.compile(r"https?://|\bwww\.", re.IGNORECASE)


def plan(
    calendar: CalendarOpt = Path("calendar.yaml"),
    days: Annotated[int, typer.Option("--days", min=1, help="How many days ahead of now to show.")] = 30,
    from_: Annotated[Optional[str], typer.Option("--from", help="First local date (YYYY-MM-DD), inclusive.", show_default=False)] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last local date (YYYY-MM-DD), inclusive.", show_default=False)] = None,
    account: AccountOpt = None,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", "-k", help="Only events of this kind (repeatable).", show_default=False)] = None,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Print each post's whole text.")] = False,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Show the posts due in a window (default: the next 30 days), with their length, limit and ledger state."""
    from campaigner.calendar import suggest
    from campaigner.errors import ConfigError, Problem
    from campaigner.render import expand
    from campaigner.schedule import status

    with session(calendar, db=db, now=now) as rt:
        cal, moment = rt.calendar, rt.now
        accounts = check_accounts(cal, account)
        today = moment.astimezone(cal.campaign.tz).date()
        start = parse_day(from_, "--from") if from_ else today
        try:
            end = parse_day(to, "--to") if to else (start + timedelta(days=days - 1) if from_ else today + timedelta(days=days))
        except OverflowError:
            raise ConfigError([Problem("--days", 0, 0, f"{days} days from {start} is past the year 9999: give fewer days")]) from None
        if end < start:
            raise ConfigError([Problem("--to", 0, 0, f"{end} is before {start}: --to must not be earlier than --from")])
        for k in kind or []:
            if k not in {e.kind for e in cal.events}:
                raise ConfigError([Problem("--kind", 0, 0, f"no event has kind '{k}'{suggest(k, {e.kind for e in cal.events})}")])
        posts = expand(cal, start, end, accounts=accounts, kinds=kind, renderer=rt.renderer)
        if not from_:
            posts = [p for p in posts if p.due >= moment or p.due.date() == today]
        records = rt.ledger.states(p.id for p in posts) if rt.ledger_exists() else {}
    states = {p.id: status(p, records.get(p.id)) for p in posts}

    if as_json:
        _echo_json_list(_as_json(p, states[p.id]) for p in posts)
        return
    _print_table(cal, posts, states, start, end, full)


def _echo_json_list(rows: Iterable[dict]) -> None:
    """A JSON array with one post per line, printed in batches.

    One compact line per object keeps the output greppable and lets json use its C encoder
    (indent= falls back to the pure-Python one: a third of a 10,000-event plan's time); printing
    in batches keeps a year of a large calendar from sitting in memory as one string.
    """
    batch: list[str] = []
    started = False
    for row in rows:
        batch.append((",\n" if started else "[\n") + json.dumps(row, ensure_ascii=False))
        started = True
        if len(batch) == 1000:
            typer.echo("".join(batch), nl=False)
            batch.clear()
    typer.echo("".join(batch) + ("\n]" if started else "[]"))


def _as_json(p: Post, state: str) -> dict:
    return {
        "id": p.id, "event": p.event.id, "kind": p.kind, "goal": p.event.goal, "account": p.account, "platform": p.platform,
        "language": p.language, "due": p.due.isoformat(), "text": p.text, "parts": list(p.parts) if len(p.parts) > 1 else None,
        "length": p.length, "limit": p.limit, "fits": p.fits, "status": state, "draft": p.draft,
        "media": [{"path": m.written, "alt": m.alt} for m in p.media],
    }


def x_cost(cal: Calendar, posts: list[Post]) -> dict[str, tuple[int, float]]:
    """Per X account: requests to create posts (thread parts count) and their estimated cost."""
    out: dict[str, tuple[int, float]] = {}
    for p in posts:
        if p.platform != "x" or p.draft:
            continue
        prices = {**DEFAULT_PRICES, **(cal.accounts[p.account].options.get("pricing") or {})}
        n, cost = out.get(p.account, (0, 0.0))
        for part in p.parts:
            n += 1
            cost += prices["post_with_url"] if _URL.search(part) else prices["post"]
        out[p.account] = (n, cost)
    return out


def rate_warnings(posts: list[Post]) -> list[str]:
    """X allows 100 posts per 15 minutes per user: name the windows that would exceed it."""
    warnings = []
    by_account: dict[str, list] = {}
    for p in posts:
        if p.platform == "x" and not p.draft:
            by_account.setdefault(p.account, []).extend([p.due] * len(p.parts))
    for account, times in by_account.items():
        times.sort()
        lo = 0
        for hi, t in enumerate(times):
            while t - times[lo] >= X_WINDOW:
                lo += 1
            if hi - lo + 1 > X_WINDOW_LIMIT:
                warnings.append(f"{account}: more than {X_WINDOW_LIMIT} posts within 15 minutes around {t.isoformat()}: X will refuse the excess (rate limit)")
                break
    return warnings


def _print_table(cal: Calendar, posts: list[Post], states: dict[str, str], start, end, full: bool) -> None:
    from campaigner.cli._table import Out, table

    out = Out()
    rows = []
    for p in posts:
        length = f"{p.length}/{p.limit}" + (f" ({len(p.parts)} parts)" if len(p.parts) > 1 else "")
        state = "draft" if p.draft and states[p.id] == "skipped" else states[p.id]
        rows.append((p, length, state))
    out.line(f"{cal.campaign.name}: {start} to {end} ({cal.campaign.timezone})", "bold")
    if out.width < 120:
        # Narrow terminals: two lines per post; a squeezed table would drop whole columns.
        for p, length, state in rows:
            shown = out.style(length, *(("red", "bold") if not p.fits else ()))
            out.line(f"{p.due.strftime('%a %d %b %H:%M')}  {p.account}/{p.language}  {p.kind}  {p.event.id}  {shown}  {state}")
            out.line("    " + text_start(p.text, max(out.width // 2 - 4, 20)))
    elif rows:
        # Only Text may shrink: the others are short, and "09:00" or "/280" cut would mislead.
        table(out, ("When", "Account", "Lang", "Kind", "Event", "Length", "Status", "Text"),
              [(p.due.strftime("%a %d %b %H:%M"), p.account, p.language, p.kind, p.event.id, length, state, text_start(p.text))
               for p, length, state in rows],
              right=(5,), styles={(n, 5): ("red", "bold") for n, (p, _, _) in enumerate(rows) if not p.fits})
    if not rows:
        out.line(f"No posts between {start} and {end}.")
    if full:
        # Each text exactly as it will be posted: a terminal wraps it, a file or pipe gets it verbatim.
        for p in posts:
            out.line()
            out.line(f"== {p.id}  {p.due.strftime('%Y-%m-%d %H:%M %Z')}  {p.length}/{p.limit}", "bold")
            for i, part in enumerate(p.parts, 1):
                if len(p.parts) > 1:
                    out.line(f"part {i}/{len(p.parts)}", "dim")
                out.line(part)
            for m in p.media:
                out.line(f"[image] {m.written}: {m.alt or '(no alt text)'}", "dim")
    _print_totals(out, cal, posts)


def text_start(text: str, limit: int = 60) -> str:
    """The first line, cut after `limit` user-perceived characters (never inside a Khmer cluster)."""
    from campaigner.cli._table import clusters

    first = text.splitlines()[0] if text else ""
    if len(first) <= limit:
        return first
    parts = clusters(first)
    return first if len(parts) <= limit else "".join(parts[:limit]) + "…"


def _print_totals(out, cal: Calendar, posts: list[Post]) -> None:
    per_account: dict[str, int] = {}
    per_goal: dict[str, int] = {}
    for p in posts:
        per_account[p.account] = per_account.get(p.account, 0) + 1
        per_goal[p.event.goal or "(no goal)"] = per_goal.get(p.event.goal or "(no goal)", 0) + 1
    if posts:
        out.line("Posts per account: " + ", ".join(f"{k} {v}" for k, v in sorted(per_account.items())))
        out.line("Posts per goal: " + ", ".join(f"{k} {v}" for k, v in sorted(per_goal.items())))
    for account, (n, cost) in sorted(x_cost(cal, posts).items()):
        out.line(f"X requests for {account}: {n}, estimated cost ${cost:.2f} (prices from the calendar's pricing:, else X's 2026 list prices)")
    drafts = sum(1 for p in posts if p.draft)
    if drafts:
        out.line(f"{drafts} draft post(s) are shown but will not be published until approved.")
    for p in posts:
        if not p.fits:
            out.line(f"warning: {p.id} is {p.length}/{p.limit} characters: it will not be sent until shortened", "red")
    for w in rate_warnings(posts):
        out.line(f"warning: {w}", "yellow")
