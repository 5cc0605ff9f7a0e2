"""Schema migrations: one ordered list per backend, run by one runner.

A backend lists its migrations in a `Migrations` (a name is added once; a released migration is
never edited, only followed by a new one). `migrate` applies the missing ones in order inside
the backend's migration lock (SQLite: one IMMEDIATE transaction; PostgreSQL: a transaction
holding an advisory lock, so hosts starting together on an empty database create it once),
records each name it applied, and refuses a database that a newer campaigner has migrated.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, NamedTuple, Protocol, Union

from campaigner.errors import ConfigError

Step = Union[str, Callable[[Any, dict[str, Any]], None]]  # SQL (statements split on ';'), or fn(db, context)


class Migration(NamedTuple):
    """One named step of a backend's schema."""

    name: str
    step: Step


class Migrations:
    """A backend's ordered migration list; adding a name twice is an error."""

    def __init__(self, backend: str):
        self.backend = backend
        self._items: list[Migration] = []

    def add(self, name: str, step: Step) -> None:
        """Append a migration."""
        if any(m.name == name for m in self._items):
            raise ValueError(f"{self.backend} migration '{name}' is already registered")
        self._items.append(Migration(name, step))

    def __iter__(self) -> Iterator[Migration]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def names(self) -> list[str]:
        """The names, in order."""
        return [m.name for m in self._items]


class Executor(Protocol):
    """What a migration step runs SQL through (a DB-API cursor or connection)."""

    def execute(self, sql: str, params: Any = ...) -> Any:
        """Run one statement."""


class Target(Protocol):
    """A backend's side of the runner."""

    where: str  # the ledger, as messages name it

    def applied(self, db: Executor | None = None) -> list[str]:
        """Names recorded in the database (empty when it has no schema yet)."""

    def migration_lock(self) -> AbstractContextManager[Executor]:
        """A transaction that no other process migrating this database can enter at the same time."""

    def placeholder(self) -> str:
        """The driver's parameter mark ('?' or '%s')."""


def refuse_newer(target: Target, migrations: Migrations, applied: list[str]) -> None:
    """A database migrated by a newer campaigner is refused, before anything reads or writes it."""
    newer = [n for n in applied if n not in set(migrations.names)]
    if newer:
        raise ConfigError(f"{target.where}: this ledger was written by a newer campaigner (migration {newer[-1]}); upgrade campaigner before using it")


def pending(migrations: Migrations, applied: list[str]) -> list[str]:
    """Names not applied yet, in order."""
    done = set(applied)
    return [n for n in migrations.names if n not in done]


def migrate(target: Target, migrations: Migrations, context: dict[str, Any] | None = None) -> list[str]:
    """Apply the missing migrations in order under the target's lock; return the names applied now."""
    applied = target.applied()
    refuse_newer(target, migrations, applied)
    if not pending(migrations, applied):
        return []
    mark = target.placeholder()
    done: list[str] = []
    with target.migration_lock() as db:
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        applied = target.applied(db)  # again, under the lock: another process may have migrated meanwhile
        refuse_newer(target, migrations, applied)
        for migration in migrations:
            if migration.name in applied:
                continue
            if callable(migration.step):
                migration.step(db, context or {})
            else:
                for statement in filter(str.strip, migration.step.split(";")):
                    db.execute(statement)
            db.execute(f"INSERT INTO schema_migrations (name, applied_at) VALUES ({mark}, {mark})",
                       (migration.name, datetime.now(timezone.utc).isoformat(timespec="microseconds")))
            done.append(migration.name)
    return done
