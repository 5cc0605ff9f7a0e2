"""Bluesky (the AT Protocol) over plain XRPC through requests: posts, threads, images with alt text,
link cards, facets, and exactly once through a record key derived from the post id.

Each post is created with `com.atproto.repo.createRecord` and an rkey computed from the post id:
a repeated create for the same post cannot make a second post, it is refused because the key
exists. So after any failed create the record is looked up by its key (`getRecord`) before
deciding: found is published (the lexicons call the refusal RecordAlreadyExists, but the deployed
PDS has answered it with a 500 InternalServerError, bluesky-social/atproto #3718); absent is safe
to create again with the same key.

`app.bsky.feed.post` declares `"key": "tid"` and the PDS checks a client's rkey against it
(`assertValidRecordKeyForSchema` in packages/pds/src/repo/prepare.ts), so the key is a valid TID
derived deterministically from the post id: its timestamp is the post's date (from the id) plus
microseconds from a hash, its clock id from the same hash.

Logging in (`createSession`) happens in `open`, which the engine calls only for an account that has
something to send, and in `check`: Bluesky limits logins per account per day. The session's tokens
live in memory for one run and are never written anywhere.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from campaigner.adapters.base import (
    Image,
    COMMON_OPTIONS,
    AccountCheck,
    Adapter,
    Message,
    RateLimit,
    Receipt,
    WireRequest,
    connection_problem,
    reached_platform,
    redact_library_logs,
)
from campaigner.credentials import env_name, missing_message, redact, remember
from campaigner.errors import Ambiguous, ConfigError, Permanent, PublishFailure, Transient

DEFAULT_SERVICE = "https://bsky.social"
COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300  # lexicons/app/bsky/feed/post.json: text maxGraphemes
MAX_BYTES = 3000  # ... and maxLength (UTF-8 bytes)
MAX_IMAGE_BYTES = 1_000_000  # lexicons/app/bsky/embed/images.json: image maxSize
MAX_ALT_TEXT = 2000  # the Bluesky app's limit (the lexicon sets none)
MAX_TAG_GRAPHEMES = 64  # lexicons/app/bsky/richtext/facet.json: tag maxGraphemes
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
APP_PASSWORDS = "Settings > Privacy and security > App passwords on bsky.app"
# TIDs: 13 characters of base32-sortable; the first is one of the first 16 (the top bit is 0).
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_DAY_US = 86_400_000_000
_NO_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # base for an id without a date in it
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'»”។]")
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


# -- what Bluesky counts and links (no network, no SDK) -----------------------------------------


def record_key(post_id: str) -> str:
    """A valid TID for a post id, the same on every run: the post's date plus a hash."""
    digest = int.from_bytes(hashlib.sha256(post_id.encode("utf-8")).digest()[:16], "big")
    found = _DATE.search(post_id)
    try:
        base = datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=timezone.utc) if found else _NO_DATE
    except ValueError:
        base = _NO_DATE
    micros = int(base.timestamp()) * 1_000_000 + digest % _DAY_US
    clock = (digest >> 64) % 1024
    value = (micros << 10) | clock  # 53 bits of time, 10 of clock id; the top bit stays 0
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def utf8_len(text: str) -> int:
    """The text's length in UTF-8 bytes, Bluesky's second limit."""
    return len(text.encode("utf-8"))


def _byte_offsets(text: str) -> list[int]:
    """The UTF-8 byte offset of every character position (and of the end)."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(char.encode("utf-8")))
    return offsets


def facets(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets with UTF-8 byte offsets (app.bsky.richtext.facet)."""
    import regex

    from campaigner import textlimits

    offsets = _byte_offsets(text)
    found: list[dict[str, Any]] = []
    links = [m.span() for m in _URL.finditer(text)]
    for start, end in links:
        found.append({"index": {"byteStart": offsets[start], "byteEnd": offsets[end]},
                      "features": [{"$type": "app.bsky.richtext.facet#link", "uri": text[start:end]}]})
    # As the Bluesky app finds tags: after a space or at the start, trailing punctuation left out,
    # not only digits, at most 64 graphemes.
    for match in regex.finditer(r"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2#＃]+)", text):
        tag = regex.sub(r"\p{P}+$", "", match.group(1))
        if not tag or tag.isdigit() or textlimits.graphemes(tag) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start()
        end = match.start(1) + len(tag)
        if any(s <= start < e for s, e in links):
            continue
        found.append({"index": {"byteStart": offsets[start], "byteEnd": offsets[end]},
                      "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    return sorted(found, key=lambda f: f["index"]["byteStart"])




class _Refused(Exception):
    """An XRPC error answer: the HTTP status, the `error` name and the server's message."""

    def __init__(self, status: int, error: str, message: str, reset: datetime | None = None):
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message, self.reset = status, error, message, reset


class BlueskyAdapter(Adapter):
    """Posts to one Bluesky account, logged in with an app password."""

    platform = "bluesky"
    label = "Bluesky"
    counts = "graphemes"
    max_length = MAX_GRAPHEMES
    max_bytes = MAX_BYTES
    max_images = 4
    max_image_bytes = MAX_IMAGE_BYTES
    image_types = IMAGE_TYPES
    alt_text = True
    max_alt_length = MAX_ALT_TEXT
    supports_threads = True
    # 5,000 points an hour and 35,000 a day per account, a create costing 3 (docs.bsky.app, rate limits).
    rate_limits = (RateLimit(1666, timedelta(hours=1), "account"), RateLimit(11666, timedelta(days=1), "account"))
    idempotent = True  # the record key: a second create for the same post is refused, for ever
    idempotency_window = None
    lookup = "key"
    template_fallbacks = ("x",)  # the short texts written for X's 280 fit Bluesky's 300
    credential_sets = (("APP_PASSWORD",),)
    account_options = COMMON_OPTIONS + ("handle", "service")
    required_options = ("handle",)

    def __init__(self, account: str, options: Mapping[str, Any], credentials: Mapping[str, str], session: Any = None):
        super().__init__(account, options, credentials, session)
        for value in self.credentials.values():
            remember(value)
        self.handle = str(self.options.get("handle") or "").strip().lstrip("@")
        if not self.handle:
            raise ConfigError(f"account {account}: a Bluesky account needs handle: (e.g. ccbl.bsky.social)")
        self.service = str(self.options.get("service") or DEFAULT_SERVICE).rstrip("/")
        self._did: str | None = None
        self._pds: str | None = None
        self._access: str | None = None
        self._refs: dict[str, tuple[str, dict[str, str]]] = {}  # uri -> (cid, the thread's root ref)

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The base's checks, the handle's form and the service URL."""
        problems = super().option_problems(options)
        handle = options.get("handle")
        if not isinstance(handle, str) or not re.fullmatch(r"@?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*", handle.strip()):
            problems.append(("handle", f"expected the account's handle, e.g. handle: ccbl.bsky.social, got {handle!r}"))
        service = options.get("service")
        if service is not None and (not isinstance(service, str) or not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?/?", service)):
            problems.append(("service", f"expected the server's address, e.g. service: {DEFAULT_SERVICE}, got {service!r}"))
        return problems

    # -- publish ---------------------------------------------------------------------------

    def open(self) -> None:
        """Log in once for this run (createSession), before anything is claimed."""
        self._login()

    def publish(self, message: Message) -> Receipt:
        """Upload the images, then create the post under its own record key; settle any failure by
        looking the key up."""
        images = self.load_images(message.media)
        self._login()
        rkey = record_key(message.idempotency_key)
        blobs = [self._upload(image) for image in images]
        record = self._record(message, blobs)
        body = {"repo": self._did, "collection": COLLECTION, "rkey": rkey, "record": record}
        try:
            answer = self._xrpc("POST", "com.atproto.repo.createRecord", json=body)
        except _Refused as refused:
            return self._after_refusal(refused, rkey, record)
        except Exception as exc:
            import requests

            if isinstance(exc, requests.RequestException) and not reached_platform(exc):
                raise Transient(f"could not reach {self._pds} while posting for {self.account} ({connection_problem(exc, self.timeout)}); "
                                "nothing was posted") from None
            return self._after_doubt(f"the request may have reached Bluesky ({self._problem(exc)})", rkey, record)
        uri, cid = answer.get("uri") if isinstance(answer, dict) else None, answer.get("cid") if isinstance(answer, dict) else None
        if not isinstance(uri, str) or not isinstance(cid, str):
            return self._after_doubt("Bluesky answered the post with something unreadable", rkey, record)
        self._remember(uri, cid, record)
        return self._receipt(rkey)

    def _after_refusal(self, refused: _Refused, rkey: str, record: Mapping[str, Any]) -> Receipt:
        """A create answered with an error: look the key up before deciding (atproto #3718)."""
        if refused.status == 429:
            raise Transient(f"Bluesky is limiting posts for {self.account}: {refused.message or refused.error}", refused.reset)
        try:
            found = self._get_record(rkey)
        except PublishFailure:
            found = None
            if refused.error == "RecordAlreadyExists":
                return self._receipt(rkey)  # the key exists: this post is out
            if refused.status >= 500:
                raise Ambiguous(f"Bluesky failed ({refused.status} {refused.error}) while posting for {self.account}, and the post could not "
                                f"be looked up by its key {rkey}; retrying with that key is safe, so the next run looks it up and settles it") from None
        if found is not None:
            self._remember(found["uri"], found["cid"], found.get("value") or record)
            return self._receipt(rkey)
        if refused.status >= 500 or refused.error == "RecordAlreadyExists":
            raise Transient(f"Bluesky failed ({refused.status} {refused.error}: {refused.message}) while posting for {self.account}; "
                            f"the post is not there (looked up by its key {rkey}), so it is tried again with the same key")
        raise self._failure(refused, "posting")

    def _after_doubt(self, what: str, rkey: str, record: Mapping[str, Any]) -> Receipt:
        """A create whose answer was lost: found by its key is published, absent is safe to retry."""
        try:
            found = self._get_record(rkey)
        except PublishFailure as failure:
            raise Ambiguous(f"{what} while posting for {self.account}, and looking it up by its key {rkey} failed ({failure.message}); "
                            "retrying with that key is safe, so the next run looks it up and settles it") from None
        if found is not None:
            self._remember(found["uri"], found["cid"], found.get("value") or record)
            return self._receipt(rkey)
        raise Transient(f"{what} while posting for {self.account}, but the post is not there (looked up by its key {rkey}): "
                        "it is tried again with the same key, which cannot make a second post")

    def _receipt(self, rkey: str) -> Receipt:
        return Receipt(f"at://{self._did}/{COLLECTION}/{rkey}", f"https://bsky.app/profile/{self.handle}/post/{rkey}")

    def _remember(self, uri: str, cid: str, record: Mapping[str, Any]) -> None:
        reply = record.get("reply") if isinstance(record, Mapping) else None
        root = reply.get("root") if isinstance(reply, Mapping) else None
        self._refs[uri] = (cid, dict(root) if isinstance(root, Mapping) else {"uri": uri, "cid": cid})

    def _record(self, message: Message, blobs: Sequence[tuple[dict[str, Any], str]]) -> dict[str, Any]:
        """The app.bsky.feed.post record: text, language, facets, the embed and the reply refs."""
        record: dict[str, Any] = {"$type": COLLECTION, "text": message.text,
                                  "createdAt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        if message.language:
            record["langs"] = [message.language]
        found = facets(message.text)
        if found:
            record["facets"] = found
        if blobs:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": alt} for blob, alt in blobs]}
        elif message.link:
            record["embed"] = {"$type": "app.bsky.embed.external",
                               "external": {"uri": message.link, "title": message.link_title or "", "description": message.link_description or ""}}
        if message.reply_to:
            record["reply"] = self._reply_refs(message.reply_to)
        return record

    def _reply_refs(self, parent_uri: str) -> dict[str, Any]:
        """reply.root and reply.parent for a reply to `parent_uri` (read back when this run did not post it)."""
        if parent_uri not in self._refs:
            rkey = parent_uri.rsplit("/", 1)[-1]
            found = self._get_record(rkey)
            if found is None:
                raise Permanent(f"the post {parent_uri} that this part of a thread replies to is not on Bluesky for {self.account}: "
                                "it was deleted; resolve the thread's remaining parts by hand")
            self._remember(found["uri"], found["cid"], found.get("value") or {})
        cid, root = self._refs[parent_uri]
        return {"root": root, "parent": {"uri": parent_uri, "cid": cid}}

    def _upload(self, image: Image) -> tuple[dict[str, Any], str]:
        """uploadBlob: the raw bytes; a failure here precedes the create, so it is never ambiguous."""
        try:
            answer = self._xrpc("POST", "com.atproto.repo.uploadBlob", data=image.data, content_type=image.mime)
        except _Refused as refused:
            if refused.status >= 500:
                raise Transient(f"Bluesky failed ({refused.status}) while uploading {image.name} for {self.account}; nothing was posted") from None
            raise self._failure(refused, f"uploading {image.name}") from None
        except Exception as exc:
            raise Transient(f"uploading {image.name} for {self.account} failed ({self._problem(exc)}); nothing was posted") from None
        blob = answer.get("blob") if isinstance(answer, dict) else None
        if not isinstance(blob, dict):
            raise Transient(f"Bluesky took the upload of {image.name} for {self.account} but gave no blob; nothing was posted")
        return blob, image.alt or ""


    # -- finding a post whose outcome is unknown ------------------------------------------

    def find(self, message: Message, since: datetime) -> Receipt | None:
        """The post by its record key (getRecord): definitive, whatever its text or time."""
        self._login()
        rkey = record_key(message.idempotency_key)
        found = self._get_record(rkey)
        if found is None:
            return None
        self._remember(found["uri"], found["cid"], found.get("value") or {})
        return self._receipt(rkey)

    def _get_record(self, rkey: str) -> dict[str, Any] | None:
        """The record under this key in the account's repo, or None when the PDS says it is not there."""
        try:
            answer = self._xrpc("GET", "com.atproto.repo.getRecord", params={"repo": self._did or self.handle, "collection": COLLECTION, "rkey": rkey})
        except _Refused as refused:
            if refused.error == "RecordNotFound" or (refused.status in (400, 404) and "could not locate" in refused.message.lower()):
                return None
            raise Transient(f"Bluesky could not say whether the post with key {rkey} exists ({refused.status} {refused.error}: {refused.message})") from None
        except Exception as exc:
            raise Transient(f"could not look up the post with key {rkey} for {self.account} ({self._problem(exc)})") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("uri"), str) or not isinstance(answer.get("cid"), str):
            raise Transient(f"Bluesky answered the look-up of the post with key {rkey} with something unreadable")
        return answer

    # -- describe and check ----------------------------------------------------------------

    def describe(self, message: Message) -> list[WireRequest]:
        """The uploads and the createRecord `publish` would send (after one createSession a run)."""
        pds = f"{self.service}/xrpc"
        wire = [WireRequest("POST", f"{pds}/com.atproto.repo.uploadBlob", {"alt": item.alt or ""}, (Path(item.path).name,)) for item in message.media]
        record = self._record_shown(message)
        wire.append(WireRequest("POST", f"{pds}/com.atproto.repo.createRecord",
                                {"repo": f"<the DID of {self.handle}>", "collection": COLLECTION, "rkey": record_key(message.idempotency_key), "record": record}))
        return wire

    def _record_shown(self, message: Message) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": COLLECTION, "text": message.text}
        if message.language:
            record["langs"] = [message.language]
        found = facets(message.text)
        if found:
            record["facets"] = found
        if message.media:
            record["embed"] = {"$type": "app.bsky.embed.images",
                               "images": [{"image": f"<blob {n}>", "alt": item.alt or ""} for n, item in enumerate(message.media, 1)]}
        elif message.link:
            record["embed"] = {"$type": "app.bsky.embed.external",
                               "external": {"uri": message.link, "title": message.link_title or "", "description": message.link_description or ""}}
        if message.reply_to:
            record["reply"] = {"root": "<the thread's first post>", "parent": message.reply_to}
        return record

    def describe_check(self) -> list[WireRequest]:
        """createSession and getProfile."""
        return [WireRequest("POST", f"{self.service}/xrpc/com.atproto.server.createSession",
                            {"identifier": self.handle, "password": f"<{env_name(self.account, 'APP_PASSWORD')}>"}),
                WireRequest("GET", f"{self.service}/xrpc/app.bsky.actor.getProfile", {"actor": f"<the DID of {self.handle}>"})]

    def check(self) -> AccountCheck:
        """Log in with the app password, then read the profile (getProfile)."""
        try:
            self._login()
            profile = self._xrpc("GET", "app.bsky.actor.getProfile", params={"actor": self._did})
        except PublishFailure as failure:
            return AccountCheck(False, failure.message)
        except _Refused as refused:
            return AccountCheck(False, self._failure(refused, "reading the profile").message)
        except Exception as exc:
            return AccountCheck(False, f"could not reach {self.service} for {self.account} ({self._problem(exc)})")
        handle = profile.get("handle") if isinstance(profile, dict) else None
        posts = profile.get("postsCount") if isinstance(profile, dict) else None
        who = f"@{handle or self.handle} ({self._did})" + (f", {posts:,} posts" if isinstance(posts, int) else "")
        if handle and handle.lower() != self.handle.lower():
            return AccountCheck(False, f"{who}: the app password logs in to @{handle}, but calendar.yaml says handle: {self.handle}: correct one of them")
        return AccountCheck(True, f"{who} on {self._pds}")

    # -- plumbing --------------------------------------------------------------------------

    def _login(self) -> None:
        """createSession once per adapter; the PDS from the DID document when it names one."""
        if self._access is not None:
            return
        password = self.credentials.get("APP_PASSWORD")
        if not password:
            raise Permanent(missing_message(self.account, self.credential_sets, self.credentials))
        try:
            answer = self._xrpc("POST", "com.atproto.server.createSession", json={"identifier": self.handle, "password": password},
                                base=self.service, auth=False)
        except _Refused as refused:
            if refused.status == 429:
                raise Transient(f"Bluesky is limiting logins for {self.account} ({refused.message or refused.error}); nothing was posted",
                                refused.reset) from None
            if refused.status >= 500:
                raise Transient(f"Bluesky failed ({refused.status}) while logging in {self.account}; nothing was posted") from None
            if refused.error == "AuthFactorTokenRequired":
                raise Permanent(f"Bluesky asked {self.account} for a sign-in code: log in with an app password, not the account's password "
                                f"(set {env_name(self.account, 'APP_PASSWORD')}; {APP_PASSWORDS})") from None
            raise self._failure(refused, "logging in") from None
        except Exception as exc:
            raise Transient(f"could not reach {self.service} to log in {self.account} ({self._problem(exc)}); nothing was posted") from None
        if not isinstance(answer, dict) or not answer.get("accessJwt") or not answer.get("did"):
            raise Transient(f"Bluesky answered the login of {self.account} with something unreadable; nothing was posted")
        for token in (answer.get("accessJwt"), answer.get("refreshJwt")):
            if isinstance(token, str):
                remember(token)  # never printed, logged or stored, even if echoed back
        self._access, self._did = str(answer["accessJwt"]), str(answer["did"])
        self._pds = _pds_endpoint(answer.get("didDoc")) or self.service

    def _xrpc(self, method: str, nsid: str, *, json: Any = None, data: bytes | None = None, content_type: str | None = None,
              params: Mapping[str, Any] | None = None, base: str | None = None, auth: bool = True) -> Any:
        """One XRPC call; returns the JSON answer or raises _Refused (or requests' own exceptions)."""
        import requests

        if self.session is None:
            self.session = requests.Session()
        redact_library_logs("urllib3.connectionpool")
        headers = {}
        if auth and self._access:
            headers["Authorization"] = f"Bearer {self._access}"
        if content_type:
            headers["Content-Type"] = content_type
        url = f"{base or self._pds or self.service}/xrpc/{nsid}"
        response = self.session.request(method, url, json=json, data=data, params=params, headers=headers, timeout=self.timeout)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400:
            error = answer.get("error") if isinstance(answer, dict) else None
            said = answer.get("message") if isinstance(answer, dict) else None
            reset = response.headers.get("ratelimit-reset")
            at = datetime.fromtimestamp(int(reset), timezone.utc) if reset and reset.isdigit() else None
            raise _Refused(response.status_code, str(error or f"HTTP {response.status_code}"), redact(str(said or "")), at)
        if answer is None and response.status_code != 200:
            raise _Refused(response.status_code, f"HTTP {response.status_code}", "not XRPC's JSON")
        return answer

    def _failure(self, refused: _Refused, what: str) -> PublishFailure:
        """Classify an XRPC refusal that did not create anything."""
        said = f"{refused.error}: {refused.message}" if refused.message else refused.error
        if refused.error == "ExpiredToken":
            return Transient(f"Bluesky's session for {self.account} expired while {what} ({said}); the next run logs in again")
        if refused.status == 401 or refused.error in ("AuthenticationRequired", "InvalidToken", "AccountTakedown", "AccountDeactivated"):
            return Permanent(f"Bluesky refused the login of {self.account} while {what} ({said}): check handle: {self.handle} in calendar.yaml "
                             f"and {env_name(self.account, 'APP_PASSWORD')}, an app password ({APP_PASSWORDS}), never the account's password")
        if refused.status == 429:
            return Transient(f"Bluesky is limiting requests for {self.account} while {what}: {said}", refused.reset)
        if refused.status >= 500:
            return Transient(f"Bluesky failed ({refused.status} {said}) while {what} for {self.account}")
        return Permanent(f"Bluesky refused {what} for {self.account} ({refused.status} {said})")

    def _problem(self, exc: BaseException) -> str:
        import requests

        if isinstance(exc, requests.RequestException):
            return connection_problem(exc, self.timeout)
        return redact(f"{type(exc).__name__}: {exc}")[:200]


def _pds_endpoint(did_doc: Any) -> str | None:
    """The #atproto_pds service endpoint of a DID document, where the account's repo lives."""
    if not isinstance(did_doc, dict):
        return None
    for service in did_doc.get("service") or []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint.startswith("https://"):
                return endpoint.rstrip("/")
    return None
