"""Shared option aliases and the small helpers every command uses to load its inputs."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:  # the calendar module imports yaml: keep it off the --help path
    from campaigner.calendar import Calendar

CalendarOpt = Annotated[Path, typer.Option("--calendar", "-c", envvar="CAMPAIGNER_CALENDAR", help="The campaign calendar (template and media paths are relative to its folder).", show_default=True)]
NowOpt = Annotated[Optional[str], typer.Option("--now", help="Rehearse another moment: an ISO date-time (without an offset it is the campaign's local time).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DbOpt = Annotated[Optional[str], typer.Option("--db", envvar="CAMPAIGNER_DB", help="Ledger URL, e.g. sqlite:///path/state.db (default: .campaigner/state.db beside the calendar).", show_default=False)]
AccountOpt = Annotated[Optional[list[str]], typer.Option("--account", "-a", help="Limit to this account (repeatable).", show_default=False)]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say what happened even when nothing was due.")]


def load(path: Path) -> Calendar:
    """Load the calendar (from its snapshot when no input changed), printing its warnings to stderr."""
    from campaigner import cache
    from campaigner.cli._errors import print_error_lines
    from campaigner.runtime import load_plugins

    load_plugins()
    return cache.load(path, on_problems=lambda ws: print_error_lines([str(w) for w in ws]))


def resolve_now(value: str | None, calendar: Calendar | None = None) -> datetime:
    """The clock, read only here: --now (local to the campaign when it has no offset) or the real time."""
    if not value:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError([Problem("--now", 0, 0, f"'{value}' is not an ISO date-time; write e.g. 2026-12-03T09:00 or 2026-12-03T09:00:00+07:00")]) from None
    if parsed.tzinfo is None:
        tz = calendar.campaign.tz if calendar else timezone.utc
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(timezone.utc)


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


def ledger_url(calendar_path: Path, db: str | None) -> str:
    """--db / CAMPAIGNER_DB, else .campaigner/state.db beside the calendar."""
    from campaigner.ledger import default_url

    return db or os.environ.get("CAMPAIGNER_DB") or default_url(calendar_path)
