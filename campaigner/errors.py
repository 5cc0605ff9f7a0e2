"""Typed errors shared by every layer: located problems and classified publish failures."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import NamedTuple


class Problem(NamedTuple):
    """One located problem in the user's input, printed as `file:line:col: message`.

    Records on every start-up path are NamedTuples, not dataclasses: a frozen dataclass costs
    ~1 ms to create at import (generated source, compiled), a NamedTuple a fraction of that.
    """

    file: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        # A problem with no place in a file (an option, the environment) is the program's to say.
        where = self.file or "campaigner"
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


class CampaignerError(Exception):
    """Base of every error the CLI turns into a readable message."""

    exit_code = 2


class ConfigError(CampaignerError):
    """The calendar, a template, a credential or an option is wrong; nothing was attempted."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", 0, 0, problems)]
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[Problem]]]:
        # Pickled with its problems, not its printed text (a forked renderer sends them back).
        return (type(self), (self.problems,))


def problem_at(path: Path | str, line: int, col: int, message: str, severity: str = "error") -> Problem:
    """Build a Problem with the path shown as the user wrote it (relative where possible)."""
    return Problem(display_path(path), line, col, message, severity)


def display_path(path: Path | str) -> str:
    """A path relative to the working directory when it lies below it, else as given."""
    p = Path(path)
    try:  # the folder resolved, not the file: a symlink is shown as the link the user wrote
        return str((p.absolute().parent.resolve() / p.name).relative_to(Path.cwd().resolve()))
    except (OSError, RuntimeError):  # a symlink loop on the way (RuntimeError before Python 3.13): as written
        try:
            return os.path.relpath(os.path.abspath(p), Path.cwd().resolve()) if os.path.abspath(p).startswith(str(Path.cwd().resolve()) + os.sep) else str(path)
        except (OSError, ValueError):
            return str(path)
    except ValueError:  # not below the working directory
        return str(path)


def not_utf8(path: Path | str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """Where a file stops being UTF-8, as line and column, and how to fix it."""
    start = exc.start
    line = data.count(b"\n", 0, start) + 1
    line_start = data.rfind(b"\n", 0, start) + 1
    col = len(data[line_start:start].decode("utf-8", "replace")) + 1
    return problem_at(path, line, col, f"not UTF-8 text (byte 0x{data[start]:02x}): save the file as UTF-8 (in most editors: Save with Encoding, UTF-8)")


def read_utf8(path: Path) -> str:
    """A text file's contents; ConfigError located at the first byte that is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([not_utf8(path, data, exc)]) from None


class PublishFailure(Exception):
    """Base of the three outcomes an adapter may raise instead of returning a Receipt."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Transient(PublishFailure):
    """Retry later (rate limit, server error, connection refused before sending)."""

    def __init__(self, message: str, retry_after: datetime | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(PublishFailure):
    """Never retry; the message says why and how to fix it."""

    def __init__(self, message: str, duplicate: bool = False):
        super().__init__(message)
        self.duplicate = duplicate


class Ambiguous(PublishFailure):
    """The request may have reached the platform: a person must check, never retry automatically."""
