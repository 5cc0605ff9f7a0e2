"""Issue 14's "done when": one anniversary morning of the shipped calendar on X, Facebook, Telegram,
Mastodon and Bluesky against faked platform servers (the real clients, only HTTP faked).

Every post goes out once with its image and, where the platform has it, its alt text; a Bluesky
timeout ends published after the next run without a second post; Mastodon and Facebook timeouts
are settled by `reconcile`; `validate` flags a Khmer Bluesky post over 300 graphemes and a
Telegram photo caption over 1,024.
"""

from __future__ import annotations

import itertools
import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

import pytest
import responses
from typer.testing import CliRunner

from campaigner.adapters.bluesky import record_key
from campaigner.cli import app
from tests import platform_fakes as pf

runner = CliRunner()
PAGE = "100000000000000"
MD = pf.MASTODON
EVENT = "mine-ban-treaty-opened-for-signature"
DAY = "2026-12-03"
ALT = "A deminer in a blue visor kneels beside a marked lane in a cleared field."
SECRETS = {
    "CAMPAIGNER_CCBL_X_API_KEY": "ck+E2e/Key=1", "CAMPAIGNER_CCBL_X_API_SECRET": "cs+E2e/Sécret=2",
    "CAMPAIGNER_CCBL_X_ACCESS_TOKEN": "1500-at+E2e/Tok=3", "CAMPAIGNER_CCBL_X_ACCESS_SECRET": "as+E2e/Secret=4",
    "CAMPAIGNER_CCBL_FACEBOOK_PAGE_TOKEN": "EAAB+E2e/Page=5",
    "CAMPAIGNER_CCBL_TELEGRAM_BOT_TOKEN": "7012345678:AAE+E2e/Bot=6",
    "CAMPAIGNER_CCBL_MASTODON_ACCESS_TOKEN": "md+E2e/Access=7",
    "CAMPAIGNER_CCBL_BSKY_APP_PASSWORD": "abcd+E2e/App=8",
}
ACCOUNTS = """  ccbl_telegram: {platform: telegram, chat_id: "@ccbl_kh"}
  ccbl_mastodon: {platform: mastodon, instance: "https://mastodon.example"}
  ccbl_bsky:     {platform: bluesky, handle: ccbl.bsky.social}
"""


@pytest.fixture
def five(shipped, monkeypatch):
    """The shipped calendar with an account on each of the five platforms and a photo on the anniversary."""
    text = shipped.read_text(encoding="utf-8")
    text = re.sub(r"(\naccounts:\n(?:  .*\n)+)", lambda m: m.group(1) + ACCOUNTS, text, count=1)
    block = re.search(rf"\n  - id: {EVENT}\n(?:(?!\n  - id: ).)*", text, re.S)
    assert block and "media:" not in block.group(0), "the anniversary changed: pick another for this test"
    text = text.replace(f"\n  - id: {EVENT}\n", f"\n  - id: {EVENT}\n    media: [{{path: media/deminer-marked-lane.png, alt: \"{ALT}\"}}]\n", 1)
    shipped.write_text(text, encoding="utf-8")
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    return shipped


def _multipart(request) -> dict:
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
    return {p.get_param("name", header="content-disposition"): p.get_payload(decode=True) for p in message.iter_parts()}


def _json(status, body):
    return (status, {"content-type": "application/json"}, json.dumps(body))


class Platforms:
    """Five faked servers that keep what was posted, so a second post of the same text would show."""

    def __init__(self, rsps: responses.RequestsMock):
        self.ids = itertools.count(1866000000000000001)
        self.posts: dict[str, list[str]] = {p: [] for p in ("x", "facebook", "telegram", "mastodon", "bluesky")}
        self.alts: dict[str, list[str]] = {p: [] for p in self.posts}
        self.creates: dict[str, int] = {p: 0 for p in self.posts}
        self.timeout_next: set[str] = set()  # platforms whose next anniversary post (en) is created, then times out
        self.lookups_fail = False  # Bluesky's getRecord times out too
        self.lost: set[str] = set()  # platforms whose next anniversary post (en) times out before it is created
        self.fb_posts: list[dict] = []
        self.x_posts: list[dict] = []
        self.md_statuses: dict[str, dict] = {}
        self.md_keys: dict[str, str] = {}
        self.md_hidden = False  # the account's statuses do not list them (yet)
        self.bsky: dict[str, dict] = {}
        self._register(rsps)

    def _lost(self, platform: str, text: str) -> bool:
        if platform in self.lost and "Ottawa" in text:
            self.lost.discard(platform)
            return True
        return False

    def _times_out(self, platform: str, text: str) -> bool:
        if platform in self.timeout_next and "Ottawa" in text:
            self.timeout_next.discard(platform)
            return True
        return False

    def _register(self, rsps: responses.RequestsMock) -> None:
        # -- X
        def tweet(request):
            body = json.loads(request.body)
            self.creates["x"] += 1
            self.posts["x"].append(body["text"])
            created = pf.x_created(body["text"], str(next(self.ids)))
            self.x_posts.append(created["data"])
            if self._times_out("x", body["text"]):
                return pf.read_timeout()
            return _json(201, created)

        def metadata(request):
            self.alts["x"].append(json.loads(request.body)["metadata"]["alt_text"]["text"])
            return _json(200, pf.x_metadata())

        rsps.add(responses.GET, pf.X_ME, json=pf.x_me("ccbl_kh"))
        rsps.add_callback(responses.POST, pf.X_TWEETS, callback=tweet)
        rsps.add_callback(responses.GET, re.compile(rf"https://api\.twitter\.com/2/users/{pf.USER_ID}/tweets.*"),
                          callback=lambda request: _json(200, {"data": list(reversed(self.x_posts)), "meta": {"result_count": len(self.x_posts)}}))
        rsps.add(responses.POST, pf.X_UPLOAD, json=pf.x_media())
        rsps.add_callback(responses.POST, pf.X_METADATA, callback=metadata)

        # -- Facebook
        def fb_post(message: str) -> dict:
            n = next(self.ids)
            post = {"id": f"{PAGE}_{n}", "message": message, "created_time": "2026-12-03T04:05:30+0000",
                    "permalink_url": f"https://www.facebook.com/ccbl/posts/{n}"}
            self.fb_posts.append(post)
            self.posts["facebook"].append(message)
            return post

        def feed(request):
            self.creates["facebook"] += 1
            return _json(200, {"id": fb_post(parse_qs(request.body)["message"][0])["id"]})

        def photo(request):
            self.creates["facebook"] += 1
            parts = _multipart(request)
            self.alts["facebook"].append(parts["alt_text_custom"].decode())
            post = fb_post(parts["caption"].decode())
            if self._times_out("facebook", post["message"]):
                return pf.read_timeout()
            return _json(200, {"id": post["id"].split("_")[1], "post_id": post["id"]})

        def page_posts(request):
            return _json(200, {"data": list(reversed(self.fb_posts)), "paging": {}})

        rsps.add_callback(responses.POST, pf.graph_url(f"{PAGE}/feed"), callback=feed)
        rsps.add_callback(responses.POST, pf.graph_url(f"{PAGE}/photos"), callback=photo)
        rsps.add_callback(responses.GET, pf.graph_url(f"{PAGE}/posts"), callback=page_posts)

        # -- Telegram
        def send_photo(request):
            self.creates["telegram"] += 1
            caption = _multipart(request)["caption"].decode()
            self.posts["telegram"].append(caption)
            if self._times_out("telegram", caption):
                return pf.read_timeout()
            return _json(200, pf.tg_ok(pf.tg_sent(next(self.ids) % 100000, None, caption=caption, photo=[])))

        def send_message(request):
            self.creates["telegram"] += 1
            text = parse_qs(request.body)["text"][0]
            self.posts["telegram"].append(text)
            return _json(200, pf.tg_ok(pf.tg_sent(next(self.ids) % 100000, text)))

        rsps.add_callback(responses.POST, pf.tg_url("sendPhoto"), callback=send_photo)
        rsps.add_callback(responses.POST, pf.tg_url("sendMessage"), callback=send_message)

        # -- Mastodon: the Idempotency-Key answers a repeat with the first status
        def media(request):
            self.alts["mastodon"].append(_multipart(request)["description"].decode())
            return _json(200, pf.mastodon_media(str(next(self.ids))))

        def status(request):
            self.creates["mastodon"] += 1
            key = request.headers["Idempotency-Key"]
            if key in self.md_keys:
                return _json(200, self.md_statuses[self.md_keys[key]])
            text = parse_qs(request.body)["status"][0]
            created = pf.mastodon_status(text, str(next(self.ids)), created_at="2026-12-03T04:05:30.000Z")
            self.md_statuses[created["id"]], self.md_keys[key] = created, created["id"]
            self.posts["mastodon"].append(text)
            if self._times_out("mastodon", text):
                return pf.read_timeout()
            return _json(200, created)

        rsps.add_callback(responses.POST, f"{MD}/api/v2/media", callback=media)
        rsps.add_callback(responses.POST, f"{MD}/api/v1/statuses", callback=status)
        rsps.add(responses.GET, f"{MD}/api/v1/accounts/verify_credentials", json=pf.mastodon_account())
        rsps.add_callback(responses.GET, re.compile(rf"{re.escape(MD)}/api/v1/accounts/109876543210/statuses.*"),
                          callback=lambda request: _json(200, [] if self.md_hidden else list(reversed(self.md_statuses.values()))))

        # -- Bluesky: a record key exists once
        def create_record(request):
            self.creates["bluesky"] += 1
            body = json.loads(request.body)
            rkey = body["rkey"]
            if self._lost("bluesky", body["record"]["text"]):
                return pf.read_timeout()
            if rkey in self.bsky:
                return _json(500, pf.bsky_error("InternalServerError", "Internal Server Error"))  # atproto #3718
            self.bsky[rkey] = body["record"]
            self.posts["bluesky"].append(body["record"]["text"])
            for image in (body["record"].get("embed") or {}).get("images", []):
                self.alts["bluesky"].append(image["alt"])
            if self._times_out("bluesky", body["record"]["text"]):
                return pf.read_timeout()
            return _json(200, pf.bsky_created(rkey))

        def get_record(request):
            if self.lookups_fail:
                return pf.read_timeout()
            rkey = request.params["rkey"]
            if rkey not in self.bsky:
                return _json(400, pf.bsky_not_found(rkey))
            return _json(200, pf.bsky_record(rkey, self.bsky[rkey]["text"]))

        rsps.add(responses.POST, pf.bsky_xrpc("com.atproto.server.createSession", pf.BSKY), json=pf.bsky_session())
        rsps.add(responses.POST, pf.bsky_xrpc("com.atproto.repo.uploadBlob"), json=pf.bsky_blob())
        rsps.add_callback(responses.POST, pf.bsky_xrpc("com.atproto.repo.createRecord"), callback=create_record)
        rsps.add_callback(responses.GET, pf.bsky_xrpc("com.atproto.repo.getRecord"), callback=get_record)


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_one_anniversary_morning_on_five_platforms_every_post_once(five):
    cal = str(five)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = Platforms(rsps)
        dry = cli("post", "--calendar", cal, "--now", f"{DAY}T11:05", "--dry-run", "--json")
        assert dry.exit_code == 0, dry.output
        due = {r["id"]: r for r in json.loads(dry.stdout)}
        assert {pid.split("/")[2] for pid in due} == {"ccbl_x", "ccbl_facebook", "ccbl_telegram", "ccbl_mastodon", "ccbl_bsky"}
        assert len(rsps.calls) == 0 and pf.assert_no_secret(dry.stdout, SECRETS.values()) is None

        # The morning's run: the anniversary's English post times out on Bluesky (its look-up too),
        # Mastodon and Facebook, each after the platform created it.
        fake.timeout_next = {"bluesky", "mastodon", "facebook"}
        fake.lookups_fail = True
        first = cli("post", "--calendar", cal, "--now", f"{DAY}T11:05", "--json")
        fake.lookups_fail = False
        assert first.exit_code == 1, first.output
        results = {r["id"]: r["status"] for r in json.loads(first.stdout)}
        unknown = {pid for pid, s in results.items() if s == "unknown"}
        assert unknown == {f"{EVENT}/{DAY}/{account}/en" for account in ("ccbl_bsky", "ccbl_mastodon", "ccbl_facebook")}

        rehearsal = cli("post", "--calendar", cal, "--now", f"{DAY}T11:10", "--dry-run")
        assert (f"would-look-up: {EVENT}/{DAY}/ccbl_bsky/en (unknown: Bluesky is asked first; found is recorded as published, "
                "absent is sent again with the same key)") in rehearsal.stdout
        assert f"would-look-up: {EVENT}/{DAY}/ccbl_facebook/en" not in rehearsal.stdout
        status = cli("status", "--calendar", cal, "--now", f"{DAY}T11:10")
        assert "the next 'campaigner post' (or 'campaigner reconcile') asks Bluesky and publishes or safely retries it" in status.stdout
        assert "'campaigner reconcile' can look for it on Facebook" in status.stdout

        # reconcile settles Mastodon's and Facebook's by asking them: found by text.
        settled = cli("reconcile", "--calendar", cal, "--now", f"{DAY}T11:15", "--account", "ccbl_mastodon", "--account", "ccbl_facebook", "--json")
        assert settled.exit_code == 0, settled.output
        outcomes = {s["id"]: (s["outcome"], s["url"]) for s in json.loads(settled.stdout)["settled"]}
        md_post = f"{EVENT}/{DAY}/ccbl_mastodon/en"
        fb_post = f"{EVENT}/{DAY}/ccbl_facebook/en"
        assert outcomes[md_post][0] == "published" and outcomes[md_post][1].startswith(f"{MD}/@ccbl/")
        assert outcomes[fb_post] == ("published", fake.fb_posts[[p["message"] for p in fake.fb_posts].index(fake.posts["facebook"][-1])]["permalink_url"])
        assert set(outcomes) == {md_post, fb_post}

        # The next run settles Bluesky's by its record key, then sends what waited behind it.
        creates_before = fake.creates["bluesky"]
        second = cli("post", "--calendar", cal, "--now", f"{DAY}T11:25", "--json")
        assert second.exit_code == 0, second.output
        bsky_post = f"{EVENT}/{DAY}/ccbl_bsky/en"
        again = {r["id"]: r for r in json.loads(second.stdout)}
        assert again[bsky_post]["status"] == "published" and again[bsky_post]["url"].endswith(record_key(bsky_post))
        assert fake.creates["bluesky"] == creates_before + 1  # only the km post that waited: none for the settled one

        final = json.loads(cli("status", "--calendar", cal, "--now", f"{DAY}T11:30", "--json").stdout)
        assert final["unknown"] == [] and final["failed"] == []
    import sqlite3

    with sqlite3.connect(five.parent / ".campaigner/state.db") as db:
        log = {(pid, detail) for pid, detail in db.execute("SELECT post_id, detail FROM post_log WHERE state = 'published'")}
    assert any(pid == bsky_post and "resolved by campaigner reconcile (found on Bluesky)" in detail for pid, detail in log), log
    assert any(pid == fb_post and "resolved by campaigner reconcile (found on Facebook)" in detail for pid, detail in log), log

    # Every post once, on every platform, with its image's alt text where the platform has it.
    per_platform = {"ccbl_x": "x", "ccbl_facebook": "facebook", "ccbl_telegram": "telegram", "ccbl_mastodon": "mastodon", "ccbl_bsky": "bluesky"}
    for account, platform in per_platform.items():
        expected = sorted(r["text"] for pid, r in due.items() if pid.split("/")[2] == account)
        sent = fake.posts[platform]
        if platform == "facebook":  # a photo's caption carries the link in the text; none of these has one
            assert sorted(sent) == expected
        assert len(sent) == len(expected) == len(set(sent)), (platform, sent)
    anniversary_posts = [pid for pid in due if pid.startswith(EVENT)]
    assert len(anniversary_posts) == 10
    for platform in ("x", "facebook", "mastodon", "bluesky"):
        assert fake.alts[platform] == [ALT, ALT], platform
    assert fake.creates["mastodon"] == len(fake.posts["mastodon"])  # reconcile found it: no repeat was needed
    assert len(fake.bsky) == len(fake.posts["bluesky"]) and sorted(fake.bsky) == sorted(
        record_key(pid) for pid in due if pid.split("/")[2] == "ccbl_bsky")


def test_validate_flags_a_long_khmer_bluesky_post_and_a_long_telegram_caption(five):
    templates = five.parent / "templates/anniversary"
    (templates / "bluesky.km.j2").write_text("ការដកមីន " * 20, encoding="utf-8")  # 20 x 9 graphemes (and a space): 199
    ok = cli("validate", "--calendar", str(five), "--now", "2026-11-01T08:00")
    assert ok.exit_code == 0, ok.output
    (templates / "bluesky.km.j2").write_text("ការដកមីន និងគ្រាប់បែកចង្កោម " * 18, encoding="utf-8")  # 17 graphemes each: 306 before trimming
    (templates / "telegram.km.j2").write_text("កម្ពុជាគួរចូលជាភាគីនៃអនុសញ្ញាគ្រាប់បែកចង្កោម។ " * 25, encoding="utf-8")
    result = cli("validate", "--calendar", str(five), "--now", "2026-11-01T08:00")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(f"event '{EVENT}': the km post for ccbl_bsky (templates/anniversary/bluesky.km.j2) is 305/300 characters on bluesky" in line for line in lines), result.stderr
    assert any(f"warning: event '{EVENT}': the km post for ccbl_telegram is" in line and "over Telegram's 1,024 for a text sent with images" in line
               for line in lines), result.stderr


def test_the_shipped_telegram_example_validates_once_uncommented(shipped):
    text = shipped.read_text(encoding="utf-8")
    example = re.search(r"\n  # (ccbl_telegram: \{platform: telegram, chat_id: \"@[A-Za-z0-9_]+\"\})\n", text)
    assert example, "calendar.yaml should carry a commented-out Telegram channel account as an example"
    shipped.write_text(text.replace(example.group(0), f"\n  {example.group(1)}\n"), encoding="utf-8")
    result = cli("validate", "--calendar", str(shipped), "--now", "2026-12-01T08:00")
    assert result.exit_code == 0, result.output
    assert "Telegram has no alt text for images" in result.stderr and "3 accounts" in result.output
