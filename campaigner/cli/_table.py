"""Plain terminal output for `plan`: styled lines and a boxed table, without rich's Console.

`plan` runs dozens of times a day and must start about as fast as its bare imports; importing
rich.console and rich.table and laying out a table with them costs ~45 ms, more than everything
else `plan` does with a warm cache. This draws the same heavy-headed box table with rich's own
cell widths (rich.cells, cheap to import), so Khmer and emoji line up exactly as before.
"""

from __future__ import annotations

import os
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from rich.cells import cell_len

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
        left = max((width - cell_len(title) - 2) // 2, 1)
        right = max(width - cell_len(title) - 2 - left, 1)
        self.line("─" * left + f" {title} " + "─" * right if title else "─" * width)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


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
    if cell_len(text) <= width:
        return text
    kept, used = [], 0
    for cluster in clusters(text):
        size = cell_len(cluster)
        if used + size > width - 1:
            break
        kept.append(cluster)
        used += size
    return "".join(kept) + "…"


def table(out: Out, headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (),
          styles: dict[tuple[int, int], tuple[str, ...]] | None = None) -> None:
    """A heavy-headed box table; the last column shrinks (with …) to fit the width, the others never do."""
    styles = styles or {}
    count = len(headers)
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    chrome = 3 * count + 1  # a bar and a space either side of every cell
    widths[-1] = max(1, min(widths[-1], out.width - chrome - sum(widths[:-1])))
    cells = [[fit(cell, widths[i]) for i, cell in enumerate(row)] for row in rows]

    def rule(left: str, fill: str, middle: str, end: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + end

    def row_line(values: Sequence[str], bar: str, row: int | None) -> str:
        parts = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - cell_len(value))
            shown = out.style(value, *(("bold",) if row is None else styles.get((row, i), ())))
            parts.append(f" {pad}{shown} " if i in right else f" {shown}{pad} ")
        return bar + bar.join(parts) + bar

    out.line(rule("┏", "━", "┳", "┓"))
    out.line(row_line(list(headers), "┃", None))
    out.line(rule("┡", "━", "╇", "┩"))
    for n, values in enumerate(cells):
        out.line(row_line(values, "│", n))
    out.line(rule("└", "─", "┴", "┘"))
