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
    "preview": ("preview", "preview"),
    "ics": ("ics", "ics"),
    "report": ("report", "report"),
    "post": ("post", "post"),
    "resolve": ("post", "resolve"),
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
        for name, (module, attr) in COMMANDS.items():
            target = getattr(importlib.import_module(f"campaigner.cli.{module}"), attr)
            text = target.info.help if isinstance(target, typer.Typer) else inspect.getdoc(target)
            line = short_help(text or "", limit)
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
