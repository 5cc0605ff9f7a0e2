"""`campaigner validate`: every problem in the calendar, templates and media, one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigner.cli._options import CalendarOpt, NowOpt, session


def validate(
    calendar: CalendarOpt = Path("calendar.yaml"),
    now: NowOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too (e.g. an image without alt text).")] = False,
) -> None:
    """Check the calendar, every template and media file, and that every post fits; exit 2 on any error."""
    from campaigner.cli._errors import EXIT_CONFIG
    from campaigner.cli._print import error_lines as print_error_lines
    from campaigner.errors import ConfigError
    from campaigner.validate import template_syntax, validate as run_validate

    try:
        rt = session(calendar, now=now)
    except ConfigError as exc:
        # Report template syntax errors too: every problem at once, even when the calendar is broken;
        # and say what could not be checked (rendering needs the calendar's events).
        problems = sorted(set(exc.problems) | set(template_syntax(calendar.absolute().parent / "templates")))
        lines = [str(p) for p in problems]
        if calendar.is_file() and not any(p.file.startswith("-") for p in exc.problems):  # not for a bad option
            errors = sum(p.severity == "error" for p in problems)
            lines.append(f"{calendar}: {errors} error(s), {len(problems) - errors} warning(s); the templates were checked for syntax only: "
                         "fix the calendar and validate again to render every post and check that it fits")
        print_error_lines(lines)
        raise typer.Exit(EXIT_CONFIG) from None
    with rt:
        cal = rt.calendar
        report = run_validate(cal, rt.now, renderer=rt.renderer)
    loader_warnings = set(cal.warnings)  # already printed when the calendar was loaded
    print_error_lines([str(p) for p in report.problems if p not in loader_warnings])
    failed = report.errors or (strict and report.warnings)
    summary = (f"{calendar}: {len(report.errors)} error(s), {len(report.warnings)} warning(s); "
               f"{len(cal.events)} events, {len(cal.accounts)} accounts, {len(report.posts)} posts rendered")
    if failed:
        print_error_lines([summary])
        raise typer.Exit(EXIT_CONFIG)
    typer.echo(summary if report.problems else f"{calendar}: OK ({len(cal.events)} events, {len(cal.accounts)} accounts, {len(report.posts)} posts rendered)")
