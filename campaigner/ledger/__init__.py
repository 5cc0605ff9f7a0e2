"""The state store: one row per post id, its history, and the runs, behind one small interface.

Backends register by URL scheme (`sqlite`, `postgresql`/`postgres`); `open_ledger(url)` finds the backend and
imports its module (and its driver) only then, so `--help`, `plan` and `validate` on SQLite never
import a database driver they do not use. Every row belongs to one campaign (a stable key, see
`campaign_key`), and a `Ledger` sees only its own campaign's rows.
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Protocol, overload

from campaigner.errors import CampaignerError, ConfigError

DEFAULT_CAMPAIGN = "campaign"


class PostMeta(NamedTuple):
    """What the ledger stores about a post besides its state (for status and history)."""

    id: str
    event: str
    account: str
    platform: str
    language: str
    due: datetime


class PostRecord(NamedTuple):
    """One post's row in the ledger."""

    id: str
    event: str
    account: str
    platform: str
    language: str
    due: datetime
    state: str
    transient: bool
    attempts: int
    next_attempt: datetime | None
    run_id: str | None
    host: str | None
    pid: int | None
    claimed_at: datetime | None
    lease_until: datetime | None
    remote_id: str | None
    url: str | None
    published_at: datetime | None
    text_sent: str | None
    text_hash: str | None
    error: str | None
    updated_at: datetime


class RunRecord(NamedTuple):
    """One `campaigner post` (or watch) run."""

    id: str
    command: str
    host: str
    pid: int
    started_at: datetime
    ended_at: datetime | None
    counts: dict[str, int]
    exit_code: int | None
    error: str | None = None  # why a run ended in a configuration error (exit 2), for `status`


class LogLine(NamedTuple):
    """One line of a post's history."""

    at: datetime
    post_id: str
    state: str
    run_id: str | None
    detail: str | None


class FeedItem(NamedTuple):
    """A feed item `watch` has seen, and the event it drafted (if any)."""

    feed: str
    item_key: str
    seen_at: datetime
    event_id: str | None


class FeedState(NamedTuple):
    """The validators remembered for a feed's next conditional GET."""

    feed: str
    etag: str | None
    modified: str | None
    checked_at: datetime | None


class Dump(NamedTuple):
    """A campaign's whole ledger, as `ledger copy` moves it."""

    posts: list[PostRecord]
    log: list[LogLine]
    runs: list[RunRecord]
    feed_items: list[FeedItem]
    feed_states: list[FeedState]


class Loaded(NamedTuple):
    """What `Ledger.load` wrote (rows already there, the same, are not counted)."""

    posts: int
    log: int
    runs: int
    feed_items: int
    feed_states: int


# ---------------------------------------------------------------- errors


class LedgerBusy(CampaignerError):
    """The ledger stayed locked by another process for the whole busy timeout; nothing was written."""

    exit_code = 2


class LedgerUnavailable(CampaignerError):
    """The ledger's server cannot be reached (or refused us) at the start; nothing was attempted."""

    exit_code = 2


class LedgerWriteFailed(CampaignerError):
    """A write did not reach the ledger (locked, disk full, connection lost) in the middle of a run.

    `committed` says what is known of that write: False (it certainly did not happen), or None (the
    connection was lost before the commit's answer arrived: it may have happened).
    """

    exit_code = 1

    def __init__(self, message: str, *, advice: str, committed: bool | None = False):
        super().__init__(message)
        self.advice = advice
        self.committed = committed


# ---------------------------------------------------------------- the interfaces


class FeedStore(Protocol):
    """The feed tables, used only by `watch`: which items were seen, and each feed's validators."""

    def feed_item_seen(self, feed: str, item_key: str) -> bool:
        """Whether a feed item was seen before."""

    def remember_feed_item(self, feed: str, item_key: str, *, event_id: str | None, now: datetime) -> bool:
        """Record a feed item once; True only for the caller that recorded it first (durable on return)."""

    def feed_state(self, feed: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified remembered for a feed."""

    def set_feed_state(self, feed: str, *, etag: str | None, modified: str | None, now: datetime) -> None:
        """Remember a feed's validators for the next conditional GET."""


class Ledger(Protocol):
    """The interface every backend implements, for one campaign; each write is atomic on its own.

    Durability, the rule at-most-once rests on:
    - `claim` is durable when it returns True: the row is `claimed` on disk (SQLite: an fsync'd
      commit; PostgreSQL: a committed transaction, synchronous_commit on) before any request for
      that post leaves. A crash or power cut afterwards leaves the claim, which the next run turns
      into `unknown`, never into a second send.
    - `mark_missed`, `mark_skipped`, `resolve`, `begin_run`, `remember_feed_item` are durable on return too.
    - `record_published`, `record_failed`, `record_unknown`, `end_run` and `set_feed_state` may be
      lazy: they survive the process being killed, and reach the disk with the next durable write.
      Only a power cut (or a database crash) in between can lose one, and then the post stays
      `claimed`, becomes `unknown`, and waits for a person: never sent twice.
    A write that cannot reach the ledger raises `LedgerWriteFailed` (or `LedgerBusy` when nothing
    of the run was written yet); reads never return a torn state: a read-only ledger reads one
    consistent snapshot for its whole life.
    """

    url: str  # the ledger's URL for messages, with any password masked
    campaign: str  # the campaign whose rows this ledger sees
    exists: bool  # False only for the empty read-only view of a ledger not created yet
    readonly: bool

    @property
    def feeds(self) -> FeedStore:
        """The feed tables of this campaign."""

    def states(self, ids: Iterable[str]) -> dict[str, PostRecord]:
        """The records that exist for these post ids."""

    def records(self, *, states: Iterable[str] | None = None, account: str | None = None, since: datetime | None = None) -> list[PostRecord]:
        """Records filtered by state, account, and last change at or after `since`, oldest first."""

    def claim(self, meta: PostMeta, *, run_id: str, host: str, pid: int, now: datetime, lease_until: datetime) -> bool:
        """Atomically take a post for sending; True only for the one caller that got it. Durable on return."""

    def record_published(self, post_id: str, *, run_id: str, remote_id: str, url: str, text: str, text_hash: str, now: datetime) -> None:
        """The platform accepted the post (may be lazy)."""

    def record_failed(self, post_id: str, *, run_id: str, error: str, transient: bool, next_attempt: datetime | None, now: datetime) -> None:
        """The platform refused (transient: retry at next_attempt; permanent: never) (may be lazy)."""

    def record_unknown(self, post_id: str, *, run_id: str | None, error: str, now: datetime) -> None:
        """The request may have reached the platform; only a person may settle it (may be lazy)."""

    def mark_missed(self, meta: PostMeta, *, run_id: str, detail: str, now: datetime) -> bool:
        """Grace passed before any attempt; True when this call made it missed."""

    def mark_skipped(self, meta: PostMeta, *, run_id: str, detail: str, now: datetime) -> bool:
        """A quiet window held it (after: skip): never to be sent; True when this call made it skipped."""

    def expire_claims(self, *, now: datetime, host: str, alive: Callable[[int], bool]) -> list[PostRecord]:
        """Claims whose lease expired, or whose process on this host is gone, become unknown."""

    def resolve(self, post_id: str, *, published_url: str | None, remote_id: str | None, skip: bool, now: datetime, who: str) -> PostRecord:
        """A person settles a post: published (with its URL), not published (eligible again), or skipped."""

    def counts(self) -> dict[str, int]:
        """How many posts are in each state."""

    def log(self, post_id: str | None = None) -> list[tuple[datetime, str, str, str | None, str | None]]:
        """The history of one post (or all): (at, post id, state, run id, detail)."""

    def begin_run(self, run: RunRecord) -> None:
        """Record the start of a run (durable on return)."""

    def end_run(self, run_id: str, *, counts: dict[str, int], exit_code: int, now: datetime, error: str | None = None) -> None:
        """Record the end of a run with its counts and exit code, and why it failed if it did (may be lazy)."""

    def last_run(self, command: str | None = None, *, before: datetime | None = None) -> RunRecord | None:
        """The most recent run (of a command), started at or before `before` when given."""

    def recent_runs(self, command: str, *, before: datetime, limit: int) -> list[RunRecord]:
        """The last `limit` runs of a command started at or before `before`, latest first."""

    def hosts_since(self, since: datetime) -> list[RunRecord]:
        """The last run of each host that started a run at or after `since`, latest first."""

    def dump(self) -> Dump:
        """Everything this campaign holds, for `ledger copy`."""

    def load(self, dump: Dump) -> Loaded:
        """Write a dump into this campaign in one transaction; refuse (ConfigError) a post that exists here in another state."""

    def reconnect(self) -> bool:
        """After a write failed with a lost connection: connect again (True), or False when that cannot help."""

    def close(self) -> None:
        """Release the connection."""


# ---------------------------------------------------------------- backends


class Backend(NamedTuple):
    """How one URL scheme's ledger is opened and found."""

    open: Callable[..., Ledger]  # (url, *, readonly, create, campaign) -> Ledger
    exists: Callable[[str], bool]


_BACKENDS: dict[str, Callable[[], Backend]] = {}
_LOADED: dict[str, Backend] = {}


def register_backend(scheme: str, load: Callable[[], Backend]) -> None:
    """Register a backend for `scheme://` URLs; `load` imports it on first use. A scheme is registered once."""
    if scheme in _BACKENDS:
        raise ValueError(f"ledger backend '{scheme}' is already registered")
    _BACKENDS[scheme] = load


def _sqlite() -> Backend:
    from campaigner.ledger import sqlite

    return Backend(sqlite.open_sqlite, sqlite.sqlite_exists)


def _postgres() -> Backend:
    from campaigner.ledger import postgres

    return Backend(postgres.open_postgres, postgres.postgres_exists)


register_backend("sqlite", _sqlite)
register_backend("postgresql", _postgres)
register_backend("postgres", _postgres)


def scheme_of(url: str) -> str:
    """The URL's scheme; a bare path is a SQLite file."""
    return url.split("://", 1)[0].lower() if "://" in url else "sqlite"


def _backend(url: str) -> Backend:
    scheme = scheme_of(url)
    if scheme not in _BACKENDS:
        known = ", ".join(f"{s}://" for s in sorted(_BACKENDS))
        raise ConfigError(f"--db {mask_url(url)}: no ledger backend for '{scheme}://' URLs (known: {known})")
    if scheme not in _LOADED:
        _LOADED[scheme] = _BACKENDS[scheme]()
    return _LOADED[scheme]


def open_ledger(url: str, *, readonly: bool = False, create: bool = False, campaign: str = DEFAULT_CAMPAIGN) -> Ledger:
    """Open the ledger at `url` for one campaign.

    readonly: reads one consistent snapshot and writes nothing; a ledger that does not exist yet
    gives an empty view (`ledger.exists` is False) and creates nothing. Writable opens of a ledger
    that does not exist create it only when `create` is true, else raise ConfigError naming it.
    """
    if readonly and scheme_of(url) == "sqlite" and not url.endswith(":memory:") and not sqlite_path(url).exists():
        return EmptyLedger(url, campaign)  # before importing sqlite3: a first `plan` has no ledger to read
    return _backend(url).open(url, readonly=readonly, create=create, campaign=campaign)


def ledger_exists(url: str) -> bool:
    """Whether the ledger at `url` has been created (the backend decides what that means)."""
    return _backend(url).exists(url)


class EmptyLedger:
    """The read-only view of a ledger that does not exist yet: every read is empty, every write refused."""

    exists = False
    readonly = True

    def __init__(self, url: str, campaign: str = DEFAULT_CAMPAIGN):
        self.url = mask_url(url)
        self.campaign = campaign

    @property
    def feeds(self) -> EmptyLedger:
        """No feed seen yet."""
        return self

    def _refuse(self, *_: Any, **__: Any) -> Any:
        raise ConfigError(f"{self.url}: the ledger does not exist yet, and this command opened it read-only")

    claim = record_published = record_failed = record_unknown = mark_missed = mark_skipped = resolve = _refuse
    begin_run = end_run = load = remember_feed_item = set_feed_state = _refuse

    def states(self, ids: Iterable[str]) -> dict[str, PostRecord]:
        """Nothing is recorded."""
        return {}

    def records(self, *, states: Iterable[str] | None = None, account: str | None = None, since: datetime | None = None) -> list[PostRecord]:
        """Nothing is recorded."""
        return []

    def expire_claims(self, *, now: datetime, host: str, alive: Callable[[int], bool]) -> list[PostRecord]:
        """No claims."""
        return []

    def counts(self) -> dict[str, int]:
        """No posts."""
        return {}

    def log(self, post_id: str | None = None) -> list[tuple[datetime, str, str, str | None, str | None]]:
        """No history."""
        return []

    def last_run(self, command: str | None = None, *, before: datetime | None = None) -> RunRecord | None:
        """No runs."""
        return None

    def recent_runs(self, command: str, *, before: datetime, limit: int) -> list[RunRecord]:
        """No runs."""
        return []

    def hosts_since(self, since: datetime) -> list[RunRecord]:
        """No runs."""
        return []

    def dump(self) -> Dump:
        """An empty campaign."""
        return Dump([], [], [], [], [])

    def feed_item_seen(self, feed: str, item_key: str) -> bool:
        """Nothing seen."""
        return False

    def feed_state(self, feed: str) -> tuple[str | None, str | None]:
        """No validators."""
        return (None, None)

    def reconnect(self) -> bool:
        """Nothing to reconnect."""
        return False

    def close(self) -> None:
        """Nothing to release."""


# ---------------------------------------------------------------- URLs, keys, hosts, time


def default_url(calendar_path: Path) -> str:
    """`.campaigner/state.db` beside the calendar."""
    return f"sqlite:///{(calendar_path.parent / '.campaigner' / 'state.db').resolve()}"


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL (or a bare path)."""
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    if "://" in url:
        raise ConfigError(f"--db {mask_url(url)}: a SQLite ledger is written sqlite:///PATH (three slashes, then the path)")
    return Path(url)


_PASSWORD_IN_NETLOC = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@?#]*):[^@/?#]*@", re.IGNORECASE)
_PASSWORD_IN_QUERY = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, for every message that names a ledger."""
    return _PASSWORD_IN_QUERY.sub(r"\1***", _PASSWORD_IN_NETLOC.sub(r"\1:***@", url))


def campaign_key(campaign: Any) -> str:
    """A campaign's stable ledger key: `campaign.id`, else its name slugified (lowercase letters, digits, -)."""
    explicit = getattr(campaign, "id", None)
    if explicit:
        return str(explicit)
    ascii_name = unicodedata.normalize("NFKD", str(getattr(campaign, "name", "") or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or DEFAULT_CAMPAIGN


def this_host() -> str:
    """This host's name in the ledger: CAMPAIGNER_HOST, else the machine's host name."""
    import socket

    return os.environ.get("CAMPAIGNER_HOST", "").strip() or socket.gethostname()


def busy_timeout() -> float:
    """Seconds to wait for a locked ledger (or a server) before giving up: CAMPAIGNER_LEDGER_TIMEOUT, default 30."""
    value = os.environ.get("CAMPAIGNER_LEDGER_TIMEOUT", "").strip()
    try:
        return max(0.05, float(value)) if value else 30.0
    except ValueError:
        raise ConfigError(f"CAMPAIGNER_LEDGER_TIMEOUT={value!r}: give a number of seconds, e.g. 30") from None


def utc(dt: datetime) -> str:
    """The one timestamp format stored as text: UTC, ISO 8601, microseconds (sorts as text)."""
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


@overload
def parse_utc(text: str) -> datetime: ...
@overload
def parse_utc(text: None) -> None: ...
@overload
def parse_utc(text: str | None) -> datetime | None: ...
def parse_utc(text: str | None) -> datetime | None:
    """Inverse of utc()."""
    return datetime.fromisoformat(text) if text else None
