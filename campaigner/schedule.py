"""Pure decisions about `now`: which posts are due, which are missed, which wait for a retry, which
a quiet period holds.

The calendar's quiet windows (calendar/quiet.py) are decided here and nowhere else: `status` names
a held post `held`, `decide` skips or defers it, `looks_back_to` widens a run's lookback so that a
deferred post is found when its window ends. Commands and views ask these, never the windows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence

from campaigner.calendar.quiet import QuietWindow, held_by, window_for
from campaigner.ledger import PostRecord
from campaigner.render import Post

# A transient failure waits 2, 4, 8 ... minutes, at most an hour, unless the platform says longer.
BACKOFF_BASE = timedelta(minutes=2)
BACKOFF_MAX = timedelta(hours=1)


class Fate(NamedTuple):
    """What quiet windows make of a post."""

    first: QuietWindow | None  # the window that holds it at its own due time (None: no window holds it)
    last: QuietWindow | None  # the window that decides: the one that skips it, or the last that defers it
    at: datetime  # when that is settled: when it is sent (or due, or missed from), or skipped
    sent: bool  # False: a window skips it, it is never sent


class Decision:
    """What one run should do with the posts it looked at."""

    def __init__(self) -> None:
        self.send: list[Post] = []
        self.missed: list[Post] = []
        self.waiting: list[tuple[Post, str]] = []  # (post, why it waits)
        self.drafts: list[Post] = []
        # Held by a quiet window: to record as skipped now (after: skip), or waiting for the window's end (after: defer).
        self.skipped: list[tuple[Post, QuietWindow]] = []  # (post, the window that skips it)
        self.held: list[tuple[Post, Fate]] = []  # deferred, and what becomes of it when its window ends


def hold(post: Post, quiet: Sequence[QuietWindow]) -> QuietWindow | None:
    """The quiet window that holds this post, if any."""
    return held_by(post.event, post.due, quiet) if quiet else None


def held_at(kind: str, goal: str | None, due: datetime, quiet: Sequence[QuietWindow]) -> QuietWindow | None:
    """The quiet window that would hold a post of this kind and goal due at `due` (a condemnation about to be written)."""
    return window_for(kind, goal, due, quiet)


def fate(post: Post, quiet: Sequence[QuietWindow]) -> Fate:
    """What quiet windows make of a post. A window that skips it settles it at its due time; one that
    defers it makes it due when the window ends, and a post deferred into another window that holds
    it is held by that one in turn (windows never overlap, so the chain ends)."""
    first = window = hold(post, quiet)
    at = post.due
    while window is not None:
        if window.after == "skip":
            return Fate(first, window, at, False)
        at = window.deferred(at)
        later = held_by(post.event, at, quiet)
        if later is None:
            return Fate(first, window, at, True)
        window = later
    return Fate(None, None, at, True)


def due_at(post: Post, quiet: Sequence[QuietWindow]) -> datetime | None:
    """When a post is due: its own time; when its window ends for a deferred post; None for one a window skips."""
    if not quiet:
        return post.due
    f = fate(post, quiet)
    return f.at if f.sent else None


def status(post: Post, record: PostRecord | None, quiet: Sequence[QuietWindow] = ()) -> str:
    """The state shown for a post: the ledger's, else rejected or skipped for drafts, else held by a
    quiet window, else pending."""
    if record is not None:
        return record.state
    if post.event.rejected:
        return "rejected"
    if post.draft:
        return "skipped"
    return "held" if hold(post, quiet) is not None else "pending"


def looks_back_to(since: datetime, now: datetime, quiet: Sequence[QuietWindow], longest_grace: timedelta) -> datetime:
    """How far back a run must render posts: `since`, or the start of a deferring window whose posts may be due now."""
    earliest = since
    for w in quiet:
        # A deferred post is due within a day after its window's end, and may be sent until its grace ends.
        if w.after == "defer" and w.start <= now and since < w.end + timedelta(days=1) + longest_grace:
            earliest = min(earliest, w.start)
    return earliest


def looked_at(post: Post, since: datetime, now: datetime, quiet: Sequence[QuietWindow]) -> bool:
    """Whether a run over (since, now] must consider this post: due then; or deferred by a window, from
    its own due time (held, and said so) until the window's end, and then while due then."""
    if since < post.due <= now or not quiet:
        return since < post.due <= now
    at = fate(post, quiet).at  # (for a post deferred and then skipped: when it is skipped)
    return at != post.due and post.due <= now and since < at


def decide(posts: Iterable[Post], records: Mapping[str, PostRecord], now: datetime, grace_for: Callable[[Post], timedelta],
           quiet: Sequence[QuietWindow] = ()) -> Decision:
    """Sort posts due at or before `now` into send, missed, waiting, drafts, and those quiet windows hold.

    Order is kept across runs: while an account's post waits for its retry (a transient failure,
    within its grace), that account's later posts wait behind it. An unknown post holds nothing
    back: a person settles it, and holding the account until then could turn one timeout into a
    missed morning. A post a window holds is never sent during it: `after: skip` records it as
    skipped; `after: defer` makes it due when the window ends (at its own time of day), and from
    then on it is sent, waits or is missed like any other post due then.
    """
    d = Decision()
    blocked: dict[str, Post] = {}  # account -> the earlier post it waits behind
    items = []
    for post in posts:
        f = fate(post, quiet) if quiet and not post.draft else None
        items.append((f.at if f is not None else post.due, post, f))
    for due, post, f in sorted(items, key=lambda item: (item[0], item[1].id)):
        if post.due > now:
            continue
        rec = records.get(post.id)
        state = rec.state if rec else "pending"
        retryable = state == "failed" and rec is not None and rec.transient
        if state != "pending" and not retryable:
            continue
        if f is not None and f.last is not None:
            if now < f.at:
                d.held.append((post, f))
                continue
            if not f.sent:
                d.skipped.append((post, f.last))
                continue
        if due != post.due:
            post = post._replace(due=due)  # deferred: due (and recorded as due) when its window ended
        if post.draft:
            d.drafts.append(post)
        elif now >= post.due + grace_for(post):
            d.missed.append(post)
        elif retryable and rec is not None and rec.next_attempt and rec.next_attempt > now:
            d.waiting.append((post, rec.error or f"waiting for its retry at {rec.next_attempt.isoformat()}"))
            blocked.setdefault(post.account, post)
        elif post.account in blocked:
            d.waiting.append((post, f"waits behind {blocked[post.account].id}, which is waiting for its retry (posts of an account go out in order)"))
        else:
            d.send.append(post)
    return d


def next_attempt(attempts: int, now: datetime, retry_after: datetime | None = None) -> datetime:
    """When a transiently failed post may be tried again: exponential backoff, or the platform's word."""
    wait = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    at = now + wait
    return max(at, retry_after) if retry_after else at
