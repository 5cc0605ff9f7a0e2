"""Fake X and Facebook answers for the adapter tests, shaped like the platforms' documented responses.

Register them on a `responses.RequestsMock`; the real tweepy and facebook-sdk code then runs
against them. Helpers also build tiny real images and take apart the bodies the adapters sent.
"""

from __future__ import annotations

import json
import struct
import zlib
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

X_TWEETS = "https://api.twitter.com/2/tweets"
X_ME = "https://api.twitter.com/2/users/me"
X_UPLOAD = "https://api.x.com/2/media/upload"
X_METADATA = "https://api.x.com/2/media/metadata"
GRAPH = "https://graph.facebook.com"

POST_ID = "1866000000000000001"
USER_ID = "1500000000000000042"
MEDIA_IDS = ("1880028106020515840", "1880028106020515841", "1880028106020515842", "1880028106020515843")
PAGE_ID = "104857600123456"
FB_POST_ID = f"{PAGE_ID}_122100000000000001"
PHOTO_IDS = ("122100000000000101", "122100000000000102", "122100000000000103")

# -- X ------------------------------------------------------------------------------------------


def x_created(text: str = "hello", post_id: str = POST_ID) -> dict[str, Any]:
    """201 from POST /2/tweets."""
    return {"data": {"id": post_id, "edit_history_tweet_ids": [post_id], "text": text}}


def x_me(username: str = "ccbl_kh", user_id: str = USER_ID) -> dict[str, Any]:
    """200 from GET /2/users/me."""
    return {"data": {"id": user_id, "name": "CCBL Cambodia", "username": username}}


def x_media(media_id: str = MEDIA_IDS[0]) -> dict[str, Any]:
    """200 from POST /2/media/upload (a one-shot image upload)."""
    return {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": 67, "expires_after_secs": 86400,
                     "image": {"image_type": "image/png", "w": 1, "h": 1}}}


def x_metadata(media_id: str = MEDIA_IDS[0]) -> dict[str, Any]:
    """200 from POST /2/media/metadata."""
    return {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": "..."}}}}


X_UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
X_DUPLICATE = {"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403}
X_FORBIDDEN = {"detail": "You are not permitted to perform this action.", "type": "about:blank", "title": "Forbidden", "status": 403}
X_TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
X_SERVER_ERROR = {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503}
X_INVALID = {
    "errors": [{"parameters": {"reply.in_reply_to_tweet_id": ["12"]}, "message": "The `reply.in_reply_to_tweet_id` query parameter value [12] does not match ^[0-9]{1,19}$"}],
    "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request",
}


def x_rate_headers(reset: int, remaining: int = 0, limit: int = 100, **extra: str) -> dict[str, str]:
    """The x-rate-limit-* headers X sends with every answer (and a 429)."""
    headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": str(reset)}
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return headers


def add_x_post(rsps: responses.RequestsMock, text: str = "hello", post_id: str = POST_ID, **kw: Any) -> None:
    """POST /2/tweets answers 201 Created."""
    rsps.add(responses.POST, X_TWEETS, json=x_created(text, post_id), status=201, **kw)


def add_x_upload(rsps: responses.RequestsMock, media_id: str = MEDIA_IDS[0], alt: bool = True) -> None:
    """POST /2/media/upload answers with a media id, then (if alt) POST /2/media/metadata succeeds."""
    rsps.add(responses.POST, X_UPLOAD, json=x_media(media_id), status=200)
    if alt:
        rsps.add(responses.POST, X_METADATA, json=x_metadata(media_id), status=200)


# -- Facebook -----------------------------------------------------------------------------------


def graph_url(path: str, version: str = "v24.0") -> str:
    """https://graph.facebook.com/<version>/<path>."""
    return f"{GRAPH}/{version}/{path}"


def graph_error(code: int, message: str, *, subcode: int | None = None, type: str = "OAuthException", **extra: Any) -> dict[str, Any]:
    """A Graph API error body."""
    error: dict[str, Any] = {"message": message, "type": type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    error["fbtrace_id"] = "A1b2C3d4E5f6G7h8"
    return {"error": error}


GRAPH_ERRORS = {
    1: graph_error(1, "An unknown error occurred", type="OAuthException", is_transient=True),
    2: graph_error(2, "An unexpected error has occurred. Please retry your request later.", is_transient=True),
    4: graph_error(4, "(#4) Application request limit reached", is_transient=True),
    17: graph_error(17, "(#17) User request limit reached", subcode=2446079, is_transient=True),
    32: graph_error(32, "(#32) Page request limit reached", is_transient=True),
    341: graph_error(341, "(#341) Application limit reached", is_transient=True),
    613: graph_error(613, "(#613) Calls to this api have exceeded the rate limit.", is_transient=True),
    190: graph_error(190, "Error validating access token: Session has expired on Tuesday, 01-Dec-26 01:00:00 PST. The current time is Tuesday, 01-Dec-26 02:00:00 PST.", subcode=463),
    10: graph_error(10, "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' feature."),
    200: graph_error(200, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission"),
    299: graph_error(299, "(#299) Permission error"),
    368: graph_error(368, "The action attempted has been deemed abusive or is otherwise disallowed", subcode=1390008),
    506: graph_error(506, "(#506) Duplicate status message"),
    100: graph_error(100, "Invalid parameter", subcode=1609005, error_user_msg="The link could not be fetched."),
}

HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


# -- images and bodies --------------------------------------------------------------------------


def png_bytes(rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def write_png(path: Path, rgb: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """Write a 1x1 PNG and return its path."""
    path.write_bytes(png_bytes(rgb))
    return path


def multipart(request: Any) -> dict[str, dict[str, Any]]:
    """The parts of a multipart/form-data request: name -> {filename, content_type, data}."""
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary="), content_type
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    parts = {}
    for part in message.iter_parts():
        parts[part.get_param("name", header="content-disposition")] = {
            "filename": part.get_filename(),
            "content_type": part.get_content_type() if part.get("Content-Type") else None,
            "data": part.get_payload(decode=True),
        }
    return parts


def form(request: Any) -> dict[str, str]:
    """The fields of an application/x-www-form-urlencoded request (each sent once)."""
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded", request.headers["Content-Type"]
    body = request.body if isinstance(request.body, str) else request.body.decode()
    fields = parse_qs(body, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in fields.values()), fields
    return {k: v[0] for k, v in fields.items()}


def query(request: Any) -> dict[str, list[str]]:
    """The query string of a request."""
    return parse_qs(urlsplit(request.url).query)


def json_body(request: Any) -> Any:
    """The JSON body of a request."""
    return json.loads(request.body)
