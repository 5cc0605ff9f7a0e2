"""The session a command runs in: the calendar with its snapshot, the ledger, the adapters, the clock.

Every command opens one `session(...)`; it loads the calendar (from its snapshot when no input
changed), opens the ledger on first use in the mode the command asked for, builds each account's
adapter on first use, and on exit closes the ledger and stores what was rendered for the next run.

The outside world has one seam: `adapter_factory(calendar, account, credentials=...)`, the one
place adapters are built. A plugin named in CAMPAIGNER_PLUGINS (comma-separated modules, imported
before the calendar is loaded) may register a platform (`campaigner.adapters.register`) or replace
`campaigner.runtime.adapter_factory`, e.g. to give every adapter its own HTTP session
(benchmarks/redirect.py). Core functions never read the clock: the session's `now` is the one
reading, or `--now`.
"""

from __future__ import annotations

import importlib
import os
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable

from campaigner.errors import ConfigError, Problem

if TYPE_CHECKING:
    from campaigner.adapters.base import Adapter
    from campaigner.cache import Snapshot
    from campaigner.calendar import Calendar
    from campaigner.ledger import Ledger
    from campaigner.render import Renderer

_plugins_loaded: set[str] = set()


def load_plugins() -> None:
    """Import the modules named in CAMPAIGNER_PLUGINS (comma-separated); they register adapters."""
    for name in filter(None, (n.strip() for n in os.environ.get("CAMPAIGNER_PLUGINS", "").split(","))):
        if name in _plugins_loaded:
            continue
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(f"CAMPAIGNER_PLUGINS: cannot import '{name}': {exc}") from None
        _plugins_loaded.add(name)


def build_adapter(calendar: Calendar, account: str, *, credentials: bool = True, http: Any = None) -> Adapter:
    """The adapter for an account, with its credentials read from the environment (and .env beside
    the calendar); `credentials=False` builds one that can only `describe()` (a dry run)."""
    from campaigner import accounts

    return accounts.adapter(calendar, account, with_credentials=credentials, session=http)


# The seam: plugins and tests may replace it. It is looked up at each call, so a replacement made
# after this module was imported is used everywhere.
adapter_factory: Callable[..., Adapter] = build_adapter


def resolve_now(value: str | datetime | None, calendar: Calendar | None = None) -> datetime:
    """The clock, read only here: --now (local to the campaign when it has no offset) or the real time."""
    if value is None or value == "":
        return datetime.now(timezone.utc)
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError([Problem("--now", 0, 0, f"'{value}' is not an ISO date-time; write e.g. 2026-12-03T09:00 or 2026-12-03T09:00:00+07:00")]) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=calendar.campaign.tz if calendar else timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        raise ConfigError([Problem("--now", 0, 0, f"'{value}' is out of range: give a date between the years 2 and 9998")]) from None


def ledger_url(calendar_path: Path, db: str | None) -> str:
    """--db / CAMPAIGNER_DB, else .campaigner/state.db beside the calendar."""
    from campaigner.ledger import default_url

    return db or os.environ.get("CAMPAIGNER_DB") or default_url(calendar_path)


class Session:
    """What one command runs with; use it through `session(...)`, which closes what it opened."""

    def __init__(self, calendar_path: Path, *, db: str | None = None, now: str | datetime | None = None, write: bool = False,
                 on_warnings: Callable[[list[Problem]], None] | None = None):
        from campaigner import cache

        load_plugins()
        # Every path the calendar implies (templates, media, .env, rapid.yaml, the ledger) is taken
        # from its own folder, whatever the current folder: the calendar path is made absolute first.
        self.calendar_path = Path(calendar_path).absolute()
        self.calendar: Calendar
        self.snapshot: Snapshot | None
        self.calendar, self.snapshot = cache.load(self.calendar_path, on_problems=on_warnings)
        self.now = resolve_now(now, self.calendar)
        self.write = write
        self._db = db
        self._ledger: Ledger | None = None
        self._renderer: Renderer | None = None
        self._adapters: dict[tuple[str, bool], Adapter] = {}
        self._on_warnings = on_warnings
        if write:
            self.load_env()  # a command that may send reads .env now, so its problems are said first

    def load_env(self) -> None:
        """Read .env in the calendar's folder (once); print its warnings; ConfigError if it cannot be read."""
        from campaigner import credentials

        problems = credentials.load_env_file(self.calendar.root)
        if problems and self._on_warnings is not None:
            self._on_warnings(problems)

    @property
    def renderer(self) -> Renderer:
        """The calendar's renderer, reading and adding to its snapshot."""
        if self._renderer is None:
            from campaigner.render import Renderer

            self._renderer = Renderer(self.calendar, snapshot=self.snapshot)
        return self._renderer

    @property
    def ledger_url(self) -> str:
        """The ledger's URL (worked out when first asked: `validate` and `plan` without a ledger never
        import campaigner.ledger, ~3 ms of class definitions)."""
        return ledger_url(self.calendar_path, self._db)

    def ledger_exists(self) -> bool:
        """Whether the ledger has been created yet (without creating it). A read-only session
        opens the ledger to ask it (an empty view when there is none): one connection, not two."""
        if self._ledger is not None:
            return self._ledger.exists
        if not self.write:
            return self.ledger.exists
        from campaigner.ledger import ledger_exists

        return ledger_exists(self.ledger_url)

    @property
    def ledger(self) -> Ledger:
        """The ledger, opened on first use: writable when the session was opened with write=True,
        else read-only (a ledger that does not exist yet then reads as empty and is not created)."""
        if self._ledger is None:
            from campaigner.ledger import campaign_key, default_url, open_ledger

            # Only the default ledger beside the calendar is created on first use: a mistyped --db or
            # CAMPAIGNER_DB must not start an empty ledger and publish everything again.
            create = self.write and self.ledger_url == default_url(self.calendar_path)
            self._ledger = open_ledger(self.ledger_url, readonly=not self.write, create=create, campaign=campaign_key(self.calendar.campaign))
        return self._ledger

    def reload(self, path: Path | None = None) -> Calendar:
        """Read the calendar again, through the snapshot cache (rapid.yaml may just have changed);
        the session then works with the new one. (rapid.py's loader: it calls this under its lock.)"""
        from campaigner import cache

        if path is not None and Path(path).absolute() != self.calendar_path:
            raise ValueError(f"this session is for {self.calendar_path}, not {path}")
        if self.snapshot is not None:
            cache.store(self.snapshot)
        self.calendar, self.snapshot = cache.load(self.calendar_path)  # its warnings were printed once already
        self._renderer = None
        return self.calendar

    def adapter(self, account: str, *, credentials: bool = True) -> Adapter:
        """The adapter of an account, built once per session through the plugin seam."""
        key = (account, credentials)
        if key not in self._adapters:
            self._adapters[key] = adapter_factory(self.calendar, account, credentials=credentials)
        return self._adapters[key]

    def close(self) -> None:
        """Close the ledger and keep what was loaded and rendered for the next run."""
        from campaigner import cache

        try:
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None
        finally:
            if self.snapshot is not None:
                cache.store(self.snapshot)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Stop:
    """Set by the first SIGINT or SIGTERM while installed (`with Stop() as stop:`): the publishing
    engine then claims nothing more, lets the requests in flight finish and records the run with
    its real counts. A second signal acts as it always does (KeyboardInterrupt, or termination)."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def is_set(self) -> bool:
        """Whether a signal asked the run to stop."""
        return self.signal is not None

    def _handle(self, signum: int, frame: Any) -> None:
        self.signal = signum
        self._restore()  # the next one is not caught: a person who insists gets the usual behaviour
        import sys

        sys.stderr.write("campaigner: stopping: no new post is claimed; the requests in flight finish and are recorded (signal again to quit at once)\n")

    def _restore(self) -> None:
        import signal

        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def __enter__(self) -> Stop:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._restore()


def session(calendar_path: Path, *, db: str | None = None, now: str | datetime | None = None, write: bool = False,
            on_warnings: Callable[[list[Problem]], None] | None = None) -> Session:
    """Open the session a command runs in (a context manager)."""
    return Session(calendar_path, db=db, now=now, write=write, on_warnings=on_warnings)
