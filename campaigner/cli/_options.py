"""Shared option aliases, the session every command opens, and small option parsers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:  # the calendar module imports yaml: keep it off the --help path
    from datetime import datetime

    from campaigner.calendar import Calendar
    from campaigner.runtime import Session

CalendarOpt = Annotated[Path, typer.Option("--calendar", "-c", envvar="CAMPAIGNER_CALENDAR", help="The campaign calendar (template and media paths are relative to its folder).", show_default=True)]
NowOpt = Annotated[Optional[str], typer.Option("--now", help="Rehearse another moment: an ISO date-time (without an offset it is the campaign's local time).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DbOpt = Annotated[Optional[str], typer.Option("--db", envvar="CAMPAIGNER_DB", help="Ledger URL, e.g. sqlite:///path/state.db (default: .campaigner/state.db beside the calendar).", show_default=False)]
AccountOpt = Annotated[Optional[list[str]], typer.Option("--account", "-a", help="Limit to this account (repeatable).", show_default=False)]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say what happened even when nothing was due.")]


def session(calendar: Path, *, db: str | None = None, now: str | datetime | None = None, write: bool = False) -> Session:
    """The command's runtime session, with the calendar's warnings printed to stderr."""
    from campaigner import runtime
    from campaigner.cli import _print

    return runtime.session(calendar, db=db, now=now, write=write, on_warnings=_print.warnings)


def parse_day(value: str, option: str) -> date:
    """A YYYY-MM-DD option value."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError([Problem(option, 0, 0, f"'{value}' is not a date; write YYYY-MM-DD")]) from None


def check_accounts(calendar: Calendar, names: list[str] | None) -> list[str] | None:
    """Refuse an --account that the calendar does not define."""
    from campaigner.calendar import suggest

    for name in names or []:
        if name not in calendar.accounts:
            raise ConfigError([Problem("--account", 0, 0, f"unknown account '{name}'{suggest(name, calendar.accounts)}; the calendar defines {', '.join(calendar.accounts)}")])
    return names or None
