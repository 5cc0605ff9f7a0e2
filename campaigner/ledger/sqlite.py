"""The SQLite ledger: WAL mode, a busy timeout, and each write in one IMMEDIATE transaction.

A ledger file always holds the campaigner schema: a new one is built under a temporary name and
linked into place complete, so a file that exists without the schema (empty, truncated, not
SQLite) is damage to report, never a new ledger to fill. Read-only opens read one snapshot
(`mode=ro`, one read transaction for the ledger's life) while writers run.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

from campaigner.errors import ConfigError
from campaigner.ledger import (DEFAULT_CAMPAIGN, EmptyLedger, Ledger, LedgerUnavailable, LedgerWriteFailed, busy_timeout,
                               parse_utc, sqlite_path, utc)
from campaigner.ledger.migrations import Migrations, migrate, pending, refuse_newer
from campaigner.ledger.sql import SQLLedger

T = TypeVar("T")
HEADER = b"SQLite format 3\x00"

# Ordered and append-only: a released migration is never edited, only followed by a new one.
MIGRATIONS = Migrations("sqlite")
MIGRATIONS.add("0001_posts_runs", """
    CREATE TABLE posts (
        id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        account TEXT NOT NULL,
        platform TEXT NOT NULL,
        language TEXT NOT NULL,
        due TEXT NOT NULL,
        state TEXT NOT NULL,
        transient INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT,
        run_id TEXT,
        host TEXT,
        pid INTEGER,
        claimed_at TEXT,
        lease_until TEXT,
        remote_id TEXT,
        url TEXT,
        published_at TEXT,
        text_sent TEXT,
        text_hash TEXT,
        error TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX posts_state ON posts (state);
    CREATE INDEX posts_updated ON posts (updated_at);
    CREATE TABLE post_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        post_id TEXT NOT NULL,
        at TEXT NOT NULL,
        state TEXT NOT NULL,
        run_id TEXT,
        detail TEXT
    );
    CREATE INDEX post_log_post ON post_log (post_id);
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        counts TEXT NOT NULL DEFAULT '{}',
        exit_code INTEGER
    );
""")
MIGRATIONS.add("0002_feed_items", """
    CREATE TABLE feed_items (
        feed TEXT NOT NULL,
        item_key TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        event_id TEXT,
        PRIMARY KEY (feed, item_key)
    );
    CREATE TABLE feed_state (
        feed TEXT PRIMARY KEY,
        etag TEXT,
        modified TEXT,
        checked_at TEXT
    );
""")


def _campaign_column(db: Any, context: dict[str, Any]) -> None:
    """Every row gets the campaign key (the current calendar's, for rows written before); post ids,
    feed items and feed states become unique within a campaign. SQLite cannot change a primary
    key in place, so the three keyed tables are rebuilt."""
    key = context.get("campaign") or DEFAULT_CAMPAIGN
    db.execute("ALTER TABLE posts RENAME TO posts_0002")
    db.execute("""CREATE TABLE posts (
        campaign TEXT NOT NULL, id TEXT NOT NULL, event TEXT NOT NULL, account TEXT NOT NULL, platform TEXT NOT NULL,
        language TEXT NOT NULL, due TEXT NOT NULL, state TEXT NOT NULL, transient INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt TEXT, run_id TEXT, host TEXT, pid INTEGER, claimed_at TEXT,
        lease_until TEXT, remote_id TEXT, url TEXT, published_at TEXT, text_sent TEXT, text_hash TEXT, error TEXT,
        updated_at TEXT NOT NULL, PRIMARY KEY (campaign, id))""")
    db.execute("INSERT INTO posts SELECT ?, * FROM posts_0002", (key,))
    db.execute("DROP TABLE posts_0002")  # drops its indexes too
    db.execute("CREATE INDEX posts_state ON posts (campaign, state)")
    db.execute("CREATE INDEX posts_updated ON posts (campaign, updated_at)")
    db.execute("ALTER TABLE post_log ADD COLUMN campaign TEXT NOT NULL DEFAULT ''")
    db.execute("UPDATE post_log SET campaign = ?", (key,))
    db.execute("DROP INDEX post_log_post")
    db.execute("CREATE INDEX post_log_post ON post_log (campaign, post_id)")
    db.execute("ALTER TABLE runs RENAME TO runs_0002")
    db.execute("""CREATE TABLE runs (campaign TEXT NOT NULL, id TEXT NOT NULL, command TEXT NOT NULL, host TEXT NOT NULL,
        pid INTEGER NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, counts TEXT NOT NULL DEFAULT '{}', exit_code INTEGER,
        PRIMARY KEY (campaign, id))""")
    db.execute("INSERT INTO runs SELECT ?, * FROM runs_0002", (key,))
    db.execute("DROP TABLE runs_0002")
    db.execute("CREATE INDEX runs_started ON runs (campaign, started_at)")
    db.execute("ALTER TABLE feed_items RENAME TO feed_items_0002")
    db.execute("""CREATE TABLE feed_items (campaign TEXT NOT NULL, feed TEXT NOT NULL, item_key TEXT NOT NULL, seen_at TEXT NOT NULL,
        event_id TEXT, PRIMARY KEY (campaign, feed, item_key))""")
    db.execute("INSERT INTO feed_items SELECT ?, * FROM feed_items_0002", (key,))
    db.execute("DROP TABLE feed_items_0002")
    db.execute("ALTER TABLE feed_state RENAME TO feed_state_0002")
    db.execute("""CREATE TABLE feed_state (campaign TEXT NOT NULL, feed TEXT NOT NULL, etag TEXT, modified TEXT, checked_at TEXT,
        PRIMARY KEY (campaign, feed))""")
    db.execute("INSERT INTO feed_state SELECT ?, * FROM feed_state_0002", (key,))
    db.execute("DROP TABLE feed_state_0002")


MIGRATIONS.add("0003_campaign", _campaign_column)
MIGRATIONS.add("0004_run_error", "ALTER TABLE runs ADD COLUMN error TEXT")  # why a run ended in a configuration error


def open_sqlite(url: str, *, readonly: bool = False, create: bool = False, campaign: str = DEFAULT_CAMPAIGN) -> Ledger:
    """The backend's opener (see `campaigner.ledger.open_ledger`)."""
    if url.endswith(":memory:"):
        return SQLiteLedger(":memory:", campaign=campaign, url=url)
    path = sqlite_path(url)
    if readonly and not path.exists():
        return EmptyLedger(url, campaign)
    return SQLiteLedger(path, readonly=readonly, create=create, campaign=campaign, url=url)


def sqlite_exists(url: str) -> bool:
    """A SQLite ledger exists when its file does (whether it is sound is checked on opening)."""
    return url.endswith(":memory:") or sqlite_path(url).exists()


def check_file(path: Path) -> None:
    """Refuse a file that exists but cannot be a campaigner ledger, with the fix."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the ledger: {exc.strerror}") from None
    if len(head) == 0:
        what = "is empty (0 bytes)"
    elif not head.startswith(HEADER):
        what = "is not a SQLite database"
    elif len(head) < 100:
        what = "is truncated"
    else:
        return
    raise ConfigError(_damaged(path, what))


def _damaged(path: Path | str, what: str) -> str:
    return (f"{path}: the ledger file {what}, so campaigner cannot tell what was already published. Restore it from a backup; "
            f"or, only if you know nothing was published from it, move it away knowingly (the next run then starts a new "
            f"ledger and sends every post still within its grace)")


class SQLiteLedger(SQLLedger):
    """The default ledger, in one file beside the calendar (or :memory: in tests)."""

    def __init__(self, path: Path | str, *, readonly: bool = False, create: bool = True, campaign: str = DEFAULT_CAMPAIGN,
                 url: str | None = None):
        super().__init__(url or f"sqlite:///{path}", campaign, readonly)
        self.path = path
        self.timeout = busy_timeout()
        self._lock = threading.RLock()
        self.where = str(path)
        memory = path == ":memory:"
        try:
            if readonly:
                self._open_readonly(Path(path))
                return
            if not memory:
                file = Path(path)
                if not file.exists():
                    if not create:
                        raise ConfigError(f"{file}: no ledger there (check --db / CAMPAIGNER_DB); to start a new one at this path, "
                                          f"run 'campaigner ledger init {self.url}' first")
                    self._create(file)
                check_file(file)
            self.conn = self._connect(str(path))
            if not memory:
                if not self.applied():
                    raise ConfigError(_damaged(path, "has no campaigner tables"))
                self._wal()
            migrate(self, MIGRATIONS, {"campaign": campaign})
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            if _is_busy(exc):
                raise LedgerUnavailable(self._busy_message()) from None
            if _is_full(exc):  # an ordinary condition, not a damaged ledger: say what to free
                raise ConfigError(f"{path}: the disk is full, so the ledger cannot be opened or created: free some space on that disk "
                                  "(see 'df -h' for that folder), then run again; nothing was sent") from None
            raise ConfigError(_damaged(path, f"cannot be read ({exc})")) from None
        except BaseException:
            self._close_quietly()
            raise

    def _connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(target, uri=uri, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        if not self.readonly:
            # Every commit reaches the disk (fsync) unless _tx says otherwise: some SQLite builds
            # default WAL databases to NORMAL, and a claim must survive a power cut.
            conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _create(self, file: Path) -> None:
        """Build the schema under a temporary name, then link it into place: the path never shows a half-made ledger."""
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
        try:
            conn = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL").fetchall()
                self.conn = conn
                migrate(self, MIGRATIONS, {"campaign": self.campaign})
            finally:
                conn.close()
            try:
                os.link(tmp, file)
            except FileExistsError:
                pass  # another run created it first: use theirs
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
                leftover.unlink(missing_ok=True)

    def _open_readonly(self, file: Path) -> None:
        check_file(file)
        resolved = file.resolve()
        try:
            # mode=ro reads the WAL, and so whatever writers have committed, consistently (immutable=1
            # promises SQLite that nobody writes the file, and reads torn pages when someone does).
            self.conn = self._connect(f"file:{resolved}?mode=ro", uri=True)
            self._retry(lambda: self.conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall())
        except sqlite3.OperationalError as exc:
            if _is_busy(exc) or resolved.with_name(resolved.name + "-wal").exists():
                raise
            # A folder we may not write (no -shm can be made) and no -wal: nobody is writing, and
            # nobody can start to without writing that folder, so the file is as still as immutable says.
            self._close_quietly()
            self.conn = self._connect(f"file:{resolved}?mode=ro&immutable=1", uri=True)
        # One read transaction for the ledger's life: every read of a command sees the same snapshot
        # (status's counts agree with its lists), however many runs commit meanwhile.
        self.conn.execute("BEGIN")
        applied = self._retry(self.applied)
        if not applied:
            raise ConfigError(_damaged(file, "has no campaigner tables"))
        refuse_newer(self, MIGRATIONS, applied)
        if "0003_campaign" in pending(MIGRATIONS, applied):
            # Written before campaigns had keys: all its rows are this calendar's (the next write migrates them).
            self._scope, self._scope_args = "1 = 1", ()
        if "0004_run_error" in pending(MIGRATIONS, applied):
            self.read_runs_without_error()

    def _close_quietly(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def _wal(self) -> None:
        # WAL lets readers (plan, status) work while a post run writes. A ledger is created in WAL
        # mode; an older one may still need the switch, which takes an exclusive lock that SQLite
        # refuses at once, without the busy timeout: wait for the others instead, as the timeout would.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchall()[0][0].lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL").fetchall()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run a read, retrying while SQLite answers SQLITE_BUSY (a writer's recovery or checkpoint)."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    # ------------------------------------------------------------ the SQLLedger hooks

    def _ts(self, dt: datetime) -> str:
        return utc(dt)

    def _dt(self, value: Any) -> datetime | None:
        return parse_utc(value)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._retry(lambda: self.conn.execute(sql, tuple(args)).fetchall())
            except sqlite3.DatabaseError as exc:
                if _is_busy(exc):
                    raise LedgerUnavailable(self._busy_message()) from None
                raise ConfigError(_damaged(self.path, f"cannot be read ({exc})")) from None

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction. durable=False commits without waiting for the disk (fsync):
        the write survives the process being killed, and reaches the disk with the next durable
        commit (the next claim, or the run's end); only a power cut before that can lose it."""
        if self.readonly:
            raise ConfigError(f"{self.where}: this command opened the ledger read-only")
        with self._lock:
            try:
                if not durable:
                    self.conn.execute("PRAGMA synchronous = NORMAL")
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    try:
                        yield self.conn
                    except BaseException:
                        if self.conn.in_transaction:
                            self.conn.execute("ROLLBACK")
                        raise
                    self.conn.execute("COMMIT")
                finally:
                    if not durable:
                        self.conn.execute("PRAGMA synchronous = FULL")
            except sqlite3.DatabaseError as exc:
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise self._write_failed(exc) from None

    def _write_failed(self, exc: sqlite3.DatabaseError) -> LedgerWriteFailed:
        if _is_busy(exc):
            return LedgerWriteFailed(self._busy_message(), advice=f"let that run finish (or stop it){self._holders()}, then run again")
        if _is_full(exc):
            return LedgerWriteFailed(f"{self.where}: the disk is full, so the ledger cannot be written",
                                     advice="free space on that disk, then run again")
        return LedgerWriteFailed(f"{self.where}: cannot write the ledger ({exc})", advice="check the disk and the file's permissions, then run again")

    def _busy_message(self) -> str:
        return f"{self.where}: the ledger stayed locked by another process for {self.timeout:g} s{self._holders()}"

    def _holders(self) -> str:
        """' (open in pid 123: campaigner post ...)' from /proc, when it can be seen."""
        if self.path == ":memory:":
            return ""
        target = str(Path(self.path).resolve())
        found = []
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
        except OSError:
            return ""
        for pid in pids:
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
                if any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in fds):
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                    found.append(f"pid {pid}: {cmd[:80]}")
            except OSError:
                continue
        return f" (open in {'; '.join(found[:3])})" if found else ""

    # ------------------------------------------------------------ the migration Target

    def applied(self, db: Any = None) -> list[str]:
        """Names of the migrations recorded in this database."""
        conn = db or self.conn
        try:
            return [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise

    @contextmanager
    def migration_lock(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: the database's one writer lock."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def placeholder(self) -> str:
        """sqlite3's mark."""
        return "?"

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in this database."""
        return self.applied()

    def close(self) -> None:
        """Close the connection (ending a read-only ledger's snapshot)."""
        with self._lock:
            self._close_quietly()


def _is_full(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_FULL: the disk (or the quota) is full."""
    return getattr(exc, "sqlite_errorcode", None) == 13 or "full" in str(exc).lower()


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text
