"""`campaigner plan`: what will be posted, when, where, in which state, and whether it fits."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterable, Optional

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, JsonOpt, NowOpt, check_accounts, parse_day, session

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.calendar.quiet import QuietWindow
    from campaigner.cli._table import Out
    from campaigner.render import Post



def plan(
    ctx: typer.Context,
    month_arg: Annotated[Optional[str], typer.Argument(metavar="[MONTH]", help="With --month: the month to show, YYYY-MM (default: this month).", show_default=False)] = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
    days: Annotated[int, typer.Option("--days", min=1, help="How many days ahead of now to show.")] = 30,
    from_: Annotated[Optional[str], typer.Option("--from", help="First local date (YYYY-MM-DD), inclusive.", show_default=False)] = None,
    to: Annotated[Optional[str], typer.Option("--to", help="Last local date (YYYY-MM-DD), inclusive.", show_default=False)] = None,
    account: AccountOpt = None,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", "-k", help="Only events of this kind (repeatable).", show_default=False)] = None,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Print each post's whole text.")] = False,
    month: Annotated[bool, typer.Option("--month", help="A month grid, as cal draws one: posts per day with their kinds' initials (plan --month 2026-08).")] = False,
    now: NowOpt = None,
    db: DbOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 when a post shown cites a stale fact (see campaigner facts).")] = False,
) -> None:
    """Show the posts due in a window (default: the next 30 days), with their length, limit and ledger state."""
    from campaigner.calendar import suggest
    from campaigner.errors import ConfigError, Problem
    from campaigner.render import expand
    from campaigner.schedule import due_at, hold, status

    with session(calendar, db=db, now=now) as rt:
        cal, moment = rt.calendar, rt.now
        accounts = check_accounts(cal, account)
        today = moment.astimezone(cal.campaign.tz).date()
        if month or month_arg:
            start, end = _month_window(ctx, month_arg if month else None, month_arg if not month else None, today, from_, to)
        else:
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
        if not from_ and not month:  # a month is shown whole, its past days with what became of them
            posts = [p for p in posts if p.due >= moment or p.due.date() == today]
        records = rt.ledger.states(p.id for p in posts)
    quiet = cal.quiet
    states = {p.id: status(p, records.get(p.id), quiet) for p in posts}
    held = {p.id: w for p in posts if states[p.id] == "held" and (w := hold(p, quiet)) is not None}
    # A post a window skipped is `skipped` in the ledger; --json still names the window.
    skipped_by = {p.id: w for p in posts if states[p.id] == "skipped" and not p.draft and (w := hold(p, quiet)) is not None}
    from campaigner import facts

    stale = facts.stale(cal, posts)
    if as_json:
        stale_in = facts.stale_by_post(cal, posts)
        _echo_json_list(_as_json(p, states[p.id], [f.name for f in stale_in.get(p.id, ())], held.get(p.id) or skipped_by.get(p.id),
                                 due_at(p, quiet) if p.id in held else None) for p in posts)
    else:
        if month:
            _print_month(cal, posts, states, start, today, full)
        else:
            _print_table(cal, posts, states, start, end, full, held)
        _print_quiet(cal, posts, held, start, end)
    _stale_facts(cal, stale, strict)


def _stale_facts(cal: Calendar, stale: list, strict: bool) -> None:
    """Each stale fact in the posts shown, on stderr, located where the fact is defined; --strict: exit 2."""
    from campaigner.cli._print import error_lines
    from campaigner.errors import problem_at
    from campaigner.facts import stale_message

    if not stale:
        return
    severity = "error" if strict else "warning"
    error_lines([str(problem_at(s.fact.file, s.fact.line, s.fact.col, stale_message(s, cal), severity)) for s in stale])
    if strict:
        from campaigner.cli._errors import EXIT_CONFIG

        error_lines([f"campaigner: {len(stale)} stale fact(s) in the posts shown (--strict): update them, then plan again"])
        raise typer.Exit(EXIT_CONFIG)


def _month_window(ctx: typer.Context, value: str | None, stray: str | None, today: date, from_: str | None, to: str | None) -> tuple[date, date]:
    """The first and last day of --month's month (today's when none is given); refuses a mix with --from/--to/--days."""
    from campaigner.errors import ConfigError, Problem
    from campaigner.views.month import month_range, parse_month

    if stray is not None:
        raise ConfigError([Problem("plan", 0, 0, f"unexpected argument '{stray}': to show a month write 'campaigner plan --month {stray}'")])
    given = [name for name, used in (("--from", from_), ("--to", to)) if used]
    source = ctx.get_parameter_source("days")
    if source is not None and source.name != "DEFAULT":
        given.append("--days")
    if given:
        raise ConfigError([Problem("--month", 0, 0, f"a month is shown whole: leave out {' and '.join(given)}")])
    if value is None:
        return month_range(today.year, today.month)
    parsed = parse_month(value)
    if parsed is None:
        raise ConfigError([Problem("--month", 0, 0, f"'{value}' is not a month; write YYYY-MM, e.g. {today:%Y-%m}")])
    return month_range(*parsed)


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


def _as_json(p: Post, state: str, stale: list[str], window: QuietWindow | None = None, deferred: datetime | None = None) -> dict:
    return {
        "id": p.id, "event": p.event.id, "kind": p.kind, "goal": p.event.goal, "account": p.account, "platform": p.platform,
        "language": p.language, "due": p.due.isoformat(), "text": p.text, "parts": list(p.parts) if len(p.parts) > 1 else None,
        "length": p.length, "limit": p.limit, "fits": p.fits, "status": state, "draft": p.draft,
        "media": [{"path": m.written, "alt": m.alt} for m in p.media],
        "held_by": window.name if window is not None else None,
        "deferred_to": deferred.isoformat() if deferred is not None else None,  # when a deferring window sends it
        "facts": list(p.facts), "stale_facts": stale,
    }


def _print_table(cal: Calendar, posts: list[Post], states: dict[str, str], start, end, full: bool,
                 held: dict[str, QuietWindow] | None = None) -> None:
    from campaigner.cli._table import Out, column_widths, table

    out = Out()
    rows = []
    held = held or {}
    for p in posts:
        length = f"{p.length}/{p.limit}" + (f" ({len(p.parts)} parts)" if len(p.parts) > 1 else "")
        state = "draft" if p.draft and states[p.id] == "skipped" else states[p.id]
        if p.id in held:
            state = f"held ({held[p.id].name})"
        rows.append((p, length, state))
    out.line(f"{cal.campaign.name}: {start} to {end} ({cal.campaign.timezone})", "bold")
    headers = ("When", "Account", "Lang", "Kind", "Event", "Length", "Status", "Text")
    cells = [(p.due.strftime("%a %d %b %H:%M"), p.account, p.language, p.kind, p.event.id, length, state, text_start(p.text))
             for p, length, state in rows]
    # The text gives way first, then the event id and the kind (cut with …); the time, account,
    # length and state never do. A terminal too narrow for that gets two lines per post instead.
    widths = column_widths(headers, cells, out.width, shrink={4: 12, 3: 8}) if out.width >= 120 and rows else None
    if widths is not None:
        table(out, headers, cells, right=(5,), widths=widths,
              styles={(n, 5): ("red", "bold") for n, (p, _, _) in enumerate(rows) if not p.fits})
    else:
        for p, length, state in rows:
            _narrow(out, p, length, state)
    if not rows:
        out.line(f"No posts between {start} and {end}.")
    if full:
        _print_full(out, posts)
    _print_totals(out, cal, posts)


def _print_full(out: Out, posts: list[Post]) -> None:
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


def _print_month(cal: Calendar, posts: list[Post], states: dict[str, str], first: date, today: date, full: bool) -> None:
    """A boxed month grid, weeks as rows: each day's number and marks, then its posts per kind."""
    from campaigner.cli._table import Out, cells, fit
    from campaigner.views.month import days, initials, weeks

    out = Out()
    summary = days(posts, states)
    labels = initials(e.kind for e in cal.events)  # the same label for a kind every month
    width = max(5, min(18, (out.width - 22) // 7))  # seven cells of width+2 and eight bars

    def rule(left: str, middle: str, end: str) -> str:
        return left + middle.join("─" * (width + 2) for _ in range(7)) + end

    def row(values: list[tuple[str, tuple[str, ...]]]) -> str:
        return "│" + "│".join(f" {out.style(v, *st)}{' ' * (width - cells(v))} " for v, st in values) + "│"

    out.line(f"{first:%B %Y}: {cal.campaign.name} ({cal.campaign.timezone})", "bold")
    out.line(rule("┌", "┬", "┐"))
    out.line(row([(fit(name, width), ("bold",)) for name in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]))
    for week in weeks(first.year, first.month):
        out.line(rule("├", "┼", "┤"))
        tops: list[tuple[str, tuple[str, ...]]] = []
        counts: list[tuple[str, tuple[str, ...]]] = []
        for d in week:
            day = summary.get(d) if d else None
            number = f"{d.day:>2}" if d else ""
            marks = [m for m, n in (("!", day.over_limit), ("H", day.held), ("D", day.drafts)) if n] if day else []
            top = fit(" ".join([number, *marks]), width)
            style: tuple[str, ...] = ("red", "bold") if "!" in marks else ("yellow",) if "H" in marks else ("dim",) if "D" in marks else ()
            tops.append((top, ("bold",) if d == today and not style else style))
            counts.append((fit(" ".join(f"{n}{labels[k]}" for k, n in day.kinds), width) if day else "", ()))
        out.line(row(tops))
        out.line(row(counts))
    out.line(rule("└", "┴", "┘"))
    shown = {p.kind for p in posts}
    if shown:
        legend = ", ".join(f"{label} {kind}" for kind, label in sorted(labels.items(), key=lambda kv: kv[1]) if kind in shown)
        out.line(f"Posts per day by kind: {legend}")
        out.line("Marks: ! a post over its platform's limit, H held by a quiet period, D a draft (not published until approved)")
    else:
        out.line(f"No posts in {first:%B %Y}.")
    if full:
        _print_full(out, posts)
    _print_totals(out, cal, posts)


def _narrow(out: Out, p: Post, length: str, state: str) -> None:
    """Two lines, each within the terminal's width: when, where, length, state, event; the text's start."""
    from campaigner.cli._table import cells, fit

    head = f"{p.due.strftime('%a %d %b %H:%M')}  {p.account}/{p.language}  "
    tail = f"  {state}  {p.kind}  {p.event.id}"
    room = out.width - cells(head + length)
    if room >= 0:
        shown = out.style(length, *(("red", "bold") if not p.fits else ()))
        out.line(head + shown + (fit(tail, room) if room > 1 else ""))
    else:
        out.line(fit(head + length + tail, out.width))
    out.line("    " + fit(text_start(p.text), max(out.width - 4, 1)))


def text_start(text: str, limit: int = 300) -> str:
    """The first line, cut after `limit` user-perceived characters (never inside a Khmer cluster)."""
    from campaigner.cli._table import clusters

    first = text.splitlines()[0] if text else ""
    if len(first) <= limit:
        return first
    parts = clusters(first)
    return first if len(parts) <= limit else "".join(parts[:limit]) + "…"


def _print_quiet(cal: Calendar, posts: list[Post], held: dict[str, QuietWindow], start: date, end: date) -> None:
    """The quiet windows that fall in the range, each with what it holds and how many posts it holds here."""
    from campaigner.cli._table import Out

    tz = cal.campaign.tz
    shown = [w for w in cal.quiet if w.start.astimezone(tz).date() <= end and (w.end - timedelta(microseconds=1)).astimezone(tz).date() >= start]
    if not shown:
        return
    out = Out()
    per_window: dict[str, int] = {}
    for w in held.values():
        per_window[w.name] = per_window.get(w.name, 0) + 1
    if held:
        out.line(f"{len(held)} post(s) held by quiet windows: " + ", ".join(f"{name} {n}" for name, n in per_window.items()))
    for w in shown:
        after = "recorded as skipped, never sent" if w.after == "skip" else "sent when it ends, at the same time of day"
        out.line(f"Quiet window {w.name}: {w.span()}, holds {w.what()}; held posts are {after} (after: {w.after})", "yellow")
        if w.note:
            out.line(f"  note: {w.note}", "dim")


def _print_totals(out, cal: Calendar, posts: list[Post]) -> None:
    per_account: dict[str, int] = {}
    per_goal: dict[str, int] = {}
    for p in posts:
        per_account[p.account] = per_account.get(p.account, 0) + 1
        per_goal[p.event.goal or "(no goal)"] = per_goal.get(p.event.goal or "(no goal)", 0) + 1
    if posts:
        out.line("Posts per account: " + ", ".join(f"{k} {v}" for k, v in sorted(per_account.items())))
        out.line("Posts per goal: " + ", ".join(f"{k} {v}" for k, v in sorted(per_goal.items())))
    from campaigner import budget
    from campaigner.schedule import hold

    # Requests and their cost: not for the posts that will never be sent (a rejected event, a
    # quiet window that skips them); a deferred post is still sent, so it counts.
    sent = [p for p in posts if not p.event.rejected and ((window := hold(p, cal.quiet)) is None or window.after != "skip")]
    for c in budget.costs(cal, sent):
        amount = f"${c.amount:.2f}" if c.currency == "USD" else f"{c.amount:.2f} {c.currency}"
        out.line(f"{c.label} requests for {c.account}: {c.requests}, estimated cost {amount} (prices from the calendar's pricing:, else {c.source})")
    drafts = sum(1 for p in posts if p.draft and not p.event.rejected)
    if drafts:
        out.line(f"{drafts} draft post(s) are shown but will not be published until approved.")
    rejected = sum(1 for p in posts if p.event.rejected)
    if rejected:
        out.line(f"{rejected} rejected post(s) are shown but will not be published.")
    for p in posts:
        if not p.fits:
            out.line(f"warning: {p.id} is {p.length}/{p.limit} characters: it will not be sent until shortened", "red")
    for w in budget.rate_warnings(sent):
        out.line(f"warning: {w}", "yellow")
