"""The publishing engine against the real SQLite ledger and a scripted fake platform."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from campaigner.calendar import load_calendar
from campaigner.errors import ConfigError
from campaigner.ledger.sqlite import SQLiteLedger
from campaigner.publish import Publisher
from tests import fake_platform
from tests.fake_platform import FakeAdapter, sends

PP = ZoneInfo("Asia/Phnom_Penh")


def at(text: str) -> datetime:
    """A local Phnom Penh time as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=PP).astimezone(timezone.utc)


@pytest.fixture
def world(fixture_calendar, tmp_path, monkeypatch):
    cal_path = fixture_calendar("publish")
    monkeypatch.setenv("CAMPAIGNER_ALPHA_TOKEN", "alpha-secret-token")
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    monkeypatch.setenv("FAKE_SENT", str(tmp_path / "sent.jsonl"))
    script = tmp_path / "script.json"
    monkeypatch.setenv("FAKE_SCRIPT", str(script))

    class World:
        calendar = load_calendar(cal_path)
        ledger = SQLiteLedger(tmp_path / "state.db")
        sent = tmp_path / "sent.jsonl"

        def script(self, mapping: dict) -> None:
            script.write_text(json.dumps(mapping))

        def run(self, now: datetime, **kw):
            pub = Publisher(self.calendar, self.ledger, lambda a: FakeAdapter(a, {}, {"TOKEN": "t"}), **kw)
            return pub.run(now)

        def state(self, post_id: str):
            return self.ledger.states([post_id]).get(post_id)

    yield World()
    World.ledger.close()


def test_due_posts_go_out_once_and_drafts_are_held(world):
    report = world.run(at("2026-12-03T09:05"))
    assert sorted(r.id for r in report.results if r.status == "published") == [
        "morning/2026-12-03/alpha/en", "morning/2026-12-03/beta/en"]
    assert [p.id for p in report.drafts] == ["held/2026-12-03/alpha/en", "held/2026-12-03/beta/en"]
    assert report.exit_code == 0
    rec = world.state("morning/2026-12-03/alpha/en")
    assert rec.state == "published" and rec.url.startswith("https://fake.example/alpha/")
    assert rec.text_sent == "Note 1 for alpha on 3 December 2026." and len(rec.text_hash) == 64
    again = world.run(at("2026-12-03T09:10"))
    assert [r for r in again.results if r.status == "published"] == []
    assert len(sends(world.sent)) == 2
    assert world.state("held/2026-12-03/alpha/en") is None  # a draft is never claimed


def test_outage_within_grace_publishes_and_beyond_grace_is_missed(world):
    # The morning post (09:00, grace 6h) at 14:00: still within grace.
    report = world.run(at("2026-12-03T14:00"))
    by_id = {r.id: r.status for r in report.results}
    assert by_id["morning/2026-12-03/alpha/en"] == "published"
    assert by_id["noon/2026-12-03/alpha/en"] == "published"
    # short-grace was due 09:30 with grace 1h: missed, never sent late.
    assert by_id["short-grace/2026-12-03/alpha/en"] == "missed"
    assert report.exit_code == 1
    assert "short-grace" not in json.dumps(sends(world.sent))


def test_run_seven_hours_late_marks_missed_and_sends_nothing(world):
    report = world.run(at("2026-12-03T16:00"))  # morning due 09:00 + 7h
    assert {r.id: r.status for r in report.results}["morning/2026-12-03/beta/en"] == "missed"
    assert world.state("morning/2026-12-03/beta/en").state == "missed"
    assert all("morning" not in s["key"] for s in sends(world.sent))
    # And a missed post is never sent later, even when asked again inside what would have been its window.
    world.run(at("2026-12-03T16:05"))
    assert all("morning" not in s["key"] for s in sends(world.sent))


def test_transient_failure_backs_off_then_succeeds_within_grace(world):
    world.script({"morning/2026-12-03/alpha": ["transient"]})
    first = world.run(at("2026-12-03T09:05"))
    failed = [r for r in first.results if r.status == "failed"]
    assert [r.id for r in failed] == ["morning/2026-12-03/alpha/en"] and "503" in failed[0].error
    rec = world.state("morning/2026-12-03/alpha/en")
    assert rec.state == "failed" and rec.transient and rec.next_attempt == at("2026-12-03T09:07")
    waiting = world.run(at("2026-12-03T09:06"))
    assert [r.status for r in waiting.results if r.id.startswith("morning/2026-12-03/alpha")] == ["waiting"]
    later = world.run(at("2026-12-03T09:08"))
    assert [r.status for r in later.results if r.id.startswith("morning/2026-12-03/alpha")] == ["published"]
    rec = world.state("morning/2026-12-03/alpha/en")
    assert rec.attempts == 2
    assert [s["key"] for s in sends(world.sent)].count("morning/2026-12-03/alpha/en") == 1


def test_transient_failure_keeps_the_accounts_order(world):
    world.script({"morning/2026-12-03/alpha": ["transient"]})
    report = world.run(at("2026-12-03T12:05"))
    statuses = {r.id: r.status for r in report.results}
    assert statuses["morning/2026-12-03/alpha/en"] == "failed"
    assert "noon/2026-12-03/alpha/en" not in statuses  # waits behind the earlier post
    assert statuses["noon/2026-12-03/beta/en"] == "published"  # other accounts are independent


def test_retry_after_from_the_platform_is_honoured(world):
    world.script({"morning/2026-12-03/alpha": ["transient-retry-after"]})
    world.run(at("2026-12-03T09:05"))
    assert world.state("morning/2026-12-03/alpha/en").next_attempt == datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_permanent_failure_is_recorded_with_its_reason_and_never_retried(world):
    world.script({"morning/2026-12-03/alpha": ["permanent"], "morning/2026-12-03/beta": ["duplicate"]})
    report = world.run(at("2026-12-03T09:05"))
    errors = {r.id: r.error for r in report.results if r.status == "failed"}
    assert "policy" in errors["morning/2026-12-03/alpha/en"]
    assert "probably already on the platform" in errors["morning/2026-12-03/beta/en"]
    assert report.exit_code == 1
    world.run(at("2026-12-03T09:30"))
    assert world.state("morning/2026-12-03/alpha/en").state == "failed"
    assert [s for s in sends(world.sent) if s["key"].startswith("morning/")] == []


def test_ambiguous_failure_becomes_unknown_and_is_never_retried_automatically(world):
    world.script({"morning/2026-12-03/alpha": ["ambiguous"]})
    report = world.run(at("2026-12-03T09:05"))
    unknown = [r for r in report.results if r.status == "unknown"]
    assert [r.id for r in unknown] == ["morning/2026-12-03/alpha/en"]
    assert "campaigner resolve morning/2026-12-03/alpha/en" in unknown[0].error
    world.run(at("2026-12-03T09:30"))
    keys = [s["key"] for s in sends(world.sent)]
    assert keys.count("morning/2026-12-03/alpha/en") == 1  # the one ambiguous attempt only
    # A person checks and says it did not go out: it is eligible again within grace.
    world.ledger.resolve("morning/2026-12-03/alpha/en", published_url=None, remote_id=None, skip=False, now=at("2026-12-03T09:40"), who="tester")
    world.run(at("2026-12-03T09:45"))
    assert world.state("morning/2026-12-03/alpha/en").state == "published"


def test_an_adapter_crash_is_recorded_as_unknown_not_lost(world):
    world.script({"morning/2026-12-03/beta": ["crash"]})
    report = world.run(at("2026-12-03T09:05"))
    assert {r.id: r.status for r in report.results}["morning/2026-12-03/beta/en"] == "unknown"
    assert "adapter bug" in world.state("morning/2026-12-03/beta/en").error


def test_stale_claims_become_unknown(world):
    from campaigner.publish import meta_for
    from campaigner.render import expand

    posts = {p.id: p for p in expand(world.calendar, at("2026-12-03T09:00").date(), at("2026-12-03T09:00").date())}
    now = at("2026-12-03T09:01")
    # A claim by a process on this host that is gone, and one elsewhere whose lease has expired.
    world.ledger.claim(meta_for(posts["morning/2026-12-03/alpha/en"]), run_id="dead", host="this-host", pid=999_999, now=now, lease_until=now + timedelta(minutes=10))
    world.ledger.claim(meta_for(posts["morning/2026-12-03/beta/en"]), run_id="far", host="other-host", pid=1, now=now, lease_until=now + timedelta(minutes=10))
    report = world.run(at("2026-12-03T09:05"), host="this-host", alive=lambda pid: False)
    statuses = {r.id: r.status for r in report.results}
    assert statuses == {"morning/2026-12-03/alpha/en": "unknown"}  # beta's lease still runs: left alone
    report = world.run(at("2026-12-03T09:12"), host="this-host", alive=lambda pid: False)
    assert {r.id: r.status for r in report.results} == {"morning/2026-12-03/beta/en": "unknown"}
    assert sends(world.sent) == []


def test_edits_after_publication_never_repost(world, tmp_path):
    world.run(at("2026-12-03T09:05"))
    template = world.calendar.root / "templates" / "note" / "en.j2"
    template.write_text("An edited text {{ vars.n }}.\n")
    world.calendar = load_calendar(world.calendar.path)
    world.run(at("2026-12-03T09:10"))
    assert len(sends(world.sent)) == 2


def test_thread_resumes_from_the_first_unsent_part(world):
    world.script({"long-thread/2026-12-04/alpha/en#2": ["transient"]})
    first = world.run(at("2026-12-04T09:01"))
    assert [r.status for r in first.results if r.id.startswith("long-thread")] == ["failed"]
    sent = sends(world.sent)
    assert [s["key"] for s in sent] == ["long-thread/2026-12-04/alpha/en#1"]
    second = world.run(at("2026-12-04T09:05"))
    assert [r.status for r in second.results if r.id.startswith("long-thread")] == ["published"]
    sent = sends(world.sent)
    keys = [s["key"] for s in sent]
    assert keys.count("long-thread/2026-12-04/alpha/en#1") == 1  # never re-sent
    assert keys == [f"long-thread/2026-12-04/alpha/en#{i}" for i in range(1, len(keys) + 1)] and len(keys) >= 2
    # Each part replies to the previous one.
    for part in sent[1:]:
        assert part["reply_to"] is not None
    assert sent[0]["text"].endswith(f"1/{len(keys)}")


def test_an_account_without_credentials_does_not_stop_the_others(world, monkeypatch):
    monkeypatch.delenv("CAMPAIGNER_BETA_TOKEN")
    report = world.run(at("2026-12-03T09:05"))
    assert {r.id: r.status for r in report.results} == {"morning/2026-12-03/alpha/en": "published"}
    assert len(report.account_problems) == 1 and "CAMPAIGNER_BETA_TOKEN" in report.account_problems[0]
    assert report.exit_code == 1
    assert world.state("morning/2026-12-03/beta/en") is None  # never claimed: still pending
    monkeypatch.setenv("CAMPAIGNER_BETA_TOKEN", "beta-secret-token")
    later = world.run(at("2026-12-03T09:10"))
    assert {r.id: r.status for r in later.results} == {"morning/2026-12-03/beta/en": "published"}


def test_no_account_with_credentials_stops_the_run_before_anything_is_claimed(world, monkeypatch):
    monkeypatch.delenv("CAMPAIGNER_ALPHA_TOKEN")
    monkeypatch.delenv("CAMPAIGNER_BETA_TOKEN")
    with pytest.raises(ConfigError) as exc:
        world.run(at("2026-12-03T09:05"))
    assert "CAMPAIGNER_ALPHA_TOKEN" in str(exc.value) and "CAMPAIGNER_BETA_TOKEN" in str(exc.value)
    assert world.ledger.counts() == {}  # no post's state changed
    refused = world.ledger.last_run()  # but the run is a run: status can say why it failed
    assert (refused.exit_code, refused.counts) == (2, {}) and "CAMPAIGNER_BETA_TOKEN" in refused.error


def test_a_run_is_recorded_with_its_counts_and_exit_code(world):
    world.script({"morning/2026-12-03/beta": ["permanent"]})
    report = world.run(at("2026-12-03T09:05"))
    last = world.ledger.last_run("post")
    assert last.id == report.run_id and last.exit_code == 1
    assert last.counts == {"published": 1, "failed": 1}


def test_fake_platform_is_registered_once():
    from campaigner import adapters

    with pytest.raises(ValueError, match="already registered"):
        adapters.register("fake", fake_platform.FakeAdapter)
