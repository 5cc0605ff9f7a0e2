"""The SQLite ledger: WAL mode, a busy timeout, and each write in one IMMEDIATE transaction."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from campaigner.errors import ConfigError
from campaigner.ledger import PostMeta, PostRecord, RunRecord, parse_utc, utc

# Ordered and append-only: a released migration is never edited, only followed by a new one.
MIGRATIONS: list[tuple[str, str]] = [
    ("0001_posts_runs", """
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
    """),
    ("0002_feed_items", """
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
    """),
]

_COLUMNS = (
    "id, event, account, platform, language, due, state, transient, attempts, next_attempt, run_id, host, pid, "
    "claimed_at, lease_until, remote_id, url, published_at, text_sent, text_hash, error, updated_at"
)
# A post may be claimed when nobody holds it, or when a transient failure's wait is over.
_CLAIMABLE = "posts.state = 'pending' OR (posts.state = 'failed' AND posts.transient = 1 AND posts.next_attempt <= ?)"


class SQLiteLedger:
    """The default ledger, in one file beside the calendar (or :memory: in tests)."""

    def __init__(self, path: Path | str, *, readonly: bool = False):
        self.path = path
        self.readonly = readonly
        self._lock = threading.RLock()
        try:
            if readonly:
                # Dry runs and plan must not change a byte. With no -wal file present nobody is writing,
                # and immutable=1 reads without creating the -wal/-shm files a WAL reader would.
                resolved = Path(path).resolve()
                mode = "mode=ro" if resolved.with_name(resolved.name + "-wal").exists() else "immutable=1"
                self.conn = sqlite3.connect(f"file:{resolved}?{mode}", uri=True, timeout=30, isolation_level=None, check_same_thread=False)
            else:
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
                self.conn.execute("PRAGMA busy_timeout = 30000")
                # Every commit reaches the disk (fsync) unless _tx says otherwise: some SQLite builds
                # default WAL databases to NORMAL, and a claim must survive a power cut.
                self.conn.execute("PRAGMA synchronous = FULL")
                if path != ":memory:":
                    self._wal()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path}: cannot open the ledger: {exc} (is it a campaigner state database?)") from None

    def _wal(self) -> None:
        # WAL lets readers (plan, status) work while a post run writes.
        # Switching a new file to WAL takes an exclusive lock, and SQLite answers "database is locked"
        # at once, without the busy timeout, to runs that start together on a ledger none has created
        # yet (cron and a person, or several hosts): wait for the first one instead, as the timeout would.
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchall()[0][0].lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL").fetchall()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction. durable=False commits without waiting for the disk (fsync):
        the write survives the process being killed, and reaches the disk with the next durable
        commit (the next claim, or the run's end); only a power cut before that can lose it."""
        with self._lock:
            if not durable:
                self.conn.execute("PRAGMA synchronous = NORMAL")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
            finally:
                if not durable:
                    self.conn.execute("PRAGMA synchronous = FULL")

    def _applied(self) -> list[str]:
        try:
            return [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
        except sqlite3.OperationalError:
            return []

    def _migrate(self) -> None:
        known = [name for name, _ in MIGRATIONS]
        applied = self._applied()
        newer = [n for n in applied if n not in known]
        if newer:
            raise ConfigError(f"{self.path}: this ledger was written by a newer campaigner (migration {newer[-1]}); upgrade campaigner before using it")
        if self.readonly or applied == known:
            return
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {r[0] for r in db.execute("SELECT name FROM schema_migrations")}  # re-read under the lock
            for name, sql in MIGRATIONS:
                if name not in done:
                    for statement in filter(str.strip, sql.split(";")):
                        db.execute(statement)
                    db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, utc(datetime.now().astimezone())))

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in this database."""
        return self._applied()

    # ------------------------------------------------------------ reads

    def _row(self, r: tuple) -> PostRecord:
        return PostRecord(
            id=r[0], event=r[1], account=r[2], platform=r[3], language=r[4], due=parse_utc(r[5]), state=r[6],
            transient=bool(r[7]), attempts=r[8], next_attempt=parse_utc(r[9]), run_id=r[10], host=r[11], pid=r[12],
            claimed_at=parse_utc(r[13]), lease_until=parse_utc(r[14]), remote_id=r[15], url=r[16],
            published_at=parse_utc(r[17]), text_sent=r[18], text_hash=r[19], error=r[20], updated_at=parse_utc(r[21]),
        )

    def states(self, ids: Iterable[str]) -> dict[str, PostRecord]:
        """The records that exist for these post ids (read in batches)."""
        ids = list(ids)
        out: dict[str, PostRecord] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                batch = ids[i:i + 500]
                marks = ",".join("?" * len(batch))
                for r in self.conn.execute(f"SELECT {_COLUMNS} FROM posts WHERE id IN ({marks})", batch):
                    out[r[0]] = self._row(r)
        return out

    def records(self, *, states: Iterable[str] | None = None, account: str | None = None, since: datetime | None = None) -> list[PostRecord]:
        """Records filtered by state, account and last change, oldest change first."""
        where, args = [], []
        if states is not None:
            states = list(states)
            where.append(f"state IN ({','.join('?' * len(states))})")
            args += states
        if account:
            where.append("account = ?")
            args.append(account)
        if since:
            where.append("updated_at >= ?")
            args.append(utc(since))
        sql = f"SELECT {_COLUMNS} FROM posts" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY updated_at, id"
        with self._lock:
            return [self._row(r) for r in self.conn.execute(sql, args)]

    def counts(self) -> dict[str, int]:
        """How many posts are in each state."""
        with self._lock:
            return dict(self.conn.execute("SELECT state, COUNT(*) FROM posts GROUP BY state").fetchall())

    def log(self, post_id: str | None = None) -> list[tuple[datetime, str, str, str | None, str | None]]:
        """History lines (at, post id, state, run id, detail), oldest first."""
        sql = "SELECT at, post_id, state, run_id, detail FROM post_log"
        args: tuple = ()
        if post_id:
            sql += " WHERE post_id = ?"
            args = (post_id,)
        with self._lock:
            return [(parse_utc(r[0]), r[1], r[2], r[3], r[4]) for r in self.conn.execute(sql + " ORDER BY seq", args)]

    # ------------------------------------------------------------ writes

    def _log(self, db: sqlite3.Connection, post_id: str, state: str, run_id: str | None, detail: str | None, now: datetime) -> None:
        db.execute("INSERT INTO post_log (post_id, at, state, run_id, detail) VALUES (?, ?, ?, ?, ?)", (post_id, utc(now), state, run_id, detail))

    def claim(self, meta: PostMeta, *, run_id: str, host: str, pid: int, now: datetime, lease_until: datetime) -> bool:
        """Take a post for sending, in one atomic upsert; True only for the caller that got it."""
        with self._tx() as db:
            cur = db.execute(
                f"""INSERT INTO posts (id, event, account, platform, language, due, state, attempts, run_id, host, pid,
                                       claimed_at, lease_until, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'claimed', 1, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        state = 'claimed', attempts = posts.attempts + 1, run_id = excluded.run_id,
                        host = excluded.host, pid = excluded.pid, claimed_at = excluded.claimed_at,
                        lease_until = excluded.lease_until, updated_at = excluded.updated_at
                    WHERE {_CLAIMABLE}""",
                (meta.id, meta.event, meta.account, meta.platform, meta.language, utc(meta.due), run_id, host, pid,
                 utc(now), utc(lease_until), utc(now), utc(now)),
            )
            got = cur.rowcount == 1
            if got:
                self._log(db, meta.id, "claimed", run_id, f"host {host} pid {pid}", now)
            return got

    def _settle(self, post_id: str, run_id: str | None, state: str, detail: str | None, now: datetime, sets: str, args: tuple) -> None:
        # Not durable on its own: one fsync a post (the claim's) instead of two, a third of the
        # ledger's time per post. At-most-once rests on the claim alone: a result lost to a power
        # cut leaves the post claimed, so it becomes unknown for `resolve` and is never sent again.
        with self._tx(durable=False) as db:
            # Only the run holding the claim may settle it: a claim that was expired meanwhile stays as it is.
            cur = db.execute(
                f"UPDATE posts SET state = ?, {sets}, updated_at = ? WHERE id = ? AND state = 'claimed' AND run_id IS ?",
                (state, *args, utc(now), post_id, run_id),
            )
            if cur.rowcount == 1:
                self._log(db, post_id, state, run_id, detail, now)

    def record_published(self, post_id: str, *, run_id: str, remote_id: str, url: str, text: str, text_hash: str, now: datetime) -> None:
        """The platform accepted the post: keep its id, link, and the exact text sent."""
        self._settle(post_id, run_id, "published", url, now,
                     "remote_id = ?, url = ?, published_at = ?, text_sent = ?, text_hash = ?, error = NULL, transient = 0",
                     (remote_id, url, utc(now), text, text_hash))

    def record_failed(self, post_id: str, *, run_id: str, error: str, transient: bool, next_attempt: datetime | None, now: datetime) -> None:
        """The platform refused: transient failures wait for next_attempt, permanent ones never retry."""
        self._settle(post_id, run_id, "failed", error, now, "error = ?, transient = ?, next_attempt = ?",
                     (error, int(transient), utc(next_attempt) if next_attempt else None))

    def record_unknown(self, post_id: str, *, run_id: str | None, error: str, now: datetime) -> None:
        """The request may have reached the platform."""
        self._settle(post_id, run_id, "unknown", error, now, "error = ?", (error,))

    def mark_missed(self, meta: PostMeta, *, run_id: str, detail: str, now: datetime) -> bool:
        """Grace passed with the post never sent; True when this call recorded it."""
        with self._tx() as db:
            cur = db.execute(
                """INSERT INTO posts (id, event, account, platform, language, due, state, run_id, error, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'missed', ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET state = 'missed', run_id = excluded.run_id,
                        error = excluded.error, updated_at = excluded.updated_at
                    WHERE posts.state = 'pending' OR (posts.state = 'failed' AND posts.transient = 1)""",
                (meta.id, meta.event, meta.account, meta.platform, meta.language, utc(meta.due), run_id, detail, utc(now)),
            )
            if cur.rowcount == 1:
                self._log(db, meta.id, "missed", run_id, detail, now)
                return True
            return False

    def expire_claims(self, *, now: datetime, host: str, alive: Callable[[int], bool]) -> list[PostRecord]:
        """Claims past their lease, or held by a process on this host that is gone, become unknown."""
        expired = []
        for rec in self.records(states=["claimed"]):
            if rec.lease_until and rec.lease_until < now:
                why = f"the run that claimed it ({rec.host} pid {rec.pid}) did not finish within its lease"
            elif rec.host == host and rec.pid is not None and not alive(rec.pid):
                why = f"the process that claimed it (pid {rec.pid}) ended before recording the result"
            else:
                continue
            with self._tx() as db:
                cur = db.execute(
                    "UPDATE posts SET state = 'unknown', error = ?, updated_at = ? WHERE id = ? AND state = 'claimed' AND run_id IS ?",
                    (why, utc(now), rec.id, rec.run_id),
                )
                if cur.rowcount == 1:
                    self._log(db, rec.id, "unknown", rec.run_id, why, now)
                    expired.append(rec)
        return expired

    def resolve(self, post_id: str, *, published_url: str | None, remote_id: str | None, skip: bool, now: datetime, who: str) -> PostRecord:
        """A person settles a post by hand; a published post can only be resolved as published."""
        current = self.states([post_id]).get(post_id)
        if current is None:
            raise ConfigError(f"no post '{post_id}' in the ledger: 'campaigner status' lists the posts that need a decision")
        if current.state == "published" and (published_url is None):
            raise ConfigError(f"post '{post_id}' is already published at {current.url}; it cannot be made eligible again")
        if current.state == "claimed":
            raise ConfigError(f"post '{post_id}' is being sent right now by {current.host} pid {current.pid}; wait for that run to finish")
        with self._tx() as db:
            if published_url is not None:
                db.execute("UPDATE posts SET state = 'published', url = ?, remote_id = ?, published_at = ?, error = NULL, updated_at = ? WHERE id = ?",
                           (published_url, remote_id, utc(now), utc(now), post_id))
                self._log(db, post_id, "published", None, f"resolved by {who}: {published_url}", now)
            elif skip:
                db.execute("UPDATE posts SET state = 'skipped', error = ?, updated_at = ? WHERE id = ?", (f"skipped by {who}", utc(now), post_id))
                self._log(db, post_id, "skipped", None, f"skipped by {who}", now)
            else:
                db.execute("UPDATE posts SET state = 'pending', transient = 0, next_attempt = NULL, error = NULL, updated_at = ? WHERE id = ?",
                           (utc(now), post_id))
                self._log(db, post_id, "pending", None, f"resolved by {who}: not published", now)
        return self.states([post_id])[post_id]

    # ------------------------------------------------------------ runs

    def begin_run(self, run: RunRecord) -> None:
        """Record the start of a run."""
        with self._tx() as db:
            db.execute("INSERT INTO runs (id, command, host, pid, started_at, counts) VALUES (?, ?, ?, ?, ?, '{}')",
                       (run.id, run.command, run.host, run.pid, utc(run.started_at)))

    def end_run(self, run_id: str, *, counts: dict[str, int], exit_code: int, now: datetime) -> None:
        """Record the end of a run."""
        with self._tx() as db:
            db.execute("UPDATE runs SET ended_at = ?, counts = ?, exit_code = ? WHERE id = ?",
                       (utc(now), json.dumps(counts, sort_keys=True), exit_code, run_id))

    def last_run(self, command: str | None = None) -> RunRecord | None:
        """The most recently started run (of a command)."""
        sql = "SELECT id, command, host, pid, started_at, ended_at, counts, exit_code FROM runs"
        args: tuple = ()
        if command:
            sql += " WHERE command = ?"
            args = (command,)
        with self._lock:
            r = self.conn.execute(sql + " ORDER BY started_at DESC LIMIT 1", args).fetchone()
        if r is None:
            return None
        return RunRecord(r[0], r[1], r[2], r[3], parse_utc(r[4]), parse_utc(r[5]), json.loads(r[6] or "{}"), r[7])

    # ------------------------------------------------------------ feeds

    def feed_item_seen(self, feed: str, item_key: str) -> bool:
        """Whether a feed item was seen before."""
        with self._lock:
            return self.conn.execute("SELECT 1 FROM feed_items WHERE feed = ? AND item_key = ?", (feed, item_key)).fetchone() is not None

    def remember_feed_item(self, feed: str, item_key: str, *, event_id: str | None, now: datetime) -> bool:
        """Record a feed item once; True only for the caller that recorded it first."""
        with self._tx() as db:
            cur = db.execute("INSERT INTO feed_items (feed, item_key, seen_at, event_id) VALUES (?, ?, ?, ?) ON CONFLICT (feed, item_key) DO NOTHING",
                             (feed, item_key, utc(now), event_id))
            return cur.rowcount == 1

    def feed_state(self, feed: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified remembered for a feed."""
        with self._lock:
            r = self.conn.execute("SELECT etag, modified FROM feed_state WHERE feed = ?", (feed,)).fetchone()
        return (r[0], r[1]) if r else (None, None)

    def set_feed_state(self, feed: str, *, etag: str | None, modified: str | None, now: datetime) -> None:
        """Remember a feed's validators for the next conditional GET."""
        with self._tx() as db:
            db.execute("""INSERT INTO feed_state (feed, etag, modified, checked_at) VALUES (?, ?, ?, ?)
                          ON CONFLICT (feed) DO UPDATE SET etag = excluded.etag, modified = excluded.modified, checked_at = excluded.checked_at""",
                       (feed, etag, modified, utc(now)))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()
