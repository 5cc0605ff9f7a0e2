"""The ledger under damage, typos, long runs, concurrent readers, locks and a full disk (issue 10, items 2, 3, 6, 7, 9), through the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from campaigner.cli import app
from tests.childenv import child_env
from tests.conftest import ROOT
from tests.fake_platform import FakeAdapter, sends

runner = CliRunner()
MORNING = "2026-12-03T09:05:00+07:00"


@pytest.fixture
def cal(fixture_calendar, tmp_path, monkeypatch):
    import tests.fake_platform  # noqa: F401  registers the platform in this process

    path = fixture_calendar("publish")
    monkeypatch.setenv("CAMPAIGNER_PLUGINS", "tests.fake_platform")
    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    return path


def invoke(*args: str):
    return runner.invoke(app, list(args))


def db_of(cal):
    return cal.parent / ".campaigner" / "state.db"


# ---------------------------------------------------------------- item 2: a damaged ledger file


@pytest.mark.parametrize("damage", ["empty", "truncated", "not-sqlite", "no-schema"])
def test_a_damaged_ledger_is_a_configuration_error_for_every_command(cal, tmp_path, damage):
    db = db_of(cal)
    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 0
    good = db.read_bytes()
    for f in (db.with_name("state.db-wal"), db.with_name("state.db-shm")):
        f.unlink(missing_ok=True)
    if damage == "empty":
        db.write_bytes(b"")
    elif damage == "truncated":
        db.write_bytes(good[:60])
    elif damage == "not-sqlite":
        db.write_text("posts: none\n")
    else:
        db.unlink()
        sqlite3.connect(db).execute("CREATE TABLE notes (x)").connection.close()
    before = db.read_bytes()
    what = {"empty": "is empty (0 bytes)", "truncated": "is truncated", "not-sqlite": "is not a SQLite database", "no-schema": "has no campaigner tables"}[damage]
    for args in (["plan"], ["status"], ["history"], ["post", "--dry-run"], ["post"], ["resolve", "x/2026-12-03/alpha/en", "--skip"]):
        result = invoke(*args, "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00")
        assert result.exit_code == 2, (args, result.output)
        assert f"{db}: the ledger file {what}" in result.stderr and "Restore it from a backup" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    assert db.read_bytes() == before  # nothing rebuilt it
    assert len(sends(tmp_path / "sent.jsonl")) == 2  # nothing re-published


# ---------------------------------------------------------------- item 3: a mistyped --db


def test_a_mistyped_db_creates_no_ledger_and_sends_nothing(cal, tmp_path, monkeypatch):
    typo = tmp_path / "srv" / "ccbll" / "state.db"
    for how in ("option", "env"):
        args = ["post", "--calendar", str(cal), "--now", MORNING]
        if how == "option":
            args += ["--db", f"sqlite:///{typo}"]
        else:
            monkeypatch.setenv("CAMPAIGNER_DB", f"sqlite:///{typo}")
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert f"{typo}: no ledger there" in result.stderr and f"campaigner ledger init sqlite:///{typo}" in result.stderr
        assert not typo.parent.parent.exists()
    assert sends(tmp_path / "sent.jsonl") == []
    monkeypatch.delenv("CAMPAIGNER_DB")
    init = invoke("ledger", "init", f"sqlite:///{typo}")
    assert init.exit_code == 0 and "ledger created" in init.stdout
    assert invoke("ledger", "init", f"sqlite:///{typo}").stdout.endswith("already a campaigner ledger, up to date\n")
    result = invoke("post", "--calendar", str(cal), "--now", MORNING, "--db", f"sqlite:///{typo}")
    assert result.exit_code == 0 and "2 published" in result.stdout
    assert not db_of(cal).exists()  # the default ledger was not touched either


def test_the_default_ledger_is_still_created_by_the_first_run(cal):
    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 0
    assert db_of(cal).exists()


# ---------------------------------------------------------------- item 6: the lease runs from the claim


def test_a_long_run_keeps_its_later_claims_for_a_lease_counted_from_each_claim(cal, tmp_path):
    from campaigner.ledger import campaign_key, default_url, open_ledger
    from campaigner.publish import Publisher
    from campaigner.runtime import session

    lease = timedelta(seconds=1)
    in_flight, finish = threading.Event(), threading.Event()

    class Slow(FakeAdapter):
        def publish(self, message):
            if message.idempotency_key.startswith("morning/") and self.account == "alpha":
                time.sleep(1.3)  # longer than the lease: the next claim is made after the run's lease would end
            if message.idempotency_key.startswith("noon/") and self.account == "alpha":
                in_flight.set()
                assert finish.wait(10)
            return super().publish(message)

    with session(cal, now="2026-12-03T12:05:00+07:00") as rt:
        calendar, now = rt.calendar, rt.now
    url, key = default_url(cal), campaign_key(calendar.campaign)
    first = Publisher(calendar, open_ledger(url, create=True, campaign=key), lambda a: Slow(a, {}, {"TOKEN": "t"}), lease=lease)
    started = time.monotonic()
    reports = {}
    t = threading.Thread(target=lambda: reports.setdefault("first", first.run(now, accounts=["alpha"])))
    t.start()
    assert in_flight.wait(10)
    # Another host's run, 0.5 s into the noon post's 1 s lease (and 1.8 s after the first run began).
    second_now = now + timedelta(seconds=time.monotonic() - started + 0.5)
    second = Publisher(calendar, open_ledger(url, campaign=key), lambda a: FakeAdapter(a, {}, {"TOKEN": "t"}), lease=lease, host="other-host")
    reports["second"] = second.run(second_now, accounts=["alpha"])
    finish.set()
    t.join()
    assert [r.status for r in reports["second"].results if r.id == "noon/2026-12-03/alpha/en"] == []  # not taken for abandoned
    assert {r.id: r.status for r in reports["first"].results}["noon/2026-12-03/alpha/en"] == "published"
    rec = open_ledger(url, readonly=True, campaign=key).states(["noon/2026-12-03/alpha/en"])["noon/2026-12-03/alpha/en"]
    assert rec.state == "published" and rec.lease_until - rec.claimed_at == lease and rec.claimed_at > now + timedelta(seconds=1.2)


# ---------------------------------------------------------------- item 7: consistent reads while a run writes


WRITER = r"""
import sys
from datetime import datetime, timedelta, timezone
from campaigner.ledger import PostMeta, open_ledger
url, key, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
now = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
n = 0
for r in range(rounds):
    led = open_ledger(url, campaign=key)  # a run: open, claim and settle some posts, close (the -wal goes away)
    for i in range(15):
        n += 1
        meta = PostMeta(f"e{n}/2026-12-03/alpha/en", f"e{n}", "alpha", "fake", "en", now)
        led.claim(meta, run_id=f"r{r}", host="h", pid=1, now=now, lease_until=now + timedelta(minutes=10))
        led.record_unknown(meta.id, run_id=f"r{r}", error="the request may have reached the platform", now=now)
    led.close()
print(n)
"""


@pytest.mark.slow
def test_readers_see_a_consistent_ledger_while_runs_write(cal, tmp_path):
    from campaigner.ledger import campaign_key, default_url
    from campaigner.runtime import session

    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 0
    with session(cal) as rt:
        key = campaign_key(rt.calendar.campaign)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, default_url(cal), key, "60"], env=child_env(PYTHONPATH=str(ROOT)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reads, bad = 0, []
    try:
        while writer.poll() is None or reads < 20:
            result = invoke("status", "--calendar", str(cal), "--now", "2026-12-03T09:10:00+07:00", "--json")
            reads += 1
            if result.exit_code != 0:
                bad.append(result.output[-300:])
                continue
            js = json.loads(result.stdout)
            if js["counts"].get("unknown", 0) != len(js["unknown"]):  # counts and list from two queries: one snapshot
                bad.append(f"counts say {js['counts'].get('unknown', 0)} unknown, the list has {len(js['unknown'])}")
            if writer.poll() is not None and reads >= 20:
                break
    finally:
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert bad == [], f"{len(bad)} of {reads} reads were torn or failed: {bad[:3]}"
    assert reads >= 20


# ---------------------------------------------------------------- item 9: a locked ledger, a full disk


HOLD_LOCK = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_ledger_locked_before_the_run_is_exit_2_naming_the_holder_and_sends_nothing(cal, tmp_path, monkeypatch):
    db = db_of(cal)
    assert invoke("post", "--calendar", str(cal), "--now", MORNING).exit_code == 0
    monkeypatch.setenv("CAMPAIGNER_LEDGER_TIMEOUT", "0.5")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00")
    finally:
        holder.communicate("")
    assert result.exit_code == 2, result.output
    assert f"{db}: the ledger stayed locked by another process for 0.5 s (open in pid {holder.pid}:" in result.stderr
    assert "nothing was sent" in result.stderr and "Let that run finish" in result.stderr
    assert len(sends(tmp_path / "sent.jsonl")) == 2


def _break_the_ledger_after_first_send(monkeypatch, db, how):
    """The first send succeeds, then the ledger cannot be written (another process locks it, or the disk fills)."""
    state = {"holder": None}
    real_publish = FakeAdapter.publish

    def publish(self, message):
        receipt = real_publish(self, message)
        if state["holder"] is None:
            if how == "locked":
                state["holder"] = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                assert state["holder"].stdout.readline().strip() == "locked"
            else:  # fill the small disk the ledger is on
                with open(db.parent / "filler", "wb") as f:
                    try:
                        while True:
                            f.write(b"\0" * 65536)
                            f.flush()
                    except OSError:
                        pass
                state["holder"] = True
        return receipt

    monkeypatch.setattr(FakeAdapter, "publish", publish)
    return state


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system of its own (tmpfs), to fill up."""
    where = tmp_path / "disk"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root) to fill a disk for real")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.mark.parametrize("how", ["locked", "full"])
def test_a_ledger_that_cannot_be_written_mid_run_is_reported_and_exit_1(cal, tmp_path, monkeypatch, request, how):
    if how == "full":
        db = request.getfixturevalue("small_disk") / "state.db"
        assert invoke("ledger", "init", f"sqlite:///{db}").exit_code == 0
        monkeypatch.setenv("CAMPAIGNER_DB", f"sqlite:///{db}")
    else:
        db = db_of(cal)
        assert invoke("post", "--calendar", str(cal), "--now", "2026-12-02T09:05:00+07:00").exit_code == 0  # the ledger exists, nothing due yet
    monkeypatch.setenv("CAMPAIGNER_LEDGER_TIMEOUT", "0.5")
    state = _break_the_ledger_after_first_send(monkeypatch, db, how)
    try:
        result = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:05:00+07:00", "--account", "alpha")
    finally:
        if how == "locked" and state["holder"] is not None:
            state["holder"].communicate("")
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "the ledger could not be written, so this run stopped sending" in err, err
    assert ("locked by another process" in err) if how == "locked" else ("the disk is full" in err)
    assert "1 post(s) went out (or may have) but could not be recorded; they show as unknown: morning/2026-12-03/alpha/en" in err
    assert ("Let that run finish" in err or "let that run finish" in err) if how == "locked" else "free space on that disk" in err
    assert "Traceback" not in result.output and "internal error" not in err
    assert [s["key"] for s in sends(tmp_path / "sent.jsonl")] == ["morning/2026-12-03/alpha/en"]
    if how == "full":
        (db.parent / "filler").unlink()
    # What went out is never sent again: it stays claimed (then unknown, for a person to settle).
    monkeypatch.setattr(FakeAdapter, "publish", FakeAdapter.publish.__wrapped__ if hasattr(FakeAdapter.publish, "__wrapped__") else FakeAdapter.publish)
    again = invoke("post", "--calendar", str(cal), "--now", "2026-12-03T12:06:00+07:00", "--account", "alpha")
    assert "morning/2026-12-03/alpha/en" not in [s["key"] for s in sends(tmp_path / "sent.jsonl")[1:]], again.output
    assert "noon/2026-12-03/alpha/en" in [s["key"] for s in sends(tmp_path / "sent.jsonl")[1:]]  # what was not attempted goes now
