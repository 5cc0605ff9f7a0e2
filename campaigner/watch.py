"""Watch the monitors' feeds: each new item matching a keyword becomes one draft condemnation in rapid.yaml.

Feed content is untrusted: titles and links only ever become template *variables* (never template
text), HTML is stripped, and a draft waits for a person's `campaigner approve`. Each feed is fetched
with a conditional GET and its own deadline, and one broken feed never stops the others.
"""

from __future__ import annotations

import calendar
import re
import time as _time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable, Iterator

from campaigner import __version__, rapid
from campaigner.calendar import Calendar, Feed, load_calendar
from campaigner.errors import ConfigError
from campaigner.render import UNTIL_APPROVED

USER_AGENT = f"campaigner/{__version__} (feed watcher of a campaign to ban landmines and cluster munitions)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_AGE = timedelta(days=30)
MAX_BYTES = 10 * 1024 * 1024
_KHMER = re.compile(r"[\u1780-\u17FF\u19E0-\u19FF]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))  # Khmer text often carries zero-width spaces


class FeedError(Exception):
    """A feed could not be fetched or read; the message says what happened."""


@dataclass(frozen=True)
class Item:
    """One feed entry, already cleaned: plain-text title and summary, its link and date."""

    key: str
    title: str
    summary: str
    link: str
    published: date | None


@dataclass
class FeedResult:
    """What one feed gave in this run."""

    feed: str
    status: str = "ok"  # ok | not-modified | failed
    error: str | None = None
    items: int = 0
    matched: int = 0
    drafted: list[tuple[str, Item]] = field(default_factory=list)  # (event id, item)
    known: int = 0  # matches seen in an earlier run, or already condemned by hand
    problems: list[str] = field(default_factory=list)  # matches that could not be drafted (they are retried)

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return {"feed": self.feed, "status": self.status, "error": self.error, "items": self.items, "matched": self.matched,
                "known": self.known, "problems": self.problems,
                "drafted": [{"event": eid, "title": it.title, "link": it.link} for eid, it in self.drafted]}


# ---------------------------------------------------------------- text


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def strip_html(text: str | None) -> str:
    """Plain text from a feed field: tags dropped, entities decoded, control characters removed, spaces collapsed."""
    if not text:
        return ""
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    plain = "".join(parser.parts)
    plain = "".join(ch if unicodedata.category(ch) != "Cc" else " " for ch in plain)
    return re.sub(r"\s+", " ", plain).strip()


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_INVISIBLE).casefold()).strip()


class Matcher:
    """Keywords, case-insensitive: Khmer ones anywhere (Khmer has no spaces between words), others at a word's start."""

    def __init__(self, keywords: Iterable[str]):
        self.rules: list[tuple[str, Any]] = []
        for kw in keywords:
            k = _fold(kw)
            if not k:
                continue
            if _KHMER.search(k):
                self.rules.append((kw, k))
            else:  # "landmine" also finds "landmines"; "mine" does not find "determine"
                self.rules.append((kw, re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, k.split(" "))))))

    def match(self, *texts: str) -> str | None:
        """The first keyword found in any of the texts, else None."""
        found = self.matches(*texts)
        return found[0] if found else None

    def matches(self, *texts: str) -> list[str]:
        """Every keyword found in any of the texts, in the feed's order."""
        folded = [_fold(t) for t in texts if t]
        return [kw for kw, rule in self.rules
                if any((rule in t) if isinstance(rule, str) else rule.search(t) for t in folded)]


LANDMINES, CLUSTER_MUNITIONS = "landmines", "cluster munitions"


def weapon_of(keywords: Iterable[str]) -> str | None:
    """The weapon an item is about, from the keywords it matched: a keyword naming cluster munitions
    (cluster, ចង្កោម) and/or one naming mines (mine, មីន); None when they name neither. Never a default:
    a post must not say "cluster munitions" about a report of landmines."""
    folded = [_fold(k) for k in keywords]
    cluster = any("cluster" in k or "ចង្កោម" in k for k in folded)
    mines = any("mine" in k or "មីន" in k for k in folded if not ("cluster" in k or "ចង្កោម" in k))
    if cluster and mines:
        return f"{LANDMINES} and {CLUSTER_MUNITIONS}"
    return CLUSTER_MUNITIONS if cluster else LANDMINES if mines else None


# ---------------------------------------------------------------- fetching and parsing


def fetch(session: Any, url: str, *, etag: str | None, modified: str | None, timeout: float) -> tuple[bytes, dict[str, str]] | None:
    """GET the feed (conditional); None when it is unchanged (304); FeedError on any failure or after `timeout`."""
    import requests

    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    deadline = _time.monotonic() + timeout
    try:
        with _whole_fetch_deadline(timeout), session.get(url, headers=headers, timeout=timeout, stream=True) as resp:
            if resp.status_code == 304:
                return None
            if resp.status_code >= 400:
                raise FeedError(f"HTTP {resp.status_code} {resp.reason or ''}".strip())
            chunks, size = [], 0
            while True:
                # read1: whatever has arrived, so the deadline is checked as bytes trickle in
                # (iter_content would wait for a whole 64 KB chunk first)
                chunk = resp.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FeedError(f"larger than {MAX_BYTES // (1024 * 1024)} MB: not a feed?")
                if _time.monotonic() > deadline:
                    raise _Deadline
                chunks.append(chunk)
            return b"".join(chunks), dict(resp.headers)
    except _Deadline:
        raise FeedError(f"timed out after {timeout:g}s") from None
    except requests.RequestException as exc:
        if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
            raise FeedError(f"timed out after {timeout:g}s") from None
        raise FeedError(f"cannot fetch it: {type(exc).__name__}: {exc}") from None


class _Deadline(Exception):
    """The whole fetch of a feed took longer than its timeout."""


@contextmanager
def _whole_fetch_deadline(seconds: float) -> Iterator[None]:
    """Bound the whole fetch, not each read: a server that sends one byte every half second never
    lets a per-read timeout expire. In the main thread (every CLI run) a real-time timer raises
    _Deadline wherever the fetch is waiting; elsewhere the reading loop checks the clock."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise _Deadline

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse(content: bytes, headers: dict[str, str], url: str, tz: Any) -> list[Item]:
    """The feed's entries as Items; FeedError when it is not a readable RSS or Atom feed."""
    import feedparser

    lowered = {k.lower(): v for k, v in headers.items()}
    d = feedparser.parse(content, response_headers={"content-type": lowered.get("content-type", "application/xml"), "content-location": url})
    if not d.entries and d.bozo:
        raise FeedError(f"not a readable RSS or Atom feed: {d.get('bozo_exception')}")
    if not d.entries and not d.get("version"):  # an HTML page after a site redesign, say: never silently empty
        raise FeedError(f"not an RSS or Atom feed (Content-Type {lowered.get('content-type', 'unknown')}); check the feed's url")
    items = []
    for entry in d.entries:
        link = (entry.get("link") or "").strip()
        title = strip_html(entry.get("title"))
        key = (entry.get("id") or link or title).strip()
        if not key:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(stamp), timezone.utc).astimezone(tz).date() if stamp else None
        items.append(Item(key, title, strip_html(entry.get("summary")), link, published))
    return items


# ---------------------------------------------------------------- the run


def watch(calendar_path: Path, calendar: Calendar, ledger: Any, now: datetime, *, timeout: float = DEFAULT_TIMEOUT,
          max_age: timedelta = DEFAULT_MAX_AGE, session: Any = None, load: rapid.Loader | None = None) -> list[FeedResult]:
    """Check every feed once; draft each new matching item; return one result per feed.

    `load` reads the calendar when a draft is added (the runtime session's, through the cache).
    """
    import requests

    session = session or requests.Session()
    load = load or load_calendar
    return [_watch_one(calendar_path, calendar, ledger, feed, now, timeout, max_age, session, load) for feed in calendar.feeds]


def _watch_one(calendar_path: Path, calendar: Calendar, ledger: Any, feed: Feed, now: datetime, timeout: float,
               max_age: timedelta, session: Any, load: rapid.Loader) -> FeedResult:
    result = FeedResult(feed.name)
    etag, modified = ledger.feed_state(feed.name)
    try:
        got = fetch(session, feed.url, etag=etag, modified=modified, timeout=timeout)
        if got is None:
            result.status = "not-modified"
            ledger.set_feed_state(feed.name, etag=etag, modified=modified, now=now)
            return result
        content, headers = got
        items = parse(content, headers, feed.url, calendar.campaign.tz)
    except FeedError as exc:
        result.status, result.error = "failed", str(exc)
        return result
    result.items = len(items)
    matcher = Matcher(feed.keywords)
    oldest = (now - max_age).astimezone(calendar.campaign.tz).date()
    for item in items:
        keywords = matcher.matches(item.title, item.summary)
        if not keywords:
            continue
        result.matched += 1
        if ledger.feed_item_seen(feed.name, item.key):
            result.known += 1
            continue
        if item.published is not None and item.published < oldest:
            ledger.remember_feed_item(feed.name, item.key, event_id=None, now=now)  # old news when first seen: not a new report
            result.known += 1
            continue
        if not re.match(r"^https?://\S+$", item.link):
            result.problems.append(f"'{item.title}' has no http(s) link to cite; condemn it by hand if it matters")
            continue
        weapon = weapon_of(keywords)
        if weapon is None:
            ledger.remember_feed_item(feed.name, item.key, event_id=None, now=now)  # said once, not drafted again each run
            result.problems.append(f"'{item.title}' matched {', '.join(repr(k) for k in keywords)}, which name no weapon: "
                                   f"condemn it by hand with --weapon if it matters ({item.link})")
            continue
        # A feed's word is an allegation until a person has read the report: the draft says "alleged" until approved.
        entry = rapid.condemnation_entry(calendar, now, report=item.link, source=feed.name, title=item.title[:300] or None,
                                         published=item.published, weapon=weapon, alleged=UNTIL_APPROVED)
        entry["draft"] = True
        try:
            # Under the rapid.yaml lock, an event already citing this link (drafted by an overlapping run,
            # or condemned by hand) is found and nothing is appended.
            written = rapid.add_event(calendar_path, entry, load=load)
        except ConfigError as exc:
            result.problems.append(f"could not draft '{item.title}' ({item.link}): " + "; ".join(str(p) for p in exc.problems))
            continue
        ledger.remember_feed_item(feed.name, item.key, event_id=written.event.id, now=now)
        if written.created:
            result.drafted.append((written.event.id, item))
        else:
            result.known += 1
    if not result.problems:
        # Keep the validators only when every match was handled: a 304 next time must not hide an item we still owe.
        lowered = {k.lower(): v for k, v in headers.items()}
        ledger.set_feed_state(feed.name, etag=lowered.get("etag"), modified=lowered.get("last-modified"), now=now)
    return result
