"""What only the SQLite backend does: its file, WAL and fsync rules, its migrations, and the seam it plugs into."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from campaigner.errors import ConfigError
from campaigner.ledger import EmptyLedger, PostMeta, ledger_exists, mask_url, open_ledger, register_backend
from campaigner.ledger.migrations import Migrations, migrate
from campaigner.ledger.sqlite import MIGRATIONS, SQLiteLedger

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
META = PostMeta("e/2026-12-03/acct/en", "e", "acct", "x", "en", NOW)


def claim(led, run="r1", now=NOW, meta=META):
    return led.claim(meta, run_id=run, host="h", pid=1, now=now, lease_until=now + timedelta(minutes=10))


def test_migrations_are_recorded_in_order():
    led = SQLiteLedger(":memory:")
    assert led.applied_migrations() == MIGRATIONS.names == ["0001_posts_runs", "0002_feed_items", "0003_campaign", "0004_run_error"]


def test_a_migration_name_is_registered_once():
    m = Migrations("test")
    m.add("0001_a", "CREATE TABLE a (x)")
    with pytest.raises(ValueError, match="'0001_a' is already registered"):
        m.add("0001_a", "CREATE TABLE b (x)")


def test_a_backend_scheme_is_registered_once():
    with pytest.raises(ValueError, match="'sqlite' is already registered"):
        register_backend("sqlite", lambda: None)


def test_the_runner_applies_only_what_is_missing_and_records_it(tmp_path):
    led = SQLiteLedger(tmp_path / "state.db")
    extra = Migrations("sqlite")
    for m in MIGRATIONS:
        extra.add(m.name, m.step)
    extra.add("0099_extra", "CREATE TABLE extra (x TEXT)")
    assert migrate(led, extra) == ["0099_extra"]
    assert migrate(led, extra) == []
    assert led.applied_migrations()[-1] == "0099_extra"


def test_a_ledger_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "state.db"
    SQLiteLedger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 'x')")
    for readonly in (False, True):
        with pytest.raises(ConfigError, match="written by a newer campaigner .*9999_future.*upgrade campaigner"):
            open_ledger(f"sqlite:///{path}", readonly=readonly)


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "state.db"
    SQLiteLedger(path).close()
    again = SQLiteLedger(path)
    assert again.applied_migrations() == MIGRATIONS.names
    assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


def _old_ledger(path):
    """A ledger as campaigner wrote it before campaigns had keys (migrations 0001 and 0002 only)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for m in list(MIGRATIONS)[:2]:
        for statement in filter(str.strip, m.step.split(";")):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (?, 'then')", (m.name,))
    db.execute("INSERT INTO posts (id, event, account, platform, language, due, state, updated_at, url) "
               "VALUES (?, 'e', 'acct', 'x', 'en', '2026-12-03T02:00:00.000000+00:00', 'published', '2026-12-03T02:00:00.000000+00:00', 'https://x/1')",
               (META.id,))
    db.execute("INSERT INTO post_log (post_id, at, state) VALUES (?, '2026-12-03T02:00:00.000000+00:00', 'published')", (META.id,))
    db.execute("INSERT INTO runs (id, command, host, pid, started_at) VALUES ('r0', 'post', 'h', 1, '2026-12-03T02:00:00.000000+00:00')")
    db.execute("INSERT INTO feed_items VALUES ('F', 'k', '2026-12-03T02:00:00.000000+00:00', NULL)")
    db.execute("INSERT INTO feed_state VALUES ('F', 'etag', NULL, NULL)")
    db.commit()
    db.close()


def test_a_ledger_from_before_campaign_keys_opens_unchanged_as_this_calendars(tmp_path):
    path = tmp_path / "state.db"
    _old_ledger(path)
    url = f"sqlite:///{path}"
    ro = open_ledger(url, readonly=True, campaign="ccbl")  # read-only: read as it is, nothing migrated
    assert ro.states([META.id])[META.id].url == "https://x/1" and ro.last_run().id == "r0"
    ro.close()
    led = open_ledger(url, campaign="ccbl")
    assert led.applied_migrations() == MIGRATIONS.names
    assert led.states([META.id])[META.id].state == "published" and claim(led) is False
    assert [line[2] for line in led.log()] == ["published"] and led.last_run().id == "r0"
    assert led.feeds.feed_item_seen("F", "k") and led.feeds.feed_state("F") == ("etag", None)
    other = open_ledger(url, campaign="someone-else")
    assert other.counts() == {} and claim(other) is True


def test_readonly_open_of_a_missing_ledger_is_an_empty_view_that_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path}/none/state.db"
    led = open_ledger(url, readonly=True)
    assert isinstance(led, EmptyLedger) and led.exists is False and not ledger_exists(url)
    assert led.counts() == {} and led.states(["x"]) == {} and led.last_run() is None and led.feeds.feed_state("F") == (None, None)
    with pytest.raises(ConfigError, match="does not exist yet"):
        claim(led)
    assert not (tmp_path / "none").exists()


def test_an_unknown_url_scheme_is_a_config_error_with_the_password_masked():
    with pytest.raises(ConfigError, match=r"--db mysql://u:\*\*\*@db/c: no ledger backend for 'mysql://' URLs \(known: .*sqlite://"):
        open_ledger("mysql://u:hunter2@db/c")


def test_passwords_are_masked_in_urls():
    assert mask_url("postgresql://ccbl:s3cr%2Ft@db.example:5432/ledger") == "postgresql://ccbl:***@db.example:5432/ledger"
    assert mask_url("postgresql://db/ledger?user=u&password=p@ss&sslmode=require") == "postgresql://db/ledger?user=u&password=***&sslmode=require"
    assert mask_url("postgresql://ccbl@db/ledger") == "postgresql://ccbl@db/ledger"
    assert mask_url("sqlite:////srv/a:b@c/state.db") == "sqlite:////srv/a:b@c/state.db"


def test_a_claim_commits_to_disk_and_a_result_waits_for_the_next_claim(tmp_path):
    """At-most-once rests on the claim: it is committed with synchronous=FULL (fsync) before any
    network call. Results commit with NORMAL and reach the disk with the next FULL commit."""
    led = SQLiteLedger(tmp_path / "state.db")
    seen: list[str] = []
    led.conn.set_trace_callback(seen.append)

    def sync_level_at_commits() -> list[str | None]:
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
