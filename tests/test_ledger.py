"""The SQLite ledger: migrations, atomic claims, and the states a post moves through."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from campaigner.errors import ConfigError
from campaigner.ledger import PostMeta, open_ledger
from campaigner.ledger.sqlite import MIGRATIONS, SQLiteLedger

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
META = PostMeta("e/2026-12-03/acct/en", "e", "acct", "x", "en", NOW)


@pytest.fixture
def ledger():
    led = SQLiteLedger(":memory:")
    yield led
    led.close()


def claim(led, run="r1", now=NOW, meta=META):
    return led.claim(meta, run_id=run, host="h", pid=1, now=now, lease_until=now + timedelta(minutes=10))


def test_migrations_are_recorded_in_order(ledger):
    assert ledger.applied_migrations() == [name for name, _ in MIGRATIONS]


def test_a_ledger_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "state.db"
    SQLiteLedger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 'x')")
    with pytest.raises(ConfigError, match="written by a newer campaigner .*9999_future.*upgrade campaigner"):
        SQLiteLedger(path)


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "state.db"
    SQLiteLedger(path).close()
    again = SQLiteLedger(path)
    assert again.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def test_only_one_claim_wins_and_a_claimed_post_cannot_be_claimed_again(ledger):
    assert claim(ledger, "r1") is True
    assert claim(ledger, "r2") is False
    rec = ledger.states([META.id])[META.id]
    assert (rec.state, rec.run_id, rec.attempts) == ("claimed", "r1", 1)


def test_concurrent_claims_from_threads_with_separate_connections(tmp_path):
    path = tmp_path / "state.db"
    SQLiteLedger(path).close()
    winners = []
    barrier = threading.Barrier(8)

    def worker(i):
        led = SQLiteLedger(path)
        barrier.wait()
        if claim(led, f"r{i}"):
            winners.append(i)
        led.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_only_the_claiming_run_can_settle_a_claim(ledger):
    claim(ledger, "r1")
    ledger.record_published(META.id, run_id="other", remote_id="1", url="u", text="t", text_hash="h", now=NOW)
    assert ledger.states([META.id])[META.id].state == "claimed"
    ledger.record_published(META.id, run_id="r1", remote_id="1", url="https://x.com/a/status/1", text="t", text_hash="h", now=NOW)
    rec = ledger.states([META.id])[META.id]
    assert (rec.state, rec.url, rec.text_sent) == ("published", "https://x.com/a/status/1", "t")
    assert claim(ledger, "r3") is False  # published is final


def test_transient_failure_is_claimable_only_after_next_attempt(ledger):
    claim(ledger)
    ledger.record_failed(META.id, run_id="r1", error="503", transient=True, next_attempt=NOW + timedelta(minutes=2), now=NOW)
    assert claim(ledger, "r2", now=NOW + timedelta(minutes=1)) is False
    assert claim(ledger, "r2", now=NOW + timedelta(minutes=2)) is True
    assert ledger.states([META.id])[META.id].attempts == 2


def test_permanent_failure_and_unknown_are_never_claimable(ledger):
    claim(ledger)
    ledger.record_failed(META.id, run_id="r1", error="401", transient=False, next_attempt=None, now=NOW)
    assert claim(ledger, "r2", now=NOW + timedelta(days=1)) is False
    other = PostMeta("f/2026-12-03/acct/en", "f", "acct", "x", "en", NOW)
    claim(ledger, meta=other)
    ledger.record_unknown(other.id, run_id="r1", error="timeout", now=NOW)
    assert claim(ledger, "r2", now=NOW + timedelta(days=1), meta=other) is False


def test_missed_only_replaces_pending_or_transient(ledger):
    assert ledger.mark_missed(META, run_id="r1", detail="late", now=NOW) is True
    assert ledger.mark_missed(META, run_id="r1", detail="late", now=NOW) is False
    claim(ledger, meta=PostMeta("g/2026-12-03/acct/en", "g", "acct", "x", "en", NOW))
    assert ledger.mark_missed(PostMeta("g/2026-12-03/acct/en", "g", "acct", "x", "en", NOW), run_id="r", detail="late", now=NOW) is False


def test_resolve_and_history_log(ledger):
    claim(ledger)
    ledger.record_unknown(META.id, run_id="r1", error="timeout", now=NOW)
    rec = ledger.resolve(META.id, published_url=None, remote_id=None, skip=False, now=NOW, who="sokha")
    assert rec.state == "pending"
    assert claim(ledger, "r2") is True
    ledger.record_published(META.id, run_id="r2", remote_id="9", url="https://x.com/a/status/9", text="t", text_hash="h", now=NOW)
    with pytest.raises(ConfigError, match="already published"):
        ledger.resolve(META.id, published_url=None, remote_id=None, skip=False, now=NOW, who="sokha")
    states = [s for _, _, s, _, _ in ledger.log(META.id)]
    assert states == ["claimed", "unknown", "pending", "claimed", "published"]


def test_runs_are_recorded(ledger):
    from campaigner.ledger import RunRecord

    ledger.begin_run(RunRecord("run1", "post", "h", 1, NOW, None, {}, None))
    ledger.end_run("run1", counts={"published": 2}, exit_code=0, now=NOW + timedelta(seconds=3))
    last = ledger.last_run("post")
    assert (last.id, last.counts, last.exit_code, last.ended_at) == ("run1", {"published": 2}, 0, NOW + timedelta(seconds=3))


def test_readonly_open_of_a_missing_ledger_creates_nothing(tmp_path):
    assert open_ledger(f"sqlite:///{tmp_path}/none/state.db", readonly=True) is None
    assert not (tmp_path / "none").exists()


def test_unsupported_url_is_a_config_error():
    with pytest.raises(ConfigError, match="only sqlite:///PATH"):
        open_ledger("postgresql://db/campaigner")


def test_a_claim_commits_to_disk_and_a_result_waits_for_the_next_claim(tmp_path):
    """At-most-once rests on the claim: it is committed with synchronous=FULL (fsync) before any
    network call. Results commit with NORMAL and reach the disk with the next FULL commit."""
    led = SQLiteLedger(tmp_path / "state.db")
    seen: list[str] = []
    led.conn.set_trace_callback(seen.append)

    def sync_level_at_commits() -> list[int]:
        levels, level = [], None
        for statement in seen:
            if statement.startswith("PRAGMA synchronous"):
                level = statement.split("=")[1].strip()
            elif statement == "COMMIT":
                levels.append(level)
        seen.clear()
        return levels

    assert led.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, set explicitly at open
    seen.clear()
    assert claim(led)
    assert sync_level_at_commits() == [None]  # the connection's FULL
    led.record_published(META.id, run_id="r1", remote_id="1", url="u", text="t", text_hash="h", now=NOW)
    assert sync_level_at_commits() == ["NORMAL"]
    assert led.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again for the next claim
    led.close()
    assert open_ledger(f"sqlite:///{tmp_path / 'state.db'}", readonly=True).states([META.id])[META.id].state == "published"
