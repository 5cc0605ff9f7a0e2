"""The adapter contract: what the publishing engine hands a platform and what it gets back.

Adapters are the only modules that import a platform SDK, and they import it inside methods so
that `plan`, `validate` and `--help` can read an adapter's capabilities without paying for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True)
class MediaItem:
    """An image to attach, already checked to exist; `alt` is its alternative text."""

    path: Path
    alt: str | None = None


@dataclass(frozen=True)
class Message:
    """One request's worth of content: a whole post, or one part of a thread."""

    text: str
    idempotency_key: str
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    reply_to: str | None = None  # remote id of the previous part of a thread


@dataclass(frozen=True)
class Receipt:
    """Proof of publication: the platform's id for the post and a link a person can open."""

    remote_id: str
    url: str


@dataclass(frozen=True)
class WireRequest:
    """A request an adapter would send, for `post --dry-run`; never holds a secret."""

    method: str
    url: str
    body: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def __str__(self) -> str:
        import json

        files = f" files={list(self.files)}" if self.files else ""
        return f"{self.method} {self.url} {json.dumps(dict(self.body), ensure_ascii=False)}{files}"


@dataclass(frozen=True)
class AccountCheck:
    """The result of verifying one account live (`campaigner accounts check`)."""

    ok: bool
    detail: str


class Adapter:
    """Base class for platform adapters; subclasses declare their capabilities as class attributes."""

    platform: ClassVar[str] = ""
    max_length: ClassVar[int] = 0
    counts: ClassVar[str] = "chars"  # "x-weighted" | "chars" | "graphemes"
    max_images: ClassVar[int] = 0
    supports_threads: ClassVar[bool] = False
    # Sets of credential keys, any one of which is enough (e.g. OAuth 1.0a or an OAuth 2 token).
    credential_sets: ClassVar[tuple[tuple[str, ...], ...]] = ()
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

    def publish(self, message: Message) -> Receipt:
        """Send one message; return a Receipt or raise Transient, Permanent or Ambiguous."""
        raise NotImplementedError

    def describe(self, message: Message) -> list[WireRequest]:
        """The requests `publish` would send, without sending them or showing secrets."""
        raise NotImplementedError

    def check(self) -> AccountCheck:
        """Verify the credentials live, e.g. by asking the platform who they belong to."""
        raise NotImplementedError

    def __repr__(self) -> str:  # never show credentials
        return f"<{type(self).__name__} account={self.account!r}>"
