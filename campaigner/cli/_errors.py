"""Typed errors -> one readable line each and an exit code; CAMPAIGNER_DEBUG=1 shows the traceback."""

from __future__ import annotations

import errno
import os
import traceback
from typing import Any, NoReturn

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
        except OSError as exc:
            said = filesystem_problem(exc)
            if said is None:
                _internal(exc)
            if debug():
                traceback.print_exc()
            error_lines([said])
            raise typer.Exit(EXIT_CONFIG) from None
        except Exception as exc:
            if getattr(exc, "exit_code", None) is not None and type(exc).__module__.startswith(("click", "typer")):
                raise  # usage errors: typer prints them itself
            _internal(exc)


def _internal(exc: BaseException) -> NoReturn:
    """A bug of campaigner's (or of a library): one line, exit 3; the traceback with CAMPAIGNER_DEBUG=1."""
    if debug():
        traceback.print_exception(exc)
    error_lines([f"campaigner: internal error: {type(exc).__name__}: {exc} (run again with CAMPAIGNER_DEBUG=1 for the traceback, and please report it)"])
    raise typer.Exit(EXIT_INTERNAL) from None


_FIXES = {
    errno.EACCES: "make it (or its folder) writable for this user, or run campaigner as the user who owns it",
    errno.EPERM: "make it (or its folder) writable for this user, or run campaigner as the user who owns it",
    errno.EROFS: "the file system is read-only: run campaigner from a folder that can be written, or point --db elsewhere",
    errno.ENOSPC: "the disk is full: free some space (see 'df -h' for that folder), then run it again",
    errno.EDQUOT: "the disk quota is used up: free some space, then run it again",
}


def filesystem_problem(exc: OSError) -> str | None:
    """One line for an ordinary condition of the file system (permissions, a read-only or full disk), else None."""
    fix = _FIXES.get(exc.errno or 0)
    if fix is None:
        return None
    from campaigner.errors import display_path

    where = display_path(exc.filename) if exc.filename else "a file"
    return f"{where}: {exc.strerror or exc}: {fix}; nothing was sent"
