"""What `campaigner status` tells a volunteer: what needs a person, what is due or about to be
missed, what is next, and whether the runs that should publish are happening and succeeding.

Pure over its inputs (the calendar's posts, the ledger, `now`): the CLI only prints it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from campaigner.horizon import horizon_problems
from campaigner.publish import max_grace
from campaigner.schedule import status as state_of

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.calendar.quiet import QuietWindow
    from campaigner.ledger import Ledger, PostRecord, RunRecord
    from campaigner.render import Post, Renderer

CRON_SILENCE = timedelta(hours=1)  # no run for this long: is cron running?
SOON = timedelta(hours=1)  # a due post whose grace ends within this is about to be missed
BRIEFINGS = "email"  # the account (channel) of briefing rows in the ledger


class Due(NamedTuple):
    """A post due now that no run has sent yet, and when its grace ends."""

    post: Post
    missed_at: datetime


class Overview(NamedTuple):
    """Everything `status` shows."""

    ledger_exists: bool
    posts: dict[str, int]  # posts by state (briefings apart)
    briefings: dict[str, int]  # briefings by state
    unknown: list[PostRecord]
    failed: list[PostRecord]
    missed: list[PostRecord]
    due: list[Due]  # due and still pending: the next run should send them
    upcoming: list[Post]
    last_run: RunRecord | None  # the last `post` run started at or before now (a rehearsal with a later --now is not it)
    failing_runs: list[RunRecord]  # the latest runs, while they keep ending in a configuration error (newest first)
    silent_for: timedelta | None  # how long no run has started, when that is longer than CRON_SILENCE
    quiet: tuple[tuple[QuietWindow, int], ...] = ()  # windows now or in the next 30 days, with the posts they hold then
    horizon: tuple[str, ...] = ()  # accounts with nothing planned in the coming weeks (horizon.py), one line each
    settle: dict[str, str] = {}  # unknown post id -> what reconciling can do for it


def overview(calendar: Calendar, ledger: Ledger, now: datetime, renderer: Renderer | None = None) -> Overview:
    """The status of a campaign at `now`."""
    from campaigner.render import expand

    posts: dict[str, int] = {}
    briefings: dict[str, int] = {}
    if ledger.exists:
        total = ledger.counts()
        briefings = _by_state(ledger.records(account=BRIEFINGS))
        posts = {k: v - briefings.get(k, 0) for k, v in total.items() if v - briefings.get(k, 0)}
    tz = calendar.campaign.tz
    today = now.astimezone(tz).date()
    since = now - max_grace(calendar)
    window = expand(calendar, since.astimezone(tz).date(), today + timedelta(days=30), renderer=renderer)
    records = ledger.states(p.id for p in window)
    quiet = calendar.quiet
    due = [Due(p, p.due + calendar.grace_for(p.event)) for p in window
           if p.due <= now < p.due + calendar.grace_for(p.event) and not p.draft and state_of(p, records.get(p.id), quiet) == "pending"]
    upcoming = [p for p in window if p.due > now and state_of(p, records.get(p.id), quiet) == "pending"][:10]
    recent = ledger.recent_runs("post", before=now, limit=20)
    failing = []
    for run in recent:
        if run.exit_code != 2:
            break
        failing.append(run)
    last = recent[0] if recent else None
    silent = now - last.started_at if last is not None and now - last.started_at > CRON_SILENCE else None
    from campaigner import reconcile

    unknown = ledger.records(states=["unknown"])
    return Overview(
        settle={r.id: how for r in unknown if (how := reconcile.how(r, calendar, ledger, now))},
        ledger_exists=ledger.exists, posts=posts, briefings=briefings,
        unknown=unknown, failed=ledger.records(states=["failed"]),
        missed=ledger.records(states=["missed"], since=now - timedelta(days=30)),
        due=sorted(due, key=lambda d: (d.missed_at, d.post.id)), upcoming=upcoming,
        last_run=last, failing_runs=failing, silent_for=silent,
        quiet=tuple((w, sum(1 for p in window if p.due >= w.start and state_of(p, records.get(p.id), (w,)) == "held"))
                    for w in quiet if w.end > now and w.start <= now + timedelta(days=30)),
        horizon=tuple(p.message for p in horizon_problems(calendar, now)),
    )


def _by_state(records: list[PostRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r.state] = out.get(r.state, 0) + 1
    return out
