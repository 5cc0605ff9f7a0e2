"""The filters templates write with: Khmer digits, CLDR dates and numbers, ordinals, hashtags.

A fact (`facts.<name>`) is formatted as its plain value, as if it were written in vars."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from campaigner.facts import plain

KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def digits(value: Any, lang: str = "km") -> str:
    """Write a number's digits in the language's script (Khmer digits ០–៩ for km)."""
    text = str(plain(value))
    return text.translate(KHMER_DIGITS) if lang == "km" else text


def longdate(value: date | datetime, lang: str = "en") -> str:
    """'1 August 2010' / 'ថ្ងៃទី១ ខែសីហា ឆ្នាំ២០១០', month names from CLDR."""
    value = plain(value)
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):  # babel would fail with a bare AssertionError
        raise TypeError(f"longdate needs a date, got {value!r}: in vars write it unquoted, e.g. signed: 2010-08-01")
    return _cldr(_longdate, value, lang)


def _longdate(value: date, lang: str) -> str:
    from babel.dates import format_date

    if lang == "km":
        return digits(format_date(value, "'ថ្ងៃទី'd 'ខែ'MMMM 'ឆ្នាំ'y", locale=_locale("km")), "km")
    return format_date(value, "d MMMM y", locale=_locale(lang))


def _locale(lang: Any) -> Any:
    """babel's Locale, parsed once per language name (babel parses the name on every call)."""
    return _parsed_locale(lang) if isinstance(lang, str) else lang


@functools.lru_cache(maxsize=64)
def _parsed_locale(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang)


_CLDR_CACHE: dict[tuple[Any, ...], str] = {}


def _cldr(format_: Callable[[Any, str], str], value: Any, lang: str) -> str:
    """babel's formatting, remembered: a year of posts repeats a few hundred dates and numbers, and
    each babel call costs ~40 us (a quarter of rendering a post). Only values whose equality means
    the same text are remembered (not floats: -0.0 == 0.0; not Decimals: 1.0 == 1.00)."""
    if type(value) not in (int, str, date) or type(lang) is not str:
        return format_(value, lang)
    key = (format_, type(value), value, lang)
    text = _CLDR_CACHE.get(key)
    if text is None:
        if len(_CLDR_CACHE) >= 50_000:  # a bound for long-lived processes
            _CLDR_CACHE.clear()
        text = _CLDR_CACHE[key] = format_(value, lang)
    return text


def ordinal(value: int, lang: str = "en") -> str:
    """'16th' / 'ទី១៦' (write ខួបលើក{{ n | ordinal('km') }} for ខួបលើកទី១៦)."""
    n = int(plain(value))
    if lang == "km":
        return "ទី" + digits(n, "km")
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def number(value: Any, lang: str = "en") -> str:
    """A grouped number in the language's CLDR format, with Khmer digits for km."""
    return _cldr(_number, plain(value), lang)


def _number(value: Any, lang: str) -> str:
    from babel.numbers import format_decimal

    return digits(format_decimal(value, locale=_locale(lang)), lang)


def hashtag(value: str) -> str:
    """'Mine Free Cambodia' -> '#MineFreeCambodia'; keeps Khmer marks (\\p{M}) inside the tag."""
    import regex

    words = regex.findall(r"[\p{L}\p{M}\p{N}_]+", str(value).lstrip("#"))
    return "#" + "".join(w[:1].upper() + w[1:] for w in words) if words else ""


def hashtags(values: Iterable[str]) -> str:
    """Tags joined by spaces, each made a valid hashtag."""
    return " ".join(hashtag(v) if not str(v).startswith("#") else str(v) for v in values)


FILTERS: dict[str, Callable[..., str]] = {"digits": digits, "longdate": longdate, "ordinal": ordinal, "number": number, "hashtag": hashtag, "hashtags": hashtags}
