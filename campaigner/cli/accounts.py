"""`campaigner accounts` (credentials present or missing, offline) and `accounts check` (live)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from campaigner.cli._options import AccountOpt, CalendarOpt, JsonOpt, check_accounts, load

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
    from campaigner import adapters, credentials

    cal = load(calendar)
    credentials.load_env_file(cal.root)
    rows = []
    for name, account in cal.accounts.items():
        cls = adapters.adapter_class(account.platform)
        keys = list(dict.fromkeys(k for s in cls.credential_sets for k in s))
        found = credentials.lookup(name, keys)
        usable = credentials.complete_set(found, cls.credential_sets)
        rows.append({
            "account": name, "platform": account.platform, "languages": list(cal.languages_for(account)),
            "ready": usable is not None,
            "credentials": {credentials.env_name(name, k): (credentials.mask(found[k]) if k in found else None) for k in keys},
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
) -> None:
    """Verify each account live (X: who the token belongs to; Facebook: the Page's name); one line each."""
    from campaigner.credentials import redact
    from campaigner.publish import build_adapter, credentials_problems

    cal = load(calendar)
    names = check_accounts(cal, account) or list(cal.accounts)
    failed = False
    for name in names:
        problems = credentials_problems(cal, [name])
        if problems:
            typer.echo(redact(f"{name}: not checked: {problems[0].message}"))
            failed = True
            continue
        result = build_adapter(cal, name).check()
        failed |= not result.ok
        typer.echo(redact(f"{name}: {'ok' if result.ok else 'FAILED'}: {result.detail}"))
    raise typer.Exit(1 if failed else 0)
