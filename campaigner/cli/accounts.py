"""`campaigner accounts` (credentials present or missing, offline) and `accounts check` (live)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, JsonOpt, check_accounts, session

app = typer.Typer(help="Accounts and their credentials.", rich_markup_mode=None)  # plain help: see cli/__init__.py


@app.callback(invoke_without_command=True)
def accounts(
    ctx: typer.Context,
    calendar: CalendarOpt = Path("calendar.yaml"),
    as_json: JsonOpt = False,
) -> None:
    """List each account, its platform, and which credentials are set (masked) or missing, without the network."""
    if ctx.invoked_subcommand is not None:
        return
    from campaigner import accounts as accounts_, adapters, credentials

    with session(calendar) as rt:
        rt.load_env()
        cal = rt.calendar
    rows: list[dict[str, Any]] = []
    for name, account in cal.accounts.items():
        cls = adapters.adapter_class(account.platform)
        keys = accounts_.credential_keys(cal, name)
        found = accounts_.found_credentials(cal, name)
        usable = credentials.complete_set(found, cls.credential_sets)
        rows.append({
            "account": name, "platform": account.platform, "languages": list(cal.languages_for(account)),
            "ready": usable is not None,
            "credentials": {credentials.env_name(name, k): (credentials.mask(found[k]) if k in found else None)
                            for k in keys if k in found or k not in cls.optional_credentials},
            "missing": None if usable else credentials.missing_message(name, cls.credential_sets, found),
        })
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['account']} ({r['platform']}, {'/'.join(r['languages'])}): {'ready' if r['ready'] else 'NOT READY'}")
        for var, masked in r["credentials"].items():
            typer.echo(f"    {var} = {masked}" if masked else f"    {var} is not set")
        if r["missing"]:
            typer.echo(f"    {r['missing']}")


@app.command("check")
def check(
    calendar: CalendarOpt = Path("calendar.yaml"),
    account: AccountOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the requests each check would send, with secrets masked; send nothing.")] = False,
) -> None:
    """Verify each account live (X: who the token belongs to; Facebook: the Page's name); one line each."""
    from campaigner.accounts import credential_problems
    from campaigner.credentials import redact

    failed = False
    with session(calendar) as rt:
        rt.load_env()
        for name in check_accounts(rt.calendar, account) or list(rt.calendar.accounts):
            problems = credential_problems(rt.calendar, [name])
            if dry_run:
                said = f"credentials missing, it would not be checked: {problems[name].message}" if problems else "would check"
                typer.echo(redact(f"{name}: {said}"))
                for request in rt.adapter(name).describe_check():  # built with its credentials; nothing is sent
                    typer.echo(redact(f"    -> {request}"))
                continue
            if problems:
                typer.echo(redact(f"{name}: not checked: {problems[name].message}"))
                failed = True
                continue
            result = rt.adapter(name).check()  # through the plugin seam, like every other request
            failed |= not result.ok
            typer.echo(redact(f"{name}: {'ok' if result.ok else 'FAILED'}: {result.detail}"))
    raise typer.Exit(1 if failed else 0)
