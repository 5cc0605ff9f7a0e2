"""The typer app and its wiring, nothing else."""

from __future__ import annotations

import importlib
import sys

import typer

from campaigner.cli._errors import Group

HELP = "Plan and publish a campaign's social-media posts from a YAML calendar and Jinja templates."

# Every command, in help order: name -> (module under campaigner.cli, function). `accounts` is a
# group of its own (a typer app). One table, so that a run imports and builds only the command
# it runs (see `main`).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "validate"),
    "plan": ("plan", "plan"),
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
}


def build(names: list[str] | None = None) -> typer.Typer:
    """The app with the named commands (default: all of them)."""
    app = typer.Typer(
        cls=Group,
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
    for name in names or COMMANDS:
        module, attr = COMMANDS[name]
        target = getattr(importlib.import_module(f"campaigner.cli.{module}"), attr)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    _resolve_annotations(app)
    return app


def _group() -> None:
    """Plan and publish a campaign's social-media posts from a YAML calendar and Jinja templates."""


def _resolve_annotations(typer_app: typer.Typer) -> None:
    """Evaluate each command's string annotations once, here.

    The command modules use `from __future__ import annotations`, so typer would eval every
    annotation string twice per command on every start: ~10 ms of each `--help`, `plan` or cron
    `post` (see benchmarks/, start-up). Idempotent: a function already resolved keeps its hints.
    """
    import typing

    callbacks = [c.callback for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            _resolve_annotations(sub)
            if sub.registered_callback is not None:
                callbacks.append(sub.registered_callback.callback)
    for fn in callbacks:
        if fn is not None and any(isinstance(a, str) for a in fn.__annotations__.values()):
            fn.__annotations__ = typing.get_type_hints(fn, include_extras=True)


def __getattr__(name: str) -> typer.Typer:
    # `app`, the whole app (tests and `python -c` users), is built on first use only.
    if name == "app":
        app = build()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point.

    A run of one command (`campaigner plan ...`, what cron and volunteers do all day) imports and
    builds that command alone: building all fifteen costs ~10 ms of typer's signature parsing and
    the imports of every command module, a third of what `plan` does beyond its bare imports.
    `--help`, no arguments and an unknown name get the whole app, so help and "No such command"
    (with its suggestion) are unchanged.
    """
    first = sys.argv[1] if len(sys.argv) > 1 else None
    build([first] if first in COMMANDS else None)()
