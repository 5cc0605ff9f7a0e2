"""The date window the views take: --from/--to, --days or --month, one way for preview, ics and report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Optional

import typer

from campaigner.errors import ConfigError, Problem

FromOpt = Annotated[Optional[str], typer.Option("--from", help="First local date (YYYY-MM-DD), inclusive.", show_default=False)]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last local date (YYYY-MM-DD), inclusive.", show_default=False)]
DaysOpt = Annotated[Optional[int], typer.Option("--days", min=1, help="This many days from today (or from --from).", show_default=False)]
MonthOpt = Annotated[Optional[str], typer.Option("--month", help="One whole month, YYYY-MM.", show_default=False)]


def window(today: date, *, from_: str | None, to: str | None, days: int | None, month: str | None = None,
           default: tuple[int, int] = (0, 30)) -> tuple[date, date]:
    """The inclusive local dates asked for; `default` is (days before today, days after) when nothing is."""
    from campaigner.cli._options import parse_day
    from campaigner.views.month import month_range, parse_month

    if month is not None:
        given = [name for name, used in (("--from", from_), ("--to", to), ("--days", days)) if used is not None]
        if given:
            raise ConfigError([Problem("--month", 0, 0, f"a month is shown whole: leave out {' and '.join(given)}")])
        parsed = parse_month(month)
        if parsed is None:
            raise ConfigError([Problem("--month", 0, 0, f"'{month}' is not a month; write YYYY-MM, e.g. {today:%Y-%m}")])
        return month_range(*parsed)
    if days is not None and from_ is not None and to is not None:
        raise ConfigError([Problem("--days", 0, 0, "give --from with --to, or --days, not all three")])
    try:
        start = parse_day(from_, "--from") if from_ else (today if days is not None or to is not None else today - timedelta(days=default[0]))
        if to:
            end = parse_day(to, "--to")
        elif days is not None:
            end = start + timedelta(days=days - 1)
        else:
            end = (start if from_ else today) + timedelta(days=default[1])
    except OverflowError:
        raise ConfigError([Problem("--days", 0, 0, "that window runs past the year 9999: give fewer days")]) from None
    if end < start:
        raise ConfigError([Problem("--to", 0, 0, f"{end} is before {start}: --to must not be earlier than --from")])
    return start, end
