"""`campaigner ledger init URL` (start a ledger anywhere but the default path) and `ledger copy` (move a campaign's record)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from campaigner.cli._options import CalendarOpt, session

app = typer.Typer(help="Create a ledger, or copy a campaign's ledger to another (e.g. a shared PostgreSQL).", rich_markup_mode=None)


@app.command("init")
def init(url: Annotated[str, typer.Argument(help="The new ledger: sqlite:///PATH or postgresql://USER@HOST:PORT/DBNAME.")]) -> None:
    """Create the ledger at URL (its tables; a PostgreSQL database itself is made by its administrator)."""
    from campaigner.ledger import admin, mask_url

    typer.echo(f"{mask_url(url)}: {'already a campaigner ledger, up to date' if admin.init(url) else 'ledger created'}")


@app.command("copy")
def copy(
    source: Annotated[str, typer.Option("--from", help="The ledger to copy from (it is only read).", show_default=False)],
    target: Annotated[str, typer.Option("--to", help="The ledger to copy into (created if it does not exist yet).", show_default=False)],
    campaign: Annotated[Optional[str], typer.Option("--campaign", help="The campaign key to copy (default: the calendar's campaign.id).", show_default=False)] = None,
    calendar: CalendarOpt = Path("calendar.yaml"),
) -> None:
    """Copy one campaign's whole ledger (posts and their history, runs, feed items); rows already there are kept, never overwritten."""
    from campaigner.ledger import admin, campaign_key, mask_url

    if campaign is None:
        with session(calendar) as rt:
            campaign = campaign_key(rt.calendar.campaign)
    loaded, kept = admin.copy(source, target, campaign)
    typer.echo(f"copied campaign {campaign} from {mask_url(source)} to {mask_url(target)}: {loaded.posts} post(s), {loaded.log} history line(s), "
               f"{loaded.runs} run(s), {loaded.feed_items} feed item(s), {loaded.feed_states} feed state(s)"
               + (f"; {kept} post(s) were already there in the same state" if kept else ""))
