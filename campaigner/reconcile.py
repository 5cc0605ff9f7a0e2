"""Settling unknown posts by asking the platform (`campaigner reconcile`, and `post` for the safe cases).

For each post whose outcome is `unknown`, the account's adapter is asked whether the post is
there (`find`): by its idempotency key where the platform has one (Bluesky's record key: a
definitive answer), else among the account's posts since the first claim, by text. Found is
recorded as `published` through the ledger's `resolve`. Absent is retried only where a retry is
provably safe, because the platform would answer a repeat with the first post (Bluesky's record
key for ever, Mastodon's Idempotency-Key within its hour): the post is made pending again and sent
with the same key. Anywhere else it stays `unknown`, with what was checked and the `resolve`
command for a person: a post is never sent again on a platform that cannot deduplicate it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple

from campaigner import adapters, credentials
from campaigner.errors import ConfigError, PublishFailure

if TYPE_CHECKING:
    from campaigner.adapters.base import Adapter
    from campaigner.calendar import Calendar
    from campaigner.ledger import Ledger, PostRecord
    from campaigner.render import Post, Renderer

# A retry must reach the platform well within its idempotency window.
MARGIN = timedelta(minutes=5)
# A status found by text may be dated a little before the claim (clocks differ).
CLOCK_SKEW = timedelta(minutes=5)
WHO = "campaigner reconcile"


class Settlement(NamedTuple):
    """What reconciling one unknown post found and did."""

    id: str
    account: str
    platform: str
    outcome: str  # published | retry | absent | unchecked | cannot
    detail: str
    url: str | None = None
    command: str | None = None  # what a person runs to settle it, when it stays unknown

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return self._asdict()


def resolve_command(post_id: str) -> str:
    """The command a person runs after looking at the account."""
    return f"campaigner resolve {post_id} --published URL  (or --not-published)"


def first_claim(ledger: Ledger, record: PostRecord) -> datetime:
    """When the first request for this post may have left: its first claim in the history."""
    claims = [line[0] for line in ledger.log(record.id) if line[2] == "claimed"]
    return min(claims) if claims else (record.claimed_at or record.updated_at)


def safe_to_retry(cls: type[Adapter], since: datetime, now: datetime) -> bool:
    """Whether the platform would answer a repeat of a request first sent at `since` with the first post."""
    return cls.idempotent and (cls.idempotency_window is None or now + MARGIN < since + cls.idempotency_window)


def within_grace(calendar: Calendar, record: PostRecord, now: datetime) -> bool:
    """Whether the post may still be sent: its due time plus its event's grace is ahead."""
    event = next((e for e in calendar.events if e.id == record.event), None)
    grace = calendar.grace_for(event) if event is not None else calendar.campaign.grace
    return record.due + grace > now


def automatic(cls: type[Adapter], calendar: Calendar, ledger: Ledger, record: PostRecord, now: datetime) -> bool:
    """Whether `post` settles this unknown post by itself: its retry is provably safe and it may still
    be sent. (Past its grace only `reconcile` asks: a run every few minutes must not log in to
    Bluesky for ever over an old post, since logins are limited per day.)"""
    return cls.lookup is not None and safe_to_retry(cls, first_claim(ledger, record), now) and within_grace(calendar, record, now)


def how(record: PostRecord, calendar: Calendar, ledger: Ledger, now: datetime) -> str | None:
    """What reconciling can do for an unknown post, for `status`; None for a row that is no
    platform's post (a briefing email)."""
    try:
        cls = adapters.adapter_class(record.platform)
    except KeyError:
        return None
    label = cls.label or record.platform
    if cls.lookup is None:
        return f"{cls.lookup_note}: check the account by hand"
    if automatic(cls, calendar, ledger, record, now):
        return f"the next 'campaigner post' (or 'campaigner reconcile') asks {label} and publishes or safely retries it"
    if cls.lookup_costs:
        return f"'campaigner reconcile --x-reads' can look for it on {label} (reading costs money)"
    return f"'campaigner reconcile' can look for it on {label}"


def safe_unknown(calendar: Calendar, ledger: Ledger, now: datetime, accounts: Iterable[str] | None = None) -> list[tuple[PostRecord, str]]:
    """The unknown posts the next `post` looks up first (their retry is provably safe), with their platform's label."""
    wanted = set(accounts) if accounts else None
    found = []
    for record in ledger.records(states=["unknown"]) if ledger.exists else []:
        if (wanted is not None and record.account not in wanted) or record.account not in calendar.accounts:
            continue
        try:
            cls = adapters.adapter_class(record.platform)
        except KeyError:
            continue
        if automatic(cls, calendar, ledger, record, now):
            found.append((record, cls.label or record.platform))
    return found


def settle(calendar: Calendar, ledger: Ledger, adapter_for: Callable[[str], Adapter], now: datetime, *,
           accounts: Iterable[str] | None = None, paid_reads: bool = False, safe_only: bool = False,
           renderer: Renderer | None = None) -> tuple[list[Settlement], list[Post]]:
    """Ask the platforms about every unknown post (of these accounts); return what was found and
    done, and the posts made pending again for a safe retry (the caller sends them).

    With `safe_only` (what `post` does by itself) only the posts whose retry is provably safe are
    looked at, so a run asks nothing of a platform that cannot deduplicate.
    """
    wanted = set(accounts) if accounts else None
    unknown = [r for r in ledger.records(states=["unknown"]) if (wanted is None or r.account in wanted) and r.account in calendar.accounts]
    if not unknown:
        return [], []
    posts = _posts(calendar, {_base(r.id) for r in unknown}, renderer)
    out: list[Settlement] = []
    retry: dict[str, Post] = {}
    # A thread's parts first: its own row is settled from theirs.
    for record in sorted(unknown, key=lambda r: ("#" not in r.id, r.id)):
        result = _settle_one(calendar, ledger, adapter_for, now, record, posts.get(_base(record.id)), paid_reads, safe_only)
        if result is None:
            continue
        out.append(result)
        post = posts.get(_base(record.id))
        if result.outcome == "retry" and post is not None:
            retry[post.id] = post
    return out, list(retry.values())


def _settle_one(calendar: Calendar, ledger: Ledger, adapter_for: Callable[[str], Adapter], now: datetime, record: PostRecord,
                post: Post | None, paid_reads: bool, safe_only: bool) -> Settlement | None:
    def result(outcome: str, detail: str, url: str | None = None) -> Settlement:
        command = resolve_command(record.id) if outcome in ("absent", "unchecked", "cannot") else None
        return Settlement(record.id, record.account, record.platform, outcome, credentials.redact(detail), url, command)

    try:
        cls = adapters.adapter_class(record.platform)
    except KeyError:
        return None if safe_only else result("unchecked", f"no adapter for platform {record.platform}")
    label = cls.label or record.platform
    since = first_claim(ledger, record)
    safe = safe_to_retry(cls, since, now)
    if safe_only and not automatic(cls, calendar, ledger, record, now):
        return None
    if cls.lookup is None:
        return result("cannot", f"{cls.lookup_note}; {label} cannot deduplicate, so it is never sent again by itself")
    if cls.lookup_costs and not paid_reads:
        return result("unchecked", f"reading {label}'s posts back costs money: run 'campaigner reconcile --x-reads' to look for it")
    if post is None:
        return result("unchecked", "its event is no longer in the calendar (or no longer renders), so there is nothing to compare with")
    part = _part(record.id)
    if part is None and len(post.parts) > 1:
        return _settle_thread(ledger, now, record, post, label, safe, result)
    message = post.message(part or 0)
    grace_left = post.due + calendar.grace_for(post.event) > now
    try:
        adapter = adapter_for(record.account)
        receipt = adapter.find(message, since - CLOCK_SKEW)
    except (PublishFailure, ConfigError) as exc:
        why = exc.message if isinstance(exc, PublishFailure) else "; ".join(p.message for p in exc.problems)
        if safe and cls.lookup != "key" and grace_left:
            # The idempotency key makes the retry safe even unseen: the platform answers it with the first post.
            _pending(ledger, record, now, f"{label} could not be asked ({why}); retried with the same idempotency key, which {label} answers with the first post")
            return result("retry", f"could not ask {label} ({why}); retried with the same idempotency key within its window")
        return result("unchecked", f"could not ask {label}: {why}")
    if receipt is not None:
        ledger.resolve(record.id, published_url=receipt.url, remote_id=receipt.remote_id, skip=False, now=now,
                       who=f"{WHO} (found on {label})")
        return result("published", f"found on {label}", receipt.url)
    checked = f"not found on {label} ({_what_was_checked(cls, since)})"
    if safe and grace_left:
        _pending(ledger, record, now, f"{checked}; retried with the same key, which cannot make a second post")
        return result("retry", f"{checked}; sent again with the same key, which cannot make a second post")
    if safe:
        return result("absent", f"{checked}; its grace has passed, so it is not sent late")
    return result("absent", f"{checked}; {label} cannot deduplicate a retry this late, so it is not sent again by itself")


def _settle_thread(ledger: Ledger, now: datetime, record: PostRecord, post: Post, label: str, safe: bool,
                   result: Callable[..., Settlement]) -> Settlement:
    """A thread's own row follows its parts: all out is published, none unknown and safe is retried."""
    parts = ledger.states(f"{post.id}#{i + 1}" for i in range(len(post.parts)))
    states = [parts[f"{post.id}#{i + 1}"].state if f"{post.id}#{i + 1}" in parts else "pending" for i in range(len(post.parts))]
    if all(s == "published" for s in states):
        first = parts[f"{post.id}#1"]
        ledger.resolve(record.id, published_url=first.url or "", remote_id=first.remote_id, skip=False, now=now, who=f"{WHO} (every part found on {label})")
        return result("published", f"every part of the thread is on {label}", first.url)
    if "unknown" in states or not safe:
        return result("unchecked", "a part of the thread is still unknown: settle it first")
    _pending(ledger, record, now, "the thread's missing parts are retried with their own keys")
    return result("retry", "the thread resumes after its published parts")


def _pending(ledger: Ledger, record: PostRecord, now: datetime, why: str) -> None:
    ledger.resolve(record.id, published_url=None, remote_id=None, skip=False, now=now, who=f"{WHO}: {credentials.redact(why)}")


def _what_was_checked(cls: type[Adapter], since: datetime) -> str:
    if cls.lookup == "key":
        return "looked up by its key"
    return f"none of the account's posts since {since:%Y-%m-%d %H:%M} UTC has its text"


def _base(post_id: str) -> str:
    return post_id.split("#", 1)[0]


def _part(post_id: str) -> int | None:
    """The part index (0-based) of a thread part's id `...#n`, else None."""
    if "#" not in post_id:
        return None
    try:
        return int(post_id.rsplit("#", 1)[1]) - 1
    except ValueError:
        return None


def _posts(calendar: Calendar, ids: set[str], renderer: Renderer | None) -> dict[str, Post]:
    """The rendered posts with these ids (event/date/account/lang), where they still render."""
    from datetime import date

    from campaigner.render import expand

    found: dict[str, Post] = {}
    for pid in ids:
        try:
            event_id, day, account, _lang = pid.split("/")
            when = date.fromisoformat(day)
        except ValueError:
            continue
        if account not in calendar.accounts:
            continue
        try:
            rendered = expand(calendar, when, when, accounts=[account], renderer=renderer)
        except ConfigError:
            continue
        for post in rendered:
            if post.id == pid and post.event.id == event_id:
                found[pid] = post
    return found


class Reconciled(NamedTuple):
    """What `campaigner reconcile` did: each unknown post's settlement, and the run that retried the safe ones."""

    settled: list[Settlement]
    run: Any  # the publish.RunReport of the retries, or None when nothing was retried

    @property
    def exit_code(self) -> int:
        """0 when every unknown post was settled (and every retry went out), else 1."""
        left = any(s.outcome not in ("published", "retry") for s in self.settled)
        return 1 if left or (self.run is not None and self.run.exit_code) else 0
