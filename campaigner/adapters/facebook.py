"""Facebook Pages through facebook-sdk 3.1 on a current Graph API version.

A text or link post is one POST /{page}/feed. One image is one POST /{page}/photos with a
caption. Several images are uploaded unpublished, then attached to one POST /{page}/feed.
Each photo carries its alt text as `alt_text_custom`, the Photo node's "accessible alternative
description for an image" (developers.facebook.com/docs/graph-api/reference/photo/, Creating);
without it Facebook writes an automatic one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from campaigner.adapters.base import (
    Image,
    COMMON_OPTIONS,
    AccountCheck,
    Adapter,
    Message,
    Receipt,
    WireRequest,
    connection_problem,
    reached_platform,
    redact_library_logs,
)
from campaigner.credentials import env_name, missing_message, redact, remember
from campaigner.errors import Ambiguous, ConfigError, Permanent, PublishFailure, Transient

GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v24.0"
# Throttling and temporary failures: 1 unknown, 2 service, 4 app, 17 user, 32 Page, 341 app limit, 613 custom.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
THROTTLING_CODES = frozenset({4, 17, 32, 341, 613})  # refused before any work: safe to retry
UNEXPECTED_CODES = frozenset({1, 2})  # "an unknown / unexpected error": the work may have been done
PERMISSIONS = "pages_manage_posts and pages_read_engagement"
MAX_IMAGE_BYTES = 10_000_000  # the Photo reference: "a photo must be less than 10MB in size"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"})
# Rate-limit headers whose JSON may carry estimated_time_to_regain_access (minutes).
_USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")


def normalise_graph_version(value: Any) -> str:
    """`24`, `24.0`, `"v24.0"` -> `"v24.0"`; raises ValueError for anything else."""
    match = re.fullmatch(r"v?(\d+)(?:\.(\d+))?", str(value).strip())
    if not match:
        raise ValueError(f"'{value}' is not a Graph API version; write e.g. v24.0")
    return f"v{int(match[1])}.{int(match[2] or 0)}"


def text_with_link(message: Message) -> str:
    """The text of a photo post: photos take no `link` field, so the link goes into the text."""
    if message.link and message.link not in message.text:
        return f"{message.text}\n\n{message.link}" if message.text else message.link
    return message.text


def feed_fields(text: str, link: str | None = None, photo_ids: Sequence[str] = ()) -> dict[str, str]:
    """Form fields of POST /{page}/feed (access_token is added by facebook-sdk)."""
    fields = {"message": text}
    if link:
        fields["link"] = link
    # Graph's documented form: attached_media[0]={"media_fbid":"..."}. facebook-sdk hands a list
    # to requests, which would send each dict's keys, so the indexed fields are built here.
    for index, photo_id in enumerate(photo_ids):
        fields[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id}, separators=(",", ":"))
    return fields




def photo_fields(alt: str | None, **fields: str) -> dict[str, str]:
    """Form fields of POST /{page}/photos besides the file: the caption or published=false, and the alt text."""
    if alt:
        fields["alt_text_custom"] = alt
    return fields


class _NotGraphJSON(Exception):
    """An answer that is not a Graph API JSON document (an HTML error page from a proxy, say)."""

    def __init__(self, response: Any):
        super().__init__(f"HTTP {response.status_code}")
        self.status = response.status_code
        self.content_type = response.headers.get("content-type", "")


class _GraphTransport:
    """The session facebook-sdk sends through: keeps the last answer, refuses answers that are not JSON.

    facebook-sdk recognises errors only by a JSON `error` key: an HTML 502 page becomes a GraphAPIError
    without a code, and an answer without Content-Type a KeyError; both lose the HTTP status.
    """

    def __init__(self, session: Any, timeout: tuple[float, float]):
        self.session = session
        self.timeout = timeout
        self.last: Any = None

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Session.request, raising _NotGraphJSON unless the answer is a JSON document."""
        kwargs["timeout"] = self.timeout  # facebook-sdk passes its own; ours is the account's
        response = self.session.request(method, url, **kwargs)
        self.last = response
        if "json" not in response.headers.get("content-type", ""):
            raise _NotGraphJSON(response)
        try:
            response.json()
        except ValueError:
            raise _NotGraphJSON(response) from None
        return response


class FacebookAdapter(Adapter):
    """Publishes to one Facebook Page with a Page access token."""

    platform = "facebook"
    label = "Facebook"
    counts = "chars"
    max_length = 63206
    max_images = 10
    max_image_bytes = MAX_IMAGE_BYTES
    image_types = IMAGE_TYPES
    alt_text = True
    supports_threads = False
    credential_sets = (("PAGE_TOKEN",),)
    optional_credentials = ("APP_TOKEN",)
    account_options = COMMON_OPTIONS + ("page_id", "graph_version")
    required_options = ("page_id",)
    lookup = "text"  # the Page's posts since the claim, by text: Graph does not deduplicate

    @classmethod
    def option_problems(cls, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The base's checks, and graph_version."""
        problems = super().option_problems(options)
        if options.get("graph_version") is not None:
            try:
                normalise_graph_version(options["graph_version"])
            except ValueError as exc:
                problems.append(("graph_version", str(exc)))
        return problems

    def __init__(self, account: str, options: Mapping[str, Any], credentials: Mapping[str, str], session: Any = None):
        super().__init__(account, options, credentials, session)
        for value in self.credentials.values():
            remember(value)  # so redact() scrubs it from anything Facebook echoes back
        self.page_id = str(self.options.get("page_id") or "").strip()
        if not self.page_id:
            raise ConfigError(f"account {account}: a Facebook account needs page_id (the Page's numeric id)")
        try:
            self.graph_version = normalise_graph_version(self.options.get("graph_version") or DEFAULT_GRAPH_VERSION)
        except ValueError as exc:
            raise ConfigError(f"account {account}: graph_version: {exc}") from None
        self._graph: Any = None
        self._transport: _GraphTransport | None = None

    # -- publish ---------------------------------------------------------------------------

    def publish(self, message: Message) -> Receipt:
        """Post text, a link, one photo or several; return the post's id and link."""
        images = self.load_images(message.media)
        graph = self._graph_api()
        page = self.page_id
        if not images:
            fields = feed_fields(message.text, message.link)
            answer = self._call(lambda: graph.put_object(page, "feed", **fields), "posting", publishing=True)
            post_id = answer.get("id")
        elif len(images) == 1:
            image, caption = images[0], text_with_link(message)
            # caption is always sent, even empty: with no form fields facebook-sdk would put the token in the URL
            answer = self._call(
                lambda: graph.put_photo(image=(image.name, image.data, image.mime), album_path=f"{page}/photos", **photo_fields(image.alt, caption=caption)),
                "posting the photo",
                publishing=True,
            )
            post_id = answer.get("post_id") or answer.get("id")  # a photo's own id opens it too
        else:
            photo_ids = [self._unpublished_photo(graph, image) for image in images]
            fields = feed_fields(text_with_link(message), photo_ids=photo_ids)
            answer = self._call(lambda: graph.put_object(page, "feed", **fields), "posting", publishing=True)
            post_id = answer.get("id")
        if not post_id:
            raise Ambiguous(f"Facebook accepted the post for {self.account} but answered without its id: check the Page")
        return Receipt(str(post_id), f"https://www.facebook.com/{post_id}")

    def _unpublished_photo(self, graph: Any, image: Image) -> str:
        """Upload one photo of several with published=false; a lost answer leaves no post behind."""
        answer = self._call(
            lambda: graph.put_photo(image=(image.name, image.data, image.mime), album_path=f"{self.page_id}/photos",
                                    **photo_fields(image.alt, published="false")),
            f"uploading {image.name}",
            publishing=False,
        )
        if not answer.get("id"):
            raise Transient(f"Facebook took the upload of {image.name} for {self.account} but gave no photo id")
        return str(answer["id"])


    # -- finding a post whose outcome is unknown ------------------------------------------

    def find(self, message: Message, since: datetime) -> Receipt | None:
        """The Page's post with this text published since `since` (GET /{page}/posts), or None."""
        graph = self._graph_api()
        answer = self._call(lambda: graph.get_object(f"{self.page_id}/posts", fields="id,message,created_time,permalink_url",
                                                     since=str(int(since.timestamp())), limit="50"),
                            "reading the Page's posts", publishing=False)
        wanted = _words(text_with_link(message) if message.media else message.text)
        for post in answer.get("data") or []:
            if isinstance(post, dict) and post.get("id") and _words(str(post.get("message") or "")) in (wanted, _words(message.text)):
                return Receipt(str(post["id"]), str(post.get("permalink_url") or f"https://www.facebook.com/{post['id']}"))
        return None

    # -- describe and check ----------------------------------------------------------------

    def describe(self, message: Message) -> list[WireRequest]:
        """The Graph requests `publish` would send; the access token is left out."""
        base = f"{GRAPH_URL}/{self.graph_version}/{self.page_id}"
        names = [Path(item.path).name for item in message.media]
        alts = [item.alt or None for item in message.media]
        if not names:
            return [WireRequest("POST", f"{base}/feed", feed_fields(message.text, message.link))]
        if len(names) == 1:
            return [WireRequest("POST", f"{base}/photos", photo_fields(alts[0], caption=text_with_link(message)), (names[0],))]
        uploads = [WireRequest("POST", f"{base}/photos", photo_fields(alt, published="false"), (name,)) for name, alt in zip(names, alts)]
        photo_ids = [f"<photo {n}>" for n in range(1, len(names) + 1)]
        return uploads + [WireRequest("POST", f"{base}/feed", feed_fields(text_with_link(message), photo_ids=photo_ids))]

    def describe_check(self) -> list[WireRequest]:
        """The Page, the token's owner, and the token's expiry when an app token is set."""
        base = f"{GRAPH_URL}/{self.graph_version}"
        wire = [WireRequest("GET", f"{base}/{self.page_id}?fields=name"), WireRequest("GET", f"{base}/me?fields=id,name")]
        if self.credentials.get("APP_TOKEN"):
            wire.append(WireRequest("GET", f"{base}/debug_token?input_token=<{env_name(self.account, 'PAGE_TOKEN')}>",
                                    {"access_token": f"<{env_name(self.account, 'APP_TOKEN')}>"}))
        return wire

    def check(self) -> AccountCheck:
        """GET /{page}?fields=name, then GET /me to see that the token is that Page's own, then
        (with an app token) GET /debug_token for its expiry and permissions."""
        try:
            graph = self._graph_api()
            page = self._call(lambda: graph.get_object(self.page_id, fields="name"), "reading the Page", publishing=False)
            me = self._call(lambda: graph.get_object("me", fields="id,name"), "checking the token", publishing=False)
        except PublishFailure as failure:
            return AccountCheck(False, failure.message)
        name, page_id = page.get("name"), str(page.get("id", self.page_id))
        if str(me.get("id")) != page_id:
            return AccountCheck(False, (
                f"the token in {env_name(self.account, 'PAGE_TOKEN')} belongs to {me.get('name')} (id {me.get('id')}), "
                f"not to Page {name} (id {page_id}): posting as the Page needs that Page's access token"
            ))
        app_token = self.credentials.get("APP_TOKEN")
        if not app_token:
            # Graph reports a token's expiry only to /debug_token, which needs an app token.
            return AccountCheck(True, f"Page {name} (id {page_id}); the token works now (its expiry is not reported without an app token: "
                                      f"set {env_name(self.account, 'APP_TOKEN')} to APP_ID|APP_SECRET to see it)")
        try:
            debug = self._call(lambda: graph.request(f"{self.graph_version}/debug_token",
                                                     args={"input_token": self.credentials["PAGE_TOKEN"], "access_token": app_token}),
                               "reading the token's expiry", publishing=False)
        except PublishFailure as failure:
            return AccountCheck(True, f"Page {name} (id {page_id}); the token works now, but its expiry could not be read: {failure.message}")
        return _token_report(self.account, f"Page {name} (id {page_id})", debug.get("data") or {})

    # -- plumbing --------------------------------------------------------------------------

    def _graph_api(self) -> Any:
        """facebook-sdk's GraphAPI on our session, pointed at a current Graph version."""
        if self._graph is None:
            import facebook
            import requests

            token = self.credentials.get("PAGE_TOKEN")
            if not token:
                raise Permanent(missing_message(self.account, self.credential_sets, self.credentials))
            redact_library_logs("urllib3.connectionpool")  # GET URLs carry access_token
            self._transport = _GraphTransport(self.session if self.session is not None else requests.Session(), self.timeout)
            graph = facebook.GraphAPI(access_token=token, timeout=self.timeout, session=self._transport)
            # facebook-sdk 3.1.0 (2018, its last release) defaults to Graph v2.8, long retired, and its
            # constructor refuses any version after 3.1. Every call builds its URL from this attribute
            # ("https://graph.facebook.com/" + version + "/..."), so setting it afterwards works.
            graph.version = self.graph_version
            self._graph = graph
        return self._graph

    def _call(self, send: Callable[[], Any], what: str, *, publishing: bool) -> dict[str, Any]:
        """Run one facebook-sdk call and classify its failure; `publishing` marks the call that creates the post."""
        import facebook
        import requests

        try:
            answer = send()
        except facebook.GraphAPIError as exc:
            raise self._graph_failure(exc, what, publishing) from exc
        except _NotGraphJSON as exc:
            raise self._not_json_failure(exc, what, publishing) from exc
        except requests.RequestException as exc:
            problem = connection_problem(exc, self.timeout)
            if publishing and reached_platform(exc):
                raise Ambiguous(f"the request may have reached Facebook while {what} for {self.account} ({problem}): look at the Page before trying again") from exc
            raise Transient(f"could not reach Facebook while {what} for {self.account} ({problem}); nothing was posted") from exc
        return answer if isinstance(answer, dict) else {}

    def _graph_failure(self, exc: Any, what: str, publishing: bool) -> PublishFailure:
        error = exc.result.get("error") if isinstance(exc.result, dict) else None
        error = error if isinstance(error, dict) else {}
        code, subcode = exc.code, error.get("error_subcode")
        said = redact(str(exc.message))
        if error.get("error_user_msg") and error["error_user_msg"] not in said:
            said += f" ({redact(str(error['error_user_msg']))})"  # Facebook's own wording for people
        status = self._transport.last.status_code if self._transport and self._transport.last is not None else 0
        if publishing and code not in THROTTLING_CODES and (status >= 500 or code in UNEXPECTED_CODES):
            # Graph failed while handling the request that creates the post: it may have created it
            # first, and Graph does not deduplicate a retry. Throttling refusals come before any work.
            return Ambiguous(f"Facebook failed while {what} for {self.account} (HTTP {status or '?'}, code {code}): {said}; "
                             "the post may be out: look at the Page before trying again")
        if code in TRANSIENT_CODES or error.get("is_transient") is True:
            return Transient(f"Facebook is throttling or temporarily failing requests for {self.account} while {what} (code {code}): {said}", self._regain_access_at())
        if code == 190:
            return Permanent(f"the Page token for {self.account} has expired or been revoked: set a new one in {env_name(self.account, 'PAGE_TOKEN')} (Facebook: {said})")
        if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
            return Permanent(
                f"Facebook refused {what} for {self.account} for lack of a permission: the Page token needs {PERMISSIONS}, "
                f"granted by someone who can create content on the Page (Facebook, code {code}: {said})"
            )
        if code == 368:
            return Permanent(f"Facebook has temporarily blocked posting for {self.account} (code 368): {said}")
        if code == 506:
            return Permanent(f"Facebook refused a duplicate post for {self.account}: {said}", duplicate=True)
        detail = f"code {code}, subcode {subcode}" if subcode else f"code {code}"
        return Permanent(f"Facebook rejected {what} for {self.account} ({detail}): {said}")

    def _not_json_failure(self, exc: _NotGraphJSON, what: str, publishing: bool) -> PublishFailure:
        kind = exc.content_type.split(";")[0] or "no content type"
        said = f"Facebook answered HTTP {exc.status} ({kind}) instead of Graph API JSON while {what} for {self.account}"
        if exc.status >= 500 and publishing:
            return Ambiguous(f"{said}: the post may be out, look at the Page before trying again")
        if exc.status >= 500 or exc.status == 429:
            return Transient(f"{said}; it will be tried again")
        if 200 <= exc.status < 300:
            return Ambiguous(f"{said}: the post may be out, look at the Page") if publishing else Transient(said)
        return Permanent(said)

    def _regain_access_at(self) -> datetime | None:
        """When Facebook says access returns (estimated_time_to_regain_access, minutes), if it says."""
        response = self._transport.last if self._transport else None
        if response is None:
            return None
        minutes = 0
        for header in _USAGE_HEADERS:
            try:
                minutes = max(minutes, _regain_minutes(json.loads(response.headers.get(header) or "null")))
            except ValueError:
                continue
        return datetime.now(timezone.utc) + timedelta(minutes=minutes) if minutes else None


def _regain_minutes(usage: Any) -> int:
    """The largest estimated_time_to_regain_access anywhere in a usage header's JSON."""
    if isinstance(usage, list):
        return max((_regain_minutes(item) for item in usage), default=0)
    if not isinstance(usage, dict):
        return 0
    own = usage.get("estimated_time_to_regain_access")
    own = int(own) if isinstance(own, (int, float)) else 0
    return max([own] + [_regain_minutes(v) for v in usage.values() if isinstance(v, (dict, list))])


def _words(text: str) -> str:
    """A text compared by its words: Facebook may trim or fold its spacing."""
    return " ".join(text.split())


def _token_report(account: str, page: str, data: Mapping[str, Any]) -> AccountCheck:
    """What /debug_token says of a Page token: valid, when it expires, the permissions it lacks."""
    if data.get("is_valid") is False:
        said = redact(str((data.get("error") or {}).get("message") or "no reason given"))
        return AccountCheck(False, f"{page}: Facebook says the token in {env_name(account, 'PAGE_TOKEN')} is no longer valid ({said}): set a new one")
    expires = data.get("expires_at")
    if isinstance(expires, (int, float)) and expires > 0:
        when = datetime.fromtimestamp(expires, timezone.utc)
        left = when - datetime.now(timezone.utc)
        lifetime = f"the token expires {when:%Y-%m-%d %H:%M} UTC (in {left.days} days)" if left.days >= 1 else f"the token expires {when:%Y-%m-%d %H:%M} UTC, within a day"
    else:
        lifetime = "the token does not expire"
    missing = [p for p in ("pages_manage_posts", "pages_read_engagement") if p not in (data.get("scopes") or [p])]
    if missing:
        return AccountCheck(False, f"{page}: {lifetime}, but it lacks {' and '.join(missing)}: posting needs {PERMISSIONS}")
    ok = not (isinstance(expires, (int, float)) and expires > 0 and (datetime.fromtimestamp(expires, timezone.utc) - datetime.now(timezone.utc)).days < 7)
    return AccountCheck(ok, f"{page}; {lifetime}" + ("" if ok else f": set a new one in {env_name(account, 'PAGE_TOKEN')} before then"))
