"""Checks of single values in a marked YAML document: each wrong value becomes a located Problem."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

from campaigner.calendar.records import suggest
from campaigner.calendar.yaml_reader import MarkedDict, MarkedList
from campaigner.errors import Problem, problem_at

_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# A grace longer than this is a typo, not a policy (and past ~2.7 million years, not a timedelta).
MAX_DURATION = timedelta(days=366)


def parse_duration(value: Any) -> timedelta | None:
    """'6h', '90m', '1d', '2h30m' (or a number of hours) -> timedelta; None when it is not a duration
    or is longer than MAX_DURATION."""
    minutes = _minutes(value)
    if minutes is None or minutes > MAX_DURATION // timedelta(minutes=1):
        return None
    return timedelta(minutes=minutes)


def _minutes(value: Any) -> int | None:
    """A duration's length in minutes, however long; None when it is not written as a duration."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    if isinstance(value, int):
        return value * 60 if value >= 0 else None
    m = _DURATION_RE.match(value)
    if not m or not any(m.groups()):
        return None
    d, h, mi = (int(g) if g else 0 for g in m.groups())
    return (d * 24 + h) * 60 + mi


class Checker:
    """Walks one YAML document, collecting located problems instead of stopping at the first."""

    def __init__(self, path: Path, problems: list[Problem]):
        self.path = path
        self.problems = problems

    def error(self, where: tuple[int, int], message: str, severity: str = "error") -> None:
        self.problems.append(problem_at(self.path, where[0], where[1], message, severity))

    @staticmethod
    def at_key(m: MarkedDict, key: str) -> tuple[int, int]:
        return m.key_marks.get(key, m.mark)

    @staticmethod
    def at_value(m: MarkedDict, key: str) -> tuple[int, int]:
        return m.value_marks.get(key, m.key_marks.get(key, m.mark))

    def mapping(self, value: Any, where: tuple[int, int], label: str) -> MarkedDict | None:
        if isinstance(value, MarkedDict):
            return value
        self.error(where, f"{label}: expected a mapping of keys to values, got {describe(value)}")
        return None

    def mappings(self, doc: MarkedDict, key: str, shape: str) -> Iterator[tuple[int, MarkedDict]]:
        """(index, mapping) for each entry of a list under `key`; anything else is a located problem."""
        items = doc.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.error(self.at_value(doc, key), f"{key}: expected a list of {shape}")
            return
        for i, item in enumerate(items):
            where = items.item_marks[i] if isinstance(items, MarkedList) else doc.mark
            m = self.mapping(item, where, f"{key}[{i}]")
            if m is not None:
                yield i, m

    def keys(self, m: MarkedDict, allowed: Iterable[str], label: str, required: Iterable[str] = ()) -> None:
        allowed = list(allowed)
        for key in m:
            if key not in allowed:
                self.error(self.at_key(m, key), f"{label}: unknown key '{key}'{suggest(str(key), allowed)}")
        for key in required:
            if key not in m:
                self.error(m.mark, f"{label}: missing required key '{key}'")

    def string(self, m: MarkedDict, key: str, label: str, default: Any = None) -> Any:
        if key not in m:
            return default
        v = m[key]
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            self.error(self.at_value(m, key), f"{label}.{key}: expected text, got {describe(v)}")
            return default
        return str(v)

    def string_list(self, m: MarkedDict, key: str, label: str) -> tuple[str, ...] | None:
        if key not in m:
            return None
        v = m[key]
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            self.error(self.at_value(m, key), f"{label}.{key}: expected a list, e.g. [a, b], got {describe(v)}")
            return None
        out = []
        marks = getattr(v, "item_marks", [])
        for i, item in enumerate(v):
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                where = marks[i] if i < len(marks) else self.at_value(m, key)
                hint = " (YAML reads no/yes/on/off as booleans: quote it)" if isinstance(item, bool) else ""
                self.error(where, f"{label}.{key}[{i}]: expected text, got {describe(item)}{hint}")
                continue
            out.append(str(item))
        return tuple(out)

    def clock(self, m: MarkedDict, key: str, label: str, default: time | None = None) -> time | None:
        if key not in m:
            return default
        v = m[key]
        if isinstance(v, int) and not isinstance(v, bool):
            where = self.at_value(m, key)
            written = self.source(where)
            if ":" in written:  # YAML 1.1 reads an unquoted 8:00 (or 18:30) as the sexagesimal number 480
                self.error(where, f'{label}.{key}: write the time in quotes, e.g. "{v // 60:02d}:{v % 60:02d}"')
            elif 0 <= v <= 2359 and v % 100 < 60:  # 900 for 09:00
                self.error(where, f'{label}.{key}: expected a 24-hour time in quotes, e.g. "{v // 100:02d}:{v % 100:02d}", got {v}')
            else:
                self.error(where, f'{label}.{key}: expected a 24-hour time in quotes, e.g. "09:00", got {v}')
            return default
        match = _TIME_RE.match(str(v)) if isinstance(v, str) else None
        if not match:
            self.error(self.at_value(m, key), f'{label}.{key}: expected a 24-hour time like "09:00", got {describe(v)}')
            return default
        return time(int(match.group(1)), int(match.group(2)))

    def day(self, m: MarkedDict, key: str, label: str) -> date | None:
        if key not in m:
            return None
        v = m[key]
        if isinstance(v, datetime):
            v = v.date()
        if isinstance(v, date):
            return v
        reason = ""
        if isinstance(v, str):
            try:
                return date.fromisoformat(v)
            except ValueError as exc:
                reason = f" ({exc})" if re.match(r"^\d{4}-\d{2}-\d{2}$", v) else ""
        self.error(self.at_value(m, key), f"{label}.{key}: expected a date as YYYY-MM-DD, got {describe(v)}{reason}")
        return None

    def flag(self, m: MarkedDict, key: str, label: str) -> bool:
        if key not in m:
            return False
        v = m[key]
        if not isinstance(v, bool):
            self.error(self.at_value(m, key), f"{label}.{key}: expected true or false, got {describe(v)}")
            return False
        return v

    def duration(self, m: MarkedDict, key: str, label: str) -> timedelta | None:
        if key not in m:
            return None
        d = parse_duration(m[key])
        if d is None:
            longest = f"{MAX_DURATION.days}d"
            if _minutes(m[key]) is not None:  # a duration, but too long
                self.error(self.at_value(m, key), f"{label}.{key}: {describe(m[key])} is more than a year: give at most {longest}")
            else:
                self.error(self.at_value(m, key), f"{label}.{key}: expected a duration like 6h, 90m, 1d or 2h30m, got {describe(m[key])}")
        return d

    def source(self, where: tuple[int, int]) -> str:
        """The text written at a mark, up to the end of its line (for messages about how a value was written)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            return lines[where[0] - 1][where[1] - 1:].split("#")[0].strip()
        except (OSError, UnicodeDecodeError, IndexError):
            return ""


def describe(v: Any) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return f"'{v}'"
