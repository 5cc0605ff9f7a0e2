"""The ledger's queries, shared by the SQL backends; each backend supplies its connection and types.

The SQL here is written once, with `?` marks (a backend with another mark converts them in `_q`),
`TRUE`/`FALSE` literals, and `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE` for every claim. A
backend provides transactions (`_tx`), reads (`_read`), and how a timestamp is passed (`_ts`) and
read back (`_dt`). Every statement is confined to the ledger's campaign (`_scope`).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from campaigner.errors import ConfigError
from campaigner.ledger import Dump, FeedItem, FeedState, Loaded, LogLine, PostMeta, PostRecord, RunRecord

COLUMNS = (
    "id, event, account, platform, language, due, state, transient, attempts, next_attempt, run_id, host, pid, "
    "claimed_at, lease_until, remote_id, url, published_at, text_sent, text_hash, error, updated_at"
)
_TIME_COLUMNS = {"due", "next_attempt", "claimed_at", "lease_until", "published_at", "updated_at"}
# A post may be claimed when nobody holds it, or when a transient failure's wait is over.
CLAIMABLE = "posts.state = 'pending' OR (posts.state = 'failed' AND posts.transient = TRUE AND posts.next_attempt <= ?)"
_BATCH = 500


class SQLLedger:
    """A campaign's ledger over a SQL connection (the methods of `campaigner.ledger.Ledger`)."""

    exists = True
    null_safe_eq = "IS"  # SQL's null-safe '=' in this dialect

    def __init__(self, url: str, campaign: str, readonly: bool):
        from campaigner.ledger import mask_url

        self.url = mask_url(url)
        self.campaign = campaign
        self.readonly = readonly
        self._scope: str = "campaign = ?"
        self._scope_args: tuple[Any, ...] = (campaign,)

    @property
    def feeds(self) -> SQLLedger:
        """The feed tables: this ledger itself implements the FeedStore."""
        return self

    # ------------------------------------------------------------ what a backend provides

    def _tx(self, *, durable: bool = True) -> AbstractContextManager[Any]:
        """One write transaction; durable=False may commit without waiting for the disk."""
        raise NotImplementedError

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        """The rows of one query, from this ledger's snapshot (read-only) or the latest commit."""
        raise NotImplementedError

    def _ts(self, dt: datetime) -> Any:
        """A timestamp as a query parameter."""
        raise NotImplementedError

    def _dt(self, value: Any) -> datetime | None:
        """A stored timestamp as an aware UTC datetime."""
        raise NotImplementedError

    def reconnect(self) -> bool:
        """A file (or a lock) does not come back by connecting again."""
        return False

    def _q(self, sql: str) -> str:
        """The statement with this driver's parameter marks."""
        return sql

    def _exec(self, db: Any, sql: str, args: Sequence[Any] = ()) -> Any:
        return db.execute(self._q(sql), tuple(args))

    # ------------------------------------------------------------ reads

    def _row(self, r: Sequence[Any]) -> PostRecord:
        return PostRecord(
            id=r[0], event=r[1], account=r[2], platform=r[3], language=r[4], due=self._dt(r[5]), state=r[6],  # type: ignore[arg-type]
            transient=bool(r[7]), attempts=r[8], next_attempt=self._dt(r[9]), run_id=r[10], host=r[11], pid=r[12],
            claimed_at=self._dt(r[13]), lease_until=self._dt(r[14]), remote_id=r[15], url=r[16],
            published_at=self._dt(r[17]), text_sent=r[18], text_hash=r[19], error=r[20], updated_at=self._dt(r[21]),  # type: ignore[arg-type]
        )

    def states(self, ids: Iterable[str]) -> dict[str, PostRecord]:
        """The records that exist for these post ids (read in batches)."""
        wanted = list(ids)
        out: dict[str, PostRecord] = {}
        for i in range(0, len(wanted), _BATCH):
            batch = wanted[i:i + _BATCH]
            marks = ",".join("?" * len(batch))
            for r in self._read(f"SELECT {COLUMNS} FROM posts WHERE {self._scope} AND id IN ({marks})", [*self._scope_args, *batch]):
                out[r[0]] = self._row(r)
        return out

    def records(self, *, states: Iterable[str] | None = None, account: str | None = None, since: datetime | None = None) -> list[PostRecord]:
        """Records filtered by state, account and last change, oldest change first."""
        where, args = [self._scope], list(self._scope_args)
        if states is not None:
            wanted = list(states)
            if not wanted:
                return []
            where.append(f"state IN ({','.join('?' * len(wanted))})")
            args += wanted
        if account:
            where.append("account = ?")
            args.append(account)
        if since:
            where.append("updated_at >= ?")
            args.append(self._ts(since))
        sql = f"SELECT {COLUMNS} FROM posts WHERE " + " AND ".join(where) + " ORDER BY updated_at, id"
        return [self._row(r) for r in self._read(sql, args)]

    def counts(self) -> dict[str, int]:
        """How many posts are in each state."""
        return {r[0]: int(r[1]) for r in self._read(f"SELECT state, COUNT(*) FROM posts WHERE {self._scope} GROUP BY state", self._scope_args)}

    def log(self, post_id: str | None = None) -> list[tuple[datetime, str, str, str | None, str | None]]:
        """History lines (at, post id, state, run id, detail), oldest first."""
        sql = f"SELECT at, post_id, state, run_id, detail FROM post_log WHERE {self._scope}"
        args = list(self._scope_args)
        if post_id:
            sql += " AND post_id = ?"
            args.append(post_id)
        return [LogLine(self._dt(r[0]), r[1], r[2], r[3], r[4]) for r in self._read(sql + " ORDER BY seq", args)]  # type: ignore[arg-type]

    # ------------------------------------------------------------ writes

    def _log(self, db: Any, post_id: str, state: str, run_id: str | None, detail: str | None, now: datetime) -> None:
        self._exec(db, "INSERT INTO post_log (campaign, post_id, at, state, run_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   (self.campaign, post_id, self._ts(now), state, run_id, detail))

    def _claim(self, db: Any, meta: PostMeta, run_id: str, host: str, pid: int, now: datetime, lease_until: datetime) -> bool:
        """The claim's upsert and its history line, in the caller's transaction; True when it took the post."""
        cur = self._exec(
            db,
            f"""INSERT INTO posts (campaign, id, event, account, platform, language, due, state, attempts, run_id, host, pid,
                                   claimed_at, lease_until, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', 1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (campaign, id) DO UPDATE SET
                    state = 'claimed', attempts = posts.attempts + 1, run_id = excluded.run_id,
                    host = excluded.host, pid = excluded.pid, claimed_at = excluded.claimed_at,
                    lease_until = excluded.lease_until, updated_at = excluded.updated_at
                WHERE {CLAIMABLE}""",
            (self.campaign, meta.id, meta.event, meta.account, meta.platform, meta.language, self._ts(meta.due), run_id, host, pid,
             self._ts(now), self._ts(lease_until), self._ts(now), self._ts(now)),
        )
        got = cur.rowcount == 1
        if got:
            self._log(db, meta.id, "claimed", run_id, f"host {host} pid {pid}", now)
        return got

    def claim(self, meta: PostMeta, *, run_id: str, host: str, pid: int, now: datetime, lease_until: datetime) -> bool:
        """Take a post for sending, in one atomic upsert, durable on return; True only for the caller that got it."""
        with self._tx() as db:
            return self._claim(db, meta, run_id, host, pid, now, lease_until)

    def _settle(self, post_id: str, run_id: str | None, state: str, detail: str | None, now: datetime, sets: str, args: tuple) -> None:
        # Not durable on its own: one fsync a post (the claim's) instead of two, a third of the
        # ledger's time per post. At-most-once rests on the claim alone: a result lost to a power
        # cut leaves the post claimed, so it becomes unknown for `resolve` and is never sent again.
        with self._tx(durable=False) as db:
            # Only the run holding the claim may settle it: a claim that was expired meanwhile stays as it is.
            cur = self._exec(
                db,
                f"UPDATE posts SET state = ?, {sets}, updated_at = ? WHERE {self._scope} AND id = ? AND state = 'claimed' AND run_id {self.null_safe_eq} ?",
                (state, *args, self._ts(now), *self._scope_args, post_id, run_id),
            )
            if cur.rowcount == 1:
                self._log(db, post_id, state, run_id, detail, now)

    def record_published(self, post_id: str, *, run_id: str, remote_id: str, url: str, text: str, text_hash: str, now: datetime) -> None:
        """The platform accepted the post: keep its id, link, and the exact text sent."""
        self._settle(post_id, run_id, "published", url, now,
                     "remote_id = ?, url = ?, published_at = ?, text_sent = ?, text_hash = ?, error = NULL, transient = FALSE",
                     (remote_id, url, self._ts(now), text, text_hash))

    def record_failed(self, post_id: str, *, run_id: str, error: str, transient: bool, next_attempt: datetime | None, now: datetime) -> None:
        """The platform refused: transient failures wait for next_attempt, permanent ones never retry."""
        self._settle(post_id, run_id, "failed", error, now, "error = ?, transient = ?, next_attempt = ?",
                     (error, bool(transient), self._ts(next_attempt) if next_attempt else None))

    def record_unknown(self, post_id: str, *, run_id: str | None, error: str, now: datetime) -> None:
        """The request may have reached the platform."""
        self._settle(post_id, run_id, "unknown", error, now, "error = ?", (error,))

    def mark_missed(self, meta: PostMeta, *, run_id: str, detail: str, now: datetime) -> bool:
        """Grace passed with the post never sent; True when this call recorded it."""
        return self._mark_unsent(meta, "missed", run_id, detail, now)

    def mark_skipped(self, meta: PostMeta, *, run_id: str, detail: str, now: datetime) -> bool:
        """A quiet window held the post (after: skip); True when this call recorded it."""
        return self._mark_unsent(meta, "skipped", run_id, detail, now)

    def _mark_unsent(self, meta: PostMeta, state: str, run_id: str, detail: str, now: datetime) -> bool:
        """A post never attempted (pending, or failed for now) becomes `state` for good, with why."""
        assert state in ("missed", "skipped")
        with self._tx() as db:
            cur = self._exec(
                db,
                f"""INSERT INTO posts (campaign, id, event, account, platform, language, due, state, run_id, error, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, '{state}', ?, ?, ?)
                    ON CONFLICT (campaign, id) DO UPDATE SET state = '{state}', run_id = excluded.run_id,
                        error = excluded.error, updated_at = excluded.updated_at
                    WHERE posts.state = 'pending' OR (posts.state = 'failed' AND posts.transient = TRUE)""",
                (self.campaign, meta.id, meta.event, meta.account, meta.platform, meta.language, self._ts(meta.due), run_id, detail, self._ts(now)),
            )
            if cur.rowcount == 1:
                self._log(db, meta.id, state, run_id, detail, now)
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
                cur = self._exec(
                    db,
                    f"UPDATE posts SET state = 'unknown', error = ?, updated_at = ? WHERE {self._scope} AND id = ? AND state = 'claimed' AND run_id {self.null_safe_eq} ?",
                    (why, self._ts(now), *self._scope_args, rec.id, rec.run_id),
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
        if current.state == "published" and published_url is None:
            if skip:
                raise ConfigError(f"post '{post_id}' is already published at {current.url}: skipping it would not take it down; "
                                  "delete it on the platform if it must go, and leave the ledger as it is")
            raise ConfigError(f"post '{post_id}' is already published at {current.url}: marking it not published would send it again; "
                              "if it was deleted on the platform, leave it as it is: the ledger records what went out")
        if current.state == "claimed":
            raise ConfigError(f"post '{post_id}' is being sent right now by {current.host} pid {current.pid}; wait for that run to finish")
        where = f"WHERE {self._scope} AND id = ?"
        with self._tx() as db:
            if published_url is not None:
                self._exec(db, f"UPDATE posts SET state = 'published', url = ?, remote_id = ?, published_at = ?, error = NULL, updated_at = ? {where}",
                           (published_url, remote_id, self._ts(now), self._ts(now), *self._scope_args, post_id))
                self._log(db, post_id, "published", None, f"resolved by {who}: {published_url}", now)
            elif skip:
                self._exec(db, f"UPDATE posts SET state = 'skipped', error = ?, updated_at = ? {where}",
                           (f"skipped by {who}", self._ts(now), *self._scope_args, post_id))
                self._log(db, post_id, "skipped", None, f"skipped by {who}", now)
            else:
                self._exec(db, f"UPDATE posts SET state = 'pending', transient = FALSE, next_attempt = NULL, error = NULL, updated_at = ? {where}",
                           (self._ts(now), *self._scope_args, post_id))
                self._log(db, post_id, "pending", None, f"resolved by {who}: not published", now)
        return self.states([post_id])[post_id]

    # ------------------------------------------------------------ runs

    def begin_run(self, run: RunRecord) -> None:
        """Record the start of a run."""
        with self._tx() as db:
            self._exec(db, "INSERT INTO runs (campaign, id, command, host, pid, started_at, counts) VALUES (?, ?, ?, ?, ?, ?, '{}')",
                       (self.campaign, run.id, run.command, run.host, run.pid, self._ts(run.started_at)))

    def end_run(self, run_id: str, *, counts: dict[str, int], exit_code: int, now: datetime, error: str | None = None) -> None:
        """Record the end of a run."""
        with self._tx(durable=False) as db:
            self._exec(db, f"UPDATE runs SET ended_at = ?, counts = ?, exit_code = ?, error = ? WHERE {self._scope} AND id = ?",
                       (self._ts(now), json.dumps(counts, sort_keys=True), exit_code, error, *self._scope_args, run_id))

    _RUN_COLUMNS = "id, command, host, pid, started_at, ended_at, counts, exit_code, error"

    def read_runs_without_error(self) -> None:
        """A read-only open of a ledger not yet migrated to runs.error (only a write migrates it)."""
        self._RUN_COLUMNS = "id, command, host, pid, started_at, ended_at, counts, exit_code, NULL"

    def _run(self, r: Sequence[Any]) -> RunRecord:
        return RunRecord(r[0], r[1], r[2], r[3], self._dt(r[4]), self._dt(r[5]), json.loads(r[6] or "{}"), r[7], r[8])  # type: ignore[arg-type]

    def last_run(self, command: str | None = None, *, before: datetime | None = None) -> RunRecord | None:
        """The most recently started run (of a command), started at or before `before` when given."""
        sql = f"SELECT {self._RUN_COLUMNS} FROM runs WHERE {self._scope}"
        args = list(self._scope_args)
        if command:
            sql += " AND command = ?"
            args.append(command)
        if before is not None:
            sql += " AND started_at <= ?"
            args.append(self._ts(before))
        rows = self._read(sql + " ORDER BY started_at DESC LIMIT 1", args)
        return self._run(rows[0]) if rows else None

    def recent_runs(self, command: str, *, before: datetime, limit: int) -> list[RunRecord]:
        """The last `limit` runs of a command started at or before `before`, latest first."""
        rows = self._read(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE {self._scope} AND command = ? AND started_at <= ? ORDER BY started_at DESC LIMIT {int(limit)}",
                          [*self._scope_args, command, self._ts(before)])
        return [self._run(r) for r in rows]

    def hosts_since(self, since: datetime) -> list[RunRecord]:
        """The last run of each host that started one at or after `since`, latest first."""
        rows = self._read(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE {self._scope} AND started_at >= ? ORDER BY started_at DESC",
                          [*self._scope_args, self._ts(since)])
        last: dict[str, RunRecord] = {}
        for r in rows:
            run = self._run(r)
            last.setdefault(run.host, run)
        return list(last.values())

    # ------------------------------------------------------------ feeds (the FeedStore)

    def feed_item_seen(self, feed: str, item_key: str) -> bool:
        """Whether a feed item was seen before."""
        return bool(self._read(f"SELECT 1 FROM feed_items WHERE {self._scope} AND feed = ? AND item_key = ?", [*self._scope_args, feed, item_key]))

    def remember_feed_item(self, feed: str, item_key: str, *, event_id: str | None, now: datetime) -> bool:
        """Record a feed item once; True only for the caller that recorded it first."""
        with self._tx() as db:
            cur = self._exec(db, "INSERT INTO feed_items (campaign, feed, item_key, seen_at, event_id) VALUES (?, ?, ?, ?, ?) "
                                 "ON CONFLICT (campaign, feed, item_key) DO NOTHING",
                             (self.campaign, feed, item_key, self._ts(now), event_id))
            return cur.rowcount == 1

    def feed_state(self, feed: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified remembered for a feed."""
        rows = self._read(f"SELECT etag, modified FROM feed_state WHERE {self._scope} AND feed = ?", [*self._scope_args, feed])
        return (rows[0][0], rows[0][1]) if rows else (None, None)

    def set_feed_state(self, feed: str, *, etag: str | None, modified: str | None, now: datetime) -> None:
        """Remember a feed's validators for the next conditional GET."""
        with self._tx(durable=False) as db:
            self._exec(db, """INSERT INTO feed_state (campaign, feed, etag, modified, checked_at) VALUES (?, ?, ?, ?, ?)
                              ON CONFLICT (campaign, feed) DO UPDATE SET etag = excluded.etag, modified = excluded.modified,
                              checked_at = excluded.checked_at""",
                       (self.campaign, feed, etag, modified, self._ts(now)))

    # ------------------------------------------------------------ copy

    def dump(self) -> Dump:
        """Everything this campaign holds."""
        s, a = self._scope, self._scope_args
        return Dump(
            posts=[self._row(r) for r in self._read(f"SELECT {COLUMNS} FROM posts WHERE {s} ORDER BY updated_at, id", a)],
            log=[LogLine(*x) for x in self.log()],
            runs=[self._run(r) for r in self._read(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE {s} ORDER BY started_at, id", a)],
            feed_items=[FeedItem(r[0], r[1], self._dt(r[2]), r[3]) for r in  # type: ignore[arg-type]
                        self._read(f"SELECT feed, item_key, seen_at, event_id FROM feed_items WHERE {s} ORDER BY seen_at, feed, item_key", a)],
            feed_states=[FeedState(r[0], r[1], r[2], self._dt(r[3])) for r in
                         self._read(f"SELECT feed, etag, modified, checked_at FROM feed_state WHERE {s} ORDER BY feed", a)],
        )

    def load(self, dump: Dump) -> Loaded:
        """Write a dump into this campaign in one transaction; a post here in another state refuses the whole copy."""
        ts = self._ts
        with self._tx() as db:
            def rows(sql: str, args: Sequence[Any] = ()) -> list[tuple]:
                return list(self._exec(db, sql, args).fetchall())

            here: dict[str, str] = {}
            ids = [p.id for p in dump.posts]
            for i in range(0, len(ids), _BATCH):
                batch = ids[i:i + _BATCH]
                for r in rows(f"SELECT id, state FROM posts WHERE campaign = ? AND id IN ({','.join('?' * len(batch))})", [self.campaign, *batch]):
                    here[r[0]] = r[1]
            clashes = [f"{p.id}: {p.state} in the source, {here[p.id]} here" for p in dump.posts if p.id in here and here[p.id] != p.state]
            if clashes:
                more = f" (and {len(clashes) - 10} more)" if len(clashes) > 10 else ""
                raise ConfigError([_problem(self.url, f"post {c}") for c in clashes[:10]]
                                  + [_problem(self.url, f"{len(clashes)} post(s) already exist here in another state{more}; nothing was copied. "
                                                        "Settle them on one side first (campaigner resolve), or copy into an empty campaign")])
            new_posts = [p for p in dump.posts if p.id not in here]
            for p in new_posts:
                self._exec(db, f"INSERT INTO posts (campaign, {COLUMNS}) VALUES (?, {','.join('?' * 22)})", (
                    self.campaign, p.id, p.event, p.account, p.platform, p.language, ts(p.due), p.state, bool(p.transient), p.attempts,
                    ts(p.next_attempt) if p.next_attempt else None, p.run_id, p.host, p.pid,
                    ts(p.claimed_at) if p.claimed_at else None, ts(p.lease_until) if p.lease_until else None, p.remote_id, p.url,
                    ts(p.published_at) if p.published_at else None, p.text_sent, p.text_hash, p.error, ts(p.updated_at)))
            seen: set[tuple[Any, ...]] = {(self._dt(r[0]), r[1], r[2], r[3], r[4]) for r in rows("SELECT at, post_id, state, run_id, detail FROM post_log WHERE campaign = ?", [self.campaign])}
            log = 0
            for line in dump.log:
                if tuple(line) not in seen:
                    self._log(db, line.post_id, line.state, line.run_id, line.detail, line.at)
                    seen.add(tuple(line))
                    log += 1
            run_ids = {r[0] for r in rows("SELECT id FROM runs WHERE campaign = ?", [self.campaign])}
            runs = 0
            for run in dump.runs:
                if run.id not in run_ids:
                    self._exec(db, "INSERT INTO runs (campaign, id, command, host, pid, started_at, ended_at, counts, exit_code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               (self.campaign, run.id, run.command, run.host, run.pid, ts(run.started_at), ts(run.ended_at) if run.ended_at else None,
                                json.dumps(run.counts, sort_keys=True), run.exit_code, run.error))
                    runs += 1
            items = 0
            for item in dump.feed_items:
                cur = self._exec(db, "INSERT INTO feed_items (campaign, feed, item_key, seen_at, event_id) VALUES (?, ?, ?, ?, ?) "
                                     "ON CONFLICT (campaign, feed, item_key) DO NOTHING",
                                 (self.campaign, item.feed, item.item_key, ts(item.seen_at), item.event_id))
                items += cur.rowcount == 1
            feeds = 0
            for fs in dump.feed_states:
                cur = self._exec(db, "INSERT INTO feed_state (campaign, feed, etag, modified, checked_at) VALUES (?, ?, ?, ?, ?) "
                                     "ON CONFLICT (campaign, feed) DO NOTHING",
                                 (self.campaign, fs.feed, fs.etag, fs.modified, ts(fs.checked_at) if fs.checked_at else None))
                feeds += cur.rowcount == 1
        return Loaded(len(new_posts), log, runs, items, feeds)


def _problem(where: str, message: str) -> Any:
    from campaigner.errors import Problem

    return Problem(where, 0, 0, message)
