"""`campaigner reconcile` per platform: what each can answer, and never a resend where a platform
cannot deduplicate (the five fake servers of test_five_platforms)."""

from __future__ import annotations

import json

import responses

from campaigner.adapters.bluesky import record_key
from tests.test_five_platforms import DAY, EVENT, Platforms, cli, five  # noqa: F401 (five is a fixture)


def test_each_platform_is_asked_only_what_it_can_answer(five):  # noqa: F811
    cal = str(five)
    post = {a: f"{EVENT}/{DAY}/{a}/en" for a in ("ccbl_x", "ccbl_facebook", "ccbl_telegram", "ccbl_mastodon", "ccbl_bsky")}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = Platforms(rsps)
        fake.timeout_next = {"x", "telegram", "mastodon", "facebook", "bluesky"}
        fake.lost = {"bluesky"}  # Bluesky's request never arrived: nothing under its key
        fake.lookups_fail = True
        first = cli("post", "--calendar", cal, "--now", f"{DAY}T11:05", "--json")
        fake.lookups_fail = False
        assert {r["id"] for r in json.loads(first.stdout) if r["status"] == "unknown"} == set(post.values())
        creates = dict(fake.creates)

        # Two hours later: Mastodon's Idempotency-Key has expired, so absent is not retried.
        fake.md_statuses.clear()
        done = cli("reconcile", "--calendar", cal, "--now", f"{DAY}T13:05", "--json")
        assert done.exit_code == 1, done.output
        settled = {s["id"]: s for s in json.loads(done.stdout)["settled"]}
        assert settled[post["ccbl_telegram"]]["outcome"] == "cannot"
        assert "the Telegram Bot API cannot read a channel's history" in settled[post["ccbl_telegram"]]["detail"]
        assert settled[post["ccbl_telegram"]]["command"].startswith(f"campaigner resolve {post['ccbl_telegram']} --published URL")
        assert settled[post["ccbl_x"]]["outcome"] == "unchecked" and "--x-reads" in settled[post["ccbl_x"]]["detail"]
        assert settled[post["ccbl_mastodon"]]["outcome"] == "absent"
        assert "cannot deduplicate a retry this late" in settled[post["ccbl_mastodon"]]["detail"]
        assert settled[post["ccbl_facebook"]]["outcome"] == "published"
        # Bluesky: absent under its key, so created with that key, once.
        assert settled[post["ccbl_bsky"]]["outcome"] == "retry"
        sent = {r["id"]: r for r in json.loads(done.stdout)["sent"]}
        assert sent[post["ccbl_bsky"]]["status"] == "published" and sent[post["ccbl_bsky"]]["url"].endswith(record_key(post["ccbl_bsky"]))
        assert fake.creates["bluesky"] == creates["bluesky"] + 1 and record_key(post["ccbl_bsky"]) in fake.bsky
        for platform in ("x", "telegram", "mastodon", "facebook"):
            assert fake.creates[platform] == creates[platform], platform  # nothing sent again

        # X's posts are read only when asked to: found by its text.
        paid = cli("reconcile", "--calendar", cal, "--now", f"{DAY}T13:10", "--x-reads", "--account", "ccbl_x", "--json")
        assert paid.exit_code == 0, paid.output
        (only,) = json.loads(paid.stdout)["settled"]
        assert only["outcome"] == "published" and only["url"].startswith("https://x.com/ccbl_kh/status/")
        assert fake.creates["x"] == creates["x"]

        text = cli("reconcile", "--calendar", cal, "--now", f"{DAY}T13:15")
        assert text.exit_code == 1
        assert f"unknown {post['ccbl_telegram']}: the Telegram Bot API cannot read a channel's history" in text.stderr
        assert f"  campaigner resolve {post['ccbl_mastodon']} --published URL" in text.stderr
        status = cli("status", "--calendar", cal, "--now", f"{DAY}T13:20")
        assert "or: the Telegram Bot API cannot read a channel's history: check the account by hand" in status.stdout
        assert "or: 'campaigner reconcile' can look for it on Mastodon" in status.stdout


def test_the_next_post_retries_mastodon_within_the_hour_and_gets_the_first_status_back(five):  # noqa: F811
    cal = str(five)
    md_post = f"{EVENT}/{DAY}/ccbl_mastodon/en"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = Platforms(rsps)
        fake.timeout_next = {"mastodon"}
        first = cli("post", "--calendar", cal, "--now", f"{DAY}T11:05", "--json", "--account", "ccbl_mastodon")
        assert {r["id"]: r["status"] for r in json.loads(first.stdout)}[md_post] == "unknown"
        created = dict(fake.md_statuses)
        fake.md_hidden = True  # the account's statuses do not show it yet (still being processed)
        second = cli("post", "--calendar", cal, "--now", f"{DAY}T11:20", "--json", "--account", "ccbl_mastodon")
        assert second.exit_code == 0, second.output
        again = {r["id"]: r for r in json.loads(second.stdout)}
        (status_id,) = [sid for sid, status in created.items() if "Ottawa" in status["content"]]
        assert again[md_post]["status"] == "published" and again[md_post]["url"].endswith(status_id)
        # Five requests for four posts: the retry went with the same Idempotency-Key and made no second status.
        assert fake.creates["mastodon"] == 5 and len(fake.md_statuses) == 4 and len(fake.posts["mastodon"]) == len(set(fake.posts["mastodon"])) == 4


def test_post_leaves_an_unknown_bluesky_post_past_its_grace_to_reconcile(five):  # noqa: F811
    """Logins are limited per day: a run every few minutes does not log in for ever over an old post."""
    cal = str(five)
    bsky_post = f"{EVENT}/{DAY}/ccbl_bsky/en"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = Platforms(rsps)
        fake.timeout_next, fake.lookups_fail = {"bluesky"}, True
        cli("post", "--calendar", cal, "--now", f"{DAY}T11:05", "--account", "ccbl_bsky")
        fake.lookups_fail = False
        logins = [c for c in rsps.calls if "createSession" in c.request.url]
        late = cli("post", "--calendar", cal, "--now", "2026-12-04T10:00", "--account", "ccbl_bsky", "--json")  # a day later: grace 6 h
        assert [c for c in rsps.calls if "createSession" in c.request.url] == logins
        assert bsky_post not in {r["id"] for r in json.loads(late.stdout or "[]") if r["status"] == "published"}
        status = cli("status", "--calendar", cal, "--now", "2026-12-04T10:05")
        assert "or: 'campaigner reconcile' can look for it on Bluesky" in status.stdout
        done = cli("reconcile", "--calendar", cal, "--now", "2026-12-04T10:10", "--json")
        settled = {s["id"]: s for s in json.loads(done.stdout)["settled"]}
        assert settled[bsky_post]["outcome"] == "published"  # the first request had made it
