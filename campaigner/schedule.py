"""Pure decisions about `now`: which posts are due, which are missed, which wait for a retry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping

from campaigner.ledger import PostRecord
from campaigner.render import Post

# A transient failure waits 2, 4, 8 ... minutes, at most an hour, unless the platform says longer.
BACKOFF_BASE = timedelta(minutes=2)
BACKOFF_MAX = timedelta(hours=1)


class Decision:
    """What one run should do with the posts it looked at."""

    def __init__(self) -> None:
        self.send: list[Post] = []
        self.missed: list[Post] = []
        self.waiting: list[tuple[Post, str]] = []  # (post, why it waits)
        self.drafts: list[Post] = []


def status(post: Post, record: PostRecord | None) -> str:
    """The state shown for a post: the ledger's, else rejected or skipped for drafts, else pending."""
    if record is not None:
        return record.state
    if post.event.rejected:
        return "rejected"
    return "skipped" if post.draft else "pending"


def decide(posts: Iterable[Post], records: Mapping[str, PostRecord], now: datetime, grace_for: Callable[[Post], timedelta]) -> Decision:
    """Sort posts due at or before `now` into send, missed, waiting and held drafts.

    Order is kept across runs: while an account's post waits for its retry (a transient failure,
    within its grace), that account's later posts wait behind it. An unknown post holds nothing
    back: a person settles it, and holding the account until then could turn one timeout into a
    missed morning.
    """
    d = Decision()
    blocked: dict[str, Post] = {}  # account -> the earlier post it waits behind
    for post in sorted(posts, key=lambda p: (p.due, p.id)):
        if post.due > now:
            continue
        rec = records.get(post.id)
        state = rec.state if rec else "pending"
        retryable = state == "failed" and rec is not None and rec.transient
        if state != "pending" and not retryable:
            continue
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
