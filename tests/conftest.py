"""Shared fixtures: no test reaches the network, no test sees the developer's CAMPAIGNER_* settings."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared" / "reference"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guard(sock: socket.socket, address) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"test tried to reach the network ({address}); fake it at the HTTP layer")


def _connect(self, address):
    _guard(self, address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _guard(self, address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection other than to loopback fails the test."""
    monkeypatch.setattr(socket.socket, "connect", _connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _getaddrinfo)


_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if host not in (None, "127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"test tried to resolve {host!r}; fake it at the HTTP layer")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Remove the developer's CAMPAIGNER_* variables and run each test in its own folder."""
    for key in list(os.environ):
        if key.startswith("CAMPAIGNER_") or key.startswith("FAKE_"):
            monkeypatch.delenv(key)
    # Each test starts with an empty snapshot cache of its own, never the developer's ~/.cache.
    monkeypatch.setenv("CAMPAIGNER_CACHE_DIR", str(tmp_path / ".campaigner-cache"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fixture_calendar(tmp_path):
    """Copy a fixture calendar folder into tmp_path and return its calendar.yaml."""

    def copy(name: str = "good") -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest)
        return dest / "calendar.yaml"

    return copy


@pytest.fixture
def shipped(tmp_path):
    """A copy of the shipped calendar, its facts, templates and media."""
    dest = tmp_path / "shipped"
    dest.mkdir()
    shutil.copy(ROOT / "calendar.yaml", dest / "calendar.yaml")
    shutil.copy(ROOT / "facts.yaml", dest / "facts.yaml")
    shutil.copytree(ROOT / "templates", dest / "templates")
    if (ROOT / "media").exists():
        shutil.copytree(ROOT / "media", dest / "media")
    return dest / "calendar.yaml"
