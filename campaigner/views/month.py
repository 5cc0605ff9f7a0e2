"""A month at a glance: the weeks of a month and, per day, how many posts of which kinds, and which need a look."""

from __future__ import annotations

import calendar as _cal
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import NamedTuple

from campaigner.render import Post

# Post states that mark a day: shown beside its number (see `marks`).
HELD = "held"


class Day(NamedTuple):
    """One day's posts in summary."""

    date: date
    posts: int
    kinds: tuple[tuple[str, int], ...]  # (kind, posts of it), in the order their first posts are due
    over_limit: int  # posts longer than their platform allows
    held: int  # posts held by a quiet period
    drafts: int


def parse_month(text: str) -> tuple[int, int] | None:
    """(year, month) of a 'YYYY-MM', or None when it is not one."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    return int(found.group(1)), int(found.group(2))


def month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last local dates of a month."""
    return date(year, month, 1), date(year, month, _cal.monthrange(year, month)[1])


def weeks(year: int, month: int, first_weekday: int = _cal.MONDAY) -> list[list[date | None]]:
    """The month's weeks as rows of seven dates (None for the days of the months either side)."""
    rows = _cal.Calendar(first_weekday).monthdatescalendar(year, month)
    return [[d if d.month == month else None for d in row] for row in rows]


def days(posts: Iterable[Post], states: Mapping[str, str]) -> dict[date, Day]:
    """Each local date that has posts, summarised; `states` maps post ids to their state (schedule.status)."""
    grouped: dict[date, list[Post]] = {}
    for p in posts:
        grouped.setdefault(p.date, []).append(p)
    out = {}
    for day, items in grouped.items():
        kinds: dict[str, int] = {}
        for p in sorted(items, key=lambda p: p.due):
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        out[day] = Day(day, len(items), tuple(kinds.items()), sum(1 for p in items if not p.fits),
                       sum(1 for p in items if states.get(p.id) == HELD), sum(1 for p in items if p.draft))
    return out


def initials(kinds: Iterable[str]) -> dict[str, str]:
    """A short, unique label per kind: the initials of its words (`un-vote` -> UV, `accession` -> A),
    lengthened with the last word's letters where two would be the same (An, Ac)."""
    names = sorted(set(kinds))
    words = {k: [w for w in re.split(r"[-_ .]+", k) if w] or [k] for k in names}

    def label(kind: str, extra: int) -> str:
        parts = words[kind]
        return "".join(w[0].upper() for w in parts) + parts[-1][1:1 + extra]

    out: dict[str, str] = {}
    for kind in names:
        extra = 0
        while True:
            mine = label(kind, extra)
            rivals = [k for k in names if k != kind and label(k, extra) == mine]
            if not rivals or extra > len(kind):
                break
            extra += 1
        out[kind] = mine
    if len(set(out.values())) < len(out):  # kinds that differ only in case or punctuation
        return {k: k for k in names}
    return out
