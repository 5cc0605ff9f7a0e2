"""The ledger contract: every backend passes the same tests (see tests/ledger_backends.py)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from campaigner.errors import ConfigError
from campaigner.ledger import PostMeta, RunRecord
from tests import ledger_backends
from tests.ledger_backends import shared_only

backend, pg_database = ledger_backends.backend, ledger_backends.pg_database  # the fixtures

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
META = PostMeta("e/2026-12-03/acct/en", "e", "acct", "x", "en", NOW)


@pytest.fixture
def ledger(backend):
    return backend.open()


def claim(led, run="r1", now=NOW, meta=META, host="h", pid=1, lease=timedelta(minutes=10)):
    return led.claim(meta, run_id=run, host=host, pid=pid, now=now, lease_until=now + lease)


def meta(event: str, account: str = "acct") -> PostMeta:
    return PostMeta(f"{event}/2026-12-03/{account}/en", event, account, "x", "en", NOW)


def test_a_new_ledger_is_empty_and_exists(ledger):
    assert ledger.exists and ledger.counts() == {} and ledger.records() == [] and ledger.last_run() is None
    assert ledger.log() == [] and ledger.states([META.id]) == {}


def test_only_one_claim_wins_and_a_claimed_post_cannot_be_claimed_again(ledger):
    assert claim(ledger, "r1") is True
    assert claim(ledger, "r2") is False
    rec = ledger.states([META.id])[META.id]
    assert (rec.state, rec.run_id, rec.attempts, rec.host, rec.pid) == ("claimed", "r1", 1, "h", 1)
    assert (rec.claimed_at, rec.lease_until, rec.due) == (NOW, NOW + timedelta(minutes=10), NOW)


def test_concurrent_claims_from_threads_with_separate_connections(backend):
    shared_only(backend)
    backend.open()
    ledgers = [backend.open() for _ in range(8)]
    winners = []
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        if claim(ledgers[i], f"r{i}"):
            winners.append(i)

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
    assert (rec.state, rec.url, rec.text_sent, rec.remote_id, rec.published_at) == ("published", "https://x.com/a/status/1", "t", "1", NOW)
    assert claim(ledger, "r3") is False  # published is final


def test_transient_failure_is_claimable_only_after_next_attempt(ledger):
    claim(ledger)
    ledger.record_failed(META.id, run_id="r1", error="503", transient=True, next_attempt=NOW + timedelta(minutes=2), now=NOW)
    rec = ledger.states([META.id])[META.id]
    assert (rec.state, rec.transient, rec.next_attempt, rec.error) == ("failed", True, NOW + timedelta(minutes=2), "503")
    assert claim(ledger, "r2", now=NOW + timedelta(minutes=1)) is False
    assert claim(ledger, "r2", now=NOW + timedelta(minutes=2)) is True
    assert ledger.states([META.id])[META.id].attempts == 2


def test_permanent_failure_and_unknown_are_never_claimable(ledger):
    claim(ledger)
    ledger.record_failed(META.id, run_id="r1", error="401", transient=False, next_attempt=None, now=NOW)
    assert ledger.states([META.id])[META.id].transient is False
    assert claim(ledger, "r2", now=NOW + timedelta(days=1)) is False
    other = meta("f")
    claim(ledger, meta=other)
    ledger.record_unknown(other.id, run_id="r1", error="timeout", now=NOW)
    assert claim(ledger, "r2", now=NOW + timedelta(days=1), meta=other) is False


def test_missed_only_replaces_pending_or_transient(ledger):
    assert ledger.mark_missed(META, run_id="r1", detail="late", now=NOW) is True
    assert ledger.mark_missed(META, run_id="r1", detail="late", now=NOW) is False
    claim(ledger, meta=meta("g"))
    assert ledger.mark_missed(meta("g"), run_id="r", detail="late", now=NOW) is False
    claim(ledger, meta=meta("t"))
    ledger.record_failed(meta("t").id, run_id="r1", error="503", transient=True, next_attempt=NOW, now=NOW)
    assert ledger.mark_missed(meta("t"), run_id="r", detail="late", now=NOW) is True
    assert ledger.counts() == {"missed": 2, "claimed": 1}


def test_skipped_by_a_quiet_window_only_replaces_pending_or_transient_and_says_why(ledger):
    why = "held by quiet window 'elections' (2027-05-23 to 2027-06-06): never sent (after: skip)"
    assert ledger.mark_skipped(META, run_id="r1", detail=why, now=NOW) is True
    assert ledger.mark_skipped(META, run_id="r1", detail=why, now=NOW) is False
    rec = ledger.states([META.id])[META.id]
    assert (rec.state, rec.error, rec.run_id) == ("skipped", why, "r1")
    assert [(state, detail) for _, _, state, _, detail in ledger.log(META.id)] == [("skipped", why)]
    claim(ledger, meta=meta("c"))
    assert ledger.mark_skipped(meta("c"), run_id="r", detail=why, now=NOW) is False  # claimed: it may be on its way out
    ledger.record_published(meta("c").id, run_id="r1", remote_id="1", url="https://x.example/1", text="t", text_hash="h", now=NOW)
    assert ledger.mark_skipped(meta("c"), run_id="r", detail=why, now=NOW) is False
    assert ledger.counts() == {"skipped": 1, "published": 1}


def test_expired_leases_and_dead_local_processes_become_unknown(ledger):
    claim(ledger, "dead", meta=meta("a"), host="here", pid=111)
    claim(ledger, "far", meta=meta("b"), host="there", pid=111)
    claim(ledger, "old", meta=meta("c"), host="there", pid=5, lease=timedelta(minutes=1))
    expired = ledger.expire_claims(now=NOW + timedelta(minutes=5), host="here", alive=lambda pid: False)
    assert sorted(r.id for r in expired) == [meta("a").id, meta("c").id]
    states = ledger.states([meta(x).id for x in "abc"])
    assert [states[meta(x).id].state for x in "abc"] == ["unknown", "claimed", "unknown"]
    assert "ended before recording" in states[meta("a").id].error and "within its lease" in states[meta("c").id].error


def test_resolve_and_history_log(ledger):
    claim(ledger)
    ledger.record_unknown(META.id, run_id="r1", error="timeout", now=NOW)
    rec = ledger.resolve(META.id, published_url=None, remote_id=None, skip=False, now=NOW, who="sokha")
    assert rec.state == "pending"
    assert claim(ledger, "r2") is True
    with pytest.raises(ConfigError, match="being sent right now"):
        ledger.resolve(META.id, published_url=None, remote_id=None, skip=True, now=NOW, who="sokha")
    ledger.record_published(META.id, run_id="r2", remote_id="9", url="https://x.com/a/status/9", text="t", text_hash="h", now=NOW)
    with pytest.raises(ConfigError, match="already published"):
        ledger.resolve(META.id, published_url=None, remote_id=None, skip=False, now=NOW, who="sokha")
    with pytest.raises(ConfigError, match="skipping it would not take it down"):
        ledger.resolve(META.id, published_url=None, remote_id=None, skip=True, now=NOW, who="sokha")
    with pytest.raises(ConfigError, match="would send it again"):
        ledger.resolve(META.id, published_url=None, remote_id=None, skip=False, now=NOW, who="sokha")
    with pytest.raises(ConfigError, match="no post 'nope'"):
        ledger.resolve("nope", published_url=None, remote_id=None, skip=True, now=NOW, who="sokha")
    states = [s for _, _, s, _, _ in ledger.log(META.id)]
    assert states == ["claimed", "unknown", "pending", "claimed", "published"]
    claim(ledger, meta=meta("s"))
    ledger.record_unknown(meta("s").id, run_id="r1", error="timeout", now=NOW)
    assert ledger.resolve(meta("s").id, published_url=None, remote_id=None, skip=True, now=NOW, who="sokha").state == "skipped"
    assert [line[2] for line in ledger.log()][-1] == "skipped"


def test_records_filter_by_state_account_and_time(ledger):
    claim(ledger, meta=meta("a", "one"), now=NOW)
    claim(ledger, meta=meta("b", "two"), now=NOW + timedelta(hours=1))
    assert [r.id for r in ledger.records(states=["claimed"], account="two")] == [meta("b", "two").id]
    assert [r.id for r in ledger.records(since=NOW + timedelta(minutes=30))] == [meta("b", "two").id]
    assert [r.id for r in ledger.records()] == [meta("a", "one").id, meta("b", "two").id]
    assert ledger.records(states=["published"]) == [] and ledger.records(states=[]) == []
    many = [f"x{i}" for i in range(1200)]  # more ids than one batch
    for name in many[:3]:
        claim(ledger, meta=meta(name))
    assert len(ledger.states(meta(n).id for n in many)) == 3


def test_runs_are_recorded_and_the_hosts_of_a_shared_ledger_listed(ledger):
    ledger.begin_run(RunRecord("run1", "post", "h1", 1, NOW, None, {}, None))
    ledger.end_run("run1", counts={"published": 2}, exit_code=0, now=NOW + timedelta(seconds=3))
    ledger.begin_run(RunRecord("run2", "watch", "h2", 2, NOW + timedelta(minutes=1), None, {}, None))
    ledger.begin_run(RunRecord("run3", "post", "h1", 3, NOW + timedelta(minutes=2), None, {}, None))
    last = ledger.last_run("post")
    assert (last.id, last.counts, last.exit_code, last.ended_at) == ("run3", {}, None, None)
    first = [r for r in ledger.dump().runs if r.id == "run1"][0]
    assert (first.counts, first.exit_code, first.ended_at) == ({"published": 2}, 0, NOW + timedelta(seconds=3))
    assert ledger.last_run().id == "run3"
    assert [(r.host, r.id) for r in ledger.hosts_since(NOW)] == [("h1", "run3"), ("h2", "run2")]
    assert [r.host for r in ledger.hosts_since(NOW + timedelta(seconds=90))] == ["h1"]


def test_a_run_that_ended_in_a_configuration_error_keeps_why_and_runs_are_read_up_to_a_moment(ledger):
    ledger.begin_run(RunRecord("ok", "post", "h", 1, NOW, None, {}, None))
    ledger.end_run("ok", counts={"published": 1}, exit_code=0, now=NOW)
    for i in (1, 2):
        at = NOW + timedelta(minutes=5 * i)
        ledger.begin_run(RunRecord(f"bad{i}", "post", "h", 1, at, None, {}, None))
        ledger.end_run(f"bad{i}", counts={}, exit_code=2, now=at, error="set CAMPAIGNER_X_TOKEN")
    ledger.begin_run(RunRecord("rehearsal", "post", "h", 1, NOW + timedelta(days=30), None, {}, None))  # a --now in the future
    assert ledger.last_run("post", before=NOW + timedelta(hours=1)).id == "bad2"
    recent = ledger.recent_runs("post", before=NOW + timedelta(hours=1), limit=2)
    assert [(r.id, r.exit_code, r.error) for r in recent] == [("bad2", 2, "set CAMPAIGNER_X_TOKEN"), ("bad1", 2, "set CAMPAIGNER_X_TOKEN")]
    assert ledger.last_run("post").id == "rehearsal"


def test_feed_items_are_remembered_once_and_validators_kept(ledger):
    feeds = ledger.feeds
    assert feeds.feed_item_seen("Monitor", "k1") is False
    assert feeds.remember_feed_item("Monitor", "k1", event_id="condemn-x", now=NOW) is True
    assert feeds.remember_feed_item("Monitor", "k1", event_id=None, now=NOW) is False
    assert feeds.feed_item_seen("Monitor", "k1") is True
    assert feeds.feed_state("Monitor") == (None, None)
    feeds.set_feed_state("Monitor", etag='"v1"', modified=None, now=NOW)
    feeds.set_feed_state("Monitor", etag='"v2"', modified="Tue, 01 Dec 2026 00:00:00 GMT", now=NOW)
    assert feeds.feed_state("Monitor") == ('"v2"', "Tue, 01 Dec 2026 00:00:00 GMT")


def test_campaigns_in_one_ledger_never_see_each_other(backend):
    shared_only(backend)
    ours, theirs = backend.open(campaign="ours"), backend.open(campaign="theirs")
    assert claim(ours) is True
    assert claim(theirs) is True  # the same post id, another campaign: its own post
    ours.record_published(META.id, run_id="r1", remote_id="1", url="u1", text="t", text_hash="h", now=NOW)
    ours.begin_run(RunRecord("ro", "post", "h", 1, NOW, None, {}, None))
    ours.feeds.remember_feed_item("F", "k", event_id=None, now=NOW)
    assert theirs.states([META.id])[META.id].state == "claimed"
    assert theirs.counts() == {"claimed": 1} and ours.counts() == {"published": 1}
    assert [line[2] for line in theirs.log()] == ["claimed"]
    assert theirs.last_run() is None and theirs.hosts_since(NOW) == []
    assert theirs.feeds.feed_item_seen("F", "k") is False
    assert theirs.expire_claims(now=NOW + timedelta(days=1), host="h", alive=lambda p: True)[0].id == META.id
    assert ours.states([META.id])[META.id].state == "published"


def test_a_readonly_open_sees_what_was_written_and_writes_nothing(backend):
    shared_only(backend)
    led = backend.open()
    claim(led)
    led.close()
    ro = backend.open(readonly=True)
    assert ro.readonly and ro.exists and ro.states([META.id])[META.id].state == "claimed"
    with pytest.raises(ConfigError):
        claim(ro, meta=meta("other"))


def test_dump_and_load_copy_a_campaign_once(backend):
    shared_only(backend)
    src = backend.open(campaign="old")
    claim(src, meta=meta("pub"))
    src.record_published(meta("pub").id, run_id="r1", remote_id="1", url="u", text="t", text_hash="h", now=NOW)
    claim(src, meta=meta("unk"))
    src.record_unknown(meta("unk").id, run_id="r1", error="timeout", now=NOW)
    src.mark_missed(meta("mis"), run_id="r1", detail="late", now=NOW)
    src.begin_run(RunRecord("r1", "post", "h", 1, NOW, None, {}, None))
    src.feeds.remember_feed_item("F", "k", event_id="e", now=NOW)
    src.feeds.set_feed_state("F", etag="x", modified=None, now=NOW)
    dst = backend.open(campaign="new")
    loaded = dst.load(src.dump())
    assert tuple(loaded) == (3, 5, 1, 1, 1)
    assert {r.id: r.state for r in dst.records()} == {r.id: r.state for r in src.records()}
    assert dst.log() == src.log() and dst.dump().runs == src.dump().runs
    assert tuple(dst.load(src.dump())) == (0, 0, 0, 0, 0)  # twice copies nothing twice
    assert dst.log() == src.log()
    claim(src, meta=meta("pend"))
    claim(dst, meta=meta("pend"))
    dst.record_failed(meta("pend").id, run_id="r1", error="no", transient=False, next_attempt=None, now=NOW)
    with pytest.raises(ConfigError, match="claimed in the source, failed here"):
        dst.load(src.dump())
    assert dst.states([meta("pend").id])[meta("pend").id].state == "failed"


def test_briefing_keys_of_two_groups_for_one_address_are_two_rows_read_back_whole(ledger):
    from campaigner.brief import brief_id, briefing_of

    event = "condemn-2026-11-30-cmac-3f2a1c"
    ids = {group: brief_id(event, "Sok.Dara+press@News.example.com.kh", group) for group in ("journalists", "officials", "partners_2")}
    assert ids["journalists"] == f"brief/{event}/sok.dara+press@news.example.com.kh"  # the key from before contact groups
    for bid in ids.values():
        assert claim(ledger, meta=PostMeta(bid, event, "email", "email", "km", NOW)) is True
        assert claim(ledger, "r2", meta=PostMeta(bid, event, "email", "email", "km", NOW)) is False  # once per (event, group, address)
    rows = ledger.records(account="email")
    assert sorted(r.id for r in rows) == sorted(ids.values())
    assert {briefing_of(r.id) for r in rows} == {(event, g, "sok.dara+press@news.example.com.kh") for g in ids}
    assert set(ledger.states(ids.values())) == set(ids.values())
    assert briefing_of(META.id) is None and briefing_of("brief/x") is None
