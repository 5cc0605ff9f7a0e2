"""claim -> adapter.publish -> record. Accounts publish concurrently, each in due order.

Failure classification lives in the adapters (Transient, Permanent, Ambiguous); this module only
turns each outcome into the ledger state it means. A claim is committed before any network call,
so a crash leaves `claimed`, which the next run turns into `unknown`, never into a second post.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from campaigner import adapters, credentials
from campaigner.adapters.base import Adapter, MediaItem, Message, Receipt, WireRequest
from campaigner.calendar import Calendar
from campaigner.errors import Ambiguous, ConfigError, Permanent, Problem, Transient, problem_at
from campaigner.ledger import Ledger, PostMeta, RunRecord
from campaigner.render import Post, Renderer, expand, window_dates
from campaigner.schedule import Decision, decide, next_attempt

log = logging.getLogger("campaigner.publish")

DEFAULT_LEASE = timedelta(minutes=10)
MAX_LOOKBACK = timedelta(days=7)
FIRST_RUN_LOOKBACK = timedelta(days=1)  # beyond grace, so a first run still reports what it missed


@dataclass
class Result:
    """What happened to one post in a run (also the `post --json` object)."""

    id: str
    account: str
    status: str  # published | failed | unknown | missed | skipped | would-send | would-miss | waiting
    remote_id: str | None = None
    url: str | None = None
    error: str | None = None
    post: Post | None = field(default=None, repr=False)
    wire: list[WireRequest] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape: id, account, status, remote_id, url, error."""
        return {"id": self.id, "account": self.account, "status": self.status, "remote_id": self.remote_id, "url": self.url, "error": self.error}


@dataclass
class RunReport:
    """Everything a run did, for printing and for its exit code."""

    run_id: str
    results: list[Result] = field(default_factory=list)
    drafts: list[Post] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every post went out (or nothing was due); 1 when any failed, became unknown or missed."""
        bad = {"failed", "unknown", "missed", "would-miss"}
        return 1 if any(r.status in bad for r in self.results) else 0

    def counts(self) -> dict[str, int]:
        """Results per status."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


AdapterFactory = Callable[[str], Adapter]


def credentials_problems(calendar: Calendar, account_names: Iterable[str]) -> list[Problem]:
    """One problem per account whose credentials are incomplete."""
    credentials.load_env_file(calendar.root)
    problems = []
    for name in sorted(set(account_names)):
        account = calendar.accounts[name]
        cls = adapters.adapter_class(account.platform)
        keys = {k for s in cls.credential_sets for k in s}
        found = credentials.lookup(name, keys)
        if cls.credential_sets and credentials.complete_set(found, cls.credential_sets) is None:
            problems.append(problem_at(calendar.path, 0, 0, credentials.missing_message(name, cls.credential_sets, found)))
    return problems


def build_adapter(calendar: Calendar, account_name: str, session: Any = None, *, with_credentials: bool = True) -> Adapter:
    """The adapter for an account, with its credentials read from the environment."""
    account = calendar.accounts[account_name]
    cls = adapters.adapter_class(account.platform)
    creds: dict[str, str] = {}
    if with_credentials:
        credentials.load_env_file(calendar.root)
        keys = {k for s in cls.credential_sets for k in s}
        creds = credentials.lookup(account_name, keys)
    return cls(account_name, account.options, creds, session)


def max_grace(calendar: Calendar) -> timedelta:
    """The longest grace of the campaign and its events: how far back a run must look."""
    return max([calendar.campaign.grace] + [e.grace for e in calendar.events if e.grace is not None])


def posts_in_window(calendar: Calendar, now: datetime, since: datetime, *, accounts: Iterable[str] | None = None, renderer: Renderer | None = None) -> list[Post]:
    """Rendered posts due in (since, now]."""
    start, end = window_dates(calendar, since, now)
    return [p for p in expand(calendar, start, end, accounts=accounts, renderer=renderer) if since < p.due <= now]


def lookback_start(calendar: Calendar, ledger: Ledger | None, now: datetime) -> datetime:
    """How far back a run looks for due and missed posts: a day past the longest grace, or back
    to the last run when that is earlier (at most 7 days), so an outage's missed posts are reported."""
    since = now - max_grace(calendar) - FIRST_RUN_LOOKBACK
    last = ledger.last_run("post") if ledger is not None else None
    if last is not None and last.started_at - max_grace(calendar) < since:
        since = max(last.started_at - max_grace(calendar), now - MAX_LOOKBACK)
    return since


def message_for(post: Post, part: int = 0, reply_to: str | None = None) -> Message:
    """The message for a post, or one part of its thread (media and link go with the first part)."""
    key = post.id if len(post.parts) == 1 else f"{post.id}#{part + 1}"
    first = part == 0
    return Message(
        text=post.parts[part],
        idempotency_key=key,
        media=tuple(MediaItem(m.path, m.alt) for m in post.media) if first else (),
        link=post.event.link if first else None,
        reply_to=reply_to,
    )


def meta_for(post: Post, part: int | None = None) -> PostMeta:
    """The ledger's description of a post (or of one thread part)."""
    pid = post.id if part is None else f"{post.id}#{part + 1}"
    return PostMeta(pid, post.event.id, post.account, post.platform, post.language, post.due)


class Publisher:
    """Runs one `campaigner post`: expire stale claims, mark missed, send what is due."""

    def __init__(self, calendar: Calendar, ledger: Ledger, adapter_for: AdapterFactory, *, lease: timedelta = DEFAULT_LEASE,
                 host: str | None = None, pid: int | None = None, alive: Callable[[int], bool] | None = None):
        self.calendar = calendar
        self.ledger = ledger
        self.adapter_for = adapter_for
        self.lease = lease
        self.host = host or socket.gethostname()
        self.pid = pid or os.getpid()
        self.alive = alive or _pid_alive
        self.run_id = uuid.uuid4().hex[:12]

    def run(self, now: datetime, *, accounts: Iterable[str] | None = None, command: str = "post", posts: list[Post] | None = None) -> RunReport:
        """Publish every due post once; return what happened to each."""
        report = RunReport(self.run_id)
        wanted = set(accounts) if accounts else None
        plan = preflight(self.calendar, self.ledger, now, accounts=wanted, posts=posts)

        self.ledger.begin_run(RunRecord(self.run_id, command, self.host, self.pid, now, None, {}, None))
        exit_code = 2
        try:
            for rec in self.ledger.expire_claims(now=now, host=self.host, alive=self.alive):
                if wanted is None or rec.account in wanted:
                    report.results.append(Result(rec.id, rec.account, "unknown", error=self.ledger.states([rec.id])[rec.id].error))
            for post in plan.missed:
                grace = self.calendar.grace_for(post.event)
                detail = f"not sent within {_human(grace)} of its due time {post.due.isoformat()}; it will not be posted late"
                if self.ledger.mark_missed(meta_for(post), run_id=self.run_id, detail=detail, now=now):
                    report.results.append(Result(post.id, post.account, "missed", error=detail, post=post))
            for post, rec in plan.waiting:
                report.results.append(Result(post.id, post.account, "waiting", error=f"{rec.error}; next attempt at {rec.next_attempt.isoformat()}", post=post))
            report.drafts = plan.drafts
            report.results += self._send_all(plan.send, now)
            exit_code = report.exit_code
        finally:
            self.ledger.end_run(self.run_id, counts=report.counts(), exit_code=exit_code, now=now)
        return report

    def _send_all(self, posts: list[Post], now: datetime) -> list[Result]:
        by_account: dict[str, list[Post]] = {}
        for post in posts:
            by_account.setdefault(post.account, []).append(post)
        if not by_account:
            return []
        # One worker per account: accounts proceed independently, each strictly in due order.
        with ThreadPoolExecutor(max_workers=len(by_account), thread_name_prefix="publish") as pool:
            futures = [pool.submit(self._send_account, name, items, now) for name, items in by_account.items()]
            results = [r for f in futures for r in f.result()]
        order = {p.id: i for i, p in enumerate(posts)}
        return sorted(results, key=lambda r: order.get(r.id, 0))

    def _send_account(self, account: str, posts: list[Post], now: datetime) -> list[Result]:
        results: list[Result] = []
        adapter: Adapter | None = None
        for post in posts:
            if not self.ledger.claim(meta_for(post), run_id=self.run_id, host=self.host, pid=self.pid, now=now, lease_until=now + self.lease):
                continue  # another run has it, or it settled since we looked
            try:
                adapter = adapter or self.adapter_for(account)
                receipt = self._publish(adapter, post, now)
            except Transient as f:
                attempts = self.ledger.states([post.id])[post.id].attempts
                at = next_attempt(attempts, now, f.retry_after)
                error = credentials.redact(f"{f.message}; next attempt at {at.isoformat()}")
                self.ledger.record_failed(post.id, run_id=self.run_id, error=error, transient=True, next_attempt=at, now=now)
                results.append(Result(post.id, account, "failed", error=error, post=post))
                break  # keep the account's order: later posts wait for this one
            except Permanent as f:
                error = credentials.redact(f.message + (" (it is probably already on the platform from an earlier post)" if f.duplicate else ""))
                self.ledger.record_failed(post.id, run_id=self.run_id, error=error, transient=False, next_attempt=None, now=now)
                results.append(Result(post.id, account, "failed", error=error, post=post))
            except Ambiguous as f:
                error = credentials.redact(f"{f.message}; check the account, then run 'campaigner resolve {post.id} --published URL' or '--not-published'")
                self.ledger.record_unknown(post.id, run_id=self.run_id, error=error, now=now)
                results.append(Result(post.id, account, "unknown", error=error, post=post))
            except Exception as exc:  # an adapter bug: the request may have gone out, so never retry blindly
                log.debug("adapter crashed", exc_info=True)
                error = credentials.redact(f"unexpected error while sending ({type(exc).__name__}: {exc}); the post may or may not be out: check, then run 'campaigner resolve {post.id}'")
                self.ledger.record_unknown(post.id, run_id=self.run_id, error=error, now=now)
                results.append(Result(post.id, account, "unknown", error=error, post=post))
                if os.environ.get("CAMPAIGNER_DEBUG"):
                    traceback.print_exc()
            else:
                self.ledger.record_published(post.id, run_id=self.run_id, remote_id=receipt.remote_id, url=receipt.url,
                                             text="\n\n".join(post.parts), text_hash=post.text_hash, now=now)
                results.append(Result(post.id, account, "published", receipt.remote_id, receipt.url, post=post))
        return results

    def _publish(self, adapter: Adapter, post: Post, now: datetime) -> Receipt:
        if len(post.parts) == 1:
            return adapter.publish(message_for(post))
        # A thread: each part has its own ledger row, so a resumed thread skips what is out.
        first: Receipt | None = None
        reply_to: str | None = None
        parts = self.ledger.states(meta_for(post, i).id for i in range(len(post.parts)))
        for i, text in enumerate(post.parts):
            meta = meta_for(post, i)
            rec = parts.get(meta.id)
            if rec is not None and rec.state == "published":
                reply_to = rec.remote_id
                first = first or Receipt(rec.remote_id or "", rec.url or "")
                continue
            if rec is not None and rec.state == "unknown":
                raise Ambiguous(f"part {i + 1} of the thread may already be out ({rec.error}); resolve {meta.id} first")
            if not self.ledger.claim(meta, run_id=self.run_id, host=self.host, pid=self.pid, now=now, lease_until=now + self.lease):
                raise Transient(f"part {i + 1} of the thread is held by another run")
            try:
                receipt = adapter.publish(message_for(post, i, reply_to))
            except Transient as f:
                # The post's own row carries the backoff; the part is claimable again with it.
                self.ledger.record_failed(meta.id, run_id=self.run_id, error=credentials.redact(f.message), transient=True, next_attempt=now, now=now)
                raise
            except Permanent as f:
                self.ledger.record_failed(meta.id, run_id=self.run_id, error=credentials.redact(f.message), transient=False, next_attempt=None, now=now)
                raise
            except BaseException as exc:
                self.ledger.record_unknown(meta.id, run_id=self.run_id, error=credentials.redact(str(exc)), now=now)
                raise
            self.ledger.record_published(meta.id, run_id=self.run_id, remote_id=receipt.remote_id, url=receipt.url, text=text,
                                         text_hash=post.text_hash, now=now)
            reply_to = receipt.remote_id
            first = first or receipt
        assert first is not None
        return first


def preflight(calendar: Calendar, ledger: Ledger | None, now: datetime, *, accounts: Iterable[str] | None = None,
              posts: list[Post] | None = None, check_credentials: bool = True) -> Decision:
    """What a run would do, refusing (ConfigError) a post that does not fit or an account without
    credentials: checked before anything is written, so a configuration error changes nothing."""
    wanted = set(accounts) if accounts else None
    if posts is None:
        posts = posts_in_window(calendar, now, lookback_start(calendar, ledger, now), accounts=wanted)
    elif wanted:
        posts = [p for p in posts if p.account in wanted]
    records = ledger.states(p.id for p in posts) if ledger is not None else {}
    plan = decide(posts, records, now, lambda p: calendar.grace_for(p.event))
    _refuse_unfit(plan.send)
    problems = credentials_problems(calendar, {p.account for p in plan.send}) if check_credentials else []
    if problems:
        raise ConfigError(problems)
    return plan


def dry_run(calendar: Calendar, ledger: Ledger | None, now: datetime, *, accounts: Iterable[str] | None = None) -> tuple[RunReport, Decision]:
    """What `post` would do now, with no network and no ledger writes (credentials need not be set)."""
    plan = preflight(calendar, ledger, now, accounts=accounts, check_credentials=False)
    report = RunReport("dry-run", drafts=plan.drafts)
    for post in plan.missed:
        report.results.append(Result(post.id, post.account, "would-miss", error=f"due {post.due.isoformat()}, grace passed", post=post))
    for post, rec in plan.waiting:
        report.results.append(Result(post.id, post.account, "waiting", error=rec.error, post=post))
    adapters_by_account: dict[str, Adapter] = {}
    for post in plan.send:
        adapter = adapters_by_account.setdefault(post.account, build_adapter(calendar, post.account, with_credentials=False))
        wire = [w for i in range(len(post.parts)) for w in adapter.describe(message_for(post, i, "<previous part>" if i else None))]
        report.results.append(Result(post.id, post.account, "would-send", post=post, wire=wire))
    return report, plan


def _refuse_unfit(posts: list[Post]) -> None:
    problems = [
        problem_at(p.event.file, p.event.line, 1, f"post {p.id} is {p.length}/{p.limit} characters on {p.platform}: shorten the template or its vars, or set thread: true")
        for p in posts if not p.fits
    ]
    if problems:
        raise ConfigError(problems)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    h, m = divmod(minutes, 60)
    return f"{h}h{m:02d}m" if m else f"{h}h"
