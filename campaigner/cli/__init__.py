"""The typer app and its wiring, nothing else."""

from __future__ import annotations

import typer

from campaigner.cli import accounts, cron, plan, post, status, validate
from campaigner.cli import rapid, watch
from campaigner.cli._errors import Group

app = typer.Typer(
    cls=Group,
    name="campaigner",
    help="Plan and publish a campaign's social-media posts from a YAML calendar and Jinja templates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: typer's rich formatter imports ~100 ms of rich and markdown-it
    # on every --help, more than typer itself (see benchmarks/, start-up).
    rich_markup_mode=None,
)
app.command()(validate.validate)
app.command()(plan.plan)
app.command()(post.post)
app.command()(post.resolve)
app.command()(status.status)
app.command()(status.history)
app.command()(cron.cron)
app.command()(rapid.condemn)
app.command()(rapid.praise)
app.command()(rapid.approve)
app.command()(rapid.reject)
app.command()(rapid.brief)
app.command()(rapid.diff)
app.command()(watch.watch)
app.add_typer(accounts.app, name="accounts")


def _resolve_annotations(typer_app: typer.Typer) -> None:
    """Evaluate each command's string annotations once, here.

    The command modules use `from __future__ import annotations`, so typer would eval every
    annotation string twice per command on every start, for all commands: ~10 ms of each
    `--help`, `plan` or cron `post` (see benchmarks/, start-up).
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
        if fn is not None:
            fn.__annotations__ = typing.get_type_hints(fn, include_extras=True)


_resolve_annotations(app)


def main() -> None:
    """Console-script entry point."""
    app()
