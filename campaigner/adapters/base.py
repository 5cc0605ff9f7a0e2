"""The adapter contract: what the publishing engine hands a platform and what it gets back.

Adapters are the only modules that import a platform SDK, and they import it inside methods so
that `plan`, `validate` and `--help` can read an adapter's capabilities without paying for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, NamedTuple, Sequence

from campaigner.errors import Permanent

# Records are NamedTuples: `plan` and `validate` import this module to read capabilities, and a
# frozen dataclass costs about a millisecond to create at import.


class MediaItem(NamedTuple):
    """An image to attach, already checked to exist; `alt` is its alternative text."""

    path: Path
    alt: str | None = None


class Image(NamedTuple):
    """An image read and checked (`Adapter.load_images`) before anything is sent."""

    name: str
    data: bytes
    mime: str
    alt: str | None  # fitted to the platform's limit (`Adapter.fit_alt`); None without alt text


# Image types by MIME type, in the order messages list them.
IMAGE_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP", "image/bmp": "BMP", "image/tiff": "TIFF"}


class Message(NamedTuple):
    """One request's worth of content: a whole post, or one part of a thread."""

    text: str
    idempotency_key: str
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    link_title: str | None = None  # a link card's title and description, from the event's vars (Bluesky)
    link_description: str | None = None
    reply_to: str | None = None  # remote id of the previous part of a thread
    language: str | None = None  # the text's language (BCP 47), for platforms that take it
    subject: str | None = None  # for addressed channels (email): the subject line
    recipient: tuple[str, str] | None = None  # for addressed channels: (display name, address)


class Receipt(NamedTuple):
    """Proof of publication: the platform's id for the post and a link a person can open."""

    remote_id: str
    url: str


class WireRequest(NamedTuple):
    """A request an adapter would send, for `post --dry-run`; never holds a secret."""

    method: str
    url: str
    body: Mapping[str, Any] = {}
    files: tuple[str, ...] = ()

    def __str__(self) -> str:
        import json

        files = f" files={list(self.files)}" if self.files else ""
        return f"{self.method} {self.url} {json.dumps(dict(self.body), ensure_ascii=False)}{files}"


class AccountCheck(NamedTuple):
    """The result of verifying one account live (`campaigner accounts check`)."""

    ok: bool
    detail: str


class RateLimit(NamedTuple):
    """At most `posts` created per `window`, counted per `per` (an account, a chat, an app)."""

    posts: int
    window: timedelta
    per: str = "account"


class Pricing(NamedTuple):
    """What the platform bills per post created; an account's `pricing:` overrides the figures."""

    post: float
    post_with_url: float
    source: str  # where the default figures come from, for plan's cost line
    currency: str = "USD"


def _has_url(text: str) -> bool:
    """Whether a text holds a link, as a billing rule sees it (a scheme or www.)."""
    import re

    return re.search(r"https?://|\bwww\.", text, re.IGNORECASE) is not None


class Adapter:
    """Base class for platform adapters; subclasses declare their capabilities as class attributes.

    `validate`, `plan` and `post` read these without a network call and without importing an SDK;
    no module outside `adapters/` names a platform.
    """

    platform: ClassVar[str] = ""
    label: ClassVar[str] = ""  # the platform's name in messages: "X", "Facebook"
    # How text is counted: a rule named in textlimits.RULES, or a callable text -> length.
    counts: ClassVar[str | Callable[[str], int]] = "chars"
    max_length: ClassVar[int] = 0
    caption_length: ClassVar[int | None] = None  # the limit on a text sent with images, where it differs
    max_bytes: ClassVar[int | None] = None  # a second limit, in UTF-8 bytes, where the platform has one
    max_images: ClassVar[int] = 0
    max_image_bytes: ClassVar[int | None] = None
    image_types: ClassVar[frozenset[str]] = frozenset()  # MIME types accepted in a post
    alt_text: ClassVar[bool] = False  # whether images carry their alt text to the platform
    max_alt_length: ClassVar[int | None] = None
    supports_threads: ClassVar[bool] = False
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    pricing: ClassVar[Pricing | None] = None
    # Whether a repeated create with the same idempotency key returns the first post instead of a
    # second one, and for how long the platform remembers the key (None: for ever).
    idempotent: ClassVar[bool] = False
    idempotency_window: ClassVar[timedelta | None] = None
    # How a post whose outcome is unknown can be looked up on the platform (`find`): "key" (by its
    # idempotency key: definitive), "text" (among the account's posts since the claim, by text), or
    # None (the platform cannot tell; `lookup_note` says why). `lookup_costs`: reading is billed.
    lookup: ClassVar[str | None] = None
    lookup_costs: ClassVar[bool] = False
    lookup_note: ClassVar[str] = "campaigner cannot read this platform's posts back"
    # Sets of credential keys, any one of which is enough (e.g. OAuth 1.0a or an OAuth 2 token).
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # Keys read when set but never required (e.g. an app token that lets `accounts check` see expiry).
    optional_credentials: ClassVar[tuple[str, ...]] = ()
    # Other platforms whose templates (<kind>/<platform>.<lang>.j2) this one uses when it has none of
    # its own, before the language's <kind>/<lang>.j2: a short platform borrows the short texts.
    template_fallbacks: ClassVar[tuple[str, ...]] = ()
    # Account keys this platform accepts in calendar.yaml besides `platform` and `languages`.
    account_options: ClassVar[tuple[str, ...]] = ()
    required_options: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        account: str,
        options: Mapping[str, Any],
        credentials: Mapping[str, str],
        session: Any = None,
    ):
        self.account = account
        self.options = dict(options)
        self.credentials = dict(credentials)
        self.session = session
        try:
            self.timeout = http_timeout(self.options)
        except ValueError as exc:
            from campaigner.errors import ConfigError

            raise ConfigError(f"account {account}: timeout: {exc}") from None

    # -- capabilities that depend on an account's options (no network) ---------------------

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(option, what is wrong) for each account option this platform cannot use."""
        try:
            http_timeout(options)
        except ValueError as exc:
            return [("timeout", str(exc))]
        return []

    @classmethod
    def text_limit(cls, options: Mapping[str, Any]) -> int:
        """The longest text one post may have on this account."""
        return cls.max_length

    @classmethod
    def measure(cls, text: str, options: Mapping[str, Any]) -> int:
        """A text's length as the platform counts it."""
        from campaigner import textlimits

        return textlimits.measure(cls.counts, text)

    @classmethod
    def fits(cls, text: str, options: Mapping[str, Any]) -> bool:
        """Whether one post may carry this text: within the length limit (and the byte limit, if any)."""
        return cls.measure(text, options) <= cls.text_limit(options) and (cls.max_bytes is None or len(text.encode("utf-8")) <= cls.max_bytes)

    @classmethod
    def split(cls, text: str, options: Mapping[str, Any], *, thread: bool, images: int) -> tuple[str, ...] | None:
        """The parts a text is sent in when one request cannot carry it (a thread), or None.

        The default splits a text over the limit into numbered replies when the event asks for a
        thread and the platform has threads; None also when no split can fit (reported as too long).
        """
        if not thread or not cls.supports_threads or cls.measure(text, options) <= cls.text_limit(options):
            return None
        from campaigner import textlimits

        try:
            parts = tuple(textlimits.split_thread(text, cls.text_limit(options), lambda part: cls.measure(part, options)))
        except ValueError:  # an unbreakable run (a link) longer than the limit
            return None
        return parts if len(parts) > 1 else None

    @classmethod
    def price(cls, text: str, options: Mapping[str, Any]) -> float | None:
        """The estimated price of creating one post with this text, or None where posting is free."""
        if cls.pricing is None:
            return None
        prices = {"post": cls.pricing.post, "post_with_url": cls.pricing.post_with_url, **(options.get("pricing") or {})}
        return float(prices["post_with_url"] if _has_url(text) else prices["post"])

    # -- the network -----------------------------------------------------------------------

    def open(self) -> None:
        """Get ready to send (log in, connect), before the engine claims anything for this account.

        Raise Transient or Permanent when that fails: nothing has been claimed, so the account's
        posts simply stay pending. Most HTTP platforms need nothing here.
        """

    def close(self) -> None:
        """Release what `open` or `publish` set up (a mail session); never raises."""

    def load_images(self, media: Sequence[MediaItem]) -> list[Image]:
        """Read a post's images and check them by this platform's capabilities (count, type, size),
        before any request: each problem is Permanent, with what to change."""
        if len(media) > self.max_images:
            raise Permanent(f"{self.label} takes at most {self.max_images} images per post; this post for {self.account} has {len(media)}: remove some")
        names = [name for mime, name in IMAGE_NAMES.items() if mime in self.image_types]
        images = []
        for item in media:
            path = Path(item.path)
            try:
                size = path.stat().st_size  # before reading: a huge file is refused unread
                if self.max_image_bytes is not None and size > self.max_image_bytes:
                    raise Permanent(f"image {path} is {size:,} bytes; {self.label} takes images up to {self.max_image_bytes:,} bytes: make it smaller")
                data = path.read_bytes()
            except OSError as exc:
                raise Permanent(f"image {path} for {self.account} cannot be read: {exc.strerror or exc}") from exc
            mime = image_type(data[:12])
            if mime not in self.image_types:
                raise Permanent(f"{path} is not a {', '.join(names)} image, the types {self.label} takes")
            images.append(Image(path.name, data, mime, self.fit_alt(item.alt) if item.alt and self.alt_text else None))
        return images

    def fit_alt(self, alt: str) -> str:
        """Alt text cut to the platform's limit (code points); an adapter may cut more carefully."""
        return alt if self.max_alt_length is None else alt[: self.max_alt_length]

    def publish(self, message: Message) -> Receipt:
        """Send one message; return a Receipt or raise Transient, Permanent or Ambiguous."""
        raise NotImplementedError

    def find(self, message: Message, since: datetime) -> Receipt | None:
        """The post this message made, if the platform has it (see `lookup`), else None; raises
        Transient or Permanent when the platform cannot be asked."""
        raise NotImplementedError

    def describe(self, message: Message) -> list[WireRequest]:
        """The requests `publish` would send, without sending them or showing secrets."""
        raise NotImplementedError

    def check(self) -> AccountCheck:
        """Verify the credentials live, e.g. by asking the platform who they belong to."""
        raise NotImplementedError

    def describe_check(self) -> list[WireRequest]:
        """The requests `check` would send (`accounts check --dry-run`), without secrets."""
        return []

    def __repr__(self) -> str:  # never show credentials
        return f"<{type(self).__name__} account={self.account!r}>"


# Helpers shared by every adapter. Like the adapters, they import requests only when called.

# Seconds to connect, seconds to wait for the answer (between its bytes). Short, because a platform
# that hangs is waited for once per account per run: the engine stops an account after a timeout,
# so a run never outlasts the cron interval. An account's `timeout:` changes them.
DEFAULT_TIMEOUT = (5.0, 15.0)
HTTP_TIMEOUT = DEFAULT_TIMEOUT  # the defaults' old name
MAX_TIMEOUT = 600.0
# Account options every platform takes, besides its own.
COMMON_OPTIONS = ("timeout",)


def http_timeout(options: Mapping[str, Any]) -> tuple[float, float]:
    """(connect, read) seconds from an account's `timeout:` (seconds to wait for an answer, or
    {connect, read}); raises ValueError with what to write instead."""
    value = options.get("timeout")
    connect, read = DEFAULT_TIMEOUT
    if value is None:
        return connect, read
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"connect", "read"})
        if unknown:
            raise ValueError(f"unknown key '{unknown[0]}': write timeout: {{connect: 5, read: 15}} or timeout: 15")
        connect = _seconds(value.get("connect", connect))
        read = _seconds(value.get("read", read))
        return connect, read
    return connect, _seconds(value)


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected seconds such as 15, got {value!r}")
    if not 0 < value <= MAX_TIMEOUT:
        raise ValueError(f"{value} s: a timeout must be more than 0 and at most {MAX_TIMEOUT:g} s")
    return float(value)


def image_type(head: bytes) -> str | None:
    """The MIME type of an image from its first 12 bytes (JPEG, PNG, GIF, WebP, BMP, TIFF), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:2] == b"BM":
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def reached_platform(exc: BaseException) -> bool:
    """Whether a request that failed with `exc` may have reached the platform.

    False only for failures while connecting (connect timeout, refused, DNS, proxy): nothing was
    sent. A read timeout, a connection dropped after sending or any unknown cause may have
    delivered the request, so a publishing call that failed that way is Ambiguous.
    """
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError  # refused and DNS errors are ConnectTimeoutErrors

    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = exc.args[0]
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return not isinstance(reason, ConnectTimeoutError)
    return True


def connection_problem(exc: BaseException, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> str:
    """A short, secret-free description of a failed request (exception texts can hold URLs with tokens)."""
    import requests
    from urllib3.exceptions import MaxRetryError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout[0]:g} s"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"no answer within {timeout[1]:g} s"
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, BaseException):
        return f"{type(exc).__name__}: {type(reason).__name__}"
    return type(exc).__name__


class _RedactSecrets:
    """A logging filter that scrubs every remembered credential from a record."""

    def filter(self, record: Any) -> bool:
        from campaigner.credentials import redact

        text = record.getMessage()
        clean = redact(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_REDACT_SECRETS = _RedactSecrets()


def redact_library_logs(*logger_names: str) -> None:
    """Scrub secrets from SDK loggers that print them at DEBUG (tweepy logs its Bearer header)."""
    import logging

    for name in logger_names:
        logger = logging.getLogger(name)
        if _REDACT_SECRETS not in logger.filters:
            logger.addFilter(_REDACT_SECRETS)
