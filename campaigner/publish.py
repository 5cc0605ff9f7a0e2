"""The one publishing engine: claim -> adapter.publish -> record, for posts and briefings alike.

Failure classification lives in the adapters (Transient, Permanent, Ambiguous); this module only
turns each outcome into the ledger state it means. A claim is committed before any request, so a
crash leaves `claimed`, which the next run turns into `unknown`, never into a second post.
Accounts (and the email channel) publish concurrently, each strictly in due order.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

from campaigner import accounts as accounts_
from campaigner import credentials
from campaigner.errors import Ambiguous, ConfigError, Permanent, PublishFailure, Transient, problem_at
from campaigner.ledger import Ledger, LedgerUnavailable, LedgerWriteFailed, PostMeta, RunRecord, this_host
from campaigner.render import Post, Renderer, expand, window_dates
from campaigner.schedule import Decision, Fate, decide, looked_at, looks_back_to, next_attempt

if TYPE_CHECKING:
    from campaigner.adapters.base import Adapter, Message, Receipt, WireRequest
    from campaigner.calendar import Calendar, Event
    from campaigner.calendar.quiet import QuietWindow
    from campaigner.runtime import Stop

log = logging.getLogger("campaigner.publish")

DEFAULT_LEASE = timedelta(minutes=10)
MAX_LOOKBACK = timedelta(days=7)
FIRST_RUN_LOOKBACK = timedelta(days=1)  # beyond grace, so a first run still reports what it missed


class Deliverable(Protocol):
    """What the engine sends: a rendered post, or a briefing email. Its id keys the ledger."""

    @property
    def id(self) -> str: ...
    @property
    def event(self) -> Event: ...
    @property
    def date(self) -> date: ...
    @property
    def account(self) -> str: ...
    @property
    def platform(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def due(self) -> datetime: ...
    @property
    def parts(self) -> tuple[str, ...]: ...
    @property
    def text_hash(self) -> str: ...
    @property
    def draft(self) -> bool: ...
    @property
    def fits(self) -> bool: ...
    @property
    def length(self) -> int: ...
    @property
    def limit(self) -> int: ...

    def message(self, part: int = 0, reply_to: str | None = None) -> Message:
        """The request's content for one part (media and link go with the first)."""


AdapterFor = Callable[[str], "Adapter"]


@dataclass
class Result:
    """What happened to one post in a run (also the `post --json` object)."""

    id: str
    account: str
    status: str  # published | failed | unknown | missed | skipped | held | would-send | would-miss | waiting
    remote_id: str | None = None
    url: str | None = None
    error: str | None = None
    post: Any = field(default=None, repr=False)  # the Deliverable
    wire: list[WireRequest] = field(default_factory=list, repr=False)
    unrecorded: bool = field(default=False, repr=False)  # the outcome is not in the ledger (it could not be written)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape: id, account, status, remote_id, url, error."""
        return {"id": self.id, "account": self.account, "status": self.status, "remote_id": self.remote_id, "url": self.url, "error": self.error}


@dataclass
class RunReport:
    """Everything a run did, for printing and for its exit code."""

    run_id: str
    results: list[Result] = field(default_factory=list)
    drafts: list[Any] = field(default_factory=list)
    # What could not be done in this run, one line each: an account that could not publish
    # (credentials missing, login refused, server unreachable: its posts stay pending), or the
    # ledger that could not be written (what to do about it).
    account_problems: list[str] = field(default_factory=list)
    interrupted: int | None = None  # the signal that stopped the run early (SIGINT, SIGTERM), if one did

    @property
    def exit_code(self) -> int:
        """0 when every post went out (or nothing was due); 1 when any failed, became unknown or missed,
        or an account could not publish; 128 + the signal's number when a signal stopped the run."""
        if self.interrupted is not None:
            return 128 + self.interrupted
        bad = {"failed", "unknown", "missed", "would-miss"}
        return 1 if self.account_problems or any(r.status in bad for r in self.results) else 0

    def counts(self) -> dict[str, int]:
        """Results per status."""
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def max_grace(calendar: Calendar) -> timedelta:
    """The longest grace of the campaign and its events: how far back a run must look."""
    return max([calendar.campaign.grace] + [e.grace for e in calendar.events if e.grace is not None])


def posts_in_window(calendar: Calendar, now: datetime, since: datetime, *, accounts: Iterable[str] | None = None,
                    renderer: Renderer | None = None) -> list[Post]:
    """Rendered posts due in (since, now], or deferred by a quiet window to then (schedule decides which)."""
    quiet = calendar.quiet
    start, end = window_dates(calendar, looks_back_to(since, now, quiet, max_grace(calendar)), now)
    return [p for p in expand(calendar, start, end, accounts=accounts, renderer=renderer) if looked_at(p, since, now, quiet)]


def lookback_start(calendar: Calendar, ledger: Ledger | None, now: datetime) -> datetime:
    """How far back a run looks for due and missed posts: a day past the longest grace, or back
    to the last run when that is earlier (at most 7 days), so an outage's missed posts are reported."""
    since = now - max_grace(calendar) - FIRST_RUN_LOOKBACK
    last = ledger.last_run("post") if ledger is not None else None
    if last is not None and last.started_at <= now and last.started_at - max_grace(calendar) < since:
        since = max(last.started_at - max_grace(calendar), now - MAX_LOOKBACK)
    return since


def message_for(item: Deliverable, part: int = 0, reply_to: str | None = None) -> Message:
    """The message for a post, or one part of its thread."""
    return item.message(part, reply_to)


def meta_for(item: Deliverable, part: int | None = None) -> PostMeta:
    """The ledger's description of a post (or of one thread part)."""
    pid = item.id if part is None else f"{item.id}#{part + 1}"
    return PostMeta(pid, item.event.id, item.account, item.platform, item.language, item.due)


class Plan:
    """What a run will do: the schedule's decision, and the accounts that cannot publish now."""

    def __init__(self, decision: Decision, blocked: dict[str, str]):
        self.decision = decision
        self.blocked = blocked  # account -> why it cannot publish in this run

    @property
    def send(self) -> list[Any]:
        """What will be claimed and sent, in due order (the blocked accounts' posts left out)."""
        return [p for p in self.decision.send if p.account not in self.blocked]


class Publisher:
    """Runs one publishing pass: expire stale claims, mark missed, send what is due."""

    def __init__(self, calendar: Calendar, ledger: Ledger, adapter_for: AdapterFor, *, lease: timedelta = DEFAULT_LEASE,
                 host: str | None = None, pid: int | None = None, alive: Callable[[int], bool] | None = None,
                 renderer: Renderer | None = None, stop: Stop | None = None):
        self.calendar = calendar
        self.ledger = ledger
        self.adapter_for = adapter_for
        self.lease = lease
        self.host = host or this_host()
        self.pid = pid or os.getpid()
        self.alive = alive or _pid_alive
        self.renderer = renderer
        self.stop = stop  # once set, nothing more is claimed; what is in flight finishes and is recorded
        self.run_id = uuid.uuid4().hex[:12]
        self._ledger_down = threading.Event()  # set when the ledger cannot be written: claim nothing more
        self._ledger_lock = threading.Lock()
        self._ledger_failure: LedgerWriteFailed | None = None
        self._reconnected = False
        self._started = time.monotonic()
        self._now: datetime | None = None

    def _claim_time(self) -> datetime:
        """The run's `now` plus the time it has run: a claim's lease counts from the claim, not from the run's start."""
        assert self._now is not None
        return self._now + timedelta(seconds=time.monotonic() - self._started)

    def reconcile(self, now: datetime, *, accounts: Iterable[str] | None = None, paid_reads: bool = False) -> Any:
        """`campaigner reconcile`: settle every unknown post the platforms can answer for
        (reconcile.settle), and send again, through this engine, the ones whose retry is safe."""
        from campaigner import reconcile

        settled, retry = reconcile.settle(self.calendar, self.ledger, self.adapter_for, now, accounts=accounts, paid_reads=paid_reads,
                                          renderer=self.renderer)
        run = self.run(now, posts=retry, command="reconcile") if retry else None
        return reconcile.Reconciled(settled, run)

    def run(self, now: datetime, *, accounts: Iterable[str] | None = None, command: str = "post",
            posts: Sequence[Deliverable] | None = None, check_credentials: bool = True,
            quiet: Sequence[QuietWindow] | None = None) -> RunReport:
        """Publish every due post (or the given ones) once; return what happened to each.

        `quiet`: the windows that hold posts (default: the calendar's; `()` when a person chose to
        publish despite them, as `condemn --despite-quiet` does)."""
        report = RunReport(self.run_id)
        wanted = set(accounts) if accounts else None
        if posts is None and command == "post":
            report.results += self._settle_unknown(now, wanted)
        try:
            plan = preflight(self.calendar, self.ledger, now, accounts=wanted, posts=posts, check_credentials=check_credentials,
                             renderer=self.renderer, quiet=quiet)
        except ConfigError as exc:
            self._refused(command, now, exc)
            raise
        decision = plan.decision

        self._now, self._started = now, time.monotonic()
        try:
            self.ledger.begin_run(RunRecord(self.run_id, command, self.host, self.pid, now, None, {}, None))
        except LedgerWriteFailed as exc:
            raise LedgerUnavailable(f"{exc}; nothing was sent. {exc.advice[0].upper()}{exc.advice[1:]}") from None
        exit_code = 2
        try:
            for rec in self.ledger.expire_claims(now=now, host=self.host, alive=self.alive):
                if wanted is None or rec.account in wanted:
                    report.results.append(Result(rec.id, rec.account, "unknown", error=self.ledger.states([rec.id])[rec.id].error))
            for post in decision.missed:
                grace = self.calendar.grace_for(post.event)
                detail = f"not sent within {_human(grace)} of its due time {post.due.isoformat()}; it will not be posted late"
                if self.ledger.mark_missed(meta_for(post), run_id=self.run_id, detail=detail, now=now):
                    report.results.append(Result(post.id, post.account, "missed", error=detail, post=post))
            for post, window in decision.skipped:
                detail = f"{window.reason()}: never sent (after: skip)"
                if self.ledger.mark_skipped(meta_for(post), run_id=self.run_id, detail=detail, now=now):
                    report.results.append(Result(post.id, post.account, "skipped", error=detail, post=post))
            for post, fate in decision.held:
                report.results.append(Result(post.id, post.account, "held", error=held_detail(self.calendar, fate), post=post))
            for post, why in decision.waiting:
                report.results.append(Result(post.id, post.account, "waiting", error=why, post=post))
            report.drafts = decision.drafts
            report.account_problems += [f"{why}; its posts stay pending until that is fixed" for why in plan.blocked.values()]
            report.results += self._send_all(plan.send, now, report)
        except LedgerWriteFailed as exc:
            self._ledger_failed(exc)
        finally:
            if self._ledger_failure is not None:
                report.account_problems.append(self._ledger_report(report))
            if self.stop is not None and self.stop.signal is not None:
                report.interrupted = self.stop.signal
            exit_code = report.exit_code
            try:
                self.ledger.end_run(self.run_id, counts=report.counts(), exit_code=exit_code, now=now)
            except LedgerWriteFailed as exc:
                if self._ledger_failure is None:  # the run itself went well: only its end is not recorded
                    report.account_problems.append(f"the run's end could not be recorded: {exc}; {exc.advice}")
        return report

    def _settle_unknown(self, now: datetime, wanted: set[str] | None) -> list[Result]:
        """Unknown posts whose retry is provably safe (a platform that deduplicates by key) are
        looked up first: found is published, absent is made pending and goes out in this run."""
        if not self.ledger.exists or self.ledger.readonly:
            return []
        from campaigner import reconcile

        try:
            settled, _ = reconcile.settle(self.calendar, self.ledger, self.adapter_for, now, accounts=wanted, safe_only=True, renderer=self.renderer)
        except LedgerWriteFailed as exc:
            log.warning("unknown posts were not settled: %s", exc)
            return []
        return [Result(s.id, s.account, "published", url=s.url, error=f"settled: {s.detail}") for s in settled if s.outcome == "published"]

    def _refused(self, command: str, now: datetime, exc: ConfigError) -> None:
        """A run that a configuration error stopped before anything was claimed is still a run: it is
        recorded (in a ledger that exists: none is created for it) with why, so `status` can tell
        that cron runs but fails, rather than that nothing runs. No post's state changes."""
        if not self.ledger.exists or self.ledger.readonly:
            return
        problems = [p.message for p in exc.problems]
        error = credentials.redact("; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))
        try:
            self.ledger.begin_run(RunRecord(self.run_id, command, self.host, self.pid, now, None, {}, None))
            self.ledger.end_run(self.run_id, counts={}, exit_code=2, now=now, error=error)
        except LedgerWriteFailed:
            pass  # the configuration error is what the person must hear about

    def _ledger_failed(self, exc: LedgerWriteFailed) -> None:
        """The ledger could not be written: stop claiming, remember the first reason for the report."""
        self._ledger_down.set()
        with self._ledger_lock:
            if self._ledger_failure is None:
                self._ledger_failure = exc

    def _ledger_report(self, report: RunReport) -> str:
        exc = self._ledger_failure
        assert exc is not None
        published = sum(r.status == "published" for r in report.results)
        unrecorded = [r.id for r in report.results if r.unrecorded]
        lines = [f"the ledger could not be written, so this run stopped sending: {exc}",
                 f"  {published} post(s) were published and recorded before that."]
        if unrecorded:
            lines.append(f"  {len(unrecorded)} post(s) went out (or may have) but could not be recorded; they show as unknown: "
                         + ", ".join(unrecorded) + ". Check each account, then 'campaigner resolve ID --published URL' or '--not-published'.")
        lines.append(f"  Posts not attempted stay pending for the next run. To do: {exc.advice}.")
        return "\n".join(lines)

    def _record(self, result: Result, write: Callable[[], None]) -> Result:
        """Write a result to the ledger; when it cannot be written, reconnect once (a server's
        connection may have dropped) and try again, else report it as unknown, never as settled."""
        try:
            write()
            return result
        except LedgerWriteFailed as exc:
            self._ledger_failed(exc)
            with self._ledger_lock:
                retry, self._reconnected = not self._reconnected, True
            if retry and self.ledger.reconnect():
                try:
                    write()
                    return result
                except LedgerWriteFailed:
                    pass
        said = f"published at {result.url}" if result.status == "published" else f"{result.status} ({result.error})"
        return Result(result.id, result.account, "unknown", result.remote_id, result.url, post=result.post, unrecorded=True,
                      error=f"{said}, but the ledger could not record it: it stays claimed and shows as unknown; check the account, "
                            f"then 'campaigner resolve {result.id} --published URL' or '--not-published'")

    def _send_all(self, items: list[Deliverable], now: datetime, report: RunReport) -> list[Result]:
        by_account: dict[str, list[Deliverable]] = {}
        for item in items:
            by_account.setdefault(item.account, []).append(item)
        if not by_account:
            return []
        # One worker per account: accounts proceed independently, each strictly in due order.
        with ThreadPoolExecutor(max_workers=len(by_account), thread_name_prefix="publish") as pool:
            futures = [pool.submit(self._send_account, name, queue, now) for name, queue in by_account.items()]
            outcomes = [f.result() for f in futures]
        results = [r for rs, _ in outcomes for r in rs]
        report.account_problems += [problem for _, problem in outcomes if problem]
        order = {p.id: i for i, p in enumerate(items)}
        return sorted(results, key=lambda r: order.get(r.id, 0))

    def _open(self, account: str) -> Adapter:
        """The account's adapter, ready to send (logged in, connected) before anything is claimed."""
        adapter = self.adapter_for(account)
        adapter.open()
        return adapter

    def _send_account(self, account: str, queue: list[Deliverable], now: datetime) -> tuple[list[Result], str | None]:
        """Send an account's items in due order: (results, why nothing more could be sent, if so)."""
        results: list[Result] = []
        adapter: Adapter | None = None
        try:
            for item in queue:
                if self._ledger_down.is_set() or (self.stop is not None and self.stop.is_set()):
                    break  # the ledger cannot be written, or a signal asked to stop: the rest stay pending
                if adapter is None:
                    try:
                        adapter = self._open(account)
                    except (PublishFailure, ConfigError) as exc:
                        # Nothing was claimed: the posts stay pending, and go out at a later run.
                        why = exc.message if isinstance(exc, PublishFailure) else "; ".join(p.message for p in exc.problems)
                        return results, credentials.redact(f"account {account}: nothing sent in this run: {why}")
                claimed_at = self._claim_time()
                try:
                    if not self.ledger.claim(meta_for(item), run_id=self.run_id, host=self.host, pid=self.pid, now=claimed_at,
                                             lease_until=claimed_at + self.lease):
                        continue  # another run has it, or it settled since we looked
                except LedgerWriteFailed as exc:
                    self._ledger_failed(exc)  # not claimed (or not known to be): not sent
                    break
                result = self._send_one(adapter, item, now)
                results.append(result)
                if result.status == "failed" and self.ledger.states([item.id])[item.id].transient:
                    break  # keep the account's order: later posts wait for this one
                if result.status == "unknown":
                    break  # the platform may be hanging or broken: the later posts go at the next run, in order
            return results, None
        finally:
            if adapter is not None:
                adapter.close()

    def _send_one(self, adapter: Adapter, item: Deliverable, now: datetime) -> Result:
        """Send one claimed item and record its outcome; never raises for a platform's answer or the ledger's."""
        try:
            return self._send_and_record(adapter, item, now)
        except LedgerWriteFailed as exc:  # a thread's parts, or a read between sending and recording
            self._ledger_failed(exc)
            return Result(item.id, item.account, "unknown", post=item, unrecorded=True,
                          error=f"the ledger failed while it was being sent, so its outcome is not recorded: check the account, "
                                f"then 'campaigner resolve {item.id} --published URL' or '--not-published'")

    def _send_and_record(self, adapter: Adapter, item: Deliverable, now: datetime) -> Result:
        account = item.account
        try:
            receipt = self._publish(adapter, item, now)
        except LedgerWriteFailed:
            raise
        except Transient as f:
            attempts = self.ledger.states([item.id])[item.id].attempts
            at = next_attempt(attempts, now, f.retry_after)
            local = at.astimezone(self.calendar.campaign.tz).isoformat(timespec="minutes")  # local, as every time a run prints
            error = credentials.redact(f"{f.message}; next attempt at {local}")
            return self._record(Result(item.id, account, "failed", error=error, post=item), lambda: self.ledger.record_failed(
                item.id, run_id=self.run_id, error=error, transient=True, next_attempt=at, now=now))
        except Permanent as f:
            error = credentials.redact(f.message + (" (it is probably already on the platform from an earlier post)" if f.duplicate else ""))
            return self._record(Result(item.id, account, "failed", error=error, post=item), lambda: self.ledger.record_failed(
                item.id, run_id=self.run_id, error=error, transient=False, next_attempt=None, now=now))
        except Ambiguous as f:
            error = credentials.redact(f"{f.message}; check the account, then run 'campaigner resolve {item.id} --published URL' or '--not-published'")
            return self._record(Result(item.id, account, "unknown", error=error, post=item), lambda: self.ledger.record_unknown(
                item.id, run_id=self.run_id, error=error, now=now))
        except Exception as exc:  # an adapter bug: the request may have gone out, so never retry blindly
            log.debug("adapter crashed", exc_info=True)
            error = credentials.redact(f"unexpected error while sending ({type(exc).__name__}: {exc}); the post may or may not be out: check, then run 'campaigner resolve {item.id}'")
            if os.environ.get("CAMPAIGNER_DEBUG"):
                traceback.print_exc()
            return self._record(Result(item.id, account, "unknown", error=error, post=item), lambda: self.ledger.record_unknown(
                item.id, run_id=self.run_id, error=error, now=now))
        return self._record(Result(item.id, account, "published", receipt.remote_id, receipt.url, post=item), lambda: self.ledger.record_published(
            item.id, run_id=self.run_id, remote_id=receipt.remote_id, url=receipt.url, text="\n\n".join(item.parts), text_hash=item.text_hash, now=now))

    def _publish(self, adapter: Adapter, item: Deliverable, now: datetime) -> Receipt:
        if len(item.parts) == 1:
            return adapter.publish(message_for(item))
        from campaigner.adapters.base import Receipt

        # A thread: each part has its own ledger row, so a resumed thread skips what is out.
        first: Receipt | None = None
        reply_to: str | None = None
        parts = self.ledger.states(meta_for(item, i).id for i in range(len(item.parts)))
        for i, text in enumerate(item.parts):
            meta = meta_for(item, i)
            rec = parts.get(meta.id)
            if rec is not None and rec.state == "published":
                reply_to = rec.remote_id
                first = first or Receipt(rec.remote_id or "", rec.url or "")
                continue
            if rec is not None and rec.state == "unknown":
                raise Ambiguous(f"part {i + 1} of the thread may already be out ({rec.error}); resolve {meta.id} first")
            claimed_at = self._claim_time()
            if not self.ledger.claim(meta, run_id=self.run_id, host=self.host, pid=self.pid, now=claimed_at, lease_until=claimed_at + self.lease):
                raise Transient(f"part {i + 1} of the thread is held by another run")
            try:
                receipt = adapter.publish(message_for(item, i, reply_to))
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
                                         text_hash=item.text_hash, now=now)
            reply_to = receipt.remote_id
            first = first or receipt
        assert first is not None
        return first


def preflight(calendar: Calendar, ledger: Ledger | None, now: datetime, *, accounts: Iterable[str] | None = None,
              posts: Sequence[Deliverable] | None = None, check_credentials: bool = True, renderer: Renderer | None = None,
              quiet: Sequence[QuietWindow] | None = None) -> Plan:
    """What a run would do, checked before anything is written: a post that does not fit is a
    configuration error (ConfigError); an account without credentials is blocked (its posts stay
    pending) unless no account at all could publish, which is a configuration error too.
    `quiet`: the windows that hold posts, the calendar's unless given."""
    wanted = set(accounts) if accounts else None
    if posts is None:
        items: list[Any] = posts_in_window(calendar, now, lookback_start(calendar, ledger, now), accounts=wanted, renderer=renderer)
    else:
        items = [p for p in posts if wanted is None or p.account in wanted]
    records = ledger.states(p.id for p in items) if ledger is not None else {}
    decision = decide(items, records, now, lambda p: calendar.grace_for(p.event), calendar.quiet if quiet is None else quiet)
    _refuse_unfit(decision.send)
    blocked: dict[str, str] = {}
    if check_credentials:
        due_accounts = {p.account for p in decision.send if p.account in calendar.accounts}
        problems = accounts_.credential_problems(calendar, due_accounts)
        if problems and len(problems) == len(due_accounts):
            raise ConfigError(list(problems.values()))  # nothing could be published at all: a configuration error
        blocked = {name: p.message for name, p in problems.items()}
    return Plan(decision, blocked)


def dry_run(calendar: Calendar, ledger: Ledger | None, now: datetime, describe_with: AdapterFor, *,
            accounts: Iterable[str] | None = None, renderer: Renderer | None = None) -> RunReport:
    """What `post` would do now, with no network and no ledger writes (credentials need not be set)."""
    plan = preflight(calendar, ledger, now, accounts=accounts, check_credentials=False, renderer=renderer)
    decision = plan.decision
    report = RunReport("dry-run", drafts=decision.drafts)
    if ledger is not None:
        from campaigner import reconcile

        for rec, label in reconcile.safe_unknown(calendar, ledger, now, accounts):
            report.results.append(Result(rec.id, rec.account, "would-look-up",
                                         error=f"unknown: {label} is asked first; found is recorded as published, absent is sent again with the same key"))
    for post in decision.missed:
        report.results.append(Result(post.id, post.account, "would-miss", error=f"due {post.due.isoformat()}, grace passed", post=post))
    for post, window in decision.skipped:
        report.results.append(Result(post.id, post.account, "held", error=f"{window.reason()}: it would be recorded as skipped, never sent (after: skip)", post=post))
    for post, fate in decision.held:
        report.results.append(Result(post.id, post.account, "held", error=held_detail(calendar, fate), post=post))
    for post, why in decision.waiting:
        report.results.append(Result(post.id, post.account, "waiting", error=why, post=post))
    for post in plan.send:
        adapter = describe_with(post.account)
        wire = [w for i in range(len(post.parts)) for w in adapter.describe(message_for(post, i, "<previous part>" if i else None))]
        report.results.append(Result(post.id, post.account, "would-send", post=post, wire=wire))
    return report


def held_detail(calendar: Calendar, fate: Fate) -> str:
    """Why a deferred post waits, and when it goes: 'held by quiet window ...: due 2027-06-07 09:00 when it ends (after: defer)'."""
    assert fate.first is not None and fate.last is not None
    at = fate.at.astimezone(calendar.campaign.tz).strftime("%Y-%m-%d %H:%M")
    if not fate.sent:
        return f"{fate.first.reason()}: deferred to {at}, which quiet window '{fate.last.name}' holds: it will then be recorded as skipped, never sent"
    if fate.last.name != fate.first.name:
        return f"{fate.first.reason()}, then by '{fate.last.name}': due {at} when that ends (after: defer)"
    return f"{fate.first.reason()}: due {at} when it ends (after: defer)"


def _refuse_unfit(posts: Sequence[Deliverable]) -> None:
    from campaigner import checks

    problems = [
        problem_at(p.event.file, p.event.line, 1, f"post {p.id} is {p.length}/{p.limit} characters on {p.platform}: shorten the template or its vars, or set thread: true")
        for p in posts if not p.fits
    ] + checks.refusals(posts)  # empty texts, images the platform refuses: before anything is sent
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
