"""`campaigner preview`: the posts of a window as a static site to open from a file, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, DbOpt, NowOpt, check_accounts, session
from campaigner.cli._window import DaysOpt, FromOpt, MonthOpt, ToOpt, window


def preview(
    calendar: CalendarOpt = Path("calendar.yaml"),
    from_: FromOpt = None,
    to: ToOpt = None,
    days: DaysOpt = None,
    month: MonthOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="The folder to write (default: preview/ beside the calendar).", show_default=False)] = None,
    account: AccountOpt = None,
    now: NowOpt = None,
    db: DbOpt = None,
) -> None:
    """Write an HTML preview of the posts (default: the next 30 days): month grids and a card per post, to open offline."""
    from campaigner.render import expand
    from campaigner.views import preview as view

    with session(calendar, db=db, now=now) as rt:
        cal = rt.calendar
        accounts = check_accounts(cal, account)
        start, end = window(rt.now.astimezone(cal.campaign.tz).date(), from_=from_, to=to, days=days, month=month)
        posts = expand(cal, start, end, accounts=accounts, renderer=rt.renderer)
        records = rt.ledger.states(p.id for p in posts)
        built = view.site(cal, posts, records, rt.now, start, end)
        folder = out if out is not None else rt.calendar_path.parent / "preview"
        view.write(built, folder)
    index = (folder / "index.html").absolute()
    typer.echo(f"Wrote {index}: {built.posts} post(s) from {start} to {end}, {built.months} month(s), {len(built.media)} image(s).")
    typer.echo(f"Open {index.as_uri()} in a browser (it works offline, from a file or a USB stick).")
