"""Typed errors -> one readable line each and an exit code; CAMPAIGNER_DEBUG=1 shows the traceback."""

from __future__ import annotations

import os
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from campaigner.cli._print import error_lines
from campaigner.errors import CampaignerError, ConfigError

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INTERNAL = 0, 1, 2, 3


def debug() -> bool:
    """True when CAMPAIGNER_DEBUG asks for tracebacks."""
    return os.environ.get("CAMPAIGNER_DEBUG", "") not in ("", "0")


class Group(TyperGroup):
    """The app's command group: the one place where errors become messages and exit codes."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from campaigner.cli._typer import install

        install(self, ctx, subcommands=False)  # the group's own options: no pydantic for plain values
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, name: str) -> Any:
        from campaigner.cli._typer import install

        command = super().get_command(ctx, name)
        if command is not None:
            install(command, ctx)  # its options (a sub-group's too), before any is parsed
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            if debug():
                traceback.print_exc()
            error_lines([str(p) for p in exc.problems])
            raise typer.Exit(EXIT_CONFIG) from None
        except CampaignerError as exc:
            if debug():
                traceback.print_exc()
            error_lines([f"campaigner: {exc}"])
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error_lines(["campaigner: interrupted"])
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit, BrokenPipeError):
            raise  # BrokenPipeError (`campaigner plan | head`): click ends the run quietly, exit 1
        except Exception as exc:
            if getattr(exc, "exit_code", None) is not None and type(exc).__module__.startswith(("click", "typer")):
                raise  # usage errors: typer prints them itself
            if debug():
                traceback.print_exc()
            error_lines([f"campaigner: internal error: {type(exc).__name__}: {exc} (run again with CAMPAIGNER_DEBUG=1 for the traceback, and please report it)"])
            raise typer.Exit(EXIT_INTERNAL) from None
