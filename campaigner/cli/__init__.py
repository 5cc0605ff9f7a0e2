"""The typer app and its wiring, nothing else."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main

from campaigner.cli._errors import Group
from campaigner.cli._typer import resolve_annotations, short_help

HELP = "Plan and publish a campaign's social-media posts from a YAML calendar and Jinja templates."

# Every command, in help order: name -> (module under campaigner.cli, function). `accounts` is a
# group of its own (a typer app). One table, so that a run imports and builds only the command
# it runs (see _Commands).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "validate"),
    "plan": ("plan", "plan"),
    "facts": ("facts", "facts"),
    "preview": ("preview", "preview"),
    "ics": ("ics", "ics"),
    "report": ("report", "report"),
    "post": ("post", "post"),
    "resolve": ("post", "resolve"),
    "reconcile": ("reconcile", "reconcile"),
    "status": ("status", "status"),
    "history": ("status", "history"),
    "cron": ("cron", "cron"),
    "condemn": ("rapid", "condemn"),
    "praise": ("rapid", "praise"),
    "approve": ("rapid", "approve"),
    "reject": ("rapid", "reject"),
    "brief": ("rapid", "brief"),
    "diff": ("rapid", "diff"),
    "watch": ("watch", "watch"),
    "accounts": ("accounts", "app"),
    "ledger": ("ledger", "app"),
}

# Each command's help summary (the first paragraph of its docstring), for `--help`'s list: importing
# every command module to read its docstring was a third of `--help` where no bytecode is cached
# (an editable install, PYTHONDONTWRITEBYTECODE), since each module is then compiled on every run.
# tests/test_cli_help.py keeps this table equal to the docstrings; a command missing here is read
# from its module, as before.
SUMMARIES: dict[str, str] = {
    "validate": "Check the calendar, every template and media file, and that every post fits; exit 2 on any error.",
    "plan": "Show the posts due in a window (default: the next 30 days), with their length, limit and ledger state.",
    "facts": "List every fact with its value, as_of, source and age today, and the posts that cite it (default: the next 365 days).",
    "preview": "Write an HTML preview of the posts (default: the next 30 days): month grids and a card per post, to open offline.",
    "ics": "Write an iCalendar (.ics) file: one event per occurrence, from 30 days ago to a year ahead by default.",
    "report": "Count what was published, missed, failed, held and planned, per goal and account (default: the last 12 months).",
    "post": "Publish every post that is due and still within its grace; meant to run from cron every few minutes.",
    "resolve": "Settle an unknown (or failed) post by hand after checking the account.",
    "reconcile": "Look up each unknown post on its platform: found is published, a safe retry is sent, the rest say what to check.",
    "status": "Posts that need a decision (unknown first), failures and their fixes, what is next, and the last run.",
    "history": "What was published, when, and where to see it.",
    "cron": "Print how to run 'campaigner post' every few minutes (cron, or a systemd timer).",
    "condemn": "Condemn a report of new use: one event in rapid.yaml, rendered for every account and language.",
    "praise": "Praise a country for joining a treaty, the day we learn of it: one event in rapid.yaml.",
    "approve": "Approve a draft in rapid.yaml: record who and when; if its time has passed it becomes due now.",
    "reject": "Reject an event in rapid.yaml: it stays there, marked rejected, and is never published.",
    "brief": "Email each contact of a group (--to, default journalists) the event's letter in their language, once (e.g. after approving a draft).",
    "diff": "Show the posts this calendar adds, removes or changes compared with a git revision; exit 1 when any differ.",
    "watch": "Fetch every feed in the calendar; each new item matching a keyword becomes one draft in rapid.yaml. Silent when nothing is new; meant for cron.",
    "accounts": "Accounts and their credentials.",
    "ledger": "Create a ledger, or copy a campaign's ledger to another (e.g. a shared PostgreSQL).",
}


def summary(name: str) -> str:
    """The first paragraph of a command's help, read from its module (what SUMMARIES must equal)."""
    module, attr = COMMANDS[name]
    target = getattr(importlib.import_module(f"campaigner.cli.{module}"), attr)
    text = target.info.help if isinstance(target, typer.Typer) else inspect.getdoc(target)
    return (text or "").split("\n\n")[0]


def build(names: list[str] | None = None) -> typer.Typer:
    """An app with the named commands registered (default: none; the group builds each on first use)."""
    app = typer.Typer(
        cls=_LazyGroup if names is None else Group,
        name="campaigner",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help and usage errors: typer's rich formatter imports ~100 ms of rich and markdown-it
        # on every --help, more than typer itself (see benchmarks/, start-up).
        rich_markup_mode=None,
    )
    # A group even with one command: typer would otherwise run a lone command without its name.
    app.callback()(_group)
    for name in names or ():
        module, attr = COMMANDS[name]
        target = getattr(importlib.import_module(f"campaigner.cli.{module}"), attr)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    resolve_annotations(app)
    return app


class _Commands(MutableMapping):
    """The group's commands by name, each imported and built by typer on first use.

    A run of one command (`campaigner plan ...`, what cron and volunteers do all day) then imports
    and builds that command alone: building all fifteen costs ~10 ms of typer's signature parsing
    plus the imports of every command module, a third of what `plan` does beyond its bare imports.
    Names, order and "No such command ... Did you mean" come from the keys, which cost nothing.
    """

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            group: Any = typer.main.get_command(build([name]))  # a group: build() always adds the callback
            self._built[name] = group.commands[name]
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


class _LazyGroup(Group):
    """The app's group, with commands built on first use."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.commands = _Commands()

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """--help's command list from the docstrings, as click would write it, without building
        every command: typer's signature parsing of all fifteen was a third of `--help`."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = []
        for name in COMMANDS:
            line = short_help(SUMMARIES.get(name) or summary(name), limit)
            if line is None:  # another typer layout: build them all, as typer does
                return super().format_commands(ctx, formatter)
            rows.append((name, line))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _group() -> None:
    """The group itself: each command does its own work (the help text is HELP)."""


def __getattr__(name: str) -> typer.Typer:
    # `app` (tests, `python -c` users) is made on first use: the console script needs only `main`.
    if name == "app":
        app = build()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    try:
        try:
            build()()
        finally:
            sys.stdout.flush()  # here, not at interpreter exit, where a closed pipe prints a traceback
    except BrokenPipeError:
        # The reader went away (`campaigner plan | head`): what it read is all it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
