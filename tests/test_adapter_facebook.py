"""The Facebook adapter against the real facebook-sdk and requests, with only HTTP faked."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from campaigner.adapters.base import HTTP_TIMEOUT, AccountCheck, MediaItem, Message, Receipt, WireRequest
from campaigner.adapters.facebook import FacebookAdapter, normalise_graph_version
from campaigner.errors import Ambiguous, ConfigError, Permanent, Transient
from tests.platform_fakes import (
    FB_POST_ID,
    GRAPH_ERRORS,
    HTML_502,
    PAGE_ID,
    PHOTO_IDS,
    form,
    graph_url,
    multipart,
    png_bytes,
    query,
    write_png,
)

ACCOUNT = "ccbl_fb"
TOKEN = "EAAGm0PX4ZCpsBAPageTokenFakeValue1234567890"
CREDS = {"PAGE_TOKEN": TOKEN}
TEXT = "ការប្រកួតវគ្គផ្តាច់ព្រ័ត្រ CCBL ថ្ងៃទី ៣ ធ្នូ"
LINK = "https://ccbl.example/final"
FEED = graph_url(f"{PAGE_ID}/feed")
PHOTOS = graph_url(f"{PAGE_ID}/photos")


@pytest.fixture
def rsps():
    """Fake HTTP; every registered answer must be used, and anything unregistered fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def adapter(creds=CREDS, **options) -> FacebookAdapter:
    return FacebookAdapter(ACCOUNT, {"page_id": PAGE_ID, **options}, dict(creds), session=requests.Session())


def message(text: str = TEXT, **kw) -> Message:
    return Message(text=text, idempotency_key="2026-12-03/launch/ccbl_fb/km", **kw)


def calls(rsps) -> list[tuple[str, str]]:
    return [(c.request.method, c.request.url.split("?")[0]) for c in rsps.calls]


def assert_token_only_in_body(rsps) -> None:
    for call in rsps.calls:
        assert TOKEN not in call.request.url
        assert call.request.req_kwargs["timeout"] == HTTP_TIMEOUT


# -- posting --------------------------------------------------------------------------------------


def test_text_and_link_post_goes_to_the_feed_on_v24(rsps):
    rsps.add(responses.POST, FEED, json={"id": FB_POST_ID})
    receipt = adapter().publish(message(link=LINK))
    assert receipt == Receipt(FB_POST_ID, f"https://www.facebook.com/{FB_POST_ID}")
    assert calls(rsps) == [("POST", "https://graph.facebook.com/v24.0/104857600123456/feed")]
    assert form(rsps.calls[0].request) == {"message": TEXT, "link": LINK, "access_token": TOKEN}
    assert_token_only_in_body(rsps)


def test_text_only_post_sends_no_link(rsps):
    rsps.add(responses.POST, FEED, json={"id": FB_POST_ID})
    adapter().publish(message())
    assert form(rsps.calls[0].request) == {"message": TEXT, "access_token": TOKEN}


@pytest.mark.parametrize("option, version", [("v25.0", "v25.0"), ("25", "v25.0"), (26.0, "v26.0"), ("v24", "v24.0")])
def test_graph_version_option_changes_the_url(rsps, option, version):
    rsps.add(responses.POST, graph_url(f"{PAGE_ID}/feed", version), json={"id": FB_POST_ID})
    adapter(graph_version=option).publish(message())
    assert rsps.calls[0].request.url == f"https://graph.facebook.com/{version}/{PAGE_ID}/feed"


def test_a_bad_graph_version_or_missing_page_is_a_config_error():
    with pytest.raises(ConfigError, match="graph_version"):
        adapter(graph_version="latest")
    with pytest.raises(ConfigError, match="page_id"):
        FacebookAdapter(ACCOUNT, {}, CREDS)
    assert normalise_graph_version("v24.0") == "v24.0"


def test_one_image_is_a_photo_post_with_a_caption(rsps, tmp_path):
    rsps.add(responses.POST, PHOTOS, json={"id": PHOTO_IDS[0], "post_id": FB_POST_ID})
    receipt = adapter().publish(message(media=(MediaItem(write_png(tmp_path / "poster.png"), "Deminers at work near Battambang"),)))
    assert receipt == Receipt(FB_POST_ID, f"https://www.facebook.com/{FB_POST_ID}")
    assert calls(rsps) == [("POST", PHOTOS)]
    parts = multipart(rsps.calls[0].request)
    assert parts["source"] == {"filename": "poster.png", "content_type": "image/png", "data": png_bytes()}
    assert parts["caption"]["data"].decode() == TEXT
    assert parts["access_token"]["data"].decode() == TOKEN
    assert parts["alt_text_custom"]["data"].decode() == "Deminers at work near Battambang"
    assert set(parts) == {"source", "caption", "alt_text_custom", "access_token"}
    assert_token_only_in_body(rsps)


@pytest.mark.parametrize("text, caption", [
    (TEXT, f"{TEXT}\n\n{LINK}"),
    (f"{TEXT} {LINK}", f"{TEXT} {LINK}"),
])
def test_a_photo_post_carries_the_link_in_its_caption(rsps, tmp_path, text, caption):
    rsps.add(responses.POST, PHOTOS, json={"id": PHOTO_IDS[0], "post_id": FB_POST_ID})
    adapter().publish(message(text, link=LINK, media=(MediaItem(write_png(tmp_path / "p.png")),)))
    assert multipart(rsps.calls[0].request)["caption"]["data"].decode() == caption


def test_several_images_are_uploaded_unpublished_then_attached(rsps, tmp_path):
    for photo_id in PHOTO_IDS:
        rsps.add(responses.POST, PHOTOS, json={"id": photo_id})
    rsps.add(responses.POST, FEED, json={"id": FB_POST_ID})
    colours = [(200, 30, 30), (0, 90, 200), (20, 160, 60)]
    media = tuple(MediaItem(write_png(tmp_path / f"{n}.png", rgb), "ផ្ទាំងរូបភាព" if n == 1 else None) for n, rgb in enumerate(colours))
    receipt = adapter().publish(message(media=media))

    assert receipt.remote_id == FB_POST_ID
    assert calls(rsps) == [("POST", PHOTOS)] * 3 + [("POST", FEED)]
    for n, rgb in enumerate(colours):
        parts = multipart(rsps.calls[n].request)
        alt = {"alt_text_custom"} if n == 1 else set()
        assert set(parts) == {"source", "published", "access_token"} | alt  # no caption on the parts
        if alt:
            assert parts["alt_text_custom"]["data"].decode() == "ផ្ទាំងរូបភាព"
        assert parts["published"]["data"] == b"false"
        assert parts["source"]["data"] == png_bytes(rgb)
    assert form(rsps.calls[3].request) == {
        "message": TEXT,
        "attached_media[0]": '{"media_fbid":"%s"}' % PHOTO_IDS[0],
        "attached_media[1]": '{"media_fbid":"%s"}' % PHOTO_IDS[1],
        "attached_media[2]": '{"media_fbid":"%s"}' % PHOTO_IDS[2],
        "access_token": TOKEN,
    }
    assert_token_only_in_body(rsps)


def test_too_many_or_unreadable_images_are_refused_before_sending(rsps, tmp_path):
    eleven = tuple(MediaItem(write_png(tmp_path / f"{n}.png")) for n in range(11))
    with pytest.raises(Permanent, match="at most 10 images"):
        adapter().publish(message(media=eleven))
    with pytest.raises(Permanent, match="cannot be read"):
        adapter().publish(message(media=(MediaItem(tmp_path / "missing.png"),)))
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(Permanent, match="is not a JPEG"):
        adapter().publish(message(media=(MediaItem(tmp_path / "notes.png"),)))
    assert len(rsps.calls) == 0


def test_a_missing_token_is_permanent_and_names_the_variable(rsps):
    with pytest.raises(Permanent, match="CAMPAIGNER_CCBL_FB_PAGE_TOKEN"):
        adapter({}).publish(message())
    assert len(rsps.calls) == 0


# -- outcomes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1, 2])
def test_an_unexpected_error_on_the_post_is_ambiguous(rsps, code):
    """Graph may have created the post before failing (issue 10, item 4): never retried blindly."""
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[code], status=500)
    with pytest.raises(Ambiguous) as caught:
        adapter().publish(message())
    assert f"code {code}" in caught.value.message and "may be out" in caught.value.message
    assert TOKEN not in caught.value.message


@pytest.mark.parametrize("code", [1, 2])
def test_an_unexpected_error_on_an_unpublished_upload_is_transient(rsps, tmp_path, code):
    rsps.add(responses.POST, PHOTOS, json=GRAPH_ERRORS[code], status=500)
    media = (MediaItem(write_png(tmp_path / "a.png")), MediaItem(write_png(tmp_path / "b.png")))
    with pytest.raises(Transient) as caught:
        adapter().publish(message(media=media))
    assert type(caught.value) is Transient and f"(code {code})" in caught.value.message


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613])
def test_throttling_is_transient(rsps, code):
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[code], status=500 if code == 613 else 400)
    with pytest.raises(Transient) as caught:
        adapter().publish(message())
    assert caught.value.retry_after is None
    assert f"(code {code})" in caught.value.message and GRAPH_ERRORS[code]["error"]["message"] in caught.value.message
    assert TOKEN not in caught.value.message


def test_usage_header_gives_the_retry_time(rsps):
    usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 14, "estimated_time_to_regain_access": 15}]}
    headers = {"x-business-use-case-usage": json.dumps(usage), "x-app-usage": json.dumps({"call_count": 40, "total_time": 3, "total_cputime": 2})}
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[32], status=400, headers=headers)
    before = datetime.now(timezone.utc)
    with pytest.raises(Transient) as caught:
        adapter().publish(message())
    assert before + timedelta(minutes=15) <= caught.value.retry_after <= datetime.now(timezone.utc) + timedelta(minutes=15)


def test_an_expired_token_is_permanent_and_says_where_to_put_a_new_one(rsps):
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[190], status=400)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    text = caught.value.message
    assert text.startswith("the Page token for ccbl_fb has expired or been revoked: set a new one in CAMPAIGNER_CCBL_FB_PAGE_TOKEN")
    assert "Session has expired" in text and TOKEN not in text and not caught.value.duplicate


@pytest.mark.parametrize("code", [10, 200, 299])
def test_permission_errors_name_the_permissions(rsps, code):
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[code], status=403)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    text = caught.value.message
    assert "pages_manage_posts" in text and "pages_read_engagement" in text
    assert GRAPH_ERRORS[code]["error"]["message"] in text and f"code {code}" in text


def test_a_policy_block_is_permanent(rsps):
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[368], status=400)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    assert "Facebook has temporarily blocked posting for ccbl_fb" in caught.value.message
    assert "deemed abusive" in caught.value.message


def test_a_duplicate_is_permanent_and_marked(rsps):
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[506], status=400)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    assert caught.value.duplicate and "Duplicate status message" in caught.value.message


def test_other_errors_are_permanent_with_facebooks_message_and_code(rsps):
    rsps.add(responses.POST, FEED, json=GRAPH_ERRORS[100], status=400)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message(link="https://unreachable.example"))
    assert "Invalid parameter (The link could not be fetched.)" in caught.value.message
    assert "code 100, subcode 1609005" in caught.value.message
    assert not caught.value.duplicate


@pytest.mark.parametrize("answer", [
    {"body": HTML_502, "status": 502, "content_type": "text/html"},
    {"body": "", "status": 503, "content_type": None},
])
def test_an_html_error_page_on_the_post_is_ambiguous_not_a_crash(rsps, answer):
    rsps.add(responses.POST, FEED, **answer)
    with pytest.raises(Ambiguous) as caught:
        adapter().publish(message())
    assert f"HTTP {answer['status']}" in caught.value.message


def test_an_html_error_page_on_an_unpublished_upload_is_transient(rsps, tmp_path):
    rsps.add(responses.POST, PHOTOS, body=HTML_502, status=502, content_type="text/html")
    media = (MediaItem(write_png(tmp_path / "a.png")), MediaItem(write_png(tmp_path / "b.png")))
    with pytest.raises(Transient) as caught:
        adapter().publish(message(media=media))
    assert type(caught.value) is Transient and "HTTP 502" in caught.value.message


def test_an_html_rate_limit_page_is_transient(rsps):
    rsps.add(responses.POST, FEED, body="<html>Too Many Requests</html>", status=429, content_type="text/html")
    with pytest.raises(Transient):
        adapter().publish(message())


def test_a_success_without_json_is_ambiguous(rsps):
    rsps.add(responses.POST, FEED, body="ok", status=200, content_type="text/plain")
    with pytest.raises(Ambiguous):
        adapter().publish(message())


def _refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v24.0/feed", reason))


def _dropped() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response")))


@pytest.mark.parametrize("error, outcome", [
    (lambda: requests.exceptions.ConnectTimeout("connect timed out"), Transient),
    (_refused, Transient),
    (lambda: requests.exceptions.ReadTimeout("read timed out"), Ambiguous),
    (_dropped, Ambiguous),
], ids=["connect-timeout", "refused", "read-timeout", "dropped"])
def test_transport_failures_on_the_feed_post(rsps, error, outcome):
    rsps.add(responses.POST, FEED, body=error())
    with pytest.raises(outcome) as caught:
        adapter().publish(message())
    assert type(caught.value) is outcome
    assert ("may have reached Facebook" in caught.value.message) if outcome is Ambiguous else ("nothing was posted" in caught.value.message)
    assert TOKEN not in caught.value.message


def test_a_read_timeout_on_a_single_photo_post_is_ambiguous(rsps, tmp_path):
    rsps.add(responses.POST, PHOTOS, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(Ambiguous):
        adapter().publish(message(media=(MediaItem(write_png(tmp_path / "p.png")),)))


def test_a_read_timeout_on_an_unpublished_photo_is_transient(rsps, tmp_path):
    rsps.add(responses.POST, PHOTOS, json={"id": PHOTO_IDS[0]})
    rsps.add(responses.POST, PHOTOS, body=requests.exceptions.ReadTimeout("read timed out"))
    media = (MediaItem(write_png(tmp_path / "a.png")), MediaItem(write_png(tmp_path / "b.png")))
    with pytest.raises(Transient, match="uploading b.png"):
        adapter().publish(message(media=media))
    assert calls(rsps) == [("POST", PHOTOS), ("POST", PHOTOS)]  # the feed post was never attempted


# -- describe, check ------------------------------------------------------------------------------


def test_describe_needs_no_credentials_and_shows_no_token(rsps, tmp_path):
    fb = FacebookAdapter(ACCOUNT, {"page_id": PAGE_ID}, {})
    assert fb.describe(message(link=LINK)) == [WireRequest("POST", FEED, {"message": TEXT, "link": LINK})]
    assert fb.describe(message(media=(MediaItem(tmp_path / "poster.png"),))) == [
        WireRequest("POST", PHOTOS, {"caption": TEXT}, ("poster.png",)),
    ]
    assert fb.describe(message(media=(MediaItem(tmp_path / "a.png"), MediaItem(tmp_path / "b.png")))) == [
        WireRequest("POST", PHOTOS, {"published": "false"}, ("a.png",)),
        WireRequest("POST", PHOTOS, {"published": "false"}, ("b.png",)),
        WireRequest("POST", FEED, {"message": TEXT, "attached_media[0]": '{"media_fbid":"<photo 1>"}', "attached_media[1]": '{"media_fbid":"<photo 2>"}'}),
    ]
    assert len(rsps.calls) == 0


def test_describe_matches_what_is_sent(rsps, tmp_path):
    rsps.add(responses.POST, FEED, json={"id": FB_POST_ID})
    rsps.add(responses.POST, PHOTOS, json={"id": PHOTO_IDS[0]})
    rsps.add(responses.POST, PHOTOS, json={"id": PHOTO_IDS[1]})
    rsps.add(responses.POST, FEED, json={"id": FB_POST_ID})
    fb = adapter()
    text_post = message(link=LINK)
    fb.publish(text_post)
    album = message(link=LINK, media=(MediaItem(write_png(tmp_path / "a.png")), MediaItem(write_png(tmp_path / "b.png"))))
    fb.publish(album)
    sent = [form(rsps.calls[0].request), form(rsps.calls[3].request)]
    described = [fb.describe(text_post)[0].body, fb.describe(album)[-1].body]
    for body, wire in zip(sent, described):
        assert body.pop("access_token") == TOKEN
        assert set(body) == set(wire)
    assert sent[0] == described[0]
    assert sent[1]["message"] == described[1]["message"] == f"{TEXT}\n\n{LINK}"


def test_check_names_the_page(rsps):
    rsps.add(responses.GET, graph_url(PAGE_ID), json={"name": "CCBL Cambodia", "id": PAGE_ID})
    rsps.add(responses.GET, graph_url("me"), json={"name": "CCBL Cambodia", "id": PAGE_ID})
    result = adapter().check()
    assert result.ok and result.detail.startswith(f"Page CCBL Cambodia (id {PAGE_ID})")
    assert "expiry" in result.detail
    assert query(rsps.calls[0].request)["fields"] == ["name"]
    assert all(c.request.req_kwargs["timeout"] == HTTP_TIMEOUT for c in rsps.calls)


def test_check_reports_an_expired_token(rsps):
    rsps.add(responses.GET, graph_url(PAGE_ID), json=GRAPH_ERRORS[190], status=400)
    result = adapter().check()
    assert result == AccountCheck(False, result.detail)
    assert "has expired or been revoked" in result.detail and "CAMPAIGNER_CCBL_FB_PAGE_TOKEN" in result.detail
    assert TOKEN not in result.detail


def test_check_refuses_a_token_that_is_not_the_pages_own(rsps):
    rsps.add(responses.GET, graph_url(PAGE_ID), json={"name": "CCBL Cambodia", "id": PAGE_ID})
    rsps.add(responses.GET, graph_url("me"), json={"name": "Sokha Chan", "id": "10160000000000001"})
    result = adapter().check()
    assert not result.ok and "belongs to Sokha Chan" in result.detail and "Page's access token" in result.detail


def test_check_without_a_token_says_what_to_set(rsps):
    result = adapter({}).check()
    assert not result.ok and "CAMPAIGNER_CCBL_FB_PAGE_TOKEN" in result.detail
    assert len(rsps.calls) == 0


def test_repr_shows_no_token():
    assert TOKEN not in repr(adapter())


APP_TOKEN = "1234567890123|app+secret/Value="


def _debug(rsps, **data):
    rsps.add(responses.GET, graph_url(PAGE_ID), json={"name": "CCBL Cambodia", "id": PAGE_ID})
    rsps.add(responses.GET, graph_url("me"), json={"name": "CCBL Cambodia", "id": PAGE_ID})
    body = {"data": {"app_id": "1234567890123", "type": "PAGE", "application": "campaigner", "is_valid": True, "profile_id": PAGE_ID,
                     "scopes": ["pages_show_list", "pages_read_engagement", "pages_manage_posts"], **data}}
    rsps.add(responses.GET, graph_url("debug_token"), json=body)


def test_check_with_an_app_token_reports_when_the_page_token_expires(rsps):
    expires = datetime.now(timezone.utc) + timedelta(days=40, hours=1)
    _debug(rsps, expires_at=int(expires.timestamp()), data_access_expires_at=int(expires.timestamp()))
    result = adapter({**CREDS, "APP_TOKEN": APP_TOKEN}).check()
    assert result.ok, result.detail
    assert f"the token expires {expires:%Y-%m-%d %H:%M} UTC (in 40 days)" in result.detail
    debug = rsps.calls[2].request
    assert query(debug)["input_token"] == [TOKEN] and query(debug)["access_token"] == [APP_TOKEN]
    assert TOKEN not in result.detail and APP_TOKEN not in result.detail


def test_check_says_a_page_token_that_never_expires(rsps):
    _debug(rsps, expires_at=0)
    result = adapter({**CREDS, "APP_TOKEN": APP_TOKEN}).check()
    assert result.ok and result.detail.endswith("the token does not expire")


@pytest.mark.parametrize("data, phrase", [
    ({"expires_at": int((datetime.now(timezone.utc) + timedelta(days=2)).timestamp())}, "before then"),
    ({"expires_at": 0, "scopes": ["pages_show_list"]}, "lacks pages_manage_posts and pages_read_engagement"),
    ({"is_valid": False, "expires_at": 0, "error": {"message": "The session has been invalidated because the user changed their password."}},
     "no longer valid"),
])
def test_check_fails_a_token_that_expires_soon_lacks_a_permission_or_is_invalid(rsps, data, phrase):
    _debug(rsps, **data)
    result = adapter({**CREDS, "APP_TOKEN": APP_TOKEN}).check()
    assert not result.ok and phrase in result.detail


def test_describe_check_lists_the_requests_without_secrets():
    wire = adapter({**CREDS, "APP_TOKEN": APP_TOKEN}).describe_check()
    assert [w.url.split("?")[0] for w in wire] == [graph_url(PAGE_ID), graph_url("me"), graph_url("debug_token")]
    assert TOKEN not in str(wire) and APP_TOKEN not in str(wire) and "CAMPAIGNER_CCBL_FB_APP_TOKEN" in str(wire)
    assert len(adapter().describe_check()) == 2
