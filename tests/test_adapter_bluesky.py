"""The Bluesky adapter over real requests against a faked PDS, with bodies shaped like XRPC's answers."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests
import responses

from campaigner import adapters
from campaigner.adapters.base import MediaItem, Message, Receipt
from campaigner.adapters.bluesky import TID_PATTERN, BlueskyAdapter, facets, record_key
from campaigner.errors import Ambiguous, Permanent, Transient
from tests.platform_fakes import (
    BSKY,
    BSKY_DID,
    BSKY_HANDLE,
    bsky_blob,
    bsky_created,
    bsky_error,
    bsky_not_found,
    bsky_record,
    bsky_session,
    bsky_xrpc,
    png_bytes,
    read_timeout,
    write_png,
)

PASSWORD = "abcd-efgh-ijkl-mnop"
POST_ID = "mine-ban-treaty-entry-into-force/2027-03-01/ccbl_bsky/km"
CREATE = bsky_xrpc("com.atproto.repo.createRecord")
GET = bsky_xrpc("com.atproto.repo.getRecord")
KHMER = "ការដកមីន និងគ្រាប់បែកចង្កោម"  # 27 code points, 79 UTF-8 bytes, 16 graphemes


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add(responses.POST, bsky_xrpc("com.atproto.server.createSession", BSKY), json=bsky_session())
        yield mock


def adapter(**options) -> BlueskyAdapter:
    return BlueskyAdapter("ccbl_bsky", {"handle": BSKY_HANDLE, **options}, {"APP_PASSWORD": PASSWORD}, session=requests.Session())


def message(text="Cluster munitions kill for decades. #MinefreeCambodia", key=POST_ID, **kw) -> Message:
    return Message(text=text, idempotency_key=key, **kw)


def sent(call) -> dict:
    return json.loads(call.request.body)


def test_the_record_key_is_a_valid_tid_derived_from_the_post_id_alone():
    key = record_key(POST_ID)
    assert TID_PATTERN.fullmatch(key) and len(key) == 13
    assert record_key(POST_ID) == key  # the same on every run
    others = {record_key(f"{POST_ID[:-2]}{lang}") for lang in ("km", "en")} | {record_key(f"{POST_ID}#{n}") for n in range(1, 6)}
    assert len(others) == 7 and key not in {record_key(POST_ID + "#1")}
    # Its timestamp is the post's date (a TID is microseconds since 1970, shifted past a 10-bit clock id).
    value = 0
    for char in key:
        value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
    when = datetime.fromtimestamp((value >> 10) / 1e6, timezone.utc)
    assert when.date().isoformat() == "2027-03-01"
    assert TID_PATTERN.fullmatch(record_key("no date in this id")) and TID_PATTERN.fullmatch(record_key("x/2027-02-30/y"))


def test_a_khmer_text_before_a_link_gets_facets_at_utf8_byte_offsets(rsps):
    link = "https://www.the-monitor.org/"
    text = f"{KHMER} {link} #MinefreeCambodia"
    rsps.add(responses.POST, CREATE, json=bsky_created(record_key(POST_ID)))
    receipt = adapter().publish(message(text, language="km"))
    assert receipt == Receipt(f"at://{BSKY_DID}/app.bsky.feed.post/{record_key(POST_ID)}", f"https://bsky.app/profile/{BSKY_HANDLE}/post/{record_key(POST_ID)}")
    body = sent(rsps.calls[1])
    assert body["repo"] == BSKY_DID and body["collection"] == "app.bsky.feed.post" and body["rkey"] == record_key(POST_ID)
    record = body["record"]
    assert record["text"] == text and record["langs"] == ["km"] and record["createdAt"].endswith("Z")
    encoded = text.encode("utf-8")
    link_facet, tag_facet = record["facets"]
    # 79 bytes of Khmer, one space: the link starts at byte 80 (the 29th code point).
    assert link_facet["index"] == {"byteStart": 80, "byteEnd": 80 + len(link)}
    assert encoded[80:80 + len(link)] == link.encode() and link_facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": link}]
    start, end = tag_facet["index"]["byteStart"], tag_facet["index"]["byteEnd"]
    assert encoded[start:end] == b"#MinefreeCambodia" and tag_facet["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "MinefreeCambodia"}]
    # The session's token goes in the header; the app password only to createSession.
    assert rsps.calls[1].request.headers["Authorization"] == f"Bearer {bsky_session()['accessJwt']}"
    assert json.loads(rsps.calls[0].request.body) == {"identifier": BSKY_HANDLE, "password": PASSWORD}
    assert rsps.calls[1].request.url.startswith("https://morel.us-east.host.bsky.network/")  # the PDS from the DID document


def test_tags_follow_the_apps_rules():
    found = [f["features"][0].get("tag") for f in facets("a #tag, #123 x#no #ការដកមីន។ https://ccbl.example/#frag")]
    assert found == ["tag", "ការដកមីន", None]


def test_graphemes_and_bytes_are_counted_as_bluesky_counts():
    cls = adapters.adapter_class("bluesky")
    assert cls.measure("ក្ស", {}) == 1 and cls.measure(KHMER, {}) == 16
    assert cls.fits("ក្ស" * 300, {}) and not cls.fits("ក្ស" * 301, {})
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"  # one grapheme, 25 bytes
    assert cls.measure(family * 120, {}) == 120 and not cls.fits(family * 121, {})  # 3,025 bytes


def test_images_are_uploaded_as_blobs_and_embedded_with_their_alt_text(rsps, tmp_path):
    rsps.add(responses.POST, bsky_xrpc("com.atproto.repo.uploadBlob"), json=bsky_blob())
    rsps.add(responses.POST, bsky_xrpc("com.atproto.repo.uploadBlob"), json=bsky_blob(link="bafkreisecond"))
    rsps.add(responses.POST, CREATE, json=bsky_created(record_key(POST_ID)))
    media = (MediaItem(write_png(tmp_path / "a.png"), "A deminer kneels in a marked lane"), MediaItem(write_png(tmp_path / "b.png"), None))
    adapter().publish(message(media=media, link="https://ccbl.example/report"))
    upload = rsps.calls[1].request
    assert upload.body == png_bytes() and upload.headers["Content-Type"] == "image/png"
    embed = sent(rsps.calls[3])["record"]["embed"]
    assert embed == {"$type": "app.bsky.embed.images", "images": [{"image": bsky_blob()["blob"], "alt": "A deminer kneels in a marked lane"},
                                                                  {"image": bsky_blob(link="bafkreisecond")["blob"], "alt": ""}]}


def test_a_link_becomes_a_card_with_the_events_title_and_description(rsps):
    rsps.add(responses.POST, CREATE, json=bsky_created(record_key(POST_ID)))
    adapter().publish(message("Read the report.", link="https://www.the-monitor.org/", link_title="Landmine Monitor 2025",
                              link_description="The annual report of the ICBL"))
    assert sent(rsps.calls[1])["record"]["embed"] == {"$type": "app.bsky.embed.external", "external": {
        "uri": "https://www.the-monitor.org/", "title": "Landmine Monitor 2025", "description": "The annual report of the ICBL"}}


def test_a_thread_replies_with_root_and_parent_even_across_runs(rsps):
    first, second, third = (record_key(f"{POST_ID}#{n}") for n in (1, 2, 3))
    rsps.add(responses.POST, CREATE, json=bsky_created(first))
    rsps.add(responses.POST, CREATE, json=bsky_created(second))
    one = adapter()
    root = one.publish(message("1/3", key=f"{POST_ID}#1"))
    two = one.publish(message("2/3", key=f"{POST_ID}#2", reply_to=root.remote_id))
    root_ref = {"uri": root.remote_id, "cid": bsky_created(first)["cid"]}
    assert sent(rsps.calls[2])["record"]["reply"] == {"root": root_ref, "parent": root_ref}
    # A later run resumes the thread: it reads the parent back for its cid and the thread's root.
    rsps.add(responses.POST, bsky_xrpc("com.atproto.server.createSession", BSKY), json=bsky_session())
    rsps.add(responses.GET, GET, json=bsky_record(second, "2/3", reply={"root": root_ref, "parent": root_ref}))
    rsps.add(responses.POST, CREATE, json=bsky_created(third))
    adapter().publish(message("3/3", key=f"{POST_ID}#3", reply_to=two.remote_id))
    assert sent(rsps.calls[-1])["record"]["reply"] == {"root": root_ref, "parent": {"uri": two.remote_id, "cid": bsky_record(second)["cid"]}}


def test_a_500_for_a_key_that_exists_is_published_after_looking_it_up(rsps):
    """bluesky-social/atproto #3718: RecordAlreadyExists has been answered as a 500 InternalServerError."""
    rsps.add(responses.POST, CREATE, json=bsky_error("InternalServerError", "Internal Server Error"), status=500)
    rsps.add(responses.GET, GET, json=bsky_record(record_key(POST_ID)))
    receipt = adapter().publish(message())
    assert receipt.url.endswith(record_key(POST_ID))
    assert rsps.calls[2].request.params == {"repo": BSKY_DID, "collection": "app.bsky.feed.post", "rkey": record_key(POST_ID)}


def test_a_timeout_then_a_look_up_that_finds_nothing_is_a_safe_retry(rsps):
    rsps.add(responses.POST, CREATE, body=read_timeout())
    rsps.add(responses.GET, GET, json=bsky_not_found(), status=400)
    with pytest.raises(Transient, match="same key, which cannot make a second post"):
        adapter().publish(message())


def test_a_timeout_whose_look_up_fails_too_is_unknown_until_the_next_run(rsps):
    rsps.add(responses.POST, CREATE, body=read_timeout())
    rsps.add(responses.GET, GET, body=read_timeout())
    with pytest.raises(Ambiguous, match="the next run looks it up"):
        adapter().publish(message())


def test_an_invalid_request_is_permanent_with_the_servers_message(rsps):
    rsps.add(responses.POST, CREATE, json=bsky_error("InvalidRequest", "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"), status=400)
    rsps.add(responses.GET, GET, json=bsky_not_found(), status=400)
    with pytest.raises(Permanent, match="must not be longer than 300 graphemes"):
        adapter().publish(message())


def test_an_expired_session_is_transient_and_a_rate_limit_waits_for_its_reset(rsps):
    rsps.add(responses.POST, CREATE, json=bsky_error("ExpiredToken", "Token has expired"), status=400)
    rsps.add(responses.GET, GET, json=bsky_not_found(), status=400)
    with pytest.raises(Transient, match="the next run logs in again"):
        adapter().publish(message())
    rsps.add(responses.POST, bsky_xrpc("com.atproto.server.createSession", BSKY), json=bsky_session())
    rsps.add(responses.POST, CREATE, json=bsky_error("RateLimitExceeded", "Rate Limit Exceeded"), status=429, headers={"ratelimit-reset": "1912345678"})
    with pytest.raises(Transient) as caught:
        adapter().publish(message())
    assert caught.value.retry_after == datetime.fromtimestamp(1912345678, timezone.utc)


def test_a_wrong_app_password_stops_the_account_before_anything_is_claimed():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, bsky_xrpc("com.atproto.server.createSession", BSKY),
                 json=bsky_error("AuthenticationRequired", "Invalid identifier or password"), status=401)
        with pytest.raises(Permanent) as caught:
            adapter().open()
    assert "CAMPAIGNER_CCBL_BSKY_APP_PASSWORD" in caught.value.message and "App passwords" in caught.value.message
    assert PASSWORD not in caught.value.message


def test_check_logs_in_and_reads_the_profile(rsps):
    rsps.add(responses.GET, bsky_xrpc("app.bsky.actor.getProfile"), json={"did": BSKY_DID, "handle": BSKY_HANDLE, "displayName": "CCBL", "postsCount": 1204})
    result = adapter().check()
    assert result.ok and result.detail == f"@{BSKY_HANDLE} ({BSKY_DID}), 1,204 posts on https://morel.us-east.host.bsky.network"


def test_find_is_getrecord_by_the_key(rsps):
    rsps.add(responses.GET, GET, json=bsky_not_found(), status=400)
    rsps.add(responses.GET, GET, json=bsky_record(record_key(POST_ID)))
    one = adapter()
    assert one.find(message(), datetime(2027, 3, 1, tzinfo=timezone.utc)) is None
    assert one.find(message(), datetime(2027, 3, 1, tzinfo=timezone.utc)).url.endswith(record_key(POST_ID))
    assert len([c for c in rsps.calls if "createSession" in c.request.url]) == 1  # one login for the adapter's life


def test_describe_shows_the_record_and_its_key_without_any_secret(tmp_path):
    wire = adapter().describe(message(media=(MediaItem(write_png(tmp_path / "a.png"), "alt"),)))
    assert [w.url.rsplit("/", 1)[-1] for w in wire] == ["com.atproto.repo.uploadBlob", "com.atproto.repo.createRecord"]
    assert wire[1].body["rkey"] == record_key(POST_ID) and PASSWORD not in "".join(map(str, wire))
    assert "<CAMPAIGNER_CCBL_BSKY_APP_PASSWORD>" in str(adapter().describe_check()[0])


def test_options_are_checked():
    cls = adapters.adapter_class("bluesky")
    assert cls.option_problems({"handle": "ccbl.bsky.social"}) == []
    assert [o for o, _ in cls.option_problems({"handle": "not a handle", "service": "http://x"})] == ["handle", "service"]
