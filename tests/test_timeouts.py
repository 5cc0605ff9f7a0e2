"""A platform that does not answer costs one short timeout per account per run (issue 11, item 9):
each request has a connect and a read timeout (an account's `timeout:` sets them), and an account
stops after its first timeout; its later posts go at the next run, in order."""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from campaigner import runtime
from campaigner.adapters.base import DEFAULT_TIMEOUT, http_timeout
from campaigner.cli import app

runner = CliRunner()


class Silent:
    """A TCP server on loopback that accepts every connection, reads the request and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                self.requests.append(conn.recv(65536))
            except OSError:
                pass
            self.held.append(conn)  # never answered, closed at the end

    def close(self) -> None:
        self.stopped.set()
        for conn in self.held:
            conn.close()
        self.sock.close()


def redirected(base: str):
    """A requests.Session sending every platform's host to `base` (the real adapters, a local server)."""
    import requests
    from requests.adapters import HTTPAdapter

    class Redirect(HTTPAdapter):
        def send(self, request, **kwargs):
            parts = urlsplit(request.url)
            request.url = f"{base}/{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            return super().send(request, **kwargs)

    session = requests.Session()
    session.trust_env = False
    session.mount("https://", Redirect())
    return session


@pytest.fixture
def silent(monkeypatch):
    server = Silent()

    def factory(cal, account, *, credentials=True):
        return runtime.build_adapter(cal, account, credentials=credentials, http=redirected(f"http://127.0.0.1:{server.port}"))

    monkeypatch.setattr(runtime, "adapter_factory", factory)
    yield server
    server.close()


def with_timeout(cal, value: str) -> None:
    text = cal.read_text(encoding="utf-8")
    old = "  ccbl_x:"
    assert old in text
    line = next(line for line in text.splitlines() if line.startswith(old))
    cal.write_text(text.replace(line, line.rstrip().rstrip("}") + f", timeout: {value}}}" if line.rstrip().endswith("}") else line + f"\n    timeout: {value}"), encoding="utf-8")


def test_the_default_timeouts_are_short_and_documented():
    connect, read = DEFAULT_TIMEOUT
    assert connect <= 5 and read <= 15
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{connect:g} s to connect" in readme and f"{read:g} s" in readme


@pytest.mark.parametrize("value, expected", [
    (None, DEFAULT_TIMEOUT), (20, (DEFAULT_TIMEOUT[0], 20.0)), (2.5, (DEFAULT_TIMEOUT[0], 2.5)),
    ({"connect": 3, "read": 40}, (3.0, 40.0)), ({"read": 7}, (DEFAULT_TIMEOUT[0], 7.0)),
])
def test_an_accounts_timeout_option(value, expected):
    assert http_timeout({} if value is None else {"timeout": value}) == expected


@pytest.mark.parametrize("value, phrase", [
    ("fast", "expected seconds"), ("0", "more than 0"), ("{connect: 2, wait: 3}", "unknown key 'wait'"), ("700", "at most 600"),
])
def test_validate_refuses_a_bad_timeout(shipped, value, phrase):
    with_timeout(shipped, value)
    result = runner.invoke(app, ["validate", "--calendar", str(shipped), "--now", "2026-12-01T00:00"])
    assert result.exit_code == 2, result.output
    assert "accounts.ccbl_x.timeout" in result.stderr and phrase in result.stderr


def test_a_hanging_platform_costs_one_read_timeout_and_the_rest_waits_for_the_next_run(shipped, silent, monkeypatch):
    with_timeout(shipped, "{connect: 2, read: 0.5}")
    for key in ("API_KEY", "API_SECRET", "ACCESS_TOKEN", "ACCESS_SECRET"):
        monkeypatch.setenv(f"CAMPAIGNER_CCBL_X_{key}", f"test-{key.lower()}-value")
    started = time.monotonic()
    result = runner.invoke(app, ["post", "--calendar", str(shipped), "--now", "2026-12-03T08:05", "--account", "ccbl_x", "--json"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert [r["status"] for r in rows.values()] == ["unknown"]  # the second X post was not attempted
    assert "no answer within 0.5 s" in next(iter(rows.values()))["error"]
    assert len(silent.requests) == 1 and silent.requests[0].startswith(b"POST /api.twitter.com/2/tweets")
    assert elapsed < 5  # one read timeout, not one per post (and not 30 s)
    (tried,) = rows
    waiting = next(f"{tried.rsplit('/', 1)[0]}/{lang}" for lang in ("km", "en") if not tried.endswith(lang))
    dry = runner.invoke(app, ["post", "--calendar", str(shipped), "--now", "2026-12-03T08:10", "--dry-run", "--account", "ccbl_x"])
    assert f"would send {waiting}" in dry.stdout, dry.output  # the next run sends it
