"""X (Twitter) API v2 through tweepy 4.17: posts, threads, images with alt text.

Posts go through tweepy's `Client.create_tweet`; images go to the v2 media endpoints directly,
because tweepy 4.17 only knows the retired v1.1 upload. Every failure becomes Transient,
Permanent or Ambiguous; only the post itself can be Ambiguous, since a lost image upload leaves
at most an unused media object behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from campaigner.adapters.base import (
    Image,
    COMMON_OPTIONS,
    AccountCheck,
    Adapter,
    Message,
    Pricing,
    RateLimit,
    Receipt,
    WireRequest,
    connection_problem,
    reached_platform,
    redact_library_logs,
)
from campaigner.credentials import env_name, missing_message, redact, remember
from campaigner.errors import Ambiguous, Permanent, PublishFailure, Transient

LOGGER = "campaigner.adapters.x"

TWEETS_URL = "https://api.twitter.com/2/tweets"  # tweepy's host; api.x.com serves the same API
USERS_ME_URL = "https://api.twitter.com/2/users/me"
MEDIA_UPLOAD_URL = "https://api.x.com/2/media/upload"
MEDIA_METADATA_URL = "https://api.x.com/2/media/metadata"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_ALT_TEXT = 1000  # characters (code points), CreateMediaMetadataMetadataAltText.maxLength
OAUTH1_KEYS = ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_SECRET")
# SDK loggers that print the Bearer header, consumer key or access token at DEBUG.
_CHATTY_LOGGERS = ("tweepy.client", "requests_oauthlib.oauth1_auth", "oauthlib.oauth1.rfc5849")


def tweet_body(text: str, media_ids: Sequence[str] = (), reply_to: str | None = None) -> dict[str, Any]:
    """The JSON body tweepy's `create_tweet` sends for these arguments, keys in its order."""
    body: dict[str, Any] = {}
    if media_ids:
        body["media"] = {"media_ids": [str(m) for m in media_ids]}
    if reply_to is not None:
        body["reply"] = {"in_reply_to_tweet_id": str(reply_to)}
    body["text"] = text
    return body


def alt_text_body(media_id: str, alt: str) -> dict[str, Any]:
    """The JSON body of POST /2/media/metadata that sets an image's alt text."""
    return {"id": media_id, "metadata": {"alt_text": {"text": fit_alt_text(alt)}}}


def fit_alt_text(alt: str) -> str:
    """Alt text cut to X's 1000 characters at a grapheme boundary (never inside a Khmer cluster)."""
    if len(alt) <= MAX_ALT_TEXT:
        return alt
    import regex

    kept, size = [], 0
    for grapheme in regex.findall(r"\X", alt):
        if size + len(grapheme) > MAX_ALT_TEXT - 1:  # room for the ellipsis
            break
        kept.append(grapheme)
        size += len(grapheme)
    return "".join(kept) + "…"




class _TimedSession:
    """Puts the adapter's timeouts on every request: tweepy's Client sets none."""

    def __init__(self, session: Any, timeout: tuple[float, float]):
        self.session = session
        self.timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Session.request with the account's timeouts unless the caller chose one."""
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, url, **kwargs)


class XAdapter(Adapter):
    """Publishes to one X account with OAuth 1.0a user context or an OAuth 2 user token."""

    platform = "x"
    label = "X"
    counts = "x-weighted"  # twitter-text v3: textlimits.x_weighted_length
    max_length = 280
    max_images = 4
    max_image_bytes = MAX_IMAGE_BYTES
    image_types = IMAGE_TYPES
    alt_text = True
    max_alt_length = MAX_ALT_TEXT
    supports_threads = True
    rate_limits = (RateLimit(100, timedelta(minutes=15), "user"),)  # POST /2/tweets, per user
    pricing = Pricing(0.015, 0.20, "X's 2026 list prices")  # pay per use: per post created, more with a URL
    credential_sets = (("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_SECRET"), ("BEARER_TOKEN",))
    account_options = COMMON_OPTIONS + ("username",)
    lookup = "text"  # the user's posts since the claim
    lookup_costs = True  # X bills every post read under pay-per-use pricing

    def __init__(self, account: str, options: Mapping[str, Any], credentials: Mapping[str, str], session: Any = None):
        super().__init__(account, options, credentials, session)
        for value in self.credentials.values():
            remember(value)  # so redact() scrubs it from anything X echoes back
        self._username: str | None = str(self.options.get("username") or "").lstrip("@") or None
        self._username_looked_up = False
        self._client: Any = None
        self._http: _TimedSession | None = None

    # -- publish ---------------------------------------------------------------------------

    def publish(self, message: Message) -> Receipt:
        """Upload the images (with alt text), then post; return the post's id and link."""
        import requests
        import tweepy

        images = self.load_images(message.media)
        client = self._tweepy()
        media_ids = [self._upload(image) for image in images]
        try:
            answer = client.create_tweet(
                text=message.text,
                media_ids=media_ids or None,
                in_reply_to_tweet_id=message.reply_to,
                user_auth=self._oauth1,
            )
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise self._failure(exc, "posting", publishing=True) from exc
        post_id = (answer.get("data") or {}).get("id") if isinstance(answer, dict) else None
        if not post_id:
            raise Ambiguous(f"X accepted the post for {self.account} but answered without its id: check the account")
        return Receipt(str(post_id), self._post_url(str(post_id)))


    def fit_alt(self, alt: str) -> str:
        """Cut at a grapheme boundary, with an ellipsis, never inside a Khmer cluster."""
        return fit_alt_text(alt)

    def _upload(self, image: Image) -> str:
        """POST /2/media/upload (multipart), then its alt text; returns the media id."""
        import requests
        import tweepy

        http = self._session()
        try:
            response = http.request(
                "POST",
                MEDIA_UPLOAD_URL,
                data={"media_category": "tweet_image"},
                files={"media": (image.name, image.data, image.mime)},
                **self._media_auth(),
            )
            _raise_for_status(response)
            answer = response.json()
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise self._failure(exc, f"uploading {image.name}", publishing=False) from exc
        media_id = (answer.get("data") or {}).get("id") if isinstance(answer, dict) else None
        if not media_id:
            said = redact(str(answer.get("errors") if isinstance(answer, dict) else answer))[:300]
            raise Permanent(f"X took the upload of {image.name} for {self.account} but gave no media id: {said}")
        if image.alt:
            try:
                response = http.request("POST", MEDIA_METADATA_URL, json=alt_text_body(str(media_id), image.alt), **self._media_auth())
                _raise_for_status(response)
            except (tweepy.TweepyException, requests.RequestException) as exc:
                raise self._failure(exc, f"setting the alt text of {image.name}", publishing=False) from exc
        return str(media_id)

    def _post_url(self, post_id: str) -> str:
        username = self._username or self._lookup_username()
        if username:
            return f"https://x.com/{username}/status/{post_id}"
        return f"https://x.com/i/web/status/{post_id}"

    def _lookup_username(self) -> str | None:
        """GET /2/users/me once per adapter; never raises, because the post is already out."""
        import requests
        import tweepy

        if self._username_looked_up:
            return None
        self._username_looked_up = True
        try:
            self._username = self._tweepy().get_me(user_auth=self._oauth1)["data"]["username"]
        except (tweepy.TweepyException, requests.RequestException, KeyError, TypeError) as exc:
            import logging

            logging.getLogger(LOGGER).warning("%s: could not look up the X username (%s); links use x.com/i/web/status/<id>", self.account, redact(type(exc).__name__))
        return self._username

    # -- describe and check ----------------------------------------------------------------

    def describe(self, message: Message) -> list[WireRequest]:
        """The uploads, alt texts and the post `publish` would send; no network, no secrets."""
        wire, media_ids = [], []
        for number, item in enumerate(message.media, 1):
            media_id = f"<media {number}>"
            wire.append(WireRequest("POST", MEDIA_UPLOAD_URL, {"media_category": "tweet_image"}, (Path(item.path).name,)))
            if item.alt:
                wire.append(WireRequest("POST", MEDIA_METADATA_URL, alt_text_body(media_id, item.alt)))
            media_ids.append(media_id)
        wire.append(WireRequest("POST", TWEETS_URL, tweet_body(message.text, media_ids, message.reply_to)))
        return wire

    def describe_check(self) -> list[WireRequest]:
        """GET /2/users/me."""
        return [WireRequest("GET", USERS_ME_URL)]

    def check(self) -> AccountCheck:
        """GET /2/users/me: whose credentials these are."""
        import requests
        import tweepy

        try:
            answer = self._tweepy().get_me(user_auth=self._oauth1)
        except PublishFailure as failure:
            return AccountCheck(False, failure.message)
        except (tweepy.TweepyException, requests.RequestException) as exc:
            return AccountCheck(False, self._failure(exc, "checking the account", publishing=False).message)
        data = (answer.get("data") or {}) if isinstance(answer, dict) else {}
        username, user_id = data.get("username"), data.get("id")
        if not username:
            return AccountCheck(False, f"X answered the account check for {self.account} without a username")
        configured = str(self.options.get("username") or "").lstrip("@")
        if configured and configured.lower() != username.lower():
            return AccountCheck(False, f"the credentials belong to @{username} (id {user_id}), but calendar.yaml says username: {configured}; fix one of them")
        self._username = username
        return AccountCheck(True, f"@{username} (id {user_id})")

    # -- plumbing --------------------------------------------------------------------------

    @property
    def _oauth1(self) -> bool:
        return all(self.credentials.get(k) for k in OAUTH1_KEYS)

    def _require_credentials(self) -> None:
        if not self._oauth1 and not self.credentials.get("BEARER_TOKEN"):
            raise Permanent(missing_message(self.account, self.credential_sets, self.credentials))

    def _session(self) -> _TimedSession:
        if self._http is None:
            if self.session is None:
                import requests

                self.session = requests.Session()
            self._http = _TimedSession(self.session, self.timeout)
        return self._http

    def find(self, message: Message, since: datetime) -> Receipt | None:
        """The account's post with this text created since `since` (GET /2/users/:id/tweets), or None."""
        import requests
        import tweepy

        client = self._tweepy()
        try:
            me = client.get_me(user_auth=self._oauth1)["data"]
            self._username = self._username or me.get("username")
            answer = client.get_users_tweets(me["id"], start_time=since.strftime("%Y-%m-%dT%H:%M:%SZ"), max_results=100,
                                             exclude=["retweets"], user_auth=self._oauth1)
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise self._failure(exc, "reading the account's posts", publishing=False) from exc
        wanted = " ".join(message.text.split())
        for post in (answer.get("data") or []) if isinstance(answer, dict) else []:
            # X shortens every link to t.co in the text it returns: compare with the links taken out.
            if _unlinked(str(post.get("text") or "")) == _unlinked(wanted):
                return Receipt(str(post["id"]), self._post_url(str(post["id"])))
        return None

    def _tweepy(self) -> Any:
        """tweepy's Client on our session: no sleeping on rate limits, raw dicts back."""
        if self._client is None:
            import tweepy

            self._require_credentials()
            redact_library_logs(*_CHATTY_LOGGERS)
            c = self.credentials
            if self._oauth1:
                client = tweepy.Client(
                    consumer_key=c["API_KEY"], consumer_secret=c["API_SECRET"],
                    access_token=c["ACCESS_TOKEN"], access_token_secret=c["ACCESS_SECRET"],
                    return_type=dict, wait_on_rate_limit=False,
                )
            else:
                client = tweepy.Client(bearer_token=c["BEARER_TOKEN"], return_type=dict, wait_on_rate_limit=False)
            client.session = self._session()
            self._client = client
        return self._client

    def _media_auth(self) -> dict[str, Any]:
        """OAuth 1.0a signing or the OAuth 2 Bearer header for the media endpoints."""
        self._require_credentials()
        c = self.credentials
        if self._oauth1:
            from requests_oauthlib import OAuth1

            # decoding=None as tweepy does: the default re-encodes every header of the request to bytes
            return {"auth": OAuth1(c["API_KEY"], c["API_SECRET"], c["ACCESS_TOKEN"], c["ACCESS_SECRET"], decoding=None)}
        return {"headers": {"Authorization": f"Bearer {c['BEARER_TOKEN']}"}}

    def _failure(self, exc: Exception, what: str, *, publishing: bool) -> PublishFailure:
        """Classify a tweepy HTTP error or a requests error raised while `what`."""
        from tweepy import errors

        if not isinstance(exc, errors.HTTPException):
            problem = connection_problem(exc, self.timeout)
            if publishing and reached_platform(exc):
                return Ambiguous(f"the request may have reached X while {what} for {self.account} ({problem}): look at the account before trying again")
            return Transient(f"could not reach X while {what} for {self.account} ({problem}); nothing was posted")
        status = exc.response.status_code
        said = redact("; ".join(str(m) for m in exc.api_messages) or f"{status} {exc.response.reason}")
        if isinstance(exc, errors.TooManyRequests):
            retry_after = _rate_limit_reset(exc)
            until = f"; the limit resets at {retry_after:%Y-%m-%d %H:%M:%S} UTC" if retry_after else ""
            return Transient(f"X rate limit hit for {self.account} while {what}{until}", retry_after)
        if isinstance(exc, errors.TwitterServerError):
            if publishing:  # X may have created the post before failing, and it cannot deduplicate a retry
                return Ambiguous(f"X had a server error ({status}) while {what} for {self.account}: {said}; the post may be out: look at the account before trying again")
            return Transient(f"X had a server error ({status}) while {what} for {self.account}: {said}")
        if isinstance(exc, errors.Unauthorized):
            keys = OAUTH1_KEYS if self._oauth1 else ("BEARER_TOKEN",)
            names = ", ".join(env_name(self.account, k) for k in keys)
            return Permanent(f"X rejected the credentials for {self.account} ({said}): check {names} (see README: Accounts)")
        if isinstance(exc, errors.Forbidden) and any("duplicate content" in str(m).lower() for m in exc.api_messages):
            return Permanent(f"X refused a duplicate post for {self.account}: {said}", duplicate=True)
        return Permanent(f"X refused {what} for {self.account} ({status}): {said}")


def _unlinked(text: str) -> str:
    """A text's words with every URL as one mark, as X's t.co links and ours compare."""
    import re

    return " ".join(re.sub(r"https?://\S+", "<link>", text).split())


def _raise_for_status(response: Any) -> None:
    """Raise the tweepy error tweepy itself would raise for this status, so one classifier serves all."""
    from tweepy import errors

    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset", "")
        raise errors.TooManyRequests(response, reset_time=int(reset) if reset.isdigit() else None)
    if status >= 500:
        raise errors.TwitterServerError(response)
    by_status = {400: errors.BadRequest, 401: errors.Unauthorized, 403: errors.Forbidden, 404: errors.NotFound}
    raise by_status.get(status, errors.HTTPException)(response)


def _rate_limit_reset(exc: Any) -> datetime | None:
    """When the exhausted limit resets: the 15-minute window, or a 24-hour one when that is at 0."""
    headers = exc.response.headers
    reset = getattr(exc, "reset_time", None)  # tweepy >= 4.17 reads x-rate-limit-reset itself
    if reset is None and headers.get("x-rate-limit-reset", "").isdigit():
        reset = int(headers["x-rate-limit-reset"])
    resets = [reset] if reset else []
    for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if headers.get(f"{prefix}-remaining") == "0" and headers.get(f"{prefix}-reset", "").isdigit():
            resets.append(int(headers[f"{prefix}-reset"]))
    return datetime.fromtimestamp(max(resets), timezone.utc) if resets else None
