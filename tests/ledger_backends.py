"""The ledger backends the contract suite runs against: a SQLite file, SQLite :memory:, and PostgreSQL.

PostgreSQL runs against the real server on 127.0.0.1:5432 (trust authentication), in a throwaway
database per test session (each test gets campaigns of its own). Elsewhere than CI it skips with
the reason when no server is reachable; under CI=true a missing server fails the test instead.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Callable, Iterator

import pytest

from campaigner.ledger import Ledger, open_ledger

PG_ADMIN = os.environ.get("CAMPAIGNER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class Backend:
    """One backend under test: opens ledgers on the same store, closes them at the end."""

    def __init__(self, name: str, url: str, *, shared: bool = True):
        self.name = name
        self.url = url
        self.shared = shared  # False for :memory:, where each open is a new database
        self.opened: list[Ledger] = []
        self.campaign = f"c-{uuid.uuid4().hex[:8]}"

    def open(self, *, readonly: bool = False, create: bool = True, campaign: str | None = None) -> Ledger:
        """A ledger on this store, for this test's campaign unless another is named."""
        led = open_ledger(self.url, readonly=readonly, create=create and not readonly, campaign=campaign or self.campaign)
        self.opened.append(led)
        return led

    def close(self) -> None:
        for led in self.opened:
            led.close()


def pg_server() -> str | None:
    """Why no PostgreSQL test can run (None when one can), honouring CI=true."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {PG_ADMIN}: {str(exc).strip().splitlines()[0]}"
    return None


def require_pg() -> None:
    """Skip (or under CI=true, fail) when no PostgreSQL server can be used."""
    why = pg_server()
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the PostgreSQL tests cannot run: {why}")
    pytest.skip(why)


def create_database(prefix: str = "campaigner_test") -> str:
    """A new empty database; returns its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop a database made by create_database, ending its sessions first."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One throwaway database for the whole session (tests keep apart by campaign)."""
    require_pg()
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
def fresh_pg_database() -> Iterator[str]:
    """A throwaway database of this test's own (for schema and migration tests)."""
    require_pg()
    url = create_database()
    yield url
    drop_database(url)


BACKENDS = ["sqlite-file", "sqlite-memory", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: Any, tmp_path: Any) -> Iterator[Backend]:
    """Each contract test runs once per backend."""
    if request.param == "sqlite-file":
        b = Backend("sqlite-file", f"sqlite:///{tmp_path / 'ledger' / 'state.db'}")
    elif request.param == "sqlite-memory":
        b = Backend("sqlite-memory", "sqlite:///:memory:", shared=False)
    else:
        b = Backend("postgresql", request.getfixturevalue("pg_database"))
    yield b
    b.close()


def shared_only(b: Backend) -> None:
    """Skip on :memory:, whose every open is another database."""
    if not b.shared:
        pytest.skip(":memory: is one database per connection")


Opener = Callable[..., Ledger]
