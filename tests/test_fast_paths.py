"""Shortcuts taken for speed give exactly the results of the long way round."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from campaigner import filters, textlimits

FRAGMENTS = [
    "https://example.org/news/240", "http://www.hrw.org/report?id=7&x=y", "example.kh", "example.kh/path", "t.co", "bit.ly/abc",
    "www.icbl.org", "icbl.org", "HTTPS://ICBL.ORG/", "https://ខ្មែរ.com/x", "https://例え.テスト/パス", "xn--80ak6aa92e.com",
    "e.g.", "U.S.", "3.5", "2026.", "Mr.Smith", "end.", "...", "a.b", "a.1", ".com", "foo.com.", "foo.c", "សួស្តី.ខ្មែរ",
    "ថ្ងៃទី១ ខែសីហា ឆ្នាំ២០១០", "#MinefreeCambodia", "@ccbl", "👍🏽", "🇰🇭", "1️⃣", " ", "\n", "។", "(", ")", "'", '"', "-", "_", "/",
    "Join the Convention on Cluster Munitions now", "ccm.", "mine.ban", "a.ពា", "x.Ω", "x.ß",
]


def _texts(n: int, seed: int = 6) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(FRAGMENTS) + rng.choice(["", " ", ""]) for _ in range(rng.randrange(1, 12))) for _ in range(n)]


def test_url_spans_prefilter_never_hides_a_link():
    with_links = 0
    for text in _texts(4000) + FRAGMENTS:
        full = [m.span() for m in textlimits._patterns().url.finditer(text) if textlimits._url_is_valid(m)]
        assert textlimits.url_spans(text) == full, text
        with_links += bool(full)
    assert 1000 < with_links < 3900  # both ways were taken


def test_remembered_cldr_formatting_is_babel_formatting():
    filters._CLDR_CACHE.clear()
    for value in [date(2010, 8, 1), date(2024, 2, 29), date(1999, 3, 1), date(2010, 8, 1)]:
        for lang in ("en", "km"):
            assert filters.longdate(value, lang) == filters._longdate(value, lang)
    for value in [0, 1, 49, 1234567, -3, "12345", 1.5, -0.0, 0.0, Decimal("1.00"), Decimal("1.0"), 1234567]:
        for lang in ("en", "km"):
            assert filters.number(value, lang) == filters._number(value, lang), (value, lang)
    assert not any(type(k[2]) in (float, Decimal) for k in filters._CLDR_CACHE)
