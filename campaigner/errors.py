"""Typed errors shared by every layer: located problems and classified publish failures."""

from __future__ import annotations

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
        where = self.file
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
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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
