"""The X adapter against the real tweepy, requests-oauthlib and requests, with only HTTP faked."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
from datetime import datetime, timezone
from http.client import RemoteDisconnected
from pathlib import Path

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from campaigner.adapters.base import HTTP_TIMEOUT, AccountCheck, MediaItem, Message, Receipt, WireRequest
from campaigner.adapters.x import XAdapter, fit_alt_text, tweet_body
from campaigner.errors import Ambiguous, Permanent, Transient
from tests.platform_fakes import (
    MEDIA_IDS,
    POST_ID,
    USER_ID,
    X_DUPLICATE,
    X_FORBIDDEN,
    X_INVALID,
    X_ME,
    X_METADATA,
    X_SERVER_ERROR,
    X_TOO_MANY,
    X_TWEETS,
    X_UNAUTHORIZED,
    X_UPLOAD,
    add_x_post,
    add_x_upload,
    json_body,
    multipart,
    png_bytes,
    write_png,
    x_me,
    x_rate_headers,
)

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = Path(__file__).resolve().parents[2] / "shared" / "reference" / "x-api" / "openapi.json"

ACCOUNT = "ccbl_x"
OAUTH1 = {
    "API_KEY": "xk-consumer-3d9f2a7b",
    "API_SECRET": "xs-consumer-secret-88c1e0b7d4",
    "ACCESS_TOKEN": "1500000000000000042-accesstokenAbc123",
    "ACCESS_SECRET": "xa-access-secret-5e6f7a8b9c",
}
BEARER = {"BEARER_TOKEN": "oauth2-user-token-Zm9vYmFyYmF6"}
OAUTH1_VARS = [f"CAMPAIGNER_CCBL_X_{k}" for k in OAUTH1]
TEXT = "ថ្ងៃនេះ Cambodia Children's Business League #CCBL https://ccbl.example/2026"


@pytest.fixture
def rsps():
    """Fake HTTP; every registered answer must be used, and anything unregistered fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def adapter(creds=OAUTH1, **options) -> XAdapter:
    return XAdapter(ACCOUNT, options, dict(creds), session=requests.Session())


def message(text: str = TEXT, **kw) -> Message:
    return Message(text=text, idempotency_key="2026-12-03/launch/ccbl_x/km", **kw)


def calls(rsps) -> list[tuple[str, str]]:
    return [(c.request.method, c.request.url.split("?")[0]) for c in rsps.calls]


def assert_no_secret(text: str, creds=None) -> None:
    for value in (creds or {**OAUTH1, **BEARER}).values():
        assert value not in text


def assert_timeouts(rsps) -> None:
    assert all(c.request.req_kwargs["timeout"] == HTTP_TIMEOUT for c in rsps.calls)


def assert_oauth1_signed(request) -> None:
    """The Authorization header is a valid OAuth 1.0a HMAC-SHA1 signature by these credentials.

    Re-signing with oauthlib, same nonce and timestamp, must give the same header: multipart and
    JSON bodies are not part of the signature base string.
    """
    from oauthlib.oauth1 import Client

    header = request.headers["Authorization"]
    header = header.decode() if isinstance(header, bytes) else header
    assert header.startswith("OAuth ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', header))
    assert params["oauth_consumer_key"] == OAUTH1["API_KEY"]
    assert params["oauth_token"] == OAUTH1["ACCESS_TOKEN"]
    assert params["oauth_signature_method"] == "HMAC-SHA1" and params["oauth_signature"]
    client = Client(OAUTH1["API_KEY"], OAUTH1["API_SECRET"], OAUTH1["ACCESS_TOKEN"], OAUTH1["ACCESS_SECRET"],
                    nonce=params["oauth_nonce"], timestamp=params["oauth_timestamp"])
    _, expected, _ = client.sign(request.url, http_method=request.method)
    assert expected["Authorization"] == header


# -- posting --------------------------------------------------------------------------------------


def test_text_post_with_oauth1_sends_one_signed_request(rsps):
    add_x_post(rsps, TEXT)
    receipt = adapter(username="ccbl_kh").publish(message())
    assert receipt == Receipt(POST_ID, f"https://x.com/ccbl_kh/status/{POST_ID}")
    assert calls(rsps) == [("POST", X_TWEETS)]
    assert json_body(rsps.calls[0].request) == {"text": TEXT}
    assert_oauth1_signed(rsps.calls[0].request)
    assert_timeouts(rsps)


def test_link_is_not_sent_separately_on_x(rsps):
    add_x_post(rsps)
    adapter(username="ccbl_kh").publish(message("read more https://ccbl.example", link="https://ccbl.example"))
    assert json_body(rsps.calls[0].request) == {"text": "read more https://ccbl.example"}


def test_reply_in_a_thread_names_the_previous_post(rsps):
    add_x_post(rsps, post_id="1866000000000000002")
    receipt = adapter(username="@ccbl_kh").publish(message("part 2", reply_to=POST_ID))
    assert json_body(rsps.calls[0].request) == {"reply": {"in_reply_to_tweet_id": POST_ID}, "text": "part 2"}
    assert receipt.url == "https://x.com/ccbl_kh/status/1866000000000000002"


def test_username_is_looked_up_once_per_adapter(rsps):
    add_x_post(rsps, post_id=POST_ID)
    rsps.add(responses.GET, X_ME, json=x_me("ccbl_kh"))
    add_x_post(rsps, post_id="1866000000000000002")
    x = adapter()
    first, second = x.publish(message()), x.publish(message("again"))
    assert calls(rsps) == [("POST", X_TWEETS), ("GET", X_ME), ("POST", X_TWEETS)]
    assert first.url == f"https://x.com/ccbl_kh/status/{POST_ID}"
    assert second.url == "https://x.com/ccbl_kh/status/1866000000000000002"


@pytest.mark.parametrize("answer", [
    {"json": X_UNAUTHORIZED, "status": 401},
    {"json": X_SERVER_ERROR, "status": 503},
    {"body": requests.exceptions.ReadTimeout("read timed out")},
    {"json": {"errors": [{"title": "Forbidden", "detail": "users.read scope missing"}]}, "status": 200},
])
def test_username_lookup_failure_after_posting_still_returns_the_receipt(rsps, answer):
    add_x_post(rsps)
    rsps.add(responses.GET, X_ME, **answer)
    receipt = adapter(BEARER).publish(message())
    assert receipt == Receipt(POST_ID, f"https://x.com/i/web/status/{POST_ID}")


def test_images_are_uploaded_with_alt_text_then_attached(rsps, tmp_path):
    first, second = write_png(tmp_path / "poster.png"), write_png(tmp_path / "team.png", (0, 90, 200))
    add_x_upload(rsps, MEDIA_IDS[0])
    add_x_upload(rsps, MEDIA_IDS[1])
    add_x_post(rsps)
    media = (MediaItem(first, "Poster: the league final, 3 December"), MediaItem(second, "ក្រុមកីឡាករ"))
    adapter(username="ccbl_kh").publish(message(media=media))

    assert calls(rsps) == [("POST", X_UPLOAD), ("POST", X_METADATA), ("POST", X_UPLOAD), ("POST", X_METADATA), ("POST", X_TWEETS)]
    upload = multipart(rsps.calls[0].request)
    assert upload["media_category"]["data"] == b"tweet_image"
    assert upload["media"] == {"filename": "poster.png", "content_type": "image/png", "data": png_bytes()}
    assert multipart(rsps.calls[2].request)["media"]["data"] == png_bytes((0, 90, 200))
    assert json_body(rsps.calls[1].request) == {"id": MEDIA_IDS[0], "metadata": {"alt_text": {"text": "Poster: the league final, 3 December"}}}
    assert json_body(rsps.calls[3].request) == {"id": MEDIA_IDS[1], "metadata": {"alt_text": {"text": "ក្រុមកីឡាករ"}}}
    assert rsps.calls[1].request.headers["Content-Type"] == "application/json"
    assert json_body(rsps.calls[4].request) == {"media": {"media_ids": list(MEDIA_IDS[:2])}, "text": TEXT}
    for call in rsps.calls:
        assert_oauth1_signed(call.request)
    assert_timeouts(rsps)


def test_an_image_without_alt_text_skips_the_metadata_call(rsps, tmp_path):
    add_x_upload(rsps, alt=False)
    add_x_post(rsps)
    adapter(username="ccbl_kh").publish(message(media=(MediaItem(write_png(tmp_path / "p.png")),)))
    assert calls(rsps) == [("POST", X_UPLOAD), ("POST", X_TWEETS)]


def test_long_alt_text_is_cut_at_a_grapheme_boundary(rsps, tmp_path):
    import regex

    alt = "ក្រុមកីឡាករវ័យក្មេង " * 60  # 1200 code points of Khmer clusters
    add_x_upload(rsps)
    add_x_post(rsps)
    adapter(username="ccbl_kh").publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), alt),)))
    sent = json_body(rsps.calls[1].request)["metadata"]["alt_text"]["text"]
    assert len(sent) <= 1000 and sent.endswith("…")
    kept = sent[:-1]
    boundaries = {0}
    for g in regex.findall(r"\X", alt):
        boundaries.add(max(boundaries) + len(g))
    assert alt.startswith(kept) and len(kept) in boundaries
    assert fit_alt_text("short") == "short"


def test_oauth2_user_token_sends_bearer_everywhere(rsps, tmp_path):
    add_x_upload(rsps)
    add_x_post(rsps)
    adapter(BEARER, username="ccbl_kh").publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), "alt"),)))
    for call in rsps.calls:
        assert call.request.headers["Authorization"] == f"Bearer {BEARER['BEARER_TOKEN']}"
    assert multipart(rsps.calls[0].request)["media_category"]["data"] == b"tweet_image"


def test_more_than_four_images_is_refused_before_sending(rsps, tmp_path):
    media = tuple(MediaItem(write_png(tmp_path / f"{n}.png")) for n in range(5))
    with pytest.raises(Permanent) as caught:
        adapter().publish(message(media=media))
    assert "at most 4 images" in caught.value.message and "has 5" in caught.value.message
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("make, phrase", [
    (lambda d: d / "missing.png", "cannot be read"),
    (lambda d: (d / "notes.png").write_text("not an image") and d / "notes.png", "is not a JPEG, PNG, GIF, WebP image"),
    (lambda d: (d / "huge.png").write_bytes(png_bytes() + b"\0" * (5 * 1024 * 1024)) and d / "huge.png", "X takes images up to 5,242,880 bytes"),
])
def test_unusable_images_are_refused_before_sending(rsps, tmp_path, make, phrase):
    with pytest.raises(Permanent) as caught:
        adapter().publish(message(media=(MediaItem(make(tmp_path)),)))
    assert phrase in caught.value.message
    assert len(rsps.calls) == 0


def test_missing_credentials_are_permanent_and_name_the_variables(rsps):
    with pytest.raises(Permanent) as caught:
        adapter({}).publish(message())
    assert "CAMPAIGNER_CCBL_X_API_KEY" in caught.value.message and "CAMPAIGNER_CCBL_X_BEARER_TOKEN" in caught.value.message
    assert len(rsps.calls) == 0


# -- outcomes -------------------------------------------------------------------------------------


def test_rate_limit_is_transient_until_the_reset(rsps):
    reset = 1_912_345_678
    rsps.add(responses.POST, X_TWEETS, json=X_TOO_MANY, status=429, headers=x_rate_headers(reset))
    with pytest.raises(Transient) as caught:
        adapter().publish(message())
    assert caught.value.retry_after == datetime.fromtimestamp(reset, timezone.utc)
    assert "X rate limit hit for ccbl_x" in caught.value.message
    assert_no_secret(caught.value.message)


def test_an_exhausted_daily_limit_sets_the_later_reset(rsps):
    window, day = 1_912_345_678, 1_912_400_000
    headers = x_rate_headers(window, remaining=40, x_user_limit_24hour_limit="100",
                             x_user_limit_24hour_remaining="0", x_user_limit_24hour_reset=str(day))
    rsps.add(responses.POST, X_TWEETS, json=X_TOO_MANY, status=429, headers=headers)
    with pytest.raises(Transient) as caught:
        adapter().publish(message())
    assert caught.value.retry_after == datetime.fromtimestamp(day, timezone.utc)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_on_the_post_is_ambiguous(rsps, status):
    """X may have created the post before failing, and a retry would post it twice (issue 10, item 4)."""
    rsps.add(responses.POST, X_TWEETS, json={**X_SERVER_ERROR, "status": status}, status=status)
    with pytest.raises(Ambiguous) as caught:
        adapter().publish(message())
    assert f"server error ({status})" in caught.value.message and "may be out" in caught.value.message


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_an_upload_before_the_post_is_transient(rsps, tmp_path, status):
    rsps.add(responses.POST, X_UPLOAD, json={**X_SERVER_ERROR, "status": status}, status=status)
    with pytest.raises(Transient) as caught:
        adapter().publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), "alt"),)))
    assert type(caught.value) is Transient and caught.value.retry_after is None
    assert f"server error ({status})" in caught.value.message
    assert calls(rsps) == [("POST", X_UPLOAD)]


def test_rejected_oauth1_credentials_name_the_four_variables(rsps):
    rsps.add(responses.POST, X_TWEETS, json=X_UNAUTHORIZED, status=401)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    failure = caught.value
    assert not failure.duplicate
    assert failure.message.startswith("X rejected the credentials for ccbl_x")
    assert all(name in failure.message for name in OAUTH1_VARS)
    assert "BEARER_TOKEN" not in failure.message
    assert_no_secret(failure.message)


def test_rejected_oauth2_token_names_the_bearer_variable(rsps):
    rsps.add(responses.POST, X_TWEETS, json=X_UNAUTHORIZED, status=401)
    with pytest.raises(Permanent) as caught:
        adapter(BEARER).publish(message())
    assert "check CAMPAIGNER_CCBL_X_BEARER_TOKEN" in caught.value.message
    assert_no_secret(caught.value.message)


def test_duplicate_content_is_permanent_and_marked_duplicate(rsps):
    rsps.add(responses.POST, X_TWEETS, json=X_DUPLICATE, status=403)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    assert caught.value.duplicate
    assert "duplicate content" in caught.value.message


@pytest.mark.parametrize("status, body, phrase", [
    (403, X_FORBIDDEN, "You are not permitted to perform this action."),
    (400, X_INVALID, "does not match ^[0-9]{1,19}$"),
    (404, {"title": "Not Found Error", "detail": "Could not find tweet with id: [1].", "type": "https://api.twitter.com/2/problems/resource-not-found"}, "Could not find tweet"),
])
def test_other_refusals_are_permanent_with_xs_own_words(rsps, status, body, phrase):
    rsps.add(responses.POST, X_TWEETS, json=body, status=status)
    with pytest.raises(Permanent) as caught:
        adapter().publish(message())
    assert not caught.value.duplicate
    assert phrase in caught.value.message and f"({status})" in caught.value.message


def _refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/2/tweets", reason))


def _dns() -> requests.exceptions.ConnectionError:
    reason = NameResolutionError("api.twitter.com", None, socket.gaierror(-3, "Temporary failure in name resolution"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/2/tweets", reason))


def _dropped() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response")))


TRANSPORT_FAILURES = [
    ("connect timeout", lambda: requests.exceptions.ConnectTimeout("connect timed out"), Transient),
    ("refused", _refused, Transient),
    ("dns", _dns, Transient),
    ("read timeout", lambda: requests.exceptions.ReadTimeout("read timed out"), Ambiguous),
    ("dropped after sending", _dropped, Ambiguous),
    ("chunked", lambda: requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"), Ambiguous),
]


@pytest.mark.parametrize("name, error, outcome", TRANSPORT_FAILURES, ids=[f[0] for f in TRANSPORT_FAILURES])
def test_transport_failures_on_the_post(rsps, name, error, outcome):
    rsps.add(responses.POST, X_TWEETS, body=error())
    with pytest.raises(outcome) as caught:
        adapter().publish(message())
    assert type(caught.value) is outcome
    text = caught.value.message
    assert ("may have reached X" in text) if outcome is Ambiguous else ("nothing was posted" in text)
    assert_no_secret(text)


@pytest.mark.parametrize("name, error, outcome", TRANSPORT_FAILURES, ids=[f[0] for f in TRANSPORT_FAILURES])
def test_transport_failures_while_uploading_are_transient(rsps, tmp_path, name, error, outcome):
    rsps.add(responses.POST, X_UPLOAD, body=error())
    with pytest.raises(Transient) as caught:
        adapter().publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), "alt"),)))
    assert "while uploading p.png" in caught.value.message
    assert calls(rsps) == [("POST", X_UPLOAD)]  # the post was never attempted


def test_upload_refusals_use_the_same_classification(rsps, tmp_path):
    image = (MediaItem(write_png(tmp_path / "p.png"), "alt"),)
    rsps.add(responses.POST, X_UPLOAD, json=X_UNAUTHORIZED, status=401)
    rsps.add(responses.POST, X_UPLOAD, json=X_TOO_MANY, status=429, headers=x_rate_headers(1_912_345_678))
    with pytest.raises(Permanent) as caught:
        adapter().publish(message(media=image))
    assert all(name in caught.value.message for name in OAUTH1_VARS)
    with pytest.raises(Transient) as caught:
        adapter().publish(message(media=image))
    assert caught.value.retry_after == datetime.fromtimestamp(1_912_345_678, timezone.utc)
    assert calls(rsps) == [("POST", X_UPLOAD), ("POST", X_UPLOAD)]


def test_alt_text_failure_stops_before_the_post(rsps, tmp_path):
    rsps.add(responses.POST, X_UPLOAD, json={"data": {"id": MEDIA_IDS[0], "media_key": f"3_{MEDIA_IDS[0]}"}})
    rsps.add(responses.POST, X_METADATA, json=X_SERVER_ERROR, status=503)
    with pytest.raises(Transient) as caught:
        adapter().publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), "alt"),)))
    assert "setting the alt text of p.png" in caught.value.message
    assert calls(rsps) == [("POST", X_UPLOAD), ("POST", X_METADATA)]


def test_an_unreadable_success_is_ambiguous(rsps):
    rsps.add(responses.POST, X_TWEETS, body="<html>created</html>", status=201, content_type="text/html")
    with pytest.raises(Ambiguous):
        adapter().publish(message())


def test_an_unregistered_request_never_passes_as_success(rsps):
    # responses refuses unknown URLs with a bare ConnectionError: treated as possibly sent, so it surfaces
    with pytest.raises(Ambiguous):
        adapter().publish(message())
    assert calls(rsps) == [("POST", X_TWEETS)]


# -- request bodies against X's OpenAPI schema ----------------------------------------------------


@pytest.fixture(scope="module")
def create_posts_schema():
    if not OPENAPI.is_file():
        pytest.skip("shared/reference/x-api/openapi.json is not beside this checkout")
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = json.loads(OPENAPI.read_text())
    registry = Registry().with_resource("urn:x-api-openapi", Resource.from_contents(document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": "urn:x-api-openapi#/components/schemas/CreatePostsRequest"}, registry=registry)


def test_every_post_body_matches_create_posts_request(rsps, tmp_path, create_posts_schema):
    assert not create_posts_schema.is_valid({"text": "x", "link": "https://ccbl.example"})  # the schema bites
    images = tuple(MediaItem(write_png(tmp_path / f"{n}.png"), f"image {n}") for n in range(4))
    for media_id in MEDIA_IDS:
        add_x_upload(rsps, media_id)
    for _ in range(3):
        add_x_post(rsps)
    x = adapter(username="ccbl_kh")
    x.publish(message())
    x.publish(message(media=images))
    x.publish(message("part 2 of the thread", reply_to=POST_ID))
    bodies = [json_body(c.request) for c in rsps.calls if c.request.url == X_TWEETS]
    assert len(bodies) == 3
    for body in bodies:
        errors = [e.message for e in create_posts_schema.iter_errors(body)]
        assert errors == [], body


# -- describe, check, secrets, import cost --------------------------------------------------------


def test_describe_lists_the_requests_without_network_or_credentials(rsps, tmp_path):
    media = (MediaItem(tmp_path / "poster.png", "the poster"), MediaItem(tmp_path / "team.jpg"))
    wire = XAdapter(ACCOUNT, {}, {}).describe(message(media=media, reply_to="<previous part>"))
    assert wire == [
        WireRequest("POST", X_UPLOAD, {"media_category": "tweet_image"}, ("poster.png",)),
        WireRequest("POST", X_METADATA, {"id": "<media 1>", "metadata": {"alt_text": {"text": "the poster"}}}),
        WireRequest("POST", X_UPLOAD, {"media_category": "tweet_image"}, ("team.jpg",)),
        WireRequest("POST", X_TWEETS, {"media": {"media_ids": ["<media 1>", "<media 2>"]}, "reply": {"in_reply_to_tweet_id": "<previous part>"}, "text": TEXT}),
    ]
    assert len(rsps.calls) == 0
    assert "tweepy" not in repr(wire)


def test_describe_shows_exactly_the_body_tweepy_sends(rsps, tmp_path):
    image = MediaItem(write_png(tmp_path / "p.png"))
    add_x_upload(rsps, alt=False)
    add_x_post(rsps)
    adapter(username="ccbl_kh").publish(message(media=(image,), reply_to=POST_ID))
    described = adapter().describe(message(media=(image,), reply_to=POST_ID))[-1].body
    assert json.loads(rsps.calls[-1].request.body) == {**described, "media": {"media_ids": [MEDIA_IDS[0]]}}
    assert list(json.loads(rsps.calls[-1].request.body)) == list(described)  # same keys, same order
    assert tweet_body("t", [MEDIA_IDS[0]], POST_ID) == json_body(rsps.calls[-1].request) | {"text": "t"}


def test_check_names_the_account(rsps):
    rsps.add(responses.GET, X_ME, json=x_me("ccbl_kh"))
    assert adapter().check() == AccountCheck(True, f"@ccbl_kh (id {USER_ID})")
    assert_oauth1_signed(rsps.calls[0].request)


def test_check_with_a_bearer_token(rsps):
    rsps.add(responses.GET, X_ME, json=x_me("ccbl_kh"))
    assert adapter(BEARER, username="ccbl_kh").check().ok
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {BEARER['BEARER_TOKEN']}"


def test_check_explains_rejected_credentials(rsps):
    rsps.add(responses.GET, X_ME, json=X_UNAUTHORIZED, status=401)
    result = adapter().check()
    assert not result.ok
    assert all(name in result.detail for name in OAUTH1_VARS)
    assert_no_secret(result.detail)


def test_check_flags_a_username_that_does_not_match(rsps):
    rsps.add(responses.GET, X_ME, json=x_me("someone_else"))
    result = adapter(username="ccbl_kh").check()
    assert not result.ok and "@someone_else" in result.detail and "username: ccbl_kh" in result.detail


def test_check_without_credentials_says_what_to_set(rsps):
    result = adapter({}).check()
    assert not result.ok and "CAMPAIGNER_CCBL_X_BEARER_TOKEN" in result.detail
    assert len(rsps.calls) == 0


def test_repr_shows_no_secret():
    assert_no_secret(repr(adapter()))
    assert_no_secret(repr(adapter(BEARER)))


@pytest.mark.parametrize("creds", [OAUTH1, BEARER], ids=["oauth1", "oauth2"])
def test_sdk_debug_logs_do_not_leak_credentials(rsps, caplog, tmp_path, creds):
    caplog.set_level(logging.DEBUG)
    add_x_upload(rsps)
    add_x_post(rsps)
    adapter(creds, username="ccbl_kh").publish(message(media=(MediaItem(write_png(tmp_path / "p.png"), "alt"),)))
    assert "Making API request" in caplog.text  # tweepy did log the request
    assert_no_secret(caplog.text, creds)


def test_importing_the_adapters_loads_no_sdk():
    code = "import sys, campaigner.adapters.x, campaigner.adapters.facebook; print(sorted(m for m in ('tweepy', 'facebook', 'requests', 'requests_oauthlib', 'urllib3') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
