"""The PostgreSQL ledger, shared by several hosts and campaigns: psycopg 3, imported only for postgresql:// URLs.

Every claim is one statement (`INSERT ... ON CONFLICT ... DO UPDATE ... WHERE ...`, its history line
in the same statement), committed with synchronous_commit on before any request leaves; results
commit with synchronous_commit off (the lazy half of the durability contract). Read-only opens
read one REPEATABLE READ snapshot and need nothing but SELECT. The schema is created by the same
migration runner as SQLite's, under an advisory lock, so hosts starting together on an empty
database create it once. A password (in the URL, PGPASSWORD or ~/.pgpass, as libpq reads them) is
never printed: every message names the ledger by its masked URL.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from campaigner.errors import ConfigError
from campaigner.ledger import (DEFAULT_CAMPAIGN, EmptyLedger, Ledger, LedgerUnavailable, LedgerWriteFailed, PostMeta, busy_timeout,
                               mask_url)
from campaigner.ledger.migrations import Migrations, migrate, pending, refuse_newer
from campaigner.ledger.sql import CLAIMABLE, SQLLedger

try:
    import psycopg
    from psycopg import IsolationLevel
except ImportError:  # the extra is not installed: the URL is a configuration error that says how to fix it
    psycopg = None  # type: ignore[assignment]

# pg_advisory_xact_lock key of the migration runner ("campaign" in ASCII): one schema change at a time.
MIGRATION_LOCK = 0x63616D706169676E

MIGRATIONS = Migrations("postgresql")
MIGRATIONS.add("0001_schema", """
    CREATE TABLE posts (
        campaign TEXT NOT NULL,
        id TEXT NOT NULL,
        event TEXT NOT NULL,
        account TEXT NOT NULL,
        platform TEXT NOT NULL,
        language TEXT NOT NULL,
        due TIMESTAMPTZ NOT NULL,
        state TEXT NOT NULL,
        transient BOOLEAN NOT NULL DEFAULT FALSE,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TIMESTAMPTZ,
        run_id TEXT,
        host TEXT,
        pid INTEGER,
        claimed_at TIMESTAMPTZ,
        lease_until TIMESTAMPTZ,
        remote_id TEXT,
        url TEXT,
        published_at TIMESTAMPTZ,
        text_sent TEXT,
        text_hash TEXT,
        error TEXT,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (campaign, id)
    );
    CREATE INDEX posts_state ON posts (campaign, state);
    CREATE INDEX posts_updated ON posts (campaign, updated_at);
    CREATE TABLE post_log (
        seq BIGSERIAL PRIMARY KEY,
        campaign TEXT NOT NULL,
        post_id TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        state TEXT NOT NULL,
        run_id TEXT,
        detail TEXT
    );
    CREATE INDEX post_log_post ON post_log (campaign, post_id);
    CREATE TABLE runs (
        campaign TEXT NOT NULL,
        id TEXT NOT NULL,
        command TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        ended_at TIMESTAMPTZ,
        counts TEXT NOT NULL DEFAULT '{}',
        exit_code INTEGER,
        PRIMARY KEY (campaign, id)
    );
    CREATE INDEX runs_started ON runs (campaign, started_at);
    CREATE TABLE feed_items (
        campaign TEXT NOT NULL,
        feed TEXT NOT NULL,
        item_key TEXT NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL,
        event_id TEXT,
        PRIMARY KEY (campaign, feed, item_key)
    );
    CREATE TABLE feed_state (
        campaign TEXT NOT NULL,
        feed TEXT NOT NULL,
        etag TEXT,
        modified TEXT,
        checked_at TIMESTAMPTZ,
        PRIMARY KEY (campaign, feed)
    )
""")
MIGRATIONS.add("0002_run_error", "ALTER TABLE runs ADD COLUMN error TEXT")  # why a run ended in a configuration error


def _driver() -> Any:
    if psycopg is None:
        raise ConfigError("a postgresql:// ledger needs the PostgreSQL driver: pip install 'campaigner[postgres]'")
    return psycopg


def _password(url: str) -> str | None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def _say(url: str, exc: BaseException) -> str:
    """A driver's message on one line, with the ledger's password taken out wherever it appears."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    secret = _password(url)
    if secret:
        text = text.replace(secret, "***")
    return mask_url(text)


def connect(url: str, *, readonly: bool) -> Any:
    """A connection to the ledger's server, or LedgerUnavailable naming it (password masked)."""
    pg = _driver()
    timeout = busy_timeout()
    try:
        conn = pg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=max(1, int(timeout)), autocommit=not readonly,
                          application_name="campaigner", options=f"-c TimeZone=UTC -c lock_timeout={int(timeout * 1000)}")
    except pg.Error as exc:
        raise LedgerUnavailable(f"cannot reach the PostgreSQL ledger {mask_url(url)}: {_say(url, exc)}; nothing was sent") from None
    if readonly:
        # One snapshot for the command's every read; a role with SELECT rights alone suffices.
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
    return conn


def _has_schema(conn: Any) -> bool:
    return conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]


def open_postgres(url: str, *, readonly: bool = False, create: bool = False, campaign: str = DEFAULT_CAMPAIGN) -> Ledger:
    """The backend's opener. A database that exists is the explicit choice: its tables are created
    on the first writable open (that of `ledger init`, or of the first host's run)."""
    conn = connect(url, readonly=readonly)
    if readonly:
        try:
            present = _has_schema(conn)
        except Exception:
            conn.close()
            raise
        if not present:
            conn.close()
            return EmptyLedger(url, campaign)
    return PostgresLedger(url, conn, readonly=readonly, campaign=campaign)


def postgres_exists(url: str) -> bool:
    """Whether the database holds a campaigner ledger (it is reached to find out)."""
    conn = connect(url, readonly=True)
    try:
        return bool(_has_schema(conn))
    finally:
        conn.close()


class PostgresLedger(SQLLedger):
    """One campaign's ledger in a PostgreSQL database shared by hosts and campaigns."""

    null_safe_eq = "IS NOT DISTINCT FROM"

    def __init__(self, url: str, conn: Any, *, readonly: bool = False, campaign: str = DEFAULT_CAMPAIGN):
        super().__init__(url, campaign, readonly)
        self._url = url
        self.where = self.url
        self.conn = conn
        self._lock = threading.RLock()
        try:
            if readonly:
                applied = self.applied()
                refuse_newer(self, MIGRATIONS, applied)
                if "0002_run_error" in pending(MIGRATIONS, applied):
                    self.read_runs_without_error()
            else:
                migrate(self, MIGRATIONS)
        except psycopg.Error as exc:
            self.close()
            if isinstance(exc, psycopg.errors.InsufficientPrivilege):
                raise ConfigError(f"{self.url}: this role may not {'read' if readonly else 'write'} the ledger ({_say(url, exc)}); "
                                  "see README: The ledger, PostgreSQL roles") from None
            raise LedgerUnavailable(f"cannot use the PostgreSQL ledger {self.url}: {_say(url, exc)}; nothing was sent") from None
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ the SQLLedger hooks

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _ts(self, dt: datetime) -> datetime:
        return dt.astimezone(timezone.utc)

    def _dt(self, value: Any) -> datetime | None:
        return value.astimezone(timezone.utc) if value is not None else None

    def _failed(self, exc: BaseException, *, committed: bool | None) -> LedgerWriteFailed:
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return LedgerWriteFailed(f"{self.url}: a row stayed locked by another host's transaction for {busy_timeout():g} s",
                                     advice="let the other run finish, then run again", committed=False)
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return LedgerWriteFailed(f"{self.url}: this role may not write the ledger ({_say(self._url, exc)})",
                                     advice="give the posting role INSERT, UPDATE on the ledger's tables (README: The ledger)", committed=False)
        return LedgerWriteFailed(f"lost the PostgreSQL ledger {self.url}: {_say(self._url, exc)}",
                                 advice="check that the database server is up and reachable from this host, then run again",
                                 committed=committed)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return list(self.conn.execute(self._q(sql), tuple(args)).fetchall())
            except psycopg.Error as exc:
                raise self._failed(exc, committed=False) from None

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[Any]:
        if self.readonly:
            raise ConfigError(f"{self.url}: this command opened the ledger read-only")
        with self._lock:
            try:
                with self.conn.transaction():
                    if not durable:
                        self.conn.execute("SET LOCAL synchronous_commit = off")
                    yield self.conn
            except psycopg.OperationalError as exc:
                # The connection dropped: whether the COMMIT reached the server is not known.
                raise self._failed(exc, committed=None) from None
            except psycopg.Error as exc:
                raise self._failed(exc, committed=False) from None

    def _claim(self, db: Any, meta: PostMeta, run_id: str, host: str, pid: int, now: datetime, lease_until: datetime) -> bool:
        """The claim and its history line in one statement.

        The NOT EXISTS leaves a post that is already held (or settled) alone without touching its
        row: hosts that start together all try each post, and a losing ON CONFLICT would lock the
        row and make its commit wait for the disk, one flush per loser. It is only a shortcut: a
        claim made meanwhile by another host is still caught by ON CONFLICT ... WHERE, which
        re-reads the row under its lock.
        """
        cur = db.execute(self._q(f"""
            WITH claimed AS (
                INSERT INTO posts (campaign, id, event, account, platform, language, due, state, attempts, run_id, host, pid,
                                   claimed_at, lease_until, updated_at)
                SELECT ?, ?, ?, ?, ?, ?, ?::timestamptz, 'claimed', 1, ?, ?, ?::integer, ?::timestamptz, ?::timestamptz, ?::timestamptz
                WHERE NOT EXISTS (SELECT 1 FROM posts WHERE campaign = ? AND id = ? AND NOT COALESCE({CLAIMABLE}, FALSE))
                ON CONFLICT (campaign, id) DO UPDATE SET
                    state = 'claimed', attempts = posts.attempts + 1, run_id = excluded.run_id,
                    host = excluded.host, pid = excluded.pid, claimed_at = excluded.claimed_at,
                    lease_until = excluded.lease_until, updated_at = excluded.updated_at
                WHERE {CLAIMABLE}
                RETURNING campaign, id, run_id, claimed_at
            )
            INSERT INTO post_log (campaign, post_id, at, state, run_id, detail)
            SELECT campaign, id, claimed_at, 'claimed', run_id, ? FROM claimed
            RETURNING post_id"""),
            (self.campaign, meta.id, meta.event, meta.account, meta.platform, meta.language, self._ts(meta.due), run_id, host, pid,
             self._ts(now), self._ts(lease_until), self._ts(now), self.campaign, meta.id, self._ts(now), self._ts(now), f"host {host} pid {pid}"))
        return cur.fetchone() is not None

    def reconnect(self) -> bool:
        """Connect again after the connection was lost; False when the server is still out of reach."""
        with self._lock:
            try:
                self.conn.close()
            except Exception:  # already broken: closing it is only tidying up
                pass
            try:
                self.conn = connect(self._url, readonly=self.readonly)
            except LedgerUnavailable:
                return False
            return True

    # ------------------------------------------------------------ the migration Target

    def applied(self, db: Any = None) -> list[str]:
        """Names recorded in schema_migrations (none when the database has no ledger yet)."""
        conn = db or self.conn
        if not _has_schema(conn):
            return []
        return [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]

    @contextmanager
    def migration_lock(self) -> Iterator[Any]:
        """A transaction holding the runner's advisory lock: hosts starting together create the schema once."""
        with self._lock, self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            yield self.conn

    def placeholder(self) -> str:
        """psycopg's mark."""
        return "%s"

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in this database."""
        return self.applied()

    def close(self) -> None:
        """Close the connection (ending a read-only ledger's snapshot)."""
        with self._lock:
            try:
                self.conn.close()
            except Exception:  # a connection the server already dropped
                pass
