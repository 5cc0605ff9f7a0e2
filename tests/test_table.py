"""The terminal table: cells counted as terminals count them, checked against the C library and a real tmux."""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import locale
import sys
import unicodedata

import pytest

from campaigner.cli._table import Out, cells, column_widths, fit, table
from tests.terminal import Terminal

NOW = "2026-07-25T00:00"  # the shipped calendar's Mine Ban Treaty and CCM anniversaries follow


@pytest.fixture(scope="module")
def libc_wcwidth():
    """The C library's wcwidth() in a UTF-8 locale, or a skip where there is none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        wcwidth = libc.wcwidth
    except (OSError, AttributeError, TypeError):
        pytest.skip("no C library with wcwidth() here")
    wcwidth.argtypes, wcwidth.restype = [ctypes.c_wchar], ctypes.c_int
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        pytest.skip("no C.UTF-8 locale: wcwidth() would not know non-ASCII characters")
    try:
        yield wcwidth
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


KHMER = [chr(c) for c in [*range(0x1780, 0x1800), *range(0x19E0, 0x1A00)] if unicodedata.category(chr(c)) != "Cn"]
OTHERS = list("aZ09 ~éñßłΩЖשׁعربي中文한글かなｶﾅ€…│━┃✓") + ["\u0301", "\u200b", "\u200d", "\ufe0f", "\u00ad", "😀", "👍", "🇰", "\u0600"]


def test_every_khmer_code_point_takes_the_cells_the_c_library_gives_it(libc_wcwidth):
    wrong = {f"U+{ord(c):04X} {unicodedata.name(c, '?')}": (cells(c), libc_wcwidth(c)) for c in KHMER if cells(c) != libc_wcwidth(c)}
    assert wrong == {}
    # What the table needs from it: spacing vowels one cell, signs and the coeng none.
    assert [cells(c) for c in "\u17b6\u17be\u17c4"] == [1, 1, 1]  # ា ើ ោ (Mc)
    assert [cells(c) for c in "\u17b7\u17bb\u17c6\u17d2"] == [0, 0, 0, 0]  # ិ ុ ំ ្ (Mn)


def test_other_scripts_and_symbols_agree_with_the_c_library(libc_wcwidth):
    # The sample holds characters that every Unicode version since 9.0 gives the same width.
    wrong = {f"U+{ord(c):04X}": (cells(c), libc_wcwidth(c)) for c in OTHERS if cells(c) != max(libc_wcwidth(c), 0)}
    assert wrong == {}


def test_a_khmer_word_is_counted_per_spacing_character():
    # ក ម ្ ព ុ ជ ា: the coeng and the vowel sign u take no cell, the subscript ព and the vowel aa one each.
    assert cells("កម្ពុជា") == 5
    assert cells("ស្ត្រី") == 3  # ស, subscript ត, subscript រ; ី is a non-spacing sign
    assert cells("abc") == 3 and cells("中文") == 4 and cells("") == 0


def test_fit_cuts_at_cluster_boundaries_within_the_width():
    text = "ខួបលើកទី២៧ ដែលកម្ពុជាផ្តល់សច្ចាប័នលើអនុសញ្ញាអូតាវ៉ា"
    for width in range(1, cells(text) + 2):
        shown = fit(text, width)
        assert cells(shown) <= width
        assert text.startswith(shown.removesuffix("…"))
        assert not unicodedata.category(text[len(shown.removesuffix("…")):][:1] or "a").startswith("M")
    assert fit(text, cells(text)) == text


def test_column_widths_give_way_text_first_then_the_named_columns_then_none():
    headers = ("When", "Event", "Text")
    rows = [("Sat 01 Aug 08:00", "ccm-entry-into-force", "x" * 100)]
    natural = [16, 20, 100]
    assert column_widths(headers, rows, 200) == natural
    assert column_widths(headers, rows, 16 + 20 + 40 + 10) == [16, 20, 40]
    # The text keeps 24 cells while the event id can give way (down to 12), then gives way itself.
    assert column_widths(headers, rows, 16 + 14 + 24 + 10, shrink={1: 12}) == [16, 14, 24]
    assert column_widths(headers, rows, 16 + 12 + 5 + 10, shrink={1: 12}) == [16, 12, 5]
    assert column_widths(headers, rows, 16 + 20 + 5 + 10) == [16, 20, 5]
    assert column_widths(headers, rows, 16 + 12 + 10, shrink={1: 12}) is None


def test_every_table_line_is_as_wide_as_its_top_rule():
    out = Out(io.StringIO())
    out.width = 60
    rows = [("ccbl_x", "km", "ខួបលើកទី២៧ ដែលកម្ពុជាផ្តល់សច្ចាប័នលើអនុសញ្ញាអូតាវ៉ា។ សូមបោះជំហានដូចគ្នា"),
            ("ccbl_facebook", "en", "On this day in 1999, Cambodia ratified the Mine Ban Treaty."),
            ("ccbl_x", "km", "ស្ត្រីអ្នកដោះមីន")]
    table(out, ("Account", "Lang", "Text"), rows)
    lines = out.stream.getvalue().splitlines()
    assert {cells(line) for line in lines} == {60}
    assert lines[-2].startswith("│ ccbl_x ") and "ស្ត្រីអ្នកដោះមីន" in lines[-2]


# ---------------------------------------------------------------- in a real terminal


@pytest.fixture
def terminal(tmp_path):
    term = Terminal(tmp_path)
    yield term
    term.close()


def _plan(shipped, *args: str) -> list[str]:
    return [sys.executable, "-m", "campaigner", "plan", "--calendar", str(shipped), "--now", NOW, "--days", "40", *args]


@pytest.mark.parametrize("width", [120, 200])
def test_every_khmer_row_ends_at_the_tables_right_border_in_tmux(terminal, shipped, width):
    screen = terminal.run(_plan(shipped), width)
    rows = screen[1:next(i for i, line in enumerate(screen) if line.startswith("└")) + 1]
    # Every line of the table is a line of the screen: none wrapped onto a second one.
    assert [line for line in rows if line[:1] not in "┏┃┡│└"] == []
    assert len([line for line in rows if "│ km " in line]) >= 4
    measured = terminal.widths(rows)
    top = len(rows[0])  # box-drawing characters take one cell each
    assert top <= width
    assert measured == [top] * len(rows), list(zip(measured, rows))
    assert all(line.endswith(("┓", "┃", "┩", "│", "┘")) for line in rows)


def test_at_120_columns_a_khmer_row_shows_words_not_an_ellipsis(terminal, shipped):
    screen = terminal.run(_plan(shipped), 120)
    text_cells = [line.rstrip("│ ").rsplit("│", 1)[1].strip() for line in screen if line.startswith("│") and "│ km " in line]
    assert len(text_cells) >= 4
    for shown in text_cells:
        # Khmer puts no spaces between words: 20 cells are a few words (អនុសញ្ញាហាមឃាត់គ្រាប់បែកចង្កោម...).
        assert cells(shown.removesuffix("…")) >= 20, shown
        assert not shown.startswith("…")


def test_at_80_columns_every_post_line_fits_in_the_terminal(terminal, shipped):
    screen = terminal.run(_plan(shipped), 80)
    start = 1  # the campaign's title line, prose that the terminal may wrap
    end = next(i for i, line in enumerate(screen) if line.startswith("Posts per account:"))
    lines = screen[start:end]
    assert len(lines) % 2 == 0 and len(lines) >= 2 * 8, screen  # two lines per post, none wrapped
    assert [line for line in lines[1::2] if not line.startswith("    ")] == []
    assert any("ខួបលើកទី" in line for line in lines[1::2])
    measured = terminal.widths(lines)
    assert max(measured) <= 80, list(zip(measured, lines))
    assert max(measured[1::2]) >= 60  # the text's start uses the width it has
