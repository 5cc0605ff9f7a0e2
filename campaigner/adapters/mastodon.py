"""Mastodon through Mastodon.py 2.3: statuses, threads, images with alt text, and the Idempotency-Key.

Each create sends an Idempotency-Key derived from the post id: the server keeps it for about an
hour and answers a repeat with the first status (mastodon/documentation, methods/statuses.md),
so within that hour a post whose outcome was unknown is retried safely; after it, it is looked up
among the account's statuses by its text. Mastodon.py is told the server's version instead of
asking for it, never sleeps on a rate limit (ratelimit_method="throw"), and uses our timeouts.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

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
)
from campaigner.credentials import env_name, missing_message, redact, remember
from campaigner.errors import Ambiguous, ConfigError, Permanent, PublishFailure, Transient

DEFAULT_MAX_CHARACTERS = 500  # mastodon.social and Mastodon's default
URL_CHARACTERS = 23  # characters_reserved_per_url
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MAX_IMAGE_BYTES = 16 * 1024 * 1024  # Mastodon 4's default image_size_limit
MAX_ALT_TEXT = 1500
IDEMPOTENCY_WINDOW = timedelta(hours=1)
MEDIA_WAIT = 30.0  # seconds to wait for an image still processing (202) before giving up
SCOPES = "write:statuses write:media (and read:statuses for accounts check and reconcile)"
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'»”]")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w")


def mastodon_length(text: str, url_characters: int = URL_CHARACTERS) -> int:
    """Length as Mastodon's StatusLengthValidator counts it: grapheme clusters, every URL as 23
    characters, a mention @user@domain as @user."""
    from campaigner import textlimits

    text = _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = _URL.sub("x" * url_characters, text)
    return textlimits.graphemes(text)


def idempotency_key(key: str) -> str:
    """The Idempotency-Key header for a post id: stable across runs, ASCII whatever the id holds."""
    return "campaigner-" + hashlib.sha256(key.encode()).hexdigest()[:40]




class MastodonAdapter(Adapter):
    """Posts to one Mastodon account on its instance."""

    platform = "mastodon"
    label = "Mastodon"
    counts = mastodon_length
    max_length = DEFAULT_MAX_CHARACTERS
    max_images = 4
    max_image_bytes = MAX_IMAGE_BYTES
    image_types = IMAGE_TYPES
    alt_text = True
    max_alt_length = MAX_ALT_TEXT
    supports_threads = True
    rate_limits = (RateLimit(300, timedelta(hours=3), "account"),)  # Mastodon's limit on creating statuses
    idempotent = True
    idempotency_window = IDEMPOTENCY_WINDOW
    lookup = "text"
    template_fallbacks = ("x",)  # the short texts written for X fit 500; the long ones rarely do
    credential_sets = (("ACCESS_TOKEN",),)
    account_options = COMMON_OPTIONS + ("instance", "max_characters")
    required_options = ("instance",)

    def __init__(self, account: str, options: Mapping[str, Any], credentials: Mapping[str, str], session: Any = None):
        super().__init__(account, options, credentials, session)
        for value in self.credentials.values():
            remember(value)
        self.instance = str(self.options.get("instance") or "").rstrip("/")
        if not self.instance.startswith("https://"):
            raise ConfigError(f"account {account}: a Mastodon account needs instance: https://... (the server the account is on)")
        self._client: Any = None

    @classmethod
    def text_limit(cls, options: Mapping[str, Any]) -> int:
        """The instance's max_characters when the account states it, else Mastodon's 500."""
        value = options.get("max_characters")
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else cls.max_length

    @classmethod
    def measure(cls, text: str, options: Mapping[str, Any]) -> int:
        """Mastodon's count: graphemes, URLs as 23."""
        return mastodon_length(text)

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The base's checks, the instance URL and max_characters."""
        problems = super().option_problems(options)
        instance = options.get("instance")
        if not isinstance(instance, str) or not re.fullmatch(r"https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?/?", instance):
            problems.append(("instance", f"expected the server's address, e.g. instance: https://mastodon.social, got {instance!r}"))
        chars = options.get("max_characters")
        if chars is not None and (isinstance(chars, bool) or not isinstance(chars, int) or chars < 1):
            problems.append(("max_characters", f"expected the instance's limit, a number such as 500, got {chars!r}"))
        return problems

    # -- publish ---------------------------------------------------------------------------

    def publish(self, message: Message) -> Receipt:
        """Upload the images (with their descriptions), then the status with its Idempotency-Key."""
        images = self.load_images(message.media)
        client = self._mastodon()
        media_ids = [self._upload(client, image) for image in images]
        try:
            status = client.status_post(message.text, in_reply_to_id=message.reply_to, media_ids=media_ids or None,
                                        language=message.language, idempotency_key=idempotency_key(message.idempotency_key))
        except Exception as exc:
            raise self._failure(exc, "posting", publishing=True) from None
        status_id, url = _get(status, "id"), _get(status, "url") or _get(status, "uri")
        if not status_id:
            raise Ambiguous(f"Mastodon accepted the post for {self.account} but answered without its id: look at the account")
        return Receipt(str(status_id), str(url or f"{self.instance}/web/statuses/{status_id}"))

    def _upload(self, client: Any, image: Image) -> str:
        """POST /api/v2/media with the description; wait while the server answers 202 (processing)."""
        try:
            media = client.media_post(image.data, mime_type=image.mime, file_name=image.name, description=image.alt)
            deadline = time.monotonic() + MEDIA_WAIT
            while _get(media, "url") is None and time.monotonic() < deadline:
                time.sleep(1.0)
                media = client.media(_get(media, "id"))
        except Exception as exc:
            raise self._failure(exc, f"uploading {image.name}", publishing=False) from None
        if _get(media, "url") is None:
            raise Transient(f"Mastodon was still processing {image.name} for {self.account} after {MEDIA_WAIT:g} s; it will be tried again")
        return str(_get(media, "id"))


    # -- finding a post whose outcome is unknown ------------------------------------------

    def find(self, message: Message, since: datetime) -> Receipt | None:
        """The account's status with this text created since `since`, or None (GET /api/v1/accounts/:id/statuses)."""
        client = self._mastodon()
        try:
            me = client.account_verify_credentials()
            statuses = client.account_statuses(_get(me, "id"), limit=40, exclude_reblogs=True)
        except Exception as exc:
            raise self._failure(exc, "reading the account's statuses", publishing=False) from None
        wanted = _plain(message.text)
        for status in statuses or []:
            created = _get(status, "created_at")
            if isinstance(created, datetime) and created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            if isinstance(created, datetime) and created < since - timedelta(minutes=5):
                continue
            if _plain(_html_text(str(_get(status, "content") or ""))) == wanted:
                return Receipt(str(_get(status, "id")), str(_get(status, "url") or _get(status, "uri")))
        return None

    # -- describe and check ----------------------------------------------------------------

    def describe(self, message: Message) -> list[WireRequest]:
        """The uploads and the status `publish` would send (the token is a header: never shown)."""
        wire = []
        ids = []
        for n, item in enumerate(message.media, 1):
            wire.append(WireRequest("POST", f"{self.instance}/api/v2/media", {"description": item.alt} if item.alt else {}, (Path(item.path).name,)))
            ids.append(f"<media {n}>")
        body: dict[str, Any] = {"status": message.text}
        if message.reply_to:
            body["in_reply_to_id"] = message.reply_to
        if ids:
            body["media_ids"] = ids
        if message.language:
            body["language"] = message.language
        body["Idempotency-Key"] = idempotency_key(message.idempotency_key)
        wire.append(WireRequest("POST", f"{self.instance}/api/v1/statuses", body))
        return wire

    def describe_check(self) -> list[WireRequest]:
        """verify_credentials and the instance's limits."""
        return [WireRequest("GET", f"{self.instance}/api/v1/accounts/verify_credentials"), WireRequest("GET", f"{self.instance}/api/v2/instance/")]

    def check(self) -> AccountCheck:
        """Whose token this is, and whether the instance's limit matches what the calendar assumes."""
        try:
            client = self._mastodon()
            me = client.account_verify_credentials()
            instance = client.instance_v2()
        except PublishFailure as failure:
            return AccountCheck(False, failure.message)
        except Exception as exc:
            return AccountCheck(False, self._failure(exc, "checking the account", publishing=False).message)
        who = f"@{_get(me, 'acct')} on {self.instance}"
        configuration = _get(instance, "configuration") or {}
        statuses = _get(configuration, "statuses") or {}
        server_max = _get(statuses, "max_characters")
        assumed = self.text_limit(self.options)
        if isinstance(server_max, int) and server_max != assumed:
            return AccountCheck(server_max > assumed, f"{who}; the instance allows {server_max} characters a post, calendar.yaml assumes {assumed}: "
                                                      f"set max_characters: {server_max} on this account")
        return AccountCheck(True, f"{who}; {assumed} characters a post")

    # -- plumbing --------------------------------------------------------------------------

    def _mastodon(self) -> Any:
        if self._client is None:
            import requests
            from mastodon import Mastodon

            token = self.credentials.get("ACCESS_TOKEN")
            if not token:
                raise Permanent(missing_message(self.account, self.credential_sets, self.credentials))
            # The version is stated so that Mastodon.py asks the server nothing before the post
            # ("created" mode is the one that reads it), and 4.0 is what every endpoint here needs.
            self._client = Mastodon(access_token=token, api_base_url=self.instance, mastodon_version="4.0.0", version_check_mode="created",
                                    # requests takes (connect, read); Mastodon.py passes it through unchanged
                                    ratelimit_method="throw", request_timeout=self.timeout,  # type: ignore[arg-type]
                                    session=self.session if self.session is not None else requests.Session())
        return self._client

    def _failure(self, exc: BaseException, what: str, *, publishing: bool) -> PublishFailure:
        """Classify a Mastodon.py error raised while `what`."""
        from mastodon import errors

        if isinstance(exc, PublishFailure):
            return exc
        if isinstance(exc, errors.MastodonNetworkError):
            cause = exc.__context__ if exc.__context__ is not None else exc
            problem = connection_problem(cause, self.timeout)
            if publishing and reached_platform(cause):
                return Ambiguous(f"the request may have reached Mastodon while {what} for {self.account} ({problem}); a retry within an hour "
                                 "with the same Idempotency-Key is safe, so 'campaigner reconcile' or the next run settles it")
            return Transient(f"could not reach {self.instance} while {what} for {self.account} ({problem}); nothing was posted")
        if isinstance(exc, errors.MastodonRatelimitError):
            reset = getattr(self._client, "ratelimit_reset", None)
            at = datetime.fromtimestamp(reset, timezone.utc) if isinstance(reset, (int, float)) and reset > time.time() else None
            return Transient(f"Mastodon rate limit hit for {self.account} while {what}", at)
        if isinstance(exc, errors.MastodonAPIError):
            status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            said = redact(str(exc.args[3] if len(exc.args) > 3 and exc.args[3] else (exc.args[2] if len(exc.args) > 2 else exc)))
            if isinstance(exc, errors.MastodonServerError) or status >= 500:
                if publishing:
                    return Ambiguous(f"Mastodon failed ({status}) while {what} for {self.account}: {said}; a retry within an hour with the same "
                                     "Idempotency-Key is safe, so 'campaigner reconcile' or the next run settles it")
                return Transient(f"Mastodon failed ({status}) while {what} for {self.account}: {said}")
            if status in (401, 403):
                return Permanent(f"Mastodon refused the token for {self.account} ({status}: {said}): check {env_name(self.account, 'ACCESS_TOKEN')}, "
                                 f"a token with the scopes {SCOPES} (see README: Mastodon)")
            if status == 422:
                return Permanent(f"Mastodon refused {what} for {self.account}: {said}")
            if status == 0 and publishing:  # a 2xx Mastodon.py could not read
                return Ambiguous(f"Mastodon answered {what} for {self.account} with something unreadable: the post may be out ({redact(str(exc))[:200]})")
            return Permanent(f"Mastodon refused {what} for {self.account} ({status}): {said}")
        raise exc


def _get(obj: Any, key: str) -> Any:
    """A field of a Mastodon.py answer (an AttribAccessDict) or of a plain dict."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _html_text(html: str) -> str:
    """A status's HTML content as its text: paragraphs and line breaks kept, tags dropped."""
    import html as html_module

    text = re.sub(r"<br\s*/?>", "\n", html)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return html_module.unescape(re.sub(r"<[^>]+>", "", text))


def _plain(text: str) -> str:
    """A text compared by its words only: Mastodon rewrites links and spacing in its HTML."""
    return " ".join(_URL.sub("<link>", text).split())
