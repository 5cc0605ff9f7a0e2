"""Reuse a loaded and rendered calendar while none of its inputs has changed.

cron starts `campaigner post` every few minutes and volunteers run `plan` many times a day, each
time on the same calendar. Loading it (YAML, checks) and rendering its posts (Jinja, CLDR dates,
X's length rules) is nearly all of their time, and its result depends only on:

- the campaigner code and the versions of the libraries that render (the *code* part of the key);
- CAMPAIGNER_PLUGINS and the files of the plugins it names (they may change length rules);
- the bytes of calendar.yaml and rapid.yaml (or rapid.yaml's absence);
- the name and bytes of every file under templates/ (a new file can override a template);
- the other files the calendar was built from (media, a journalists CSV): their size and mtime,
  since hashing every photo on every cron run would cost more than it saves.

So one snapshot per calendar path keeps the loaded `Calendar`, each post rendered so far (by post
id) and the template syntax check, under a key made of all of the above. A snapshot whose key or
file signatures differ is ignored and replaced: there is no invalidation to forget. A post whose
due instant differs from the one it was rendered for (new time-zone rules) is rendered again.

Snapshots are pickles, so the folder must be as private as Jinja's own bytecode cache (which
holds marshalled code): a folder that is not ours or that others can write is not used at all.
Anything wrong with the cache (unreadable, corrupt, full disk) means it is skipped, never an
error. `CAMPAIGNER_CACHE=off` turns it off; `CAMPAIGNER_CACHE_DIR` moves it (default:
$XDG_CACHE_HOME/campaigner or ~/.cache/campaigner).
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaigner.calendar import RAPID_FILE
from campaigner.errors import Problem

if TYPE_CHECKING:
    from campaigner.calendar import Calendar
    from campaigner.render import Rendered

FORMAT = 2  # 2: the rendered posts in a second pickle after the snapshot
# Snapshots of calendars nobody has loaded for this long are removed when another is written.
STALE_AFTER_S = 30 * 86400

# A rendered post as stored: render.Rendered's fields, in its order, as a plain tuple. (The posts
# are pickled without a memo, see _write, so a NamedTuple would carry its class name with each.)
Row = tuple[str, str, int, int, "tuple[str, ...] | None", bool]


class Snapshot:
    """What loading and rendering one calendar produced, and the key it is valid for."""

    def __init__(self, key: str, signatures: dict[str, tuple[int, int] | None], calendar: Calendar):
        self.format = FORMAT  # stored in the pickle: a snapshot of another layout is not read
        self.key = key
        self.signatures = signatures  # the stat-checked sources: path -> (size, mtime_ns) or None
        self.calendar = calendar
        self.rendered: dict[str, Row] = {}  # post id -> what rendering it gave
        self.syntax: list[Problem] | None = None  # the template syntax check, once run
        self.changed = True  # new: written even if nothing gets rendered
        self.file: Path | None = None  # where it is stored (set by load; not pickled)

    def remember(self, post_id: str, rendered: Rendered) -> None:
        """Keep what rendering a post gave (new, or again for another due instant)."""
        r = rendered
        self.rendered[post_id] = (r.due, r.text, r.length, r.limit, r.parts, r.fits)
        self.changed = True

    def template_syntax(self, check: Callable[[], list[Problem]]) -> list[Problem]:
        """The template syntax problems, checked once per key: they depend only on the key's inputs."""
        if self.syntax is None:
            self.syntax = check()
            self.changed = True
        return list(self.syntax)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["changed"], state["rendered"], state["file"]  # the rendered posts are written after it, see _write
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.rendered = {}
        self.changed = False
        self.file = None


def load(path: Path, on_problems: Callable[[list[Problem]], None] | None = None) -> tuple[Calendar, Snapshot | None]:
    """The calendar at path and its snapshot: from the snapshot when every input is unchanged, else
    loaded afresh (with a new, empty snapshot); no snapshot at all when the cache is off."""
    from campaigner.calendar import load_calendar

    folder = directory()
    key = _key(path) if folder else None
    if folder is None or key is None:
        return load_calendar(path, on_problems=on_problems), None
    file = folder / (hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24] + ".pickle")
    snap = _read(file)
    if snap is None or snap.key != key or not _signatures_hold(snap):
        cal = load_calendar(path, on_problems=on_problems)
        content = {path, path.parent / RAPID_FILE}
        snap = Snapshot(key, {str(p): _signature(p) for p in cal.sources if p not in content}, cal)
    else:
        _mark_used(file)
        if on_problems and snap.calendar.warnings:
            on_problems(list(snap.calendar.warnings))
    snap.file = file
    return snap.calendar, snap


def store(snap: Snapshot) -> None:
    """Write back a snapshot this run added to.

    Not one whose inputs changed while the run used them (an edit saved mid-run): what it holds
    may mix both versions, and the key it would be stored under is the old one.
    """
    if snap.changed and snap.file is not None and _key(snap.calendar.path) == snap.key and _signatures_hold(snap):
        _write(snap.file, snap)
        snap.changed = False


def _signatures_hold(snap: Snapshot) -> bool:
    return all(_signature(Path(p)) == s for p, s in snap.signatures.items())


def directory() -> Path | None:
    """The private cache folder, created if need be; None when off or not safe to use."""
    setting = os.environ.get("CAMPAIGNER_CACHE", "").strip().lower()
    if setting in ("off", "0", "no", "false"):
        return None
    configured = os.environ.get("CAMPAIGNER_CACHE_DIR")
    if configured:
        folder = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "campaigner"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return folder


# ---------------------------------------------------------------- keys


_CODE_KEY: str | None = None


def _code_key() -> str:
    """campaigner's own files, Python, and the libraries whose output a snapshot holds."""
    global _CODE_KEY
    if _CODE_KEY is None:
        from importlib.util import find_spec

        parts: list[Any] = [FORMAT, sys.version, sys.implementation.cache_tag]
        package = os.path.dirname(__file__)
        for root, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    info = os.stat(f"{root}/{name}")
                    parts.append((root[len(package):], name, info.st_size, info.st_mtime_ns))
        for module in ("jinja2", "yaml", "babel", "regex", "markupsafe"):
            spec = sys.modules[module].__spec__ if module in sys.modules else find_spec(module)
            origin = spec.origin if spec else None
            parts.append((module, _signature(Path(origin)) if origin else None))
        _CODE_KEY = repr(parts)
    plugins = []
    for name in filter(None, (n.strip() for n in os.environ.get("CAMPAIGNER_PLUGINS", "").split(","))):
        origin = getattr(sys.modules.get(name), "__file__", None)
        plugins.append((name, _signature(Path(origin)) if origin else None))
    return _CODE_KEY + repr(plugins)


def _key(path: Path) -> str | None:
    """The digest of everything but the stat-checked sources; None when the calendar cannot be read
    (loading it the normal way then reports why)."""
    digest = hashlib.sha256(_code_key().encode())
    try:
        digest.update(path.read_bytes())
    except OSError:
        return None
    try:
        rapid: bytes | None = (path.parent / RAPID_FILE).read_bytes()
    except FileNotFoundError:
        rapid = None
    except OSError:
        return None
    digest.update(b"\0absent" if rapid is None else b"\0%d\0" % len(rapid) + rapid)
    templates = path.parent / "templates"
    for root, dirs, files in os.walk(templates):
        dirs.sort()
        for name in sorted(files):
            file = os.path.join(root, name)
            try:
                with open(file, "rb") as fh:
                    content = fh.read()
            except OSError:
                return None
            digest.update(b"\0%s\0%d\0" % (os.path.relpath(file, templates).encode(), len(content)) + content)
    return digest.hexdigest()


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)


# ---------------------------------------------------------------- files


def _read(file: Path) -> Snapshot | None:
    # Unpickling creates every object of the snapshot at once and they all stay alive: the cyclic
    # GC would only re-walk a growing heap (a third of reading 20,000 events), as in load_calendar.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _read_snapshot(file)
    finally:
        if paused:
            gc.enable()


def _read_snapshot(file: Path) -> Snapshot | None:
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                return None
            snap = pickle.load(fh)
            if not isinstance(snap, Snapshot) or snap.__dict__.get("format") != FORMAT:
                return None
            snap.rendered = pickle.load(fh)
    except Exception:  # a torn, foreign or outdated snapshot is simply not used
        return None
    return snap


def _mark_used(file: Path) -> None:
    """Keep a snapshot that is read every run but rarely rewritten from looking stale (noatime)."""
    try:
        if file.stat().st_mtime < time.time() - 86400:
            os.utime(file)
    except OSError:
        pass


def _write(file: Path, snap: Snapshot) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".tmp-", suffix=".pickle")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
            # Then the rendered posts, plain strings, ints and tuples, in a second pickle without a
            # memo: it would hold an entry for each of their objects while writing (+20 MiB for
            # 10,000 events), and they share nothing (a lone part is stored as None, not the text).
            rendered = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
            rendered.fast = True
            rendered.dump(snap.rendered)
        os.replace(tmp, file)
    except Exception:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return
    _remove_stale(file.parent, keep=file)


def _remove_stale(folder: Path, keep: Path) -> None:
    """Snapshots of calendars not loaded for a month, and temporary files a killed run left."""
    cutoff = time.time() - STALE_AFTER_S
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name.endswith(".pickle") and entry.path != str(keep):
                info = entry.stat(follow_symlinks=False)
                if info.st_mtime < cutoff or (entry.name.startswith(".tmp-") and info.st_mtime < time.time() - 3600):
                    os.unlink(entry.path)
        except OSError:
            continue
