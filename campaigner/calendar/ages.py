"""Ages and the dates they count from, as the calendar writes them: a fact's `max_age` ('12 months')
and `as_of` (a date, "YYYY-MM" or a year). Values of the calendar, parsed by its loader; facts.py
judges freshness with them."""

from __future__ import annotations

import calendar as _calendar
import re
from datetime import date
from typing import Any

from campaigner.calendar.records import Age

DEFAULT_MAX_AGE = Age(12, 0, "12 months")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_AGE_RE = re.compile(r"^\s*(\d+)\s*(years?|y|months?|mo|weeks?|w|days?|d)\s*$", re.I)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_age(value: Any) -> Age | None:
    """'12 months', '1 year', '18 months', '6 weeks', '90 days' -> Age; None when not written so."""
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    m = _AGE_RE.match(value)
    if not m or int(m.group(1)) > 1200:
        return None
    n, unit = int(m.group(1)), m.group(2).lower()
    if unit.startswith("y"):
        return Age(12 * n, 0, value.strip())
    if unit.startswith("mo"):
        return Age(n, 0, value.strip())
    return Age(0, 7 * n if unit.startswith("w") else n, value.strip())


def after(day: date, age: Age) -> date:
    """The day `age` after `day` (a month later than 31 January is the end of February)."""
    from datetime import timedelta

    months = day.month - 1 + age.months
    year, month = day.year + months // 12, months % 12 + 1
    if year > 9999:
        return date.max
    shifted = date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))
    try:
        return shifted + timedelta(days=age.days)
    except OverflowError:
        return date.max


def covers_until(as_of: Any) -> date | None:
    """The last day an `as_of` covers: a date itself, "YYYY-MM" its month's last day, a year its
    31 December; None when it is none of these."""
    if isinstance(as_of, date):
        return as_of
    if isinstance(as_of, int) and not isinstance(as_of, bool) and 1 <= as_of <= 9999:
        return date(as_of, 12, 31)
    if isinstance(as_of, str):
        m = _MONTH_RE.match(as_of.strip())
        if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1:
            year, month = int(m.group(1)), int(m.group(2))
            return date(year, month, _calendar.monthrange(year, month)[1])
        if re.match(r"^\d{4}$", as_of.strip()):
            return covers_until(int(as_of))
    return None
