"""Credentials from the environment (and a .env beside the calendar), masked wherever they are shown.

Names are CAMPAIGNER_<ACCOUNT>_<KEY> with the account name upper-cased and '-' or '.' as '_'.
Every value read here is remembered so that `redact()` can scrub it from any text before it is
printed, logged or stored: a platform echoing a token back in an error message cannot leak it.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Iterable, Mapping

_SEEN: set[str] = set()
_LOCK = threading.Lock()
_loaded_env_files: set[Path] = set()


def env_name(account: str, key: str) -> str:
    """`ccbl_x`, `API_KEY` -> `CAMPAIGNER_CCBL_X_API_KEY`."""
    return f"CAMPAIGNER_{re.sub(r'[^A-Za-z0-9]', '_', account).upper()}_{key}"


def load_env_file(folder: Path) -> None:
    """Load `.env` from the calendar's folder once; variables already set in the environment win."""
    path = (folder / ".env").resolve()
    if path in _loaded_env_files or not path.is_file():
        return
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    _loaded_env_files.add(path)


def lookup(account: str, keys: Iterable[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The credentials present for an account, by key (missing keys are absent)."""
    environ = os.environ if environ is None else environ
    found = {}
    for key in keys:
        value = environ.get(env_name(account, key))
        if value:
            found[key] = value
            remember(value)
    return found


def complete_set(found: Mapping[str, str], sets: Iterable[Iterable[str]]) -> tuple[str, ...] | None:
    """The first credential set fully present, or None."""
    for keys in sets:
        keys = tuple(keys)
        if all(k in found for k in keys):
            return keys
    return None


def missing_message(account: str, sets: Iterable[Iterable[str]], found: Mapping[str, str]) -> str:
    """Which variables to set, naming the closest set first."""
    options = []
    for keys in sets:
        missing = [env_name(account, k) for k in keys if k not in found]
        options.append(" and ".join(missing))
    return f"account {account}: credentials missing: set " + ", or ".join(options) + " (in the environment or in .env beside the calendar; see README: Accounts)"


def remember(secret: str) -> None:
    """Register a secret value so redact() hides it."""
    if len(secret) >= 4:
        with _LOCK:
            _SEEN.add(secret)


def mask(secret: str) -> str:
    """`c…y`: enough to tell two tokens apart, never enough to use one."""
    if not secret:
        return ""
    if len(secret) < 8:
        return "…"
    return f"{secret[0]}…{secret[-1]}"


def redact(text: str) -> str:
    """Replace every known secret in text by its mask."""
    if not text or not _SEEN:
        return text
    with _LOCK:
        secrets = sorted(_SEEN, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, mask(s))
    return text
