"""The HTML preview: a static, self-contained site of a window's posts, for people who do not read YAML.

`site()` is pure: from the calendar, the rendered posts, their ledger records and `now` it makes
the pages (name -> HTML) and the list of images to copy beside them. `write()` puts a site in a
folder. The page needs no network and no server: styles and the filter script are inline, images
are copied under `media/`, and a Content-Security-Policy forbids loading anything else.

Cards are styled after their platform by a stylesheet found by the platform's name
(`templates/platforms/<platform>.css`, as data, like the post templates); a platform without one
gets the plain card. Lengths and limits come from the rendered `Post` (the adapter's counting).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from campaigner.calendar import Calendar, Media
from campaigner.errors import ConfigError, Problem
from campaigner.ledger import PostRecord
from campaigner.render import Post
from campaigner.views.labels import language_label, platform_label
from campaigner.views.month import weeks
from campaigner.views.state import State, order, state_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
MEDIA = "media"
MARKER = ".campaigner-preview"  # a folder holding this was written by preview, and may be rewritten
_URL = re.compile(r"https?://[^\s<>\"'«»]+[^\s<>\"'«».,;:!?)\]។]")
_TAG = re.compile(r"(?<![\w&])#[\w\u1780-\u17ff\u19e0-\u19ff]+")


class Image(NamedTuple):
    """An image as the page shows it: its path inside the site and its alternative text."""

    src: str
    alt: str | None
    source: Path


class Card(NamedTuple):
    """One post as a card, with what the page shows of it worked out once (a year of a large
    calendar is tens of thousands of cards: each lookup in the template is paid per card)."""

    post: Post
    anchor: str
    state: State
    due: datetime  # in the campaign's zone
    images: tuple[Image, ...]
    over_by: int  # how far over the platform's limit, as the platform counts (0 when every part fits)
    platform: str  # the platform's name as people write it
    language: str  # the language's name
    goal: str  # "" when the event has none
    parts: tuple[Any, ...]  # the text (or the thread's parts), escaped, links made links
    link_domain: str
    stale: tuple[Any, ...]  # the facts.Fact records the text cites after they went stale (campaigner facts)


class Cell(NamedTuple):
    """One day of a month grid."""

    date: date | None  # None for the days of the months either side
    in_range: bool
    cards: tuple[Card, ...]


class Month(NamedTuple):
    """A month grid: its weeks of cells."""

    first: date
    anchor: str
    weeks: tuple[tuple[Cell, ...], ...]


class Site(NamedTuple):
    """A preview: its pages by file name and the images to copy (path inside the site -> source).

    A page is produced as it is written (a year of a large calendar is tens of megabytes of HTML,
    which need not sit in memory at once): iterate it once."""

    pages: dict[str, Iterator[str]]
    media: dict[str, Path]
    posts: int
    months: int


def site(calendar: Calendar, posts: Sequence[Post], records: Mapping[str, PostRecord], now: datetime, start: date, end: date) -> Site:
    """The preview of `posts` (local dates start..end) with their ledger states, as of `now`."""
    tz = calendar.campaign.tz
    images: dict[Path, Image] = {}
    cards: list[Card] = []
    anchors: set[str] = set()
    from campaigner.facts import stale_by_post

    stale = stale_by_post(calendar, posts)
    for p in posts:
        shown = tuple(_image(m, images) for m in p.media)
        link = p.event.link or ""
        cards.append(Card(p, _anchor(p.id, anchors), state_of(p, records.get(p.id), calendar.quiet), p.due.astimezone(tz), shown,
                          0 if p.fits else max(p.length - p.limit, 1),
                          platform_label(p.platform), language_label(p.language), p.event.goal or "", tuple(linkify(t) for t in p.parts),
                          link.split("/")[2] if link.count("/") >= 2 and "://" in link else "", stale.get(p.id, ())))
    by_day: dict[date, list[Card]] = {}
    for card in cards:
        by_day.setdefault(card.post.date, []).append(card)
    months = [_month(first, by_day, start, end) for first in _months(start, end)]
    options = {
        "account": sorted({c.post.account for c in cards}),
        "language": sorted({c.post.language for c in cards}),
        "goal": sorted({c.goal for c in cards}),
        "state": order({c.state.name for c in cards}),
    }
    totals = {name: sum(1 for c in cards if c.state.name == name) for name in options["state"]}
    env = _environment()
    script = (TEMPLATES / "preview.js").read_text(encoding="utf-8")
    html = env.get_template("preview.html.j2").generate(
        campaign=calendar.campaign, months=months, days=sorted(by_day.items()), cards=cards, options=options, totals=totals,
        start=start, end=end, now=now.astimezone(tz), styles=_styles({c.post.platform for c in cards}), script=script,
        script_hash=base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii"),
        language_label=language_label, longday=_longday,
    )
    return Site({"index.html": html}, {img.src: path for path, img in images.items()}, len(cards), len(months))


def write(built: Site, folder: Path) -> list[Path]:
    """Write a site into `folder` (created; a folder not made by preview must be empty); returns the files written."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise ConfigError([Problem(str(folder), 0, 0, "the folder exists and was not written by 'campaigner preview'; choose another with --out, or empty it")])
    (folder / MEDIA).mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("This folder is written by 'campaigner preview': its files are replaced on each run.\n", encoding="utf-8")
    written = []
    for rel, source in built.media.items():
        dest = folder / rel
        if not dest.exists() or dest.stat().st_size != source.stat().st_size or dest.stat().st_mtime < source.stat().st_mtime:
            shutil.copy2(source, dest)
        written.append(dest)
    for old in (folder / MEDIA).iterdir():  # images of posts no longer in the window
        if old.is_file() and f"{MEDIA}/{old.name}" not in built.media:
            old.unlink()
    for name, text in built.pages.items():
        dest = folder / name
        temp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "w", encoding="utf-8") as fh:
                fh.writelines(text)
            os.replace(temp, dest)
        finally:
            temp.unlink(missing_ok=True)
        written.append(dest)
    return written


# ---------------------------------------------------------------- pieces


def _image(media: Media, seen: dict[Path, Image]) -> Image:
    if media.path not in seen:
        digest = hashlib.sha256(str(media.path).encode("utf-8")).hexdigest()[:10]
        name = re.sub(r"[^A-Za-z0-9._-]", "-", media.path.name)
        seen[media.path] = Image(f"{MEDIA}/{digest}-{name}", media.alt, media.path)
    image = seen[media.path]
    return image._replace(alt=media.alt)


def _anchor(post_id: str, taken: set[str]) -> str:
    base = "post-" + re.sub(r"[^A-Za-z0-9_.-]+", "~", post_id)
    anchor, n = base, 1
    while anchor in taken:
        n += 1
        anchor = f"{base}-{n}"
    taken.add(anchor)
    return anchor


def _months(start: date, end: date) -> list[date]:
    firsts, first = [], start.replace(day=1)
    while first <= end:
        firsts.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return firsts


def _month(first: date, by_day: Mapping[date, list[Card]], start: date, end: date) -> Month:
    rows = tuple(tuple(Cell(d, d is not None and start <= d <= end, tuple(by_day.get(d, ())) if d else ()) for d in week)
                 for week in weeks(first.year, first.month))
    return Month(first, f"month-{first:%Y-%m}", rows)


def _styles(platforms: Iterable[str]) -> str:
    """The card stylesheets of the platforms on the page, each found by name (none: the plain card)."""
    parts = []
    for platform in sorted(platforms):
        sheet = TEMPLATES / "platforms" / f"{platform}.css"
        if re.fullmatch(r"[a-z0-9_-]+", platform) and sheet.is_file():
            parts.append(sheet.read_text(encoding="utf-8"))
    return "\n".join(parts)


def _longday(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def linkify(text: str) -> Any:
    """The text, HTML-escaped, with its URLs as links and its hashtags marked, as the platforms show them."""
    from markupsafe import Markup, escape

    spans = sorted([(m.start(), m.end(), "url") for m in _URL.finditer(text)] + [(m.start(), m.end(), "tag") for m in _TAG.finditer(text)])
    out, last = [], 0
    for begin, finish, kind in spans:
        if begin < last:
            continue  # a hashtag inside a URL's fragment
        piece = str(escape(text[begin:finish]))
        out.append(str(escape(text[last:begin])))
        out.append(f'<a href="{piece}" rel="noopener noreferrer">{piece}</a>' if kind == "url" else f'<span class="tag">{piece}</span>')
        last = finish
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # post texts, alt texts and feed-derived values are data, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["linkify"] = linkify
    return env
