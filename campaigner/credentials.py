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

from campaigner.errors import ConfigError, Problem, problem_at

_SEEN: dict[str, str] = {}  # every form of every remembered secret -> the mask shown instead
_REGISTERED: set[tuple[str, str, str | None]] = set()  # environment variables already remembered
_LOCK = threading.Lock()
_loaded_env_files: set[Path] = set()


def env_name(account: str, key: str) -> str:
    """`ccbl_x`, `API_KEY` -> `CAMPAIGNER_CCBL_X_API_KEY`."""
    return f"CAMPAIGNER_{re.sub(r'[^A-Za-z0-9]', '_', account).upper()}_{key}"


def load_env_file(folder: Path) -> list[Problem]:
    """Load `.env` from the calendar's folder once; variables already set in the environment win.

    Returns the warnings of the first load (a line that is not KEY=value, a file others can
    read), located; a file that is not UTF-8 text is a ConfigError at its first bad byte.
    """
    path = (folder / ".env").resolve()
    if path in _loaded_env_files or not path.is_file():
        return []
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError([problem_at(path, 0, 0, f"cannot read it: {exc.strerror or exc}")]) from None
    text = _env_text(path, raw)
    import io
    import logging

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    problems = [problem_at(path, b.original.line, 1, "not a KEY=value line, so it is ignored (quote a value that has spaces or '#')", "warning")
                for b in parse_stream(io.StringIO(text)) if b.error]
    logger = logging.getLogger("dotenv.main")
    quiet, logger.disabled = logger.disabled, True  # its own warnings name no file: ours above do
    try:
        values = dotenv_values(stream=io.StringIO(text))
    finally:
        logger.disabled = quiet
    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    _loaded_env_files.add(path)
    remember_environment()
    if mode & 0o077:
        problems.append(problem_at(path, 0, 0, f"others can read this file of secrets (mode {mode & 0o777:o}): run 'chmod 600 {path}'", "warning"))
    return problems


def _env_text(path: Path, raw: bytes) -> str:
    """The file as text; a ConfigError at the line and column of the first byte that is not UTF-8 (or a NUL)."""
    bad = raw.find(b"\0")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start if bad < 0 else min(bad, exc.start)
    if bad < 0:
        return text
    line = raw.count(b"\n", 0, bad) + 1
    col = bad - (raw.rfind(b"\n", 0, bad) + 1) + 1
    what = "a NUL byte: this is not a text file" if raw[bad:bad + 1] == b"\0" else f"byte 0x{raw[bad]:02x} is not UTF-8"
    raise ConfigError([problem_at(path, line, col, f"{what}; a .env holds KEY=value lines in UTF-8 text: save it as UTF-8")])


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


# Credential variables are CAMPAIGNER_* names ending in one of these; every one that is set is
# redacted, whether or not its account has anything to send in the run.
SECRET_SUFFIXES = ("TOKEN", "SECRET", "PASSWORD", "KEY")
# Variables whose value is a URL that may carry a password (user:password@host).
_URL_VARIABLES = ("CAMPAIGNER_DB",)


def remember(secret: str, user: str | None = None) -> None:
    """Register a secret value so redact() hides it in every form it can come back in.

    `user` is the login that goes with a password: servers echo `user:password` (HTTP basic) and
    `\\0user\\0password` (SMTP AUTH PLAIN) base64-encoded.
    """
    if len(secret) < 4:
        return
    forms = encoded_forms(secret, user)
    with _LOCK:
        for form in forms:
            _SEEN[form] = mask(secret)


def encoded_forms(secret: str, user: str | None = None) -> set[str]:
    """The forms a secret takes in URLs, JSON, form bodies and authentication headers."""
    import base64
    import json
    from urllib.parse import quote, quote_plus

    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], base64.b64encode(secret.encode()).decode()}
    for encoded in (quote(secret, safe=""), quote_plus(secret), quote(secret)):
        forms |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)}
    forms |= {f.replace("/", "\\/") for f in list(forms) if "/" in f}  # JSON encoders that escape '/'
    if user:
        for pair in (f"{user}:{secret}", f"\0{user}\0{secret}"):
            forms.add(base64.b64encode(pair.encode()).decode())
    return {f for f in forms if len(f) >= 4}


def remember_environment(environ: Mapping[str, str] | None = None) -> None:
    """Register every credential variable that is set (and a password inside a URL variable)."""
    environ = os.environ if environ is None else environ
    for name, value in list(environ.items()):
        if not name.startswith("CAMPAIGNER_") or not value:
            continue
        if name.endswith(SECRET_SUFFIXES):
            user = environ.get(name[: -len("PASSWORD")] + "USER") if name.endswith("PASSWORD") else None
            if (name, value, user) not in _REGISTERED:
                remember(value, user)
                _REGISTERED.add((name, value, user))
        elif name in _URL_VARIABLES and "@" in value and (name, value, None) not in _REGISTERED:
            from urllib.parse import unquote, urlsplit

            try:
                parts = urlsplit(value)
                password = parts.password
            except ValueError:
                continue
            if password:
                remember(password, parts.username)
                remember(unquote(password), unquote(parts.username or ""))
            _REGISTERED.add((name, value, None))


def mask(secret: str) -> str:
    """`c…y`: enough to tell two tokens apart, never enough to use one."""
    if not secret:
        return ""
    if len(secret) < 8:
        return "…"
    return f"{secret[0]}…{secret[-1]}"


def redact(text: str) -> str:
    """Replace every known secret, in any of its encoded forms, by its mask."""
    if not text:
        return text
    remember_environment()  # a variable set since the last call (or never looked up) is covered too
    with _LOCK:
        if not _SEEN:
            return text
        if len(_SEEN) != _ORDER.size:
            _ORDER.rebuild(_SEEN)
        forms, masks, percent = _ORDER.forms, dict(_SEEN), _ORDER.percent
    for form in forms:
        if form in text:
            text = text.replace(form, masks[form])
    if percent is not None and "%" in text:
        # Percent-encodings whose hex digits are in another case than ours (%2b for %2B).
        text = percent.sub(lambda m: masks.get(m.group(), "…"), text)
    return text


class _Order:
    """The remembered forms, longest first, and one pattern for their percent-encoded forms in any case."""

    def __init__(self) -> None:
        self.size = 0
        self.forms: list[str] = []
        self.percent: re.Pattern[str] | None = None

    def rebuild(self, seen: Mapping[str, str]) -> None:
        self.forms = sorted(seen, key=len, reverse=True)
        encoded = [f for f in self.forms if re.search(r"%[0-9A-Fa-f]{2}", f)]
        alternatives = ["".join(f"%(?i:{part[1:]})" if part.startswith("%") else re.escape(part)
                                for part in re.split(r"(%[0-9A-Fa-f]{2})", form) if part) for form in encoded]
        self.percent = re.compile("|".join(alternatives)) if alternatives else None
        self.size = len(seen)


_ORDER = _Order()
