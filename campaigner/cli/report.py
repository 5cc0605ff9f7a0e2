"""`campaigner report`: what the campaign did per goal, platform and account, from the ledger and the calendar."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, NowOpt, check_accounts, session
from campaigner.cli._window import DaysOpt, FromOpt, ToOpt, window

if TYPE_CHECKING:
    from campaigner.views.report import Report

FORMATS = ("table", "markdown", "csv", "json")


def report(
    calendar: CalendarOpt = Path("calendar.yaml"),
    from_: FromOpt = None,
    to: ToOpt = None,
    days: DaysOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, markdown (for a donor report), csv or json.")] = "table",
    account: AccountOpt = None,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Count what was published, missed, failed, held and planned, per goal and account (default: the last 12 months)."""
    from campaigner.errors import ConfigError, Problem
    from campaigner.render import expand
    from campaigner.views import report as view

    if fmt not in FORMATS:
        raise ConfigError([Problem("--format", 0, 0, f"'{fmt}' is not a format; choose one of {', '.join(FORMATS)}")])
    with session(calendar, db=db, now=now) as rt:
        cal = rt.calendar
        accounts = check_accounts(cal, account)
        today = rt.now.astimezone(cal.campaign.tz).date()
        start, end = window(today, from_=from_, to=to, days=days, default=(364, 0))
        posts = expand(cal, start, end, accounts=accounts, renderer=rt.renderer)
        records = rt.ledger.records()
        built = view.build(cal, posts, records, rt.now, start, end, accounts=accounts)
    if fmt == "markdown":
        typer.echo(view.markdown(built), nl=False)
    elif fmt == "csv":
        typer.echo(view.csv_text(built), nl=False)
    elif fmt == "json":
        typer.echo(json.dumps(view.as_json(built), ensure_ascii=False, indent=2))
    else:
        _print(built, end - start + timedelta(days=1))


def _print(built: Report, length: timedelta) -> None:
    from campaigner.cli._table import Out, table
    from campaigner.views.labels import platform_label
    from campaigner.views.report import briefing_summary, shown_columns

    built = built._replace(columns=shown_columns(built))
    out = Out()
    out.line(f"{built.campaign}: {built.start} to {built.end} ({length.days} days, {built.timezone})", "bold")
    if not built.goals:
        out.line("Nothing was planned or posted in this period.")
        return
    headers = ("Goal", *(c.capitalize() for c in built.columns))
    table(out, headers, [(g.name, *(str(g.totals.get(c, 0)) for c in built.columns)) for g in built.goals], right=range(1, len(headers)))
    for g in built.goals:
        out.line()
        out.line(g.name, "bold")
        if g.removed_events:
            out.line(f"  events no longer in the calendar, counted from the ledger: {', '.join(g.removed_events)}", "dim")
        if g.lines:
            table(out, ("Account", "Platform", *(c.capitalize() for c in built.columns)),
                  [(line.account, platform_label(line.platform), *(str(line.counts.get(c, 0)) for c in built.columns)) for line in g.lines],
                  right=range(2, len(built.columns) + 2))
        if g.briefings:
            out.line(f"  briefings: {briefing_summary(g.briefings)}")
    out.line()
    out.line("Published posts with their links: campaigner report --format markdown (or json).", "dim")
