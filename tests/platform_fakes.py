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

from campaigner.errors import Transient as Transient_

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


# -- the adapter contract -------------------------------------------------------------------------
# One entry per registered platform: how to build its adapter with canary credentials, where a
# text post is created, and the platform's documented answer for each outcome of the contract
# table in tests/test_adapter_contract.py. Secrets hold '+', '/', '=' and non-ASCII on purpose:
# they come back URL-encoded, JSON-escaped or base64-encoded, and each form must be redacted.

RETRY_AT = 1_912_345_678  # a rate limit's reset, epoch seconds (2030-08-07)


def refused(url: str = "/") -> Any:
    """What requests raises when the connection is refused: nothing was sent."""
    import requests
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, url, reason))


def read_timeout() -> Any:
    """What requests raises when the answer does not come: the request was sent."""
    import requests

    return requests.exceptions.ReadTimeout("HTTPSConnectionPool(host='example', port=443): Read timed out. (read timeout=30)")


class Contract:
    """How one platform plays each outcome of the contract table."""

    platform: str = ""
    account: str = ""
    options: dict[str, Any] = {}
    credentials: dict[str, str] = {}
    create: tuple[str, str] = ("POST", "")  # the request that creates a text post
    url_prefix: str = ""  # what a receipt's link starts with
    # Outcomes whose class differs from the table's default, with why in a comment.
    overrides: dict[str, type] = {}

    def adapter(self, credentials: dict[str, str] | None = None) -> Any:
        """The adapter with the contract's canary credentials on a fresh requests session."""
        import requests

        from campaigner import adapters

        cls = adapters.adapter_class(self.platform)
        return cls(self.account, dict(self.options), dict(self.credentials if credentials is None else credentials), session=requests.Session())

    def is_create(self, request: Any) -> bool:
        """Whether a request the adapter sent is the one that creates the post."""
        return (request.method, request.url.split("?")[0]) == self.create

    def prepare(self, rsps: responses.RequestsMock) -> None:
        """Answers the adapter needs before its create request (a login, the instance's limits)."""

    def answer(self, rsps: responses.RequestsMock, outcome: str) -> None:
        """Register the create endpoint's answer for an outcome of the table."""
        method, url = self.create
        if outcome == "refused":
            rsps.add(method, url, body=refused(url))
        elif outcome == "timeout after sending":
            rsps.add(method, url, body=read_timeout())
        else:
            rsps.add(method, url, **self.answers()[outcome])

    def answers(self) -> dict[str, dict[str, Any]]:
        """responses.add keyword arguments per HTTP outcome."""
        raise NotImplementedError

    def answer_with(self, rsps: responses.RequestsMock, answer: dict[str, Any]) -> None:
        """Register one answer (responses.add keyword arguments) for the create endpoint."""
        method, url = self.create
        rsps.add(method, url, **answer)

    def echoing(self, secret: str) -> dict[str, Any]:
        """A refusal whose text quotes `secret` back, as a platform's error message may."""
        raise NotImplementedError


class XContract(Contract):
    platform, account = "x", "canary_x"
    credentials = {"API_KEY": "xk+Canary/Key=1", "API_SECRET": "xs+Canary/Secret=ü2", "ACCESS_TOKEN": "1500-xa+Canary/Token=3",
                   "ACCESS_SECRET": "xas+Canary/Sécret=4"}
    create = ("POST", X_TWEETS)
    url_prefix = "https://x.com/"

    def prepare(self, rsps: responses.RequestsMock) -> None:
        rsps.add(responses.GET, X_ME, json=x_me(), status=200)

    def answers(self) -> dict[str, dict[str, Any]]:
        return {
            "success": {"json": x_created(), "status": 201},
            "401": {"json": X_UNAUTHORIZED, "status": 401},
            "403": {"json": X_FORBIDDEN, "status": 403},
            "429 with a retry time": {"json": X_TOO_MANY, "status": 429, "headers": x_rate_headers(RETRY_AT)},
            "429 without a retry time": {"json": X_TOO_MANY, "status": 429},
            "5xx": {"json": X_SERVER_ERROR, "status": 503},
            "malformed": {"json": {"data": {}}, "status": 201},
        }

    def echoing(self, secret: str) -> dict[str, Any]:
        return {"json": {**X_UNAUTHORIZED, "detail": f"Unauthorized: {secret}"}, "status": 401}

    def retry_at(self) -> Any:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(RETRY_AT, timezone.utc)


class FacebookContract(Contract):
    platform, account = "facebook", "canary_fb"
    options = {"page_id": PAGE_ID}
    credentials = {"PAGE_TOKEN": "EAAB+Canary/Page=Tökén5"}
    create = ("POST", graph_url(f"{PAGE_ID}/feed"))
    url_prefix = "https://www.facebook.com/"

    def answers(self) -> dict[str, dict[str, Any]]:
        usage = {PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 14, "estimated_time_to_regain_access": 15}]}
        return {
            "success": {"json": {"id": FB_POST_ID}, "status": 200},
            "401": {"json": GRAPH_ERRORS[190], "status": 401},
            "403": {"json": GRAPH_ERRORS[200], "status": 403},
            "429 with a retry time": {"json": GRAPH_ERRORS[32], "status": 400, "headers": {"x-business-use-case-usage": json.dumps(usage)}},
            "429 without a retry time": {"json": GRAPH_ERRORS[17], "status": 400},
            "5xx": {"json": GRAPH_ERRORS[2], "status": 500},
            "malformed": {"json": {"success": True}, "status": 200},
        }

    def echoing(self, secret: str) -> dict[str, Any]:
        return {"json": graph_error(190, f"Invalid OAuth access token {secret}"), "status": 400}

    def retry_at(self) -> Any:
        from datetime import datetime, timedelta, timezone

        return datetime.now(timezone.utc) + timedelta(minutes=15)  # estimated_time_to_regain_access


# -- Telegram ---------------------------------------------------------------------------------------

TG_CHAT = "@ccbl_kh"
TG_CHANNEL_ID = -1001234567890


def tg_url(method: str) -> Any:
    """A Bot API method's URL for any token (the token is part of the path)."""
    import re

    return re.compile(rf"https://api\.telegram\.org/bot.+/{method}(\?.*)?$")


def tg_sent(message_id: int = 42, text: str | None = "hello", **extra: Any) -> dict[str, Any]:
    """A Message object as the Bot API returns it for a post in a public channel."""
    sent: dict[str, Any] = {"message_id": message_id, "sender_chat": {"id": TG_CHANNEL_ID, "title": "CCBL Cambodia", "username": "ccbl_kh", "type": "channel"},
                            "chat": {"id": TG_CHANNEL_ID, "title": "CCBL Cambodia", "username": "ccbl_kh", "type": "channel"}, "date": 1764723600}
    if text is not None:
        sent["text"] = text
    sent.update(extra)
    return sent


def tg_ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def tg_error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        error["parameters"] = parameters
    return error


class TelegramContract(Contract):
    platform, account = "telegram", "canary_tg"
    options = {"chat_id": TG_CHAT}
    credentials = {"BOT_TOKEN": "7012345678:AAE+Canary/Bot=Tökén9"}
    create = ("POST", "sendMessage")
    url_prefix = "https://t.me/ccbl_kh/"

    def is_create(self, request: Any) -> bool:
        return request.method == "POST" and request.url.split("?")[0].endswith("/sendMessage")

    def answer_with(self, rsps: responses.RequestsMock, answer: dict[str, Any]) -> None:
        rsps.add(responses.POST, tg_url("sendMessage"), **answer)

    def answer(self, rsps: responses.RequestsMock, outcome: str) -> None:
        url = tg_url("sendMessage")
        if outcome == "refused":
            rsps.add(responses.POST, url, body=refused())
        elif outcome == "timeout after sending":
            rsps.add(responses.POST, url, body=read_timeout())
        else:
            rsps.add(responses.POST, url, **self.answers()[outcome])

    def answers(self) -> dict[str, dict[str, Any]]:
        return {
            "success": {"json": tg_ok(tg_sent()), "status": 200},
            "401": {"json": tg_error(401, "Unauthorized"), "status": 401},
            "403": {"json": tg_error(403, "Forbidden: bot is not a member of the channel chat"), "status": 403},
            "429 with a retry time": {"json": tg_error(429, "Too Many Requests: retry after 35", retry_after=35), "status": 429},
            "429 without a retry time": {"json": tg_error(429, "Too Many Requests"), "status": 429},
            "5xx": {"json": tg_error(500, "Internal Server Error"), "status": 500},
            "malformed": {"json": tg_ok({"chat": {"id": TG_CHANNEL_ID}}), "status": 200},
        }

    def echoing(self, secret: str) -> dict[str, Any]:
        return {"json": tg_error(401, f"Unauthorized: {secret}"), "status": 401}

    def retry_at(self) -> Any:
        from datetime import datetime, timedelta, timezone

        return datetime.now(timezone.utc) + timedelta(seconds=35)


# -- Mastodon ---------------------------------------------------------------------------------------

MASTODON = "https://mastodon.example"
MASTODON_STATUS_ID = "113456789012345678"


def mastodon_status(text: str = "hello", status_id: str = MASTODON_STATUS_ID, created_at: str = "2026-12-03T01:05:01.000Z", **extra: Any) -> dict[str, Any]:
    """A Status as POST /api/v1/statuses and the account's statuses return it."""
    status = {
        "id": status_id, "created_at": created_at, "in_reply_to_id": None, "in_reply_to_account_id": None, "sensitive": False,
        "spoiler_text": "", "visibility": "public", "language": "en", "uri": f"{MASTODON}/users/ccbl/statuses/{status_id}",
        "url": f"{MASTODON}/@ccbl/{status_id}", "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
        "content": "<p>" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n\n", "</p><p>").replace("\n", "<br />") + "</p>",
        "reblog": None, "account": mastodon_account(), "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
    }
    status.update(extra)
    return status


def mastodon_account() -> dict[str, Any]:
    return {"id": "109876543210", "username": "ccbl", "acct": "ccbl", "display_name": "CCBL Cambodia", "url": f"{MASTODON}/@ccbl",
            "created_at": "2022-11-01T00:00:00.000Z", "note": "", "followers_count": 120, "following_count": 80, "statuses_count": 310}


def mastodon_media(media_id: str = "113456789012340001", *, processed: bool = True, description: str | None = None) -> dict[str, Any]:
    return {"id": media_id, "type": "image", "url": f"{MASTODON}/system/media/{media_id}.png" if processed else None,
            "preview_url": f"{MASTODON}/system/media/small/{media_id}.png", "remote_url": None, "description": description, "blurhash": "UFBWY:8_0Jxv"}


class MastodonContract(Contract):
    platform, account = "mastodon", "canary_md"
    options = {"instance": MASTODON}
    credentials = {"ACCESS_TOKEN": "md+Canary/Access=Tökén8"}
    create = ("POST", f"{MASTODON}/api/v1/statuses")
    url_prefix = f"{MASTODON}/@ccbl/"

    def answers(self) -> dict[str, dict[str, Any]]:
        from datetime import datetime, timezone

        reset = datetime.fromtimestamp(RETRY_AT, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "success": {"json": mastodon_status(), "status": 200},
            "401": {"json": {"error": "The access token is invalid"}, "status": 401},
            "403": {"json": {"error": "This action is outside the authorized scopes"}, "status": 403},
            "429 with a retry time": {"json": {"error": "Too many requests"}, "status": 429,
                                      "headers": {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}},
            "429 without a retry time": {"json": {"error": "Too many requests"}, "status": 429},
            "5xx": {"json": {"error": "We're sorry, but something went wrong on our end."}, "status": 500},
            "malformed": {"body": "<html><body>Welcome to nginx</body></html>", "status": 200, "content_type": "text/html"},
        }

    def echoing(self, secret: str) -> dict[str, Any]:
        return {"json": {"error": f"The access token {secret} is invalid"}, "status": 401}

    def retry_at(self) -> Any:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(RETRY_AT, timezone.utc)


# -- Bluesky ----------------------------------------------------------------------------------------

BSKY = "https://bsky.social"
BSKY_PDS = "https://morel.us-east.host.bsky.network"
BSKY_DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
BSKY_HANDLE = "ccbl.bsky.social"


def bsky_xrpc(nsid: str, base: str = BSKY_PDS) -> str:
    return f"{base}/xrpc/{nsid}"


def bsky_session(did: str = BSKY_DID, handle: str = BSKY_HANDLE, pds: str | None = BSKY_PDS) -> dict[str, Any]:
    """200 from com.atproto.server.createSession (the JWTs shortened; the didDoc names the PDS)."""
    session: dict[str, Any] = {"did": did, "handle": handle, "email": "press@ccbl.example", "emailConfirmed": True, "active": True,
                               "accessJwt": "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.access-Canary+jwt/1=",
                               "refreshJwt": "eyJ0eXAiOiJyZWZyZXNoK2p3dCIsImFsZyI6IkVTMjU2SyJ9.refresh-Canary+jwt/2="}
    if pds:
        session["didDoc"] = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "alsoKnownAs": [f"at://{handle}"],
                             "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}]}
    return session


def bsky_created(rkey: str, did: str = BSKY_DID) -> dict[str, Any]:
    """200 from com.atproto.repo.createRecord."""
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q",
            "commit": {"cid": "bafyreihsqwxmzhvs6fyvx3f6ooxxtgsxbt7ahmmmhd5ieygbjbwdo2hgfu", "rev": "3lbvx2mlcnq2k"}, "validationStatus": "valid"}


def bsky_record(rkey: str, text: str = "hello", did: str = BSKY_DID, **fields: Any) -> dict[str, Any]:
    """200 from com.atproto.repo.getRecord."""
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q",
            "value": {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-12-03T02:00:00.000Z", **fields}}


def bsky_error(error: str, message: str) -> dict[str, Any]:
    return {"error": error, "message": message}


def bsky_blob(size: int = 67, mime: str = "image/png", link: str = "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa") -> dict[str, Any]:
    """200 from com.atproto.repo.uploadBlob."""
    return {"blob": {"$type": "blob", "ref": {"$link": link}, "mimeType": mime, "size": size}}


def bsky_not_found(rkey: str = "") -> dict[str, Any]:
    return bsky_error("RecordNotFound", f"Could not locate record: at://{BSKY_DID}/app.bsky.feed.post/{rkey}")


class BlueskyContract(Contract):
    platform, account = "bluesky", "canary_bsky"
    options = {"handle": BSKY_HANDLE}
    credentials = {"APP_PASSWORD": "abcd-efgh+Canary/App=Pässwörd7"}
    create = ("POST", bsky_xrpc("com.atproto.repo.createRecord"))
    url_prefix = f"https://bsky.app/profile/{BSKY_HANDLE}/post/"
    # The record key makes every retry safe: a create whose outcome is unclear is looked up by its key,
    # and absent (the fake's answer) means it is tried again with the same key, never twice.
    overrides = {"5xx": Transient_, "timeout after sending": Transient_, "malformed": Transient_}

    def prepare(self, rsps: responses.RequestsMock) -> None:
        rsps.add(responses.POST, bsky_xrpc("com.atproto.server.createSession", BSKY), json=bsky_session())
        rsps.add(responses.GET, bsky_xrpc("com.atproto.repo.getRecord"), json=bsky_not_found(), status=400)

    def answers(self) -> dict[str, dict[str, Any]]:
        return {
            "success": {"json": bsky_created("3lbvx2mlcnq2k"), "status": 200},
            "401": {"json": bsky_error("AuthenticationRequired", "Authentication Required"), "status": 401},
            "403": {"json": bsky_error("AccountTakedown", "Account has been taken down"), "status": 403},
            "429 with a retry time": {"json": bsky_error("RateLimitExceeded", "Rate Limit Exceeded"), "status": 429,
                                      "headers": {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(RETRY_AT),
                                                  "ratelimit-policy": "5000;w=3600"}},
            "429 without a retry time": {"json": bsky_error("RateLimitExceeded", "Rate Limit Exceeded"), "status": 429},
            "5xx": {"json": bsky_error("InternalServerError", "Internal Server Error"), "status": 500},
            "malformed": {"body": "<html><body>Bad gateway</body></html>", "status": 200, "content_type": "text/html"},
        }

    def echoing(self, secret: str) -> dict[str, Any]:
        return {"json": bsky_error("InvalidRequest", f"Invalid app password {secret}"), "status": 400}

    def retry_at(self) -> Any:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(RETRY_AT, timezone.utc)


CONTRACTS: dict[str, Contract] = {c.platform: c for c in (XContract(), FacebookContract(), TelegramContract(), MastodonContract(), BlueskyContract())}


def secret_forms(secret: str) -> set[str]:
    """Every form a secret can come back in: raw, URL-encoded (both ways), JSON-escaped, base64."""
    import base64
    from urllib.parse import quote, quote_plus

    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], base64.b64encode(secret.encode()).decode()}
    return {f for f in forms if len(f) >= 4}


def assert_no_secret(text: str, secrets: Any) -> None:
    """No secret in any of its forms appears in text."""
    for secret in secrets:
        for form in secret_forms(secret):
            assert form not in text, f"a secret leaked as {form!r}"
