"""Tests for campaigner.textlimits: X weighted length, measure and thread splitting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import regex
import yaml

from campaigner.textlimits import (
    X_MAX_LENGTH,
    measure,
    split_thread,
    url_spans,
    x_is_valid,
    x_weighted_length,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VALIDATE_YML = Path(__file__).resolve().parents[2] / "shared/reference/twitter-text/validate.yml"
CONFORMANCE_GROUPS = {
    "WeightedTweetsWithDiscountedEmojiCounterTest": 22,
    "UnicodeDirectionalMarkerCounterTest": 2,
}

KHMER_SENTENCES = [
    "អនុសញ្ញាហាមឃាត់គ្រាប់បែកចង្កោម ចូលជាធរមាន ថ្ងៃទី១ ខែសីហា ឆ្នាំ២០១០។",
    "ស្ត្រីអ្នកដោះមីន បោសសម្អាតចម្ការមីន ដើម្បីឱ្យខេត្តអស់មីន។",
    "ការសង្គ្រោះជនរងគ្រោះ និងជនមានពិការភាព នៅតែជាតម្រូវការចាំបាច់។",
    "យើងថ្កោលទោសការដាក់គ្រាប់មីនថ្មី និងអំពាវនាវឱ្យបណ្តារដ្ឋភាគីផ្តល់សច្ចាប័ន។",
]
KHMER_PHRASES = [
    "មជ្ឈមណ្ឌលសកម្មភាពកម្ចាត់មីនកម្ពុជា",
    "ការអប់រំកាត់បន្ថយគ្រោះថ្នាក់មីន",
    "សំណល់ជាតិផ្ទុះពីសង្គ្រាម",
    "យុទ្ធភណ្ឌមិនទាន់ផ្ទុះ",
    "ទិវាជាតិយល់ដឹងអំពីមីន",
]
SUFFIX = regex.compile(r" (\d+)/(\d+)$")


def _conformance_cases() -> list:
    """One pytest param per twitter-text counter case, or a single skip when ../shared is absent."""
    if not VALIDATE_YML.is_file():
        reason = f"twitter-text conformance data not found at {VALIDATE_YML}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="validate-yml-absent")]
    tests = yaml.safe_load(VALIDATE_YML.read_text(encoding="utf-8"))["tests"]
    params = []
    for group in CONFORMANCE_GROUPS:
        for i, case in enumerate(tests[group]):
            slug = regex.sub(r"[^a-z0-9]+", "-", case["description"].lower()).strip("-")[:50]
            params.append(pytest.param(case, id=f"{group}-{i:02d}-{slug}"))
    return params


@pytest.mark.parametrize("case", _conformance_cases())
def test_twitter_text_conformance(case: dict) -> None:
    expected = case["expected"]
    weighted = x_weighted_length(case["text"])
    assert weighted == expected["weightedLength"]
    assert x_is_valid(case["text"]) is expected["valid"]
    assert weighted * 1000 // X_MAX_LENGTH == expected["permillage"]


def test_conformance_file_has_every_case() -> None:
    if not VALIDATE_YML.is_file():
        pytest.skip(f"twitter-text conformance data not found at {VALIDATE_YML}")
    tests = yaml.safe_load(VALIDATE_YML.read_text(encoding="utf-8"))["tests"]
    assert {group: len(tests[group]) for group in CONFORMANCE_GROUPS} == CONFORMANCE_GROUPS


# --- X weighted length -------------------------------------------------------


def test_khmer_counts_two_per_code_point() -> None:
    text = "គ្រាប់បែកចង្កោម"
    assert x_weighted_length(text) == 2 * len(text)


def test_zero_width_space_counts_one() -> None:
    assert x_weighted_length("\u200b") == 1
    assert x_weighted_length("មីន\u200bមីន") == 2 * 6 + 1


@pytest.mark.parametrize(
    "url",
    [
        "http://t.co",
        "https://cmac.gov.kh",
        "https://www.example.org/" + "very-long-path/" * 20 + "?q=landmines&lang=km",
        "hrw.org/news/2024/12/01/cambodia-landmine-clearance-deadline",
        "example.com",
    ],
)
def test_url_counts_23_regardless_of_length(url: str) -> None:
    assert x_weighted_length(url) == 23
    assert x_weighted_length(f"Read {url} now") == len("Read ") + 23 + len(" now")


def test_url_ends_where_x_ends_it() -> None:
    # A full stop or a Khmer word straight after a link is text, not link.
    assert x_weighted_length("hrw.org/news.") == 23 + 1
    assert x_weighted_length("https://cmac.gov.kh/km/មីន") == 23 + 2 * 3


@pytest.mark.parametrize(
    "text",
    [
        "foo@example.com",  # an e-mail address is not a link
        "example.kh",  # one label plus a country code, no path: not linked by X
        "notes.txt",  # not a TLD
        "a.b",
    ],
)
def test_not_urls(text: str) -> None:
    assert url_spans(text) == []
    assert x_weighted_length(text) == len(text)


def test_emoji_sequences_count_two() -> None:
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
    assert x_weighted_length(family) == 2
    assert x_weighted_length("\U0001F1F0\U0001F1ED") == 2  # flag of Cambodia
    assert x_weighted_length("\U0001F64B\U0001F3FD") == 2  # skin tone modifier
    assert x_weighted_length("#\ufe0f\u20e3") == 2  # keycap


def test_text_is_nfc_normalised_before_counting() -> None:
    assert x_weighted_length("e\u0301") == x_weighted_length("\u00e9") == 1


def test_crlf_counts_as_two_characters() -> None:
    assert x_weighted_length("a\r\nb") == 4


def test_280_ascii_is_valid_281_is_not() -> None:
    assert x_weighted_length("a" * 280) == 280
    assert x_is_valid("a" * 280)
    assert not x_is_valid("a" * 281)


def test_blank_and_invalid_characters_are_not_valid() -> None:
    assert not x_is_valid("")
    assert not x_is_valid("  \n")
    assert not x_is_valid("hello\ufffe")


# --- measure -----------------------------------------------------------------


def test_measure_modes() -> None:
    text = "ក្ស e\u0301 \U0001F1F0\U0001F1ED"
    assert measure("chars", text) == len(text) == 9
    assert measure("graphemes", text) == 5
    assert measure("x-weighted", text) == x_weighted_length(text)


def test_measure_rejects_unknown_counts() -> None:
    with pytest.raises(ValueError, match="unknown length counting 'bytes'"):
        measure("bytes", "text")


def test_import_does_not_load_regex() -> None:
    # textlimits is imported on the `plan` path; `regex` alone costs ~20 ms to import.
    code = (
        "import sys, campaigner; before = 'regex' in sys.modules; "
        "import campaigner.textlimits; print(before or 'regex' not in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "True"


# --- split_thread ------------------------------------------------------------


def _bodies(parts: list[str]) -> list[str]:
    """Strip the ` i/n` suffixes, checking they number the parts 1..n."""
    bodies = []
    for i, part in enumerate(parts, 1):
        match = SUFFIX.search(part)
        assert match, f"part {i} has no numbering: {part!r}"
        assert (int(match[1]), int(match[2])) == (i, len(parts))
        bodies.append(part[: match.start()])
    return bodies


def _assert_valid_thread(text: str, parts: list[str], limit: int, counts: str = "x-weighted") -> list[str]:
    """Every part fits, is stripped and numbered, and no visible text is lost or repeated."""
    assert len(parts) > 1
    for part in parts:
        assert measure(counts, part) <= limit
    bodies = _bodies(parts)
    for body in bodies:
        assert body and body == body.strip()
    assert regex.sub(r"\s", "", "".join(bodies)) == regex.sub(r"\s", "", text)
    return bodies


def test_text_that_fits_is_returned_unchanged() -> None:
    text = "Cambodia's deminers cleared 1,000 hectares this year.\n\n#MineFree"
    assert split_thread(text, X_MAX_LENGTH) == [text]
    assert split_thread(KHMER_SENTENCES[0], X_MAX_LENGTH) == [KHMER_SENTENCES[0]]


def test_english_splits_at_sentence_ends() -> None:
    sentences = [
        f"Sentence {i} explains how survivors of landmine accidents in Cambodia rebuild their lives."
        for i in range(1, 13)
    ]
    text = " ".join(sentences)
    parts = split_thread(text, X_MAX_LENGTH)
    bodies = _assert_valid_thread(text, parts, X_MAX_LENGTH)
    for body in bodies:
        assert body.endswith(".")
        assert body.startswith("Sentence ")
    assert " ".join(bodies) == text


def test_paragraph_break_is_preferred() -> None:
    first = " ".join(["The treaty bans anti-personnel mines."] * 4)
    second = " ".join(["States parties must clear mined areas."] * 8)
    text = f"{first}\n\n{second}"
    bodies = _assert_valid_thread(text, split_thread(text, X_MAX_LENGTH), X_MAX_LENGTH)
    assert bodies[0] == first


def test_an_early_sentence_end_does_not_make_a_tiny_part() -> None:
    text = "Hi. " + " ".join(["word"] * 80) + ". Then more."
    bodies = _assert_valid_thread(text, split_thread(text, X_MAX_LENGTH), X_MAX_LENGTH)
    assert len(bodies[0]) > X_MAX_LENGTH // 2


def test_khmer_splits_after_khan() -> None:
    text = " ".join(KHMER_SENTENCES * 3)
    assert x_weighted_length(text) > X_MAX_LENGTH
    bodies = _assert_valid_thread(text, split_thread(text, X_MAX_LENGTH), X_MAX_LENGTH)
    for body in bodies:
        assert body.endswith("។")
    assert " ".join(bodies) == text


def test_khmer_without_khan_splits_at_spaces() -> None:
    text = " ".join(KHMER_PHRASES * 4)
    assert "។" not in text and x_weighted_length(text) > X_MAX_LENGTH
    bodies = _assert_valid_thread(text, split_thread(text, X_MAX_LENGTH), X_MAX_LENGTH)
    for body in bodies:
        assert set(body.split(" ")) <= set(KHMER_PHRASES)
    assert " ".join(bodies) == text


def test_khmer_with_only_zero_width_spaces_splits_at_them() -> None:
    text = "\u200b".join(KHMER_PHRASES * 4)
    assert x_weighted_length(text) > X_MAX_LENGTH
    bodies = _assert_valid_thread(text, split_thread(text, X_MAX_LENGTH), X_MAX_LENGTH)
    for body in bodies[:-1]:
        assert body.endswith("\u200b")
    for body in bodies:
        assert " " not in body
        assert set(filter(None, body.split("\u200b"))) <= set(KHMER_PHRASES)
    assert "".join(bodies) == text


def test_unbreakable_khmer_run_splits_at_cluster_boundaries() -> None:
    text = "".join(KHMER_PHRASES * 4)
    parts = split_thread(text, X_MAX_LENGTH)
    bodies = _assert_valid_thread(text, parts, X_MAX_LENGTH)
    assert "".join(bodies) == text
    cluster_ends = {m.end() for m in regex.finditer(r"\X", text)}
    position = 0
    for body in bodies:
        assert not regex.match(r"[\p{M}\u17d2]", body)
        assert not body.endswith("\u17d2")
        body.encode("utf-8")
        position += len(body)
        assert position in cluster_ends


def test_urls_are_never_split() -> None:
    url = "https://www.cmac.gov.kh/km/news/2025/annual-report-on-landmine-clearance"
    text = ("Read the report " + url + " today ") * 12
    for counts, limit in (("x-weighted", X_MAX_LENGTH), ("chars", 120)):
        bodies = _assert_valid_thread(text, split_thread(text, limit, counts), limit, counts)
        assert sum(body.count(url) for body in bodies) == 12


def test_numbering_width_is_accounted_for() -> None:
    # Enough parts to need two-digit numbers: " 10/12" is wider than " 9/9".
    text = " ".join(f"Fact {i}: mines still kill." for i in range(40))
    limit = 60
    parts = split_thread(text, limit)
    assert len(parts) >= 10
    _assert_valid_thread(text, parts, limit)
    assert parts[-1].endswith(f" {len(parts)}/{len(parts)}")


def test_graphemes_and_chars_modes_split_too() -> None:
    text = " ".join(KHMER_SENTENCES * 4)
    for counts in ("graphemes", "chars"):
        _assert_valid_thread(text, split_thread(text, 100, counts), 100, counts)


def test_limit_too_small_raises() -> None:
    with pytest.raises(ValueError, match="cannot split"):
        split_thread("https://example.com/a " * 3, 10, "x-weighted")
