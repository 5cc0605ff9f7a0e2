"""Plain terminal output: styled lines and a boxed table, measured in the cells a terminal gives them.

`plan` runs dozens of times a day and must start about as fast as its bare imports; importing
rich.console and rich.table and laying out a table with them costs ~45 ms, more than everything
else `plan` does with a warm cache. This draws a heavy-headed box table itself.

Widths are the terminal's, not rich's: `cells` counts what the C library's wcwidth() gives each
code point, which is what tmux, xterm and the Linux console use to place the cursor. rich gives
Khmer's spacing vowels (ា, ើ, ោ ...; category Mc) no cell, so its Khmer rows overran the border by
one cell per vowel; here a spacing vowel takes one cell, a non-spacing sign and the coeng U+17D2
none, and the consonant after a coeng one (a terminal draws it in a cell of its own).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TextIO

_CODES = {"bold": "1", "dim": "2", "red": "31", "yellow": "33"}
_JOINERS = {"\u200d", "\u17d2"}  # ZWJ, Khmer COENG: the next character belongs to the same cluster


class Out:
    """A stream with a width and, on a colour terminal, ANSI styles (NO_COLOR and TERM=dumb turn them off)."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.is_terminal = _isatty(self.stream)
        self.color = self.is_terminal and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            width = int(columns)
        elif self.is_terminal:
            width = shutil.get_terminal_size((80, 24)).columns
        else:
            width = 80
        # cron logs and pipes have no width to respect
        self.width = width if self.is_terminal else max(width, 160)

    def style(self, text: str, *styles: str) -> str:
        """text in the given styles (bold, dim, red, yellow), or as is without colour."""
        if not self.color or not styles or not text:
            return text
        return "\x1b[" + ";".join(_CODES[s] for s in styles) + "m" + text + "\x1b[0m"

    def line(self, text: str = "", *styles: str) -> None:
        """Write one line."""
        self.stream.write(self.style(text, *styles) + "\n")

    def rule(self, title: str = "") -> None:
        """A horizontal rule across the width (80 columns off a terminal) with a title in its middle."""
        width = self.width if self.is_terminal else 80
        title = fit(title, max(width - 6, 1))
        left = max((width - cells(title) - 2) // 2, 1)
        right = max(width - cells(title) - 2 - left, 1)
        self.line("─" * left + f" {title} " + "─" * right if title else "─" * width)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- cell widths


def cells(text: str) -> int:
    """How many terminal cells `text` takes, as wcwidth() counts them (see the module docstring)."""
    if text.isascii():
        return len(text)
    return sum(map(char_cells, text))


@functools.lru_cache(maxsize=4096)
def char_cells(char: str) -> int:
    """One code point's cells, by glibc's rules (localedata/unicode-gen): 0, 1 or 2; controls 0."""
    code = ord(char)
    category = unicodedata.category(char)
    if category in ("Mn", "Me") or 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF or code == 0x200B:
        return 0  # combining marks, Hangul medial and final jamo, zero-width space
    if category == "Cf":
        return 1 if code == 0xAD or code in _PREPENDED else 0  # soft hyphen, Arabic number signs
    if category in ("Cc", "Zl", "Zp"):
        return 0  # never printed in a cell (wcwidth says -1); the table does not place them
    if unicodedata.east_asian_width(char) in "WF" or 0x3248 <= code <= 0x324F or 0x4DC0 <= code <= 0x4DFF:
        return 2
    return 1


# Prepended_Concatenation_Mark: format characters that glibc draws in a cell of their own.
_PREPENDED = frozenset({0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F, 0x890, 0x891, 0x8E2, 0x110BD, 0x110CD})


def clusters(text: str) -> list[str]:
    """User-perceived characters, close enough for display: combining marks, variation selectors
    and what follows a ZWJ or a Khmer COENG stay with the character before them. (What is posted
    is never cut here: this only shortens what a table shows.)"""
    out: list[str] = []
    for char in text:
        if out and (unicodedata.category(char)[0] == "M" or "\ufe00" <= char <= "\ufe0f" or char == "\u200d" or out[-1][-1] in _JOINERS):
            out[-1] += char
        else:
            out.append(char)
    return out


def fit(text: str, width: int) -> str:
    """text cut to at most width terminal cells at a cluster boundary, ending in … when cut."""
    if cells(text) <= width:
        return text
    kept, used = [], 0
    for cluster in clusters(text):
        size = cells(cluster)
        if used + size > width - 1:
            break
        kept.append(cluster)
        used += size
    return "".join(kept) + "…"


def pad(text: str, width: int, right: bool = False) -> str:
    """text filled with spaces to `width` cells (on the left when `right`)."""
    fill = " " * max(width - cells(text), 0)
    return fill + text if right else text + fill


# ---------------------------------------------------------------- tables


def chrome(columns: int) -> int:
    """The cells a table's bars and padding take: a bar and a space either side of every cell."""
    return 3 * columns + 1


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int, *,
                  shrink: Mapping[int, int] | None = None, keep: int = 24) -> list[int] | None:
    """Column widths for a table at most `width` cells wide, or None when it cannot fit.

    The last column (the free text) gives up cells first, down to `keep`; then the columns in
    `shrink` (index -> narrowest), in that order; then the last column again, down to one cell.
    Every other column keeps its full width: a time or a "/280" cut short would mislead.
    """
    shrink = shrink or {}
    widths = [max([cells(h)] + [cells(r[i]) for r in rows]) for i, h in enumerate(headers)]
    excess = sum(widths) + chrome(len(widths)) - width
    steps = [(len(widths) - 1, min(keep, widths[-1])), *shrink.items(), (len(widths) - 1, 1)]
    for column, narrowest in steps:
        if excess <= 0:
            break
        give = min(excess, max(widths[column] - narrowest, 0))
        widths[column] -= give
        excess -= give
    return widths if excess <= 0 else None


def table(out: Out, headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (),
          styles: dict[tuple[int, int], tuple[str, ...]] | None = None, widths: Sequence[int] | None = None) -> None:
    """A heavy-headed box table; cells wider than their column are cut with … (see column_widths)."""
    styles = styles or {}
    if widths is None:
        widths = column_widths(headers, rows, out.width)
        if widths is None:  # too wide whatever the text gets: show one cell of it and overrun
            widths = [*(column_widths(headers, rows, sys.maxsize) or [])[:-1], 1]
    cut = [[fit(cell, widths[i]) for i, cell in enumerate(row)] for row in rows]

    def rule(left: str, fill: str, middle: str, end: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + end

    def row_line(values: Sequence[str], bar: str, row: int | None) -> str:
        parts = []
        for i, value in enumerate(values):
            fill = " " * (widths[i] - cells(value))
            shown = out.style(value, *(("bold",) if row is None else styles.get((row, i), ())))
            parts.append(f" {fill}{shown} " if i in right else f" {shown}{fill} ")
        return bar + bar.join(parts) + bar

    out.line(rule("┏", "━", "┳", "┓"))
    out.line(row_line([fit(h, w) for h, w in zip(headers, widths)], "┃", None))
    out.line(rule("┡", "━", "╇", "┩"))
    for n, values in enumerate(cut):
        out.line(row_line(values, "│", n))
    out.line(rule("└", "─", "┴", "┘"))
