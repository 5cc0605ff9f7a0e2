"""The state store: one row per post id, its history, and the runs, behind one small interface.

SQLite is the embedded default. The SQL is kept portable (TEXT timestamps in UTC ISO 8601,
`INSERT ... ON CONFLICT ... DO UPDATE ... WHERE` for every claim) so that a PostgreSQL backend for
several hosts can implement the same interface.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Protocol, overload

from campaigner.errors import ConfigError

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


class Ledger(Protocol):
    """The interface every backend implements; each write is atomic on its own."""

    def states(self, ids: Iterable[str]) -> dict[str, PostRecord]:
        """The records that exist for these post ids."""

    def records(self, *, states: Iterable[str] | None = None, account: str | None = None, since: datetime | None = None) -> list[PostRecord]:
        """Records filtered by state, account, and last change at or after `since`, oldest first."""

    def claim(self, meta: PostMeta, *, run_id: str, host: str, pid: int, now: datetime, lease_until: datetime) -> bool:
        """Atomically take a post for sending; True only for the one caller that got it."""

    def record_published(self, post_id: str, *, run_id: str, remote_id: str, url: str, text: str, text_hash: str, now: datetime) -> None:
        """The platform accepted the post."""

    def record_failed(self, post_id: str, *, run_id: str, error: str, transient: bool, next_attempt: datetime | None, now: datetime) -> None:
        """The platform refused (transient: retry at next_attempt; permanent: never)."""

    def record_unknown(self, post_id: str, *, run_id: str | None, error: str, now: datetime) -> None:
        """The request may have reached the platform; only a person may settle it."""

    def mark_missed(self, meta: PostMeta, *, run_id: str, detail: str, now: datetime) -> bool:
        """Grace passed before any attempt; True when this call made it missed."""

    def expire_claims(self, *, now: datetime, host: str, alive: Callable[[int], bool]) -> list[PostRecord]:
        """Claims whose lease expired, or whose process on this host is gone, become unknown."""

    def resolve(self, post_id: str, *, published_url: str | None, remote_id: str | None, skip: bool, now: datetime, who: str) -> PostRecord:
        """A person settles a post: published (with its URL), not published (eligible again), or skipped."""

    def counts(self) -> dict[str, int]:
        """How many posts are in each state."""

    def log(self, post_id: str | None = None) -> list[tuple[datetime, str, str, str | None, str | None]]:
        """The history of one post (or all): (at, post id, state, run id, detail)."""

    def begin_run(self, run: RunRecord) -> None:
        """Record the start of a run."""

    def end_run(self, run_id: str, *, counts: dict[str, int], exit_code: int, now: datetime) -> None:
        """Record the end of a run with its counts and exit code."""

    def last_run(self, command: str | None = None) -> RunRecord | None:
        """The most recent run (of a command)."""

    def feed_item_seen(self, feed: str, item_key: str) -> bool:
        """Whether a feed item was seen before."""

    def remember_feed_item(self, feed: str, item_key: str, *, event_id: str | None, now: datetime) -> bool:
        """Record a feed item once; True only for the caller that recorded it first."""

    def feed_state(self, feed: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified remembered for a feed."""

    def set_feed_state(self, feed: str, *, etag: str | None, modified: str | None, now: datetime) -> None:
        """Remember a feed's validators for the next conditional GET."""

    def close(self) -> None:
        """Release the connection."""


def default_url(calendar_path: Path) -> str:
    """`.campaigner/state.db` beside the calendar."""
    return f"sqlite:///{(calendar_path.parent / '.campaigner' / 'state.db').resolve()}"


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL (or a bare path)."""
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    if "://" in url:
        raise ConfigError(f"--db {url.split('://')[0]}://...: only sqlite:///PATH is supported in this version (PostgreSQL is planned)")
    return Path(url)


def ledger_exists(url: str) -> bool:
    """Whether the ledger at `url` has been created, without opening it."""
    return url.endswith(":memory:") or sqlite_path(url).exists()


def open_ledger(url: str, *, readonly: bool = False) -> Ledger | None:
    """Open the ledger at `url`; read-only opens return None when the file does not exist yet."""
    if readonly and not ledger_exists(url):
        return None  # before importing sqlite3: a first `plan` has no ledger to read
    path = sqlite_path(url)
    from campaigner.ledger.sqlite import SQLiteLedger

    if url.endswith(":memory:"):
        return SQLiteLedger(":memory:")
    return SQLiteLedger(path, readonly=readonly)


def utc(dt: datetime) -> str:
    """The one timestamp format stored: UTC, ISO 8601, microseconds (sorts as text)."""
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

