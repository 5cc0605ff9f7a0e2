"""Per-platform text length: X weighted length, code points, graphemes, and thread splitting."""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from typing import TYPE_CHECKING, Callable, NamedTuple

if TYPE_CHECKING:
    import regex

X_MAX_LENGTH = 280
X_URL_LENGTH = 23
# twitter-text config v3: code points in these ranges weigh 1, all others 2.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
# twitter-text rejects a post containing any of these, whatever its length.
_X_INVALID_CHARS = frozenset("\uFFFE\uFEFF\uFFFF")


# A bare domain (no http://) counts as a link only with a TLD X knows. Every
# TLD here is in twitter-text's list: missing one over-counts (safe), adding one
# X lacks would under-count and get a post rejected.
_CC_TLDS = (
    "ac ad ae af ag ai al am an ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm bn bo bq"
    " br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do"
    " dz ec ee eg eh er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt"
    " gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr"
    " kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp mq mr ms mt"
    " mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt"
    " pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc"
    " td tf tg th tj tk tl tm tn to tp tr tt tv tw tz ua ug uk um us uy uz va vc ve vg vi vn vu wf"
    " ws ye yt za zm zw"
).split()
_G_TLDS = (
    "com org net edu gov mil int info biz name pro mobi asia tel travel jobs museum aero coop cat"
    " app dev blog news online site website store shop tech live media page link world today"
    " global ngo ong foundation community center club digital email network social solutions"
    " support team earth green health help law legal life love one press report review school"
    " science space studio top video wiki work xyz zone cloud design agency academy education"
    " institute international events photos gallery art"
).split()

_LATIN_ACCENTS = "\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u00FF\u0100-\u024F\u1E00-\u1EFF"
# Path and query characters follow twitter-text: a link ends at the first
# character outside these sets (so a Khmer word or ។ right after a URL is text).
_PATH_CHAR = rf"[A-Za-z0-9\p{{Cyrillic}}{_LATIN_ACCENTS}!*';:=+,.$/%#\[\]\-\u2013_~|&@]"
_PATH_END = rf"[A-Za-z0-9\p{{Cyrillic}}{_LATIN_ACCENTS}=_#/+\-]"
_PARENS = rf"\({_PATH_CHAR}*\)"
_PATH = rf"/(?:(?:{_PATH_CHAR}|{_PARENS})*(?:{_PATH_END}|{_PARENS}))?"
_QUERY = r"\?[A-Za-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]*[A-Za-z0-9\-_&=#/]"
# Host labels after http(s):// may be any script (IDN); ASCII punctuation ends them.
# With a scheme any alphabetic TLD is accepted: X knows nearly every real one,
# and a writer who typed https:// meant a link.
_HOST_CHAR = r"(?:[A-Za-z0-9]|[^\x00-\x7F\s\p{Z}\p{C}\p{P}])"
_HOST_TLD = r"(?:xn--[A-Za-z0-9-]+|[A-Za-z]{2,63}|[^\x00-\x7F\s\p{Z}\p{C}\p{P}\p{S}\p{N}]+)"
_ASCII_CHAR = rf"[A-Za-z0-9{_LATIN_ACCENTS}]"


class _Patterns(NamedTuple):
    url: regex.Pattern[str]
    cluster: regex.Pattern[str]
    heavy: regex.Pattern[str]
    emoji_start: regex.Pattern[str]
    emoji: regex.Pattern[str]
    sentence_end: regex.Pattern[str]
    line_break: regex.Pattern[str]
    space: regex.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    """Compile the patterns on first use: `regex` costs ~20 ms to import."""
    import regex

    light = "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _X_LIGHT_RANGES)
    tlds = "|".join(sorted(_G_TLDS + _CC_TLDS, key=len, reverse=True))
    not_after_tld = r"(?![A-Za-z0-9@+\-])"
    with_scheme = (
        r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?://)"
        rf"(?P<host>(?:{_HOST_CHAR}(?:[_-]*{_HOST_CHAR})*\.)*"
        rf"{_HOST_CHAR}(?:-*{_HOST_CHAR})*\.{_HOST_TLD}){not_after_tld}"
    )
    bare = (
        r"(?<![\-_./])"
        rf"(?P<bare>(?:{_ASCII_CHAR}(?:[_-]*{_ASCII_CHAR})*\.)*"
        rf"{_ASCII_CHAR}(?:-*{_ASCII_CHAR})*\.(?i:{tlds})){not_after_tld}"
    )
    url = (
        r"(?<![A-Za-z0-9@＠$#＃\uFFFE\uFEFF\uFFFF])"
        rf"(?:{with_scheme}|{bare})(?::[0-9]+)?(?P<path>{_PATH})?(?:{_QUERY})?"
    )
    return _Patterns(
        url=regex.compile(url),
        cluster=regex.compile(r"\X"),
        heavy=regex.compile(f"[^{light}]"),
        emoji_start=regex.compile(
            r"(?=\p{Extended_Pictographic}|\p{Regional_Indicator}|[0-9#*]\uFE0F?\u20E3)\X"
        ),
        emoji=regex.compile(
            r"\p{Extended_Pictographic}|^\p{Regional_Indicator}{2}|^[0-9#*]\uFE0F?\u20E3"
        ),
        sentence_end=regex.compile(
            r"[.!?]+[\"'”’»)\]]*(?=\s|$)|[។៕。！？]+[\"'”’»)\]]*"
        ),
        line_break=regex.compile(r"\r?\n"),
        space=regex.compile(r"[^\S\r\n]+"),
    )


def _url_is_valid(match: regex.Match[str]) -> bool:
    """Apply twitter-text's post-match checks: DNS label lengths and the short-domain rule."""
    host = match.group("host") or match.group("bare")
    labels = host.split(".")
    for label in labels:
        ascii_label = label if label.isascii() else "xn--" + label.encode("punycode").decode()
        if len(ascii_label) > 63:
            return False
    if match.group("bare") and not match.group("path"):
        # "example.kh" alone is too often not a link; X links it only with a path (t.co excepted).
        if len(labels) == 2 and labels[-1].lower() in _CC_TLDS and host.lower() != "t.co":
            return False
    return len(match.group()) <= 4096


# Every link the url pattern matches, with or without a scheme, has a '.' right before its TLD,
# and a TLD starts with an ASCII letter or a non-ASCII letter: a text without that has no link.
_MAYBE_URL = re.compile(r"\.(?:[A-Za-z]|[^\x00-\x7f])")


def url_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every substring X would shorten to a 23-character t.co link."""
    if not _MAYBE_URL.search(text):
        return []  # the full pattern costs ~30 us a post, and most posts have no link
    return [m.span() for m in _patterns().url.finditer(text) if _url_is_valid(m)]


def _weigh_plain(text: str, patterns: _Patterns) -> int:
    """X weight of text without links: emoji sequences weigh 2, other code points 1 or 2."""
    if text.isascii():
        return len(text)
    total = len(text) + len(patterns.heavy.findall(text))
    for match in patterns.emoji_start.finditer(text):
        cluster = match.group()
        if patterns.emoji.search(cluster):
            total += 2 - len(cluster) - len(patterns.heavy.findall(cluster))
    return total


def x_weighted_length(text: str) -> int:
    """Length of text as X counts it (twitter-text v3 with emoji parsing)."""
    text = unicodedata.normalize("NFC", text)
    patterns = _patterns()
    total = 0
    position = 0
    for start, end in url_spans(text):
        total += _weigh_plain(text[position:start], patterns) + X_URL_LENGTH
        position = end
    return total + _weigh_plain(text[position:], patterns)


def x_is_valid(text: str) -> bool:
    """Whether X accepts text as one post: not blank, no invalid characters, within 280."""
    normalized = unicodedata.normalize("NFC", text)
    if not normalized.strip() or not _X_INVALID_CHARS.isdisjoint(normalized):
        return False
    return x_weighted_length(normalized) <= X_MAX_LENGTH


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters): a Khmer cluster such as ក្ស is one."""
    return len(_patterns().cluster.findall(text))


# The counting rules an adapter can name as its `counts`; an adapter may also give a callable.
def utf16(text: str) -> int:
    """UTF-16 code units, as Telegram measures a text (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


RULES: dict[str, Callable[[str], int]] = {"x-weighted": x_weighted_length, "chars": len, "graphemes": graphemes, "utf16": utf16}


def measure(counts: str | Callable[[str], int], text: str) -> int:
    """A text's length by a rule named in RULES (an adapter's `counts`), or by a callable."""
    if callable(counts):
        return counts(text)
    try:
        rule = RULES[counts]
    except KeyError:
        raise ValueError(f"unknown length counting {counts!r}: expected one of {', '.join(RULES)}") from None
    return rule(text)


def _break_points(text: str) -> tuple[list[int], list[list[int]]]:
    """Line breaks, then cut positions by tier, best first; none inside a URL or a grapheme cluster.

    Tiers: a line break or sentence end (។ included), a space between phrases,
    a writer's zero-width space, and finally any grapheme cluster boundary.
    """
    patterns = _patterns()
    links = url_spans(text)
    link_starts = [start for start, _ in links]

    def usable(position: int) -> bool:
        i = bisect_right(link_starts, position - 1) - 1
        return 0 < position < len(text) and (i < 0 or position >= links[i][1])

    line_breaks = [m.start() for m in patterns.line_break.finditer(text)]
    sentence_ends = [m.end() for m in patterns.sentence_end.finditer(text)]
    tiers = [
        sorted(set(line_breaks + sentence_ends)),
        [m.start() for m in patterns.space.finditer(text)],
        [i + 1 for i, char in enumerate(text) if char == "\u200b"],
        # A cluster ending in COENG still owes its subscript consonant: not a boundary.
        [m.end() for m in patterns.cluster.finditer(text) if not m.group().endswith("\u17d2")],
    ]
    return [p for p in line_breaks if usable(p)], [[p for p in tier if usable(p)] for tier in tiers]


def _furthest_fit(candidates: list[int], start: int, fits: Callable[[int], bool]) -> int | None:
    """Furthest candidate after start whose part fits (length grows with the cut)."""
    first = low = bisect_right(candidates, start)
    # Gallop, then bisect: probes stay near one part's length, not the whole text's.
    probe, step = low, 1
    while probe < len(candidates) and fits(candidates[probe]):
        low = probe + 1
        probe, step = low + step, step * 2
    high = min(probe, len(candidates))
    while low < high:
        middle = (low + high) // 2
        if fits(candidates[middle]):
            low = middle + 1
        else:
            high = middle
    return candidates[low - 1] if low > first else None


def _pack(text: str, limit: int, counts: str | Callable[[str], int], total: int) -> list[str]:
    """Greedily cut text into parts that fit with a ` i/total` suffix."""
    line_breaks, tiers = _break_points(text)
    any_cut = sorted(set().union(*tiers))
    parts: list[str] = []
    start = 0
    while True:
        while start < len(text) and text[start].isspace():
            start += 1
        if start >= len(text):
            return parts
        suffix = f" {len(parts) + 1}/{total}"

        def fits(cut: int) -> bool:
            return measure(counts, text[start:cut].strip() + suffix) <= limit  # noqa: B023 (used only in this iteration)

        if fits(len(text)):
            parts.append(text[start:].strip())
            return parts
        reach = _furthest_fit(any_cut, start, fits)
        if reach is None:
            raise ValueError(
                f"cannot split text to {limit} ({counts}): nothing fits at {text[start:start + 30]!r}"
            )
        # Take the best tier whose cut fills at least half of what is possible:
        # "Hi." alone as part 1 would honour the sentence rule but waste a post.
        for rank, tier in enumerate(tiers):  # noqa: B007 (rank is read after the loop)
            cut = _furthest_fit(tier, start, fits)
            if cut is not None and 2 * (cut - start) >= reach - start:
                break
        else:
            rank, cut = len(tiers), reach
        if rank == 0:
            # A line break beats a later sentence end unless it leaves the part under half full.
            line_break = _furthest_fit(line_breaks, start, fits)
            if line_break is not None and 2 * (line_break - start) >= cut - start:
                cut = line_break
        parts.append(text[start:cut].strip())
        start = cut


def split_thread(text: str, limit: int, counts: str | Callable[[str], int] = "x-weighted") -> list[str]:
    """Split text into numbered parts that each measure <= limit (numbering included)."""
    if measure(counts, text) <= limit:
        return [text]
    if measure(counts, text.strip()) <= limit:
        return [text.strip()]
    total = 2
    # The suffix width depends on the part count, which depends on the suffix
    # width; the count only grows with the width, so this settles in a few rounds.
    for _ in range(10):
        parts = _pack(text, limit, counts, total)
        if len(parts) == total:
            return [f"{part} {i}/{total}" for i, part in enumerate(parts, 1)]
        total = len(parts)
    raise RuntimeError(f"thread numbering did not settle for a {len(text)}-character text")
